// The Raft core's messages on Kafka's wire (KIP-595): every quorum RPC names topic
// `__cluster_metadata` partition 0; Fetch v13+ names it by its fixed topic id. The core's structs
// hold one partition entry; these functions add the topic/partition nesting and take it off again.
//
// Some of what the core's structs hold is not on the wire; the transport keeps it beside each
// outstanding request (as it keeps the correlation id) and hands it back when decoding the answer:
// - Vote v2's PreVote flag (KIP-996) is newer than the reference specs, so Vote goes out as v1;
//   the flag of a request and of its answer (which echoes it) travels beside the message.
// - An answer to a valid fetch with no new records has empty Records, which name no offset; the
//   core expects an empty slice at the fetch offset, so the request's offset supplies it. Records
//   that do not start at the fetch offset are refused here rather than handed to the core.
public import KafkaProtocol
public import Raft

public enum QuorumWireError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The message does not carry `__cluster_metadata` partition 0.
    case missingMetadataPartition(api: String)
    case records(QuorumRecordsError)
    case decode(String)
    case unknownApi(apiKey: Int16)

    public var description: String {
        switch self {
        case .missingMetadataPartition(let api): return "\(api) without \(QuorumWire.topicName)-\(QuorumWire.partition)"
        case .records(let error): return "records: \(error)"
        case .decode(let reason): return "decode: \(reason)"
        case .unknownApi(let key): return "api key \(key) is not a quorum RPC"
        }
    }
}

/// An encoded quorum message body (no request/response header) with its API key and version.
public struct QuorumFrame: Hashable, Sendable {
    public var apiKey: Int16
    public var version: Int16
    public var isRequest: Bool
    public var body: [UInt8]
}

/// What a transport keeps about a request it sent, to decode the answer.
public struct OutstandingRequest: Hashable, Sendable {
    public var preVote: Bool
    public var fetchOffset: Int64?

    public init(preVote: Bool = false, fetchOffset: Int64? = nil) {
        self.preVote = preVote
        self.fetchOffset = fetchOffset
    }

    /// What to keep for `request` (a request message; other messages keep nothing).
    public init(_ request: RaftMessage) {
        switch request {
        case .voteRequest(let vote): self.init(preVote: vote.preVote)
        case .fetchRequest(let fetch): self.init(fetchOffset: fetch.fetchOffset)
        default: self.init()
        }
    }
}

public enum QuorumWire {
    public static let topicName = "__cluster_metadata"
    public static let partition: Int32 = 0
    /// Kafka's fixed id of the metadata topic (Uuid.METADATA_TOPIC_ID: 0, 1).
    public static let topicId = KafkaUUID(high: 0, low: 1)

    /// The versions this side speaks: the newest in the reference specs.
    public static let voteVersion: Int16 = 1
    public static let beginQuorumEpochVersion: Int16 = 1
    public static let endQuorumEpochVersion: Int16 = 1
    public static let fetchVersion: Int16 = 17
    public static let fetchSnapshotVersion: Int16 = 1
    public static let describeQuorumVersion: Int16 = 2

    // MARK: Vote

    public static func kafka(_ request: Raft.VoteRequest) -> KafkaProtocol.VoteRequest {
        var partition = KafkaProtocol.VoteRequest.PartitionData()
        partition.partitionIndex = Self.partition
        partition.candidateEpoch = request.candidateEpoch
        partition.candidateId = request.candidateId
        partition.lastOffsetEpoch = request.lastOffsetEpoch
        partition.lastOffset = request.lastOffset
        var topic = KafkaProtocol.VoteRequest.TopicData()
        topic.topicName = topicName
        topic.partitions = [partition]
        var message = KafkaProtocol.VoteRequest()
        message.clusterId = request.clusterId
        message.voterId = request.voterId
        message.topics = [topic]
        return message
    }

    public static func raft(_ message: KafkaProtocol.VoteRequest, preVote: Bool) throws(QuorumWireError) -> Raft.VoteRequest {
        let partition = try metadataPartition(message.topics, "VoteRequest", \.topicName, \.partitions, \.partitionIndex)
        return Raft.VoteRequest(clusterId: message.clusterId, voterId: message.voterId,
                                candidateEpoch: partition.candidateEpoch, candidateId: partition.candidateId,
                                lastOffsetEpoch: partition.lastOffsetEpoch, lastOffset: partition.lastOffset,
                                preVote: preVote)
    }

    public static func kafka(_ response: Raft.VoteResponse) -> KafkaProtocol.VoteResponse {
        var partition = KafkaProtocol.VoteResponse.PartitionData()
        partition.partitionIndex = Self.partition
        partition.errorCode = response.errorCode
        partition.leaderId = response.leaderId
        partition.leaderEpoch = response.leaderEpoch
        partition.voteGranted = response.voteGranted
        var topic = KafkaProtocol.VoteResponse.TopicData()
        topic.topicName = topicName
        topic.partitions = [partition]
        var message = KafkaProtocol.VoteResponse()
        message.topics = [topic]
        return message
    }

    public static func raft(_ message: KafkaProtocol.VoteResponse, preVote: Bool) throws(QuorumWireError) -> Raft.VoteResponse {
        let partition = try metadataPartition(message.topics, "VoteResponse", \.topicName, \.partitions, \.partitionIndex)
        // A top-level error (e.g. INCONSISTENT_CLUSTER_ID) speaks for the whole answer.
        let error = message.errorCode != 0 ? message.errorCode : partition.errorCode
        return Raft.VoteResponse(errorCode: error, leaderId: partition.leaderId, leaderEpoch: partition.leaderEpoch,
                                 voteGranted: partition.voteGranted, preVote: preVote)
    }

    // MARK: BeginQuorumEpoch / EndQuorumEpoch

    public static func kafka(_ request: Raft.BeginQuorumEpochRequest) -> KafkaProtocol.BeginQuorumEpochRequest {
        var partition = KafkaProtocol.BeginQuorumEpochRequest.PartitionData()
        partition.partitionIndex = Self.partition
        partition.leaderId = request.leaderId
        partition.leaderEpoch = request.leaderEpoch
        var topic = KafkaProtocol.BeginQuorumEpochRequest.TopicData()
        topic.topicName = topicName
        topic.partitions = [partition]
        var message = KafkaProtocol.BeginQuorumEpochRequest()
        message.clusterId = request.clusterId
        message.voterId = request.voterId
        message.topics = [topic]
        return message
    }

    public static func raft(_ message: KafkaProtocol.BeginQuorumEpochRequest) throws(QuorumWireError) -> Raft.BeginQuorumEpochRequest {
        let partition = try metadataPartition(message.topics, "BeginQuorumEpochRequest", \.topicName, \.partitions, \.partitionIndex)
        return Raft.BeginQuorumEpochRequest(clusterId: message.clusterId, voterId: message.voterId,
                                            leaderId: partition.leaderId, leaderEpoch: partition.leaderEpoch)
    }

    public static func kafka(_ request: Raft.EndQuorumEpochRequest) -> KafkaProtocol.EndQuorumEpochRequest {
        var partition = KafkaProtocol.EndQuorumEpochRequest.PartitionData()
        partition.partitionIndex = Self.partition
        partition.leaderId = request.leaderId
        partition.leaderEpoch = request.leaderEpoch
        // v0 carries the ids in PreferredSuccessors, v1 in PreferredCandidates; fill both so
        // either version says the same.
        partition.preferredSuccessors = request.preferredCandidates
        partition.preferredCandidates = request.preferredCandidates.map { id in
            var candidate = KafkaProtocol.EndQuorumEpochRequest.ReplicaInfo()
            candidate.candidateId = id
            return candidate
        }
        var topic = KafkaProtocol.EndQuorumEpochRequest.TopicData()
        topic.topicName = topicName
        topic.partitions = [partition]
        var message = KafkaProtocol.EndQuorumEpochRequest()
        message.clusterId = request.clusterId
        message.topics = [topic]
        return message
    }

    public static func raft(_ message: KafkaProtocol.EndQuorumEpochRequest, version: Int16) throws(QuorumWireError) -> Raft.EndQuorumEpochRequest {
        let partition = try metadataPartition(message.topics, "EndQuorumEpochRequest", \.topicName, \.partitions, \.partitionIndex)
        let candidates = version >= 1 ? partition.preferredCandidates.map(\.candidateId) : partition.preferredSuccessors
        return Raft.EndQuorumEpochRequest(clusterId: message.clusterId, leaderId: partition.leaderId,
                                          leaderEpoch: partition.leaderEpoch, preferredCandidates: candidates)
    }

    public static func kafkaBeginQuorumEpoch(_ response: Raft.QuorumEpochResponse) -> KafkaProtocol.BeginQuorumEpochResponse {
        var partition = KafkaProtocol.BeginQuorumEpochResponse.PartitionData()
        partition.partitionIndex = Self.partition
        partition.errorCode = response.errorCode
        partition.leaderId = response.leaderId
        partition.leaderEpoch = response.leaderEpoch
        var topic = KafkaProtocol.BeginQuorumEpochResponse.TopicData()
        topic.topicName = topicName
        topic.partitions = [partition]
        var message = KafkaProtocol.BeginQuorumEpochResponse()
        message.topics = [topic]
        return message
    }

    public static func raft(_ message: KafkaProtocol.BeginQuorumEpochResponse) throws(QuorumWireError) -> Raft.QuorumEpochResponse {
        let partition = try metadataPartition(message.topics, "BeginQuorumEpochResponse", \.topicName, \.partitions, \.partitionIndex)
        return Raft.QuorumEpochResponse(errorCode: message.errorCode != 0 ? message.errorCode : partition.errorCode,
                                        leaderId: partition.leaderId, leaderEpoch: partition.leaderEpoch)
    }

    public static func kafkaEndQuorumEpoch(_ response: Raft.QuorumEpochResponse) -> KafkaProtocol.EndQuorumEpochResponse {
        var partition = KafkaProtocol.EndQuorumEpochResponse.PartitionData()
        partition.partitionIndex = Self.partition
        partition.errorCode = response.errorCode
        partition.leaderId = response.leaderId
        partition.leaderEpoch = response.leaderEpoch
        var topic = KafkaProtocol.EndQuorumEpochResponse.TopicData()
        topic.topicName = topicName
        topic.partitions = [partition]
        var message = KafkaProtocol.EndQuorumEpochResponse()
        message.topics = [topic]
        return message
    }

    public static func raft(_ message: KafkaProtocol.EndQuorumEpochResponse) throws(QuorumWireError) -> Raft.QuorumEpochResponse {
        let partition = try metadataPartition(message.topics, "EndQuorumEpochResponse", \.topicName, \.partitions, \.partitionIndex)
        return Raft.QuorumEpochResponse(errorCode: message.errorCode != 0 ? message.errorCode : partition.errorCode,
                                        leaderId: partition.leaderId, leaderEpoch: partition.leaderEpoch)
    }

    // MARK: Fetch

    public static func kafka(_ request: Raft.FetchRequest) -> KafkaProtocol.FetchRequest {
        var partition = KafkaProtocol.FetchRequest.FetchPartition()
        partition.partition = Self.partition
        partition.currentLeaderEpoch = request.currentLeaderEpoch
        partition.fetchOffset = request.fetchOffset
        partition.lastFetchedEpoch = request.lastFetchedEpoch
        partition.logStartOffset = request.logStartOffset
        partition.partitionMaxBytes = request.partitionMaxBytes
        var topic = KafkaProtocol.FetchRequest.FetchTopic()
        topic.topic = topicName
        topic.topicId = topicId
        topic.partitions = [partition]
        var message = KafkaProtocol.FetchRequest()
        message.clusterId = request.clusterId
        // ReplicaId moved into ReplicaState in v15; both are set so any version carries it.
        message.replicaId = request.replicaId
        message.replicaState.replicaId = request.replicaId
        message.maxWaitMs = request.maxWaitMs
        message.maxBytes = request.partitionMaxBytes
        message.topics = [topic]
        return message
    }

    public static func raft(_ message: KafkaProtocol.FetchRequest, version: Int16) throws(QuorumWireError) -> Raft.FetchRequest {
        let partition = try metadataPartition(message.topics, "FetchRequest", version >= 13 ? \.topicId.description : \.topic,
                                              \.partitions, \.partition, topicKey: version >= 13 ? topicId.description : topicName)
        return Raft.FetchRequest(clusterId: message.clusterId,
                                 replicaId: version >= 15 ? message.replicaState.replicaId : message.replicaId,
                                 maxWaitMs: message.maxWaitMs, currentLeaderEpoch: partition.currentLeaderEpoch,
                                 fetchOffset: partition.fetchOffset, lastFetchedEpoch: partition.lastFetchedEpoch,
                                 logStartOffset: partition.logStartOffset, partitionMaxBytes: partition.partitionMaxBytes)
    }

    public static func kafka(_ response: Raft.FetchResponse, timestamp: Int64 = 0) -> KafkaProtocol.FetchResponse {
        var partition = KafkaProtocol.FetchResponse.PartitionData()
        partition.partitionIndex = Self.partition
        partition.errorCode = response.errorCode
        partition.highWatermark = response.highWatermark
        partition.logStartOffset = response.logStartOffset
        if let diverging = response.divergingEpoch {
            partition.divergingEpoch.epoch = diverging.epoch
            partition.divergingEpoch.endOffset = diverging.offset
        }
        partition.currentLeader.leaderId = response.currentLeader.leaderId
        partition.currentLeader.leaderEpoch = response.currentLeader.leaderEpoch
        if let snapshot = response.snapshotId {
            partition.snapshotId.endOffset = snapshot.endOffset
            partition.snapshotId.epoch = snapshot.epoch
        }
        partition.records = response.records.map { QuorumRecords.batches(for: $0, timestamp: timestamp) } ?? []
        var topic = KafkaProtocol.FetchResponse.FetchableTopicResponse()
        topic.topic = topicName
        topic.topicId = topicId
        topic.partitions = [partition]
        var message = KafkaProtocol.FetchResponse()
        message.responses = [topic]
        return message
    }

    /// `fetchOffset` is the offset the answered fetch asked for (nil: unknown, and an empty
    /// Records field then decodes as no records at all).
    public static func raft(_ message: KafkaProtocol.FetchResponse, version: Int16,
                            fetchOffset: Int64?) throws(QuorumWireError) -> Raft.FetchResponse {
        let partition = try metadataPartition(message.responses, "FetchResponse", version >= 13 ? \.topicId.description : \.topic,
                                              \.partitions, \.partitionIndex, topicKey: version >= 13 ? topicId.description : topicName)
        var records: Raft.RecordSlice?
        do { records = try QuorumRecords.slice(from: partition.records ?? [], allowPartialTail: true) } catch {
            throw .records(error)
        }
        let diverging = partition.divergingEpoch
        let snapshot = partition.snapshotId
        let errorCode = message.errorCode != 0 ? message.errorCode : partition.errorCode
        if let fetchOffset {
            if let slice = records, slice.baseOffset != fetchOffset {
                throw .decode("FetchResponse records start at \(slice.baseOffset), the fetch asked for \(fetchOffset)")
            }
            if records == nil && errorCode == 0 && diverging.epoch < 0 && snapshot.epoch < 0 {
                records = Raft.RecordSlice(baseOffset: fetchOffset, entries: [])
            }
        }
        return Raft.FetchResponse(
            errorCode: errorCode,
            highWatermark: partition.highWatermark, logStartOffset: partition.logStartOffset,
            divergingEpoch: diverging.epoch >= 0 && diverging.endOffset >= 0
                ? OffsetAndEpoch(offset: diverging.endOffset, epoch: diverging.epoch) : nil,
            currentLeader: LeaderIdAndEpoch(leaderId: partition.currentLeader.leaderId,
                                            leaderEpoch: partition.currentLeader.leaderEpoch),
            snapshotId: snapshot.epoch >= 0 && snapshot.endOffset >= 0
                ? SnapshotID(endOffset: snapshot.endOffset, epoch: snapshot.epoch) : nil,
            records: records)
    }

    // MARK: FetchSnapshot

    public static func kafka(_ request: Raft.FetchSnapshotRequest) -> KafkaProtocol.FetchSnapshotRequest {
        var partition = KafkaProtocol.FetchSnapshotRequest.PartitionSnapshot()
        partition.partition = Self.partition
        partition.currentLeaderEpoch = request.currentLeaderEpoch
        partition.snapshotId.endOffset = request.snapshotId.endOffset
        partition.snapshotId.epoch = request.snapshotId.epoch
        partition.position = request.position
        var topic = KafkaProtocol.FetchSnapshotRequest.TopicSnapshot()
        topic.name = topicName
        topic.partitions = [partition]
        var message = KafkaProtocol.FetchSnapshotRequest()
        message.clusterId = request.clusterId
        message.replicaId = request.replicaId
        message.maxBytes = request.maxBytes
        message.topics = [topic]
        return message
    }

    public static func raft(_ message: KafkaProtocol.FetchSnapshotRequest) throws(QuorumWireError) -> Raft.FetchSnapshotRequest {
        let partition = try metadataPartition(message.topics, "FetchSnapshotRequest", \.name, \.partitions, \.partition)
        return Raft.FetchSnapshotRequest(clusterId: message.clusterId, replicaId: message.replicaId, maxBytes: message.maxBytes,
                                         currentLeaderEpoch: partition.currentLeaderEpoch,
                                         snapshotId: SnapshotID(endOffset: partition.snapshotId.endOffset,
                                                                epoch: partition.snapshotId.epoch),
                                         position: partition.position)
    }

    public static func kafka(_ response: Raft.FetchSnapshotResponse) -> KafkaProtocol.FetchSnapshotResponse {
        var partition = KafkaProtocol.FetchSnapshotResponse.PartitionSnapshot()
        partition.index = Self.partition
        partition.errorCode = response.errorCode
        partition.snapshotId.endOffset = response.snapshotId.endOffset
        partition.snapshotId.epoch = response.snapshotId.epoch
        partition.currentLeader.leaderId = response.currentLeader.leaderId
        partition.currentLeader.leaderEpoch = response.currentLeader.leaderEpoch
        partition.size = response.size
        partition.position = response.position
        partition.unalignedRecords = response.unalignedRecords
        var topic = KafkaProtocol.FetchSnapshotResponse.TopicSnapshot()
        topic.name = topicName
        topic.partitions = [partition]
        var message = KafkaProtocol.FetchSnapshotResponse()
        message.topics = [topic]
        return message
    }

    public static func raft(_ message: KafkaProtocol.FetchSnapshotResponse) throws(QuorumWireError) -> Raft.FetchSnapshotResponse {
        let partition = try metadataPartition(message.topics, "FetchSnapshotResponse", \.name, \.partitions, \.index)
        return Raft.FetchSnapshotResponse(
            errorCode: message.errorCode != 0 ? message.errorCode : partition.errorCode,
            snapshotId: SnapshotID(endOffset: partition.snapshotId.endOffset, epoch: partition.snapshotId.epoch),
            currentLeader: LeaderIdAndEpoch(leaderId: partition.currentLeader.leaderId,
                                            leaderEpoch: partition.currentLeader.leaderEpoch),
            size: partition.size, position: partition.position, unalignedRecords: partition.unalignedRecords)
    }

    // MARK: DescribeQuorum

    public static func describeQuorumRequest() -> KafkaProtocol.DescribeQuorumRequest {
        var partition = KafkaProtocol.DescribeQuorumRequest.PartitionData()
        partition.partitionIndex = Self.partition
        var topic = KafkaProtocol.DescribeQuorumRequest.TopicData()
        topic.topicName = topicName
        topic.partitions = [partition]
        var message = KafkaProtocol.DescribeQuorumRequest()
        message.topics = [topic]
        return message
    }

    public static func kafka(_ described: DescribeQuorumPartition) -> KafkaProtocol.DescribeQuorumResponse {
        var partition = KafkaProtocol.DescribeQuorumResponse.PartitionData()
        partition.partitionIndex = Self.partition
        partition.errorCode = described.errorCode
        partition.errorMessage = nil
        partition.leaderId = described.leaderId
        partition.leaderEpoch = described.leaderEpoch
        partition.highWatermark = described.highWatermark
        partition.currentVoters = described.currentVoters.map { voter in
            var state = KafkaProtocol.DescribeQuorumResponse.ReplicaState()
            state.replicaId = voter.replicaId
            state.logEndOffset = voter.logEndOffset
            state.lastFetchTimestamp = voter.lastFetchTimestamp
            state.lastCaughtUpTimestamp = voter.lastCaughtUpTimestamp
            return state
        }
        var topic = KafkaProtocol.DescribeQuorumResponse.TopicData()
        topic.topicName = topicName
        topic.partitions = [partition]
        var message = KafkaProtocol.DescribeQuorumResponse()
        message.errorMessage = nil
        message.topics = [topic]
        return message
    }

    public static func raft(_ message: KafkaProtocol.DescribeQuorumResponse) throws(QuorumWireError) -> DescribeQuorumPartition {
        let partition = try metadataPartition(message.topics, "DescribeQuorumResponse", \.topicName, \.partitions, \.partitionIndex)
        return DescribeQuorumPartition(
            errorCode: message.errorCode != 0 ? message.errorCode : partition.errorCode,
            leaderId: partition.leaderId, leaderEpoch: partition.leaderEpoch, highWatermark: partition.highWatermark,
            currentVoters: partition.currentVoters.map {
                DescribeQuorumPartition.ReplicaState(replicaId: $0.replicaId, logEndOffset: $0.logEndOffset,
                                                     lastFetchTimestamp: $0.lastFetchTimestamp,
                                                     lastCaughtUpTimestamp: $0.lastCaughtUpTimestamp)
            })
    }

    // MARK: Whole messages to and from bytes

    /// The body of `message` at the version this side speaks.
    public static func encode(_ message: RaftMessage) -> QuorumFrame {
        switch message {
        case .voteRequest(let m): return frame(kafka(m), voteVersion, request: true)
        case .voteResponse(let m): return frame(kafka(m), voteVersion, request: false)
        case .beginQuorumEpochRequest(let m): return frame(kafka(m), beginQuorumEpochVersion, request: true)
        case .beginQuorumEpochResponse(let m): return frame(kafkaBeginQuorumEpoch(m), beginQuorumEpochVersion, request: false)
        case .endQuorumEpochRequest(let m): return frame(kafka(m), endQuorumEpochVersion, request: true)
        case .endQuorumEpochResponse(let m): return frame(kafkaEndQuorumEpoch(m), endQuorumEpochVersion, request: false)
        case .fetchRequest(let m): return frame(kafka(m), fetchVersion, request: true)
        case .fetchResponse(let m): return frame(kafka(m), fetchVersion, request: false)
        case .fetchSnapshotRequest(let m): return frame(kafka(m), fetchSnapshotVersion, request: true)
        case .fetchSnapshotResponse(let m): return frame(kafka(m), fetchSnapshotVersion, request: false)
        }
    }

    /// Decodes a body `encode` (or a Kafka controller) produced. For a request, `request` says
    /// whether a Vote is a pre-vote; for an answer, it is what was kept of the request it answers
    /// (see the file comment).
    public static func decode(_ frame: QuorumFrame, request: OutstandingRequest = OutstandingRequest()) throws(QuorumWireError) -> RaftMessage {
        let v = frame.version
        let preVote = request.preVote
        switch (frame.apiKey, frame.isRequest) {
        case (KafkaProtocol.VoteRequest.apiKey, true):
            return .voteRequest(try raft(try body(KafkaProtocol.VoteRequest.self, frame), preVote: preVote))
        case (KafkaProtocol.VoteResponse.apiKey, false):
            return .voteResponse(try raft(try body(KafkaProtocol.VoteResponse.self, frame), preVote: preVote))
        case (KafkaProtocol.BeginQuorumEpochRequest.apiKey, true):
            return .beginQuorumEpochRequest(try raft(try body(KafkaProtocol.BeginQuorumEpochRequest.self, frame)))
        case (KafkaProtocol.BeginQuorumEpochResponse.apiKey, false):
            return .beginQuorumEpochResponse(try raft(try body(KafkaProtocol.BeginQuorumEpochResponse.self, frame)))
        case (KafkaProtocol.EndQuorumEpochRequest.apiKey, true):
            return .endQuorumEpochRequest(try raft(try body(KafkaProtocol.EndQuorumEpochRequest.self, frame), version: v))
        case (KafkaProtocol.EndQuorumEpochResponse.apiKey, false):
            return .endQuorumEpochResponse(try raft(try body(KafkaProtocol.EndQuorumEpochResponse.self, frame)))
        case (KafkaProtocol.FetchRequest.apiKey, true):
            return .fetchRequest(try raft(try body(KafkaProtocol.FetchRequest.self, frame), version: v))
        case (KafkaProtocol.FetchResponse.apiKey, false):
            return .fetchResponse(try raft(try body(KafkaProtocol.FetchResponse.self, frame), version: v,
                                           fetchOffset: request.fetchOffset))
        case (KafkaProtocol.FetchSnapshotRequest.apiKey, true):
            return .fetchSnapshotRequest(try raft(try body(KafkaProtocol.FetchSnapshotRequest.self, frame)))
        case (KafkaProtocol.FetchSnapshotResponse.apiKey, false):
            return .fetchSnapshotResponse(try raft(try body(KafkaProtocol.FetchSnapshotResponse.self, frame)))
        default:
            throw .unknownApi(apiKey: frame.apiKey)
        }
    }

    static func frame<M: KafkaAPIMessage>(_ message: M, _ version: Int16, request: Bool) -> QuorumFrame {
        QuorumFrame(apiKey: M.apiKey, version: version, isRequest: request,
                    body: QuorumRecords.encoded(message, version: version))
    }

    static func body<M: KafkaAPIMessage>(_ type: M.Type, _ frame: QuorumFrame) throws(QuorumWireError) -> M {
        var reader = WireReader(frame.body)
        do {
            let message = try M(from: &reader, version: frame.version)
            guard reader.position == reader.end else {
                throw QuorumWireError.decode("\(reader.end - reader.position) bytes after \(M.self)")
            }
            return message
        } catch let error as QuorumWireError {
            throw error
        } catch {
            throw .decode("\(M.self) v\(frame.version): \(error)")
        }
    }

    /// The `__cluster_metadata`-0 entry of a topics/partitions nesting.
    static func metadataPartition<Topic, Partition>(
        _ topics: [Topic], _ api: String, _ name: KeyPath<Topic, String>, _ partitions: KeyPath<Topic, [Partition]>,
        _ index: KeyPath<Partition, Int32>, topicKey: String = QuorumWire.topicName
    ) throws(QuorumWireError) -> Partition {
        guard let topic = topics.first(where: { $0[keyPath: name] == topicKey }),
              let partition = topic[keyPath: partitions].first(where: { $0[keyPath: index] == Self.partition })
        else { throw .missingMetadataPartition(api: api) }
        return partition
    }
}
