import KafkaProtocol

/// DeleteGroups: v0–v2. Deletes empty groups with their committed offsets (tombstones in
/// `__consumer_offsets`). Per group: INVALID_GROUP_ID, GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP (it
/// still has members), COORDINATOR_LOAD_IN_PROGRESS. Authorization: Delete on each group
/// (GROUP_AUTHORIZATION_FAILED for that group).
extension Broker {
    func handleDeleteGroups(_ header: RequestContext, _ r: inout WireReader) throws(DecodeError) -> HandlerOutcome {
        let request = try DeleteGroupsRequest(from: &r, version: header.apiVersion)
        let loading = groups.isLoading
        let access = access(header)
        var response = DeleteGroupsResponse()
        let names = header.names
        response.results = request.groupsNames.map { localId in
            let id = names.group(localId)
            var result = DeleteGroupsResponse.DeletableGroupResult()
            result.groupId = localId
            let error: KafkaError = !access.allowsGroup(.delete, id) ? .groupAuthorizationFailed
                : loading ? .coordinatorLoadInProgress : groups.deleteGroup(id)
            result.errorCode = error.rawValue
            return result
        }
        return .respond(response)
    }
}
