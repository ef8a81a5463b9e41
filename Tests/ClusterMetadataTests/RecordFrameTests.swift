// The metadata log's record frame and the generated record codecs: fixed bytes, a round trip of
// every record type at every version, and frames that must be refused.
@testable import ClusterMetadata
import KafkaProtocol
import Testing

@Suite struct RecordFrameTests {
    /// One filled-in record of every type, so each codec's fields are exercised.
    static let samples: [MetadataRecord] = {
        var acl = AccessControlEntryRecord()
        acl.id = uuid(7)
        acl.resourceType = 2
        acl.resourceName = "orders"
        acl.patternType = 3
        acl.principal = "User:alice"
        acl.host = "*"
        acl.operation = 3
        acl.permissionType = 3
        var removeAcl = RemoveAccessControlEntryRecord()
        removeAcl.id = uuid(7)
        var scram = UserScramCredentialRecord()
        scram.name = "alice"
        scram.mechanism = 2
        scram.salt = [1, 2, 3]
        scram.storedKey = [4, 5]
        scram.serverKey = [6]
        scram.iterations = 8192
        var removeScram = RemoveUserScramCredentialRecord()
        removeScram.name = "alice"
        removeScram.mechanism = 2
        var quota = ClientQuotaRecord()
        var entity = ClientQuotaRecord.EntityData()
        entity.entityType = "user"
        entity.entityName = nil
        quota.entity = [entity]
        quota.key = "producer_byte_rate"
        quota.value = 1_048_576
        var producerIds = ProducerIdsRecord()
        producerIds.brokerId = 1
        producerIds.brokerEpoch = 10
        producerIds.nextProducerId = 2000
        var feature = FeatureLevelRecord()
        feature.name = "metadata.version"
        feature.featureLevel = 25
        var removeTopic = RemoveTopicRecord()
        removeTopic.topicId = uuid(1)
        var unregister = UnregisterBrokerRecord()
        unregister.brokerId = 3
        unregister.brokerEpoch = 10
        var fence = FenceBrokerRecord()
        fence.id = 2
        fence.epoch = 10
        var unfence = UnfenceBrokerRecord()
        unfence.id = 2
        unfence.epoch = 10
        var change = BrokerRegistrationChangeRecord()
        change.brokerId = 2
        change.brokerEpoch = 10
        change.fenced = -1
        change.inControlledShutdown = 1
        var begin = BeginTransactionRecord()
        begin.name = "create topic orders"
        var abort = AbortTransactionRecord()
        abort.reason = "controller failover"
        var fullChange = PartitionChangeRecord()
        fullChange.topicId = uuid(1)
        fullChange.partitionId = 4
        fullChange.isr = [1, 2]
        fullChange.leader = 2
        fullChange.replicas = [2, 1, 3]
        fullChange.removingReplicas = [3]
        fullChange.addingReplicas = []
        fullChange.leaderRecoveryState = 0
        fullChange.eligibleLeaderReplicas = [3]
        fullChange.lastKnownElr = nil
        return [
            topicRecord("orders", uuid(1)),
            partitionRecord(uuid(1), 0, replicas: [1, 2, 3], isr: [1, 2], leader: 1),
            .partitionChange(fullChange),
            .removeTopic(removeTopic),
            registerBroker(1, rack: "eu-1a"),
            .unregisterBroker(unregister),
            .fenceBroker(fence),
            .unfenceBroker(unfence),
            .brokerRegistrationChange(change),
            configRecord(2, "orders", "retention.ms", "86400000"),
            configRecord(4, "1", "log.cleaner.threads", nil),
            .accessControlEntry(acl),
            .removeAccessControlEntry(removeAcl),
            .userScramCredential(scram),
            .removeUserScramCredential(removeScram),
            .clientQuota(quota),
            .producerIds(producerIds),
            .featureLevel(feature),
            .noOp(NoOpRecord()),
            .beginTransaction(begin),
            .endTransaction(EndTransactionRecord()),
            .abortTransaction(abort),
        ]
    }()

    @Test(arguments: samples)
    func everyVersionRoundTripsInItsFrame(_ record: MetadataRecord) throws {
        for version in record.type.specVersions {
            let framed = MetadataRecordAndVersion(record, version: version)
            let bytes = framed.encoded()
            #expect(bytes[0] == 1, "frame version 1 leads")
            #expect(Int16(bytes[1]) == record.type.rawValue, "then the record type")
            #expect(Int16(bytes[2]) == version, "then the record version")
            let decoded = try MetadataRecordAndVersion(decoding: bytes)
            // Fields a version does not carry come back at their defaults, so compare re-encodings.
            #expect(decoded.version == version)
            #expect(decoded.encoded() == bytes)
            if version == record.type.specVersions.upperBound { #expect(decoded.record == record) }
        }
    }

    @Test func everyRequiredRecordTypeHasASample() {
        let covered = Set(Self.samples.map(\.type))
        let required: Set<MetadataRecordType> = [
            .topic, .partition, .partitionChange, .removeTopic, .registerBroker, .unregisterBroker, .fenceBroker,
            .unfenceBroker, .brokerRegistrationChange, .config, .accessControlEntry, .removeAccessControlEntry,
            .userScramCredential, .removeUserScramCredential, .clientQuota, .producerIds, .featureLevel, .noOp,
            .beginTransaction, .endTransaction, .abortTransaction,
        ]
        #expect(required.isSubset(of: covered))
    }

    @Test func topicRecordGoldenBytes() throws {
        let bytes = MetadataRecordAndVersion(topicRecord("t", KafkaUUID(high: 1, low: 2))).encoded()
        let expected: [UInt8] = [
            0x01, 0x02, 0x00,  // frame version 1, type 2 (TopicRecord), version 0
            0x02, 0x74,  // compact string "t"
            0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2,  // topic id
            0x00,  // no tagged fields
        ]
        #expect(bytes == expected)
        #expect(try MetadataRecordAndVersion(decoding: expected).record == topicRecord("t", KafkaUUID(high: 1, low: 2)))
    }

    @Test func partitionChangeGoldenBytesCarryChangesAsTaggedFields() throws {
        let record = partitionChange(KafkaUUID(high: 0, low: 9), 3, isr: [1, 2], leader: 2)
        let bytes = MetadataRecordAndVersion(record, version: 0).encoded()
        let expected: [UInt8] = [
            0x01, 0x05, 0x00,  // frame 1, type 5 (PartitionChangeRecord), version 0
            0, 0, 0, 3,  // partition
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9,  // topic id
            0x02,  // two tagged fields
            0x00, 0x09, 0x03, 0, 0, 0, 1, 0, 0, 0, 2,  // tag 0 (ISR): [1, 2]
            0x01, 0x04, 0, 0, 0, 2,  // tag 1 (leader): 2
        ]
        #expect(bytes == expected)
        #expect(try MetadataRecordAndVersion(decoding: expected).record == record)
    }

    @Test func framesThatAreRefused() {
        let good = MetadataRecordAndVersion(topicRecord("t", uuid(1))).encoded()
        #expect(throws: MetadataFrameError.unknownFrameVersion(0)) { try MetadataRecordAndVersion(decoding: [0] + good.dropFirst()) }
        #expect(throws: MetadataFrameError.unknownRecordType(99)) { try MetadataRecordAndVersion(decoding: [1, 99, 0]) }
        #expect(throws: MetadataFrameError.unsupportedVersion(.topic, 1)) { try MetadataRecordAndVersion(decoding: [1, 2, 1] + good.dropFirst(3)) }
        #expect(throws: MetadataFrameError.trailingBytes(.topic, 1)) { try MetadataRecordAndVersion(decoding: good + [0]) }
        #expect(throws: MetadataFrameError.self) { try MetadataRecordAndVersion(decoding: Array(good.dropLast(5))) }
        #expect(throws: MetadataFrameError.self) { try MetadataRecordAndVersion(decoding: []) }
    }
}
