import KafkaProtocol

/// The classic group states, named as Kafka reports them in DescribeGroups/ListGroups.
public enum GroupState: String, Sendable, CaseIterable {
    case empty = "Empty"
    case preparingRebalance = "PreparingRebalance"
    case completingRebalance = "CompletingRebalance"
    case stable = "Stable"
    case dead = "Dead"
}

/// A partition an offset is committed for.
public struct TopicPartitionID: Hashable, Sendable, Comparable {
    public var topic: String
    public var partition: Int32
    public init(_ topic: String, _ partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public static func < (a: Self, b: Self) -> Bool { (a.topic, a.partition) < (b.topic, b.partition) }
}

/// One committed offset as the coordinator keeps it (and writes it as an OffsetCommitValue).
public struct CommittedOffset: Equatable, Sendable {
    public var offset: Int64
    public var leaderEpoch: Int32
    public var metadata: String
    public var commitTimestamp: Int64
    /// Set only by OffsetCommit v2–v4 with an explicit retention time.
    public var expireTimestamp: Int64?

    public init(offset: Int64, leaderEpoch: Int32 = -1, metadata: String = "", commitTimestamp: Int64,
                expireTimestamp: Int64? = nil) {
        self.offset = offset
        self.leaderEpoch = leaderEpoch
        self.metadata = metadata
        self.commitTimestamp = commitTimestamp
        self.expireTimestamp = expireTimestamp
    }
}

/// A protocol a member offers in JoinGroup, in its order of preference.
public struct MemberProtocol: Equatable, Sendable {
    public var name: String
    public var metadata: [UInt8]
    public init(name: String, metadata: [UInt8]) {
        self.name = name
        self.metadata = metadata
    }
}

/// Identifies a parked JoinGroup or SyncGroup request; the I/O shell maps it to a response slot.
public typealias WaiterID = UInt64

/// One member of a classic group.
public struct GroupMember: Equatable, Sendable {
    public var memberId: String
    public var instanceId: String?
    public var clientId: String
    public var clientHost: String
    public var sessionTimeoutMs: Int32
    public var rebalanceTimeoutMs: Int32
    public var protocols: [MemberProtocol]
    public var assignment: [UInt8] = []
    var awaitingJoin: WaiterID?
    var awaitingSync: WaiterID?
    /// Expired (removed) when no heartbeat arrives before this time, unless awaiting join or sync.
    var heartbeatDeadline: Int64

    func metadata(for protocolName: String?) -> [UInt8]? {
        protocols.first { $0.name == protocolName }?.metadata
    }
}

/// A classic consumer (or other protocol type) group.
public struct ClassicGroup: Sendable {
    public let groupId: String
    public internal(set) var state: GroupState = .empty
    /// When the group entered its state (offset retention for empty groups counts from here).
    public internal(set) var stateTimestamp: Int64
    public internal(set) var generationId: Int32 = 0
    public internal(set) var protocolType: String?
    public internal(set) var protocolName: String?
    public internal(set) var leaderId: String?
    public internal(set) var members: [String: GroupMember] = [:]
    /// Join order; the leader falls to the earliest member when it leaves.
    var memberOrder: [String] = []
    /// group.instance.id → member id (KIP-345).
    var staticMembers: [String: String] = [:]
    /// Member ids handed out with MEMBER_ID_REQUIRED, valid until this deadline (KIP-394).
    var pendingMembers: [String: Int64] = [:]
    public internal(set) var offsets: [TopicPartitionID: CommittedOffset] = [:]
    /// PreparingRebalance ends at this time even if not every member rejoined.
    var joinDeadline: Int64?
    /// Set while the first rebalance of an empty group waits `group.initial.rebalance.delay.ms`:
    /// the wait is extended (within the rebalance timeout) while new members keep arriving.
    var initialDelay: (delayMs: Int64, remainingMs: Int64, newMemberAdded: Bool)?
    /// CompletingRebalance: members that have not sent SyncGroup by then are removed.
    var syncDeadline: Int64?
    /// A change to a subscribed topic the broker made (a deletion), named in the reason of the
    /// rebalance that follows when the leader rejoins.
    var topicChange: String?

    init(groupId: String, now: Int64) {
        self.groupId = groupId
        self.stateTimestamp = now
    }

    var orderedMembers: [GroupMember] { memberOrder.compactMap { members[$0] } }

    var rebalanceTimeoutMs: Int64 {
        Int64(members.values.map(\.rebalanceTimeoutMs).max() ?? 0)
    }

    mutating func transition(to newState: GroupState, now: Int64) {
        state = newState
        stateTimestamp = now
    }

    /// Protocols every member supports.
    var candidateProtocols: Set<String> {
        var result: Set<String>?
        for m in members.values {
            let names = Set(m.protocols.map(\.name))
            result = result.map { $0.intersection(names) } ?? names
        }
        return result ?? []
    }

    /// Whether a member offering `protocols` of `type` can join: the group's protocol type must
    /// match and at least one offered protocol must be one every current member supports.
    func supports(protocolType type: String, protocols: [MemberProtocol]) -> Bool {
        if members.isEmpty { return !type.isEmpty && !protocols.isEmpty }
        return protocolType == type && !candidateProtocols.isDisjoint(with: protocols.map(\.name))
    }

    /// The protocol all members support that most members prefer (each votes for the first of its
    /// own protocols that is a candidate); ties go to the leader's preference order.
    func selectProtocol() -> String? {
        let candidates = candidateProtocols
        guard !candidates.isEmpty else { return nil }
        var votes: [String: Int] = [:]
        for m in members.values {
            if let choice = m.protocols.first(where: { candidates.contains($0.name) }) {
                votes[choice.name, default: 0] += 1
            }
        }
        let order = (leaderId.flatMap { members[$0] } ?? orderedMembers.first)?.protocols.map(\.name) ?? []
        let best = votes.values.max() ?? 0
        return order.first { votes[$0] == best } ?? votes.first { $0.value == best }?.key
    }

    /// True when a static member id does not match the one registered for its instance id.
    func isFenced(instanceId: String?, memberId: String) -> Bool {
        guard let instanceId, let registered = staticMembers[instanceId] else { return false }
        return registered != memberId
    }

    /// Topics the members subscribe to, from their `consumer` protocol metadata.
    var subscribedTopics: Set<String>? {
        guard protocolType == "consumer" else { return nil }
        var topics = Set<String>()
        for m in members.values {
            guard let bytes = m.metadata(for: protocolName) ?? m.protocols.first?.metadata else { continue }
            if let s = ConsumerMetadata.subscription(bytes) { topics.formUnion(s.topics) }
        }
        return topics
    }
}

/// The `consumer` protocol's embedded metadata: int16 version + ConsumerProtocolSubscription/Assignment.
public enum ConsumerMetadata {
    public static func subscription(_ bytes: [UInt8]) -> ConsumerProtocolSubscription? {
        var r = WireReader(bytes)
        guard let version = try? r.readInt16(), version >= 0 else { return nil }
        return try? ConsumerProtocolSubscription(from: &r, version: min(version, ConsumerProtocolSubscription.specVersions.upperBound))
    }

    public static func assignment(_ bytes: [UInt8]) -> ConsumerProtocolAssignment? {
        guard !bytes.isEmpty else { return nil }
        var r = WireReader(bytes)
        guard let version = try? r.readInt16(), version >= 0 else { return nil }
        return try? ConsumerProtocolAssignment(from: &r, version: min(version, ConsumerProtocolAssignment.specVersions.upperBound))
    }
}

/// Settings the coordinator takes from the broker config.
public struct GroupSettings: Sendable, Equatable {
    public var minSessionTimeoutMs: Int32 = 6000
    public var maxSessionTimeoutMs: Int32 = 1_800_000
    public var initialRebalanceDelayMs: Int64 = 3000
    public var maxGroupSize: Int = Int(Int32.max)
    public var offsetsRetentionMs: Int64 = 7 * 24 * 3_600_000
    public var offsetMetadataMaxBytes: Int = 4096
    public init() {}
}
