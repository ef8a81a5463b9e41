// The controller's decisions: placement for CreateTopics/CreatePartitions, fencing, unfencing,
// controlled shutdown, AlterPartition, preferred-leader election and producer-id blocks. Each
// decision's records are replayed to check the image they lead to.
@testable import ClusterMetadata
import KafkaProtocol
import Testing

@Suite struct PlacementTests {
    func create(_ image: MetadataImage, partitions: Int32, rf: Int16, start: Int = 0) throws -> MetadataImage {
        let topic = NewTopic(name: "t", id: uuid(1), placement: .automatic(partitions: partitions, replicationFactor: rf),
                             configs: ["retention.ms": "1000", "cleanup.policy": "compact"])
        return try applying(ControllerDecisions.createTopic(topic, in: image, startIndex: start), to: image)
    }

    func replicas(_ image: MetadataImage) -> [[Int32]] {
        image.topic(named: "t")!.partitions.keys.sorted().map { image.topic(named: "t")!.partitions[$0]!.replicas }
    }

    @Test func leadersAndReplicasGoRoundRobin() throws {
        let image = try create(try brokersImage([1, 2, 3]), partitions: 6, rf: 2, start: 1)
        #expect(replicas(image) == [[2, 3], [3, 1], [1, 2], [2, 3], [3, 1], [1, 2]])
        let topic = try #require(image.topic(named: "t"))
        for p in topic.partitions.values {
            #expect(p.leader == p.replicas[0] && p.isr == p.replicas && p.leaderEpoch == 0 && p.partitionEpoch == 0)
        }
        #expect(image.configs[ConfigResource(type: 2, name: "t")] == ["retention.ms": "1000", "cleanup.policy": "compact"])
    }

    @Test func theSameInputGivesTheSameRecords() throws {
        let image = try brokersImage([4, 1, 7, 3])
        let topic = NewTopic(name: "t", id: uuid(1), placement: .automatic(partitions: 8, replicationFactor: 3))
        #expect(try ControllerDecisions.createTopic(topic, in: image, startIndex: 5) == ControllerDecisions.createTopic(topic, in: image, startIndex: 5))
    }

    @Test func fencedBrokersGetNothing() throws {
        var image = try brokersImage([1, 2, 3])
        image = try applying(try ControllerDecisions.fenceBroker(2, in: image), to: image)
        let placed = try create(image, partitions: 4, rf: 2)
        #expect(replicas(placed).allSatisfy { !$0.contains(2) })
    }

    @Test func replicasSpreadOverRacks() throws {
        let image = try brokersImage([1, 2, 3, 4, 5, 6], racks: ["a", "a", "a", "b", "b", "c"])
        let placed = try create(image, partitions: 12, rf: 3, start: 2)
        let rack = { (id: Int32) in placed.brokers[id]!.rack! }
        for r in replicas(placed) {
            #expect(Set(r.map(rack)).count == 3, "replicas \(r) cover all three racks")
        }
        // Leaders are spread: every broker leads two of the twelve partitions.
        let leaders = Dictionary(grouping: replicas(placed).map { $0[0] }, by: { $0 }).mapValues(\.count)
        #expect(leaders == [1: 2, 2: 2, 3: 2, 4: 2, 5: 2, 6: 2])
    }

    @Test func tooFewBrokersIsInvalidReplicationFactor() throws {
        let image = try brokersImage([1, 2])
        #expect(throws: ControllerError(.invalidReplicationFactor, "Replication factor 3 is larger than the 2 available broker(s).")) {
            try create(image, partitions: 1, rf: 3)
        }
        #expect(throws: ControllerError.self) { try create(image, partitions: 1, rf: 0) }
        #expect(throws: ControllerError(.invalidPartitions, "Number of partitions must be at least 1, not 0.")) {
            try create(image, partitions: 0, rf: 1)
        }
    }

    @Test func anExistingNameIsRefused() throws {
        let image = try create(try brokersImage(), partitions: 1, rf: 1)
        let again = NewTopic(name: "t", id: uuid(2), placement: .automatic(partitions: 1, replicationFactor: 1))
        #expect(throws: ControllerError(.topicAlreadyExists, "Topic 't' already exists.")) {
            try ControllerDecisions.createTopic(again, in: image)
        }
    }

    @Test func explicitAssignmentsAreValidated() throws {
        var image = try brokersImage([1, 2, 3])
        image = try applying(try ControllerDecisions.fenceBroker(3, in: image), to: image)
        func attempt(_ assignment: [[Int32]]) throws -> MetadataImage {
            let topic = NewTopic(name: "t", id: uuid(1), placement: .explicit(assignment))
            return try applying(ControllerDecisions.createTopic(topic, in: image), to: image)
        }
        let placed = try attempt([[3, 1], [2, 3]])
        let p0 = try #require(placed.partition(uuid(1), 0))
        #expect(p0.replicas == [3, 1] && p0.isr == [1] && p0.leader == 1, "a fenced replica stays out of the ISR")
        for (bad, code) in [([[1, 2], [1]], KafkaError.invalidReplicaAssignment), ([[1, 1]], .invalidReplicaAssignment),
                            ([[1, 9]], .invalidReplicaAssignment), ([[3]], .invalidReplicaAssignment), ([[]], .invalidReplicaAssignment),
                            ([], .invalidReplicaAssignment)] as [([[Int32]], KafkaError)] {
            #expect {
                try attempt(bad)
            } throws: { ($0 as? ControllerError)?.code == code }
        }
    }

    @Test func createPartitionsContinuesThePlacement() throws {
        var image = try create(try brokersImage([1, 2, 3]), partitions: 2, rf: 2)
        image = try applying(try ControllerDecisions.createPartitions(topic: "t", totalCount: 4, in: image), to: image)
        #expect(replicas(image) == [[1, 2], [2, 3], [3, 1], [1, 2]])
        #expect(throws: ControllerError.self) { try ControllerDecisions.createPartitions(topic: "t", totalCount: 4, in: image) }
        #expect(throws: ControllerError.self) { try ControllerDecisions.createPartitions(topic: "nope", totalCount: 9, in: image) }
        let explicit = try applying(try ControllerDecisions.createPartitions(topic: "t", totalCount: 5, assignments: [[3, 2]], in: image), to: image)
        #expect(explicit.partition(uuid(1), 4)?.replicas == [3, 2])
    }
}

@Suite struct LeadershipTests {
    let t = uuid(1)

    /// Brokers 1–3; partitions 0: [1,2,3] led by 1, 1: [2,1,3] led by 2, 2: [1] led by 1, 3: [3,2] led by 3.
    func cluster() throws -> MetadataImage {
        try MetadataImage.replay([
            registerBroker(1), registerBroker(2), registerBroker(3), topicRecord("t", t),
            partitionRecord(t, 0, replicas: [1, 2, 3]), partitionRecord(t, 1, replicas: [2, 1, 3]),
            partitionRecord(t, 2, replicas: [1]), partitionRecord(t, 3, replicas: [3, 2]),
        ])
    }

    @Test func fencingMovesLeadershipsAndShrinksIsrs() throws {
        let before = try cluster()
        let records = try ControllerDecisions.fenceBroker(1, in: before)
        #expect(records.last?.type == .fenceBroker)
        #expect(records.filter { $0.type == .partitionChange }.count == 3, "partition 3 does not involve broker 1")
        let after = try applying(records, to: before)
        let p0 = try #require(after.partition(t, 0)), p1 = try #require(after.partition(t, 1)), p2 = try #require(after.partition(t, 2))
        #expect(p0.leader == 2 && p0.isr == [2, 3] && p0.leaderEpoch == 1 && p0.partitionEpoch == 1)
        #expect(p1.leader == 2 && p1.isr == [2, 3] && p1.leaderEpoch == 0 && p1.partitionEpoch == 1, "only the ISR changed")
        #expect(p2.leader == -1 && p2.isr == [1] && p2.leaderEpoch == 1, "the last ISR member stays; no leader")
        #expect(after.brokers[1]?.fenced == true)
        #expect(after.partitionsInOrder.allSatisfy { $0.partition.leader != 1 }, "a fenced broker leads nothing")
        #expect(try ControllerDecisions.fenceBroker(1, in: after).isEmpty, "fencing twice changes nothing")
        #expect(throws: ControllerError.self) { try ControllerDecisions.fenceBroker(9, in: after) }
    }

    @Test func leadershipSkipsFencedIsrMembers() throws {
        var image = try cluster()
        image = try applying(try ControllerDecisions.fenceBroker(2, in: image), to: image)
        image = try applying(try ControllerDecisions.fenceBroker(1, in: image), to: image)
        let p0 = try #require(image.partition(t, 0))
        #expect(p0.leader == 3 && p0.isr == [3])
        let p3 = try #require(image.partition(t, 3))
        #expect(p3.leader == 3 && p3.isr == [3])
    }

    @Test func unfencingRestoresLeaderlessPartitions() throws {
        var image = try cluster()
        image = try applying(try ControllerDecisions.fenceBroker(1, in: image), to: image)
        let records = try ControllerDecisions.unfenceBroker(1, in: image)
        #expect(records.first?.type == .unfenceBroker)
        image = try applying(records, to: image)
        let p2 = try #require(image.partition(t, 2))
        #expect(p2.leader == 1 && p2.leaderEpoch == 2, "leader epochs only go up")
        #expect(image.isActive(broker: 1))
        #expect(try ControllerDecisions.unfenceBroker(1, in: image).isEmpty)
    }

    @Test func controlledShutdownMovesLeadershipsAway() throws {
        var image = try cluster()
        image = try applying(try ControllerDecisions.beginControlledShutdown(3, in: image), to: image)
        #expect(image.brokers[3]?.inControlledShutdown == true && image.brokers[3]?.fenced == false)
        let p3 = try #require(image.partition(t, 3))
        #expect(p3.leader == 2 && p3.isr == [2])
        #expect(image.partitionsInOrder.allSatisfy { !$0.partition.isr.contains(3) })
    }

    @Test func alterPartitionChecksEpochsAndMembers() throws {
        let image = try cluster()
        func alter(leader: Int32 = 1, leaderEpoch: Int32 = 0, partitionEpoch: Int32 = 0, isr: [Int32]) throws -> [MetadataRecord] {
            try ControllerDecisions.alterPartition(topicId: t, partition: 0, leaderId: leader, leaderEpoch: leaderEpoch,
                                                   partitionEpoch: partitionEpoch, newIsr: isr, in: image)
        }
        let shrunk = try applying(try alter(isr: [1, 3]), to: image)
        #expect(shrunk.partition(t, 0)?.isr == [1, 3] && shrunk.partition(t, 0)?.partitionEpoch == 1)
        #expect(try alter(isr: [1, 2, 3]).isEmpty, "the same ISR needs no record")
        let cases: [(() throws -> [MetadataRecord], KafkaError)] = [
            ({ try alter(leaderEpoch: 5, isr: [1]) }, .fencedLeaderEpoch),
            ({ try alter(leader: 2, isr: [2]) }, .notLeaderOrFollower),
            ({ try alter(partitionEpoch: 3, isr: [1]) }, .invalidUpdateVersion),
            ({ try alter(isr: [2, 3]) }, .invalidRequest),
            ({ try alter(isr: [1, 4]) }, .invalidRequest),
            ({ try ControllerDecisions.alterPartition(topicId: uuid(9), partition: 0, leaderId: 1, leaderEpoch: 0, partitionEpoch: 0, newIsr: [1], in: image) },
             .unknownTopicId),
        ]
        for (attempt, code) in cases {
            #expect { _ = try attempt() } throws: { ($0 as? ControllerError)?.code == code }
        }
        // A fenced broker cannot rejoin the ISR.
        var fenced = try applying([partitionChange(t, 0, isr: [1])], to: image)
        fenced = try applying(try ControllerDecisions.fenceBroker(2, in: fenced), to: fenced)
        #expect {
            try ControllerDecisions.alterPartition(topicId: t, partition: 0, leaderId: 1, leaderEpoch: 0, partitionEpoch: 1, newIsr: [1, 2], in: fenced)
        } throws: { ($0 as? ControllerError)?.code == .ineligibleReplica }
    }

    @Test func preferredLeaderElection() throws {
        var image = try cluster()
        image = try applying(try ControllerDecisions.fenceBroker(1, in: image), to: image)
        image = try applying(try ControllerDecisions.unfenceBroker(1, in: image), to: image)
        // Broker 1 is back but not yet in partition 0's ISR: no election possible there.
        #expect { try ControllerDecisions.electPreferredLeader(topicId: t, partition: 0, in: image) }
            throws: { ($0 as? ControllerError)?.code == .preferredLeaderNotAvailable }
        image = try applying([partitionChange(t, 0, isr: [2, 3, 1])], to: image)
        let records = ControllerDecisions.electPreferredLeaders(in: image)
        #expect(records.count == 1)
        image = try applying(records, to: image)
        #expect(image.partition(t, 0)?.leader == 1 && image.partition(t, 0)?.leaderEpoch == 2)
        #expect { try ControllerDecisions.electPreferredLeader(topicId: t, partition: 0, in: image) }
            throws: { ($0 as? ControllerError)?.code == .electionNotNeeded }
    }

    @Test func producerIdBlocksNeverOverlap() throws {
        var image = try cluster()
        var blocks: [ProducerIdBlock] = []
        for broker in [1, 2, 1] as [Int32] {
            let (records, block) = try ControllerDecisions.allocateProducerIds(brokerId: broker, brokerEpoch: 10, in: image)
            image = try applying(records, to: image)
            blocks.append(block)
        }
        #expect(blocks.map(\.firstId) == [0, 1000, 2000])
        #expect(image.nextProducerId == 3000)
        #expect { try ControllerDecisions.allocateProducerIds(brokerId: 1, brokerEpoch: 9, in: image) }
            throws: { ($0 as? ControllerError)?.code == .staleBrokerEpoch }
        #expect { try ControllerDecisions.allocateProducerIds(brokerId: 7, brokerEpoch: 10, in: image) }
            throws: { ($0 as? ControllerError)?.code == .brokerIdNotRegistered }
    }

    @Test func registrationStartsFencedAndReplacesADeadIncarnation() throws {
        var image = try cluster()
        var feature = FeatureLevelRecord()
        feature.name = "metadata.version"
        feature.featureLevel = 20
        image = try applying([.featureLevel(feature)], to: image)
        var supports = RegisterBrokerRecord.BrokerFeature()
        supports.name = "metadata.version"
        supports.minSupportedVersion = 1
        supports.maxSupportedVersion = 25
        let request = ControllerDecisions.BrokerRegistrationRequest(brokerId: 1, incarnationId: uuid(77), endpoints: [],
                                                                    supportedFeatures: [supports], rack: "r1")
        #expect { try ControllerDecisions.registerBroker(request, brokerEpoch: 50, existingSessionAlive: true, in: image) }
            throws: { ($0 as? ControllerError)?.code == .duplicateBrokerRegistration }
        #expect { try ControllerDecisions.registerBroker(request, brokerEpoch: 10, existingSessionAlive: false, in: image) }
            throws: { ($0 as? ControllerError)?.code == .staleBrokerEpoch }
        var tooOld = request
        tooOld.supportedFeatures[0].maxSupportedVersion = 19
        #expect { try ControllerDecisions.registerBroker(tooOld, brokerEpoch: 50, existingSessionAlive: false, in: image) }
            throws: { ($0 as? ControllerError)?.code == .unsupportedVersion }

        // The old process is gone: its leaderships move, the new one registers fenced.
        image = try applying(try ControllerDecisions.registerBroker(request, brokerEpoch: 50, existingSessionAlive: false, in: image), to: image)
        let broker = try #require(image.brokers[1])
        #expect(broker.fenced && broker.epoch == 50 && broker.incarnationId == uuid(77) && broker.rack == "r1")
        #expect(image.partitionsInOrder.allSatisfy { $0.partition.leader != 1 })
        image = try applying(try ControllerDecisions.unfenceBroker(1, in: image), to: image)
        #expect(image.partition(t, 2)?.leader == 1, "its single-replica partition comes back with it")
    }

    @Test func unregisteringAndDeletingTopics() throws {
        var image = try cluster()
        image = try applying(try ControllerDecisions.unregisterBroker(3, in: image), to: image)
        #expect(image.brokers[3] == nil && image.partition(t, 3)?.leader == 2)
        #expect { try ControllerDecisions.unregisterBroker(3, in: image) } throws: { ($0 as? ControllerError)?.code == .brokerIdNotRegistered }
        #expect { try ControllerDecisions.deleteTopic(name: "nope", in: image) } throws: { ($0 as? ControllerError)?.code == .unknownTopicOrPartition }
        #expect { try ControllerDecisions.deleteTopic(name: nil, id: uuid(9), in: image) } throws: { ($0 as? ControllerError)?.code == .unknownTopicId }
        image = try applying(try ControllerDecisions.deleteTopic(name: "t", in: image), to: image)
        #expect(image.topicsById.isEmpty)
    }
}
