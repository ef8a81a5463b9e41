import Foundation
import KafkaProtocol
import LogStore
import Synchronization

/// A partition this node leads: its log plus what the produce path needs to know of the topic.
public final class Partition: Sendable {
    public let topic: String
    public let index: Int32
    public let log: PartitionLog
    public let key: PartitionKey
    let policyState: Mutex<ProducePolicy>
    let leaderEpochState = Atomic<Int32>(0)
    /// Idempotent-producer state. Held across check, append and record, so two retries of one
    /// batch on different connections cannot both be appended.
    let producers: Mutex<ProducerStateTable>
    /// Set when producer state changed since the last snapshot.
    let producersDirty = Atomic<Bool>(false)

    init(topic: String, index: Int32, log: PartitionLog, policy: ProducePolicy, leaderEpoch: Int32) {
        self.topic = topic
        self.index = index
        self.log = log
        self.key = PartitionKey(topic, index)
        self.policyState = Mutex(policy)
        leaderEpochState.store(leaderEpoch, ordering: .relaxed)
        producers = Mutex(ProducerSnapshots.rebuild(log: log))
    }

    /// Writes a producer-state snapshot at the current log end if anything changed.
    func snapshotProducers(now: Int64, expirationMs: Int64) {
        let (table, removed): (ProducerStateTable, Int) = producers.withLock { table in
            let removed = table.expire(now: now, expirationMs: expirationMs)
            return (table, removed)
        }
        guard producersDirty.exchange(false, ordering: .acquiringAndReleasing) || removed > 0 else { return }
        do {
            try ProducerSnapshots.write(table, offset: log.logEndOffset, directory: log.directory)
        } catch {
            producersDirty.store(true, ordering: .releasing)
        }
    }

    public var policy: ProducePolicy { policyState.withLock { $0 } }
    public var leaderEpoch: Int32 { leaderEpochState.load(ordering: .relaxed) }
}

/// The partitions of this node and their logs. On a single node every partition is led here with
/// leader epoch 0; replication will add followers and epochs without changing the callers.
///
/// Threads: lookups from every reactor thread; topic changes from admin requests. One Mutex over
/// the map; the partitions themselves are internally synchronized.
public final class ReplicaManager: Sendable {
    let logManager: LogManager
    let metadata: MetadataStore
    private let partitions = Mutex<[PartitionKey: Partition]>([:])
    private let resolverState: Mutex<ConfigResolver>

    init(directory: String, metadata: MetadataStore, resolver: ConfigResolver) throws {
        self.metadata = metadata
        self.resolverState = Mutex(resolver)
        let topics = Dictionary(uniqueKeysWithValues: metadata.topics.map { ($0.name, $0.configs) })
        logManager = try LogManager(
            directory: directory, now: SystemClock.nowMs(),
            retentionCheckIntervalMs: resolver.broker.int64("log.retention.check.interval.ms"),
            cleanerBackoffMs: resolver.broker.int64("log.cleaner.backoff.ms"),
            config: { topic in resolver.logConfig(overrides: topics[topic] ?? [:]) })
        // Bring the logs in line with the metadata: open known partitions, create missing ones
        // (a crash between the metadata write and the directory creation), drop orphans.
        var expected = Set<String>()
        for topic in metadata.topics {
            for p in 0..<topic.partitionCount {
                expected.insert("\(topic.name)-\(p)")
                try openPartition(topic: topic, index: p)
            }
        }
        for key in logManager.logs.keys where !expected.contains(key.description) {
            try? logManager.deletePartition(topic: key.topic, partition: key.partition)
        }
        BrokerLog.shared.info("topics", "loaded \(metadata.topics.count) topic(s), \(expected.count) partition(s)")
    }

    var resolver: ConfigResolver { resolverState.withLock { $0 } }

    func updateResolver(_ resolver: ConfigResolver) {
        resolverState.withLock { $0 = resolver }
        for topic in metadata.topics { applyConfigs(topic) }
    }

    private func openPartition(topic: TopicMetadata, index: Int32) throws {
        let r = resolver
        let log = try logManager.log(topic: topic.name, partition: index)
            ?? logManager.createPartition(topic: topic.name, partition: index,
                                          config: r.logConfig(overrides: topic.configs), now: SystemClock.nowMs())
        // As a leader does on election: its epoch starts at the current log end, and with the
        // in-sync set being this node alone, everything in the log is committed.
        try log.assignEpochStart(topic.leaderEpoch)
        log.updateHighWatermark(log.logEndOffset)
        let partition = Partition(topic: topic.name, index: index, log: log,
                                  policy: r.producePolicy(overrides: topic.configs), leaderEpoch: topic.leaderEpoch)
        partitions.withLock { $0[partition.key] = partition }
    }

    public func partition(_ topic: String, _ index: Int32) -> Partition? {
        partitions.withLock { $0[PartitionKey(topic, index)] }
    }

    public func partitions(of topic: String) -> [Partition] {
        partitions.withLock { map in map.values.filter { $0.topic == topic }.sorted { $0.index < $1.index } }
    }

    /// Records the topic, then creates its partition directories.
    func createTopic(_ topic: TopicMetadata) throws {
        try metadata.createTopic(topic)
        for p in 0..<topic.partitionCount { try openPartition(topic: topic, index: p) }
        BrokerLog.shared.info("topics", "topic \(topic.name) created with \(topic.partitionCount) partition(s)"
                              + (topic.isInternal ? " (internal)" : ""))
    }

    func addPartitions(_ name: String, to count: Int32) throws {
        guard let topic = metadata.topic(name) else { return }
        try metadata.setPartitionCount(name, count)
        for p in topic.partitionCount..<count { try openPartition(topic: topic, index: p) }
        BrokerLog.shared.info("topics", "topic \(name) grew from \(topic.partitionCount) to \(count) partitions")
    }

    /// Forgets the topic first (so a crash leaves orphans that startup removes), then its logs.
    func deleteTopic(_ name: String) throws {
        guard let topic = metadata.topic(name) else { return }
        try metadata.deleteTopic(name)
        let removed: [Partition] = partitions.withLock { map in
            let mine = map.values.filter { $0.topic == name }
            for p in mine { map[p.key] = nil }
            return mine
        }
        for p in removed {
            do {
                try logManager.deletePartition(topic: name, partition: p.index)
            } catch {
                BrokerLog.shared.error("topics", "topic \(name): removing partition \(p.index)'s files failed: \(error)")
            }
        }
        BrokerLog.shared.info("topics", "topic \(name) deleted (\(topic.partitionCount) partition(s))")
    }

    /// Pushes changed topic configs into the logs and the produce policies.
    func applyConfigs(_ topic: TopicMetadata) {
        let r = resolver
        let logConfig = r.logConfig(overrides: topic.configs)
        let policy = r.producePolicy(overrides: topic.configs)
        for p in partitions(of: topic.name) {
            try? p.log.updateConfig(logConfig)
            p.policyState.withLock { $0 = policy }
        }
    }

    func tick(now: Int64) {
        try? logManager.tick(now: now)
        let r = resolver
        let expiration = r.broker.int64("producer.id.expiration.ms")
        for p in partitions.withLock({ Array($0.values) }) {
            p.snapshotProducers(now: now, expirationMs: expiration)
        }
    }

    /// Open transactions over all partitions, and how far read_committed consumers trail: the sum
    /// over partitions of high watermark − last stable offset (metrics).
    func transactionSummary() -> (ongoing: Int, lastStableOffsetLag: Int64) {
        var ongoing = 0
        var lag: Int64 = 0
        for p in partitions.withLock({ Array($0.values) }) {
            let open = p.log.ongoingTransactions.count
            guard open > 0 else { continue }
            ongoing += open
            lag += max(0, p.log.highWatermark - p.log.lastStableOffset)
        }
        return (ongoing, lag)
    }

    func closeAll() {
        let now = SystemClock.nowMs()
        let expiration = resolver.broker.int64("producer.id.expiration.ms")
        for p in partitions.withLock({ Array($0.values) }) {
            p.snapshotProducers(now: now, expirationMs: expiration)
        }
        try? logManager.close()
    }
}
