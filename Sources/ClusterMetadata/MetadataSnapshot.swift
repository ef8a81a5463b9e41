// An image written back as records (the body of a KRaft snapshot, `<offset>-<epoch>.checkpoint`):
// replaying them from an empty image gives an equal image. The order is fixed (features first, as
// KRaft puts metadata.version first; topics before their configs and partitions) and sorted within
// each kind, so equal images give byte-identical snapshots on every node.
import KafkaProtocol

extension MetadataImage {
    public func snapshotRecords() -> [MetadataRecord] {
        var records: [MetadataRecord] = []
        for (name, level) in features.sorted(by: { $0.key < $1.key }) {
            var r = FeatureLevelRecord()
            r.name = name
            r.featureLevel = level
            records.append(.featureLevel(r))
        }
        for id in brokers.keys.sorted() {
            let b = brokers[id]!
            var r = RegisterBrokerRecord()
            r.brokerId = b.id
            r.brokerEpoch = b.epoch
            r.incarnationId = b.incarnationId
            r.endPoints = b.endpoints
            r.features = b.supportedFeatures
            r.rack = b.rack
            r.fenced = b.fenced
            r.inControlledShutdown = b.inControlledShutdown
            r.isMigratingZkBroker = b.isMigratingZkBroker
            r.logDirs = b.logDirs
            records.append(.registerBroker(r))
        }
        for id in controllers.keys.sorted() { records.append(.registerController(controllers[id]!)) }
        for id in topicsById.keys.sortedIds() {
            let topic = topicsById[id]!
            var r = TopicRecord()
            r.name = topic.name
            r.topicId = topic.id
            records.append(.topic(r))
            for index in topic.partitions.keys.sorted() { records.append(.partition(topic.partitions[index]!.record)) }
        }
        for resource in configs.keys.sorted() {
            records += configs[resource]!.sorted(by: { $0.key < $1.key }).map { .config(resource.configRecord(key: $0.key, value: $0.value)) }
        }
        for entity in clientQuotas.keys.sorted() {
            for (key, value) in clientQuotas[entity]!.sorted(by: { $0.key < $1.key }) {
                var r = ClientQuotaRecord()
                r.entity = entity.parts.map { part in
                    var data = ClientQuotaRecord.EntityData()
                    data.entityType = part.type
                    data.entityName = part.name
                    return data
                }
                r.key = key
                r.value = value
                records.append(.clientQuota(r))
            }
        }
        if let producerIds { records.append(.producerIds(producerIds)) }
        for id in acls.keys.sortedIds() { records.append(.accessControlEntry(acls[id]!)) }
        for key in scramCredentials.keys.sorted() { records.append(.userScramCredential(scramCredentials[key]!)) }
        for id in delegationTokens.keys.sorted() { records.append(.delegationToken(delegationTokens[id]!)) }
        return records
    }
}

extension PartitionRegistration {
    /// The PartitionRecord that registers this partition as it is now.
    public var record: PartitionRecord {
        var r = PartitionRecord()
        r.partitionId = partition
        r.topicId = topicId
        r.replicas = replicas
        r.isr = isr
        r.removingReplicas = removingReplicas
        r.addingReplicas = addingReplicas
        r.leader = leader
        r.leaderRecoveryState = leaderRecoveryState
        r.leaderEpoch = leaderEpoch
        r.partitionEpoch = partitionEpoch
        r.directories = directories
        r.eligibleLeaderReplicas = eligibleLeaderReplicas
        r.lastKnownElr = lastKnownElr
        return r
    }
}
