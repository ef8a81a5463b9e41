import KafkaProtocol

/// ListGroups: v0–v5. Every group this coordinator knows; v4+ filters by state (case-insensitive,
/// empty = all), v5+ by type (all groups here are "classic"). COORDINATOR_LOAD_IN_PROGRESS while
/// loading. Authorization: with Describe on the cluster every group is listed, otherwise only the
/// groups the caller may Describe (no error either way, as in Kafka).
extension Broker {
    func handleListGroups(_ header: RequestContext, _ r: inout WireReader) throws(DecodeError) -> HandlerOutcome {
        let request = try ListGroupsRequest(from: &r, version: header.apiVersion)
        var response = ListGroupsResponse()
        if groups.isLoading {
            response.errorCode = KafkaError.coordinatorLoadInProgress.rawValue
            return .respond(response)
        }
        let states = Set(request.statesFilter.map { $0.lowercased() })
        let types = Set(request.typesFilter.map { $0.lowercased() })
        if !types.isEmpty && !types.contains("classic") { return .respond(response) }
        let all = groups.inspect { core in core.groups.values.map { ($0.groupId, $0.protocolType ?? "", $0.state) } }
        let access = access(header)
        let seesAll = access.allowsCluster(.describe, for: .ownNamespace, quiet: true)
        let names = header.names
        for (id, protocolType, state) in all.sorted(by: { $0.0 < $1.0 }) where names.visible(id) && access.mayName(id) {
            if !states.isEmpty && !states.contains(state.rawValue.lowercased()) { continue }
            if !seesAll && !access.allowsGroup(.describe, id, quiet: true) { continue }
            var g = ListGroupsResponse.ListedGroup()
            g.groupId = names.local(id)
            g.protocolType = protocolType
            g.groupState = state.rawValue
            g.groupType = "classic"
            response.groups.append(g)
        }
        return .respond(response)
    }
}
