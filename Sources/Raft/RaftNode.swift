// The KRaft state machine of one voter (KIP-595 with KIP-996 pre-vote and KIP-630 snapshots):
// events and the caller's clock in, effects out. No I/O, no clock reads, no global randomness.
//
// Contract with the I/O layer (and the simulator):
// - Effects are carried out in order. `persistQuorumState` and `installSnapshot` are durable
//   before the next effect runs (write, fsync, rename), so a vote is on disk before its answer
//   leaves. `appendToLog`/`truncateLog`/`deleteLogBefore` may sit in the page cache until a
//   `flushLog` completes; the I/O layer reports that with `.logFlushed(token)`.
// - The node counts only flushed entries as its own for commit, and a follower asks for more only
//   once what it has is flushed, so every offset a leader counts toward the high watermark is on
//   a disk that has synced it.

public enum RaftRole: String, Hashable, Sendable {
    /// Knows the epoch but no leader; waits for a leader or its election timeout.
    case unattached
    /// Runs a pre-vote (KIP-996) before bumping the epoch.
    case prospective
    case candidate
    case leader
    case follower
    /// A former leader of the current epoch (restarted or stepping down): serves no one, votes
    /// for no one in this epoch, and campaigns after its election timeout.
    case resigned
}

public enum RaftEvent: Sendable {
    /// Time passed; the caller decides how often (timeouts are checked here).
    case tick
    case received(Envelope)
    /// A client's records for the leader to append (answered with `appendAccepted` or
    /// `appendRejected`).
    case clientAppend([[UInt8]])
    /// The flush that `flushLog(token)` asked for is done.
    case logFlushed(token: Int64)
    /// The state machine wrote a snapshot of everything below `id.endOffset` (at most the
    /// applied offset); `data` is what a lagging follower will fetch.
    case snapshotTaken(SnapshotID, data: [UInt8])
    /// Graceful shutdown of a leader: hand over (EndQuorumEpoch) and stop serving.
    case resign
}

public enum RaftEffect: Hashable, Sendable {
    case send(Envelope)
    case persistQuorumState(QuorumStateData)
    case appendToLog(RecordSlice)
    case truncateLog(to: Int64)
    case flushLog(token: Int64)
    /// Write the snapshot durably, replace the log by an empty one starting at its end, and
    /// load the state machine from it.
    case installSnapshot(SnapshotID, data: [UInt8])
    /// The log below this offset is covered by the latest snapshot and may be deleted.
    case deleteLogBefore(Int64)
    case becameLeader(epoch: Int32)
    case becameFollower(leaderId: ReplicaID, epoch: Int32)
    /// Records newly below the high watermark, in order, for the state machine.
    case commit(RecordSlice, highWatermark: Int64)
    case appendAccepted(baseOffset: Int64, count: Int, epoch: Int32)
    case appendRejected(leaderId: ReplicaID?, epoch: Int32)
}

/// What the I/O layer found on disk at start-up.
public struct RecoveredState: Sendable {
    public var quorumState: QuorumStateData
    public var snapshot: (id: SnapshotID, data: [UInt8])?
    /// The log as read back (after the usual tail recovery): it may start below the snapshot or
    /// disagree with it, in which case the snapshot wins.
    public var log: RaftLog

    public init(quorumState: QuorumStateData = QuorumStateData(), snapshot: (id: SnapshotID, data: [UInt8])? = nil,
                log: RaftLog = RaftLog()) {
        self.quorumState = quorumState
        self.snapshot = snapshot
        self.log = log
    }
}

public struct RaftNode: Sendable {
    public let id: ReplicaID
    public let voters: [ReplicaID]
    public let config: RaftConfig
    public let clusterId: String?
    private var random: SplitMix64

    public private(set) var role: RaftRole
    public private(set) var epoch: Int32
    public private(set) var leaderId: ReplicaID?
    public private(set) var votedId: ReplicaID?
    public private(set) var log: RaftLog
    /// End of the prefix of the log known to be on disk.
    public private(set) var flushedOffset: Int64
    public private(set) var highWatermark: Int64
    /// Everything below has been handed to the state machine (by `commit` or a snapshot).
    public private(set) var appliedOffset: Int64
    public private(set) var snapshot: (id: SnapshotID, data: [UInt8])?

    private var persisted: QuorumStateData
    private var nextCorrelationId: Int32 = 1
    private var nextFlushToken: Int64 = 1
    /// Flushes asked for and not yet reported, with the log end each covers.
    private var pendingFlushes: [(token: Int64, endOffset: Int64)] = []

    // Unattached, prospective, candidate, resigned: when to act next.
    private var electionDeadline: Int64 = 0
    private var votesGranted: Set<ReplicaID> = []
    /// A candidate that lost waits until here before the next pre-vote.
    private var backoffUntil: Int64?

    private var follower = FollowerProgress()
    private var leader = LeaderProgress()

    private struct FollowerProgress {
        /// Last time the leader answered; the leader counts as alive until + fetchTimeout.
        var lastLeaderContact: Int64 = 0
        var leaderResigned = false
        var resignedElectionAt: Int64 = 0
        var inflight: (correlationId: Int32, sentAt: Int64)?
        var retryAt: Int64?
        var snapshotFetch: (id: SnapshotID, data: [UInt8])?
    }

    private struct LeaderProgress {
        struct Replica {
            var endOffset: Int64 = -1
            var lastFetch: Int64 = -1
            var lastCaughtUp: Int64 = -1
        }
        /// Offset of this epoch's leader-change record: the high watermark must pass it.
        var epochStartOffset: Int64 = 0
        var replicas: [ReplicaID: Replica] = [:]
        var electedAt: Int64 = 0
        var lastBeginQuorumSend: Int64 = 0
        /// Fetches with nothing to return, answered when the log or high watermark moves.
        var parked: [ReplicaID: (envelope: Envelope, deadline: Int64)] = [:]
    }

    public init(id: ReplicaID, voters: [ReplicaID], config: RaftConfig = RaftConfig(), clusterId: String? = nil,
                seed: UInt64, recovered: RecoveredState, now: Int64) {
        precondition(voters.contains(id), "node \(id) is not a voter")
        precondition(Set(voters).count == voters.count, "duplicate voter ids")
        self.id = id
        self.voters = voters.sorted()
        self.config = config
        self.clusterId = clusterId
        random = SplitMix64(seed: seed)
        // Correlation ids start at a random point, so answers to a previous process (which a
        // transport might still hand over) do not match this one's requests.
        nextCorrelationId = 1 + Int32(random.next(below: Int64(Int32.max / 2)))
        var recoveredLog = recovered.log
        if let snapshot = recovered.snapshot { recoveredLog.dropPrefix(through: snapshot.id) }
        precondition(recoveredLog.startOffset == (recovered.snapshot?.id.endOffset ?? 0),
                     "a recovered log must start at 0 or at the snapshot's end")
        log = recoveredLog
        snapshot = recovered.snapshot
        flushedOffset = log.endOffset
        highWatermark = log.startOffset
        appliedOffset = log.startOffset
        let state = recovered.quorumState
        persisted = state
        epoch = max(0, state.leaderEpoch)
        role = .unattached
        leaderId = nil
        votedId = state.votedId >= 0 ? state.votedId : nil
        if state.leaderId == id {
            // We led this epoch before the restart; we never lead it again (our unflushed
            // records of it may be gone while followers have them).
            leaderId = id
            role = .resigned
            electionDeadline = now + randomElectionTimeout()
        } else if state.leaderId >= 0 {
            var ignored: [RaftEffect] = []
            becomeFollower(epoch: epoch, leader: state.leaderId, now: now, effects: &ignored)
            // Nothing is sent from the constructor; the first tick sends the fetch.
            follower.inflight = nil
            follower.retryAt = now
        } else {
            electionDeadline = now + randomElectionTimeout()
        }
        checkInvariants()
    }

    // MARK: - The one entry point

    public mutating func handle(_ event: RaftEvent, now: Int64) -> [RaftEffect] {
        var effects: [RaftEffect] = []
        switch event {
        case .tick: tick(now: now, effects: &effects)
        case .received(let envelope):
            precondition(envelope.destination == id, "message for \(envelope.destination) delivered to \(id)")
            receive(envelope, now: now, effects: &effects)
        case .clientAppend(let payloads): clientAppend(payloads, now: now, effects: &effects)
        case .logFlushed(let token): logFlushed(token: token, now: now, effects: &effects)
        case .snapshotTaken(let snapshotId, let data): snapshotTaken(snapshotId, data: data, effects: &effects)
        case .resign: resign(now: now, effects: &effects)
        }
        checkInvariants()
        return effects
    }

    public var majority: Int { voters.count / 2 + 1 }

    /// The snapshot id a state machine should use for an image of everything below `endOffset`.
    public func snapshotID(endingAt endOffset: Int64) -> SnapshotID {
        precondition(endOffset <= appliedOffset && endOffset >= log.startOffset)
        guard let epoch = log.epoch(at: endOffset - 1) else { return SnapshotID(endOffset: 0, epoch: 0) }
        return SnapshotID(endOffset: endOffset, epoch: epoch)
    }

    /// DescribeQuorum as the leader answers it; other nodes answer NOT_LEADER_OR_FOLLOWER.
    public func describeQuorum(now: Int64) -> DescribeQuorumPartition {
        guard role == .leader else {
            return DescribeQuorumPartition(errorCode: RaftErrorCode.notLeaderOrFollower.rawValue,
                                           leaderId: leaderId ?? -1, leaderEpoch: epoch,
                                           highWatermark: -1, currentVoters: [])
        }
        let states = voters.map { voter -> DescribeQuorumPartition.ReplicaState in
            if voter == id {
                return .init(replicaId: id, logEndOffset: log.endOffset, lastFetchTimestamp: now, lastCaughtUpTimestamp: now)
            }
            let replica = leader.replicas[voter] ?? LeaderProgress.Replica()
            return .init(replicaId: voter, logEndOffset: replica.endOffset, lastFetchTimestamp: replica.lastFetch,
                         lastCaughtUpTimestamp: replica.lastCaughtUp)
        }
        return DescribeQuorumPartition(errorCode: 0, leaderId: id, leaderEpoch: epoch,
                                       highWatermark: highWatermark, currentVoters: states)
    }

    // MARK: - Invariants

    private func checkInvariants() {
        precondition(log.startOffset <= appliedOffset && appliedOffset <= highWatermark,
                     "applied \(appliedOffset) must lie between the log start \(log.startOffset) and the HW \(highWatermark)")
        precondition(highWatermark <= log.endOffset, "HW \(highWatermark) beyond the log end \(log.endOffset)")
        precondition(log.startOffset <= flushedOffset && flushedOffset <= log.endOffset, "flushed offset outside the log")
        precondition(log.lastEpoch <= epoch, "log holds epoch \(log.lastEpoch) above the node's epoch \(epoch)")
        precondition(snapshot.map { $0.id.endOffset == log.startOffset } ?? (log.startOffset == 0),
                     "the log must start where the latest snapshot ends")
        switch role {
        case .leader:
            precondition(leaderId == id && votedId == id, "a leader voted for itself and knows it leads")
        case .follower:
            precondition(leaderId != nil && leaderId != id, "a follower follows someone else")
        case .candidate:
            precondition(votedId == id && leaderId == nil, "a candidate voted for itself and knows no leader")
        case .resigned:
            precondition(leaderId == id, "only the epoch's leader resigns")
        case .unattached, .prospective:
            break
        }
        precondition(persisted == currentQuorumState, "quorum state changed without being persisted")
    }

    private var currentQuorumState: QuorumStateData {
        QuorumStateData(leaderId: leaderId ?? -1, leaderEpoch: epoch, votedId: votedId ?? -1)
    }

    // MARK: - Transitions

    private mutating func persistIfChanged(_ effects: inout [RaftEffect]) {
        let state = currentQuorumState
        if state != persisted {
            persisted = state
            effects.append(.persistQuorumState(state))
        }
    }

    private mutating func randomElectionTimeout() -> Int64 {
        config.electionTimeoutMs + random.next(below: max(1, config.electionTimeoutMs))
    }

    private mutating func randomBackoff() -> Int64 {
        config.retryBackoffMs + random.next(below: max(1, config.electionBackoffMaxMs))
    }

    private mutating func leaveRole(effects: inout [RaftEffect]) {
        if role == .leader {
            // Parked fetches are answered at once (NOT_LEADER_OR_FOLLOWER) rather than left to time
            // out; in replica order, because dictionary order changes from process to process and
            // a replay must send the same messages in the same order.
            let parked = leader.parked.sorted { $0.key < $1.key }.map(\.value.envelope)
            leader = LeaderProgress()
            for envelope in parked {
                reply(to: envelope, .fetchResponse(errorFetchResponse(.notLeaderOrFollower)), effects: &effects)
            }
        }
        follower = FollowerProgress()
        votesGranted = []
        backoffUntil = nil
    }

    private mutating func becomeUnattached(epoch newEpoch: Int32, votedId vote: ReplicaID?, now: Int64,
                                           effects: inout [RaftEffect]) {
        precondition(newEpoch >= epoch)
        leaveRole(effects: &effects)
        epoch = newEpoch
        leaderId = nil
        votedId = vote
        role = .unattached
        electionDeadline = now + randomElectionTimeout()
        persistIfChanged(&effects)
    }

    private mutating func becomeFollower(epoch newEpoch: Int32, leader newLeader: ReplicaID, now: Int64,
                                         effects: inout [RaftEffect]) {
        precondition(newEpoch >= epoch && newLeader != id)
        precondition(!(newEpoch == epoch && leaderId != nil && leaderId != newLeader),
                     "two leaders in epoch \(epoch): \(leaderId ?? -1) and \(newLeader)")
        leaveRole(effects: &effects)
        if newEpoch > epoch { votedId = nil }
        epoch = newEpoch
        leaderId = newLeader
        role = .follower
        follower.lastLeaderContact = now
        persistIfChanged(&effects)
        effects.append(.becameFollower(leaderId: newLeader, epoch: newEpoch))
        sendFetchIfReady(now: now, effects: &effects)
    }

    private mutating func becomeProspective(now: Int64, effects: inout [RaftEffect]) {
        leaveRole(effects: &effects)
        // A prospective node keeps its epoch, vote and the leader it lost: it has not started an
        // election yet, and forgetting the leader would let it vote a second time in this epoch
        // (for a candidate that lost to that leader), which could make two leaders.
        role = .prospective
        votesGranted = [id]
        electionDeadline = now + randomElectionTimeout()
        if votesGranted.count >= majority {
            becomeCandidate(now: now, effects: &effects)
            return
        }
        requestVotes(epoch: epoch + 1, preVote: true, effects: &effects)
    }

    private mutating func requestVotes(epoch candidateEpoch: Int32, preVote: Bool, effects: inout [RaftEffect]) {
        for voter in voters where voter != id {
            send(.voteRequest(VoteRequest(clusterId: clusterId, voterId: voter, candidateEpoch: candidateEpoch, candidateId: id,
                                          lastOffsetEpoch: log.lastEpoch, lastOffset: log.endOffset, preVote: preVote)),
                 to: voter, effects: &effects)
        }
    }

    private mutating func becomeCandidate(now: Int64, effects: inout [RaftEffect]) {
        leaveRole(effects: &effects)
        epoch += 1
        leaderId = nil
        votedId = id
        role = .candidate
        persistIfChanged(&effects)
        votesGranted = [id]
        electionDeadline = now + randomElectionTimeout()
        if votesGranted.count >= majority {
            becomeLeader(now: now, effects: &effects)
            return
        }
        requestVotes(epoch: epoch, preVote: false, effects: &effects)
    }

    private mutating func becomeLeader(now: Int64, effects: inout [RaftEffect]) {
        precondition(role == .candidate && votedId == id && votesGranted.count >= majority)
        leaveRole(effects: &effects)
        leaderId = id
        role = .leader
        persistIfChanged(&effects)
        leader.electedAt = now
        leader.epochStartOffset = log.endOffset
        for voter in voters where voter != id { leader.replicas[voter] = LeaderProgress.Replica() }
        effects.append(.becameLeader(epoch: epoch))
        appendAsLeader([LogEntry(epoch: epoch, content: .leaderChange(leaderID: id))], now: now, effects: &effects)
        sendBeginQuorumEpoch(now: now, effects: &effects)
        // A one-voter quorum commits on its own flush; nothing else to wait for.
    }

    private mutating func sendBeginQuorumEpoch(now: Int64, effects: inout [RaftEffect]) {
        leader.lastBeginQuorumSend = now
        // Voters that never fetched in this epoch, or stopped (they may have started a pre-vote
        // they cannot win while the others follow us), hear about us again.
        for voter in voters where voter != id {
            let lastFetch = leader.replicas[voter]?.lastFetch ?? -1
            guard lastFetch < 0 || now - lastFetch >= config.fetchTimeoutMs else { continue }
            send(.beginQuorumEpochRequest(BeginQuorumEpochRequest(clusterId: clusterId, voterId: voter, leaderId: id,
                                                                  leaderEpoch: epoch)),
                 to: voter, effects: &effects)
        }
    }

    /// A message or answer showed a newer epoch: adopt it.
    private mutating func observe(epoch newEpoch: Int32, leader newLeader: ReplicaID?, now: Int64,
                                  effects: inout [RaftEffect]) {
        precondition(newEpoch > epoch)
        precondition(newLeader != id, "told that this node leads epoch \(newEpoch), which it never started")
        if let newLeader, newLeader >= 0 {
            becomeFollower(epoch: newEpoch, leader: newLeader, now: now, effects: &effects)
        } else {
            becomeUnattached(epoch: newEpoch, votedId: nil, now: now, effects: &effects)
        }
    }

    private mutating func resign(now: Int64, effects: inout [RaftEffect]) {
        guard role == .leader else { return }
        let candidates = voters.filter { $0 != id }.sorted {
            (leader.replicas[$0]?.endOffset ?? -1, -$0) > (leader.replicas[$1]?.endOffset ?? -1, -$1)
        }
        leaveRole(effects: &effects)
        role = .resigned
        electionDeadline = now + randomElectionTimeout()
        for voter in voters where voter != id {
            send(.endQuorumEpochRequest(EndQuorumEpochRequest(clusterId: clusterId, leaderId: id, leaderEpoch: epoch,
                                                              preferredCandidates: candidates)),
                 to: voter, effects: &effects)
        }
    }

    // MARK: - Timers

    private mutating func tick(now: Int64, effects: inout [RaftEffect]) {
        switch role {
        case .unattached, .resigned:
            if now >= electionDeadline { becomeProspective(now: now, effects: &effects) }
        case .prospective:
            if now >= electionDeadline { becomeProspective(now: now, effects: &effects) }
        case .candidate:
            if let backoffUntil {
                if now >= backoffUntil { becomeProspective(now: now, effects: &effects) }
            } else if now >= electionDeadline {
                backoffUntil = now + randomBackoff()
            }
        case .follower:
            if follower.leaderResigned {
                if now >= follower.resignedElectionAt { becomeProspective(now: now, effects: &effects) }
            } else if now >= follower.lastLeaderContact + config.fetchTimeoutMs {
                becomeProspective(now: now, effects: &effects)
            } else {
                if let inflight = follower.inflight, now >= inflight.sentAt + config.requestTimeoutMs {
                    follower.inflight = nil
                }
                sendFetchIfReady(now: now, effects: &effects)
            }
        case .leader:
            leaderTick(now: now, effects: &effects)
        }
    }

    private mutating func leaderTick(now: Int64, effects: inout [RaftEffect]) {
        // Check quorum: without fetches from a majority for 1.5 fetch timeouts this leader may be
        // cut off, and a new leader may already exist; stop pretending.
        let contacts = voters.map { $0 == id ? now : max(leader.replicas[$0]?.lastFetch ?? -1, leader.electedAt) }
            .sorted(by: >)
        if now - contacts[majority - 1] > config.fetchTimeoutMs + config.fetchTimeoutMs / 2 {
            leaveRole(effects: &effects)
            role = .resigned
            electionDeadline = now + randomElectionTimeout()
            return
        }
        if now - leader.lastBeginQuorumSend >= config.electionTimeoutMs / 2 {
            sendBeginQuorumEpoch(now: now, effects: &effects)
        }
        let expired = leader.parked.filter { $0.value.deadline <= now }.sorted { $0.key < $1.key }
        for (replica, parked) in expired {
            leader.parked[replica] = nil
            answerFetch(parked.envelope, now: now, effects: &effects)
        }
    }

    // MARK: - Client appends and the log

    private mutating func clientAppend(_ payloads: [[UInt8]], now: Int64, effects: inout [RaftEffect]) {
        guard role == .leader else {
            effects.append(.appendRejected(leaderId: role == .follower ? leaderId : nil, epoch: epoch))
            return
        }
        let base = log.endOffset
        appendAsLeader(payloads.map { LogEntry(epoch: epoch, content: .data($0)) }, now: now, effects: &effects)
        effects.append(.appendAccepted(baseOffset: base, count: payloads.count, epoch: epoch))
    }

    private mutating func appendAsLeader(_ entries: [LogEntry], now: Int64, effects: inout [RaftEffect]) {
        guard !entries.isEmpty else { return }
        appendToLog(entries, effects: &effects)
        answerParkedFetches(now: now, effects: &effects)
    }

    private mutating func appendToLog(_ entries: [LogEntry], effects: inout [RaftEffect]) {
        let base = log.endOffset
        log.append(entries)
        effects.append(.appendToLog(RecordSlice(baseOffset: base, entries: entries)))
        requestFlush(effects: &effects)
    }

    private mutating func requestFlush(effects: inout [RaftEffect]) {
        let token = nextFlushToken
        nextFlushToken += 1
        pendingFlushes.append((token, log.endOffset))
        effects.append(.flushLog(token: token))
    }

    private mutating func truncateLog(to offset: Int64, effects: inout [RaftEffect]) {
        precondition(offset >= highWatermark, "truncation to \(offset) would drop committed records below \(highWatermark)")
        guard offset < log.endOffset else { return }
        log.truncate(to: offset)
        flushedOffset = min(flushedOffset, offset)
        // Flushes asked for before the truncation say nothing about what is written after it.
        pendingFlushes = []
        effects.append(.truncateLog(to: offset))
        if flushedOffset < log.endOffset { requestFlush(effects: &effects) }
    }

    private mutating func logFlushed(token: Int64, now: Int64, effects: inout [RaftEffect]) {
        guard let index = pendingFlushes.firstIndex(where: { $0.token == token }) else { return }
        flushedOffset = max(flushedOffset, min(pendingFlushes[index].endOffset, log.endOffset))
        pendingFlushes.removeFirst(index + 1)
        switch role {
        case .leader: advanceHighWatermark(now: now, effects: &effects)
        case .follower: sendFetchIfReady(now: now, effects: &effects)
        default: break
        }
    }

    private mutating func advanceHighWatermark(now: Int64, effects: inout [RaftEffect]) {
        let ends = voters.map { $0 == id ? flushedOffset : (leader.replicas[$0]?.endOffset ?? -1) }.sorted(by: >)
        let candidate = ends[majority - 1]
        // Only an offset past this epoch's first record commits: earlier-epoch records commit
        // with it (Raft's rule for a new leader, KRaft's leader-change record).
        guard candidate > highWatermark && candidate > leader.epochStartOffset else { return }
        setHighWatermark(candidate, effects: &effects)
        answerParkedFetches(now: now, effects: &effects)
    }

    private mutating func setHighWatermark(_ offset: Int64, effects: inout [RaftEffect]) {
        guard offset > highWatermark else { return }
        precondition(offset <= log.endOffset)
        highWatermark = offset
        if appliedOffset < highWatermark {
            let entries = log.entries[Int(appliedOffset - log.startOffset)..<Int(highWatermark - log.startOffset)]
            effects.append(.commit(RecordSlice(baseOffset: appliedOffset, entries: Array(entries)),
                                   highWatermark: highWatermark))
            appliedOffset = highWatermark
        }
    }

    private mutating func snapshotTaken(_ snapshotId: SnapshotID, data: [UInt8], effects: inout [RaftEffect]) {
        precondition(snapshotId.endOffset <= appliedOffset, "a snapshot may only hold applied records")
        guard snapshotId.endOffset > log.startOffset else { return }
        precondition(log.epoch(at: snapshotId.endOffset - 1) == snapshotId.epoch, "snapshot epoch disagrees with the log")
        snapshot = (snapshotId, data)
        log.dropPrefix(through: snapshotId)
        // The snapshot is on disk, so what it covers is durable whether or not the log was flushed.
        flushedOffset = max(flushedOffset, snapshotId.endOffset)
        effects.append(.deleteLogBefore(snapshotId.endOffset))
    }

    // MARK: - Messages

    @discardableResult
    private mutating func send(_ message: RaftMessage, to destination: ReplicaID, effects: inout [RaftEffect]) -> Int32 {
        let correlationId = nextCorrelationId
        nextCorrelationId = nextCorrelationId == Int32.max ? 1 : nextCorrelationId + 1
        effects.append(.send(Envelope(source: id, destination: destination, correlationId: correlationId, message: message)))
        return correlationId
    }

    private func reply(to request: Envelope, _ message: RaftMessage, effects: inout [RaftEffect]) {
        effects.append(.send(Envelope(source: id, destination: request.source, correlationId: request.correlationId,
                                      message: message)))
    }

    private var currentLeader: LeaderIdAndEpoch { LeaderIdAndEpoch(leaderId: leaderId ?? -1, leaderEpoch: epoch) }

    private mutating func receive(_ envelope: Envelope, now: Int64, effects: inout [RaftEffect]) {
        switch envelope.message {
        case .voteRequest(let request): handleVote(envelope, request, now: now, effects: &effects)
        case .voteResponse(let response): handleVoteResponse(envelope, response, now: now, effects: &effects)
        case .beginQuorumEpochRequest(let request): handleBeginQuorumEpoch(envelope, request, now: now, effects: &effects)
        case .endQuorumEpochRequest(let request): handleEndQuorumEpoch(envelope, request, now: now, effects: &effects)
        case .beginQuorumEpochResponse(let response), .endQuorumEpochResponse(let response):
            if response.leaderEpoch > epoch {
                observe(epoch: response.leaderEpoch, leader: response.leaderId, now: now, effects: &effects)
            }
        case .fetchRequest(let request): handleFetch(envelope, request, now: now, effects: &effects)
        case .fetchResponse(let response): handleFetchResponse(envelope, response, now: now, effects: &effects)
        case .fetchSnapshotRequest(let request): handleFetchSnapshot(envelope, request, effects: &effects)
        case .fetchSnapshotResponse(let response):
            handleFetchSnapshotResponse(envelope, response, now: now, effects: &effects)
        }
    }

    private mutating func handleVote(_ envelope: Envelope, _ request: VoteRequest, now: Int64,
                                     effects: inout [RaftEffect]) {
        let candidateLog = OffsetAndEpoch(offset: request.lastOffset, epoch: request.lastOffsetEpoch)
        let logIsUpToDate = candidateLog >= log.end
        if request.preVote {
            // KIP-996: no state changes; refuse while a leader is known to be alive, so a node that
            // was cut off cannot push the epoch up on its return.
            let leaderAlive = role == .leader
                || (role == .follower && !follower.leaderResigned && now < follower.lastLeaderContact + config.fetchTimeoutMs)
            let granted = logIsUpToDate && request.candidateEpoch > epoch && !leaderAlive
            reply(to: envelope, .voteResponse(VoteResponse(errorCode: 0, leaderId: leaderId ?? -1, leaderEpoch: epoch,
                                                           voteGranted: granted, preVote: true)),
                  effects: &effects)
            return
        }
        if request.candidateEpoch > epoch {
            becomeUnattached(epoch: request.candidateEpoch, votedId: nil, now: now, effects: &effects)
        }
        var granted = false
        if request.candidateEpoch == epoch && logIsUpToDate {
            if votedId == request.candidateId {
                granted = true
            } else if votedId == nil && leaderId == nil && (role == .unattached || role == .prospective) {
                votedId = request.candidateId
                if role == .prospective { becomeUnattached(epoch: epoch, votedId: votedId, now: now, effects: &effects) }
                electionDeadline = now + randomElectionTimeout()
                granted = true
            }
        }
        // The vote is on disk before the answer leaves (effects run in order).
        persistIfChanged(&effects)
        reply(to: envelope, .voteResponse(VoteResponse(errorCode: 0, leaderId: leaderId ?? -1, leaderEpoch: epoch,
                                                       voteGranted: granted, preVote: false)),
              effects: &effects)
    }

    private mutating func handleVoteResponse(_ envelope: Envelope, _ response: VoteResponse, now: Int64,
                                             effects: inout [RaftEffect]) {
        if response.leaderEpoch > epoch {
            observe(epoch: response.leaderEpoch, leader: response.leaderId, now: now, effects: &effects)
            return
        }
        if response.preVote {
            guard role == .prospective else { return }
            if response.leaderEpoch == epoch && response.leaderId >= 0 && response.leaderId != id && leaderId == nil {
                // A leader of our epoch we did not know about (KIP-996). The leader we lost is not
                // followed again on hearsay: voters that still follow it would keep pulling us
                // back, and nobody would ever campaign.
                becomeFollower(epoch: epoch, leader: response.leaderId, now: now, effects: &effects)
                return
            }
            if response.voteGranted {
                votesGranted.insert(envelope.source)
                if votesGranted.count >= majority { becomeCandidate(now: now, effects: &effects) }
            }
        } else {
            guard role == .candidate && response.leaderEpoch == epoch else { return }
            if response.leaderId >= 0 && response.leaderId != id {
                becomeFollower(epoch: epoch, leader: response.leaderId, now: now, effects: &effects)
                return
            }
            if response.voteGranted {
                votesGranted.insert(envelope.source)
                if votesGranted.count >= majority { becomeLeader(now: now, effects: &effects) }
            }
        }
    }

    private mutating func handleBeginQuorumEpoch(_ envelope: Envelope, _ request: BeginQuorumEpochRequest, now: Int64,
                                                 effects: inout [RaftEffect]) {
        if request.leaderEpoch < epoch {
            reply(to: envelope, .beginQuorumEpochResponse(QuorumEpochResponse(
                errorCode: RaftErrorCode.fencedLeaderEpoch.rawValue, leaderId: leaderId ?? -1, leaderEpoch: epoch)),
                  effects: &effects)
            return
        }
        precondition(!(request.leaderEpoch == epoch && role == .leader), "two leaders in epoch \(epoch)")
        if request.leaderEpoch > epoch || role != .follower || leaderId != request.leaderId {
            becomeFollower(epoch: request.leaderEpoch, leader: request.leaderId, now: now, effects: &effects)
        }
        reply(to: envelope, .beginQuorumEpochResponse(QuorumEpochResponse(errorCode: 0, leaderId: request.leaderId,
                                                                               leaderEpoch: epoch)),
              effects: &effects)
    }

    private mutating func handleEndQuorumEpoch(_ envelope: Envelope, _ request: EndQuorumEpochRequest, now: Int64,
                                               effects: inout [RaftEffect]) {
        if request.leaderEpoch > epoch {
            becomeUnattached(epoch: request.leaderEpoch, votedId: nil, now: now, effects: &effects)
        } else if request.leaderEpoch == epoch && role == .follower && leaderId == request.leaderId {
            // The leader steps down: campaign soon, the most caught-up first (KIP-595's ordered
            // backoff), and treat the leader as gone for pre-votes.
            let position = Int64(request.preferredCandidates.firstIndex(of: id) ?? request.preferredCandidates.count)
            follower.leaderResigned = true
            follower.inflight = nil
            follower.resignedElectionAt = now + position * config.electionBackoffMaxMs / Int64(max(1, voters.count))
                + random.next(below: max(1, config.retryBackoffMs))
        }
        reply(to: envelope, .endQuorumEpochResponse(QuorumEpochResponse(
            errorCode: request.leaderEpoch < epoch ? RaftErrorCode.fencedLeaderEpoch.rawValue : 0,
            leaderId: leaderId ?? -1, leaderEpoch: epoch)), effects: &effects)
    }

    // MARK: Fetch (leader side)

    private func errorFetchResponse(_ error: RaftErrorCode) -> FetchResponse {
        FetchResponse(errorCode: error.rawValue, highWatermark: -1, logStartOffset: -1, divergingEpoch: nil,
                      currentLeader: currentLeader, snapshotId: nil, records: nil)
    }

    private mutating func handleFetch(_ envelope: Envelope, _ request: FetchRequest, now: Int64,
                                      effects: inout [RaftEffect]) {
        let error: RaftErrorCode? = if request.currentLeaderEpoch < epoch {
            .fencedLeaderEpoch
        } else if request.currentLeaderEpoch > epoch {
            .unknownLeaderEpoch
        } else if role != .leader {
            .notLeaderOrFollower
        } else if !voters.contains(request.replicaId) || request.replicaId == id {
            .notLeaderOrFollower
        } else {
            nil
        }
        if let error {
            reply(to: envelope, .fetchResponse(errorFetchResponse(error)), effects: &effects)
            return
        }
        guard case .valid = validateFetchPosition(request) else {
            answerFetch(envelope, now: now, effects: &effects)
            return
        }
        var replica = leader.replicas[request.replicaId] ?? LeaderProgress.Replica()
        replica.endOffset = request.fetchOffset
        replica.lastFetch = now
        if request.fetchOffset >= log.endOffset { replica.lastCaughtUp = now }
        leader.replicas[request.replicaId] = replica
        advanceHighWatermark(now: now, effects: &effects)
        if request.fetchOffset == log.endOffset && request.maxWaitMs > 0 {
            leader.parked[request.replicaId] = (envelope, now + min(Int64(request.maxWaitMs), config.fetchMaxWaitMs))
        } else {
            leader.parked[request.replicaId] = nil
            answerFetch(envelope, now: now, effects: &effects)
        }
    }

    private enum FetchPosition {
        case valid
        case diverging(OffsetAndEpoch)
        case needsSnapshot
    }

    /// KIP-595's check of a follower's position: its last fetched epoch must end at or after its
    /// fetch offset in our log; otherwise it diverged and learns where our log for that epoch ends.
    private func validateFetchPosition(_ request: FetchRequest) -> FetchPosition {
        if request.fetchOffset < log.startOffset { return .needsSnapshot }
        if request.fetchOffset == 0 { return .valid }
        guard let known = log.endOffset(forEpoch: request.lastFetchedEpoch) else { return .needsSnapshot }
        if known.epoch != request.lastFetchedEpoch || request.fetchOffset > known.offset {
            // A divergence point below our snapshot can only be repaired by the snapshot.
            return known.offset < log.startOffset || (known.offset == log.startOffset && log.startOffset > 0
                && known.epoch != log.startEpoch) ? .needsSnapshot : .diverging(known)
        }
        return .valid
    }

    private mutating func answerFetch(_ envelope: Envelope, now: Int64, effects: inout [RaftEffect]) {
        guard case .fetchRequest(let request) = envelope.message else { preconditionFailure("not a fetch") }
        var response = FetchResponse(errorCode: 0, highWatermark: highWatermark, logStartOffset: log.startOffset,
                                     divergingEpoch: nil, currentLeader: currentLeader, snapshotId: nil, records: nil)
        switch validateFetchPosition(request) {
        case .needsSnapshot:
            guard let snapshot else { preconditionFailure("log starts at \(log.startOffset) without a snapshot") }
            response.snapshotId = snapshot.id
        case .diverging(let known):
            response.divergingEpoch = known
        case .valid:
            let entries = log.entries(from: request.fetchOffset, maxBytes: Int(min(request.partitionMaxBytes, config.fetchMaxBytes)))
            response.records = RecordSlice(baseOffset: request.fetchOffset, entries: entries)
        }
        reply(to: envelope, .fetchResponse(response), effects: &effects)
    }

    private mutating func answerParkedFetches(now: Int64, effects: inout [RaftEffect]) {
        guard role == .leader && !leader.parked.isEmpty else { return }
        let parked = leader.parked.sorted { $0.key < $1.key }
        leader.parked = [:]
        for (_, entry) in parked { answerFetch(entry.envelope, now: now, effects: &effects) }
    }

    private mutating func handleFetchSnapshot(_ envelope: Envelope, _ request: FetchSnapshotRequest,
                                              effects: inout [RaftEffect]) {
        var response = FetchSnapshotResponse(errorCode: 0, snapshotId: request.snapshotId, currentLeader: currentLeader,
                                             size: -1, position: request.position, unalignedRecords: [])
        if request.currentLeaderEpoch != epoch || role != .leader {
            response.errorCode = (request.currentLeaderEpoch < epoch ? RaftErrorCode.fencedLeaderEpoch
                : request.currentLeaderEpoch > epoch ? .unknownLeaderEpoch : .notLeaderOrFollower).rawValue
        } else if let snapshot, snapshot.id == request.snapshotId {
            let size = Int64(snapshot.data.count)
            if request.position < 0 || request.position > size {
                response.errorCode = RaftErrorCode.positionOutOfRange.rawValue
            } else {
                let end = min(size, request.position + Int64(max(1, min(request.maxBytes, config.fetchSnapshotMaxBytes))))
                response.size = size
                response.unalignedRecords = Array(snapshot.data[Int(request.position)..<Int(end)])
            }
        } else {
            response.errorCode = RaftErrorCode.snapshotNotFound.rawValue
        }
        reply(to: envelope, .fetchSnapshotResponse(response), effects: &effects)
    }

    // MARK: Fetch (follower side)

    private mutating func sendFetchIfReady(now: Int64, effects: inout [RaftEffect]) {
        guard role == .follower, let leaderId, follower.inflight == nil, !follower.leaderResigned else { return }
        if let snapshotFetch = follower.snapshotFetch {
            let correlationId = send(.fetchSnapshotRequest(FetchSnapshotRequest(
                clusterId: clusterId, replicaId: id, maxBytes: config.fetchSnapshotMaxBytes, currentLeaderEpoch: epoch,
                snapshotId: snapshotFetch.id, position: Int64(snapshotFetch.data.count))), to: leaderId, effects: &effects)
            follower.inflight = (correlationId, now)
            follower.retryAt = nil
            return
        }
        // Ask for more only once what we hold is on disk: the fetch offset is what the leader
        // counts toward the high watermark.
        guard flushedOffset == log.endOffset else { return }
        if let retryAt = follower.retryAt, now < retryAt { return }
        let request = FetchRequest(clusterId: clusterId, replicaId: id, maxWaitMs: Int32(config.fetchMaxWaitMs),
                                   currentLeaderEpoch: epoch, fetchOffset: log.endOffset, lastFetchedEpoch: log.lastEpoch,
                                   logStartOffset: log.startOffset, partitionMaxBytes: config.fetchMaxBytes)
        let correlationId = send(.fetchRequest(request), to: leaderId, effects: &effects)
        follower.inflight = (correlationId, now)
        follower.retryAt = nil
    }

    /// Common checks of a fetch or fetch-snapshot answer; false when the answer is stale or moved
    /// this node to another state.
    private mutating func acceptLeaderAnswer(_ envelope: Envelope, errorCode: Int16, currentLeader answer: LeaderIdAndEpoch,
                                             now: Int64, effects: inout [RaftEffect]) -> Bool {
        guard role == .follower, let inflight = follower.inflight, inflight.correlationId == envelope.correlationId,
              envelope.source == leaderId else { return false }
        follower.inflight = nil
        if answer.leaderEpoch > epoch {
            observe(epoch: answer.leaderEpoch, leader: answer.leaderId, now: now, effects: &effects)
            return false
        }
        if errorCode != 0 {
            follower.retryAt = now + config.retryBackoffMs
            return false
        }
        follower.lastLeaderContact = now
        return true
    }

    private mutating func handleFetchResponse(_ envelope: Envelope, _ response: FetchResponse, now: Int64,
                                              effects: inout [RaftEffect]) {
        guard acceptLeaderAnswer(envelope, errorCode: response.errorCode, currentLeader: response.currentLeader, now: now,
                                 effects: &effects) else { return }
        if let diverging = response.divergingEpoch {
            let ours = log.endOffset(forEpoch: diverging.epoch)?.offset ?? log.startOffset
            truncateLog(to: max(log.startOffset, min(diverging.offset, ours)), effects: &effects)
        } else if let snapshotId = response.snapshotId {
            follower.snapshotFetch = (snapshotId, [])
        } else if let records = response.records {
            guard records.baseOffset == log.endOffset else {
                preconditionFailure("fetch answer at \(records.baseOffset) for a fetch at \(log.endOffset)")
            }
            if !records.entries.isEmpty { appendToLog(records.entries, effects: &effects) }
            // What we hold below our end matches the leader now, so its high watermark applies.
            setHighWatermark(min(response.highWatermark, log.endOffset), effects: &effects)
        }
        sendFetchIfReady(now: now, effects: &effects)
    }

    private mutating func handleFetchSnapshotResponse(_ envelope: Envelope, _ response: FetchSnapshotResponse, now: Int64,
                                                      effects: inout [RaftEffect]) {
        guard acceptLeaderAnswer(envelope, errorCode: response.errorCode, currentLeader: response.currentLeader, now: now,
                                 effects: &effects) else {
            if response.errorCode == RaftErrorCode.snapshotNotFound.rawValue || response.errorCode == RaftErrorCode.positionOutOfRange.rawValue {
                // The leader has moved on to a newer snapshot: fetch again to learn which.
                follower.snapshotFetch = nil
            }
            return
        }
        guard var fetch = follower.snapshotFetch, fetch.id == response.snapshotId,
              response.position == Int64(fetch.data.count) else {
            follower.snapshotFetch = nil
            sendFetchIfReady(now: now, effects: &effects)
            return
        }
        fetch.data.append(contentsOf: response.unalignedRecords)
        if Int64(fetch.data.count) >= response.size {
            follower.snapshotFetch = nil
            installSnapshot(fetch.id, data: fetch.data, effects: &effects)
        } else {
            follower.snapshotFetch = fetch
        }
        sendFetchIfReady(now: now, effects: &effects)
    }

    private mutating func installSnapshot(_ snapshotId: SnapshotID, data: [UInt8], effects: inout [RaftEffect]) {
        precondition(snapshotId.endOffset >= highWatermark, "a fetched snapshot never replaces committed records")
        snapshot = (snapshotId, data)
        log = RaftLog(startOffset: snapshotId.endOffset, startEpoch: snapshotId.epoch)
        flushedOffset = log.endOffset
        pendingFlushes = []
        highWatermark = snapshotId.endOffset
        appliedOffset = snapshotId.endOffset
        effects.append(.installSnapshot(snapshotId, data: data))
    }
}
