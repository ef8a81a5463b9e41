import KafkaProtocol

/// JoinGroup: v0–v7 (sarama 1.22 and kafka-go send v1, kafka-python 2.0 v2, librdkafka v5; Kafka 4
/// dropped v0–v1 in KIP-896, 3.9 served them). v0 has no rebalance timeout: the session timeout is
/// the time members get to rejoin, as in Kafka. The answer is parked until the
/// rebalance completes (GroupCoordinator). v4+: a member without id gets MEMBER_ID_REQUIRED and a
/// generated id (KIP-394). v5+: `group.instance.id` makes a static member (KIP-345) that can
/// restart without a rebalance. v7+ answers carry the protocol type. Errors: INVALID_GROUP_ID,
/// INVALID_SESSION_TIMEOUT, INCONSISTENT_GROUP_PROTOCOL, UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID,
/// COORDINATOR_LOAD_IN_PROGRESS while `__consumer_offsets` is replayed at start.
/// Authorization: Read on the group (GROUP_AUTHORIZATION_FAILED, no member id).
extension Broker {
    func handleJoinGroup(_ header: RequestContext, _ r: inout WireReader, _ slot: ResponseSlot) throws(DecodeError)
        -> HandlerOutcome {
        var request = try JoinGroupRequest(from: &r, version: header.apiVersion)
        if header.tenant != nil {
            request.groupId = header.names.group(request.groupId)
        }
        guard access(header).allowsGroup(.read, request.groupId) else {
            return .respond(GroupCoordinator.joinResponse(JoinResult(error: .groupAuthorizationFailed),
                                                          version: header.apiVersion))
        }
        if groups.isLoading {
            return .respond(GroupCoordinator.joinResponse(
                JoinResult(error: .coordinatorLoadInProgress, memberId: request.memberId), version: header.apiVersion))
        }
        let args = JoinArgs(groupId: request.groupId, memberId: request.memberId, instanceId: request.groupInstanceId,
                            clientId: header.clientId, clientHost: "",
                            sessionTimeoutMs: request.sessionTimeoutMs,
                            rebalanceTimeoutMs: header.apiVersion == 0 ? request.sessionTimeoutMs
                                : request.rebalanceTimeoutMs,
                            protocolType: request.protocolType,
                            protocols: request.protocols.map { MemberProtocol(name: $0.name, metadata: $0.metadata) },
                            requireKnownMemberId: header.apiVersion >= 4)
        groups.join(args, header: header, slot: slot)
        return .deferred
    }
}
