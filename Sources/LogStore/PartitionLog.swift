// The public face of one partition's log: a Mutex around `LogCore`, plus the part of `read` that
// copies bytes, which runs outside the lock.
import KafkaProtocol
import Synchronization

/// Kafka's on-disk log for one partition: a directory of segments (`<base>.log`, `.index`,
/// `.timeindex`), `leader-epoch-checkpoint` and `log-offsets-checkpoint`.
///
/// Thread safety: every method may be called from any thread. State lives in one `Mutex`; appends,
/// truncation and retention serialize on it. `read` holds it only to find where the batches are and
/// copies them after releasing it (segment files are append-only and stay open while referenced).
///
/// Durability: when `append` returns, the batches have been written with `pwrite` to the segment
/// file, so they survive a crash of this process (they are in the page cache). When the flush
/// policy says so (`flush.messages` offsets since the last fsync, or `flush.ms` since it), the file
/// is also fdatasync'ed before `append` returns; `flush.messages = 1` fsyncs every append before it
/// is acknowledged. Rolling a segment always fsyncs it, so only the active segment can hold
/// unsynced data, and recovery after an unclean shutdown re-validates exactly that segment.
public final class PartitionLog: Sendable {
    /// The partition directory.
    public let directory: String
    private let core: Mutex<LogCore>

    private init(directory: String, core: sending LogCore) {
        self.directory = directory
        self.core = Mutex(core)
    }

    /// Creates the directory or recovers the log in it. `cleanShutdown` (from the log dir's
    /// `.kafka_cleanshutdown` marker) skips the CRC scan of the active segment.
    public static func open(
        directory: String, config: LogConfig, now: Int64, cleanShutdown: Bool = false
    ) throws(LogStoreError) -> PartitionLog {
        let core = try LogCore(directory: directory, config: config, now: now, cleanShutdown: cleanShutdown)
        return PartitionLog(directory: directory, core: core)
    }

    /// Appends validated RecordBatch v2 bytes (one or more batches back to back). Assigns offsets
    /// from the log end by rewriting each batch's baseOffset in place and stamps
    /// `partitionLeaderEpoch` (both outside the CRC), writes them as one pwrite, updates the
    /// indexes and applies the flush policy. `leaderEpoch` must not be older than the log's latest.
    public func append(_ batches: inout [UInt8], leaderEpoch: Int32, now: Int64) throws(LogStoreError) -> AppendInfo {
        try core.withLock { core throws(LogStoreError) in
            try core.append(&batches, leaderEpoch: leaderEpoch, now: now)
        }
    }

    /// Whole batches from the one containing `offset` (Kafka semantics: it may start before
    /// `offset`), stopping before the first batch that reaches `maxOffset` (exclusive: the high
    /// watermark for consumers, the log end for followers) and within `maxBytes`, except that with
    /// `minOneBatch` a first batch larger than `maxBytes` is returned alone. Reads one segment.
    /// Throws `offsetOutOfRange` when `offset` is below the log start or above the log end.
    public func read(
        from offset: Int64, maxBytes: Int, maxOffset: Int64, minOneBatch: Bool
    ) throws(LogStoreError) -> ReadResult {
        let (plan, start, end, highWatermark, lastStable) = try core.withLock { core throws(LogStoreError) in
            (try core.locate(offset: offset), core.logStartOffset, core.logEndOffset, core.highWatermark,
             core.lastStableOffset)
        }
        var result = ReadResult(records: [], region: nil, nextOffset: offset, logStartOffset: start,
                                logEndOffset: end, highWatermark: highWatermark, lastStableOffset: lastStable)
        guard let plan, plan.first.lastOffset < maxOffset else { return result }
        var want = min(maxBytes, plan.end - plan.start)
        if want < plan.first.size {
            guard minOneBatch else { return result }
            want = plan.first.size
        }
        var bytes = try FileIO.read(plan.file, count: want, at: plan.start, path: plan.path)
        // Keep whole batches below maxOffset only. The bytes were complete batches when located,
        // so a short or torn tail here can only come from a concurrent truncation.
        var cut = 0
        var next = offset
        bytes.withUnsafeBytes { raw in
            while raw.count - cut >= RecordBatchHeader.size {
                let info = BatchInfo(raw, at: cut)
                guard info.size >= RecordBatchHeader.size, info.size <= raw.count - cut,
                      info.lastOffset < maxOffset else { break }
                cut += info.size
                next = info.lastOffset + 1
            }
        }
        precondition(cut <= bytes.count, "read cut past its bytes")
        bytes.removeLast(bytes.count - cut)
        if cut > 0 {
            result.region = FileRegion(file: plan.file, position: plan.start, length: cut)
            result.nextOffset = next
        }
        result.records = bytes
        return result
    }

    /// First offset not deleted (raised by DeleteRecords and retention).
    public var logStartOffset: Int64 { core.withLock { $0.logStartOffset } }
    /// Offset the next appended record gets.
    public var logEndOffset: Int64 { core.withLock { $0.logEndOffset } }
    /// Offsets below it are committed (visible to consumers). Kept apart from the log end offset
    /// for replication; persisted lazily (flush, close, `checkpointHighWatermark`), so after a crash
    /// it may come back lower than it was.
    public var highWatermark: Int64 { core.withLock { $0.highWatermark } }

    /// The last stable offset (KIP-98): the high watermark, or the first offset of the oldest open
    /// transaction when that is lower. read_committed consumers read up to it.
    public var lastStableOffset: Int64 { core.withLock { $0.lastStableOffset } }

    /// Producers with an open transaction here → the offset where that transaction began.
    public var ongoingTransactions: [Int64: Int64] { core.withLock { $0.transactions.firstOffsets } }

    /// The aborted transactions (from the `.txnindex` files) that a read of [from, upTo) may
    /// touch: those whose marker is at or after `from` and that began before `upTo`, ordered by
    /// marker offset. What a read_committed Fetch lists in `aborted_transactions`.
    public func abortedTransactions(from: Int64, upTo: Int64) -> [AbortedTransaction] {
        core.withLock { $0.abortedTransactions(from: from, upTo: upTo) }
    }

    /// Sets the high watermark, clamped to [logStartOffset, logEndOffset]; returns the value set.
    @discardableResult
    public func updateHighWatermark(_ offset: Int64) -> Int64 {
        core.withLock { $0.updateHighWatermark(offset) }
    }

    /// Writes the high watermark (and log start offset) checkpoint if it changed.
    public func checkpointHighWatermark() throws(LogStoreError) {
        try core.withLock { core throws(LogStoreError) in try core.checkpointHighWatermark() }
    }

    /// ListOffsets by timestamp: the first offset at or after the log start whose record timestamp
    /// is >= `timestamp`, found via the time index then a scan; nil if there is none. Exact for
    /// uncompressed batches; for compressed ones it is the batch's first offset and max timestamp.
    public func offsetForTimestamp(_ timestamp: Int64) throws(LogStoreError) -> (offset: Int64, timestamp: Int64)? {
        try core.withLock { core throws(LogStoreError) in try core.offsetForTimestamp(timestamp) }
    }

    /// ListOffsets -3 (MAX_TIMESTAMP): the largest timestamp in the log and the first offset
    /// carrying it (record-exact for uncompressed batches); nil when no batch has a timestamp.
    public func maxTimestampOffset() throws(LogStoreError) -> (offset: Int64, timestamp: Int64)? {
        try core.withLock { core throws(LogStoreError) in try core.maxTimestampOffset() }
    }

    /// ListOffsets v0 (Kafka's legacy answer, before the time index existed): up to `maxCount`
    /// offsets, largest first, from the first offsets of the segments last modified at or before
    /// `timestamp` (-1: all of them and the log end when the active segment holds data; -2: the
    /// log start only). Segment granularity, by file mtime, as Kafka 3.x computed it.
    public func offsetsBefore(_ timestamp: Int64, maxCount: Int, now: Int64) throws(LogStoreError) -> [Int64] {
        try core.withLock { core throws(LogStoreError) in try core.offsetsBefore(timestamp, maxCount: maxCount, now: now) }
    }

    /// DeleteRecords: raises the log start offset to `offset` (at most the high watermark, else
    /// `offsetOutOfRange`), persists it, and deletes segments wholly below it. Returns the new
    /// log start offset.
    @discardableResult
    public func deleteRecords(before offset: Int64) throws(LogStoreError) -> Int64 {
        try core.withLock { core throws(LogStoreError) in try core.deleteRecords(before: offset) }
    }

    /// Deletes whole segments for retention.ms (by each segment's max timestamp, file mtime when it
    /// has none), retention.bytes, and below the log start offset, oldest first, and only segments
    /// wholly below the high watermark. The active segment goes too when it qualifies and is not
    /// empty; a new empty one replaces it.
    public func applyRetention(now: Int64) throws(LogStoreError) {
        try core.withLock { core throws(LogStoreError) in try core.applyRetention(now: now) }
    }

    /// OffsetForLeaderEpoch: the largest epoch <= `epoch` the log knows and the offset where the
    /// epoch after it starts (the log end offset for the latest epoch); (-1, -1) when unknown.
    public func endOffset(forLeaderEpoch epoch: Int32) -> (epoch: Int32, endOffset: Int64) {
        core.withLock { $0.endOffset(forLeaderEpoch: epoch) }
    }

    /// The latest leader epoch in the epoch cache, if any.
    public var latestEpoch: Int32? { core.withLock { $0.latestEpoch } }

    /// Records that `epoch` starts at the current log end, as a new leader does before its first
    /// append. No-op unless `epoch` is newer than the latest.
    public func assignEpochStart(_ epoch: Int32) throws(LogStoreError) {
        try core.withLock { core throws(LogStoreError) in try core.assignEpochStart(epoch) }
    }

    /// Removes every batch at or above `offset` (for replication). A batch straddling `offset` is
    /// removed whole, so the log end may end up below `offset`. Truncating to or below the log
    /// start offset empties the log and restarts it at `offset`.
    public func truncate(to offset: Int64) throws(LogStoreError) {
        try core.withLock { core throws(LogStoreError) in try core.truncate(to: offset) }
    }

    /// Drops every batch and restarts the log, empty, at `offset` (Kafka's truncateFullyAndStartAt:
    /// a replica that installs a snapshot ending there).
    public func truncateFullyAndStart(at offset: Int64) throws(LogStoreError) {
        try core.withLock { core throws(LogStoreError) in
            if core.closed { throw .closed }
            precondition(offset >= 0, "restart at a negative offset")
            try core.truncateFully(startAt: offset)
        }
    }

    /// Replaces the configuration (validated first); takes effect from the next append/roll check.
    public func updateConfig(_ config: LogConfig) throws(LogStoreError) {
        try core.withLock { core throws(LogStoreError) in try core.updateConfig(config) }
    }

    public var config: LogConfig { core.withLock { $0.config } }

    /// fsyncs the active segment and its indexes and writes the offsets checkpoint.
    /// One compaction pass (cleanup.policy=compact), if one is due: reads and rewrites sealed
    /// segments without holding the log lock, then installs each cleaned segment under it.
    /// Nil when nothing was due.
    @discardableResult
    public func compact(now: Int64) throws(LogStoreError) -> CleanResult? {
        guard let plan = core.withLock({ $0.cleanPlan(now: now) }) else { return nil }
        let map = try LogCleaner.offsetMap(plan)
        let config = self.config
        var result = CleanResult(segmentsCleaned: 0, bytesBefore: 0, bytesAfter: 0, recordsRemoved: 0)
        // Every cleanable segment, in order: marker removal needs to know what earlier ones kept.
        var transactions = CleanerTransactions()
        for source in plan.sources {
            let cleaned = try LogCleaner.clean(source, plan: plan, map: map, transactions: &transactions,
                                               config: config, now: now)
            let installed = try core.withLock { core throws(LogStoreError) in
                try core.installCleanedSegment(base: source.base, swapPath: cleaned.swapPath, now: now)
            }
            if installed {
                result.segmentsCleaned += 1
                result.bytesBefore += source.size
                result.bytesAfter += cleaned.bytesAfter
                result.recordsRemoved += cleaned.recordsRemoved
            }
        }
        core.withLock { $0.cleanerCheckpoint = max($0.cleanerCheckpoint, plan.firstUncleanable) }
        return result
    }

    public func flush() throws(LogStoreError) {
        try core.withLock { core throws(LogStoreError) in try core.flush() }
    }

    /// flush.ms: flushes when the last flush is older than it; also unlinks deleted segment files
    /// whose file.delete.delay.ms has passed.
    public func flushIfDue(now: Int64) throws(LogStoreError) {
        try core.withLock { core throws(LogStoreError) in try core.flushIfDue(now: now) }
    }

    /// Seals and fsyncs the active segment, writes the checkpoints; later calls throw `closed`.
    public func close() throws(LogStoreError) {
        try core.withLock { core throws(LogStoreError) in try core.close() }
    }

    /// Segment base offsets, oldest first (for tests and tools).
    public var segmentBaseOffsets: [Int64] { core.withLock { $0.segments.map(\.baseOffset) } }

    /// Bytes of record data in the log's segments (what a tenant's storage quota counts).
    public var sizeInBytes: Int64 { core.withLock { $0.segments.reduce(Int64(0)) { $0 + Int64($1.size) } } }
}
