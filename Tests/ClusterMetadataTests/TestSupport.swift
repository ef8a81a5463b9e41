// Record builders and a seeded generator shared by the ClusterMetadata tests.
@testable import ClusterMetadata
import KafkaProtocol

/// SplitMix64: a reproducible stream per seed, so a failing seed replays exactly.
struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func uuid(_ n: UInt64) -> KafkaUUID { KafkaUUID(high: 0xC1, low: n) }

func registerBroker(_ id: Int32, epoch: Int64 = 10, rack: String? = nil, fenced: Bool = false) -> MetadataRecord {
    var r = RegisterBrokerRecord()
    r.brokerId = id
    r.brokerEpoch = epoch
    r.incarnationId = uuid(UInt64(1000 + id))
    var endpoint = RegisterBrokerRecord.BrokerEndpoint()
    endpoint.name = "PLAINTEXT"
    endpoint.host = "127.0.0.\(id)"
    endpoint.port = 9092
    endpoint.securityProtocol = 0
    r.endPoints = [endpoint]
    r.rack = rack
    r.fenced = fenced
    return .registerBroker(r)
}

func topicRecord(_ name: String, _ id: KafkaUUID) -> MetadataRecord {
    var r = TopicRecord()
    r.name = name
    r.topicId = id
    return .topic(r)
}

func partitionRecord(_ id: KafkaUUID, _ index: Int32, replicas: [Int32], isr: [Int32]? = nil, leader: Int32? = nil) -> MetadataRecord {
    var r = PartitionRecord()
    r.topicId = id
    r.partitionId = index
    r.replicas = replicas
    r.isr = isr ?? replicas
    r.leader = leader ?? (isr ?? replicas).first ?? -1
    r.leaderEpoch = 0
    r.partitionEpoch = 0
    return .partition(r)
}

func partitionChange(_ id: KafkaUUID, _ index: Int32, isr: [Int32]? = nil, leader: Int32 = -2) -> MetadataRecord {
    var r = PartitionChangeRecord()
    r.topicId = id
    r.partitionId = index
    r.isr = isr
    r.leader = leader
    return .partitionChange(r)
}

func configRecord(_ type: Int8, _ resource: String, _ key: String, _ value: String?) -> MetadataRecord {
    .config(ConfigResource(type: type, name: resource).configRecord(key: key, value: value))
}

/// Three unfenced brokers 1, 2, 3 (racks when given) and nothing else.
func brokersImage(_ ids: [Int32] = [1, 2, 3], racks: [String?]? = nil) throws -> MetadataImage {
    try MetadataImage.replay(ids.enumerated().map { i, id in registerBroker(id, rack: racks?[i]) })
}

/// `image` with `records` applied (the way every node takes a committed decision).
func applying(_ records: [MetadataRecord], to image: MetadataImage) throws -> MetadataImage {
    var delta = MetadataDelta(base: image)
    for record in records { try delta.apply(record) }
    return delta.publishableImage
}
