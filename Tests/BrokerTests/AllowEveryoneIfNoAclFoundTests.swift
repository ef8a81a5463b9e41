// `allow.everyone.if.no.acl.found=true` through the real request path: the property reaches the
// authorizer, and each request it alone allows is handed to the audit hook with its own reason,
// without `audit.log.allow.resources` selecting it.
import Foundation
import KafkaClient
import KafkaProtocol
import Security
import Synchronization
import Testing
@testable import Broker

@Suite(.serialized) struct AllowEveryoneIfNoAclFoundTests {
    @Test func fallbackAllowsAreAuditedWithTheirReason() throws {
        let b = try SecuredBroker(policy: "allow User:alice write topic:orders",
                                  overrides: ["allow.everyone.if.no.acl.found=true"])
        try b.createTopics("orders", "free")
        final class EventLog: Sendable { let events = Mutex<[SecurityAuditEvent]>([]) }
        let log = EventLog()
        b.security.setAuditSink { event in log.events.withLock { $0.append(event) } }
        let bob = try b.connect("bob")
        let free: ProduceResponse = try bob.roundTrip(produceRequest(["free"], batch: try testBatch()))
        #expect(errorsByTopic(free) == ["free": 0])
        let orders: ProduceResponse = try bob.roundTrip(produceRequest(["orders"], batch: try testBatch()))
        #expect(errorsByTopic(orders) == ["orders": KafkaError.topicAuthorizationFailed.rawValue])
        let alice = try b.connect("alice")
        let owned: ProduceResponse = try alice.roundTrip(produceRequest(["orders"], batch: try testBatch()))
        #expect(errorsByTopic(owned) == ["orders": 0])
        let decisions = log.events.withLock { $0 }.compactMap { event -> String? in
            guard case .authorization(let who, let operation, let resource, let decision) = event else { return nil }
            return "\(who.principal) \(operation.name) \(resource) \(decision.allowed) \(decision.reason)"
        }
        // Alice's allow by her rule is not recorded (no audit.log.allow.resources); the fallback is.
        #expect(decisions == ["User:bob write topic:free true \(Decision.noAclFoundReason)",
                              "User:bob write topic:orders false \(Decision.noMatchReason)"])
        #expect(log.events.withLock { $0.first }?.auditEvent.rule == "no-acl-found")
    }
}
