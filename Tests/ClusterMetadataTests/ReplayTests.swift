// Replaying records into the image: what each record does, the transactions of KIP-868, and
// records that are refused with a message while the image stays as it was.
@testable import ClusterMetadata
import KafkaProtocol
import Testing

@Suite struct ReplayTests {
    let orders = uuid(1)

    @Test func topicsPartitionsAndChanges() throws {
        var image = try MetadataImage.replay([
            registerBroker(1), registerBroker(2), registerBroker(3, rack: "b"),
            topicRecord("orders", orders),
            configRecord(2, "orders", "retention.ms", "1000"),
            partitionRecord(orders, 0, replicas: [1, 2, 3]),
            partitionRecord(orders, 1, replicas: [2, 3, 1]),
        ])
        #expect(image.topic(named: "orders")?.partitions.count == 2)
        #expect(image.configs[ConfigResource(type: 2, name: "orders")] == ["retention.ms": "1000"])
        #expect(image.brokers[3]?.rack == "b")
        #expect(image.brokers[1]?.endpoints.first?.host == "127.0.0.1")

        image = try applying([partitionChange(orders, 0, isr: [1, 3])], to: image)
        var p = try #require(image.partition(orders, 0))
        #expect(p.isr == [1, 3] && p.leader == 1)
        #expect(p.leaderEpoch == 0, "an ISR change keeps the leader epoch")
        #expect(p.partitionEpoch == 1, "every change bumps the partition epoch")

        image = try applying([partitionChange(orders, 0, isr: [3], leader: 3)], to: image)
        p = try #require(image.partition(orders, 0))
        #expect(p.leader == 3 && p.leaderEpoch == 1 && p.partitionEpoch == 2)

        var remove = RemoveTopicRecord()
        remove.topicId = orders
        image = try applying([.removeTopic(remove)], to: image)
        #expect(image.topicsById.isEmpty && image.topicIdsByName.isEmpty)
        #expect(image.configs.isEmpty, "a removed topic's configs go with it")
    }

    @Test func brokersFenceUnfenceAndLeave() throws {
        var image = try MetadataImage.replay([registerBroker(1, fenced: true)])
        #expect(image.brokers[1]?.fenced == true && !image.isActive(broker: 1))
        var unfence = UnfenceBrokerRecord()
        unfence.id = 1
        unfence.epoch = 10
        image = try applying([.unfenceBroker(unfence)], to: image)
        #expect(image.isActive(broker: 1))

        var change = BrokerRegistrationChangeRecord()
        change.brokerId = 1
        change.brokerEpoch = 10
        change.inControlledShutdown = 1
        image = try applying([.brokerRegistrationChange(change)], to: image)
        #expect(image.brokers[1]?.inControlledShutdown == true && !image.isActive(broker: 1))

        // Re-registration (a restart) takes a higher epoch and clears the shutdown state.
        image = try applying([registerBroker(1, epoch: 20, fenced: true)], to: image)
        #expect(image.brokers[1]?.epoch == 20 && image.brokers[1]?.inControlledShutdown == false)

        var unregister = UnregisterBrokerRecord()
        unregister.brokerId = 1
        unregister.brokerEpoch = 20
        image = try applying([.unregisterBroker(unregister)], to: image)
        #expect(image.brokers.isEmpty)
    }

    @Test func securityQuotasFeaturesAndProducerIds() throws {
        var acl = AccessControlEntryRecord()
        acl.id = uuid(9)
        acl.resourceType = 2
        acl.resourceName = "orders"
        acl.principal = "User:alice"
        var scram = UserScramCredentialRecord()
        scram.name = "alice"
        scram.mechanism = 1
        scram.iterations = 4096
        var quota = ClientQuotaRecord()
        var user = ClientQuotaRecord.EntityData()
        user.entityType = "user"
        user.entityName = "alice"
        var client = ClientQuotaRecord.EntityData()
        client.entityType = "client-id"
        client.entityName = nil
        quota.entity = [user, client]
        quota.key = "consumer_byte_rate"
        quota.value = 5000
        var feature = FeatureLevelRecord()
        feature.name = "metadata.version"
        feature.featureLevel = 21
        var ids = ProducerIdsRecord()
        ids.brokerId = 1
        ids.nextProducerId = 1000
        var image = try MetadataImage.replay([
            .accessControlEntry(acl), .userScramCredential(scram), .clientQuota(quota), .featureLevel(feature), .producerIds(ids),
        ])
        #expect(image.acls[uuid(9)]?.principal == "User:alice")
        #expect(image.scramCredentials[ScramCredentialKey(user: "alice", mechanism: 1)]?.iterations == 4096)
        let entity = ClientQuotaEntity([.init(type: "user", name: "alice"), .init(type: "client-id", name: nil)])
        #expect(image.clientQuotas[entity] == ["consumer_byte_rate": 5000])
        #expect(image.features == ["metadata.version": 21])
        #expect(image.nextProducerId == 1000)

        var removeAcl = RemoveAccessControlEntryRecord()
        removeAcl.id = uuid(9)
        var removeScram = RemoveUserScramCredentialRecord()
        removeScram.name = "alice"
        removeScram.mechanism = 1
        quota.remove = true
        feature.featureLevel = 0
        image = try applying([.removeAccessControlEntry(removeAcl), .removeUserScramCredential(removeScram), .clientQuota(quota),
                              .featureLevel(feature), .noOp(NoOpRecord())], to: image)
        #expect(image.acls.isEmpty && image.scramCredentials.isEmpty && image.clientQuotas.isEmpty && image.features.isEmpty)
    }

    @Test func transactionsPublishAtTheEndAndAbortsLeaveNoTrace() throws {
        var delta = MetadataDelta(base: try brokersImage())
        let before = delta.image
        try delta.apply(.beginTransaction(BeginTransactionRecord()))
        try delta.apply(topicRecord("orders", orders))
        try delta.apply(partitionRecord(orders, 0, replicas: [1]))
        #expect(delta.inTransaction)
        #expect(delta.publishableImage == before, "readers do not see a transaction's records before its end")
        try delta.apply(.abortTransaction(AbortTransactionRecord()))
        #expect(delta.image == before && !delta.inTransaction)

        try delta.apply(.beginTransaction(BeginTransactionRecord()))
        try delta.apply(topicRecord("orders", orders))
        try delta.apply(.endTransaction(EndTransactionRecord()))
        #expect(delta.publishableImage.topic(named: "orders") != nil)

        // A log prefix ending inside a transaction replays to the image before it.
        let prefix = try MetadataImage.replay([registerBroker(1), .beginTransaction(BeginTransactionRecord()), topicRecord("x", uuid(5))])
        #expect(prefix.topicsById.isEmpty && prefix.brokers.count == 1)
    }

    /// Each bad record is refused with a message naming the problem, and the image is unchanged.
    @Test(arguments: [
        (topicRecord("orders", uuid(2)), "topic 'orders' already exists"),
        (topicRecord("other", uuid(1)), "already used by topic 'orders'"),
        (topicRecord("", uuid(3)), "the topic name is empty"),
        (topicRecord("zero", .zero), "zero topic id"),
        (partitionRecord(uuid(4), 0, replicas: [1]), "topic id"),
        (partitionRecord(uuid(1), 0, replicas: [1]), "orders-0 already exists"),
        (partitionRecord(uuid(1), 1, replicas: [1, 1]), "lists a replica twice"),
        (partitionRecord(uuid(1), 1, replicas: [1, 2], isr: [3], leader: 3), "not a subset of replicas"),
        (partitionRecord(uuid(1), 1, replicas: [1, 2], isr: [1], leader: 2), "outside its ISR"),
        (partitionRecord(uuid(1), 1, replicas: []), "has no replicas"),
        (partitionChange(uuid(1), 7, isr: [1]), "orders-7 does not exist"),
        (partitionChange(uuid(4), 0, isr: [1]), "is unknown"),
        (partitionChange(uuid(1), 0, isr: [9]), "not a subset of replicas"),
        (partitionChange(uuid(1), 0, isr: [2]), "outside its ISR"),
        (partitionChange(uuid(1), 0, leader: -5), "is not a broker id"),
        (.removeTopic({ var r = RemoveTopicRecord(); r.topicId = uuid(4); return r }()), "is unknown"),
        (registerBroker(1, epoch: 5), "not above its current epoch 10"),
        (.fenceBroker({ var r = FenceBrokerRecord(); r.id = 9; r.epoch = 10; return r }()), "broker 9 is not registered"),
        (.fenceBroker({ var r = FenceBrokerRecord(); r.id = 1; r.epoch = 3; return r }()), "names epoch 3"),
        (.unregisterBroker({ var r = UnregisterBrokerRecord(); r.brokerId = 9; return r }()), "not registered"),
        (.brokerRegistrationChange({ var r = BrokerRegistrationChangeRecord(); r.brokerId = 1; r.brokerEpoch = 10; r.fenced = 4; return r }()), "fenced is 4"),
        (configRecord(2, "missing", "retention.ms", "1"), "topic 'missing' does not exist"),
        (.removeAccessControlEntry({ var r = RemoveAccessControlEntryRecord(); r.id = uuid(8); return r }()), "no ACL has id"),
        (.userScramCredential({ var r = UserScramCredentialRecord(); r.name = "a"; r.mechanism = 7; return r }()), "mechanism 7"),
        (.removeUserScramCredential({ var r = RemoveUserScramCredentialRecord(); r.name = "bob"; r.mechanism = 1; return r }()), "no SCRAM credential"),
        (.clientQuota({ var r = ClientQuotaRecord(); r.key = "k"; return r }()), "no parts"),
        (.producerIds({ var r = ProducerIdsRecord(); r.nextProducerId = 0; return r }()), "does not go past"),
        (.endTransaction(EndTransactionRecord()), "no transaction is open"),
        (.abortTransaction(AbortTransactionRecord()), "no transaction is open"),
    ] as [(MetadataRecord, String)])
    func invalidRecordsAreRefusedWithoutChange(_ record: MetadataRecord, _ reason: String) throws {
        let image = try MetadataImage.replay([
            registerBroker(1), registerBroker(2), topicRecord("orders", orders), partitionRecord(orders, 0, replicas: [1, 2], isr: [1], leader: 1),
        ])
        var delta = MetadataDelta(base: image)
        do {
            try delta.apply(record)
            Issue.record("\(record.type) was accepted; expected a refusal mentioning '\(reason)'")
        } catch {
            #expect(error.recordType == record.type)
            #expect(error.description.contains(reason), "message: \(error.description)")
        }
        #expect(delta.image == image, "a refused record changes nothing")
    }

    @Test func aNestedTransactionIsRefused() throws {
        var delta = MetadataDelta()
        try delta.apply(.beginTransaction(BeginTransactionRecord()))
        #expect(throws: MetadataReplayError(.beginTransaction, "a transaction is already open")) {
            try delta.apply(.beginTransaction(BeginTransactionRecord()))
        }
    }
}
