import KafkaProtocol

/// OffsetDelete: v0. Removes committed offsets of an empty group, or of topics a consumer group
/// no longer subscribes to (GROUP_SUBSCRIBED_TO_TOPIC for the others; NON_EMPTY_GROUP for a
/// non-consumer group with members; GROUP_ID_NOT_FOUND for an unknown group).
/// Authorization (Kafka's): Delete on the group (GROUP_AUTHORIZATION_FAILED at top level), Read
/// on each topic (TOPIC_AUTHORIZATION_FAILED on its partitions; the others are deleted).
extension Broker {
    func handleOffsetDelete(_ header: RequestContext, _ r: inout WireReader) throws(DecodeError) -> HandlerOutcome {
        var request = try OffsetDeleteRequest(from: &r, version: header.apiVersion)
        if header.tenant != nil {
            request.groupId = header.names.group(request.groupId)
            for t in request.topics.indices { request.topics[t].name = header.names.topic(request.topics[t].name) }
        }
        var response = OffsetDeleteResponse()
        let access = access(header)
        if !access.allowsGroup(.delete, request.groupId) {
            response.errorCode = KafkaError.groupAuthorizationFailed.rawValue
            return .respond(response)
        }
        if groups.isLoading {
            response.errorCode = KafkaError.coordinatorLoadInProgress.rawValue
            return .respond(response)
        }
        let denied = access.deniedNames(.read, .topic, request.topics.lazy.map(\.name))
        let wanted = request.topics.filter { denied.isEmpty || !denied.contains($0.name) }
            .flatMap { t in t.partitions.map { TopicPartitionID(t.name, $0.partitionIndex) } }
        var (error, errors) = (KafkaError.none, [KafkaError]())
        if !wanted.isEmpty || denied.isEmpty {
            (error, errors) = groups.deleteOffsets(groupId: request.groupId, partitions: wanted)
        }
        response.errorCode = error.rawValue
        guard error == .none else { return .respond(response) }
        var i = 0
        for t in request.topics {
            var rt = OffsetDeleteResponse.OffsetDeleteResponseTopic()
            rt.name = header.names.local(t.name)
            let topicDenied = !denied.isEmpty && denied.contains(t.name)
            for p in t.partitions {
                var rp = OffsetDeleteResponse.OffsetDeleteResponsePartition()
                rp.partitionIndex = p.partitionIndex
                if topicDenied {
                    rp.errorCode = KafkaError.topicAuthorizationFailed.rawValue
                } else {
                    rp.errorCode = errors[i].rawValue
                    i += 1
                }
                rt.partitions.append(rp)
            }
            response.topics.append(rt)
        }
        return .respond(response)
    }
}
