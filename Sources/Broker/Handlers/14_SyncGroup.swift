import KafkaProtocol

/// SyncGroup: v0–v5. Followers wait (parked) for the leader's assignment; the leader's request
/// completes the generation (Stable) and every waiting member gets its own assignment. In a Stable
/// group the member's current assignment is returned at once. v5+ checks and echoes the protocol
/// type and name (INCONSISTENT_GROUP_PROTOCOL on mismatch). Errors: UNKNOWN_MEMBER_ID,
/// ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS, FENCED_INSTANCE_ID, COORDINATOR_LOAD_IN_PROGRESS.
/// Authorization: Read on the group (GROUP_AUTHORIZATION_FAILED).
extension Broker {
    func handleSyncGroup(_ header: RequestContext, _ r: inout WireReader, _ slot: ResponseSlot) throws(DecodeError)
        -> HandlerOutcome {
        var request = try SyncGroupRequest(from: &r, version: header.apiVersion)
        if header.tenant != nil {
            request.groupId = header.names.group(request.groupId)
        }
        guard access(header).allowsGroup(.read, request.groupId) else {
            var response = SyncGroupResponse()
            response.errorCode = KafkaError.groupAuthorizationFailed.rawValue
            return .respond(response)
        }
        if groups.isLoading {
            var response = SyncGroupResponse()
            response.errorCode = KafkaError.coordinatorLoadInProgress.rawValue
            return .respond(response)
        }
        var assignments: [String: [UInt8]] = [:]
        for a in request.assignments { assignments[a.memberId] = a.assignment }
        groups.sync(groupId: request.groupId, generationId: request.generationId, memberId: request.memberId,
                    instanceId: request.groupInstanceId, protocolType: request.protocolType,
                    protocolName: request.protocolName, assignments: assignments, header: header, slot: slot)
        return .deferred
    }
}
