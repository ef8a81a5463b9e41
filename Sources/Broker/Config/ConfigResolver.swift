import KafkaProtocol
import LogStore

/// One effective config entry as DescribeConfigs reports it.
public struct EffectiveConfig: Sendable, Equatable {
    public var name: String
    public var value: String?
    public var source: ConfigSource
    public var type: ConfigType
    public var isSensitive: Bool
    public var readOnly: Bool
    /// Lower-precedence values, highest first (DescribeConfigs synonyms).
    public var synonyms: [(name: String, value: String?, source: ConfigSource)]

    public static func == (a: EffectiveConfig, b: EffectiveConfig) -> Bool {
        a.name == b.name && a.value == b.value && a.source == b.source
    }
}

/// Works out effective topic and broker configs from the three layers Kafka has:
/// topic override → dynamic broker default → static broker config (server.properties) → built-in default.
public struct ConfigResolver: Sendable {
    public let broker: BrokerConfig
    public let dynamicBroker: [String: String]

    public init(broker: BrokerConfig, dynamicBroker: [String: String]) {
        self.broker = broker
        self.dynamicBroker = dynamicBroker
    }

    public func topicConfig(_ definition: ConfigDefinition, overrides: [String: String]) -> EffectiveConfig {
        var layers: [(name: String, value: String?, source: ConfigSource)] = []
        if let v = overrides[definition.name] { layers.append((definition.name, v, .dynamicTopic)) }
        if let synonym = definition.brokerSynonym {
            if let v = dynamicBroker[synonym] { layers.append((synonym, v, .dynamicDefaultBroker)) }
            let fromBroker = broker.topicDefault(for: definition)
            if fromBroker.source == .staticBroker { layers.append((synonym, fromBroker.value, .staticBroker)) }
        }
        layers.append((definition.name, definition.defaultValue, .default))
        let top = layers[0]
        return EffectiveConfig(name: definition.name, value: top.value, source: top.source, type: definition.type,
                               isSensitive: definition.isSensitive, readOnly: false, synonyms: layers)
    }

    public func topicConfigs(overrides: [String: String]) -> [EffectiveConfig] {
        TopicConfigs.definitions.map { topicConfig($0, overrides: overrides) }
    }

    public func topicValue(_ name: String, overrides: [String: String]) -> String {
        guard let definition = TopicConfigs.byName[name] else { return "" }
        return topicConfig(definition, overrides: overrides).value ?? ""
    }

    /// Broker configs as DescribeConfigs shows them. Only keys with a topic synonym (the log.*
    /// defaults, message.max.bytes, ...) can be changed at runtime; the rest are read-only.
    public func brokerConfigs() -> [EffectiveConfig] {
        BrokerConfigs.definitions.map { definition in
            var layers: [(name: String, value: String?, source: ConfigSource)] = []
            if let v = dynamicBroker[definition.name] { layers.append((definition.name, v, .dynamicDefaultBroker)) }
            if let v = broker.explicit[definition.name] { layers.append((definition.name, v, .staticBroker)) }
            layers.append((definition.name, derivedDefault(definition), .default))
            let top = layers[0]
            return EffectiveConfig(name: definition.name, value: top.value, source: top.source, type: definition.type,
                                   isSensitive: definition.isSensitive,
                                   readOnly: !Self.dynamicBrokerKeys.contains(definition.name), synonyms: layers)
        }
    }

    func derivedDefault(_ definition: ConfigDefinition) -> String? {
        switch definition.name {
        case "log.retention.ms": return String(broker.retentionMs)
        case "log.roll.ms": return String(broker.rollMs)
        default: return definition.defaultValue
        }
    }

    /// Broker keys AlterConfigs may change: the cluster-wide defaults behind topic configs.
    public static let dynamicBrokerKeys: Set<String> = Set(TopicConfigs.definitions.compactMap(\.brokerSynonym))
        .intersection(Set(BrokerConfigs.definitions.map(\.name)))

    /// The LogStore settings for a topic with these overrides.
    public func logConfig(overrides: [String: String]) -> LogConfig {
        func long(_ name: String) -> Int64 { Int64(topicValue(name, overrides: overrides)) ?? 0 }
        var c = LogConfig()
        c.segmentBytes = Int(long("segment.bytes"))
        c.segmentMs = long("segment.ms")
        c.segmentIndexBytes = Int(long("segment.index.bytes"))
        c.indexIntervalBytes = Int(long("index.interval.bytes"))
        c.flushMessages = long("flush.messages")
        c.flushMs = long("flush.ms")
        c.retentionMs = long("retention.ms")
        c.retentionBytes = long("retention.bytes")
        c.fileDeleteDelayMs = long("file.delete.delay.ms")
        let policy = topicValue("cleanup.policy", overrides: overrides).split(separator: ",")
        c.deletePolicy = policy.contains("delete")
        c.compactPolicy = policy.contains("compact")
        c.deleteRetentionMs = long("delete.retention.ms")
        c.minCleanableDirtyRatio = Double(topicValue("min.cleanable.dirty.ratio", overrides: overrides)) ?? 0.5
        c.minCompactionLagMs = long("min.compaction.lag.ms")
        return c
    }

    /// The produce-path settings for a topic, resolved once per config change, not per request.
    public func producePolicy(overrides: [String: String]) -> ProducePolicy {
        func long(_ name: String) -> Int64 { Int64(topicValue(name, overrides: overrides)) ?? 0 }
        return ProducePolicy(
            maxMessageBytes: Int(long("max.message.bytes")),
            logAppendTime: topicValue("message.timestamp.type", overrides: overrides) == "LogAppendTime",
            timestampBeforeMaxMs: long("message.timestamp.before.max.ms"),
            timestampAfterMaxMs: long("message.timestamp.after.max.ms"),
            compressionType: topicValue("compression.type", overrides: overrides),
            compacted: topicValue("cleanup.policy", overrides: overrides).split(separator: ",").contains("compact"),
            schemaValidation: schemaValidationPolicy(overrides: overrides))
    }

    /// Nil unless `key.schema.validation` or `value.schema.validation` is true.
    func schemaValidationPolicy(overrides: [String: String]) -> SchemaValidationPolicy? {
        func side(_ prefix: String) -> SchemaValidationPolicy.Side? {
            guard topicValue(prefix + ".schema.validation", overrides: overrides) == "true" else { return nil }
            return SchemaValidationPolicy.Side(
                strategy: SubjectNameStrategy(configValue: topicValue(prefix + ".subject.name.strategy", overrides: overrides))
                    ?? .topicName,
                payload: topicValue(prefix + ".schema.validation.level", overrides: overrides) == "payload")
        }
        let policy = SchemaValidationPolicy(key: side("key"), value: side("value"))
        return policy.key == nil && policy.value == nil ? nil : policy
    }
}

/// Topic settings the produce path needs on every request.
public struct ProducePolicy: Sendable, Equatable {
    public var maxMessageBytes: Int
    public var logAppendTime: Bool
    public var timestampBeforeMaxMs: Int64
    public var timestampAfterMaxMs: Int64
    /// `producer`, `uncompressed`, `gzip`, `snappy`, `lz4` or `zstd`.
    public var compressionType: String
    /// `cleanup.policy` contains `compact`: records need keys.
    public var compacted: Bool
    /// Broker-side schema validation; nil when off (the produce path then skips it entirely).
    public var schemaValidation: SchemaValidationPolicy? = nil
}
