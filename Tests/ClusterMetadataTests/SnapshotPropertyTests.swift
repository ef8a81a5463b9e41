// Seeded random histories of the metadata log, made of the controller's own decisions and of
// security/config/quota records, with transactions that end or abort. After every step the
// image keeps its invariants; at the end the log replays to an equal image, the framed log
// decodes to the same records, and the image's snapshot replays to an equal image.
@testable import ClusterMetadata
import KafkaProtocol
import Testing

/// One random history. `step()` draws an action, asks the image for its records and applies them.
struct RandomHistory {
    var g: SeededRandom
    var delta = MetadataDelta()
    var log: [MetadataRecord] = []
    var nextId: UInt64 = 1
    /// Highest leader and partition epochs seen per partition, to check they never go back.
    var epochs: [String: (leader: Int32, partition: Int32)] = [:]

    init(seed: UInt64) { g = SeededRandom(seed: seed) }

    mutating func pick<T>(_ items: [T]) -> T? { items.isEmpty ? nil : items[Int(g.next() % UInt64(items.count))] }
    mutating func chance(_ oneIn: UInt64) -> Bool { g.next() % oneIn == 0 }
    mutating func freshId() -> KafkaUUID {
        nextId += 1
        return uuid(nextId)
    }

    mutating func step() throws {
        if !delta.inTransaction && chance(12) {
            try commit([.beginTransaction(BeginTransactionRecord())])
            for _ in 0..<(1 + g.next() % 3) { try commit(records(for: delta.image)) }
            try commit([chance(2) ? .endTransaction(EndTransactionRecord()) : .abortTransaction(AbortTransactionRecord())])
        } else {
            try commit(records(for: delta.image))
        }
        try checkInvariants()
    }

    mutating func commit(_ records: [MetadataRecord]) throws {
        for record in records {
            try delta.apply(record)
            log.append(record)
        }
    }

    /// The records of one random action; a decision the controller refuses yields none.
    mutating func records(for image: MetadataImage) throws -> [MetadataRecord] {
        let brokerIds = image.brokers.keys.sorted()
        let topics = image.topicsById.keys.sortedIds()
        do {
            switch g.next() % 16 {
            case 0, 1:
                // A broker (re)starts, or one leaves for good.
                let id = Int32(g.next() % 6)
                if image.brokers[id] != nil && chance(6) { return try ControllerDecisions.unregisterBroker(id, in: image) }
                var endpoint = RegisterBrokerRecord.BrokerEndpoint()
                endpoint.name = "BROKER"
                endpoint.host = "10.0.0.\(id)"
                endpoint.port = 9092
                let request = ControllerDecisions.BrokerRegistrationRequest(
                    brokerId: id, incarnationId: freshId(), endpoints: [endpoint], rack: pick([nil, "a", "b", "c"]) ?? nil)
                return try ControllerDecisions.registerBroker(request, brokerEpoch: Int64(log.count + 100),
                                                              existingSessionAlive: chance(4), in: image)
            case 2:
                guard let id = pick(brokerIds) else { return [] }
                return try ControllerDecisions.fenceBroker(id, in: image)
            case 3, 4:
                guard let id = pick(brokerIds) else { return [] }
                return try ControllerDecisions.unfenceBroker(id, in: image)
            case 5:
                guard let id = pick(brokerIds), chance(3) else { return [] }
                return try ControllerDecisions.beginControlledShutdown(id, in: image)
            case 6, 7:
                let topic = NewTopic(name: "topic-\(g.next() % 8)", id: freshId(),
                                     placement: .automatic(partitions: Int32(1 + g.next() % 4), replicationFactor: Int16(1 + g.next() % 3)),
                                     configs: chance(2) ? ["retention.ms": "\(g.next() % 1000)"] : [:])
                return try ControllerDecisions.createTopic(topic, in: image, startIndex: Int(g.next() % 16))
            case 8:
                guard let id = pick(topics) else { return [] }
                if chance(2) { return try ControllerDecisions.deleteTopic(name: image.topicsById[id]!.name, in: image) }
                let topic = image.topicsById[id]!
                return try ControllerDecisions.createPartitions(topic: topic.name, totalCount: Int32(topic.partitions.count) + 1,
                                                               in: image, startIndex: Int(g.next() % 8))
            case 9:
                // The leader shrinks or grows its ISR.
                guard let (_, p) = pick(image.partitionsInOrder.filter { $0.partition.hasLeader }) else { return [] }
                let isr = [p.leader] + p.replicas.filter { $0 != p.leader && image.isActive(broker: $0) && chance(2) }
                return try ControllerDecisions.alterPartition(topicId: p.topicId, partition: p.partition, leaderId: p.leader,
                                                              leaderEpoch: p.leaderEpoch, partitionEpoch: p.partitionEpoch,
                                                              newIsr: isr, in: image)
            case 10:
                return ControllerDecisions.electPreferredLeaders(in: image)
            case 11:
                let resource = chance(2) ? pick(topics).map { ConfigResource(type: 2, name: image.topicsById[$0]!.name) }
                    : ConfigResource(type: 4, name: "\(g.next() % 3)")
                guard let resource else { return [] }
                return [.config(resource.configRecord(key: pick(["retention.ms", "segment.bytes", "cleanup.policy"])!,
                                                      value: chance(3) ? nil : "\(g.next() % 100)"))]
            case 12:
                if let id = pick(image.acls.keys.sortedIds()), chance(2) {
                    var remove = RemoveAccessControlEntryRecord()
                    remove.id = id
                    return [.removeAccessControlEntry(remove)]
                }
                var acl = AccessControlEntryRecord()
                acl.id = freshId()
                acl.resourceType = 2
                acl.resourceName = "topic-\(g.next() % 4)"
                acl.principal = "User:u\(g.next() % 3)"
                acl.host = "*"
                acl.operation = Int8(2 + g.next() % 10)
                acl.permissionType = 3
                return [.accessControlEntry(acl)]
            case 13:
                let user = "u\(g.next() % 3)", mechanism = Int8(1 + g.next() % 2)
                if image.scramCredentials[ScramCredentialKey(user: user, mechanism: mechanism)] != nil && chance(2) {
                    var remove = RemoveUserScramCredentialRecord()
                    remove.name = user
                    remove.mechanism = mechanism
                    return [.removeUserScramCredential(remove)]
                }
                var scram = UserScramCredentialRecord()
                scram.name = user
                scram.mechanism = mechanism
                scram.salt = (0..<8).map { _ in UInt8(truncatingIfNeeded: g.next()) }
                scram.iterations = 4096
                return [.userScramCredential(scram)]
            case 14:
                var quota = ClientQuotaRecord()
                var entity = ClientQuotaRecord.EntityData()
                entity.entityType = pick(["user", "client-id", "ip"])!
                entity.entityName = chance(3) ? nil : "e\(g.next() % 3)"
                quota.entity = [entity]
                quota.key = pick(["producer_byte_rate", "consumer_byte_rate"])!
                quota.value = Double(g.next() % 10_000)
                quota.remove = chance(3)
                return [.clientQuota(quota)]
            default:
                if let id = pick(brokerIds), chance(2) {
                    return try ControllerDecisions.allocateProducerIds(brokerId: id, brokerEpoch: image.brokers[id]!.epoch, in: image).records
                }
                var feature = FeatureLevelRecord()
                feature.name = pick(["metadata.version", "kraft.version", "transaction.version"])!
                feature.featureLevel = Int16(g.next() % 4)
                return [.featureLevel(feature)]
            }
        } catch {
            // A refused decision (a ControllerError) is part of the history too: nothing is appended.
            return []
        }
    }

    mutating func checkInvariants() throws {
        let image = delta.image
        for (topic, p) in image.partitionsInOrder {
            #expect(p.invariantViolation == nil, "\(topic.name)-\(p.partition) \(p.invariantViolation ?? "")")
            if p.hasLeader { #expect(image.isActive(broker: p.leader), "\(topic.name)-\(p.partition) is led by inactive broker \(p.leader)") }
            let key = "\(topic.id)-\(p.partition)"
            if let seen = epochs[key] {
                #expect(p.leaderEpoch >= seen.leader && p.partitionEpoch >= seen.partition, "epochs of \(topic.name)-\(p.partition) went back")
            }
            epochs[key] = (p.leaderEpoch, p.partitionEpoch)
        }
    }
}

@Suite struct SnapshotPropertyTests {
    @Test(arguments: 1...64 as ClosedRange<UInt64>)
    func snapshotsAndReplaysGiveTheSameImage(seed: UInt64) throws {
        var history = RandomHistory(seed: seed)
        for _ in 0..<200 { try history.step() }
        let image = history.delta.publishableImage

        // Deterministic replay: the same log gives an equal image.
        #expect(try MetadataImage.replay(history.log) == image)
        // The log written as framed values and read back is the same log.
        let decoded = try history.log.map { try MetadataRecordAndVersion(decoding: MetadataRecordAndVersion($0).encoded()).record }
        #expect(decoded == history.log)
        // The snapshot recreates the image, and is the same bytes when taken again from the copy.
        let snapshot = image.snapshotRecords()
        let restored = try MetadataImage.replay(snapshot)
        #expect(restored == image)
        #expect(restored.snapshotRecords().map { MetadataRecordAndVersion($0).encoded() }
            == snapshot.map { MetadataRecordAndVersion($0).encoded() })
        // The history did something: topics, brokers and some security state.
        #expect(history.log.count > 100)
    }

    @Test func historiesAreNotTrivial() throws {
        var history = RandomHistory(seed: 7)
        for _ in 0..<300 { try history.step() }
        let image = history.delta.publishableImage
        #expect(!image.topicsById.isEmpty && !image.brokers.isEmpty)
        let types = Set(history.log.map(\.type))
        for type in [MetadataRecordType.partitionChange, .registerBroker, .unregisterBroker, .fenceBroker, .unfenceBroker, .brokerRegistrationChange, .removeTopic,
                     .accessControlEntry, .removeAccessControlEntry, .producerIds, .abortTransaction, .endTransaction] {
            #expect(types.contains(type), "\(type) never appeared")
        }
    }
}
