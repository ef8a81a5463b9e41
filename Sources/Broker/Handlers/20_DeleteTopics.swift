import KafkaProtocol

/// DeleteTopics: v0–v6 (v0 as Kafka 3.9 served it). By name (v0–v5) or by name or id (v6). Unknown topics answer
/// UNKNOWN_TOPIC_OR_PARTITION (UNKNOWN_TOPIC_ID when addressed by id). `delete.topic.enable=false`
/// answers TOPIC_DELETION_DISABLED. Authorization: Delete on each topic (TOPIC_AUTHORIZATION_FAILED,
/// checked before existence); a topic addressed by id keeps its name hidden without Describe.
extension Broker {
    func handleDeleteTopics(_ header: RequestContext, _ r: inout WireReader) throws(DecodeError) -> HandlerOutcome {
        let request = try DeleteTopicsRequest(from: &r, version: header.apiVersion)
        var response = DeleteTopicsResponse()
        let names = header.names
        var targets: [(name: String?, id: KafkaUUID)] = request.topicNames.map { (names.topic($0), .zero) }
        if header.apiVersion >= 6 { targets = request.topics.map { (names.topic($0.name), $0.topicId) } }
        let access = access(header)
        for target in targets {
            var result = DeleteTopicsResponse.DeletableTopicResult()
            result.name = target.name
            result.topicId = target.id
            if let name = target.name, !access.allowsTopic(.delete, name) {
                result.errorCode = KafkaError.topicAuthorizationFailed.rawValue
                result.errorMessage = AuthorizationMessage.denied(.delete, .topic(name))
                response.responses.append(result)
                continue
            }
            let topic = target.name.flatMap { metadata.topic($0) } ?? (target.id.isZero ? nil : metadata.topic(id: target.id))
            if target.name == nil, let topic, !access.allowsTopic(.delete, topic.name) {
                // Addressed by id: the name is shown only to a caller who may describe the topic.
                if access.allowsTopic(.describe, topic.name) { result.name = topic.name }
                result.errorCode = KafkaError.topicAuthorizationFailed.rawValue
                result.errorMessage = AuthorizationMessage.denied(.delete, .topic(result.name ?? topic.topicId.description))
                response.responses.append(result)
                continue
            }
            guard let topic else {
                result.errorCode = target.name == nil ? KafkaError.unknownTopicId.rawValue
                    : KafkaError.unknownTopicOrPartition.rawValue
                response.responses.append(result)
                continue
            }
            result.name = topic.name
            result.topicId = topic.topicId
            if !config.bool("delete.topic.enable") {
                result.errorCode = KafkaError.topicDeletionDisabled.rawValue
            } else {
                do {
                    try replicas.deleteTopic(topic.name)
                    topicDeleted(topic)
                } catch {
                    result.errorCode = KafkaError.unknownServerError.rawValue
                    result.errorMessage = "\(error)"
                }
            }
            response.responses.append(result)
        }
        if header.tenant != nil {
            for i in response.responses.indices {
                response.responses[i].name = names.local(response.responses[i].name)
                response.responses[i].errorMessage = names.message(response.responses[i].errorMessage)
            }
        }
        return .respond(response)
    }

    /// What Kafka does once a deleted topic's replicas are gone: fetches parked on its partitions
    /// answer now (UNKNOWN_TOPIC_OR_PARTITION) rather than at their max_wait_ms, so the answers
    /// queued behind them on the same connection (Metadata, ListOffsets) are not held back; and
    /// groups forget the topic's committed offsets (tombstoned), so a topic created again under
    /// the same name does not resume from offsets of the old one.
    func topicDeleted(_ topic: TopicMetadata) {
        // Groups first: an answered fetch may bring the leader back (and its rebalance reason
        // should already name the deletion).
        groups.topicDeleted(topic.name)
        for p in 0..<topic.partitionCount { purgatory.checkWatchers(PartitionKey(topic.name, p)) }
    }
}
