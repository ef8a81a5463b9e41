// A tenant member holding every permission a rule can grant — `all` on the cluster, on every
// topic, group and transactional id of its namespace — still cannot act outside its tenant through
// any API that checks a cluster permission (docs/tenants.md, "Cluster permissions"). One test per
// handler; each also checks that the thing outside the tenant is unchanged.
import Foundation
import KafkaClient
import KafkaProtocol
import Security
import Testing
@testable import Broker

@Suite(.serialized) struct TenantClusterPermissionTests {
    /// `bob` and `carol` are tenant `beta`; `alice` is outside tenancy; `admin` is the super user.
    static func broker(extraPolicy: String = "") throws -> SecuredBroker {
        try SecuredBroker(policy: """
            allow User:bob   all cluster
            allow User:bob   all topic:*
            allow User:bob   all group:*
            allow User:bob   all transactional-id:*
            allow User:carol all topic:*
            allow User:alice describe topic:*
            """ + extraPolicy) { data in
            let policies = (data as NSString).deletingLastPathComponent + "/policies"
            try "tenant beta\n  member User:bob\n  member User:carol\n"
                .write(toFile: policies + "/t.tenants", atomically: true, encoding: .utf8)
        }
    }

    @Test func alterUserScramCredentialsChangesOnlyTheMembersOwnUser() throws {
        let b = try Self.broker()
        let bob = try b.connect("bob")
        var alter = AlterUserScramCredentialsRequest()
        alter.upsertions = ["admin", "alice", "carol", "newcomer", "bob"].map {
            scramUpsertion($0, .sha256, "taken-over")
        }
        alter.deletions = [scramDeletion("admin", ScramMechanism.sha512.kafkaType)]
        let answer: AlterUserScramCredentialsResponse = try bob.roundTrip(alter)
        let codes = Dictionary(uniqueKeysWithValues: answer.results.map { ($0.user, $0.errorCode) })
        #expect(codes == ["admin": clusterDenied, "alice": clusterDenied, "carol": clusterDenied,
                          "newcomer": clusterDenied, "bob": 0])
        // The super user (and everyone else) still logs in with the old password, not the new one.
        _ = try b.connect("admin", mechanism: "SCRAM-SHA-256")
        _ = try b.connect("admin", mechanism: "SCRAM-SHA-512")
        #expect(throws: ClientError.self) { _ = try b.connect("admin", password: "taken-over", mechanism: "SCRAM-SHA-256") }
        _ = try b.connect("carol", mechanism: "SCRAM-SHA-256")
        #expect(b.security.credentials.describe(user: "newcomer") == nil)
        // Its own credential did change.
        _ = try b.connect("bob", password: "taken-over", mechanism: "SCRAM-SHA-256")
        // Without an authorizer the bound holds all the same.
        let open = try SecuredBroker(policy: "", authorizer: false) { data in
            let policies = (data as NSString).deletingLastPathComponent + "/policies"
            try "tenant beta\n  member User:bob\n".write(toFile: policies + "/t.tenants", atomically: true, encoding: .utf8)
        }
        let refused: AlterUserScramCredentialsResponse = try open.connect("bob").roundTrip(alter)
        #expect(refused.results.filter { $0.user != "bob" }.allSatisfy { $0.errorCode == clusterDenied })
        _ = try open.connect("admin", mechanism: "SCRAM-SHA-256")
    }

    @Test func describeUserScramCredentialsShowsOnlyTheMembersOwnUser() throws {
        let b = try Self.broker()
        let bob = try b.connect("bob")
        let everyone = try describeScram(bob, nil)
        #expect(everyone.errorCode == 0 && everyone.results.map(\.user) == ["bob"])
        let named = try describeScram(bob, ["admin", "bob", "no-such-user"])
        #expect(named.results.map(\.errorCode) == [clusterDenied, 0, clusterDenied])
        // An operator still sees everyone.
        #expect(try describeScram(b.connect("admin"), nil).results.map(\.user) == SecuredBroker.users.sorted())
    }

    @Test func aclApisReachOnlyTheTenantsMembers() throws {
        let b = try Self.broker()
        let bob = try b.connect("bob")
        var request = createAcl(principal: "User:alice", topic: "orders", operation: .read)
        request.creations.append(createAcl(principal: "User:admin", topic: "orders", operation: .all).creations[0])
        request.creations.append(createAcl(principal: "User:carol", topic: "orders", operation: .read).creations[0])
        let created: CreateAclsResponse = try bob.roundTrip(request)
        #expect(created.results.map(\.errorCode) == [KafkaError.invalidRequest.rawValue,
                                                     KafkaError.invalidRequest.rawValue, 0])
        let listed: DescribeAclsResponse = try bob.roundTrip(describeAllAcls())
        let principals = Set(listed.resources.flatMap { $0.acls.map(\.principal) })
        #expect(principals == ["User:bob", "User:carol"])
        var delete = DeleteAclsRequest()
        var filter = DeleteAclsRequest.DeleteAclsFilter()
        filter.resourceTypeFilter = 1  // ANY
        filter.resourceNameFilter = nil
        filter.patternTypeFilter = AclPatternType.any.rawValue
        filter.principalFilter = nil
        filter.hostFilter = nil
        filter.operation = AclOperation.any.rawValue
        filter.permissionType = AclPermission.any.rawValue
        var other = filter
        other.principalFilter = "User:alice"
        delete.filters = [filter, other]
        let deleted: DeleteAclsResponse = try bob.roundTrip(delete)
        #expect(deleted.filterResults.map(\.errorCode) == [KafkaError.invalidRequest.rawValue,
                                                           KafkaError.invalidRequest.rawValue])
        #expect(b.security.authorizer.apiAcls.entries.map(\.rule.principal) == ["User:carol"])
    }

    @Test func brokerConfigsAreNeverAMembersToReadOrChange() throws {
        let b = try Self.broker()
        let bob = try b.connect("bob")
        var describe = DescribeConfigsRequest()
        var resource = DescribeConfigsRequest.DescribeConfigsResource()
        resource.resourceType = ConfigResourceType.broker.rawValue
        resource.resourceName = ""
        resource.configurationKeys = nil
        describe.resources = [resource]
        let described: DescribeConfigsResponse = try bob.roundTrip(describe)
        #expect(described.results.map(\.errorCode) == [clusterDenied] && described.results[0].configs.isEmpty)

        var alter = AlterConfigsRequest()
        var target = AlterConfigsRequest.AlterConfigsResource()
        target.resourceType = ConfigResourceType.broker.rawValue
        target.resourceName = ""
        var config = AlterConfigsRequest.AlterableConfig()
        config.name = "log.retention.ms"
        config.value = "1"
        target.configs = [config]
        alter.resources = [target]
        #expect((try bob.roundTrip(alter) as AlterConfigsResponse).responses.map(\.errorCode) == [clusterDenied])

        var incremental = IncrementalAlterConfigsRequest()
        var incrementalTarget = IncrementalAlterConfigsRequest.AlterConfigsResource()
        incrementalTarget.resourceType = ConfigResourceType.broker.rawValue
        incrementalTarget.resourceName = ""
        var incrementalConfig = IncrementalAlterConfigsRequest.AlterableConfig()
        incrementalConfig.name = "log.retention.ms"
        incrementalConfig.configOperation = 0
        incrementalConfig.value = "1"
        incrementalTarget.configs = [incrementalConfig]
        incremental.resources = [incrementalTarget]
        let answer: IncrementalAlterConfigsResponse = try bob.roundTrip(incremental)
        #expect(answer.responses.map(\.errorCode) == [clusterDenied])
        #expect(b.broker.resolver.brokerConfigs().first { $0.name == "log.retention.ms" }?.value != "1")
    }

    @Test func clientQuotasAreNeverAMembersToReadOrChange() throws {
        let b = try Self.broker()
        let bob = try b.connect("bob")
        var describe = DescribeClientQuotasRequest()
        var component = DescribeClientQuotasRequest.ComponentData()
        component.entityType = "user"
        component.matchType = 2
        component.match = nil
        describe.components = [component]
        #expect((try bob.roundTrip(describe) as DescribeClientQuotasResponse).errorCode == clusterDenied)

        var alter = AlterClientQuotasRequest()
        var entry = AlterClientQuotasRequest.EntryData()
        var entity = AlterClientQuotasRequest.EntityData()
        entity.entityType = "user"
        entity.entityName = "beta"
        entry.entity = [entity]
        var op = AlterClientQuotasRequest.OpData()
        op.key = "producer_byte_rate"
        op.value = 1e12
        entry.ops = [op]
        alter.entries = [entry]
        #expect((try bob.roundTrip(alter) as AlterClientQuotasResponse).entries.map(\.errorCode) == [clusterDenied])
        #expect(!FileManager.default.fileExists(atPath: b.dataDirectory + "/client-quotas.json"))
    }

    @Test func replicationApisAreNeverAMembers() throws {
        let b = try Self.broker()
        try b.createTopics("__tenant.beta.orders", "plain")
        let bob = try b.connect("bob")
        // A replica fetch (replica id ≥ 0) needs ClusterAction, which no member is ever granted.
        var fetch = fetchRequest(["orders"])
        fetch.replicaId = 1
        #expect(errorsByTopic(try bob.roundTrip(fetch) as FetchResponse) == ["orders": topicDenied])
        // OffsetForLeaderEpoch falls back to Describe on the member's own topics only.
        var epochs = OffsetForLeaderEpochRequest()
        epochs.replicaId = 1
        epochs.topics = ["orders", "__consumer_offsets"].map { name in
            var topic = OffsetForLeaderEpochRequest.OffsetForLeaderTopic()
            topic.topic = name
            var partition = OffsetForLeaderEpochRequest.OffsetForLeaderPartition()
            partition.partition = 0
            topic.partitions = [partition]
            return topic
        }
        let answered: OffsetForLeaderEpochResponse = try bob.roundTrip(epochs)
        let codes = Dictionary(uniqueKeysWithValues: answered.topics.map { ($0.topic, $0.partitions[0].errorCode) })
        #expect(codes["orders"] == 0)
        #expect(codes["__consumer_offsets"] != 0)
    }

    @Test func internalTopicsAreOutOfReachOfCreatePartitionsAndDeleteRecords() throws {
        let b = try Self.broker()
        let before = try #require(b.broker.metadata.topic("__consumer_offsets")).partitionCount
        let bob = try b.connect("bob")
        var grow = CreatePartitionsRequest()
        var topic = CreatePartitionsRequest.CreatePartitionsTopic()
        topic.name = "__consumer_offsets"
        topic.count = before + 10
        topic.assignments = nil
        grow.topics = [topic]
        grow.timeoutMs = 10_000
        let grown: CreatePartitionsResponse = try bob.roundTrip(grow)
        #expect(grown.results.map(\.errorCode) == [KafkaError.unknownTopicOrPartition.rawValue])
        #expect(b.broker.metadata.topic("__consumer_offsets")?.partitionCount == before)

        var delete = DeleteRecordsRequest()
        var target = DeleteRecordsRequest.DeleteRecordsTopic()
        target.name = "__consumer_offsets"
        var partition = DeleteRecordsRequest.DeleteRecordsPartition()
        partition.partitionIndex = 0
        partition.offset = -1
        target.partitions = [partition]
        delete.topics = [target]
        delete.timeoutMs = 10_000
        let deleted: DeleteRecordsResponse = try bob.roundTrip(delete)
        #expect(deleted.topics[0].partitions[0].errorCode == KafkaError.unknownTopicOrPartition.rawValue)
        // The names it answers with are its own local names.
        #expect(deleted.topics[0].name == "__consumer_offsets" && grown.results[0].name == "__consumer_offsets")
    }

    @Test func theClusterBitfieldListsOnlyWhatAMemberCanHave() throws {
        let b = try Self.broker()
        var request = DescribeClusterRequest()
        request.includeClusterAuthorizedOperations = true
        let answer: DescribeClusterResponse = try b.connect("bob").roundTrip(request)
        #expect(answer.clusterAuthorizedOperations == operationBits(.create, .alter, .describe, .idempotentWrite))
        // A refused use is audited with its own reason.
        let before = b.security.auditHook.denials.load(ordering: .relaxed)
        var describe = DescribeClientQuotasRequest()
        describe.components = []
        let _: DescribeClientQuotasResponse = try b.connect("bob").roundTrip(describe)
        #expect(b.security.auditHook.denials.load(ordering: .relaxed) == before + 1)
    }
}
