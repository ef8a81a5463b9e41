import KafkaProtocol

/// One requested change to a config key.
struct ConfigChange {
    enum Operation: Int8 {
        case set = 0, delete = 1, append = 2, subtract = 3
    }
    var name: String
    var operation: Operation
    var value: String?
}

/// AlterConfigs (legacy, v0–v2: the given set replaces every override) and IncrementalAlterConfigs
/// (v0–v1: SET, DELETE, APPEND, SUBTRACT per key). Topic configs are validated with Kafka's rules
/// and applied to the live logs at once; broker resources accept the cluster-wide defaults behind
/// topic configs (log.retention.ms, message.max.bytes, ...) and refuse read-only keys. All keys of
/// a resource are checked before any is applied; `validate_only` applies nothing.
/// Authorization: AlterConfigs on the topic (TOPIC_AUTHORIZATION_FAILED) or, for broker resources,
/// on the cluster (CLUSTER_AUTHORIZATION_FAILED), before anything else about the resource.
extension Broker {
    func handleAlterConfigs(_ header: RequestContext, _ r: inout WireReader) throws(DecodeError) -> HandlerOutcome {
        var request = try AlterConfigsRequest(from: &r, version: header.apiVersion)
        if header.tenant != nil {
            for i in request.resources.indices where request.resources[i].resourceType == ConfigResourceType.topic.rawValue {
                request.resources[i].resourceName = header.names.topic(request.resources[i].resourceName)
            }
        }
        var response = AlterConfigsResponse()
        let access = access(header)
        for resource in request.resources {
            var result = AlterConfigsResponse.AlterConfigsResourceResponse()
            result.resourceType = resource.resourceType
            result.resourceName = header.names.local(resource.resourceName)
            let changes = resource.configs.map { ConfigChange(name: $0.name, operation: .set, value: $0.value) }
            let outcome = configAccessDenied(access, .alterConfigs, resource.resourceType, resource.resourceName)
                ?? alterConfigs(type: resource.resourceType, name: resource.resourceName, changes: changes,
                                       replaceAll: true, validateOnly: request.validateOnly)
            result.errorCode = outcome?.0.rawValue ?? 0
            result.errorMessage = header.names.message(outcome?.1)
            response.responses.append(result)
        }
        return .respond(response)
    }

    func handleIncrementalAlterConfigs(_ header: RequestContext, _ r: inout WireReader) throws(DecodeError)
        -> HandlerOutcome {
        var request = try IncrementalAlterConfigsRequest(from: &r, version: header.apiVersion)
        if header.tenant != nil {
            for i in request.resources.indices where request.resources[i].resourceType == ConfigResourceType.topic.rawValue {
                request.resources[i].resourceName = header.names.topic(request.resources[i].resourceName)
            }
        }
        var response = IncrementalAlterConfigsResponse()
        let access = access(header)
        for resource in request.resources {
            var result = IncrementalAlterConfigsResponse.AlterConfigsResourceResponse()
            result.resourceType = resource.resourceType
            result.resourceName = header.names.local(resource.resourceName)
            var changes: [ConfigChange] = []
            var invalid: (KafkaError, String)?
            for c in resource.configs {
                guard let op = ConfigChange.Operation(rawValue: c.configOperation) else {
                    invalid = (.invalidRequest, "Unknown config operation \(c.configOperation) for \(c.name)")
                    break
                }
                changes.append(ConfigChange(name: c.name, operation: op, value: c.value))
            }
            let outcome = configAccessDenied(access, .alterConfigs, resource.resourceType, resource.resourceName)
                ?? invalid ?? alterConfigs(type: resource.resourceType, name: resource.resourceName,
                                                  changes: changes, replaceAll: false,
                                                  validateOnly: request.validateOnly)
            result.errorCode = outcome?.0.rawValue ?? 0
            result.errorMessage = header.names.message(outcome?.1)
            response.responses.append(result)
        }
        return .respond(response)
    }

    /// Applies `changes` to one resource; nil on success, else the error for the whole resource.
    func alterConfigs(type: Int8, name: String, changes: [ConfigChange], replaceAll: Bool,
                      validateOnly: Bool) -> (KafkaError, String)? {
        switch ConfigResourceType(rawValue: type) {
        case .topic:
            guard let topic = metadata.topic(name) else {
                return (.unknownTopicOrPartition, "Topic '\(name)' does not exist.")
            }
            let next: [String: String]
            switch Self.applyChanges(changes, to: replaceAll ? [:] : topic.configs, definitions: TopicConfigs.byName,
                                     unknownMessage: "Unknown topic config name") {
            case .success(let configs): next = configs
            case .failure(let error): return (.invalidConfig, error.description)
            }
            if validateOnly { return nil }
            do {
                try metadata.setTopicConfigs(name, next)
            } catch {
                return (.unknownServerError, "\(error)")
            }
            if let updated = metadata.topic(name) { replicas.applyConfigs(updated) }
            return nil
        case .broker:
            guard name.isEmpty || name == String(config.nodeId) else {
                return (.invalidRequest, "Unexpected broker id, expected \(config.nodeId) or empty string")
            }
            var dynamic: [String: ConfigDefinition] = [:]
            for key in ConfigResolver.dynamicBrokerKeys { dynamic[key] = BrokerConfigs.byName[key] }
            for change in changes where dynamic[change.name] == nil {
                if BrokerConfigs.byName[change.name] != nil {
                    return (.invalidConfig, "Cannot update these configs dynamically: [\(change.name)]")
                }
                return (.invalidConfig, "Unknown broker config name: \(change.name)")
            }
            let next: [String: String]
            switch Self.applyChanges(changes, to: replaceAll ? [:] : metadata.dynamicBrokerConfigs,
                                     definitions: dynamic, unknownMessage: "Unknown broker config name") {
            case .success(let configs): next = configs
            case .failure(let error): return (.invalidConfig, error.description)
            }
            if validateOnly { return nil }
            do {
                try metadata.setDynamicBrokerConfigs(next)
            } catch {
                return (.unknownServerError, "\(error)")
            }
            let resolver = ConfigResolver(broker: config, dynamicBroker: next)
            resolverState.withLock { $0 = resolver }
            replicas.updateResolver(resolver)
            return nil
        default:
            return (.invalidRequest, "Unsupported resource type \(type)")
        }
    }

    /// The override map after `changes`, or why one of them is invalid.
    static func applyChanges(_ changes: [ConfigChange], to current: [String: String],
                             definitions: [String: ConfigDefinition],
                             unknownMessage: String) -> Result<[String: String], ConfigError> {
        var next = current
        var seen = Set<String>()
        for change in changes {
            guard let definition = definitions[change.name] else {
                return .failure(ConfigError("\(unknownMessage): \(change.name)"))
            }
            if !seen.insert(change.name).inserted {
                return .failure(ConfigError("Duplicate config key: \(change.name)"))
            }
            switch change.operation {
            case .delete:
                next[change.name] = nil
            case .set:
                guard let value = change.value else {
                    return .failure(ConfigError("Null value not supported for: \(change.name)"))
                }
                switch definition.validate(value) {
                case .success(let canonical): next[change.name] = canonical
                case .failure(let error): return .failure(error)
                }
            case .append, .subtract:
                guard definition.type == .list else {
                    return .failure(ConfigError(
                        "Config value append/subtract is not allowed for config key \(change.name), which is not a list"))
                }
                let base = (next[change.name] ?? definition.defaultValue ?? "").split(separator: ",").map(String.init)
                let items = (change.value ?? "").split(separator: ",").map(String.init)
                var list = base
                if change.operation == .append {
                    for item in items where !list.contains(item) { list.append(item) }
                } else {
                    list.removeAll { items.contains($0) }
                }
                switch definition.validate(list.joined(separator: ",")) {
                case .success(let canonical): next[change.name] = canonical
                case .failure(let error): return .failure(error)
                }
            }
        }
        return .success(next)
    }
}
