// Tenants in the broker: the translation layer (`TenantScope`) and the guard behind it
// (`RequestAccess`), the tenants file at start (a bad one stops the broker with file and line; a
// super user may not be a member) and its hot reload (a broken file keeps the tenants in force).
import Foundation
import Security
import Testing
@testable import Broker

struct TenantBrokerTests {
    static func context(_ tenant: String?, principal: String = "User:x") -> RequestContext {
        var context = RequestContext(apiKey: 3, apiVersion: 12, correlationId: 1, clientId: "t")
        context.principal = principal
        context.tenant = tenant.map { TenantNamespace(tenant: $0) }
        context.tenancy = true
        return context
    }

    @Test func scopeMapsInAndOutAndIsTheIdentityWithoutATenant() {
        let none = TenantScope(Self.context(nil))
        #expect(none.topic("orders") == "orders" && none.group("g") == "g" && none.local("__tenant.a.x") == "__tenant.a.x")
        #expect(none.visible("__tenant.a.x"))
        let a = TenantScope(Self.context("team-a"))
        #expect(a.topic("orders") == "__tenant.team-a.orders")
        #expect(a.local("__tenant.team-a.orders") == "orders")
        #expect(!a.visible("__tenant.team-b.orders") && !a.visible("orders"))
        #expect(a.group("g-🚀") == "__tenant.team-a.g-🚀")
        #expect(a.message("Topic '__tenant.team-a.orders' already exists.") == "Topic 'orders' already exists.")
        // The empty id and ids too long for their prefix become the empty id, refused everywhere.
        #expect(a.group("") == "")
        #expect(a.group(String(repeating: "g", count: 32_760)) == "")
        if case .failure(let error) = a.newTopic(String(repeating: "t", count: 240)) {
            #expect(!error.message.contains("__tenant"))
        } else {
            Issue.record("a 240-character topic fits after the prefix")
        }
    }

    @Test func accessKeepsMembersInTheirNamespaceAndOthersOutOfTheReservedForm() throws {
        let secured = try SecuredBroker(policy: "allow User:alice all topic:*\nallow User:bob all topic:*\n")
        try "tenant team-a\n  member User:alice\n".write(toFile: secured.policyDirectory + "/t.tenants",
                                                         atomically: true, encoding: .utf8)
        secured.security.reload(now: Int64(1) << 50)
        #expect(secured.security.tenants.tenant(for: "User:alice")?.name == "team-a")
        let alice = RequestAccess(secured.security, Self.context("team-a", principal: "User:alice"))
        #expect(alice.allowsTopic(.read, "__tenant.team-a.orders", quiet: true))
        #expect(!alice.allowsTopic(.read, "__tenant.team-b.orders", quiet: true))
        #expect(!alice.allowsTopic(.read, "orders", quiet: true))
        #expect(!alice.allowsEverything)
        let bob = RequestAccess(secured.security, Self.context(nil, principal: "User:bob"))
        #expect(bob.allowsTopic(.read, "orders", quiet: true))
        #expect(!bob.allowsTopic(.read, "__tenant.team-a.orders", quiet: true))
        #expect(!bob.allowsTopic(.read, "__consumer_offsets", quiet: true))
        #expect(!bob.mayName("__tenant.team-a.g") && bob.mayName("g"))
        let admin = RequestAccess(secured.security, Self.context(nil, principal: "User:admin"))
        #expect(admin.allowsTopic(.read, "__tenant.team-a.orders", quiet: true) && admin.mayName("__tenant.team-a.g"))
    }

    @Test func metricsNameTheFingerprintOfThePolicyFilesInForce() throws {
        let policy = "allow User:alice read topic:x\n"
        let secured = try SecuredBroker(policy: policy)
        let expected = PolicyFingerprint.of([("main.acl", policy)])
        #expect(expected.count == 64 && expected != PolicyFingerprint.of([("other.acl", policy)]))
        #expect(secured.broker.prometheusMetrics().contains("sluice_policy_files_info{kind=\"acl\",sha256=\"\(expected)\"} 1"))
        #expect(secured.broker.prometheusMetrics().contains(
            "sluice_policy_files_info{kind=\"tenants\",sha256=\"\(PolicyFingerprint.of([]))\"} 1"))
        // A changed file, once reloaded, shows as a new fingerprint.
        let changed = policy + "allow User:bob read topic:x\n"
        try secured.writePolicy(changed)
        secured.security.reload(now: Int64(1) << 50)
        #expect(secured.broker.prometheusMetrics().contains(PolicyFingerprint.of([("main.acl", changed)])))
    }

    @Test func aBrokenTenantsFileStopsTheStartAndKeepsTheSetOnReload() throws {
        #expect(throws: (any Error).self) {
            _ = try SecuredBroker(policy: "allow User:alice read topic:x\n") { data in
                let policies = (data as NSString).deletingLastPathComponent + "/policies"
                try "tenant ops\n  member User:admin\n".write(toFile: policies + "/t.tenants", atomically: true, encoding: .utf8)
            }
        }
        let secured = try SecuredBroker(policy: "allow User:alice read topic:x\n") { data in
            let policies = (data as NSString).deletingLastPathComponent + "/policies"
            try "tenant team-a\n  member User:alice\n".write(toFile: policies + "/t.tenants", atomically: true, encoding: .utf8)
        }
        #expect(secured.security.tenants.tenants.map(\.name) == ["team-a"])
        let path = secured.policyDirectory + "/t.tenants"
        try "tenant team-a\n  member User:alice\n  quota topics many\n".write(toFile: path, atomically: true, encoding: .utf8)
        secured.security.reload(now: (Int64(1) << 50) + 1_000)
        #expect(secured.security.tenants.tenant(for: "User:alice")?.name == "team-a")
        #expect(secured.security.watch.withLock { $0.tenantErrorReported }?.contains("t.tenants:3: bad value 'many'") == true)
        try "tenant team-b\n  member User:alice\n".write(toFile: path, atomically: true, encoding: .utf8)
        secured.security.reload(now: (Int64(1) << 50) + 2_000)
        #expect(secured.security.tenants.tenant(for: "User:alice")?.name == "team-b")
        #expect(secured.security.watch.withLock { $0.tenantErrorReported } == nil)
    }
}
