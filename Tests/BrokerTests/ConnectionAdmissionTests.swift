// Kafka's connection limits as the acceptor applies them (sans-I/O core): per-address counts close
// at once and give places back on release, broker-wide and listener counts pause accepting, and
// creation rates pause for exactly the time a token takes; the properties parse Kafka's way.
import Testing
@testable import Broker

@Suite struct ConnectionAdmissionTests {
    @Test func perAddressLimitRefusesOnlyThatAddressAndReleasesPlaces() {
        var settings = ConnectionLimitSettings()
        settings.maxConnectionsPerIP = 2
        settings.maxConnectionsPerIPOverrides = ["10.0.0.9": 3]
        var core = ConnectionAdmissionCore(settings: settings, nowMs: 0)
        #expect(core.admit(listener: "SASL_SSL", host: "10.0.0.1", nowMs: 0) == nil)
        #expect(core.admit(listener: "SASL_SSL", host: "10.0.0.1", nowMs: 0) == nil)
        #expect(core.admit(listener: "SASL_SSL", host: "10.0.0.1", nowMs: 0) == .perIP)
        #expect(core.admit(listener: "SASL_SSL", host: "10.0.0.2", nowMs: 0) == nil)
        for _ in 0..<3 { #expect(core.admit(listener: "SASL_SSL", host: "10.0.0.9", nowMs: 0) == nil) }
        #expect(core.admit(listener: "SASL_SSL", host: "10.0.0.9", nowMs: 0) == .perIP)
        core.release(listener: "SASL_SSL", host: "10.0.0.1")
        #expect(core.openConnections(from: "10.0.0.1") == 1)
        #expect(core.admit(listener: "SASL_SSL", host: "10.0.0.1", nowMs: 0) == nil)
        #expect(core.refused[.perIP] == 2 && core.openConnections == 6)
    }

    @Test func countLimitsPauseAcceptingUntilAPlaceIsFree() {
        var settings = ConnectionLimitSettings()
        settings.maxConnections = 3
        settings.maxConnectionsPerListener = ["PLAINTEXT": 1]
        var core = ConnectionAdmissionCore(settings: settings, nowMs: 0)
        #expect(core.acceptWait(listener: "PLAINTEXT", nowMs: 0) == nil)
        _ = core.admit(listener: "PLAINTEXT", host: "a", nowMs: 0)
        #expect(core.acceptWait(listener: "PLAINTEXT", nowMs: 0)?.reason == .maxConnections)
        #expect(core.acceptWait(listener: "SSL", nowMs: 0) == nil)
        _ = core.admit(listener: "SSL", host: "a", nowMs: 0)
        _ = core.admit(listener: "SSL", host: "b", nowMs: 0)
        #expect(core.acceptWait(listener: "SSL", nowMs: 0)?.reason == .maxConnections)
        core.release(listener: "SSL", host: "b")
        #expect(core.acceptWait(listener: "SSL", nowMs: 0) == nil)
    }

    @Test func creationRateWaitsForTheNextToken() {
        var settings = ConnectionLimitSettings()
        settings.maxConnectionCreationRate = 10
        settings.maxConnectionCreationRatePerListener = ["SSL": 2]
        var core = ConnectionAdmissionCore(settings: settings, nowMs: 0)
        for _ in 0..<10 {
            #expect(core.acceptWait(listener: "PLAINTEXT", nowMs: 0) == nil)
            _ = core.admit(listener: "PLAINTEXT", host: "a", nowMs: 0)
        }
        // A second's burst is spent: the next token comes in 100 ms.
        let wait = core.acceptWait(listener: "PLAINTEXT", nowMs: 0)
        #expect(wait?.ms == 100 && wait?.reason == .creationRate)
        #expect(core.acceptWait(listener: "PLAINTEXT", nowMs: 100) == nil)
        // The listener's own rate is stricter.
        var other = ConnectionAdmissionCore(settings: settings, nowMs: 0)
        _ = other.admit(listener: "SSL", host: "a", nowMs: 0)
        _ = other.admit(listener: "SSL", host: "a", nowMs: 0)
        #expect(other.acceptWait(listener: "SSL", nowMs: 0)?.ms == 500)
    }

    @Test func propertiesParseKafkasWayAndNameTheirErrors() throws {
        var config = BrokerConfig()
        try config.apply(overrides: [
            "listeners=PLAINTEXT://127.0.0.1:0,SASL_SSL://127.0.0.1:0",
            "max.connections.per.ip=100", "max.connections.per.ip.overrides=10.1.1.1:500,[::1]:7",
            "listener.name.sasl_ssl.max.connections=50", "listener.name.plaintext.max.connection.creation.rate=5",
        ])
        let limits = config.connectionLimits
        #expect(limits.maxConnectionsPerIP == 100 && limits.maxConnections == nil)
        #expect(limits.maxConnectionsPerIPOverrides == ["10.1.1.1": 500, "::1": 7])
        #expect(limits.maxConnectionsPerListener == ["SASL_SSL": 50])
        #expect(limits.maxConnectionCreationRatePerListener == ["PLAINTEXT": 5])
        #expect(BrokerConfig().connectionLimits.isUnlimited)
        var bad = BrokerConfig()
        #expect(throws: ConfigError.self) { try bad.apply(overrides: ["max.connections.per.ip.overrides=host"]) }
        #expect(throws: ConfigError.self) { try bad.apply(overrides: ["listener.name.ssl.max.connections=1"]) }
        #expect(throws: ConfigError.self) { try bad.apply(overrides: ["listener.name.plaintext.max.connections=-1"]) }
    }
}
