// The group and offset API versions Kafka 3.9 still served and Kafka 4 dropped (KIP-896), as the
// clients that still send them (sarama 1.22, kafka-go) use them, over a real broker connection.
import Foundation
import KafkaClient
import KafkaProtocol
import Testing
@testable import Broker

@Suite struct OldApiVersionsTests {
    @Test func apiVersionsAdvertisesExactlyTheServedRanges() throws {
        let b = try SecuredBroker(policy: "", authorizer: false)
        let answer: ApiVersionsResponse = try b.connect("admin").roundTrip(ApiVersionsRequest(), version: 3)
        let ranges = Dictionary(uniqueKeysWithValues: answer.apiKeys.map { ($0.apiKey, $0.minVersion...$0.maxVersion) })
        #expect(ranges[ApiKey.listOffsets.rawValue] == 0...7)
        #expect(ranges[ApiKey.offsetCommit.rawValue] == 0...8)
        #expect(ranges[ApiKey.offsetFetch.rawValue] == 0...8)
        #expect(ranges[ApiKey.joinGroup.rawValue] == 0...7)
        #expect(ranges[ApiKey.createTopics.rawValue] == 0...7)
        #expect(ranges[ApiKey.deleteTopics.rawValue] == 0...6)
        #expect(ranges[ApiKey.describeConfigs.rawValue] == 0...4)
        #expect(ranges[ApiKey.offsetForLeaderEpoch.rawValue] == 0...4)
        // Message formats v0/v1 stay out (docs/UNSUPPORTED.md).
        #expect(ranges[ApiKey.fetch.rawValue]?.lowerBound == 4)
        // Every advertised version is one the dispatcher serves.
        for support in Broker.supportedApis {
            #expect(ranges[support.key.rawValue]?.upperBound == support.versions.upperBound)
        }
    }

    /// JoinGroup v0 (no rebalance timeout: the session timeout stands in), SyncGroup v0, commits
    /// with v1 (generation, member id and a per-partition commit timestamp) and v0 (no member:
    /// refused while the group has members, accepted once it is empty), OffsetFetch v0.
    @Test func aV0GroupJoinsCommitsAndFetches() throws {
        let b = try SecuredBroker(policy: "", authorizer: false)
        try b.createTopics("orders")
        let client = try b.connect("admin")
        var join = JoinGroupRequest()
        join.groupId = "old"
        join.sessionTimeoutMs = 10_000
        join.protocolType = "consumer"
        var range = JoinGroupRequest.JoinGroupRequestProtocol()
        range.name = "range"
        join.protocols = [range]
        let joined: JoinGroupResponse = try client.roundTrip(join, version: 0)
        #expect(joined.errorCode == 0 && joined.generationId == 1 && joined.leader == joined.memberId)
        #expect(joined.protocolName == "range" && joined.members.map(\.memberId) == [joined.memberId])
        let rebalanceTimeout = b.broker.groups.inspect { $0.groups["old"]?.members[joined.memberId]?.rebalanceTimeoutMs }
        #expect(rebalanceTimeout == 10_000)

        var sync = SyncGroupRequest()
        sync.groupId = "old"
        sync.generationId = joined.generationId
        sync.memberId = joined.memberId
        var mine = SyncGroupRequest.SyncGroupRequestAssignment()
        mine.memberId = joined.memberId
        mine.assignment = [1, 2, 3]
        sync.assignments = [mine]
        let synced: SyncGroupResponse = try client.roundTrip(sync, version: 0)
        #expect(synced.errorCode == 0 && synced.assignment == [1, 2, 3])

        func commit(_ offset: Int64, version: Int16, generation: Int32 = -1, member: String = "",
                    timestamp: Int64 = -1) throws -> Int16 {
            var request = OffsetCommitRequest()
            request.groupId = "old"
            request.generationIdOrMemberEpoch = generation
            request.memberId = member
            var topic = OffsetCommitRequest.OffsetCommitRequestTopic()
            topic.name = "orders"
            var partition = OffsetCommitRequest.OffsetCommitRequestPartition()
            partition.committedOffset = offset
            partition.commitTimestamp = timestamp
            partition.committedMetadata = "v\(version)"
            topic.partitions = [partition]
            request.topics = [topic]
            let answer: OffsetCommitResponse = try client.roundTrip(request, version: version)
            return answer.topics[0].partitions[0].errorCode
        }
        func fetched() throws -> (Int64, String?) {
            var request = OffsetFetchRequest()
            request.groupId = "old"
            var topic = OffsetFetchRequest.OffsetFetchRequestTopic()
            topic.name = "orders"
            topic.partitionIndexes = [0]
            request.topics = [topic]
            let answer: OffsetFetchResponse = try client.roundTrip(request, version: 0)
            let p = answer.topics[0].partitions[0]
            #expect(p.errorCode == 0)
            return (p.committedOffset, p.metadata)
        }

        let committedAt: Int64 = 1_600_000_000_000
        #expect(try commit(5, version: 1, generation: joined.generationId, member: joined.memberId,
                           timestamp: committedAt) == 0)
        #expect(try fetched() == (5, "v1"))
        let stored = b.broker.groups.inspect { $0.groups["old"]?.offsets.values.first }
        #expect(stored?.commitTimestamp == committedAt)
        #expect(try commit(6, version: 1, generation: joined.generationId + 1, member: joined.memberId)
                    == KafkaError.illegalGeneration.rawValue)
        // v0 carries no member: Kafka accepts it only for a group without members.
        #expect(try commit(7, version: 0) == KafkaError.unknownMemberId.rawValue)

        var leave = LeaveGroupRequest()
        leave.groupId = "old"
        leave.memberId = joined.memberId
        let left: LeaveGroupResponse = try client.roundTrip(leave, version: 0)
        #expect(left.errorCode == 0)
        #expect(try commit(7, version: 0) == 0)
        #expect(try fetched() == (7, "v0"))
    }

    /// ListOffsets v0: Kafka's legacy segment-based answer in `old_style_offsets`.
    @Test func listOffsetsV0AnswersWithOldStyleOffsets() throws {
        let b = try SecuredBroker(policy: "", authorizer: false)
        try b.createTopics("orders")
        let client = try b.connect("admin")
        for _ in 0..<3 {
            let produced: ProduceResponse = try client.roundTrip(produceRequest(["orders"], batch: try testBatch(count: 2)))
            #expect(errorsByTopic(produced) == ["orders": 0])
        }
        func offsets(_ timestamp: Int64, max: Int32, topic: String = "orders") throws -> (Int16, [Int64]) {
            var request = ListOffsetsRequest()
            request.replicaId = -1
            var t = ListOffsetsRequest.ListOffsetsTopic()
            t.name = topic
            var p = ListOffsetsRequest.ListOffsetsPartition()
            p.timestamp = timestamp
            p.maxNumOffsets = max
            t.partitions = [p]
            request.topics = [t]
            let answer: ListOffsetsResponse = try client.roundTrip(request, version: 0)
            let partition = answer.topics[0].partitions[0]
            return (partition.errorCode, partition.oldStyleOffsets)
        }
        // One segment starting at 0 and holding data: the log end, then the segment start.
        #expect(try offsets(-1, max: 1) == (0, [6]))
        #expect(try offsets(-1, max: 10) == (0, [6, 0]))
        #expect(try offsets(-2, max: 10) == (0, [0]))
        #expect(try offsets(SystemClock.nowMs() + 60_000, max: 10) == (0, [6, 0]))
        #expect(try offsets(1, max: 10) == (0, []))  // nothing was modified before 1970
        #expect(try offsets(-1, max: 10, topic: "missing").0 == KafkaError.unknownTopicOrPartition.rawValue)
    }
}
