/// Per-partition storage settings, named after Kafka's topic-level properties (in the comments)
/// with Kafka's defaults. Times are milliseconds, sizes bytes.
public struct LogConfig: Sendable, Equatable {
    /// segment.bytes: roll when an append would make the active segment larger. At most Int32.max,
    /// because index positions are int32.
    public var segmentBytes: Int
    /// segment.ms: roll when the incoming batch is this much newer than the segment's first batch.
    public var segmentMs: Int64
    /// segment.index.bytes: size limit of each index file; a full index rolls the segment.
    public var segmentIndexBytes: Int
    /// index.interval.bytes: log bytes between two offset-index entries.
    public var indexIntervalBytes: Int
    /// flush.messages: fsync once this many offsets are unflushed (1 = every append before the ack).
    public var flushMessages: Int64
    /// flush.ms: fsync once the last fsync is this old (checked on append and on tick).
    public var flushMs: Int64
    /// retention.ms: delete segments whose newest timestamp is older than this; -1 = keep forever.
    public var retentionMs: Int64
    /// retention.bytes: delete oldest segments while the log is larger than this; -1 = no limit.
    public var retentionBytes: Int64
    /// file.delete.delay.ms: how long deleted segment files linger (renamed `.deleted`) before unlink.
    public var fileDeleteDelayMs: Int64
    /// cleanup.policy contains `delete`: retention.ms / retention.bytes apply.
    public var deletePolicy: Bool = true
    /// cleanup.policy contains `compact`: the cleaner keeps the last record per key.
    public var compactPolicy: Bool = false
    /// delete.retention.ms: how long a tombstone (null value) stays readable once it is the
    /// latest record of its key, measured from its batch's timestamp.
    public var deleteRetentionMs: Int64 = 86_400_000
    /// min.cleanable.dirty.ratio: clean only when this share of the cleanable bytes is uncleaned.
    public var minCleanableDirtyRatio: Double = 0.5
    /// min.compaction.lag.ms: segments holding records younger than this are not cleaned.
    public var minCompactionLagMs: Int64 = 0

    public init(
        segmentBytes: Int = 1 << 30,
        segmentMs: Int64 = 604_800_000,
        segmentIndexBytes: Int = 10 << 20,
        indexIntervalBytes: Int = 4096,
        flushMessages: Int64 = .max,
        flushMs: Int64 = .max,
        retentionMs: Int64 = 604_800_000,
        retentionBytes: Int64 = -1,
        fileDeleteDelayMs: Int64 = 60_000
    ) {
        self.segmentBytes = segmentBytes
        self.segmentMs = segmentMs
        self.segmentIndexBytes = segmentIndexBytes
        self.indexIntervalBytes = indexIntervalBytes
        self.flushMessages = flushMessages
        self.flushMs = flushMs
        self.retentionMs = retentionMs
        self.retentionBytes = retentionBytes
        self.fileDeleteDelayMs = fileDeleteDelayMs
    }

    /// Throws `invalidConfig` for values Kafka itself rejects (or that our int32 positions cannot hold).
    public func validate() throws(LogStoreError) {
        func check(_ ok: Bool, _ message: String) throws(LogStoreError) {
            if !ok { throw .invalidConfig(message) }
        }
        try check(segmentBytes >= 14 && segmentBytes <= Int(Int32.max), "segment.bytes must be in 14...\(Int32.max)")
        try check(segmentMs >= 1, "segment.ms must be >= 1")
        try check(segmentIndexBytes >= 4 && segmentIndexBytes <= Int(Int32.max), "segment.index.bytes out of range")
        try check(indexIntervalBytes >= 0, "index.interval.bytes must be >= 0")
        try check(flushMessages >= 1, "flush.messages must be >= 1")
        try check(flushMs >= 0, "flush.ms must be >= 0")
        try check(retentionMs >= -1, "retention.ms must be >= -1")
        try check(retentionBytes >= -1, "retention.bytes must be >= -1")
        try check(fileDeleteDelayMs >= 0, "file.delete.delay.ms must be >= 0")
        try check(deleteRetentionMs >= 0, "delete.retention.ms must be >= 0")
        try check(minCleanableDirtyRatio >= 0 && minCleanableDirtyRatio <= 1, "min.cleanable.dirty.ratio must be in [0, 1]")
        try check(minCompactionLagMs >= 0, "min.compaction.lag.ms must be >= 0")
    }

    var maxOffsetIndexEntries: Int { segmentIndexBytes / OffsetEntry.size }
    var maxTimeIndexEntries: Int { segmentIndexBytes / TimeEntry.size }
}
