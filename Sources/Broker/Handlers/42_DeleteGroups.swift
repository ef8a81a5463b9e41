import KafkaProtocol

/// DeleteGroups: v0–v2. Deletes empty groups with their committed offsets (tombstones in
/// `__consumer_offsets`). Per group: INVALID_GROUP_ID, GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP (it
/// still has members), COORDINATOR_LOAD_IN_PROGRESS.
extension Broker {
    func handleDeleteGroups(_ header: RequestContext, _ r: inout WireReader) throws(DecodeError) -> HandlerOutcome {
        let request = try DeleteGroupsRequest(from: &r, version: header.apiVersion)
        let loading = groups.isLoading
        var response = DeleteGroupsResponse()
        response.results = request.groupsNames.map { id in
            var result = DeleteGroupsResponse.DeletableGroupResult()
            result.groupId = id
            result.errorCode = (loading ? KafkaError.coordinatorLoadInProgress : groups.deleteGroup(id)).rawValue
            return result
        }
        return .respond(response)
    }
}
