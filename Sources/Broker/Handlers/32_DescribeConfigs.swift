import KafkaProtocol
import Security

/// Config resource types (DescribeConfigs/AlterConfigs `ResourceType`).
enum ConfigResourceType: Int8 {
    case topic = 2
    case broker = 4
    case brokerLogger = 8
}

/// DescribeConfigs: v0–v4 (v0, which Kafka 4 dropped, answers `is_default` instead of the source). Topic (2) and broker (4) resources with Kafka's property names, each
/// value's source and, when asked, its synonyms (topic override → broker default → built-in
/// default). v3+ adds each config's type. Documentation strings are not provided (null).
/// Authorization: DescribeConfigs on the topic (TOPIC_AUTHORIZATION_FAILED) or, for broker
/// resources, on the cluster (CLUSTER_AUTHORIZATION_FAILED); denied resources list no configs.
extension Broker {
    func handleDescribeConfigs(_ header: RequestContext, _ r: inout WireReader) throws(DecodeError) -> HandlerOutcome {
        var request = try DescribeConfigsRequest(from: &r, version: header.apiVersion)
        if header.tenant != nil {
            for i in request.resources.indices where request.resources[i].resourceType == ConfigResourceType.topic.rawValue {
                request.resources[i].resourceName = header.names.topic(request.resources[i].resourceName)
            }
        }
        var response = DescribeConfigsResponse()
        let resolver = self.resolver
        let access = access(header)
        for resource in request.resources {
            var result = DescribeConfigsResponse.DescribeConfigsResult()
            result.resourceType = resource.resourceType
            result.resourceName = header.names.local(resource.resourceName)
            result.errorMessage = nil
            defer { response.results[response.results.count - 1].errorMessage = header.names.message(response.results.last?.errorMessage) }
            if let (error, message) = configAccessDenied(access, .describeConfigs, resource.resourceType,
                                                         resource.resourceName) {
                result.errorCode = error.rawValue
                result.errorMessage = message
                response.results.append(result)
                continue
            }
            var entries: [EffectiveConfig] = []
            switch ConfigResourceType(rawValue: resource.resourceType) {
            case .topic:
                if let topic = metadata.topic(resource.resourceName) {
                    entries = resolver.topicConfigs(overrides: topic.configs)
                } else {
                    result.errorCode = KafkaError.unknownTopicOrPartition.rawValue
                    result.errorMessage = "Topic '\(resource.resourceName)' does not exist."
                }
            case .broker:
                if resource.resourceName.isEmpty || resource.resourceName == String(config.nodeId) {
                    entries = resolver.brokerConfigs()
                } else {
                    result.errorCode = KafkaError.invalidRequest.rawValue
                    result.errorMessage = "Unexpected broker id, expected \(config.nodeId) or empty string"
                }
            default:
                result.errorCode = KafkaError.invalidRequest.rawValue
                result.errorMessage = "Unsupported resource type \(resource.resourceType)"
            }
            if let keys = resource.configurationKeys {
                let wanted = Set(keys)
                entries = entries.filter { wanted.contains($0.name) }
            }
            result.configs = entries.map { describeEntry($0, request: request) }
            response.results.append(result)
        }
        return .respond(response)
    }

    /// Kafka's config authorization: a topic needs `operation` (DescribeConfigs/AlterConfigs) on
    /// the topic (TOPIC_AUTHORIZATION_FAILED), a broker or broker-logger resource needs it on the
    /// cluster (CLUSTER_AUTHORIZATION_FAILED). Unknown resource types are left to the handler.
    func configAccessDenied(_ access: RequestAccess, _ operation: AclOperation, _ type: Int8, _ name: String)
        -> (KafkaError, String)? {
        switch ConfigResourceType(rawValue: type) {
        case .topic:
            return access.allowsTopic(operation, name) ? nil
                : (.topicAuthorizationFailed, AuthorizationMessage.denied(operation, .topic(name)))
        case .broker, .brokerLogger:
            return access.allowsCluster(operation, for: .brokerWide) ? nil
                : (.clusterAuthorizationFailed, AuthorizationMessage.denied(operation, .cluster))
        case nil:
            return nil
        }
    }

    private func describeEntry(_ entry: EffectiveConfig, request: DescribeConfigsRequest)
        -> DescribeConfigsResponse.DescribeConfigsResourceResult {
        var c = DescribeConfigsResponse.DescribeConfigsResourceResult()
        c.name = entry.name
        c.value = entry.isSensitive ? nil : entry.value
        c.readOnly = entry.readOnly
        c.isDefault = entry.source == .default
        c.configSource = entry.source.rawValue
        c.isSensitive = entry.isSensitive
        c.configType = entry.type.rawValue
        c.documentation = nil
        if request.includeSynonyms {
            c.synonyms = entry.synonyms.map { s in
                var synonym = DescribeConfigsResponse.DescribeConfigsSynonym()
                synonym.name = s.name
                synonym.value = entry.isSensitive ? nil : s.value
                synonym.source = s.source.rawValue
                return synonym
            }
        }
        return c
    }
}
