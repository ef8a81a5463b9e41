// Goal: every quorum message survives core struct → Kafka message → bytes → Kafka message → core
// struct unchanged, names `__cluster_metadata` partition 0 on the wire, and log entries become
// record batches whose partitionLeaderEpoch is the entry's epoch (one batch per run of one epoch
// and kind; leader changes as control batches). Method: hand-built messages through QuorumWire.
import Testing
import KafkaProtocol
import Raft
import Quorum

@Suite struct QuorumWireTests {
    static let entries: [LogEntry] = [
        LogEntry(epoch: 3, content: .data([1, 2, 3])),
        LogEntry(epoch: 3, content: .data([])),
        LogEntry(epoch: 4, content: .leaderChange(leaderID: 2)),
        LogEntry(epoch: 4, content: .data(Array("payload".utf8))),
        LogEntry(epoch: 4, content: .data([9])),
    ]

    static let leader = LeaderIdAndEpoch(leaderId: 2, leaderEpoch: 4)

    static let messages: [RaftMessage] = [
        .voteRequest(Raft.VoteRequest(clusterId: "c-1", voterId: 1, candidateEpoch: 5, candidateId: 2,
                                      lastOffsetEpoch: 4, lastOffset: 77, preVote: false)),
        .voteRequest(Raft.VoteRequest(clusterId: nil, voterId: 3, candidateEpoch: 6, candidateId: 1,
                                      lastOffsetEpoch: 0, lastOffset: 0, preVote: true)),
        .voteResponse(Raft.VoteResponse(errorCode: 0, leaderId: -1, leaderEpoch: 5, voteGranted: true, preVote: false)),
        .voteResponse(Raft.VoteResponse(errorCode: 74, leaderId: 3, leaderEpoch: 9, voteGranted: false, preVote: true)),
        .beginQuorumEpochRequest(Raft.BeginQuorumEpochRequest(clusterId: "c-1", voterId: 3, leaderId: 2, leaderEpoch: 4)),
        .beginQuorumEpochResponse(QuorumEpochResponse(errorCode: 0, leaderId: 2, leaderEpoch: 4)),
        .endQuorumEpochRequest(Raft.EndQuorumEpochRequest(clusterId: "c-1", leaderId: 2, leaderEpoch: 4,
                                                          preferredCandidates: [3, 1])),
        .endQuorumEpochResponse(QuorumEpochResponse(errorCode: 6, leaderId: -1, leaderEpoch: 5)),
        .fetchRequest(Raft.FetchRequest(clusterId: "c-1", replicaId: 3, maxWaitMs: 500, currentLeaderEpoch: 4,
                                        fetchOffset: 120, lastFetchedEpoch: 3, logStartOffset: 100,
                                        partitionMaxBytes: 1 << 20)),
        .fetchResponse(Raft.FetchResponse(errorCode: 0, highWatermark: 118, logStartOffset: 100, divergingEpoch: nil,
                                          currentLeader: leader, snapshotId: nil,
                                          records: RecordSlice(baseOffset: 120, entries: entries))),
        .fetchResponse(Raft.FetchResponse(errorCode: 0, highWatermark: 118, logStartOffset: 100,
                                          divergingEpoch: OffsetAndEpoch(offset: 90, epoch: 2),
                                          currentLeader: leader, snapshotId: nil, records: nil)),
        .fetchResponse(Raft.FetchResponse(errorCode: 0, highWatermark: 118, logStartOffset: 100, divergingEpoch: nil,
                                          currentLeader: leader, snapshotId: SnapshotID(endOffset: 100, epoch: 3),
                                          records: nil)),
        .fetchResponse(Raft.FetchResponse(errorCode: 74, highWatermark: -1, logStartOffset: -1, divergingEpoch: nil,
                                          currentLeader: LeaderIdAndEpoch(leaderId: -1, leaderEpoch: 7),
                                          snapshotId: nil, records: nil)),
        .fetchSnapshotRequest(Raft.FetchSnapshotRequest(clusterId: "c-1", replicaId: 3, maxBytes: 4096,
                                                        currentLeaderEpoch: 4,
                                                        snapshotId: SnapshotID(endOffset: 100, epoch: 3), position: 8192)),
        .fetchSnapshotResponse(Raft.FetchSnapshotResponse(errorCode: 0, snapshotId: SnapshotID(endOffset: 100, epoch: 3),
                                                          currentLeader: leader, size: 10_000, position: 8192,
                                                          unalignedRecords: Array(repeating: 7, count: 300))),
    ]

    @Test(arguments: messages)
    func roundTripThroughBytes(_ message: RaftMessage) throws {
        var kept = OutstandingRequest()
        if case .voteRequest(let request) = message { kept.preVote = request.preVote }
        if case .voteResponse(let response) = message { kept.preVote = response.preVote }
        if case .fetchResponse(let response) = message { kept.fetchOffset = response.records?.baseOffset }
        let frame = QuorumWire.encode(message)
        #expect(!frame.body.isEmpty)
        let decoded = try QuorumWire.decode(frame, request: kept)
        #expect(decoded == message)
    }

    @Test func requestsNameTheMetadataPartition() throws {
        let fetch = QuorumWire.kafka(Raft.FetchRequest(clusterId: "c", replicaId: 2, maxWaitMs: 1, currentLeaderEpoch: 1,
                                                       fetchOffset: 0, lastFetchedEpoch: 0, logStartOffset: 0,
                                                       partitionMaxBytes: 10))
        #expect(fetch.topics.map(\.topic) == ["__cluster_metadata"])
        #expect(fetch.topics[0].topicId == KafkaUUID(high: 0, low: 1))
        #expect(fetch.topics[0].partitions.map(\.partition) == [0])
        #expect(fetch.replicaState.replicaId == 2)

        let vote = QuorumWire.kafka(Raft.VoteRequest(clusterId: "c", voterId: 1, candidateEpoch: 2, candidateId: 3,
                                                     lastOffsetEpoch: 1, lastOffset: 5, preVote: false))
        #expect(vote.topics.map(\.topicName) == ["__cluster_metadata"])
        #expect(vote.topics[0].partitions.map(\.partitionIndex) == [0])

        // A message about another partition is refused, not guessed at.
        var other = vote
        other.topics[0].partitions[0].partitionIndex = 1
        #expect(throws: QuorumWireError.missingMetadataPartition(api: "VoteRequest")) {
            try QuorumWire.raft(other, preVote: false)
        }
    }

    @Test func describeQuorumRoundTrip() throws {
        let described = DescribeQuorumPartition(
            errorCode: 0, leaderId: 1, leaderEpoch: 4, highWatermark: 55,
            currentVoters: [.init(replicaId: 1, logEndOffset: 60, lastFetchTimestamp: 1000, lastCaughtUpTimestamp: 1000),
                            .init(replicaId: 2, logEndOffset: 50, lastFetchTimestamp: 990, lastCaughtUpTimestamp: -1)])
        let message = QuorumWire.kafka(described)
        var writer = WireWriter()
        message.encode(to: &writer, version: QuorumWire.describeQuorumVersion)
        var reader = WireReader(writer.bytes)
        let decoded = try KafkaProtocol.DescribeQuorumResponse(from: &reader, version: QuorumWire.describeQuorumVersion)
        #expect(try QuorumWire.raft(decoded) == described)
        #expect(QuorumWire.describeQuorumRequest().topics[0].partitions.map(\.partitionIndex) == [0])
    }

    @Test func fetchAnswersAreCheckedAgainstTheFetchOffset() throws {
        let nothingNew = RaftMessage.fetchResponse(Raft.FetchResponse(
            errorCode: 0, highWatermark: 130, logStartOffset: 0, divergingEpoch: nil, currentLeader: Self.leader,
            snapshotId: nil, records: RecordSlice(baseOffset: 130, entries: [])))
        // Empty Records name no offset: the kept fetch offset restores the empty slice the core expects.
        #expect(try QuorumWire.decode(QuorumWire.encode(nothingNew), request: OutstandingRequest(fetchOffset: 130)) == nothingNew)
        let fetched = RaftMessage.fetchResponse(Raft.FetchResponse(
            errorCode: 0, highWatermark: 130, logStartOffset: 0, divergingEpoch: nil, currentLeader: Self.leader,
            snapshotId: nil, records: RecordSlice(baseOffset: 120, entries: Self.entries)))
        #expect(throws: QuorumWireError.self) {
            try QuorumWire.decode(QuorumWire.encode(fetched), request: OutstandingRequest(fetchOffset: 121))
        }
        let request = RaftMessage.fetchRequest(Raft.FetchRequest(clusterId: nil, replicaId: 2, maxWaitMs: 0, currentLeaderEpoch: 1,
                                                                 fetchOffset: 77, lastFetchedEpoch: 1, logStartOffset: 0,
                                                                 partitionMaxBytes: 1))
        #expect(OutstandingRequest(request) == OutstandingRequest(fetchOffset: 77))
    }

    @Test func entriesBecomeOneBatchPerEpochAndKind() throws {
        let bytes = QuorumRecords.batches(for: RecordSlice(baseOffset: 120, entries: Self.entries), timestamp: 1_700)
        let batches = Array(RecordBatches.batches(in: bytes))
        #expect(batches.map(\.header.baseOffset) == [120, 122, 123])
        #expect(batches.map(\.header.partitionLeaderEpoch) == [3, 4, 4])
        #expect(batches.map(\.header.isControl) == [false, true, false])
        #expect(batches.map(\.header.recordsCount) == [2, 1, 2])
        // The control record's key is ControlRecordType LEADER_CHANGE (version 0, type 2).
        let control = try RecordBatches.records(in: bytes, batchStart: batches[1].start, maxDecompressedSize: 1 << 20)
        #expect(control[0].key == [0, 0, 0, 2])
        #expect(try QuorumRecords.slice(from: bytes) == RecordSlice(baseOffset: 120, entries: Self.entries))
    }

    @Test func tornOrGappedRecordsAreRefused() throws {
        let bytes = QuorumRecords.batches(for: RecordSlice(baseOffset: 0, entries: Self.entries))
        #expect(throws: QuorumRecordsError.self) { try QuorumRecords.slice(from: Array(bytes.dropLast(3))) }
        // A fetch response may end in a partial batch; the whole batches before it count.
        let cut = try QuorumRecords.slice(from: Array(bytes.dropLast(3)), allowPartialTail: true)
        #expect(cut == RecordSlice(baseOffset: 0, entries: Array(Self.entries.prefix(3))))
        var corrupt = bytes
        corrupt[corrupt.count - 1] ^= 0xFF
        #expect(throws: QuorumRecordsError.self) { try QuorumRecords.slice(from: corrupt) }
        let gap = QuorumRecords.batches(for: RecordSlice(baseOffset: 0, entries: [Self.entries[0]]))
            + QuorumRecords.batches(for: RecordSlice(baseOffset: 5, entries: [Self.entries[1]]))
        #expect(throws: QuorumRecordsError.offsetGap(expected: 1, found: 5)) { try QuorumRecords.slice(from: gap) }
    }
}
