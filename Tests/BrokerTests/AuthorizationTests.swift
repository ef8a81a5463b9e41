// Authorization in the request path: each API checks what Kafka checks and answers with the error
// Kafka's clients expect. Users log in over SASL_PLAINTEXT; rules come from a policy file.
import Foundation
import KafkaClient
import KafkaProtocol
import Security
import Testing
@testable import Broker

@Suite(.serialized) struct AuthorizationTests {
    @Test func produceNeedsWriteOnEachTopicAndTransactionalBatchesWriteOnTheTransactionalId() throws {
        let b = try SecuredBroker(policy: """
            allow User:alice write topic:orders
            allow User:alice write transactional-id:tx-ok
            """)
        try b.createTopics("orders", "payments")
        let alice = try b.connect("alice")
        let batch = try testBatch(count: 3)
        let mixed: ProduceResponse = try alice.roundTrip(produceRequest(["orders", "payments", "missing"], batch: batch))
        // Denied topics fail whether or not they exist (existence is not disclosed); the allowed one is written.
        #expect(errorsByTopic(mixed) == ["orders": 0, "payments": topicDenied, "missing": topicDenied])
        #expect(b.broker.replicas.partition("orders", 0)?.log.logEndOffset == 3)
        #expect(b.broker.replicas.partition("payments", 0)?.log.logEndOffset == 0)

        // Idempotent batches need nothing beyond Write on the topic (KIP-679).
        let idempotent: ProduceResponse = try alice.roundTrip(
            produceRequest(["orders"], batch: try testBatch(producerId: 4242)))
        #expect(errorsByTopic(idempotent) == ["orders": 0])

        // A transactional batch under an id the caller may not write fails everywhere.
        let transactional = try testBatch(transactional: true, producerId: 77)
        let denied: ProduceResponse = try alice.roundTrip(
            produceRequest(["orders"], transactionalId: "tx-other", batch: transactional))
        #expect(errorsByTopic(denied) == ["orders": transactionalIdDenied])
        let noId: ProduceResponse = try alice.roundTrip(produceRequest(["orders"], batch: transactional))
        #expect(errorsByTopic(noId) == ["orders": transactionalIdDenied])
        let allowedId: ProduceResponse = try alice.roundTrip(
            produceRequest(["orders"], transactionalId: "tx-ok", batch: transactional))
        #expect(errorsByTopic(allowedId)["orders"] != transactionalIdDenied)

        // Nothing allowed for bob; the super user writes anywhere.
        let bob: ProduceResponse = try b.connect("bob").roundTrip(produceRequest(["orders"], batch: batch))
        #expect(errorsByTopic(bob) == ["orders": topicDenied])
        let admin: ProduceResponse = try b.connect("admin").roundTrip(produceRequest(["payments"], batch: batch))
        #expect(errorsByTopic(admin) == ["payments": 0])
    }

    @Test func fetchNeedsReadOnEachTopic() throws {
        let b = try SecuredBroker(policy: "allow User:alice read topic:orders\nallow User:bob read topic:nothing-here")
        try b.createTopics("orders", "payments")
        let admin = try b.connect("admin")
        let _: ProduceResponse = try admin.roundTrip(produceRequest(["orders", "payments"], batch: try testBatch(count: 2)))
        let alice = try b.connect("alice")
        let response: FetchResponse = try alice.roundTrip(fetchRequest(["orders", "payments"]))
        #expect(errorsByTopic(response) == ["orders": 0, "payments": topicDenied])
        let payments = response.responses.first { $0.topic == "payments" }!.partitions[0]
        #expect(payments.highWatermark == -1 && (payments.records ?? []).isEmpty)
        let orders = response.responses.first { $0.topic == "orders" }!.partitions[0]
        #expect(orders.highWatermark == 2 && !(orders.records ?? []).isEmpty)

        // Every partition denied: answered at once, not after max_wait_ms.
        let start = SystemClock.monotonicNs()
        let denied: FetchResponse = try b.connect("bob").roundTrip(fetchRequest(["orders"], maxWaitMs: 5000))
        #expect(errorsByTopic(denied) == ["orders": topicDenied])
        #expect(SystemClock.monotonicNs() - start < 2_000_000_000)

        // ListOffsets and OffsetForLeaderEpoch need Describe (implied by Read).
        var list = ListOffsetsRequest()
        list.replicaId = -1
        list.topics = ["orders", "payments"].map { name in
            var t = ListOffsetsRequest.ListOffsetsTopic()
            t.name = name
            var p = ListOffsetsRequest.ListOffsetsPartition()
            p.partitionIndex = 0
            p.timestamp = -1
            t.partitions = [p]
            return t
        }
        let offsets: ListOffsetsResponse = try alice.roundTrip(list)
        #expect(offsets.topics.map { $0.partitions[0].errorCode } == [0, topicDenied])
        #expect(offsets.topics[0].partitions[0].offset == 2 && offsets.topics[1].partitions[0].offset == -1)
        var epochs = OffsetForLeaderEpochRequest()
        epochs.replicaId = -1
        epochs.topics = ["orders", "payments"].map { name in
            var t = OffsetForLeaderEpochRequest.OffsetForLeaderTopic()
            t.topic = name
            var p = OffsetForLeaderEpochRequest.OffsetForLeaderPartition()
            p.partition = 0
            p.leaderEpoch = 0
            p.currentLeaderEpoch = -1
            t.partitions = [p]
            return t
        }
        let ends: OffsetForLeaderEpochResponse = try alice.roundTrip(epochs)
        #expect(ends.topics.map { $0.partitions[0].errorCode } == [0, topicDenied])
    }

    @Test func metadataShowsOnlyDescribableTopicsAndFillsAuthorizedOperations() throws {
        let b = try SecuredBroker(policy: """
            allow User:alice read topic:orders
            allow User:alice describe topic:fresh. prefixed
            allow User:alice create topic:fresh.ok
            """, overrides: ["auto.create.topics.enable=true"])
        try b.createTopics("orders", "payments", "internal-x")
        let alice = try b.connect("alice")
        let all: MetadataResponse = try alice.roundTrip(metadataRequest(nil))
        #expect(all.topics.map(\.name) == ["orders"])

        var explicit = metadataRequest(["orders", "payments", "no-such-topic"])
        explicit.includeTopicAuthorizedOperations = true
        explicit.includeClusterAuthorizedOperations = true
        let answer: MetadataResponse = try alice.roundTrip(explicit, version: 10)
        #expect(answer.topics.map(\.errorCode) == [0, topicDenied, topicDenied])
        #expect(answer.topics[1].topicId.isZero && answer.topics[1].partitions.isEmpty)
        #expect(answer.topics[0].topicAuthorizedOperations == operationBits(.read, .describe))
        #expect(answer.topics[1].topicAuthorizedOperations == Int32.min)
        #expect(answer.clusterAuthorizedOperations == 0)  // no Describe on the cluster

        let admin: MetadataResponse = try b.connect("admin").roundTrip(explicit, version: 10)
        #expect(admin.clusterAuthorizedOperations == operationBits(.create, .clusterAction, .describeConfigs,
                                                                   .alterConfigs, .idempotentWrite, .alter, .describe))
        #expect(admin.topics[0].topicAuthorizedOperations == operationBits(.read, .write, .create, .delete, .alter,
                                                                           .describe, .describeConfigs, .alterConfigs))

        // Auto-creation needs Create (cluster or topic) besides Describe.
        let create: MetadataResponse = try alice.roundTrip(metadataRequest(["fresh.ok", "fresh.no"], autoCreate: true))
        #expect(create.topics.map(\.errorCode) == [0, topicDenied])
        #expect(b.broker.metadata.topic("fresh.ok") != nil && b.broker.metadata.topic("fresh.no") == nil)
    }

    @Test func createAndDeleteTopicsAndPartitions() throws {
        let b = try SecuredBroker(policy: """
            allow User:alice create,delete,alter topic:team. prefixed
            allow User:alice describe-configs topic:team.visible
            allow User:bob create cluster
            """)
        let alice = try b.connect("alice")
        func create(_ connection: KafkaConnection, _ names: [String]) throws -> CreateTopicsResponse {
            var request = CreateTopicsRequest()
            request.topics = names.map { name in
                var t = CreateTopicsRequest.CreatableTopic()
                t.name = name
                t.numPartitions = 1
                t.replicationFactor = -1
                return t
            }
            return try connection.roundTrip(request)
        }
        let created = try create(alice, ["team.visible", "team.hidden", "other"])
        #expect(created.topics.map(\.errorCode) == [0, 0, topicDenied])
        #expect(created.topics[0].configs?.isEmpty == false && created.topics[0].topicConfigErrorCode == 0)
        #expect(created.topics[1].configs?.isEmpty == true && created.topics[1].topicConfigErrorCode == topicDenied)
        #expect(created.topics[1].numPartitions == -1)
        #expect(b.broker.metadata.topic("other") == nil)
        // Create on the cluster covers every name; an existing topic is still reported as such.
        let bob = try create(try b.connect("bob"), ["other", "team.visible"])
        #expect(bob.topics.map(\.errorCode) == [0, KafkaError.topicAlreadyExists.rawValue])

        var partitions = CreatePartitionsRequest()
        partitions.topics = ["team.visible", "other"].map { name in
            var t = CreatePartitionsRequest.CreatePartitionsTopic()
            t.name = name
            t.count = 2
            t.assignments = nil
            return t
        }
        let grown: CreatePartitionsResponse = try alice.roundTrip(partitions)
        #expect(grown.results.map(\.errorCode) == [0, topicDenied])
        #expect(b.broker.metadata.topic("other")?.partitionCount == 1)

        var records = DeleteRecordsRequest()
        records.topics = ["team.visible", "other"].map { name in
            var t = DeleteRecordsRequest.DeleteRecordsTopic()
            t.name = name
            var p = DeleteRecordsRequest.DeleteRecordsPartition()
            p.partitionIndex = 0
            p.offset = 0
            t.partitions = [p]
            return t
        }
        let trimmed: DeleteRecordsResponse = try alice.roundTrip(records)
        #expect(trimmed.topics.map { $0.partitions[0].errorCode } == [0, topicDenied])

        var delete = DeleteTopicsRequest()
        delete.topicNames = ["team.hidden", "other", "team.missing"]
        let deleted: DeleteTopicsResponse = try alice.roundTrip(delete, version: 5)
        #expect(deleted.responses.map(\.errorCode) == [0, topicDenied, KafkaError.unknownTopicOrPartition.rawValue])
        #expect(b.broker.metadata.topic("team.hidden") == nil && b.broker.metadata.topic("other") != nil)

        // By id (v6): without Describe the name stays hidden.
        let otherId = b.broker.metadata.topic("other")!.topicId
        var byId = DeleteTopicsRequest()
        var state = DeleteTopicsRequest.DeleteTopicState()
        state.name = nil
        state.topicId = otherId
        byId.topics = [state]
        let hidden: DeleteTopicsResponse = try alice.roundTrip(byId, version: 6)
        #expect(hidden.responses[0].errorCode == topicDenied && hidden.responses[0].name == nil)
    }

    @Test func configsNeedDescribeConfigsAndAlterConfigs() throws {
        let b = try SecuredBroker(policy: """
            allow User:alice describe-configs topic:orders
            allow User:bob alter-configs topic:orders
            """)
        try b.createTopics("orders", "payments")
        func describe(_ user: String) throws -> DescribeConfigsResponse {
            var request = DescribeConfigsRequest()
            request.resources = [(Int8(2), "orders"), (2, "payments"), (4, "1")].map { type, name in
                var r = DescribeConfigsRequest.DescribeConfigsResource()
                r.resourceType = type
                r.resourceName = name
                r.configurationKeys = nil
                return r
            }
            return try b.connect(user).roundTrip(request)
        }
        let alice = try describe("alice")
        #expect(alice.results.map(\.errorCode) == [0, topicDenied, clusterDenied])
        #expect(!alice.results[0].configs.isEmpty && alice.results[1].configs.isEmpty)
        // AlterConfigs implies DescribeConfigs.
        #expect(try describe("bob").results.map(\.errorCode) == [0, topicDenied, clusterDenied])

        func alter(_ user: String) throws -> IncrementalAlterConfigsResponse {
            var request = IncrementalAlterConfigsRequest()
            request.resources = [(Int8(2), "orders"), (2, "payments"), (4, "")].map { type, name in
                var r = IncrementalAlterConfigsRequest.AlterConfigsResource()
                r.resourceType = type
                r.resourceName = name
                var c = IncrementalAlterConfigsRequest.AlterableConfig()
                c.name = type == 2 ? "retention.ms" : "log.retention.ms"
                c.configOperation = 0
                c.value = "60000"
                r.configs = [c]
                return r
            }
            return try b.connect(user).roundTrip(request)
        }
        #expect(try alter("alice").responses.map(\.errorCode) == [topicDenied, topicDenied, clusterDenied])
        #expect(b.broker.metadata.topic("orders")?.configs["retention.ms"] == nil)
        #expect(try alter("bob").responses.map(\.errorCode) == [0, topicDenied, clusterDenied])
        #expect(b.broker.metadata.topic("orders")?.configs["retention.ms"] == "60000")
        #expect(b.broker.metadata.topic("payments")?.configs["retention.ms"] == nil)
        #expect(b.broker.metadata.dynamicBrokerConfigs["log.retention.ms"] == nil)

        var legacy = AlterConfigsRequest()
        var resource = AlterConfigsRequest.AlterConfigsResource()
        resource.resourceType = 2
        resource.resourceName = "payments"
        legacy.resources = [resource]
        let refused: AlterConfigsResponse = try b.connect("bob").roundTrip(legacy)
        #expect(refused.responses.map(\.errorCode) == [topicDenied])
    }

    @Test func groupApisNeedReadOrDescribeOrDeleteOnTheGroup() throws {
        let b = try SecuredBroker(policy: """
            allow User:alice read group:app
            allow User:alice read topic:orders
            allow User:bob describe group:app
            allow User:carol delete group:app
            """)
        try b.createTopics("orders", "payments")
        let bob = try b.connect("bob")

        var join = JoinGroupRequest()
        join.groupId = "app"
        join.sessionTimeoutMs = 10_000
        join.rebalanceTimeoutMs = 10_000
        join.memberId = ""
        join.protocolType = "consumer"
        var proto = JoinGroupRequest.JoinGroupRequestProtocol()
        proto.name = "range"
        proto.metadata = [0, 1]
        join.protocols = [proto]
        let refusedJoin: JoinGroupResponse = try bob.roundTrip(join)
        #expect(refusedJoin.errorCode == groupDenied && refusedJoin.memberId.isEmpty && refusedJoin.generationId == -1)
        var heartbeat = HeartbeatRequest()
        heartbeat.groupId = "app"
        heartbeat.memberId = "m"
        #expect((try bob.roundTrip(heartbeat) as HeartbeatResponse).errorCode == groupDenied)
        var sync = SyncGroupRequest()
        sync.groupId = "app"
        sync.memberId = "m"
        #expect((try bob.roundTrip(sync) as SyncGroupResponse).errorCode == groupDenied)
        var leave = LeaveGroupRequest()
        leave.groupId = "app"
        var member = LeaveGroupRequest.MemberIdentity()
        member.memberId = "m"
        leave.members = [member]
        #expect((try bob.roundTrip(leave) as LeaveGroupResponse).errorCode == groupDenied)

        // Alice joins for real (v4+: first MEMBER_ID_REQUIRED, then the generation).
        let alice = try b.connect("alice")
        let first: JoinGroupResponse = try alice.roundTrip(join)
        #expect(first.errorCode == KafkaError.memberIdRequired.rawValue)
        join.memberId = first.memberId
        let joined: JoinGroupResponse = try alice.roundTrip(join)
        #expect(joined.errorCode == 0 && joined.generationId == 1)
        heartbeat.memberId = joined.memberId
        heartbeat.generationId = joined.generationId
        #expect((try alice.roundTrip(heartbeat) as HeartbeatResponse).errorCode != groupDenied)

        // FindCoordinator: Describe on the group (Read implies it).
        var find = FindCoordinatorRequest()
        find.keyType = 0
        find.coordinatorKeys = ["app", "other"]
        let found: FindCoordinatorResponse = try alice.roundTrip(find)
        #expect(found.coordinators.map(\.errorCode) == [0, groupDenied])
        #expect(found.coordinators[1].nodeId == -1)
        find.keyType = 1
        find.coordinatorKeys = ["tx"]
        let txn: FindCoordinatorResponse = try alice.roundTrip(find)
        #expect(txn.coordinators.map(\.errorCode) == [transactionalIdDenied])

        // DescribeGroups with authorized operations; ListGroups shows only describable groups.
        var describe = DescribeGroupsRequest()
        describe.groups = ["app", "other"]
        describe.includeAuthorizedOperations = true
        let described: DescribeGroupsResponse = try bob.roundTrip(describe)
        #expect(described.groups.map(\.errorCode) == [0, groupDenied])
        #expect(described.groups[0].authorizedOperations == operationBits(.describe))
        #expect(described.groups[0].members.count == 1)
        let listed: ListGroupsResponse = try bob.roundTrip(ListGroupsRequest())
        #expect(listed.groups.map(\.groupId) == ["app"])
        let carol: ListGroupsResponse = try b.connect("carol").roundTrip(ListGroupsRequest())
        #expect(carol.groups.map(\.groupId) == ["app"])  // Delete implies Describe

        var delete = DeleteGroupsRequest()
        delete.groupsNames = ["app"]
        let notAllowed: DeleteGroupsResponse = try bob.roundTrip(delete)
        #expect(notAllowed.results.map(\.errorCode) == [groupDenied])
        let nonEmpty: DeleteGroupsResponse = try b.connect("carol").roundTrip(delete)
        #expect(nonEmpty.results.map(\.errorCode) == [KafkaError.nonEmptyGroup.rawValue])
    }

    @Test func offsetCommitFetchAndDeleteCheckTheGroupAndEachTopic() throws {
        let b = try SecuredBroker(policy: """
            allow User:alice read group:app
            allow User:alice read topic:orders
            allow User:bob describe group:app
            allow User:bob describe topic:orders
            allow User:carol delete group:app
            allow User:carol read topic:orders
            """)
        try b.createTopics("orders", "payments")
        func commit(_ user: String, group: String = "app") throws -> OffsetCommitResponse {
            var request = OffsetCommitRequest()
            request.groupId = group
            request.generationIdOrMemberEpoch = -1
            request.memberId = ""
            request.topics = ["orders", "payments"].map { name in
                var t = OffsetCommitRequest.OffsetCommitRequestTopic()
                t.name = name
                var p = OffsetCommitRequest.OffsetCommitRequestPartition()
                p.partitionIndex = 0
                p.committedOffset = 5
                t.partitions = [p]
                return t
            }
            return try b.connect(user).roundTrip(request)
        }
        #expect(try commit("alice").topics.map { $0.partitions[0].errorCode } == [0, topicDenied])
        #expect(try commit("alice", group: "other").topics.map { $0.partitions[0].errorCode } == [groupDenied, groupDenied])
        #expect(try commit("admin").topics.map { $0.partitions[0].errorCode } == [0, 0])

        func fetch(_ user: String, topics: [String]?, version: Int16 = 8) throws -> OffsetFetchResponse {
            var request = OffsetFetchRequest()
            var group = OffsetFetchRequest.OffsetFetchRequestGroup()
            group.groupId = "app"
            group.topics = topics.map { $0.map { name in
                var t = OffsetFetchRequest.OffsetFetchRequestTopics()
                t.name = name
                t.partitionIndexes = [0]
                return t
            } }
            request.groups = [group]
            return try b.connect(user).roundTrip(request, version: version)
        }
        let asked = try fetch("bob", topics: ["orders", "payments"])
        #expect(asked.groups[0].errorCode == 0)
        #expect(asked.groups[0].topics.map(\.name) == ["orders", "payments"])
        #expect(asked.groups[0].topics.map { $0.partitions[0].errorCode } == [0, topicDenied])
        #expect(asked.groups[0].topics.map { $0.partitions[0].committedOffset } == [5, -1])
        let all = try fetch("bob", topics: nil)
        #expect(all.groups[0].topics.map(\.name) == ["orders"])  // payments' offset stays hidden
        #expect(try fetch("carol", topics: nil).groups[0].errorCode == 0)  // Delete implies Describe
        #expect(try fetch("bob", topics: nil).groups[0].errorCode == 0)
        #expect(try fetch("alice", topics: nil).groups[0].errorCode == 0)  // Read implies Describe
        var old = OffsetFetchRequest()
        old.groupId = "other"
        old.topics = nil
        let deniedOld: OffsetFetchResponse = try b.connect("bob").roundTrip(old, version: 3)
        #expect(deniedOld.errorCode == groupDenied && deniedOld.topics.isEmpty)

        var delete = OffsetDeleteRequest()
        delete.groupId = "app"
        delete.topics = ["orders", "payments"].map { name in
            var t = OffsetDeleteRequest.OffsetDeleteRequestTopic()
            t.name = name
            var p = OffsetDeleteRequest.OffsetDeleteRequestPartition()
            p.partitionIndex = 0
            t.partitions = [p]
            return t
        }
        let notAllowed: OffsetDeleteResponse = try b.connect("alice").roundTrip(delete)
        #expect(notAllowed.errorCode == groupDenied)
        let partly: OffsetDeleteResponse = try b.connect("carol").roundTrip(delete)
        #expect(partly.errorCode == 0)
        #expect(partly.topics.map { $0.partitions[0].errorCode } == [0, topicDenied])
        let left = try fetch("admin", topics: nil)
        #expect(left.groups[0].topics.map(\.name) == ["payments"])
    }

    @Test func initProducerIdNeedsIdempotentWriteOrWriteOnSomeTopic() throws {
        let b = try SecuredBroker(policy: """
            allow User:alice write topic:orders. prefixed
            allow User:bob idempotent-write cluster
            allow User:carol write topic:orders
            deny User:carol write topic:*
            allow User:alice write transactional-id:tx
            """)
        func initId(_ user: String, transactionalId: String? = nil) throws -> InitProducerIdResponse {
            var request = InitProducerIdRequest()
            request.transactionalId = transactionalId
            request.transactionTimeoutMs = 60_000
            return try b.connect(user).roundTrip(request)
        }
        #expect(try initId("alice").errorCode == 0)
        #expect(try initId("bob").errorCode == 0)
        let carol = try initId("carol")  // a wildcard DENY of Write wins
        #expect(carol.errorCode == clusterDenied && carol.producerId == -1)
        #expect(try initId("bob", transactionalId: "tx").errorCode == transactionalIdDenied)
        // Allowed, and then refused for what the broker does not serve yet (transactions).
        #expect(try initId("alice", transactionalId: "tx").errorCode == KafkaError.unsupportedVersion.rawValue)
    }

    @Test func describeClusterReportsAuthorizedOperationsOnly() throws {
        let b = try SecuredBroker(policy: "allow User:alice describe,alter cluster")
        var request = DescribeClusterRequest()
        request.includeClusterAuthorizedOperations = true
        let alice: DescribeClusterResponse = try b.connect("alice").roundTrip(request)
        #expect(alice.errorCode == 0 && alice.clusterAuthorizedOperations == operationBits(.describe, .alter))
        let bob: DescribeClusterResponse = try b.connect("bob").roundTrip(request)
        #expect(bob.errorCode == 0 && bob.clusterAuthorizedOperations == 0 && bob.brokers.count == 1)
    }

    @Test func withoutAnAuthorizerEverythingIsAllowedAndAclApisAreSecurityDisabled() throws {
        let b = try SecuredBroker(policy: "", authorizer: false)
        try b.createTopics("orders")
        let bob = try b.connect("bob")
        let produced: ProduceResponse = try bob.roundTrip(produceRequest(["orders"], batch: try testBatch()))
        #expect(errorsByTopic(produced) == ["orders": 0])
        var metadata = metadataRequest(["orders"])
        metadata.includeTopicAuthorizedOperations = true
        let described: MetadataResponse = try bob.roundTrip(metadata)
        #expect(described.topics[0].topicAuthorizedOperations
            == operationBits(.read, .write, .create, .delete, .alter, .describe, .describeConfigs, .alterConfigs))
        let acls: DescribeAclsResponse = try bob.roundTrip(describeAllAcls())
        #expect(acls.errorCode == KafkaError.securityDisabled.rawValue)
        let created: CreateAclsResponse = try bob.roundTrip(createAcl(principal: "User:x", topic: "orders"))
        #expect(created.results.map(\.errorCode) == [KafkaError.securityDisabled.rawValue])
    }
}

func describeAllAcls() -> DescribeAclsRequest {
    var request = DescribeAclsRequest()
    request.resourceTypeFilter = 1
    request.resourceNameFilter = nil
    request.patternTypeFilter = 1
    request.principalFilter = nil
    request.hostFilter = nil
    request.operation = 1
    request.permissionType = 1
    return request
}

func createAcl(principal: String, topic: String, operation: AclOperation = .describe,
               permission: AclPermission = .allow) -> CreateAclsRequest {
    var creation = CreateAclsRequest.AclCreation()
    creation.resourceType = AclResourceType.topic.rawValue
    creation.resourceName = topic
    creation.resourcePatternType = AclPatternType.literal.rawValue
    creation.principal = principal
    creation.host = "*"
    creation.operation = operation.rawValue
    creation.permissionType = permission.rawValue
    var request = CreateAclsRequest()
    request.creations = [creation]
    return request
}
