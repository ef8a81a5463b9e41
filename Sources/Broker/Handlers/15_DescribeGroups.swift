import KafkaProtocol

/// DescribeGroups: v0–v5. State, protocol type and, for Stable groups, the chosen protocol and
/// every member's metadata and assignment (other states list members without them, as Kafka
/// does). An unknown group is reported as Dead with no error (the v0–v5 contract).
/// Authorization: Describe on each group (GROUP_AUTHORIZATION_FAILED for that group); v3+
/// `include_authorized_operations` fills the group's bitfield.
extension Broker {
    func handleDescribeGroups(_ header: RequestContext, _ r: inout WireReader) throws(DecodeError) -> HandlerOutcome {
        let request = try DescribeGroupsRequest(from: &r, version: header.apiVersion)
        let loading = groups.isLoading
        let access = access(header)
        let includeOperations = header.apiVersion >= 3 && request.includeAuthorizedOperations
        var response = DescribeGroupsResponse()
        let names = header.names
        response.groups = request.groups.map { localId in
            let id = names.group(localId)
            var d = DescribeGroupsResponse.DescribedGroup()
            d.groupId = localId
            if !access.allowsGroup(.describe, id) {
                d.errorCode = KafkaError.groupAuthorizationFailed.rawValue
                return d
            }
            if includeOperations { d.authorizedOperations = access.authorizedOperations(.group(id)) }
            if loading {
                d.errorCode = KafkaError.coordinatorLoadInProgress.rawValue
                return d
            }
            if id.isEmpty {
                d.errorCode = KafkaError.invalidGroupId.rawValue
                return d
            }
            guard let g = groups.inspect({ $0.group(id) }) else {
                d.groupState = GroupState.dead.rawValue
                return d
            }
            d.groupState = g.state.rawValue
            d.protocolType = g.protocolType ?? ""
            let stable = g.state == .stable
            d.protocolData = stable ? (g.protocolName ?? "") : ""
            d.members = g.orderedMembers.map { m in
                var dm = DescribeGroupsResponse.DescribedGroupMember()
                dm.memberId = m.memberId
                dm.groupInstanceId = m.instanceId
                dm.clientId = m.clientId
                dm.clientHost = m.clientHost
                if stable {
                    dm.memberMetadata = m.metadata(for: g.protocolName) ?? []
                    dm.memberAssignment = m.assignment
                }
                return dm
            }
            return d
        }
        return .respond(response)
    }
}
