// Applies metadata records to an image one at a time. Every record is checked against the image
// before anything changes: an invalid one is rejected with a message naming what is wrong, and
// the image stays as it was (a node replaying a bad log stops there instead of crashing).
import KafkaProtocol

/// A record the image cannot take, and why.
public struct MetadataReplayError: Error, Equatable, Sendable, CustomStringConvertible {
    public let recordType: MetadataRecordType
    public let reason: String

    public init(_ recordType: MetadataRecordType, _ reason: String) {
        self.recordType = recordType
        self.reason = reason
    }

    public var description: String { "\(recordType) rejected: \(reason)" }
}

public struct MetadataDelta: Sendable {
    /// The image with every applied record, those of an open transaction included.
    public private(set) var image: MetadataImage
    /// The image before the open transaction's BeginTransactionRecord (KIP-868): an
    /// AbortTransactionRecord goes back to it, an EndTransactionRecord drops it.
    private var beforeTransaction: MetadataImage?

    public init(base: MetadataImage = MetadataImage()) {
        self.image = base
    }

    public var inTransaction: Bool { beforeTransaction != nil }

    /// What readers may see: the image without the records of a transaction still open.
    public var publishableImage: MetadataImage { beforeTransaction ?? image }

    public mutating func apply(_ record: MetadataRecord) throws(MetadataReplayError) {
        switch record {
        case .beginTransaction:
            guard beforeTransaction == nil else { throw MetadataReplayError(.beginTransaction, "a transaction is already open") }
            beforeTransaction = image
        case .endTransaction:
            guard beforeTransaction != nil else { throw MetadataReplayError(.endTransaction, "no transaction is open") }
            beforeTransaction = nil
        case .abortTransaction:
            guard let before = beforeTransaction else { throw MetadataReplayError(.abortTransaction, "no transaction is open") }
            image = before
            beforeTransaction = nil
        default:
            try image.apply(record)
        }
    }
}

extension MetadataImage {
    /// Applies one record that is not a transaction marker; throws before changing anything.
    mutating func apply(_ record: MetadataRecord) throws(MetadataReplayError) {
        let type = record.type
        func reject(_ reason: String) -> MetadataReplayError { MetadataReplayError(type, reason) }
        switch record {
        case .topic(let r):
            guard !r.name.isEmpty else { throw reject("the topic name is empty") }
            guard r.topicId != .zero else { throw reject("topic '\(r.name)' has the zero topic id") }
            if let existing = topicIdsByName[r.name] { throw reject("topic '\(r.name)' already exists with id \(existing)") }
            if let existing = topicsById[r.topicId] {
                throw reject("topic id \(r.topicId) is already used by topic '\(existing.name)'")
            }
            topicsById[r.topicId] = TopicImage(name: r.name, id: r.topicId)
            topicIdsByName[r.name] = r.topicId

        case .partition(let r):
            guard let topic = topicsById[r.topicId] else { throw reject("topic id \(r.topicId) is unknown") }
            guard r.partitionId >= 0 else { throw reject("partition index \(r.partitionId) of topic '\(topic.name)' is negative") }
            guard topic.partitions[r.partitionId] == nil else {
                throw reject("partition \(topic.name)-\(r.partitionId) already exists")
            }
            let registration = PartitionRegistration(
                topicId: r.topicId, partition: r.partitionId, replicas: r.replicas, isr: r.isr,
                removingReplicas: r.removingReplicas, addingReplicas: r.addingReplicas, leader: r.leader,
                leaderRecoveryState: r.leaderRecoveryState, leaderEpoch: r.leaderEpoch,
                partitionEpoch: r.partitionEpoch, directories: r.directories,
                eligibleLeaderReplicas: r.eligibleLeaderReplicas, lastKnownElr: r.lastKnownElr)
            if let violation = registration.invariantViolation {
                throw reject("partition \(topic.name)-\(r.partitionId) \(violation)")
            }
            topicsById[r.topicId]!.partitions[r.partitionId] = registration

        case .partitionChange(let r):
            guard let topic = topicsById[r.topicId] else { throw reject("topic id \(r.topicId) is unknown") }
            guard let current = topic.partitions[r.partitionId] else {
                throw reject("partition \(topic.name)-\(r.partitionId) does not exist")
            }
            let changed = try current.applying(r).get()
            topicsById[r.topicId]!.partitions[r.partitionId] = changed

        case .removeTopic(let r):
            guard let topic = topicsById[r.topicId] else { throw reject("topic id \(r.topicId) is unknown") }
            topicsById[r.topicId] = nil
            topicIdsByName[topic.name] = nil
            // A topic's dynamic configs go with it (a new topic of the same name starts clean).
            configs[ConfigResource(type: ConfigResource.topicType, name: topic.name)] = nil

        case .registerBroker(let r):
            guard r.brokerId >= 0 else { throw reject("broker id \(r.brokerId) is negative") }
            if let old = brokers[r.brokerId], r.brokerEpoch <= old.epoch {
                throw reject("broker \(r.brokerId) registers with epoch \(r.brokerEpoch), not above its current epoch \(old.epoch)")
            }
            brokers[r.brokerId] = BrokerRegistration(
                id: r.brokerId, epoch: r.brokerEpoch, incarnationId: r.incarnationId, endpoints: r.endPoints,
                supportedFeatures: r.features, rack: r.rack, fenced: r.fenced,
                inControlledShutdown: r.inControlledShutdown, isMigratingZkBroker: r.isMigratingZkBroker,
                logDirs: r.logDirs)

        case .unregisterBroker(let r):
            _ = try registeredBroker(r.brokerId, epoch: r.brokerEpoch, type)
            brokers[r.brokerId] = nil

        case .fenceBroker(let r):
            _ = try registeredBroker(r.id, epoch: r.epoch, type)
            brokers[r.id]!.fenced = true

        case .unfenceBroker(let r):
            _ = try registeredBroker(r.id, epoch: r.epoch, type)
            brokers[r.id]!.fenced = false

        case .brokerRegistrationChange(let r):
            _ = try registeredBroker(r.brokerId, epoch: r.brokerEpoch, type)
            guard (-1...1).contains(r.fenced) else { throw reject("fenced is \(r.fenced); -1, 0 and 1 are defined") }
            guard (0...1).contains(r.inControlledShutdown) else {
                throw reject("inControlledShutdown is \(r.inControlledShutdown); 0 and 1 are defined")
            }
            if r.fenced != 0 { brokers[r.brokerId]!.fenced = r.fenced == 1 }
            if r.inControlledShutdown == 1 { brokers[r.brokerId]!.inControlledShutdown = true }
            if !r.logDirs.isEmpty { brokers[r.brokerId]!.logDirs = r.logDirs }

        case .registerController(let r):
            guard r.controllerId >= 0 else { throw reject("controller id \(r.controllerId) is negative") }
            controllers[r.controllerId] = r

        case .config(let r):
            let resource = ConfigResource(type: r.resourceType, name: r.resourceName)
            guard !r.name.isEmpty else { throw reject("\(resource) names an empty config key") }
            if r.resourceType == ConfigResource.topicType && topicIdsByName[r.resourceName] == nil {
                throw reject("topic '\(r.resourceName)' does not exist")
            }
            if let value = r.value {
                configs[resource, default: [:]][r.name] = value
            } else if configs[resource] != nil {
                configs[resource]![r.name] = nil
                if configs[resource]!.isEmpty { configs[resource] = nil }
            }

        case .accessControlEntry(let r):
            guard r.id != .zero else { throw reject("the ACL has the zero id") }
            guard acls[r.id] == nil else { throw reject("an ACL with id \(r.id) already exists") }
            acls[r.id] = r

        case .removeAccessControlEntry(let r):
            guard acls[r.id] != nil else { throw reject("no ACL has id \(r.id)") }
            acls[r.id] = nil

        case .userScramCredential(let r):
            guard !r.name.isEmpty else { throw reject("the user name is empty") }
            guard r.mechanism == 1 || r.mechanism == 2 else {
                throw reject("SCRAM mechanism \(r.mechanism) is unknown (1 SCRAM-SHA-256, 2 SCRAM-SHA-512)")
            }
            scramCredentials[ScramCredentialKey(user: r.name, mechanism: r.mechanism)] = r

        case .removeUserScramCredential(let r):
            let key = ScramCredentialKey(user: r.name, mechanism: r.mechanism)
            guard scramCredentials[key] != nil else {
                throw reject("user '\(r.name)' has no SCRAM credential for mechanism \(r.mechanism)")
            }
            scramCredentials[key] = nil

        case .clientQuota(let r):
            let types = r.entity.map(\.entityType)
            guard !types.isEmpty else { throw reject("the quota entity has no parts") }
            guard Set(types).count == types.count else { throw reject("the quota entity repeats a part type in \(types)") }
            guard types.allSatisfy(ClientQuotaEntity.knownTypes.contains) else {
                throw reject("quota entity types \(types) include one outside \(ClientQuotaEntity.knownTypes.sorted())")
            }
            guard !r.key.isEmpty else { throw reject("the quota key is empty") }
            let entity = ClientQuotaEntity(r.entity.map { ClientQuotaEntity.Part(type: $0.entityType, name: $0.entityName) })
            if !r.remove {
                clientQuotas[entity, default: [:]][r.key] = r.value
            } else if clientQuotas[entity] != nil {
                clientQuotas[entity]![r.key] = nil
                if clientQuotas[entity]!.isEmpty { clientQuotas[entity] = nil }
            }

        case .producerIds(let r):
            guard r.nextProducerId > nextProducerId else {
                throw reject("next producer id \(r.nextProducerId) does not go past the current \(nextProducerId)")
            }
            producerIds = r

        case .featureLevel(let r):
            guard !r.name.isEmpty else { throw reject("the feature name is empty") }
            guard r.featureLevel >= 0 else { throw reject("feature '\(r.name)' has negative level \(r.featureLevel)") }
            features[r.name] = r.featureLevel == 0 ? nil : r.featureLevel

        case .delegationToken(let r):
            guard !r.tokenId.isEmpty else { throw reject("the token id is empty") }
            delegationTokens[r.tokenId] = r

        case .removeDelegationToken(let r):
            guard delegationTokens[r.tokenId] != nil else { throw reject("no delegation token has id '\(r.tokenId)'") }
            delegationTokens[r.tokenId] = nil

        case .noOp, .zkMigrationState:
            // NoOp advances the log (the controller's heartbeat); ZK migration does not apply to Sluice.
            break

        case .beginTransaction, .endTransaction, .abortTransaction:
            throw reject("transaction markers are handled by MetadataDelta")
        }
    }

    private func registeredBroker(_ id: Int32, epoch: Int64, _ type: MetadataRecordType) throws(MetadataReplayError) -> BrokerRegistration {
        guard let broker = brokers[id] else { throw MetadataReplayError(type, "broker \(id) is not registered") }
        guard broker.epoch == epoch else {
            throw MetadataReplayError(type, "broker \(id) has epoch \(broker.epoch), the record names epoch \(epoch)")
        }
        return broker
    }
}

extension ClientQuotaEntity {
    /// Entity types ClientQuotaRecord may name (KIP-546, KIP-612).
    public static let knownTypes: Set<String> = ["user", "client-id", "ip"]
}

extension PartitionRegistration {
    /// PartitionChangeRecord's leader value meaning "the leader did not change".
    public static let leaderUnchanged: Int32 = -2

    /// This registration with `change` applied: fields the record leaves null (or -2 for the
    /// leader, -1 for the recovery state) keep their value. Every change bumps the partition
    /// epoch; a change that names a leader also bumps the leader epoch, which therefore never
    /// goes back. The result must keep the invariants.
    func applying(_ change: PartitionChangeRecord) -> Result<PartitionRegistration, MetadataReplayError> {
        var next = self
        if let isr = change.isr { next.isr = isr }
        if let replicas = change.replicas { next.replicas = replicas }
        if let removing = change.removingReplicas { next.removingReplicas = removing }
        if let adding = change.addingReplicas { next.addingReplicas = adding }
        if let directories = change.directories { next.directories = directories }
        if let elr = change.eligibleLeaderReplicas { next.eligibleLeaderReplicas = elr }
        if let lastKnown = change.lastKnownElr { next.lastKnownElr = lastKnown }
        if change.leaderRecoveryState != -1 {
            guard (0...1).contains(change.leaderRecoveryState) else {
                return .failure(MetadataReplayError(.partitionChange, "leader recovery state \(change.leaderRecoveryState) is not defined"))
            }
            next.leaderRecoveryState = change.leaderRecoveryState
        }
        if change.leader != Self.leaderUnchanged {
            guard change.leader >= Self.noLeader else {
                return .failure(MetadataReplayError(.partitionChange, "leader \(change.leader) is not a broker id, -1 or -2"))
            }
            next.leader = change.leader
            next.leaderEpoch = leaderEpoch &+ 1
        }
        next.partitionEpoch = partitionEpoch &+ 1
        guard next.leaderEpoch >= 0, next.partitionEpoch >= 0 else {
            return .failure(MetadataReplayError(.partitionChange, "an epoch of partition \(partition) would overflow"))
        }
        if let violation = next.invariantViolation {
            return .failure(MetadataReplayError(.partitionChange, "partition \(partition) of topic \(topicId) would be invalid: it \(violation)"))
        }
        return .success(next)
    }
}
