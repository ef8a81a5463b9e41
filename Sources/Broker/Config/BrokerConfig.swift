import Properties
import Foundation

/// A listener from `listeners` / `advertised.listeners`, Kafka style: `NAME://host:port`.
public struct ListenerSpec: Sendable, Equatable {
    public var name: String
    public var host: String
    public var port: Int

    /// Parses `PLAINTEXT://host:port`; an empty host means every interface.
    public static func parse(_ text: String) -> Result<ListenerSpec, ConfigError> {
        guard let sep = text.range(of: "://") else {
            return .failure(ConfigError("listener '\(text)' must look like NAME://host:port"))
        }
        let name = String(text[..<sep.lowerBound]).uppercased()
        let rest = String(text[sep.upperBound...])
        let host: String
        let portText: String
        if rest.hasPrefix("[") {  // [::1]:9092
            guard let close = rest.firstIndex(of: "]") else { return .failure(ConfigError("listener '\(text)': bad IPv6 host")) }
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            portText = String(rest[rest.index(after: close)...].dropFirst())
        } else {
            guard let colon = rest.lastIndex(of: ":") else {
                return .failure(ConfigError("listener '\(text)' has no port"))
            }
            host = String(rest[..<colon])
            portText = String(rest[rest.index(after: colon)...])
        }
        guard let port = Int(portText), (0...65535).contains(port) else {
            return .failure(ConfigError("listener '\(text)' has an invalid port"))
        }
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
            return .failure(ConfigError("listener '\(text)' has an invalid name"))
        }
        return .success(ListenerSpec(name: name, host: host, port: port))
    }
}

/// Broker properties Sluice knows (Kafka's names). Keys in `acceptedButIgnored` are Kafka settings
/// that only make sense for a JVM or ZooKeeper/KRaft deployment; they are listed in docs/UNSUPPORTED.md.
public enum BrokerConfigs {
    static let long = "9223372036854775807"

    public static let definitions: [ConfigDefinition] = [
        .init("node.id", .int, "1", .atLeast(0)),
        .init("broker.id", .int, nil, .atLeast(0)),
        .init("cluster.id", .string, nil),
        .init("listeners", .list, "PLAINTEXT://127.0.0.1:9092"),
        .init("advertised.listeners", .list, nil),
        .init("log.dirs", .list, nil),
        .init("log.dir", .string, "./data"),
        .init("num.partitions", .int, "1", .atLeast(1)),
        .init("default.replication.factor", .short, "1", .atLeast(1)),
        .init("auto.create.topics.enable", .boolean, "false"),
        .init("delete.topic.enable", .boolean, "true"),
        .init("log.retention.ms", .long, nil, .atLeast(-1)),
        .init("log.retention.minutes", .int, nil, .atLeast(-1)),
        .init("log.retention.hours", .int, "168", .atLeast(-1)),
        .init("log.retention.bytes", .long, "-1"),
        .init("log.segment.bytes", .int, "1073741824", .atLeast(14)),
        .init("log.roll.ms", .long, nil, .atLeast(1)),
        .init("log.roll.hours", .int, "168", .atLeast(1)),
        .init("log.roll.jitter.ms", .long, "0", .atLeast(0)),
        .init("log.index.interval.bytes", .int, "4096", .atLeast(0)),
        .init("log.index.size.max.bytes", .int, "10485760", .atLeast(8)),
        .init("log.flush.interval.messages", .long, long, .atLeast(1)),
        .init("log.flush.interval.ms", .long, long, .atLeast(0)),
        .init("log.flush.scheduler.interval.ms", .long, "1000", .atLeast(1)),
        .init("log.retention.check.interval.ms", .long, "300000", .atLeast(1)),
        .init("log.segment.delete.delay.ms", .long, "60000", .atLeast(0)),
        .init("log.cleanup.policy", .list, "delete", .listOf(["delete", "compact"])),
        .init("log.cleaner.delete.retention.ms", .long, "86400000", .atLeast(0)),
        .init("log.cleaner.backoff.ms", .long, "15000", .atLeast(0)),
        .init("log.cleaner.min.cleanable.ratio", .double, "0.5", .fraction),
        .init("log.cleaner.min.compaction.lag.ms", .long, "0", .atLeast(0)),
        .init("log.cleaner.max.compaction.lag.ms", .long, long, .atLeast(1)),
        .init("log.message.timestamp.type", .string, "CreateTime", .oneOf(["CreateTime", "LogAppendTime"])),
        .init("log.message.timestamp.before.max.ms", .long, long, .atLeast(0)),
        .init("log.message.timestamp.after.max.ms", .long, "3600000", .atLeast(0)),
        .init("log.preallocate", .boolean, "false"),
        .init("compression.type", .string, "producer", .oneOf(TopicConfigs.compressionTypes)),
        .init("message.max.bytes", .int, "1048588", .atLeast(0)),
        .init("min.insync.replicas", .int, "1", .atLeast(1)),
        .init("unclean.leader.election.enable", .boolean, "false"),
        .init("socket.request.max.bytes", .int, "104857600", .atLeast(1)),
        .init("socket.send.buffer.bytes", .int, "102400", .atLeast(-1)),
        .init("socket.receive.buffer.bytes", .int, "102400", .atLeast(-1)),
        .init("connections.max.idle.ms", .long, "600000", .atLeast(-1)),
        // Connection limits before authentication (Kafka's KIP-308/KIP-612 names) and the
        // authentication deadline (ours; Kafka has none). docs/security.md, "Hardening".
        .init("connections.authentication.timeout.ms", .long, "10000", .atLeast(0)),
        .init("max.connections", .int, "2147483647", .atLeast(0)),
        .init("max.connections.per.ip", .int, "2147483647", .atLeast(0)),
        .init("max.connections.per.ip.overrides", .string, ""),
        .init("max.connection.creation.rate", .int, "2147483647", .atLeast(0)),
        .init("num.network.threads", .int, "2", .atLeast(1)),
        .init("fetch.max.bytes", .int, "57671680", .atLeast(1024)),
        .init("queued.max.requests", .int, "500", .atLeast(1)),
        .init("shutdown.grace.ms", .long, "10000", .atLeast(0)),
        .init("producer.id.expiration.ms", .int, "86400000", .atLeast(1)),
        .init("transactional.id.expiration.ms", .int, "604800000", .atLeast(1)),
        // Group coordinator (Sources/Broker/Groups).
        .init("group.initial.rebalance.delay.ms", .int, "3000", .atLeast(0)),
        .init("group.min.session.timeout.ms", .int, "6000", .atLeast(0)),
        .init("group.max.session.timeout.ms", .int, "1800000", .atLeast(0)),
        .init("group.max.size", .int, "2147483647", .atLeast(1)),
        .init("offsets.topic.num.partitions", .int, "50", .atLeast(1)),
        .init("offsets.topic.segment.bytes", .int, "104857600", .atLeast(14)),
        .init("offsets.retention.minutes", .int, "10080", .atLeast(1)),
        .init("offsets.retention.check.interval.ms", .long, "600000", .atLeast(1)),
        .init("offset.metadata.max.bytes", .int, "4096", .atLeast(0)),
        // Security (issue 4): Kafka's names wherever Kafka has one.
        .init("listener.security.protocol.map", .list,
              "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL"),
        .init("authorizer.class.name", .string, ""),
        .init("super.users", .string, ""),
        .init("acls.policy.dir", .string, ""),
        .init("acls.api.enabled", .boolean, "true"),
        // Kafka's: allow what no rule on the resource covers (rollouts only; docs/policies.md).
        .init("allow.everyone.if.no.acl.found", .boolean, "false"),
        .init("ssl.keystore.type", .string, "PEM", .oneOf(["PEM"])),
        .init("ssl.keystore.location", .string, nil),
        .init("ssl.truststore.type", .string, "PEM", .oneOf(["PEM"])),
        .init("ssl.truststore.location", .string, nil),
        .init("ssl.client.auth", .string, "none", .oneOf(["none", "requested", "required"])),
        .init("ssl.principal.mapping.rules", .string, "DEFAULT"),
        .init("ssl.enabled.protocols", .list, "TLSv1.2,TLSv1.3", .listOf(["TLSv1.2", "TLSv1.3"])),
        .init("ssl.protocol", .string, "TLSv1.3", .oneOf(["TLS", "TLSv1.2", "TLSv1.3"])),
        .init("ssl.cipher.suites", .list, ""),
        .init("sasl.enabled.mechanisms", .list, "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
                    .listOf(["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"])),
        .init("sasl.server.max.receive.size", .int, "524288", .atLeast(512)),
        .init("connections.max.reauth.ms", .long, "0", .atLeast(0)),
        .init("sasl.oauthbearer.jwks.endpoint.url", .string, nil),
        .init("sasl.oauthbearer.expected.issuer", .string, nil),
        .init("sasl.oauthbearer.expected.audience", .list, nil),
        .init("sasl.oauthbearer.sub.claim.name", .string, "sub"),
        .init("sasl.oauthbearer.scope.claim.name", .string, "scope"),
        .init("sasl.oauthbearer.clock.skew.seconds", .int, "30", .atLeast(0)),
        // Failed logins per (source address, user) and per address (Kafka has only the fixed
        // delay). docs/security.md, "Hardening".
        .init("connection.failed.authentication.delay.ms", .long, "250", .atLeast(0)),
        .init("sasl.login.failures.free", .int, "3", .atLeast(0)),
        .init("sasl.login.failures.refuse", .int, "20", .atLeast(1)),
        .init("sasl.login.lockout.ms", .long, "60000", .atLeast(0)),
        .init("sasl.login.failures.address.delay", .int, "1000", .atLeast(1)),
        // The audit log (ours; Kafka has none).
        .init("audit.log.enable", .boolean, "true"),
        .init("audit.log.dir", .string, nil),
        .init("audit.log.max.bytes", .int, "104857600", .atLeast(4096)),
        .init("audit.log.max.files", .int, "10", .atLeast(1)),
        .init("audit.log.sync.interval.ms", .long, "1000", .atLeast(0)),
        .init("audit.log.allow.resources", .string, ""),
        // Schema registry (issue 6; Sources/Broker/Schemas). Empty listeners: no registry.
        .init("schema.registry.listeners", .list, ""),
        .init("schema.registry.authentication.method", .string, "NONE", .oneOf(["NONE", "BASIC"])),
        .init("schema.registry.schema.compatibility.level", .string, "backward"),
        // The draft of JSON schemas without `$schema` (Confluent's registry: draft 7).
        .init("schema.registry.json.schema.spec.version", .string, "draft_7"),
        // Tenant quotas (issue 5; Sources/Broker/Quotas): Kafka's window settings, and the
        // Prometheus metrics endpoint (ours). Empty metrics.listeners: no endpoint.
        .init("quota.window.num", .int, "11", .atLeast(2)),
        .init("quota.window.size.seconds", .int, "1", .atLeast(1)),
        .init("metrics.listeners", .list, ""),
        // The operator log (Sources/Broker/Core/BrokerLog.swift): Kafka's level names, and the
        // handler time above which a request is logged as slow (0: never).
        .init("log.level", .string, "info", .oneOf(LogLevel.allCases.map(\.name))),
        .init("log.slow.request.threshold.ms", .long, "1000", .atLeast(0)),
    ]

    /// Kafka settings accepted so that a stock server.properties loads, but with no effect here.
    public static let acceptedButIgnored: Set<String> = [
        "num.io.threads", "num.recovery.threads.per.data.dir", "process.roles", "controller.quorum.voters",
        "controller.quorum.bootstrap.servers", "controller.listener.names", "inter.broker.listener.name",
        "offsets.topic.replication.factor", "transaction.state.log.replication.factor",
        "transaction.state.log.min.isr", "share.coordinator.state.topic.replication.factor",
        "share.coordinator.state.topic.min.isr", "log.cleaner.enable", "log.cleaner.threads", "log.cleaner.dedupe.buffer.size",
        "num.replica.fetchers", "replica.lag.time.max.ms", "socket.listen.backlog.size",
        "ssl.endpoint.identification.algorithm", "sasl.mechanism.inter.broker.protocol",
        "security.inter.broker.protocol", "sasl.oauthbearer.jwks.endpoint.refresh.ms",
    ]

    public static let byName: [String: ConfigDefinition] = Dictionary(
        uniqueKeysWithValues: definitions.map { ($0.name, $0) })

    /// Properties that also take Kafka's per-listener form `listener.name.<listener>.<property>`
    /// (the listener name in lower case).
    public static let listenerScoped: Set<String> = ["max.connections", "max.connection.creation.rate"]

    /// `(listener, property)` of a `listener.name.<listener>.<property>` key whose property takes
    /// the per-listener form.
    static func splitListenerScoped(_ key: String) -> (listener: String, property: String)? {
        let prefix = "listener.name."
        guard key.hasPrefix(prefix) else { return nil }
        let rest = key.dropFirst(prefix.count)
        guard let dot = rest.firstIndex(of: ".") else { return nil }
        let property = String(rest[rest.index(after: dot)...])
        guard listenerScoped.contains(property) else { return nil }
        return (String(rest[..<dot]), property)
    }
}

/// The broker's static configuration: a Kafka-style properties file plus `--override` pairs,
/// validated up front so a typo stops the broker with the line that caused it.
public struct BrokerConfig: Sendable {
    /// Validated explicit settings (canonical form), keyed by property name.
    public private(set) var explicit: [String: String] = [:]

    public init() {}

    /// Parses Java-properties text. Errors name the line: "server.properties:12: unknown property 'x'".
    public static func parse(properties text: String, source: String = "properties") throws(ConfigError) -> BrokerConfig {
        var config = BrokerConfig()
        let properties: [JavaProperty]
        do { properties = try JavaProperties.parse(text) } catch { throw ConfigError(error.located(in: source)) }
        for property in properties {
            try config.set(property.key, property.value, location: "\(source):\(property.line)")
        }
        try config.checkConsistency()
        return config
    }

    /// Applies `key=value` overrides (the CLI's `--override`).
    public mutating func apply(overrides: [String]) throws(ConfigError) {
        for item in overrides {
            guard let eq = item.firstIndex(of: "=") else {
                throw ConfigError("--override \(item): expected key=value")
            }
            try set(String(item[..<eq]).trimmingCharacters(in: .whitespaces),
                    String(item[item.index(after: eq)...]), location: "--override \(item)")
        }
        try checkConsistency()
    }

    mutating func set(_ key: String, _ value: String, location: String) throws(ConfigError) {
        if BrokerConfigs.acceptedButIgnored.contains(key) { return }
        let scoped = BrokerConfigs.splitListenerScoped(key)
        guard let definition = BrokerConfigs.byName[scoped?.property ?? key] else {
            throw ConfigError("\(location): unknown property '\(key)'")
        }
        switch definition.validate(value) {
        case .success(let canonical): explicit[key] = canonical
        case .failure(let error): throw ConfigError("\(location): \(error.description)")
        }
    }

    func checkConsistency() throws(ConfigError) {
        for listener in listeners {
            if case .failure(let e) = ListenerSpec.parse(listener) { throw ConfigError("listeners: \(e.description)") }
        }
        for listener in advertisedListenerTexts {
            if case .failure(let e) = ListenerSpec.parse(listener) {
                throw ConfigError("advertised.listeners: \(e.description)")
            }
        }
        let map = try securityProtocolMap()
        for spec in listenerSpecs where map[spec.name] == nil {
            throw ConfigError("listeners: listener \(spec.name) has no entry in listener.security.protocol.map")
        }
        let names = Set(listenerSpecs.map { $0.name.lowercased() })
        for key in explicit.keys.sorted() {
            if let scoped = BrokerConfigs.splitListenerScoped(key), !names.contains(scoped.listener) {
                throw ConfigError("\(key): there is no listener named \(scoped.listener.uppercased()) in listeners")
            }
        }
        if case .failure(let error) = Self.parseConnectionOverrides(string("max.connections.per.ip.overrides") ?? "") {
            throw ConfigError("max.connections.per.ip.overrides: \(error.description)")
        }
    }

    /// `max.connections.per.ip.overrides`: comma-separated `address:count` (the last colon
    /// separates, so IPv6 addresses need no brackets; brackets are accepted and dropped).
    static func parseConnectionOverrides(_ text: String) -> Result<[String: Int], ConfigError> {
        var overrides: [String: Int] = [:]
        for item in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
            guard let colon = item.lastIndex(of: ":"), let count = Int(item[item.index(after: colon)...]), count >= 0
            else { return .failure(ConfigError("'\(item)' is not address:count")) }
            var host = String(item[..<colon])
            if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            guard !host.isEmpty else { return .failure(ConfigError("'\(item)' has no address")) }
            overrides[host] = count
        }
        return .success(overrides)
    }

    /// Kafka's connection limits as the network layer takes them (Kafka's defaults, the largest
    /// int, mean no limit).
    var connectionLimits: ConnectionLimitSettings {
        let unlimited = Int64(Int32.max)
        var settings = ConnectionLimitSettings()
        func limit(_ key: String) -> Int? { int64(key) < unlimited ? int(key) : nil }
        settings.maxConnections = limit("max.connections")
        settings.maxConnectionsPerIP = limit("max.connections.per.ip")
        settings.maxConnectionsPerIPOverrides = (try? Self.parseConnectionOverrides(
            string("max.connections.per.ip.overrides") ?? "").get()) ?? [:]
        settings.maxConnectionCreationRate = limit("max.connection.creation.rate").map(Double.init)
        for spec in listenerSpecs {
            let prefix = "listener.name.\(spec.name.lowercased())."
            if let value = explicit[prefix + "max.connections"].flatMap(Int.init) {
                settings.maxConnectionsPerListener[spec.name] = value
            }
            if let value = explicit[prefix + "max.connection.creation.rate"].flatMap(Double.init) {
                settings.maxConnectionCreationRatePerListener[spec.name] = value
            }
        }
        return settings
    }

    /// `listener.security.protocol.map`: listener name → security protocol.
    func securityProtocolMap() throws(ConfigError) -> [String: SecurityProtocol] {
        var map: [String: SecurityProtocol] = [:]
        for entry in (string("listener.security.protocol.map") ?? "").split(separator: ",") {
            let parts = entry.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, let proto = SecurityProtocol(rawValue: parts[1].uppercased()) else {
                throw ConfigError("listener.security.protocol.map: bad entry '\(entry)' "
                                  + "(expected NAME:PLAINTEXT|SSL|SASL_PLAINTEXT|SASL_SSL)")
            }
            map[parts[0].uppercased()] = proto
        }
        return map
    }

    /// The security protocol of a listener by name (validated at load, so always known).
    public func securityProtocol(ofListener name: String) -> SecurityProtocol {
        ((try? securityProtocolMap()) ?? [:])[name] ?? .plaintext
    }

    /// The effective value: explicit setting, else the definition's default.
    public func string(_ key: String) -> String? {
        explicit[key] ?? BrokerConfigs.byName[key]?.defaultValue
    }

    public func int64(_ key: String) -> Int64 { Int64(string(key) ?? "") ?? 0 }
    public func int(_ key: String) -> Int { Int(int64(key)) }
    public func bool(_ key: String) -> Bool { string(key) == "true" }
    public func isExplicit(_ key: String) -> Bool { explicit[key] != nil }

    public var nodeId: Int32 { Int32(explicit["node.id"].flatMap { Int32($0) } ?? explicit["broker.id"].flatMap { Int32($0) } ?? 1) }
    public var listeners: [String] { (string("listeners") ?? "").split(separator: ",").map(String.init) }
    var advertisedListenerTexts: [String] {
        (explicit["advertised.listeners"] ?? "").split(separator: ",").map(String.init)
    }

    public var listenerSpecs: [ListenerSpec] {
        listeners.compactMap { try? ListenerSpec.parse($0).get() }
    }

    /// Advertised endpoints: `advertised.listeners` when set, else the bound listeners
    /// (a wildcard host is advertised as 127.0.0.1 unless configured otherwise).
    public var advertisedSpecs: [ListenerSpec] {
        let texts = advertisedListenerTexts
        if !texts.isEmpty { return texts.compactMap { try? ListenerSpec.parse($0).get() } }
        return listenerSpecs.map { spec in
            var s = spec
            if s.host.isEmpty || s.host == "0.0.0.0" || s.host == "::" { s.host = "127.0.0.1" }
            return s
        }
    }

    public var logDirectory: String {
        if let dirs = explicit["log.dirs"], let first = dirs.split(separator: ",").first { return String(first) }
        return string("log.dir") ?? "./data"
    }

    /// Kafka's precedence for retention: ms, then minutes, then hours.
    public var retentionMs: Int64 {
        if let ms = explicit["log.retention.ms"] { return Int64(ms)! }
        if let minutes = explicit["log.retention.minutes"] {
            let m = Int64(minutes)!
            return m < 0 ? -1 : m * 60_000
        }
        let h = int64("log.retention.hours")
        return h < 0 ? -1 : h * 3_600_000
    }

    public var rollMs: Int64 {
        if let ms = explicit["log.roll.ms"] { return Int64(ms)! }
        return int64("log.roll.hours") * 3_600_000
    }

    /// The broker-level value that backs a topic config (its synonym), if set or defaulted.
    public func topicDefault(for definition: ConfigDefinition) -> (value: String, source: ConfigSource) {
        guard let synonym = definition.brokerSynonym else { return (definition.defaultValue ?? "", .default) }
        switch synonym {
        case "log.retention.ms":
            let explicitSet = explicit["log.retention.ms"] != nil || explicit["log.retention.minutes"] != nil
                || explicit["log.retention.hours"] != nil
            return (String(retentionMs), explicitSet ? .staticBroker : .default)
        case "log.roll.ms":
            let explicitSet = explicit["log.roll.ms"] != nil || explicit["log.roll.hours"] != nil
            return (String(rollMs), explicitSet ? .staticBroker : .default)
        default:
            if let v = explicit[synonym] { return (v, .staticBroker) }
            return (definition.defaultValue ?? "", .default)
        }
    }
}
