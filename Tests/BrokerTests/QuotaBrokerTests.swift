// Tenant quotas through a real broker and the SASL path: connection admission at authentication
// success, throttle_time_ms on Produce.
import Foundation
import KafkaClient
import KafkaProtocol
import Testing
@testable import Broker

@Suite(.serialized) struct QuotaBrokerTests {
    static func broker(_ tenants: String) throws -> SecuredBroker {
        try SecuredBroker(policy: "", authorizer: false) { data in
            try tenants.write(toFile: data + "/../policies/q.tenants", atomically: true, encoding: .utf8)
        }
    }

    @Test func connectionLimitRefusesAtAuthenticationAndFreesOnClose() throws {
        let b = try Self.broker("tenant t\n  member User:alice\n  quota connections 2\n")
        var first: KafkaConnection? = try b.connect("alice")
        #expect(first != nil)
        let second = try b.connect("alice")
        #expect(throws: (any Error).self) { _ = try b.connect("alice") }
        #expect(b.broker.quotas.openConnections(ofTenant: "t") == 2)
        _ = try b.connect("bob")  // outside every tenant: not counted
        first = nil  // closes the socket
        #expect(waitUntil { b.broker.quotas.openConnections(ofTenant: "t") == 1 })
        _ = try b.connect("alice")
        _ = second
    }

    @Test func produceOverTheByteRateIsAnsweredWithThrottleTime() throws {
        let b = try Self.broker("tenant t\n  member User:alice\n  quota produce-byte-rate 2000\n")
        let alice = try b.connect("alice")
        var create = CreateTopicsRequest()
        var topic = CreateTopicsRequest.CreatableTopic()
        topic.name = "q"
        topic.numPartitions = 1
        topic.replicationFactor = -1
        create.topics = [topic]
        let created: CreateTopicsResponse = try alice.roundTrip(create)
        #expect(created.topics.first?.errorCode == 0)
        #expect(b.broker.metadata.topic("__tenant.t.q") != nil)  // in the tenant's namespace
        // Each request answers at once; after a throttled one the connection is not read until the
        // throttle has passed (KIP-219), so the next answer comes no earlier.
        var throttle: Int32 = 0
        var answeredAt: Int64 = 0
        for _ in 0..<6 where throttle == 0 {
            let response: ProduceResponse = try alice.roundTrip(produceRequest(["q"], batch: try testBatch(count: 50)))
            #expect(errorsByTopic(response) == ["q": 0])
            throttle = response.throttleTimeMs
            answeredAt = monotonicMs()
        }
        #expect(throttle > 0)
        let _: ProduceResponse = try alice.roundTrip(produceRequest(["q"], batch: try testBatch(count: 1)))
        #expect(monotonicMs() - answeredAt >= Int64(throttle) - 5)
        #expect(b.broker.quotas.usage(ofTenant: "t", now: Int64(SystemClock.monotonicNs() / 1_000_000)).throttleTimeMs > 0)
    }
}
