/// Failures of the world that LogStore reports to its caller. Bugs in LogStore or its callers
/// (offsets going backwards, malformed batches passed to `append`) are preconditions instead.
public enum LogStoreError: Error, Equatable, Sendable {
    /// A syscall failed: the operation, the file it was about and errno.
    case io(operation: String, path: String, errno: Int32)
    /// A fetch or delete asked for an offset outside [logStartOffset, logEndOffset] (or above the
    /// high watermark, for DeleteRecords). Maps to OFFSET_OUT_OF_RANGE.
    case offsetOutOfRange(requested: Int64, logStartOffset: Int64, logEndOffset: Int64)
    /// One append is larger than a whole segment may be. Maps to RECORD_BATCH_TOO_LARGE.
    case appendTooLarge(size: Int, segmentBytes: Int)
    /// A configuration value outside what Kafka accepts for that property.
    case invalidConfig(String)
    /// A sealed segment holds bytes that are not a valid batch where a batch should start (found
    /// while reading; recovery truncates such tails instead of reporting them).
    case corruptSegment(path: String, position: Int, reason: String)
    /// A checkpoint file we wrote cannot be parsed.
    case corruptCheckpoint(path: String)
    /// The log was closed (or its partition deleted) and takes no more calls.
    case closed
    /// LogManager: the partition directory already exists.
    case partitionExists(topic: String, partition: Int32)
    /// LogManager: no such partition.
    case unknownPartition(topic: String, partition: Int32)
}
