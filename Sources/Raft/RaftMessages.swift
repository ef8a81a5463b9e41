// The quorum RPCs as plain values. Each struct holds the fields of one partition entry of the
// Kafka message (the metadata log is one topic-partition, `__cluster_metadata`-0, so the
// Topics/Partitions arrays collapse to one element the I/O layer adds back) plus the top-level
// fields the core needs. Field names are Kafka's (VoteRequest.json, FetchResponse.json, ...) in
// lower camel case. Directory ids (KIP-853) and endpoints are left to the I/O layer.

/// VoteRequest. `preVote` is Vote v2's PreVote flag (KIP-996; the reference specs stop at v1).
/// For a pre-vote `candidateEpoch` is the epoch the sender would campaign at (its epoch + 1); the
/// receiver changes no state for it.
public struct VoteRequest: Hashable, Sendable {
    public var clusterId: String?
    public var voterId: ReplicaID
    public var candidateEpoch: Int32
    public var candidateId: ReplicaID
    public var lastOffsetEpoch: Int32
    public var lastOffset: Int64
    public var preVote: Bool

    public init(clusterId: String?, voterId: ReplicaID, candidateEpoch: Int32, candidateId: ReplicaID, lastOffsetEpoch: Int32, lastOffset: Int64, preVote: Bool) {
        self.clusterId = clusterId
        self.voterId = voterId
        self.candidateEpoch = candidateEpoch
        self.candidateId = candidateId
        self.lastOffsetEpoch = lastOffsetEpoch
        self.lastOffset = lastOffset
        self.preVote = preVote
    }
}

/// VoteResponse. `leaderEpoch` is the responder's epoch. `preVote` echoes the request's flag (the
/// I/O layer knows it from the request the correlation id names).
public struct VoteResponse: Hashable, Sendable {
    public var errorCode: Int16
    public var leaderId: ReplicaID
    public var leaderEpoch: Int32
    public var voteGranted: Bool
    public var preVote: Bool

    public init(errorCode: Int16, leaderId: ReplicaID, leaderEpoch: Int32, voteGranted: Bool, preVote: Bool) {
        self.errorCode = errorCode
        self.leaderId = leaderId
        self.leaderEpoch = leaderEpoch
        self.voteGranted = voteGranted
        self.preVote = preVote
    }
}

public struct BeginQuorumEpochRequest: Hashable, Sendable {
    public var clusterId: String?
    public var voterId: ReplicaID
    public var leaderId: ReplicaID
    public var leaderEpoch: Int32

    public init(clusterId: String?, voterId: ReplicaID, leaderId: ReplicaID, leaderEpoch: Int32) {
        self.clusterId = clusterId
        self.voterId = voterId
        self.leaderId = leaderId
        self.leaderEpoch = leaderEpoch
    }
}

/// BeginQuorumEpochResponse and EndQuorumEpochResponse carry the same partition fields: the
/// responder's view of the epoch and its leader.
public struct QuorumEpochResponse: Hashable, Sendable {
    public var errorCode: Int16
    public var leaderId: ReplicaID
    public var leaderEpoch: Int32

    public init(errorCode: Int16, leaderId: ReplicaID, leaderEpoch: Int32) {
        self.errorCode = errorCode
        self.leaderId = leaderId
        self.leaderEpoch = leaderEpoch
    }
}

public typealias BeginQuorumEpochResponse = QuorumEpochResponse
public typealias EndQuorumEpochResponse = QuorumEpochResponse

public struct EndQuorumEpochRequest: Hashable, Sendable {
    public var clusterId: String?
    public var leaderId: ReplicaID
    public var leaderEpoch: Int32
    /// PreferredCandidates' CandidateId, best first (most caught up).
    public var preferredCandidates: [ReplicaID]

    public init(clusterId: String?, leaderId: ReplicaID, leaderEpoch: Int32, preferredCandidates: [ReplicaID]) {
        self.clusterId = clusterId
        self.leaderId = leaderId
        self.leaderEpoch = leaderEpoch
        self.preferredCandidates = preferredCandidates
    }
}

/// A follower's Fetch of the metadata partition (ReplicaState.ReplicaId, FetchPartition fields).
public struct FetchRequest: Hashable, Sendable {
    public var clusterId: String?
    public var replicaId: ReplicaID
    public var maxWaitMs: Int32
    public var currentLeaderEpoch: Int32
    public var fetchOffset: Int64
    public var lastFetchedEpoch: Int32
    public var logStartOffset: Int64
    public var partitionMaxBytes: Int32

    public init(clusterId: String?, replicaId: ReplicaID, maxWaitMs: Int32, currentLeaderEpoch: Int32, fetchOffset: Int64, lastFetchedEpoch: Int32, logStartOffset: Int64, partitionMaxBytes: Int32) {
        self.clusterId = clusterId
        self.replicaId = replicaId
        self.maxWaitMs = maxWaitMs
        self.currentLeaderEpoch = currentLeaderEpoch
        self.fetchOffset = fetchOffset
        self.lastFetchedEpoch = lastFetchedEpoch
        self.logStartOffset = logStartOffset
        self.partitionMaxBytes = partitionMaxBytes
    }
}

/// The Records field: consecutive entries starting at `baseOffset` (the I/O layer encodes them as
/// record batches, one per run of equal epochs).
public struct RecordSlice: Hashable, Sendable {
    public var baseOffset: Int64
    public var entries: [LogEntry]

    public init(baseOffset: Int64, entries: [LogEntry]) {
        self.baseOffset = baseOffset
        self.entries = entries
    }
}

/// FetchResponse's PartitionData (DivergingEpoch, CurrentLeader and SnapshotId as in v12+).
public struct FetchResponse: Hashable, Sendable {
    public var errorCode: Int16
    public var highWatermark: Int64
    public var logStartOffset: Int64
    public var divergingEpoch: OffsetAndEpoch?
    public var currentLeader: LeaderIdAndEpoch
    public var snapshotId: SnapshotID?
    public var records: RecordSlice?

    public init(errorCode: Int16, highWatermark: Int64, logStartOffset: Int64, divergingEpoch: OffsetAndEpoch?, currentLeader: LeaderIdAndEpoch, snapshotId: SnapshotID?, records: RecordSlice?) {
        self.errorCode = errorCode
        self.highWatermark = highWatermark
        self.logStartOffset = logStartOffset
        self.divergingEpoch = divergingEpoch
        self.currentLeader = currentLeader
        self.snapshotId = snapshotId
        self.records = records
    }
}

public struct LeaderIdAndEpoch: Hashable, Sendable {
    public var leaderId: ReplicaID
    public var leaderEpoch: Int32

    public init(leaderId: ReplicaID, leaderEpoch: Int32) {
        self.leaderId = leaderId
        self.leaderEpoch = leaderEpoch
    }
}

public struct FetchSnapshotRequest: Hashable, Sendable {
    public var clusterId: String?
    public var replicaId: ReplicaID
    public var maxBytes: Int32
    public var currentLeaderEpoch: Int32
    public var snapshotId: SnapshotID
    public var position: Int64

    public init(clusterId: String?, replicaId: ReplicaID, maxBytes: Int32, currentLeaderEpoch: Int32, snapshotId: SnapshotID, position: Int64) {
        self.clusterId = clusterId
        self.replicaId = replicaId
        self.maxBytes = maxBytes
        self.currentLeaderEpoch = currentLeaderEpoch
        self.snapshotId = snapshotId
        self.position = position
    }
}

public struct FetchSnapshotResponse: Hashable, Sendable {
    public var errorCode: Int16
    public var snapshotId: SnapshotID
    public var currentLeader: LeaderIdAndEpoch
    public var size: Int64
    public var position: Int64
    public var unalignedRecords: [UInt8]

    public init(errorCode: Int16, snapshotId: SnapshotID, currentLeader: LeaderIdAndEpoch, size: Int64, position: Int64, unalignedRecords: [UInt8]) {
        self.errorCode = errorCode
        self.snapshotId = snapshotId
        self.currentLeader = currentLeader
        self.size = size
        self.position = position
        self.unalignedRecords = unalignedRecords
    }
}

/// DescribeQuorumResponse's PartitionData (what the leader knows about each voter).
public struct DescribeQuorumPartition: Hashable, Sendable {
    public struct ReplicaState: Hashable, Sendable {
        public var replicaId: ReplicaID
        public var logEndOffset: Int64
        public var lastFetchTimestamp: Int64
        public var lastCaughtUpTimestamp: Int64

        public init(replicaId: ReplicaID, logEndOffset: Int64, lastFetchTimestamp: Int64, lastCaughtUpTimestamp: Int64) {
            self.replicaId = replicaId
            self.logEndOffset = logEndOffset
            self.lastFetchTimestamp = lastFetchTimestamp
            self.lastCaughtUpTimestamp = lastCaughtUpTimestamp
        }
    }

    public var errorCode: Int16
    public var leaderId: ReplicaID
    public var leaderEpoch: Int32
    public var highWatermark: Int64
    public var currentVoters: [ReplicaState]

    public init(errorCode: Int16, leaderId: ReplicaID, leaderEpoch: Int32, highWatermark: Int64, currentVoters: [ReplicaState]) {
        self.errorCode = errorCode
        self.leaderId = leaderId
        self.leaderEpoch = leaderEpoch
        self.highWatermark = highWatermark
        self.currentVoters = currentVoters
    }
}

public enum RaftMessage: Hashable, Sendable {
    case voteRequest(VoteRequest)
    case voteResponse(VoteResponse)
    case beginQuorumEpochRequest(BeginQuorumEpochRequest)
    case beginQuorumEpochResponse(BeginQuorumEpochResponse)
    case endQuorumEpochRequest(EndQuorumEpochRequest)
    case endQuorumEpochResponse(EndQuorumEpochResponse)
    case fetchRequest(FetchRequest)
    case fetchResponse(FetchResponse)
    case fetchSnapshotRequest(FetchSnapshotRequest)
    case fetchSnapshotResponse(FetchSnapshotResponse)
}

/// A message with its route. A response carries the correlation id of its request, as on the
/// wire; the core ignores fetch answers that do not match the request it has outstanding.
public struct Envelope: Hashable, Sendable {
    public var source: ReplicaID
    public var destination: ReplicaID
    public var correlationId: Int32
    public var message: RaftMessage

    public init(source: ReplicaID, destination: ReplicaID, correlationId: Int32, message: RaftMessage) {
        self.source = source
        self.destination = destination
        self.correlationId = correlationId
        self.message = message
    }
}
