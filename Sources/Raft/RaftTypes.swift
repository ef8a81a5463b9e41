// Values the Raft core works with: replica ids, (offset, epoch) pairs, log entries, the quorum
// state that must survive a restart, the timing configuration and the seeded random source.
// Names follow Kafka's message specs (reference/kafka-protocol/messages/*.json) so the I/O layer
// maps them one to one onto the generated codecs.

public typealias ReplicaID = Int32

/// An offset with the leader epoch of the record just below it. Ordered as Raft compares logs:
/// by epoch first, then by offset.
public struct OffsetAndEpoch: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var offset: Int64
    public var epoch: Int32

    public init(offset: Int64, epoch: Int32) {
        self.offset = offset
        self.epoch = epoch
    }

    public static func < (lhs: OffsetAndEpoch, rhs: OffsetAndEpoch) -> Bool {
        (lhs.epoch, lhs.offset) < (rhs.epoch, rhs.offset)
    }

    public var description: String { "\(offset)@\(epoch)" }
}

/// Kafka's SnapshotId: a snapshot holds every committed record below `endOffset`; `epoch` is the
/// epoch of the record at `endOffset - 1`.
public struct SnapshotID: Hashable, Sendable, CustomStringConvertible {
    public var endOffset: Int64
    public var epoch: Int32

    public init(endOffset: Int64, epoch: Int32) {
        self.endOffset = endOffset
        self.epoch = epoch
    }

    /// Kafka's file name for the snapshot: `<20-digit offset>-<10-digit epoch>.checkpoint`.
    public var fileName: String {
        func padded(_ value: some BinaryInteger, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(padded(endOffset, 20))-\(padded(epoch, 10)).checkpoint"
    }

    public var description: String { "snapshot(\(endOffset)@\(epoch))" }
}

/// One record of the replicated log. The core never looks inside `data` records; `leaderChange`
/// is the control record (Kafka's LeaderChangeMessage) a new leader appends so that it can commit
/// an entry of its own epoch without waiting for a client write.
public struct LogEntry: Hashable, Sendable {
    public enum Content: Hashable, Sendable {
        case data([UInt8])
        case leaderChange(leaderID: ReplicaID)
    }

    public var epoch: Int32
    public var content: Content

    public init(epoch: Int32, content: Content) {
        self.epoch = epoch
        self.content = content
    }

    /// What a fetch's byte budget counts for this entry.
    var approximateSize: Int {
        switch content {
        case .data(let bytes): return bytes.count + 16
        case .leaderChange: return 24
        }
    }
}

/// The `quorum-state` file's content (internal-records/raft/QuorumStateData.json, version 1
/// without directory ids). -1 means "none", as in the file.
public struct QuorumStateData: Hashable, Sendable {
    public var leaderId: ReplicaID
    public var leaderEpoch: Int32
    public var votedId: ReplicaID

    public init(leaderId: ReplicaID = -1, leaderEpoch: Int32 = 0, votedId: ReplicaID = -1) {
        self.leaderId = leaderId
        self.leaderEpoch = leaderEpoch
        self.votedId = votedId
    }
}

/// Timing and size settings, named after Kafka's `controller.quorum.*` properties.
public struct RaftConfig: Sendable {
    /// controller.quorum.election.timeout.ms: base of the randomized election timeout
    /// (each election waits this plus a random share of it).
    public var electionTimeoutMs: Int64 = 1_000
    /// controller.quorum.fetch.timeout.ms: a follower that has not heard from its leader for this
    /// long starts an election; a leader that has not been fetched from by a majority for 1.5
    /// times this long resigns.
    public var fetchTimeoutMs: Int64 = 2_000
    /// controller.quorum.election.backoff.max.ms: upper bound of the random wait after a lost
    /// election before the next one.
    public var electionBackoffMaxMs: Int64 = 1_000
    /// controller.quorum.retry.backoff.ms: wait before resending after an error answer.
    public var retryBackoffMs: Int64 = 20
    /// controller.quorum.request.timeout.ms: an unanswered request is sent again after this.
    public var requestTimeoutMs: Int64 = 2_000
    /// How long the leader parks a fetch that has nothing new (Kafka's raft fetch MaxWaitMs).
    public var fetchMaxWaitMs: Int64 = 500
    /// PartitionMaxBytes of follower fetches; at least one entry is always returned.
    public var fetchMaxBytes: Int32 = 1 << 20
    /// MaxBytes of FetchSnapshot requests (the chunk size).
    public var fetchSnapshotMaxBytes: Int32 = 1 << 20

    public init() {}
}

/// SplitMix64: the core's only source of randomness (election timeouts and backoffs), seeded by
/// the caller so that a simulation replays exactly.
public struct SplitMix64: Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }

    /// Uniform in 0..<bound (bound > 0); the modulo bias is irrelevant at these sizes.
    public mutating func next(below bound: Int64) -> Int64 {
        precondition(bound > 0)
        return Int64(next() % UInt64(bound))
    }
}

/// Kafka error codes the quorum RPCs answer with.
public enum RaftErrorCode: Int16, Sendable {
    case none = 0
    case notLeaderOrFollower = 6
    case fencedLeaderEpoch = 74
    case unknownLeaderEpoch = 75
    case snapshotNotFound = 98
    case positionOutOfRange = 99
}
