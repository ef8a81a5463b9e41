// The log directory: which partitions exist, their creation and deletion, periodic maintenance,
// and the clean-shutdown marker that lets a restart skip re-validating active segments.
import KafkaProtocol
import Synchronization

/// A topic name and partition index: the key of a partition log.
public struct TopicPartition: Hashable, Sendable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32

    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    /// Kafka's directory name, `<topic>-<partition>`.
    public var description: String { "\(topic)-\(partition)" }

    /// Parses `<topic>-<partition>`; the topic may itself contain '-', so split at the last one.
    init?(directoryName name: String) {
        guard let dash = name.lastIndex(of: "-"), dash != name.startIndex,
              let partition = Int32(name[name.index(after: dash)...]), partition >= 0 else { return nil }
        self.init(topic: String(name[..<dash]), partition: partition)
    }
}

/// Owns one log directory (`log.dirs` with a single entry): opens every `<topic>-<partition>`
/// directory at start, creates and deletes partitions, and runs flush.ms and retention from `tick`.
///
/// Clean shutdown: `close()` closes every log and then writes `.kafka_cleanshutdown`; `init`
/// reads and removes it, and while it was there the logs trust their active segments' indexes
/// instead of re-validating them batch by batch.
///
/// Thread safety: all methods may be called from any thread; the partition map is in a Mutex.
/// Opening, creating and deleting happen under it, so they serialize with each other (not with
/// appends and reads, which go straight to the `PartitionLog`).
public final class LogManager: Sendable {
    public static let cleanShutdownFile = ".kafka_cleanshutdown"

    /// The log directory.
    public let directory: String
    /// Whether the previous run ended with `close()`.
    public let hadCleanShutdown: Bool
    /// How often `tick` applies retention (log.retention.check.interval.ms).
    public let retentionCheckIntervalMs: Int64
    /// How often `tick` runs the log cleaner on compacted logs (log.cleaner.backoff.ms).
    public let cleanerBackoffMs: Int64

    private struct State {
        var logs: [TopicPartition: PartitionLog] = [:]
        var lastRetentionCheckMs: Int64
        var lastCleanMs: Int64
        var closed = false
    }
    private let state: Mutex<State>

    /// Opens `directory` (created if missing) and every partition in it with `config(topic)` as
    /// its configuration. Directories renamed for deletion by an earlier run are removed.
    public init(
        directory: String, now: Int64, retentionCheckIntervalMs: Int64 = 300_000, cleanerBackoffMs: Int64 = 15_000,
        config: (String) -> LogConfig = { _ in LogConfig() }
    ) throws(LogStoreError) {
        try FileIO.makeDirectory(directory)
        let marker = directory + "/" + Self.cleanShutdownFile
        let clean = FileIO.exists(marker)
        var logs: [TopicPartition: PartitionLog] = [:]
        for name in try FileIO.list(directory) where FileIO.isDirectory(directory + "/" + name) {
            let path = directory + "/" + name
            if name.hasSuffix("-delete") {
                try FileIO.removeDirectory(path)
                continue
            }
            guard let key = TopicPartition(directoryName: name) else { continue }
            logs[key] = try PartitionLog.open(
                directory: path, config: config(key.topic), now: now, cleanShutdown: clean)
        }
        // Only now, with every log loaded, may the next crash not count as clean.
        if clean {
            try FileIO.remove(marker)
            try FileIO.syncDirectory(directory)
        }
        self.directory = directory
        self.hadCleanShutdown = clean
        self.retentionCheckIntervalMs = retentionCheckIntervalMs
        self.cleanerBackoffMs = cleanerBackoffMs
        state = Mutex(State(logs: logs, lastRetentionCheckMs: now, lastCleanMs: now))
    }

    /// The log of a partition, if it exists.
    public func log(topic: String, partition: Int32) -> PartitionLog? {
        state.withLock { $0.logs[TopicPartition(topic: topic, partition: partition)] }
    }

    /// All partitions and their logs.
    public var logs: [TopicPartition: PartitionLog] { state.withLock { $0.logs } }

    /// Creates `<topic>-<partition>` with an empty log; `partitionExists` if it is already there.
    @discardableResult
    public func createPartition(
        topic: String, partition: Int32, config: LogConfig, now: Int64
    ) throws(LogStoreError) -> PartitionLog {
        precondition(!topic.isEmpty && !topic.contains("/"), "topic names are validated before they reach storage")
        let key = TopicPartition(topic: topic, partition: partition)
        return try state.withLock { state throws(LogStoreError) in
            if state.closed { throw .closed }
            let path = directory + "/" + key.description
            if state.logs[key] != nil || FileIO.exists(path) {
                throw .partitionExists(topic: topic, partition: partition)
            }
            let log = try PartitionLog.open(directory: path, config: config, now: now)
            try FileIO.syncDirectory(directory)
            state.logs[key] = log
            return log
        }
    }

    /// Deletes a partition: closes its log, renames the directory `<topic>-<p>.<uuid>-delete`
    /// (atomic, so a crash midway leaves either the partition or a marked directory that the next
    /// start removes), then removes it.
    public func deletePartition(topic: String, partition: Int32) throws(LogStoreError) {
        let key = TopicPartition(topic: topic, partition: partition)
        try state.withLock { state throws(LogStoreError) in
            guard let log = state.logs.removeValue(forKey: key) else {
                throw .unknownPartition(topic: topic, partition: partition)
            }
            try log.close()
            let uuid = KafkaUUID.random()
            let hex = [uuid.high, uuid.low].map { word in
                let digits = String(word, radix: 16)
                return String(repeating: "0", count: 16 - digits.count) + digits
            }.joined()
            let doomed = directory + "/" + key.description + "." + hex + "-delete"
            try FileIO.rename(log.directory, doomed)
            try FileIO.syncDirectory(directory)
            try FileIO.removeDirectory(doomed)
        }
    }

    /// Periodic work: flush.ms flushes and pending file deletions on every call, the high-watermark
    /// checkpoints, and retention every `retentionCheckIntervalMs`. Keeps going past a failing
    /// partition and rethrows the first error at the end.
    public func tick(now: Int64) throws(LogStoreError) {
        let (logs, runRetention, runCleaner) = state.withLock { state in
            let due = now - state.lastRetentionCheckMs >= retentionCheckIntervalMs
            if due { state.lastRetentionCheckMs = now }
            let cleanerDue = now - state.lastCleanMs >= cleanerBackoffMs
            if cleanerDue { state.lastCleanMs = now }
            return (state.closed ? [] : Array(state.logs.values), due, cleanerDue)
        }
        var firstError: LogStoreError?
        for log in logs {
            do throws(LogStoreError) {
                if runRetention { try log.applyRetention(now: now) }
                if runCleaner { try log.compact(now: now) }
                try log.flushIfDue(now: now)
                try log.checkpointHighWatermark()
            } catch {
                firstError = firstError ?? error
            }
        }
        if let firstError { throw firstError }
    }

    /// Closes every log and, only if all of them closed cleanly, writes the clean-shutdown marker.
    public func close() throws(LogStoreError) {
        try state.withLock { state throws(LogStoreError) in
            if state.closed { return }
            state.closed = true
            var firstError: LogStoreError?
            for log in state.logs.values {
                do throws(LogStoreError) { try log.close() } catch { firstError = firstError ?? error }
            }
            if let firstError { throw firstError }
            let marker = directory + "/" + Self.cleanShutdownFile
            try FileIO.replaceFile(marker, with: [], directory: directory)
        }
    }
}
