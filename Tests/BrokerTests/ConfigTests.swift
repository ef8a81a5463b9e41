// Broker configuration: Kafka-style properties parsing with line-numbered errors, validation of
// broker and topic keys, and the precedence of topic overrides over broker defaults.
import KafkaClient
import Properties
import Testing
@testable import Broker

@Suite struct ConfigTests {
    @Test func parsesPropertiesWithCommentsContinuationsAndSeparators() throws {
        let text = """
            # a comment
            ! another
            num.partitions=3
            log.dirs : /tmp/a,/tmp/b
            listeners PLAINTEXT://0.0.0.0:9093
            log.retention.ms = \\
                1000
            """
        let config = try BrokerConfig.parse(properties: text, source: "s.properties")
        #expect(config.int("num.partitions") == 3)
        #expect(config.logDirectory == "/tmp/a")
        #expect(config.listenerSpecs == [ListenerSpec(name: "PLAINTEXT", host: "0.0.0.0", port: 9093)])
        #expect(config.advertisedSpecs.first?.host == "127.0.0.1")
        #expect(config.retentionMs == 1000)
        let crlf = try BrokerConfig.parse(properties: "num.partitions=4\r\nlog.retention.ms=5\r\n", source: "dos.properties")
        #expect(crlf.int("num.partitions") == 4 && crlf.retentionMs == 5)
    }

    @Test func clientCommandConfigReadsJavaPropertiesLikeTheBroker() throws {
        // Kafka's client.properties shape: a multi-line sasl.jaas.config, an escaped ':' in a
        // value, `key value` separators and CRLF line ends.
        let text = "security.protocol SASL_SSL\r\n"
            + "sasl.mechanism=SCRAM-SHA-256\r\n"
            + "ssl.truststore.location=/certs/ca\\:1.pem\r\n"
            + "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required \\\r\n"
            + "    username=\"team-a-app\" \\\r\n"
            + "    password=\"team-a-app-secret\";\r\n"
        let security = try ClientSecurity.parse(properties: text, source: "client.properties")
        #expect(security.protocolName == "SASL_SSL" && security.mechanism == "SCRAM-SHA-256")
        #expect(security.caFile == "/certs/ca:1.pem")
        #expect(security.username == "team-a-app" && security.password == "team-a-app-secret")
        #expect(throws: ClientError.self) { try ClientSecurity.parse(properties: "a=b\njust-a-key\n", source: "c") }
        #expect(throws: JavaPropertiesError(line: 2, reason: "expected key=value, got 'just-a-key'")) {
            try JavaProperties.parse("a=b\njust-a-key\n")
        }
    }

    @Test func unknownPropertyNamesTheLine() {
        #expect(throws: ConfigError("s.properties:2: unknown property 'log.retention.wrong'")) {
            try BrokerConfig.parse(properties: "num.partitions=1\nlog.retention.wrong=5\n", source: "s.properties")
        }
    }

    @Test func malformedValuesNameTheLine() {
        do {
            _ = try BrokerConfig.parse(properties: "\n\nmessage.max.bytes=big\n", source: "f")
            Issue.record("expected an error")
        } catch {
            #expect(error.description.hasPrefix("f:3: Invalid value big for configuration message.max.bytes"))
        }
        #expect(throws: ConfigError.self) { try BrokerConfig.parse(properties: "just-a-key\n", source: "f") }
        #expect(throws: ConfigError.self) {
            try BrokerConfig.parse(properties: "auto.create.topics.enable=maybe\n", source: "f")
        }
    }

    @Test func overridesApplyAndAreValidated() throws {
        var config = BrokerConfig()
        try config.apply(overrides: ["num.partitions=4", "auto.create.topics.enable=true"])
        #expect(config.int("num.partitions") == 4)
        #expect(config.bool("auto.create.topics.enable"))
        #expect(throws: ConfigError.self) { try config.apply(overrides: ["num.partitions"]) }
        #expect(throws: ConfigError.self) { try config.apply(overrides: ["num.partitions=0"]) }
    }

    @Test func retentionPrecedenceMsOverMinutesOverHours() throws {
        #expect(BrokerConfig().retentionMs == 168 * 3_600_000)
        var c = BrokerConfig()
        try c.apply(overrides: ["log.retention.hours=1"])
        #expect(c.retentionMs == 3_600_000)
        try c.apply(overrides: ["log.retention.minutes=2"])
        #expect(c.retentionMs == 120_000)
        try c.apply(overrides: ["log.retention.ms=5"])
        #expect(c.retentionMs == 5)
    }

    @Test func topicConfigsResolveThroughBrokerDefaults() throws {
        var broker = BrokerConfig()
        try broker.apply(overrides: ["log.segment.bytes=1048576", "message.max.bytes=2000"])
        let resolver = ConfigResolver(broker: broker, dynamicBroker: ["log.retention.bytes": "99"])
        let segment = resolver.topicConfig(TopicConfigs.byName["segment.bytes"]!, overrides: [:])
        #expect(segment.value == "1048576" && segment.source == .staticBroker)
        let retention = resolver.topicConfig(TopicConfigs.byName["retention.bytes"]!, overrides: [:])
        #expect(retention.value == "99" && retention.source == .dynamicDefaultBroker)
        let overridden = resolver.topicConfig(TopicConfigs.byName["max.message.bytes"]!,
                                              overrides: ["max.message.bytes": "5"])
        #expect(overridden.value == "5" && overridden.source == .dynamicTopic)
        #expect(overridden.synonyms.map(\.source) == [.dynamicTopic, .staticBroker, .default])
        #expect(resolver.logConfig(overrides: [:]).segmentBytes == 1_048_576)
        #expect(resolver.producePolicy(overrides: ["message.timestamp.type": "LogAppendTime"]).logAppendTime)
    }

    @Test func topicConfigValidation() throws {
        let policy = TopicConfigs.byName["cleanup.policy"]!
        #expect(try policy.validate("compact, delete").get() == "compact,delete")
        #expect((try? policy.validate("shred").get()) == nil)
        #expect((try? TopicConfigs.byName["min.cleanable.dirty.ratio"]!.validate("1.5").get()) == nil)
        #expect((try? TopicConfigs.byName["segment.bytes"]!.validate("13").get()) == nil)
        #expect((try? TopicConfigs.byName["compression.type"]!.validate("brotli").get()) == nil)
    }

    @Test func incrementalChangesValidateEveryKeyFirst() {
        let changes = [ConfigChange(name: "retention.ms", operation: .set, value: "10"),
                       ConfigChange(name: "cleanup.policy", operation: .append, value: "compact")]
        let next = try? Broker.applyChanges(changes, to: [:], definitions: TopicConfigs.byName,
                                            unknownMessage: "Unknown").get()
        #expect(next == ["retention.ms": "10", "cleanup.policy": "delete,compact"])
        let bad = Broker.applyChanges([ConfigChange(name: "retention.ms", operation: .append, value: "1")],
                                      to: [:], definitions: TopicConfigs.byName, unknownMessage: "Unknown")
        #expect((try? bad.get()) == nil)
    }

    @Test func topicNames() {
        #expect(TopicName.validate("orders.v1_a-b") == nil)
        #expect(TopicName.validate("") != nil)
        #expect(TopicName.validate("..") != nil)
        #expect(TopicName.validate("a b") != nil)
        #expect(TopicName.validate(String(repeating: "x", count: 250)) != nil)
    }

    @Test func listenerParsing() throws {
        #expect(try ListenerSpec.parse("PLAINTEXT://[::1]:9092").get() == ListenerSpec(name: "PLAINTEXT", host: "::1", port: 9092))
        #expect((try? ListenerSpec.parse("PLAINTEXT://host").get()) == nil)
        #expect((try? ListenerSpec.parse("host:9092").get()) == nil)
        #expect((try? ListenerSpec.parse("PLAINTEXT://h:99999").get()) == nil)
    }
}
