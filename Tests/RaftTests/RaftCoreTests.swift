// Goal: the pieces of the Raft core that the simulator only exercises indirectly behave as KRaft
// specifies: the log's end offset per epoch (the basis of divergence answers), snapshot bounds and
// names, the order "persist the vote, then answer", pre-votes that change nothing, and fetches
// that wait for the flush. Method: single nodes driven by hand-made events.
import Testing
import Raft

@Suite struct RaftCoreTests {
    private func entries(_ epochs: [Int32]) -> [LogEntry] {
        epochs.map { LogEntry(epoch: $0, content: .data([UInt8(truncatingIfNeeded: $0)])) }
    }

    @Test func endOffsetForEpochFindsWhereAnEpochEnds() {
        let log = RaftLog(entries: entries([1, 1, 3, 3, 3, 5]))
        #expect(log.endOffset(forEpoch: 1) == OffsetAndEpoch(offset: 2, epoch: 1))
        #expect(log.endOffset(forEpoch: 2) == OffsetAndEpoch(offset: 2, epoch: 1))
        #expect(log.endOffset(forEpoch: 3) == OffsetAndEpoch(offset: 5, epoch: 3))
        #expect(log.endOffset(forEpoch: 5) == OffsetAndEpoch(offset: 6, epoch: 5))
        #expect(log.endOffset(forEpoch: 9) == OffsetAndEpoch(offset: 6, epoch: 5))
        #expect(log.endOffset(forEpoch: 0) == OffsetAndEpoch(offset: 0, epoch: 0))

        let bounded = RaftLog(startOffset: 10, startEpoch: 4, entries: entries([4, 6]))
        #expect(bounded.endOffset(forEpoch: 3) == nil, "older than the snapshot: only the snapshot answers")
        #expect(bounded.endOffset(forEpoch: 5) == OffsetAndEpoch(offset: 11, epoch: 4))
        #expect(bounded.epoch(at: 9) == 4)
    }

    @Test func snapshotsBoundTheLog() {
        var log = RaftLog(entries: entries([1, 1, 2, 2]))
        log.dropPrefix(through: SnapshotID(endOffset: 3, epoch: 2))
        #expect(log.startOffset == 3 && log.endOffset == 4 && log.startEpoch == 2)

        var disagreeing = RaftLog(entries: entries([1, 1, 1]))
        disagreeing.dropPrefix(through: SnapshotID(endOffset: 2, epoch: 2))
        #expect(disagreeing.startOffset == 2 && disagreeing.entries.isEmpty, "a log that disagrees with the snapshot goes")

        #expect(SnapshotID(endOffset: 42, epoch: 3).fileName == "00000000000000000042-0000000003.checkpoint")
    }

    @Test func singleVoterElectsItselfAndCommitsAfterTheFlush() {
        var node = RaftNode(id: 1, voters: [1], seed: 7, recovered: RecoveredState(), now: 0)
        var effects = node.handle(.tick, now: 10_000)
        #expect(node.role == .leader && node.epoch == 1)
        #expect(effects.contains(.becameLeader(epoch: 1)))
        effects = node.handle(.clientAppend([Array("a=1".utf8)]), now: 10_001)
        #expect(effects.contains(.appendAccepted(baseOffset: 1, count: 1, epoch: 1)))
        #expect(node.highWatermark == 0, "nothing is committed before it is flushed")
        let tokens = effects.compactMap { effect -> Int64? in
            if case .flushLog(let token) = effect { return token } else { return nil }
        }
        #expect(!tokens.isEmpty)
        effects = node.handle(.logFlushed(token: tokens.last!), now: 10_002)
        #expect(node.highWatermark == 2)
        #expect(effects.contains { if case .commit(let slice, 2) = $0 { slice.baseOffset == 0 && slice.entries.count == 2 } else { false } })
    }

    @Test func voteIsPersistedBeforeItIsAnswered() {
        var node = RaftNode(id: 2, voters: [1, 2, 3], seed: 1, recovered: RecoveredState(), now: 0)
        let request = VoteRequest(clusterId: nil, voterId: 2, candidateEpoch: 1, candidateId: 1, lastOffsetEpoch: 0,
                                  lastOffset: 0, preVote: false)
        let effects = node.handle(.received(Envelope(source: 1, destination: 2, correlationId: 5, message: .voteRequest(request))),
                                  now: 1)
        // The new epoch and then the vote are written; the answer comes after the last write.
        guard effects.count >= 2, case .persistQuorumState(let state) = effects[effects.count - 2],
              case .send(let answer) = effects[effects.count - 1], case .voteResponse(let response) = answer.message else {
            Issue.record("expected persist then answer, got \(effects)")
            return
        }
        #expect(state == QuorumStateData(leaderId: -1, leaderEpoch: 1, votedId: 1))
        #expect(response.voteGranted && answer.correlationId == 5 && answer.destination == 1)

        // A second candidate in the same epoch is refused.
        let rival = VoteRequest(clusterId: nil, voterId: 2, candidateEpoch: 1, candidateId: 3, lastOffsetEpoch: 0,
                                lastOffset: 0, preVote: false)
        let second = node.handle(.received(Envelope(source: 3, destination: 2, correlationId: 6, message: .voteRequest(rival))),
                                 now: 2)
        #expect(second.contains { if case .send(let e) = $0, case .voteResponse(let r) = e.message { !r.voteGranted } else { false } })
    }

    @Test func preVoteChangesNothingAndRefusesAStaleLog() {
        let recovered = RecoveredState(quorumState: QuorumStateData(leaderEpoch: 2), log: RaftLog(entries: entries([1, 2])))
        var node = RaftNode(id: 2, voters: [1, 2, 3], seed: 1, recovered: recovered, now: 0)
        func preVote(lastOffset: Int64, lastEpoch: Int32) -> Bool {
            let request = VoteRequest(clusterId: nil, voterId: 2, candidateEpoch: 3, candidateId: 1,
                                      lastOffsetEpoch: lastEpoch, lastOffset: lastOffset, preVote: true)
            let effects = node.handle(.received(Envelope(source: 1, destination: 2, correlationId: 1,
                                                         message: .voteRequest(request))), now: 1)
            #expect(!effects.contains { if case .persistQuorumState = $0 { true } else { false } })
            return effects.contains { if case .send(let e) = $0, case .voteResponse(let r) = e.message { r.voteGranted } else { false } }
        }
        #expect(preVote(lastOffset: 2, lastEpoch: 2))
        #expect(!preVote(lastOffset: 5, lastEpoch: 1), "a log ending in an older epoch is behind, however long")
        #expect(node.epoch == 2 && node.votedId == nil)
    }

    @Test func followerFetchesAgainOnlyAfterTheFlush() {
        let recovered = RecoveredState(quorumState: QuorumStateData(leaderId: 1, leaderEpoch: 1))
        var node = RaftNode(id: 2, voters: [1, 2, 3], seed: 1, recovered: recovered, now: 0)
        var effects = node.handle(.tick, now: 1)
        guard case .send(let fetch)? = effects.first, case .fetchRequest(let request) = fetch.message else {
            Issue.record("expected a fetch, got \(effects)")
            return
        }
        #expect(request.fetchOffset == 0 && request.currentLeaderEpoch == 1)
        let response = FetchResponse(errorCode: 0, highWatermark: 1, logStartOffset: 0, divergingEpoch: nil,
                                     currentLeader: LeaderIdAndEpoch(leaderId: 1, leaderEpoch: 1), snapshotId: nil,
                                     records: RecordSlice(baseOffset: 0, entries: entries([1, 1])))
        effects = node.handle(.received(Envelope(source: 1, destination: 2, correlationId: fetch.correlationId,
                                                 message: .fetchResponse(response))), now: 2)
        #expect(node.log.endOffset == 2 && node.highWatermark == 1)
        #expect(!effects.contains { if case .send = $0 { true } else { false } }, "no fetch before the flush")
        let token = effects.compactMap { if case .flushLog(let t) = $0 { t } else { nil } }.last!
        effects = node.handle(.logFlushed(token: token), now: 3)
        #expect(effects.contains { if case .send(let e) = $0, case .fetchRequest(let r) = e.message { r.fetchOffset == 2 } else { false } })
    }

    /// Raft's rule that the simulator rarely provokes (it needs a fetch that ends exactly at the
    /// new leader's first record): records of an older epoch on a majority are not committed
    /// until a record of the leader's own epoch is.
    @Test func leaderCommitsOnlyThroughARecordOfItsOwnEpoch() {
        let recovered = RecoveredState(quorumState: QuorumStateData(leaderEpoch: 1), log: RaftLog(entries: entries([1, 1])))
        var node = RaftNode(id: 1, voters: [1, 2, 3], seed: 3, recovered: recovered, now: 0)
        func grant(_ effects: [RaftEffect], preVote: Bool) -> [RaftEffect] {
            guard let request = effects.compactMap({ effect -> Envelope? in
                if case .send(let e) = effect, case .voteRequest = e.message, e.destination == 2 { e } else { nil }
            }).first else {
                Issue.record("no vote request in \(effects)")
                return []
            }
            let answer = VoteResponse(errorCode: 0, leaderId: -1, leaderEpoch: preVote ? 1 : 2, voteGranted: true, preVote: preVote)
            return node.handle(.received(Envelope(source: 2, destination: 1, correlationId: request.correlationId,
                                                  message: .voteResponse(answer))), now: 5_001)
        }
        var effects = grant(node.handle(.tick, now: 5_000), preVote: true)
        effects = grant(effects, preVote: false)
        #expect(node.role == .leader && node.epoch == 2)
        for case .flushLog(let token) in effects { _ = node.handle(.logFlushed(token: token), now: 5_002) }
        #expect(node.flushedOffset == 3, "the leader-change record sits at offset 2")

        func fetch(at offset: Int64, epoch: Int32) {
            let request = FetchRequest(clusterId: nil, replicaId: 2, maxWaitMs: 0, currentLeaderEpoch: 2, fetchOffset: offset,
                                       lastFetchedEpoch: epoch, logStartOffset: 0, partitionMaxBytes: 1_000)
            _ = node.handle(.received(Envelope(source: 2, destination: 1, correlationId: 9, message: .fetchRequest(request))),
                            now: 5_003)
        }
        fetch(at: 2, epoch: 1)
        #expect(node.highWatermark == 0, "a majority holds both epoch-1 records, yet they are not committed")
        fetch(at: 3, epoch: 2)
        #expect(node.highWatermark == 3)

        let quorum = node.describeQuorum(now: 5_010)
        #expect(quorum.leaderId == 1 && quorum.leaderEpoch == 2 && quorum.highWatermark == 3)
        #expect(quorum.currentVoters.map(\.replicaId) == [1, 2, 3])
        #expect(quorum.currentVoters.map(\.logEndOffset) == [3, 3, -1])
        #expect(quorum.currentVoters[1].lastFetchTimestamp == 5_003 && quorum.currentVoters[1].lastCaughtUpTimestamp == 5_003)
    }
}
