import KafkaProtocol

/// Result of creating (or validating) one topic.
enum TopicCreation {
    case created(TopicMetadata)
    case validated(TopicMetadata)
    case failed(KafkaError, String)
}

/// CreateTopics: v0–v7 (v0–v1 as Kafka 3.9 served them; KIP-896 dropped them in Kafka 4). Partitions/replication factor or an explicit assignment, configs
/// (validated, INVALID_CONFIG with the reason), `validate_only`. One node, so the replication
/// factor must be 1 (or -1 for the default). v5+ echoes the resulting configs; v7 the topic id.
/// Authorization (Kafka's): Create on the cluster, or else on each topic (TOPIC_AUTHORIZATION_FAILED,
/// checked before the name or existence); the configs, partition count and replication factor
/// are echoed only with DescribeConfigs on the topic (else `topic_config_error_code` is
/// TOPIC_AUTHORIZATION_FAILED).
extension Broker {
    func handleCreateTopics(_ header: RequestContext, _ r: inout WireReader) throws(DecodeError) -> HandlerOutcome {
        let request = try CreateTopicsRequest(from: &r, version: header.apiVersion)
        var response = CreateTopicsResponse()
        var seen = Set<String>()
        let access = access(header)
        let clusterCreate = access.allowsCluster(.create, for: .ownNamespace, quiet: true)
        var addedByRequest = (topics: 0, partitions: 0)
        let names = header.names
        for var topic in request.topics {
            var result = CreateTopicsResponse.CreatableTopicResult()
            result.name = topic.name
            result.errorMessage = nil
            defer { response.topics[response.topics.count - 1].errorMessage = names.message(response.topics.last?.errorMessage) }
            if header.tenant != nil {
                switch names.newTopic(topic.name) {
                case .success(let internalName): topic.name = internalName
                case .failure(let problem):
                    result.errorCode = KafkaError.invalidTopicException.rawValue
                    result.errorMessage = problem.message
                    result.numPartitions = -1
                    result.replicationFactor = -1
                    result.configs = []
                    response.topics.append(result)
                    continue
                }
            }
            if !seen.insert(topic.name).inserted {
                result.errorCode = KafkaError.invalidRequest.rawValue
                result.errorMessage = "Duplicate topic name \(topic.name) in the request"
                response.topics.append(result)
                continue
            }
            if !access.mayName(topic.name) || (!clusterCreate && !access.allowsTopic(.create, topic.name)) {
                result.errorCode = KafkaError.topicAuthorizationFailed.rawValue
                result.errorMessage = AuthorizationMessage.denied(.create, .topic(topic.name))
                result.configs = []
                response.topics.append(result)
                continue
            }
            // Limits are checked after authorization and only for a topic that does not exist
            // yet (an existing one answers TOPIC_ALREADY_EXISTS, as without limits).
            if let subject = header.quotaSubject, metadata.topic(topic.name) == nil,
               let refusal = tenantCreationLimit(subject, addingTopics: 1, partitions: requestedPartitions(topic),
                                                 alreadyAdded: &addedByRequest) {
                result.errorCode = KafkaError.policyViolation.rawValue
                result.errorMessage = refusal
                result.numPartitions = -1
                result.replicationFactor = -1
                result.configs = []
                response.topics.append(result)
                continue
            }
            let outcome = createTopic(topic, validateOnly: request.validateOnly)
            switch outcome {
            case .created(let meta), .validated(let meta):
                result.topicId = meta.topicId
                guard access.allowsTopic(.describeConfigs, meta.name, quiet: true) else {
                    // Created, but the caller may not see its configuration (Kafka's answer).
                    result.topicConfigErrorCode = KafkaError.topicAuthorizationFailed.rawValue
                    result.configs = []
                    break
                }
                result.numPartitions = meta.partitionCount
                result.replicationFactor = 1
                result.configs = resolver.topicConfigs(overrides: meta.configs).map { effective in
                    var c = CreateTopicsResponse.CreatableTopicConfigs()
                    c.name = effective.name
                    c.value = effective.isSensitive ? nil : effective.value
                    c.readOnly = effective.readOnly
                    c.configSource = effective.source.rawValue
                    c.isSensitive = effective.isSensitive
                    return c
                }
            case .failed(let error, let message):
                result.errorCode = error.rawValue
                result.errorMessage = message
                result.numPartitions = -1
                result.replicationFactor = -1
                result.configs = []
            }
            response.topics.append(result)
        }
        return .respond(response)
    }

    /// Partitions a CreateTopics entry asks for (the broker default for -1).
    private func requestedPartitions(_ topic: CreateTopicsRequest.CreatableTopic) -> Int {
        if !topic.assignments.isEmpty { return topic.assignments.count }
        return topic.numPartitions == -1 ? config.int("num.partitions") : max(0, Int(topic.numPartitions))
    }

    /// The tenant's topic and partition limits (issue 5): a message naming the limit when adding
    /// `topics` topics with `partitions` partitions would exceed one, else nil (and the addition is
    /// counted in `alreadyAdded`, so one request cannot pass the limit by creating several).
    /// Existing topics are never touched.
    func tenantCreationLimit(_ subject: QuotaSubject, addingTopics topics: Int, partitions: Int,
                             alreadyAdded: inout (topics: Int, partitions: Int)) -> String? {
        let limits = subject.tenantLimits
        guard limits.maxTopics != nil || limits.maxPartitions != nil else { return nil }
        let current = tenantTopicCounts(subject.tenant)
        if let max = limits.maxTopics, topics > 0, current.topics + alreadyAdded.topics + topics > max {
            return "Tenant \(subject.tenant) has reached its topic limit (topics=\(max)); it owns \(current.topics + alreadyAdded.topics)."
        }
        if let max = limits.maxPartitions, current.partitions + alreadyAdded.partitions + partitions > max {
            return "Tenant \(subject.tenant) would exceed its partition limit (partitions=\(max)): it owns \(current.partitions + alreadyAdded.partitions) and asks for \(partitions) more."
        }
        alreadyAdded.topics += topics
        alreadyAdded.partitions += partitions
        return nil
    }

    private func createTopic(_ topic: CreateTopicsRequest.CreatableTopic, validateOnly: Bool) -> TopicCreation {
        if let problem = TopicName.validate(topic.name) { return .failed(.invalidTopicException, problem) }
        if metadata.topic(topic.name) != nil {
            return .failed(.topicAlreadyExists, "Topic '\(topic.name)' already exists.")
        }
        var partitions = topic.numPartitions
        if !topic.assignments.isEmpty {
            if topic.numPartitions != -1 || topic.replicationFactor != -1 {
                return .failed(.invalidRequest,
                               "Both numPartitions or replicationFactor and replicasAssignments were set.")
            }
            let indexes = topic.assignments.map(\.partitionIndex).sorted()
            if indexes != Array(0..<Int32(indexes.count)) {
                return .failed(.invalidReplicaAssignment, "Partitions must be numbered 0..n-1 without gaps.")
            }
            for assignment in topic.assignments where assignment.brokerIds != [config.nodeId] {
                return .failed(.invalidReplicaAssignment,
                               "Replica assignment \(assignment.brokerIds) names brokers other than \(config.nodeId).")
            }
            partitions = Int32(indexes.count)
        } else {
            if partitions == -1 { partitions = Int32(config.int("num.partitions")) }
            if partitions <= 0 { return .failed(.invalidPartitions, "Number of partitions must be larger than 0.") }
            let factor = topic.replicationFactor == -1 ? Int16(config.int("default.replication.factor"))
                : topic.replicationFactor
            if factor <= 0 { return .failed(.invalidReplicationFactor, "Replication factor must be larger than 0.") }
            if factor > 1 {
                return .failed(.invalidReplicationFactor,
                               "Unable to replicate the partition \(factor) time(s): The target replication factor of \(factor) cannot be reached because only 1 broker(s) are registered.")
            }
        }
        var configs: [String: String] = [:]
        for entry in topic.configs {
            switch validateTopicConfig(entry.name, entry.value) {
            case .success(let value): configs[entry.name] = value
            case .failure(let error): return .failed(.invalidConfig, error.description)
            }
        }
        if validateOnly {
            return .validated(TopicMetadata(name: topic.name, id: KafkaUUID.zero.description, partitionCount: partitions,
                                            configs: configs, isInternal: false, leaderEpoch: 0))
        }
        return createTopicNow(name: topic.name, partitions: partitions, configs: configs)
    }

    /// Validates one topic config assignment; a null value is not allowed on create.
    func validateTopicConfig(_ name: String, _ value: String?) -> Result<String, ConfigError> {
        guard let definition = TopicConfigs.byName[name] else {
            return .failure(ConfigError("Unknown topic config name: \(name)"))
        }
        guard let value else { return .failure(ConfigError("Null value not supported for topic configs: \(name)")) }
        return definition.validate(value)
    }

    /// Creates a topic whose parameters are already checked.
    func createTopicNow(name: String, partitions: Int32, configs: [String: String]) -> TopicCreation {
        let topic = TopicMetadata(name: name, id: KafkaUUID.random().description, partitionCount: partitions,
                                  configs: configs, isInternal: TenantScope.isInternalTopic(name), leaderEpoch: 0)
        do {
            try replicas.createTopic(topic)
            return .created(topic)
        } catch {
            return .failed(.unknownServerError, "Could not create topic \(name): \(error)")
        }
    }
}
