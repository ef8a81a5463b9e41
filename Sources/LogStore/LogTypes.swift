/// What an append did: the offsets it assigned and the timestamps it saw.
public struct AppendInfo: Sendable, Equatable {
    /// Base offset of the first batch appended.
    public var firstOffset: Int64
    /// Last offset of the last batch appended.
    public var lastOffset: Int64
    /// Largest batch max timestamp in the append (-1 if none).
    public var maxTimestamp: Int64
    /// Last offset of the first batch that carried `maxTimestamp` (Kafka's "shallow" offset).
    public var offsetOfMaxTimestamp: Int64
    /// The log start offset after the append (for the Produce response).
    public var logStartOffset: Int64
}

/// Where returned batches live in a segment file, for a future zero-copy (sendfile) fetch path.
/// Holding it keeps the descriptor open even if retention deletes the segment meanwhile.
public struct FileRegion: Sendable {
    public var file: LogFile
    public var position: Int
    public var length: Int
}

/// The result of `PartitionLog.read`: whole batches plus the offsets a Fetch response reports.
public struct ReadResult: Sendable {
    /// Zero or more whole batches, the first one containing the requested offset.
    public var records: [UInt8]
    /// The same bytes as a file range (nil when `records` is empty).
    public var region: FileRegion?
    /// Offset after the last returned batch (the requested offset when nothing was returned).
    public var nextOffset: Int64
    public var logStartOffset: Int64
    public var logEndOffset: Int64
    public var highWatermark: Int64
    /// The last stable offset when the batches were located (read_committed reads stop there).
    public var lastStableOffset: Int64
}
