import KafkaProtocol

/// Metadata: v0–v12. One broker (this node), which leads every partition with ISR = {self}.
/// v0: an empty topic list means all topics; v1+: null means all, empty means none.
/// Unknown topics: auto-created when `auto.create.topics.enable` and the request allows it (v4+
/// field; always allowed before), else UNKNOWN_TOPIC_OR_PARTITION. Invalid names: INVALID_TOPIC_EXCEPTION.
/// v10+ topic ids; v12 lets clients ask by id (UNKNOWN_TOPIC_ID when absent).
extension Broker {
    func handleMetadata(_ header: RequestContext, _ r: inout WireReader) throws(DecodeError) -> HandlerOutcome {
        let request = try MetadataRequest(from: &r, version: header.apiVersion)
        let version = header.apiVersion
        var response = MetadataResponse()
        let endpoint = advertisedEndpoint(for: header.listenerName)
        var broker = MetadataResponse.MetadataResponseBroker()
        broker.nodeId = config.nodeId
        broker.host = endpoint.host
        broker.port = endpoint.port
        response.brokers = [broker]
        response.clusterId = metadata.clusterId
        response.controllerId = config.nodeId

        let wantsAll = request.topics == nil || (version == 0 && request.topics?.isEmpty == true)
        if wantsAll {
            response.topics = metadata.topics.sorted { $0.name < $1.name }.map { describeTopic($0) }
        } else {
            let autoCreate = config.bool("auto.create.topics.enable") && (version < 4 || request.allowAutoTopicCreation)
            for requested in request.topics ?? [] {
                response.topics.append(metadataTopic(requested, autoCreate: autoCreate))
            }
        }
        return .respond(response)
    }

    private func metadataTopic(_ requested: MetadataRequest.MetadataRequestTopic,
                               autoCreate: Bool) -> MetadataResponse.MetadataResponseTopic {
        var answer = MetadataResponse.MetadataResponseTopic()
        guard let name = requested.name else {
            // Asked by id (v10+ allows, v12 used by clients).
            answer.name = nil
            answer.topicId = requested.topicId
            if let topic = metadata.topic(id: requested.topicId) { return describeTopic(topic) }
            answer.errorCode = KafkaError.unknownTopicId.rawValue
            return answer
        }
        answer.name = name
        if let topic = metadata.topic(name) { return describeTopic(topic) }
        if TopicName.validate(name) != nil {
            answer.errorCode = KafkaError.invalidTopicException.rawValue
            return answer
        }
        if autoCreate {
            let count = Int32(config.int("num.partitions"))
            if case .created(let topic) = createTopicNow(name: name, partitions: count, configs: [:]) {
                return describeTopic(topic)
            }
            answer.errorCode = KafkaError.leaderNotAvailable.rawValue
            return answer
        }
        answer.errorCode = KafkaError.unknownTopicOrPartition.rawValue
        return answer
    }

    func describeTopic(_ topic: TopicMetadata) -> MetadataResponse.MetadataResponseTopic {
        var answer = MetadataResponse.MetadataResponseTopic()
        answer.name = topic.name
        answer.topicId = topic.topicId
        answer.isInternal = topic.isInternal
        answer.partitions = (0..<topic.partitionCount).map { index in
            var p = MetadataResponse.MetadataResponsePartition()
            p.partitionIndex = index
            p.leaderId = config.nodeId
            p.leaderEpoch = topic.leaderEpoch
            p.replicaNodes = [config.nodeId]
            p.isrNodes = [config.nodeId]
            return p
        }
        return answer
    }
}
