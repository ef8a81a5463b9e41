// The cluster's metadata as one immutable value: what every node gets by replaying the committed
// metadata log (records of `reference/kafka-protocol/metadata/`). Handlers read an image; only
// `MetadataDelta` makes a new one, record by record, so two nodes that replayed the same records
// hold equal images.
import KafkaProtocol

public struct MetadataImage: Sendable, Equatable {
    /// Topics by id; `topicIdsByName` is the name index over the same topics.
    public internal(set) var topicsById: [KafkaUUID: TopicImage] = [:]
    public internal(set) var topicIdsByName: [String: KafkaUUID] = [:]
    /// Broker registrations by node id (fenced ones included).
    public internal(set) var brokers: [Int32: BrokerRegistration] = [:]
    /// Controller registrations by node id (KRaft's RegisterControllerRecord).
    public internal(set) var controllers: [Int32: RegisterControllerRecord] = [:]
    /// Dynamic configs per resource (topic, broker, ...): key to value.
    public internal(set) var configs: [ConfigResource: [String: String]] = [:]
    /// API-made ACLs by their id.
    public internal(set) var acls: [KafkaUUID: AccessControlEntryRecord] = [:]
    public internal(set) var scramCredentials: [ScramCredentialKey: UserScramCredentialRecord] = [:]
    /// Client quotas per entity: quota key (e.g. `producer_byte_rate`) to value.
    public internal(set) var clientQuotas: [ClientQuotaEntity: [String: Double]] = [:]
    /// The last producer-id block handed out; its `nextProducerId` is the high-water mark.
    public internal(set) var producerIds: ProducerIdsRecord?
    /// Finalized feature levels (`metadata.version`, `kraft.version`, ...); level 0 is absent.
    public internal(set) var features: [String: Int16] = [:]
    public internal(set) var delegationTokens: [String: DelegationTokenRecord] = [:]

    public init() {}

    /// The first producer id the next block will start at.
    public var nextProducerId: Int64 { producerIds?.nextProducerId ?? 0 }

    public func topic(named name: String) -> TopicImage? {
        topicIdsByName[name].flatMap { topicsById[$0] }
    }

    public func partition(_ topicId: KafkaUUID, _ partition: Int32) -> PartitionRegistration? {
        topicsById[topicId]?.partitions[partition]
    }

    /// Unfenced brokers that are not shutting down: those that may lead and join ISRs.
    public func isActive(broker id: Int32) -> Bool {
        guard let broker = brokers[id] else { return false }
        return !broker.fenced && !broker.inControlledShutdown
    }

    /// Topics sorted by id, then partitions by index: the order every decision walks them in, so
    /// the records a decision returns do not depend on dictionary order.
    public var partitionsInOrder: [(topic: TopicImage, partition: PartitionRegistration)] {
        topicsById.keys.sortedIds().flatMap { id -> [(topic: TopicImage, partition: PartitionRegistration)] in
            let topic = topicsById[id]!
            return topic.partitions.keys.sorted().map { (topic, topic.partitions[$0]!) }
        }
    }

    /// Replays `records` from an empty image; the first invalid record stops it with its error.
    /// Records of a transaction left open at the end are not in the result (a log prefix that
    /// ends inside a transaction publishes what came before it).
    public static func replay(_ records: some Sequence<MetadataRecord>) throws(MetadataReplayError) -> MetadataImage {
        var delta = MetadataDelta()
        for record in records { try delta.apply(record) }
        return delta.publishableImage
    }
}

public struct TopicImage: Sendable, Equatable {
    public let name: String
    public let id: KafkaUUID
    public internal(set) var partitions: [Int32: PartitionRegistration] = [:]

    public init(name: String, id: KafkaUUID) {
        self.name = name
        self.id = id
    }
}

/// One partition's placement and leadership, as PartitionRecord and PartitionChangeRecord set it.
public struct PartitionRegistration: Sendable, Equatable {
    public static let noLeader: Int32 = -1

    public let topicId: KafkaUUID
    public let partition: Int32
    /// In preferred order: the first one is the preferred leader.
    public internal(set) var replicas: [Int32]
    public internal(set) var isr: [Int32]
    public internal(set) var removingReplicas: [Int32] = []
    public internal(set) var addingReplicas: [Int32] = []
    public internal(set) var leader: Int32
    public internal(set) var leaderRecoveryState: Int8 = 0
    public internal(set) var leaderEpoch: Int32
    public internal(set) var partitionEpoch: Int32
    public internal(set) var directories: [KafkaUUID] = []
    public internal(set) var eligibleLeaderReplicas: [Int32]?
    public internal(set) var lastKnownElr: [Int32]?

    public var hasLeader: Bool { leader != Self.noLeader }

    /// The invariants every registration keeps (checked on replay, asserted by decisions):
    /// replicas are distinct and not empty, the ISR is a subset of them and the leader is in the
    /// ISR (or there is none).
    public var invariantViolation: String? {
        if replicas.isEmpty { return "has no replicas" }
        if Set(replicas).count != replicas.count { return "lists a replica twice in \(replicas)" }
        if Set(isr).count != isr.count { return "lists an ISR member twice in \(isr)" }
        if !Set(isr).isSubset(of: replicas) { return "has ISR \(isr) that is not a subset of replicas \(replicas)" }
        if hasLeader && !isr.contains(leader) { return "has leader \(leader) outside its ISR \(isr)" }
        if leaderEpoch < 0 || partitionEpoch < 0 { return "has a negative epoch (leader \(leaderEpoch), partition \(partitionEpoch))" }
        return nil
    }
}

public struct BrokerRegistration: Sendable, Equatable {
    public let id: Int32
    public internal(set) var epoch: Int64
    public internal(set) var incarnationId: KafkaUUID
    public internal(set) var endpoints: [RegisterBrokerRecord.BrokerEndpoint]
    public internal(set) var supportedFeatures: [RegisterBrokerRecord.BrokerFeature]
    public internal(set) var rack: String?
    public internal(set) var fenced: Bool
    public internal(set) var inControlledShutdown: Bool
    public internal(set) var isMigratingZkBroker: Bool
    public internal(set) var logDirs: [KafkaUUID]
}

/// A config resource as ConfigRecord names it (resource type codes of DescribeConfigs:
/// 2 topic, 4 broker, 8 broker logger, 16 client metrics, 32 group).
public struct ConfigResource: Hashable, Sendable, Comparable, CustomStringConvertible {
    public static let topicType: Int8 = 2
    public static let brokerType: Int8 = 4

    public let type: Int8
    public let name: String

    public init(type: Int8, name: String) {
        self.type = type
        self.name = name
    }

    public static func < (a: Self, b: Self) -> Bool { (a.type, a.name) < (b.type, b.name) }
    public var description: String { "config resource (type \(type), '\(name)')" }

    /// The ConfigRecord that sets `key` of this resource to `value` (nil deletes it).
    public func configRecord(key: String, value: String?) -> ConfigRecord {
        var r = ConfigRecord()
        r.resourceType = type
        r.resourceName = name
        r.name = key
        r.value = value
        return r
    }
}

public struct ScramCredentialKey: Hashable, Sendable, Comparable {
    public let user: String
    /// 1 SCRAM-SHA-256, 2 SCRAM-SHA-512 (as AlterUserScramCredentials numbers them).
    public let mechanism: Int8

    public init(user: String, mechanism: Int8) {
        self.user = user
        self.mechanism = mechanism
    }

    public static func < (a: Self, b: Self) -> Bool { (a.user, a.mechanism) < (b.user, b.mechanism) }
}

/// A quota entity: its (type, name) parts sorted by type; a nil name is the default entity.
public struct ClientQuotaEntity: Hashable, Sendable, Comparable {
    public struct Part: Hashable, Sendable {
        public let type: String
        public let name: String?
        public init(type: String, name: String?) {
            self.type = type
            self.name = name
        }
    }

    public let parts: [Part]

    public init(_ parts: [Part]) { self.parts = parts.sorted { $0.type < $1.type } }

    /// Orders by the parts' text so snapshots list entities the same way everywhere.
    public static func < (a: Self, b: Self) -> Bool { a.sortKey < b.sortKey }
    var sortKey: String { parts.map { "\($0.type)=\($0.name.map { "'\($0)'" } ?? "<default>")" }.joined(separator: ",") }
}

extension Sequence where Element == KafkaUUID {
    /// Ids in a fixed order (by their 128 bits), for output that must not follow hash order.
    func sortedIds() -> [KafkaUUID] { sorted { ($0.high, $0.low) < ($1.high, $1.low) } }
}
