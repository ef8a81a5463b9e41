import KafkaProtocol

/// LeaveGroup: v0–v5. v0–v2 remove one member (error at top level); v3+ a batch of members, each
/// by member id and/or `group.instance.id` (per-member errors: UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID
/// when the instance is now held by another member id). The rest of the group rebalances.
/// Authorization: Read on the group (GROUP_AUTHORIZATION_FAILED at top level, no members).
extension Broker {
    func handleLeaveGroup(_ header: RequestContext, _ r: inout WireReader) throws(DecodeError) -> HandlerOutcome {
        var request = try LeaveGroupRequest(from: &r, version: header.apiVersion)
        if header.tenant != nil {
            request.groupId = header.names.group(request.groupId)
        }
        var response = LeaveGroupResponse()
        let leaving: [(memberId: String, instanceId: String?)] = header.apiVersion >= 3
            ? request.members.map { ($0.memberId, $0.groupInstanceId) }
            : [(request.memberId, nil)]
        if !access(header).allowsGroup(.read, request.groupId) {
            response.errorCode = KafkaError.groupAuthorizationFailed.rawValue
            return .respond(response)
        }
        if groups.isLoading {
            response.errorCode = KafkaError.coordinatorLoadInProgress.rawValue
            return .respond(response)
        }
        let (error, memberErrors) = groups.leave(groupId: request.groupId, members: leaving)
        if header.apiVersion >= 3 {
            response.errorCode = error.rawValue
            response.members = zip(leaving, memberErrors).map { l, e in
                var m = LeaveGroupResponse.MemberResponse()
                m.memberId = l.memberId
                m.groupInstanceId = l.instanceId
                m.errorCode = e.rawValue
                return m
            }
        } else {
            response.errorCode = error != .none ? error.rawValue : (memberErrors.first ?? .none).rawValue
        }
        return .respond(response)
    }
}
