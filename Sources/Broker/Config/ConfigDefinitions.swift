import Foundation
import KafkaProtocol

/// The value types Kafka's DescribeConfigs v3+ reports (`ConfigType`). Persisted: never renumber.
public enum ConfigType: Int8, Sendable {
    case boolean = 1, string = 2, int = 3, short = 4, long = 5, double = 6, list = 7, `class` = 8, password = 9
}

/// Where an effective config value came from (DescribeConfigs `ConfigSource`). Persisted: never renumber.
public enum ConfigSource: Int8, Sendable {
    case unknown = 0
    case dynamicTopic = 1
    case dynamicBroker = 2
    case dynamicDefaultBroker = 3
    case staticBroker = 4
    case `default` = 5
}

/// A validation failure, worded for the client (INVALID_CONFIG error message) or the operator.
public struct ConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// One known configuration key: its type, default, the check a value must pass and, for topic
/// keys, the broker property that supplies the cluster-wide default (Kafka's "synonym").
public struct ConfigDefinition: Sendable {
    public enum Check: Sendable {
        case any
        case atLeast(Int64)
        case between(Int64, Int64)
        case oneOf([String])
        case listOf([String])
        case fraction
    }

    public let name: String
    public let type: ConfigType
    public let defaultValue: String?
    public let check: Check
    public let brokerSynonym: String?
    public let isSensitive: Bool

    public init(_ name: String, _ type: ConfigType, _ defaultValue: String?, _ check: Check = .any,
                synonym: String? = nil, sensitive: Bool = false) {
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
        self.check = check
        self.brokerSynonym = synonym
        self.isSensitive = sensitive
    }

    /// Returns the value in canonical form, or why it is invalid.
    public func validate(_ raw: String) -> Result<String, ConfigError> {
        let value = raw.trimmingCharacters(in: .whitespaces)
        func bad(_ why: String) -> Result<String, ConfigError> {
            .failure(ConfigError("Invalid value \(raw) for configuration \(name): \(why)"))
        }
        switch type {
        case .boolean:
            switch value.lowercased() {
            case "true": return .success("true")
            case "false": return .success("false")
            default: return bad("Expected value to be either true or false")
            }
        case .int, .long, .short:
            guard let n = Int64(value) else { return bad("Not a number of type \(type == .long ? "LONG" : "INT")") }
            if type == .int && (n < Int64(Int32.min) || n > Int64(Int32.max)) { return bad("Value out of range for INT") }
            if type == .short && (n < Int64(Int16.min) || n > Int64(Int16.max)) { return bad("Value out of range for SHORT") }
            switch check {
            case .atLeast(let min) where n < min: return bad("Value must be at least \(min)")
            case .between(let lo, let hi) where n < lo || n > hi: return bad("Value must be in [\(lo)...\(hi)]")
            default: return .success(String(n))
            }
        case .double:
            guard let d = Double(value) else { return bad("Not a number of type DOUBLE") }
            if case .fraction = check, d < 0 || d > 1 { return bad("Value must be in [0,...,1]") }
            return .success(value)
        case .string, .class, .password:
            if case .oneOf(let options) = check, !options.contains(value) {
                return bad("String must be one of: \(options.joined(separator: ", "))")
            }
            return .success(value)
        case .list:
            let items = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }
            if case .listOf(let options) = check {
                if items.isEmpty { return bad("Empty list") }
                for item in items where !options.contains(item) {
                    return bad("Invalid value \(item); valid values are \(options.joined(separator: ", "))")
                }
            }
            return .success(items.joined(separator: ","))
        }
    }
}

/// Kafka's topic-level configs that Sluice knows, with the broker properties that default them.
public enum TopicConfigs {
    public static let compressionTypes = ["uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"]

    public static let definitions: [ConfigDefinition] = [
        .init("cleanup.policy", .list, "delete", .listOf(["delete", "compact"]), synonym: "log.cleanup.policy"),
        .init("compression.type", .string, "producer", .oneOf(compressionTypes), synonym: "compression.type"),
        .init("delete.retention.ms", .long, "86400000", .atLeast(0), synonym: "log.cleaner.delete.retention.ms"),
        .init("file.delete.delay.ms", .long, "60000", .atLeast(0), synonym: "log.segment.delete.delay.ms"),
        .init("flush.messages", .long, "9223372036854775807", .atLeast(1), synonym: "log.flush.interval.messages"),
        .init("flush.ms", .long, "9223372036854775807", .atLeast(0), synonym: "log.flush.interval.ms"),
        .init("index.interval.bytes", .int, "4096", .atLeast(0), synonym: "log.index.interval.bytes"),
        .init("max.compaction.lag.ms", .long, "9223372036854775807", .atLeast(1), synonym: "log.cleaner.max.compaction.lag.ms"),
        .init("max.message.bytes", .int, "1048588", .atLeast(0), synonym: "message.max.bytes"),
        .init("message.timestamp.after.max.ms", .long, "3600000", .atLeast(0),
              synonym: "log.message.timestamp.after.max.ms"),
        .init("message.timestamp.before.max.ms", .long, "9223372036854775807", .atLeast(0),
              synonym: "log.message.timestamp.before.max.ms"),
        .init("message.timestamp.type", .string, "CreateTime", .oneOf(["CreateTime", "LogAppendTime"]),
              synonym: "log.message.timestamp.type"),
        .init("min.cleanable.dirty.ratio", .double, "0.5", .fraction, synonym: "log.cleaner.min.cleanable.ratio"),
        .init("min.compaction.lag.ms", .long, "0", .atLeast(0), synonym: "log.cleaner.min.compaction.lag.ms"),
        .init("min.insync.replicas", .int, "1", .atLeast(1), synonym: "min.insync.replicas"),
        .init("preallocate", .boolean, "false", synonym: "log.preallocate"),
        .init("retention.bytes", .long, "-1", synonym: "log.retention.bytes"),
        .init("retention.ms", .long, "604800000", .atLeast(-1), synonym: "log.retention.ms"),
        .init("segment.bytes", .int, "1073741824", .atLeast(14), synonym: "log.segment.bytes"),
        .init("segment.index.bytes", .int, "10485760", .atLeast(8), synonym: "log.index.size.max.bytes"),
        .init("segment.jitter.ms", .long, "0", .atLeast(0), synonym: "log.roll.jitter.ms"),
        .init("segment.ms", .long, "604800000", .atLeast(1), synonym: "log.roll.ms"),
        .init("unclean.leader.election.enable", .boolean, "false", synonym: "unclean.leader.election.enable"),
        // Broker-side schema validation (issue 6; Sources/Broker/Schemas/SchemaValidation.swift).
        .init("key.schema.validation", .boolean, "false"),
        .init("value.schema.validation", .boolean, "false"),
        .init("key.subject.name.strategy", .string, "TopicNameStrategy", .oneOf(SubjectNameStrategy.configValues)),
        .init("value.subject.name.strategy", .string, "TopicNameStrategy", .oneOf(SubjectNameStrategy.configValues)),
        .init("key.schema.validation.level", .string, "id", .oneOf(["id", "payload"])),
        .init("value.schema.validation.level", .string, "id", .oneOf(["id", "payload"])),
    ]

    public static let byName: [String: ConfigDefinition] = Dictionary(
        uniqueKeysWithValues: definitions.map { ($0.name, $0) })
}
