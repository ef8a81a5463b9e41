// The active controller's decisions as pure functions of an image: each returns the records to
// append (the caller commits them through the metadata quorum, then replays them like every other
// node) and never changes the image. Errors carry Kafka's error code and a message for the client.
import KafkaProtocol

/// A refused controller request: the Kafka error code for the answer and why.
public struct ControllerError: Error, Equatable, Sendable, CustomStringConvertible {
    public let code: KafkaError
    public let message: String

    public init(_ code: KafkaError, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}

/// How CreateTopics asks for a topic: either a partition count and replication factor, or an
/// explicit replica list per partition (index = partition).
public struct NewTopic: Sendable, Equatable {
    public enum Placement: Sendable, Equatable {
        case automatic(partitions: Int32, replicationFactor: Int16)
        case explicit([[Int32]])
    }

    public var name: String
    public var id: KafkaUUID
    public var placement: Placement
    public var configs: [String: String]

    /// `name` is assumed valid (the request handler checks Kafka's topic-name rules); `id` is the
    /// new topic's random id, drawn by the caller so this stays a function.
    public init(name: String, id: KafkaUUID, placement: Placement, configs: [String: String] = [:]) {
        self.name = name
        self.id = id
        self.placement = placement
        self.configs = configs
    }
}

/// A block of producer ids handed to one broker: `firstId ..< firstId + size`.
public struct ProducerIdBlock: Sendable, Equatable {
    public let brokerId: Int32
    public let firstId: Int64
    public let size: Int32
}

public enum ControllerDecisions {
    /// Kafka's producer-id block size (ProducerIdManager hands out 1000 ids at a time).
    public static let producerIdBlockSize: Int32 = 1000

    // MARK: CreateTopics

    /// The records that create `topic`: TopicRecord, its ConfigRecords (sorted by key), then one
    /// PartitionRecord per partition with leader = first replica, ISR = the active replicas.
    /// Automatic placement spreads leaders round-robin over the active brokers starting at
    /// `startIndex` (the caller picks it at random; tests pass a fixed one) and, when brokers
    /// have racks, puts each partition's replicas on as many racks as it can.
    public static func createTopic(_ topic: NewTopic, in image: MetadataImage, startIndex: Int = 0) throws(ControllerError) -> [MetadataRecord] {
        guard image.topicIdsByName[topic.name] == nil else {
            throw ControllerError(.topicAlreadyExists, "Topic '\(topic.name)' already exists.")
        }
        guard topic.id != .zero, image.topicsById[topic.id] == nil else {
            throw ControllerError(.invalidTopicException, "Topic id \(topic.id) is zero or already in use.")
        }
        let assignments: [[Int32]]
        switch topic.placement {
        case .automatic(let partitions, let replicationFactor):
            guard partitions >= 1 else {
                throw ControllerError(.invalidPartitions, "Number of partitions must be at least 1, not \(partitions).")
            }
            assignments = try placeReplicas(partitions: Int(partitions), replicationFactor: Int(replicationFactor),
                                            firstPartition: 0, in: image, startIndex: startIndex)
        case .explicit(let given):
            try validateAssignment(given, in: image)
            assignments = given
        }
        var records: [MetadataRecord] = []
        var topicRecord = TopicRecord()
        topicRecord.name = topic.name
        topicRecord.topicId = topic.id
        records.append(.topic(topicRecord))
        let resource = ConfigResource(type: ConfigResource.topicType, name: topic.name)
        records += topic.configs.sorted(by: { $0.key < $1.key }).map { .config(resource.configRecord(key: $0.key, value: $0.value)) }
        for (index, replicas) in assignments.enumerated() {
            records.append(.partition(newPartitionRecord(topicId: topic.id, partition: Int32(index), replicas: replicas, in: image)))
        }
        return records
    }

    /// CreatePartitions: the PartitionRecords that grow topic `name` to `totalCount` partitions,
    /// placed like CreateTopics with the topic's current replication factor (the first
    /// partition's) unless `assignments` lists the new partitions' replicas.
    public static func createPartitions(topic name: String, totalCount: Int32, assignments: [[Int32]]? = nil,
                                        in image: MetadataImage, startIndex: Int = 0) throws(ControllerError) -> [MetadataRecord] {
        guard let topic = image.topic(named: name) else {
            throw ControllerError(.unknownTopicOrPartition, "Topic '\(name)' does not exist.")
        }
        let current = Int32(topic.partitions.count)
        guard totalCount > current else {
            throw ControllerError(.invalidPartitions, "Topic '\(name)' has \(current) partitions; the new count \(totalCount) must be larger.")
        }
        let placed: [[Int32]]
        if let assignments {
            guard assignments.count == Int(totalCount - current) else {
                throw ControllerError(.invalidReplicaAssignment,
                                      "\(assignments.count) assignments given for \(totalCount - current) new partitions.")
            }
            try validateAssignment(assignments, in: image)
            placed = assignments
        } else {
            let replicationFactor = topic.partitions[0]?.replicas.count ?? 1
            placed = try placeReplicas(partitions: Int(totalCount - current), replicationFactor: replicationFactor,
                                       firstPartition: Int(current), in: image, startIndex: startIndex)
        }
        return placed.enumerated().map { offset, replicas in
            .partition(newPartitionRecord(topicId: topic.id, partition: current + Int32(offset), replicas: replicas, in: image))
        }
    }

    static func newPartitionRecord(topicId: KafkaUUID, partition: Int32, replicas: [Int32], in image: MetadataImage) -> PartitionRecord {
        let isr = replicas.filter(image.isActive(broker:))
        precondition(!isr.isEmpty, "a new partition has at least one active replica (checked by placement)")
        var r = PartitionRecord()
        r.partitionId = partition
        r.topicId = topicId
        r.replicas = replicas
        r.isr = isr
        r.leader = isr[0]
        r.leaderEpoch = 0
        r.partitionEpoch = 0
        return r
    }

    /// Replica lists for `partitions` new partitions (numbered from `firstPartition`, which
    /// shifts the round-robin so added partitions continue it). Active brokers are ordered rack by
    /// rack, interleaved (r1b1, r2b1, r3b1, r1b2, ...), so consecutive brokers sit on different
    /// racks; partition p's leader is broker (start + p) in that order and its followers are the
    /// next brokers whose rack the partition does not use yet, then any others.
    static func placeReplicas(partitions: Int, replicationFactor: Int, firstPartition: Int,
                              in image: MetadataImage, startIndex: Int) throws(ControllerError) -> [[Int32]] {
        let active = image.brokers.keys.sorted().filter(image.isActive(broker:))
        guard replicationFactor >= 1 else {
            throw ControllerError(.invalidReplicationFactor, "Replication factor must be at least 1, not \(replicationFactor).")
        }
        guard replicationFactor <= active.count else {
            throw ControllerError(.invalidReplicationFactor,
                                  "Replication factor \(replicationFactor) is larger than the \(active.count) available broker(s).")
        }
        // Brokers without a rack form one group of their own (sorted first, as nil < any rack).
        var byRack: [String: [Int32]] = [:]
        for id in active { byRack[image.brokers[id]!.rack ?? "", default: []].append(id) }
        let racks = byRack.keys.sorted()
        var ordered: [Int32] = []
        var round = 0
        while ordered.count < active.count {
            for rack in racks where round < byRack[rack]!.count { ordered.append(byRack[rack]![round]) }
            round += 1
        }
        let rackOf = { (id: Int32) in image.brokers[id]!.rack ?? "" }
        let n = ordered.count
        let start = ((startIndex % n) + n) % n
        return (0..<partitions).map { offset in
            let first = (start + firstPartition + offset) % n
            var chosen = [ordered[first]]
            var usedRacks: Set<String> = [rackOf(ordered[first])]
            // First pass: new racks only; second pass: anyone not chosen yet.
            for pass in 0..<2 where chosen.count < replicationFactor {
                for step in 1..<n where chosen.count < replicationFactor {
                    let candidate = ordered[(first + step) % n]
                    if chosen.contains(candidate) { continue }
                    if pass == 0 && usedRacks.contains(rackOf(candidate)) { continue }
                    chosen.append(candidate)
                    usedRacks.insert(rackOf(candidate))
                }
            }
            precondition(chosen.count == replicationFactor && Set(chosen).count == chosen.count,
                         "placement picks replicationFactor distinct brokers")
            return chosen
        }
    }

    /// An explicit assignment (CreateTopics' `assignments`, CreatePartitions'): every partition
    /// lists the same number of distinct registered brokers, at least one of them active.
    static func validateAssignment(_ assignments: [[Int32]], in image: MetadataImage) throws(ControllerError) {
        guard !assignments.isEmpty else { throw ControllerError(.invalidReplicaAssignment, "The replica assignment is empty.") }
        let factor = assignments[0].count
        for (index, replicas) in assignments.enumerated() {
            guard !replicas.isEmpty else {
                throw ControllerError(.invalidReplicaAssignment, "Partition \(index) has an empty replica list.")
            }
            guard replicas.count == factor else {
                throw ControllerError(.invalidReplicaAssignment,
                                      "Partition \(index) lists \(replicas.count) replicas, partition 0 lists \(factor); all must list the same number.")
            }
            guard Set(replicas).count == replicas.count else {
                throw ControllerError(.invalidReplicaAssignment, "Partition \(index) lists a broker twice in \(replicas).")
            }
            if let unknown = replicas.first(where: { image.brokers[$0] == nil }) {
                throw ControllerError(.invalidReplicaAssignment, "Partition \(index) names broker \(unknown), which is not registered.")
            }
            guard replicas.contains(where: image.isActive(broker:)) else {
                throw ControllerError(.invalidReplicaAssignment,
                                      "All brokers of partition \(index) (\(replicas)) are fenced or shutting down.")
            }
        }
    }

    // MARK: Broker registration, topic deletion

    /// What a broker says about itself when it registers (BrokerRegistration).
    public struct BrokerRegistrationRequest: Sendable, Equatable {
        public var brokerId: Int32
        public var incarnationId: KafkaUUID
        public var endpoints: [RegisterBrokerRecord.BrokerEndpoint]
        public var supportedFeatures: [RegisterBrokerRecord.BrokerFeature]
        public var rack: String?
        public var logDirs: [KafkaUUID]

        public init(brokerId: Int32, incarnationId: KafkaUUID, endpoints: [RegisterBrokerRecord.BrokerEndpoint],
                    supportedFeatures: [RegisterBrokerRecord.BrokerFeature] = [], rack: String? = nil, logDirs: [KafkaUUID] = []) {
            self.brokerId = brokerId
            self.incarnationId = incarnationId
            self.endpoints = endpoints
            self.supportedFeatures = supportedFeatures
            self.rack = rack
            self.logDirs = logDirs
        }
    }

    /// Registers a broker (process start). The registration starts fenced; `brokerEpoch` is the
    /// new epoch (Kafka uses the offset the record will get). Another incarnation of the same id
    /// whose session is still alive (`existingSessionAlive`, the caller's clock) is
    /// DUPLICATE_BROKER_REGISTRATION; a broker that cannot run a finalized feature level is
    /// UNSUPPORTED_VERSION. The old incarnation's leaderships and ISR places go first.
    public static func registerBroker(_ request: BrokerRegistrationRequest, brokerEpoch: Int64, existingSessionAlive: Bool,
                                      in image: MetadataImage) throws(ControllerError) -> [MetadataRecord] {
        guard request.brokerId >= 0 else { throw ControllerError(.invalidRequest, "Broker id \(request.brokerId) is negative.") }
        if let old = image.brokers[request.brokerId] {
            if old.incarnationId != request.incarnationId && existingSessionAlive {
                throw ControllerError(.duplicateBrokerRegistration,
                                      "Broker \(request.brokerId) is registered by another live process (incarnation \(old.incarnationId)).")
            }
            guard brokerEpoch > old.epoch else {
                throw ControllerError(.staleBrokerEpoch, "New epoch \(brokerEpoch) of broker \(request.brokerId) is not above \(old.epoch).")
            }
        }
        for (name, level) in image.features.sorted(by: { $0.key < $1.key }) {
            guard let supported = request.supportedFeatures.first(where: { $0.name == name }) else { continue }
            guard (supported.minSupportedVersion...max(supported.minSupportedVersion, supported.maxSupportedVersion)).contains(level) else {
                throw ControllerError(.unsupportedVersion,
                                      "Broker \(request.brokerId) supports \(name) \(supported.minSupportedVersion)–\(supported.maxSupportedVersion), the cluster runs level \(level).")
            }
        }
        var records = image.brokers[request.brokerId] == nil ? [] : moveAway(from: request.brokerId, in: image)
        var r = RegisterBrokerRecord()
        r.brokerId = request.brokerId
        r.incarnationId = request.incarnationId
        r.brokerEpoch = brokerEpoch
        r.endPoints = request.endpoints
        r.features = request.supportedFeatures
        r.rack = request.rack
        r.logDirs = request.logDirs
        r.fenced = true
        records.append(.registerBroker(r))
        return records
    }

    /// UnregisterBroker: the broker's leaderships and ISR places go, then its registration.
    public static func unregisterBroker(_ brokerId: Int32, in image: MetadataImage) throws(ControllerError) -> [MetadataRecord] {
        guard let broker = image.brokers[brokerId] else {
            throw ControllerError(.brokerIdNotRegistered, "Broker \(brokerId) is not registered.")
        }
        var r = UnregisterBrokerRecord()
        r.brokerId = brokerId
        r.brokerEpoch = broker.epoch
        return moveAway(from: brokerId, in: image) + [.unregisterBroker(r)]
    }

    /// DeleteTopics for one topic, by name (or by id when `name` is nil).
    public static func deleteTopic(name: String?, id: KafkaUUID = .zero, in image: MetadataImage) throws(ControllerError) -> [MetadataRecord] {
        let topicId: KafkaUUID
        if let name {
            guard let found = image.topicIdsByName[name] else {
                throw ControllerError(.unknownTopicOrPartition, "Topic '\(name)' does not exist.")
            }
            topicId = found
        } else {
            guard image.topicsById[id] != nil else { throw ControllerError(.unknownTopicId, "Topic id \(id) is unknown.") }
            topicId = id
        }
        var r = RemoveTopicRecord()
        r.topicId = topicId
        return [.removeTopic(r)]
    }

    // MARK: Fencing, unfencing, controlled shutdown

    /// Fences `brokerId` (it missed its session timeout): the broker leaves every ISR it is in,
    /// and the partitions it led get the first active replica of the remaining ISR as leader, or
    /// none. The last ISR member stays in the ISR (with no leader), so the partition can come back
    /// with it and nothing acknowledged is lost to an unclean choice. Partition changes first,
    /// then the FenceBrokerRecord.
    public static func fenceBroker(_ brokerId: Int32, in image: MetadataImage) throws(ControllerError) -> [MetadataRecord] {
        guard let broker = image.brokers[brokerId] else {
            throw ControllerError(.brokerIdNotRegistered, "Broker \(brokerId) is not registered.")
        }
        guard !broker.fenced else { return [] }
        var records = moveAway(from: brokerId, in: image)
        var fence = FenceBrokerRecord()
        fence.id = brokerId
        fence.epoch = broker.epoch
        records.append(.fenceBroker(fence))
        return records
    }

    /// Controlled shutdown (the broker asks to stop): like fencing, the broker leaves ISRs and
    /// leaderships, but it stays registered as unfenced and in controlled shutdown until it exits.
    public static func beginControlledShutdown(_ brokerId: Int32, in image: MetadataImage) throws(ControllerError) -> [MetadataRecord] {
        guard let broker = image.brokers[brokerId] else {
            throw ControllerError(.brokerIdNotRegistered, "Broker \(brokerId) is not registered.")
        }
        guard !broker.inControlledShutdown else { return [] }
        var records = moveAway(from: brokerId, in: image)
        var change = BrokerRegistrationChangeRecord()
        change.brokerId = brokerId
        change.brokerEpoch = broker.epoch
        change.inControlledShutdown = 1
        records.append(.brokerRegistrationChange(change))
        return records
    }

    /// PartitionChangeRecords taking `brokerId` out of every ISR and leadership.
    static func moveAway(from brokerId: Int32, in image: MetadataImage) -> [MetadataRecord] {
        var records: [MetadataRecord] = []
        for (_, partition) in image.partitionsInOrder where partition.isr.contains(brokerId) {
            var isr = partition.isr.filter { $0 != brokerId }
            var change = changeRecord(for: partition)
            if isr.isEmpty {
                // Keep the last in-sync replica (KIP-966's reasoning): it alone has every record.
                isr = partition.isr
            } else {
                change.isr = isr
            }
            if partition.leader == brokerId {
                change.leader = electLeader(replicas: partition.replicas, isr: isr, excluding: brokerId, in: image)
            }
            guard change.isr != nil || change.leader != PartitionRegistration.leaderUnchanged else { continue }
            records.append(.partitionChange(checked(change, on: partition, excluding: brokerId)))
        }
        return records
    }

    /// Unfences `brokerId` (its heartbeat says it caught up) and makes it leader of the partitions
    /// that have none and keep it in their ISR.
    public static func unfenceBroker(_ brokerId: Int32, in image: MetadataImage) throws(ControllerError) -> [MetadataRecord] {
        guard let broker = image.brokers[brokerId] else {
            throw ControllerError(.brokerIdNotRegistered, "Broker \(brokerId) is not registered.")
        }
        guard broker.fenced else { return [] }
        var unfence = UnfenceBrokerRecord()
        unfence.id = brokerId
        unfence.epoch = broker.epoch
        var records: [MetadataRecord] = [.unfenceBroker(unfence)]
        guard !broker.inControlledShutdown else { return records }
        for (_, partition) in image.partitionsInOrder where !partition.hasLeader && partition.isr.contains(brokerId) {
            var change = changeRecord(for: partition)
            change.leader = brokerId
            records.append(.partitionChange(checked(change, on: partition, excluding: nil)))
        }
        return records
    }

    /// The first replica (preferred order) in `isr` that is active and not `excluding`, or -1.
    static func electLeader(replicas: [Int32], isr: [Int32], excluding: Int32?, in image: MetadataImage) -> Int32 {
        replicas.first { $0 != excluding && isr.contains($0) && image.isActive(broker: $0) } ?? PartitionRegistration.noLeader
    }

    static func changeRecord(for partition: PartitionRegistration) -> PartitionChangeRecord {
        var change = PartitionChangeRecord()
        change.topicId = partition.topicId
        change.partitionId = partition.partition
        return change
    }

    /// Asserts what a decision promises before it leaves: the change replays cleanly, the
    /// epochs only go up and a broker being removed leads nothing afterwards.
    static func checked(_ change: PartitionChangeRecord, on partition: PartitionRegistration, excluding: Int32?) -> PartitionChangeRecord {
        let after: PartitionRegistration
        switch partition.applying(change) {
        case .success(let next): after = next
        case .failure(let error): preconditionFailure("a controller decision made an invalid partition change: \(error)")
        }
        precondition(after.leaderEpoch >= partition.leaderEpoch && after.partitionEpoch > partition.partitionEpoch,
                     "epochs never go back")
        precondition(excluding == nil || after.leader != excluding, "a removed broker leads nothing")
        return change
    }

    // MARK: AlterPartition

    /// The partition leader `leaderId` (at `leaderEpoch`, knowing `partitionEpoch`) proposes
    /// `newIsr`. Stale epochs and ISRs that leave out the leader, name non-replicas or include
    /// brokers that are fenced or shutting down are refused with AlterPartition's error codes;
    /// an ISR equal to the current one needs no record.
    public static func alterPartition(topicId: KafkaUUID, partition index: Int32, leaderId: Int32, leaderEpoch: Int32,
                                      partitionEpoch: Int32, newIsr: [Int32], in image: MetadataImage) throws(ControllerError) -> [MetadataRecord] {
        guard let topic = image.topicsById[topicId] else {
            throw ControllerError(.unknownTopicId, "Topic id \(topicId) is unknown.")
        }
        guard let partition = topic.partitions[index] else {
            throw ControllerError(.unknownTopicOrPartition, "Partition \(topic.name)-\(index) does not exist.")
        }
        guard leaderEpoch == partition.leaderEpoch else {
            throw ControllerError(.fencedLeaderEpoch,
                                  "Leader epoch \(leaderEpoch) of \(topic.name)-\(index) is not the current \(partition.leaderEpoch).")
        }
        guard leaderId == partition.leader else {
            throw ControllerError(.notLeaderOrFollower, "Broker \(leaderId) does not lead \(topic.name)-\(index).")
        }
        guard partitionEpoch == partition.partitionEpoch else {
            throw ControllerError(.invalidUpdateVersion,
                                  "Partition epoch \(partitionEpoch) of \(topic.name)-\(index) is not the current \(partition.partitionEpoch).")
        }
        guard Set(newIsr).count == newIsr.count, Set(newIsr).isSubset(of: partition.replicas), newIsr.contains(leaderId) else {
            throw ControllerError(.invalidRequest,
                                  "ISR \(newIsr) of \(topic.name)-\(index) must be distinct replicas of \(partition.replicas) including the leader \(leaderId).")
        }
        // KIP-841: every member of the proposed ISR must be unfenced and not shutting down.
        if let ineligible = newIsr.first(where: { !image.isActive(broker: $0) }) {
            throw ControllerError(.ineligibleReplica, "Broker \(ineligible) is fenced or shutting down and cannot join the ISR of \(topic.name)-\(index).")
        }
        guard newIsr != partition.isr else { return [] }
        var change = changeRecord(for: partition)
        change.isr = newIsr
        return [.partitionChange(checked(change, on: partition, excluding: nil))]
    }

    // MARK: Preferred leader election

    /// Moves the leadership of `topic`-`partition` to its preferred replica (the first one),
    /// which must be active and in the ISR.
    public static func electPreferredLeader(topicId: KafkaUUID, partition index: Int32, in image: MetadataImage) throws(ControllerError) -> [MetadataRecord] {
        guard let partition = image.partition(topicId, index) else {
            throw ControllerError(.unknownTopicOrPartition, "Partition \(index) of topic id \(topicId) does not exist.")
        }
        let preferred = partition.replicas[0]
        guard partition.leader != preferred else {
            throw ControllerError(.electionNotNeeded, "Broker \(preferred) already leads partition \(index).")
        }
        guard partition.isr.contains(preferred) && image.isActive(broker: preferred) else {
            throw ControllerError(.preferredLeaderNotAvailable,
                                  "Preferred leader \(preferred) of partition \(index) is not an active ISR member.")
        }
        var change = changeRecord(for: partition)
        change.leader = preferred
        return [.partitionChange(checked(change, on: partition, excluding: nil))]
    }

    /// Every partition whose preferred replica could lead but does not (auto.leader.rebalance).
    public static func electPreferredLeaders(in image: MetadataImage) -> [MetadataRecord] {
        image.partitionsInOrder.flatMap { _, partition -> [MetadataRecord] in
            (try? electPreferredLeader(topicId: partition.topicId, partition: partition.partition, in: image)) ?? []
        }
    }

    // MARK: Producer ids

    /// The next block of producer ids for `brokerId` (AllocateProducerIds), and the record that
    /// moves the cluster's high-water mark past it.
    public static func allocateProducerIds(brokerId: Int32, brokerEpoch: Int64,
                                           in image: MetadataImage) throws(ControllerError) -> (records: [MetadataRecord], block: ProducerIdBlock) {
        guard let broker = image.brokers[brokerId] else {
            throw ControllerError(.brokerIdNotRegistered, "Broker \(brokerId) is not registered.")
        }
        guard broker.epoch == brokerEpoch else {
            throw ControllerError(.staleBrokerEpoch, "Broker \(brokerId) has epoch \(broker.epoch), not \(brokerEpoch).")
        }
        let first = image.nextProducerId
        guard first <= Int64.max - Int64(producerIdBlockSize) else {
            throw ControllerError(.unknownServerError, "The producer id space is exhausted.")
        }
        var r = ProducerIdsRecord()
        r.brokerId = brokerId
        r.brokerEpoch = brokerEpoch
        r.nextProducerId = first + Int64(producerIdBlockSize)
        return ([.producerIds(r)], ProducerIdBlock(brokerId: brokerId, firstId: first, size: producerIdBlockSize))
    }
}
