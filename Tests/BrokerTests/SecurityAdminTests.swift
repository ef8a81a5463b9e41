// The security admin APIs (CreateAcls/DescribeAcls/DeleteAcls, Describe/AlterUserScramCredentials),
// hot reload of the policy and credential files, and the audit hook.
import Foundation
import KafkaClient
import KafkaProtocol
import Security
import Synchronization
import Testing
@testable import Broker

@Suite(.serialized) struct SecurityAdminTests {
    @Test func aclApisManageTheApiRuleSetBesideThePolicyFiles() throws {
        let b = try SecuredBroker(policy: """
            allow User:alice describe cluster
            allow User:carol alter cluster
            allow User:bob read topic:news. prefixed
            """)
        try b.createTopics("orders")
        let bob = try b.connect("bob")
        #expect((try bob.roundTrip(metadataRequest(["orders"])) as MetadataResponse).topics[0].errorCode == topicDenied)

        // Alter on the cluster creates; a bad binding fails alone with INVALID_REQUEST.
        let carol = try b.connect("carol")
        var request = createAcl(principal: "User:bob", topic: "orders", operation: .read)
        var bad = request.creations[0]
        bad.principal = "bob"
        request.creations.append(bad)
        let created: CreateAclsResponse = try carol.roundTrip(request)
        #expect(created.results.map(\.errorCode) == [0, KafkaError.invalidRequest.rawValue])
        #expect(created.results[1].errorMessage?.contains("bob") == true)
        // In force at once, and on disk.
        #expect((try bob.roundTrip(metadataRequest(["orders"])) as MetadataResponse).topics[0].errorCode == 0)
        let onDisk = try String(contentsOfFile: b.dataDirectory + "/acls-api", encoding: .utf8)
        #expect(onDisk.contains("@1 allow User:bob read topic:orders"))
        // Creating it again changes nothing.
        #expect((try carol.roundTrip(request) as CreateAclsResponse).results[0].errorCode == 0)
        #expect(try ApiAclSet.load(dataDirectory: b.dataDirectory).get().entries.count == 1)

        // DescribeAcls lists file and API rules, grouped by resource pattern.
        let alice = try b.connect("alice")
        let all: DescribeAclsResponse = try alice.roundTrip(describeAllAcls())
        #expect(all.errorCode == 0)
        let listed = all.resources.map { "\($0.resourceType):\($0.resourceName):\($0.patternType):\($0.acls.count)" }
        #expect(listed == ["4:kafka-cluster:3:2", "2:news.:4:1", "2:orders:3:1"])
        var byPrincipal = describeAllAcls()
        byPrincipal.principalFilter = "User:bob"
        byPrincipal.resourceTypeFilter = AclResourceType.topic.rawValue
        byPrincipal.resourceNameFilter = "news.today"
        byPrincipal.patternTypeFilter = AclPatternType.match.rawValue
        let matching: DescribeAclsResponse = try alice.roundTrip(byPrincipal)
        #expect(matching.resources.map(\.resourceName) == ["news."])
        // v0 knows only LITERAL patterns.
        var literal = DescribeAclsRequest()
        literal.resourceTypeFilter = 1
        literal.resourceNameFilter = nil
        literal.principalFilter = nil
        literal.hostFilter = nil
        literal.operation = 1
        literal.permissionType = 1
        let v0: DescribeAclsResponse = try alice.roundTrip(literal, version: 0)
        #expect(v0.resources.map(\.resourceName) == ["kafka-cluster", "orders"])
        var unknown = describeAllAcls()
        unknown.operation = 0
        #expect((try alice.roundTrip(unknown) as DescribeAclsResponse).errorCode == KafkaError.invalidRequest.rawValue)

        // Without Describe/Alter on the cluster: CLUSTER_AUTHORIZATION_FAILED.
        #expect((try bob.roundTrip(describeAllAcls()) as DescribeAclsResponse).errorCode == clusterDenied)
        #expect((try alice.roundTrip(request) as CreateAclsResponse).results.map(\.errorCode) == [clusterDenied, clusterDenied])

        // DeleteAcls: a filter reaching a policy-file rule fails whole and deletes nothing.
        func deleteFilter(principal: String?) -> DeleteAclsRequest.DeleteAclsFilter {
            var f = DeleteAclsRequest.DeleteAclsFilter()
            f.resourceTypeFilter = AclResourceType.topic.rawValue
            f.resourceNameFilter = nil
            f.patternTypeFilter = AclPatternType.any.rawValue
            f.principalFilter = principal
            f.hostFilter = nil
            f.operation = AclOperation.read.rawValue
            f.permissionType = AclPermission.allow.rawValue
            return f
        }
        var delete = DeleteAclsRequest()
        delete.filters = [deleteFilter(principal: nil)]
        let refused: DeleteAclsResponse = try carol.roundTrip(delete)
        #expect(refused.filterResults[0].errorCode == KafkaError.policyViolation.rawValue)
        #expect(refused.filterResults[0].errorMessage?.contains("main.acl:3") == true)
        #expect(refused.filterResults[0].errorMessage?.contains("cannot be deleted through the API") == true)
        #expect(b.security.authorizer.apiAcls.entries.count == 1)
        #expect((try alice.roundTrip(delete) as DeleteAclsResponse).filterResults[0].errorCode == clusterDenied)

        var exact = deleteFilter(principal: "User:bob")
        exact.resourceNameFilter = "orders"
        delete.filters = [exact]
        let deleted: DeleteAclsResponse = try carol.roundTrip(delete)
        #expect(deleted.filterResults[0].errorCode == 0)
        #expect(deleted.filterResults[0].matchingAcls.map { "\($0.principal) \($0.resourceName) \($0.operation)" }
            == ["User:bob orders 3"])
        #expect((try bob.roundTrip(metadataRequest(["orders"])) as MetadataResponse).topics[0].errorCode == topicDenied)
        #expect(try ApiAclSet.load(dataDirectory: b.dataDirectory).get().entries.isEmpty)
    }

    @Test func switchedOffApiRulesAreIgnoredAndTheirApisRefused() throws {
        let b = try SecuredBroker(policy: "allow User:alice describe cluster", overrides: ["acls.api.enabled=false"]) {
            var set = ApiAclSet()
            set.create([AclRule(.allow, "User:bob", .describe, AclResourcePattern(.topic, "orders"))])
            try set.save(dataDirectory: $0)
        }
        try b.createTopics("orders")
        // The API rule exists on disk but is not in force, and not listed.
        let bob = try b.connect("bob")
        #expect((try bob.roundTrip(metadataRequest(["orders"])) as MetadataResponse).topics[0].errorCode == topicDenied)
        let listed: DescribeAclsResponse = try b.connect("alice").roundTrip(describeAllAcls())
        #expect(listed.resources.map(\.resourceName) == ["kafka-cluster"])
        // Even the super user gets an authorization error that says why.
        let admin = try b.connect("admin")
        let created: CreateAclsResponse = try admin.roundTrip(createAcl(principal: "User:bob", topic: "x"))
        #expect(created.results[0].errorCode == clusterDenied)
        #expect(created.results[0].errorMessage?.contains("acls.api.enabled=false") == true)
        var delete = DeleteAclsRequest()
        var filter = DeleteAclsRequest.DeleteAclsFilter()
        filter.resourceTypeFilter = 1
        filter.patternTypeFilter = 1
        filter.operation = 1
        filter.permissionType = 1
        delete.filters = [filter]
        let deleted: DeleteAclsResponse = try admin.roundTrip(delete)
        #expect(deleted.filterResults[0].errorCode == clusterDenied)
        #expect(try ApiAclSet.load(dataDirectory: b.dataDirectory).get().entries.count == 1)
    }

    @Test func scramCredentialApisDescribeAlterPersistAndApplyToTheNextLogin() throws {
        let b = try SecuredBroker(policy: "allow User:alice describe cluster\nallow User:bob alter cluster")
        let alice = try b.connect("alice")
        let everyone = try describeScram(alice, nil)
        #expect(everyone.errorCode == 0 && everyone.results.map(\.user) == SecuredBroker.users.sorted())
        #expect(everyone.results[0].credentialInfos.map { "\($0.mechanism)/\($0.iterations)" } == ["1/4096", "2/4096"])
        let some = try describeScram(alice, ["alice", "nobody", "bob", "bob"])
        #expect(some.results.map(\.user) == ["alice", "nobody", "bob"])
        #expect(some.results.map(\.errorCode) == [0, KafkaError.resourceNotFound.rawValue,
                                                  KafkaError.duplicateResource.rawValue])
        let refused = try describeScram(try b.connect("carol"), ["alice"])
        #expect(refused.errorCode == clusterDenied && refused.results.map(\.errorCode) == [clusterDenied])

        var alter = AlterUserScramCredentialsRequest()
        alter.upsertions = [scramUpsertion("dave", .sha256, "dave-pw"), scramUpsertion("erin", .sha256, "x", iterations: 1000),
                            scramUpsertion("frank", .sha256, "x", mechanismType: 0), scramUpsertion("gina", .sha256, "x")]
        alter.deletions = [scramDeletion("alice", 2), scramDeletion("nobody", 1), scramDeletion("gina", 1)]
        let altered: AlterUserScramCredentialsResponse = try b.connect("bob").roundTrip(alter)
        let codes = Dictionary(uniqueKeysWithValues: altered.results.map { ($0.user, $0.errorCode) })
        #expect(codes == ["dave": 0, "erin": KafkaError.unacceptableCredential.rawValue,
                          "frank": KafkaError.unsupportedSaslMechanism.rawValue, "alice": 0,
                          "nobody": KafkaError.resourceNotFound.rawValue, "gina": KafkaError.duplicateResource.rawValue])
        // Effective for the next login, and persisted.
        _ = try b.connect("dave", password: "dave-pw", mechanism: "SCRAM-SHA-256")
        _ = try b.connect("alice", mechanism: "SCRAM-SHA-256")
        #expect(throws: ClientError.self) { _ = try b.connect("alice", mechanism: "SCRAM-SHA-512") }
        let stored = try CredentialStore.load(dataDirectory: b.dataDirectory)
        #expect(stored.describe(user: "dave")?.map(\.mechanism) == [.sha256])
        #expect(stored.describe(user: "alice")?.map(\.mechanism) == [.sha256])
        #expect(stored.describe(user: "gina") == nil && stored.describe(user: "erin") == nil)

        let denied: AlterUserScramCredentialsResponse = try b.connect("carol").roundTrip(alter)
        #expect(denied.results.map(\.user) == ["alice", "dave", "erin", "frank", "gina", "nobody"])
        #expect(Set(denied.results.map(\.errorCode)) == [clusterDenied])
    }

    @Test func validPolicyChangeTakesEffectOnTheMaintenanceTick() throws {
        let b = try SecuredBroker(policy: "allow User:alice read topic:orders")
        try b.createTopics("orders", "payments")
        let alice = try b.connect("alice")
        func errors() throws -> [Int16] {
            (try alice.roundTrip(metadataRequest(["orders", "payments"])) as MetadataResponse).topics.map(\.errorCode)
        }
        #expect(try errors() == [0, topicDenied])
        try b.writePolicy("allow User:alice read topic:orders\nallow User:alice read topic:payments")
        let start = SystemClock.monotonicNs()
        #expect(waitUntil(timeoutMs: 3000) { (try? errors()) == [0, 0] })
        #expect(SystemClock.monotonicNs() - start < 2_500_000_000)
        // A new file in the directory counts too; removing it takes its rules away.
        try b.writePolicy("deny User:alice all topic:payments", file: "zz-deny.acl")  // a DENY of read would not deny describe
        #expect(waitUntil(timeoutMs: 3000) { (try? errors()) == [0, topicDenied] })
        try FileManager.default.removeItem(atPath: b.policyDirectory + "/zz-deny.acl")
        #expect(waitUntil(timeoutMs: 3000) { (try? errors()) == [0, 0] })
    }

    @Test func brokenPolicyKeepsTheOldOneAndIsReportedOnce() throws {
        let b = try SecuredBroker(policy: "allow User:alice read topic:orders")
        try b.createTopics("orders", "payments")
        let alice = try b.connect("alice")
        var now = Int64(1) << 50  // ahead of the maintenance thread's clock: only these calls check
        func reload() {
            now += 1000
            b.security.reload(now: now)
        }
        reload()
        try b.writePolicy("allow User:alice read topic:orders\nallow User:alice raed topic:payments\nbogus line")
        reload()
        reload()
        let state = b.security.watch.withLock { $0 }
        #expect(state.policyFailuresReported == 1)
        #expect(state.policyErrorReported?.contains("main.acl:2") == true)
        #expect(state.policyErrorReported?.contains("main.acl:3") == true)
        let during: MetadataResponse = try alice.roundTrip(metadataRequest(["orders", "payments"]))
        #expect(during.topics.map(\.errorCode) == [0, topicDenied])
        try b.writePolicy("allow User:alice read topic:payments")
        reload()
        let after: MetadataResponse = try alice.roundTrip(metadataRequest(["orders", "payments"]))
        #expect(after.topics.map(\.errorCode) == [topicDenied, 0])
        #expect(b.security.watch.withLock { $0.policyErrorReported } == nil)
    }

    @Test func credentialFileEditedOfflineIsReloadedAndABrokenOneIgnored() throws {
        let b = try SecuredBroker(policy: "")
        #expect(throws: ClientError.self) { _ = try b.connect("dave", password: "dave-pw") }
        var store = try CredentialStore.load(dataDirectory: b.dataDirectory)
        try store.setPasswordForAllMechanisms(user: "dave", password: "dave-pw")
        try store.save(dataDirectory: b.dataDirectory)  // what `sluice users add` does
        #expect(waitUntil(timeoutMs: 3000) { (try? b.connect("dave", password: "dave-pw")) != nil })
        try "garbage\n".write(toFile: b.dataDirectory + "/scram-credentials", atomically: true, encoding: .utf8)
        b.security.reload(now: Int64(1) << 50)
        #expect(b.security.watch.withLock { $0.credentialFailuresReported } == 1)
        _ = try b.connect("dave", password: "dave-pw")
    }

    @Test func auditRecordsDenialsChosenAllowsAndChangesButNotQuietChecks() throws {
        let b = try SecuredBroker(policy: "allow User:alice read,describe-configs topic:orders. prefixed",
                                  overrides: ["audit.log.allow.resources=topic:orders.a"])
        try b.createTopics("orders.a", "orders.b", "payments")
        final class EventLog: Sendable { let events = Mutex<[SecurityAuditEvent]>([]) }
        let log = EventLog()
        b.security.setAuditSink { event in log.events.withLock { $0.append(event) } }
        func decisions() -> [String] {
            log.events.withLock { $0 }.compactMap { event -> String? in
                guard case .authorization(let who, let operation, let resource, let decision) = event else { return nil }
                return "\(who.principal) \(who.apiName) \(operation.name) \(resource) \(decision.allowed)"
            }
        }
        let alice = try b.connect("alice")
        let _: MetadataResponse = try alice.roundTrip(metadataRequest(nil))  // listing: quiet
        #expect(decisions().isEmpty)
        let _: ProduceResponse = try alice.roundTrip(produceRequest(["orders.a"], batch: try testBatch()))
        let _: FetchResponse = try alice.roundTrip(fetchRequest(["orders.a", "orders.b"]))
        #expect(decisions() == ["User:alice Produce write topic:orders.a false",
                                "User:alice Fetch read topic:orders.a true"])  // orders.b: allowed, not selected
        #expect(b.security.deniedCount == 1)

        let admin = try b.connect("admin")
        let _: CreateAclsResponse = try admin.roundTrip(createAcl(principal: "User:bob", topic: "orders.a"))
        var alter = AlterUserScramCredentialsRequest()
        var deletion = AlterUserScramCredentialsRequest.ScramCredentialDeletion()
        deletion.name = "carol"
        deletion.mechanism = 1
        alter.deletions = [deletion]
        let _: AlterUserScramCredentialsResponse = try admin.roundTrip(alter)
        let changes = log.events.withLock { $0 }.compactMap { event -> String? in
            switch event {
            case .aclsChanged(let who, let created, let deleted):
                "\(who.principal) acls +\(created.map(\.rule.description)) -\(deleted.count)"
            case .credentialsChanged(let who, let user, let upserted, let deleted):
                "\(who.principal) \(user) +\(upserted.count) -\(deleted.map(\.rawValue))"
            default: nil
            }
        }
        #expect(changes == ["User:admin acls +[\"allow User:bob describe topic:orders.a\"] -0",
                            "User:admin carol +0 -[\"SCRAM-SHA-256\"]"])

        // The same events are lines of the audit log, with the rule that decided.
        let lines = try String(contentsOfFile: b.dataDirectory + "/audit/audit.log", encoding: .utf8)
            .split(separator: "\n").filter { !$0.contains("\"event\":\"authentication\"") }
        #expect(lines.count == 4)
        #expect(lines[0].contains("\"api\":\"Produce\"") && lines[0].contains("\"decision\":\"deny\"")
            && lines[0].contains("\"rule\":\"default-deny\""))
        #expect(lines[1].contains("\"decision\":\"allow\"") && lines[1].contains("\"rule\":\"policies/main.acl:1\""))
        #expect(lines[2].contains("\"event\":\"acl-change\"") && lines[2].contains("+api:1 allow User:bob"))
        #expect(lines[3].contains("\"event\":\"credential-change\"") && lines[3].contains("user:carol"))
    }
}
