import KafkaProtocol

/// Metadata: v0–v12. One broker (this node), which leads every partition with ISR = {self}.
/// v0: an empty topic list means all topics; v1+: null means all, empty means none.
/// Unknown topics: auto-created when `auto.create.topics.enable` and the request allows it (v4+
/// field; always allowed before), else UNKNOWN_TOPIC_OR_PARTITION. Invalid names: INVALID_TOPIC_EXCEPTION.
/// v10+ topic ids; v12 lets clients ask by id (UNKNOWN_TOPIC_ID when absent).
/// Authorization (Kafka's): Describe on each topic. Listing all topics shows only the describable
/// ones; a topic asked for by name without Describe gets TOPIC_AUTHORIZATION_FAILED, existing or
/// not; auto-creation also needs Create on the cluster or the topic. v8–v10 cluster and v8+ topic
/// authorized-operation bitfields are filled when asked (all operations without an authorizer).
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

        let access = access(header)
        let wantsAll = request.topics == nil || (version == 0 && request.topics?.isEmpty == true)
        // Entries the caller may describe; only they carry topic authorized operations (Kafka).
        var described: [Bool] = []
        if wantsAll {
            // Listing all topics shows only those the caller may describe (denials not audited).
            let all = metadata.topics.sorted { $0.name < $1.name }
            let names = header.names
            for topic in all where names.visible(topic.name) && access.allowsTopic(.describe, topic.name, quiet: true) {
                response.topics.append(describeTopic(topic))
            }
            described = Array(repeating: true, count: response.topics.count)
        } else {
            let autoCreate = config.bool("auto.create.topics.enable") && (version < 4 || request.allowAutoTopicCreation)
            for requested in request.topics ?? [] {
                var requested = requested
                requested.name = header.names.topic(requested.name)
                let (topic, visible) = metadataTopic(requested, autoCreate: autoCreate, access: access)
                response.topics.append(topic)
                described.append(visible)
            }
        }
        if version >= 8 {
            if version <= 10 && request.includeClusterAuthorizedOperations {
                response.clusterAuthorizedOperations = access.allowsCluster(.describe, for: .ownNamespace)
                    ? access.authorizedOperations(.cluster) : 0
            }
            if request.includeTopicAuthorizedOperations {
                for i in response.topics.indices where described[i] {
                    guard let name = response.topics[i].name else { continue }
                    response.topics[i].topicAuthorizedOperations = access.authorizedOperations(.topic(name))
                }
            }
        }
        if header.tenant != nil {
            for i in response.topics.indices { response.topics[i].name = header.names.local(response.topics[i].name) }
        }
        return .respond(response)
    }

    /// One requested topic, and whether the caller may describe it. Kafka's order: Describe is
    /// checked first, so a caller without it learns nothing about existence; an auto-created
    /// topic also needs Create (on the cluster, or else on the topic).
    private func metadataTopic(_ requested: MetadataRequest.MetadataRequestTopic, autoCreate: Bool,
                               access: RequestAccess) -> (MetadataResponse.MetadataResponseTopic, Bool) {
        var answer = MetadataResponse.MetadataResponseTopic()
        guard let name = requested.name else {
            // Asked by id (v10+ allows, v12 used by clients). Ids are not secret, names are.
            answer.name = nil
            answer.topicId = requested.topicId
            guard let topic = metadata.topic(id: requested.topicId) else {
                answer.errorCode = KafkaError.unknownTopicId.rawValue
                return (answer, false)
            }
            guard access.allowsTopic(.describe, topic.name) else {
                answer.errorCode = KafkaError.topicAuthorizationFailed.rawValue
                return (answer, false)
            }
            return (describeTopic(topic), true)
        }
        answer.name = name
        guard access.allowsTopic(.describe, name) else {
            answer.errorCode = KafkaError.topicAuthorizationFailed.rawValue
            return (answer, false)
        }
        if let topic = metadata.topic(name) { return (describeTopic(topic), true) }
        if autoCreate && !access.allowsCluster(.create, for: .ownNamespace, quiet: true) && !access.allowsTopic(.create, name) {
            answer.errorCode = KafkaError.topicAuthorizationFailed.rawValue
            answer.isInternal = TenantScope.isInternalTopic(name)
            return (answer, false)
        }
        if TopicName.validate(access.context.names.local(name)) != nil || TopicName.validate(name) != nil {
            answer.errorCode = KafkaError.invalidTopicException.rawValue
            return (answer, true)
        }
        if autoCreate {
            let count = Int32(config.int("num.partitions"))
            if case .created(let topic) = createTopicNow(name: name, partitions: count, configs: [:]) {
                return (describeTopic(topic), true)
            }
            answer.errorCode = KafkaError.leaderNotAvailable.rawValue
            return (answer, true)
        }
        answer.errorCode = KafkaError.unknownTopicOrPartition.rawValue
        return (answer, true)
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
