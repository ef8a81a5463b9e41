import KafkaProtocol

/// Heartbeat: v0–v4. Keeps a member's session alive. REBALANCE_IN_PROGRESS tells it to rejoin;
/// ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID and FENCED_INSTANCE_ID (a static member replaced by a
/// newer instance) that it is out of the group; COORDINATOR_LOAD_IN_PROGRESS while loading.
/// Authorization: Read on the group (GROUP_AUTHORIZATION_FAILED).
extension Broker {
    func handleHeartbeat(_ header: RequestContext, _ r: inout WireReader) throws(DecodeError) -> HandlerOutcome {
        var request = try HeartbeatRequest(from: &r, version: header.apiVersion)
        if header.tenant != nil {
            request.groupId = header.names.group(request.groupId)
        }
        var response = HeartbeatResponse()
        if !access(header).allowsGroup(.read, request.groupId) {
            response.errorCode = KafkaError.groupAuthorizationFailed.rawValue
        } else if groups.isLoading {
            response.errorCode = KafkaError.coordinatorLoadInProgress.rawValue
        } else {
            response.errorCode = groups.heartbeat(groupId: request.groupId, generationId: request.generationId,
                                                  memberId: request.memberId,
                                                  instanceId: request.groupInstanceId).rawValue
        }
        return .respond(response)
    }
}
