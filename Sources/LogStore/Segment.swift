// One segment: `<base>.log` plus `<base>.index` and `<base>.timeindex`, and the per-segment
// bookkeeping (size, max timestamp, index density) that appends, reads and retention need.
import KafkaProtocol

/// A `.log` file and its two indexes. Only the last segment of a partition (the active one) takes
/// appends; older ones are sealed: fsynced, indexes complete and on disk, final time-index entry
/// written.
///
/// Not thread-safe: owned by one `LogCore`, which is only touched under its partition's mutex.
/// Invariants: `size` is the end of the last complete, valid batch in the file; index entries
/// point below `size`; offsets of batches increase strictly.
final class Segment {
    let baseOffset: Int64
    let directory: String
    let log: LogFile
    private(set) var logPath: String
    let offsetIndex: IndexFile<OffsetEntry>
    let timeIndex: IndexFile<TimeEntry>
    /// Transactions aborted by markers in this segment (`.txnindex`).
    let txnIndex: TransactionIndexFile
    /// Bytes of complete batches; the next append goes here.
    private(set) var size: Int
    /// Largest batch max timestamp in the segment (-1 when none), and the last offset of the first
    /// batch that carried it.
    private(set) var maxTimestamp: Int64 = -1
    private(set) var offsetOfMaxTimestamp: Int64 = -1
    /// Max timestamp of the first batch, which segment.ms measures from; nil while unknown.
    private(set) var firstBatchTimestamp: Int64?
    /// Time the segment was created or loaded: the segment.ms clock when batches carry no timestamp.
    let created: Int64
    private var bytesSinceLastIndexEntry = 0
    /// An index file did not exist when the segment was opened, so the indexes must be rebuilt.
    private let indexesWereMissing: Bool

    /// Kafka's file naming: base offset zero-padded to 20 digits.
    static func fileName(_ base: Int64, _ suffix: String) -> String {
        let digits = String(base)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits + suffix
    }

    private init(directory: String, baseOffset: Int64, log: LogFile, size: Int, now: Int64) throws(LogStoreError) {
        let offsetIndexPath = directory + "/" + Self.fileName(baseOffset, ".index")
        let timeIndexPath = directory + "/" + Self.fileName(baseOffset, ".timeindex")
        indexesWereMissing = !FileIO.exists(offsetIndexPath) || !FileIO.exists(timeIndexPath)
        self.directory = directory
        self.baseOffset = baseOffset
        self.log = log
        self.size = size
        self.created = now
        logPath = directory + "/" + Self.fileName(baseOffset, ".log")
        offsetIndex = try IndexFile(path: offsetIndexPath)
        timeIndex = try IndexFile(path: timeIndexPath)
        txnIndex = try TransactionIndexFile(path: directory + "/" + Self.fileName(baseOffset, Self.txnIndexSuffix))
    }

    static let txnIndexSuffix = ".txnindex"
    /// Every file of a segment, by suffix.
    static let suffixes = [".log", ".index", ".timeindex", txnIndexSuffix]

    /// Creates a new, empty segment. Refuses to overwrite an existing `.log`.
    static func create(directory: String, baseOffset: Int64, now: Int64) throws(LogStoreError) -> Segment {
        precondition(baseOffset >= 0, "segment base offset must be non-negative")
        let path = directory + "/" + fileName(baseOffset, ".log")
        let log = try FileIO.open(path, create: true, exclusive: true)
        let segment = try Segment(directory: directory, baseOffset: baseOffset, log: log, size: 0, now: now)
        // Leftover index files from an older segment with this base would be wrong for this one.
        try segment.offsetIndex.reset()
        try segment.timeIndex.reset()
        try segment.txnIndex.rewrite([])
        return segment
    }

    /// Opens an existing segment without looking at its data; the caller then runs `loadSealed`,
    /// `loadActive` or `rebuild`.
    static func open(directory: String, baseOffset: Int64, now: Int64) throws(LogStoreError) -> Segment {
        let path = directory + "/" + fileName(baseOffset, ".log")
        let log = try FileIO.open(path, create: false)
        let size = try FileIO.size(log, path: path)
        return try Segment(directory: directory, baseOffset: baseOffset, log: log, size: size, now: now)
    }

    func relative(_ offset: Int64) -> Int32 {
        let delta = offset - baseOffset
        precondition(delta >= 0 && delta <= Int64(Int32.max), "offset \(offset) outside segment \(baseOffset)")
        return Int32(delta)
    }

    /// Whether an offset can be stored relative to this segment's base.
    func canHold(offset: Int64) -> Bool { offset - baseOffset <= Int64(Int32.max) }

    // MARK: Loading and recovery

    /// Cheap checks on index files that are not rebuilt at open (Kafka's sanity check): both files
    /// were there, hold whole entries only, and their last entries point inside this segment.
    func indexesLookSane() throws(LogStoreError) -> Bool {
        guard !indexesWereMissing, offsetIndex.isWellFormed, timeIndex.isWellFormed else { return false }
        if let last = try offsetIndex.last() {
            if last.relativeOffset < 0 || last.position < 0 || Int(last.position) >= size { return false }
        }
        if let last = try timeIndex.last(), last.relativeOffset < 0 { return false }
        return true
    }

    /// A sealed segment trusted as it is: its max timestamp comes from the final time-index entry
    /// written when it was sealed.
    func loadSealed() throws(LogStoreError) {
        if let last = try timeIndex.last() {
            maxTimestamp = last.timestamp
            offsetOfMaxTimestamp = baseOffset + Int64(last.relativeOffset)
        }
    }

    /// The active segment after a clean shutdown: indexes are complete on disk, so only the batches
    /// after the last index entry are walked (headers only) to find the next offset. Returns nil if
    /// that walk meets anything but whole batches, so the caller falls back to `rebuild`.
    func loadActive() throws(LogStoreError) -> Int64? {
        try loadSealed()
        try offsetIndex.load()
        try timeIndex.load()
        let start = offsetIndex.isEmpty ? 0 : Int(offsetIndex.entry(at: offsetIndex.count - 1).position)
        var lastOffset: Int64?
        var first: Int64?
        var scanner = BatchScanner(file: log, path: logPath, end: size, verifyCRC: false)
        let outcome = try scanner.scan(from: start, minimumOffset: baseOffset) { info, position in
            if position == 0 { first = info.maxTimestamp }
            noteMaxTimestamp(info)
            lastOffset = info.lastOffset
            return true
        }
        guard outcome.defect == nil, outcome.validEnd == size else { return nil }
        if size > 0 && first == nil { first = try readHeader(at: 0)?.maxTimestamp }
        firstBatchTimestamp = first
        bytesSinceLastIndexEntry = size - start
        return lastOffset.map { $0 + 1 } ?? baseOffset
    }

    struct Recovery {
        /// Bytes cut from the end of the file.
        var truncatedBytes: Int
        /// One past the last valid batch, or the base offset when none.
        var nextOffset: Int64
        var defect: String?
    }

    /// Walks the whole segment, rebuilds both indexes and the timestamps from the data, and with
    /// `verifyCRC` cuts the file at the first batch that is torn, malformed or fails its CRC.
    /// `onBatch` sees every valid batch in order (leader-epoch recovery).
    func rebuild(
        verifyCRC: Bool, indexIntervalBytes: Int, minimumOffset: Int64? = nil, onBatch: (BatchInfo) -> Void = { _ in }
    ) throws(LogStoreError) -> Recovery {
        try offsetIndex.reset()
        try timeIndex.reset()
        maxTimestamp = -1
        offsetOfMaxTimestamp = -1
        firstBatchTimestamp = nil
        bytesSinceLastIndexEntry = 0
        var next = baseOffset
        var scanner = BatchScanner(file: log, path: logPath, end: size, verifyCRC: verifyCRC)
        let outcome = try scanner.scan(from: 0, minimumOffset: minimumOffset ?? baseOffset) { info, position in
            guard canHold(offset: info.lastOffset) else { return false }
            batchAppended(info, at: position, indexIntervalBytes: indexIntervalBytes)
            onBatch(info)
            next = info.lastOffset + 1
            return true
        }
        let truncated = size - outcome.validEnd
        if truncated > 0 {
            try FileIO.truncate(log, to: outcome.validEnd, path: logPath)
            size = outcome.validEnd
        }
        try offsetIndex.persist()
        try timeIndex.persist()
        return Recovery(truncatedBytes: truncated, nextOffset: next,
                        defect: outcome.defect ?? (outcome.stoppedAt != nil ? "offset does not fit int32" : nil))
    }

    // MARK: Appending

    /// Writes already offset-stamped batches at the end of the file. On failure the file is cut
    /// back so no partial append stays behind, and the error is rethrown.
    func write(_ bytes: [UInt8]) throws(LogStoreError) {
        do {
            try FileIO.write(log, bytes, at: size, path: logPath)
        } catch {
            try? FileIO.truncate(log, to: size, path: logPath)
            throw error
        }
        size += bytes.count
    }

    /// Index and timestamp bookkeeping for one batch now at `position` (append and rebuild share it).
    /// Kafka's rule: an offset-index entry once more than index.interval.bytes were written since
    /// the previous one, and a time-index entry alongside it when the max timestamp grew.
    func batchAppended(_ info: BatchInfo, at position: Int, indexIntervalBytes: Int) {
        precondition(position + info.size <= size, "batch indexed beyond the segment's end")
        if position == 0 { firstBatchTimestamp = info.maxTimestamp }
        noteMaxTimestamp(info)
        if bytesSinceLastIndexEntry > indexIntervalBytes {
            offsetIndex.append(OffsetEntry(relativeOffset: relative(info.lastOffset), position: Int32(position)))
            appendTimeEntryIfGrown()
            bytesSinceLastIndexEntry = 0
        }
        bytesSinceLastIndexEntry += info.size
    }

    private func noteMaxTimestamp(_ info: BatchInfo) {
        if info.maxTimestamp > maxTimestamp {
            maxTimestamp = info.maxTimestamp
            offsetOfMaxTimestamp = info.lastOffset
        }
    }

    private func appendTimeEntryIfGrown() {
        let lastIndexed = timeIndex.isEmpty ? -1 : timeIndex.entry(at: timeIndex.count - 1).timestamp
        if maxTimestamp > lastIndexed {
            timeIndex.append(TimeEntry(timestamp: maxTimestamp, relativeOffset: relative(offsetOfMaxTimestamp)))
        }
    }

    func indexesFull(adding batches: Int, config: LogConfig) -> Bool {
        offsetIndex.count + batches > config.maxOffsetIndexEntries
            || timeIndex.count + batches > config.maxTimeIndexEntries
    }

    /// Makes the segment ready to stop being active (roll) or to be closed: the final time-index
    /// entry, indexes written out, everything fsynced.
    func seal() throws(LogStoreError) {
        try timeIndex.load()
        appendTimeEntryIfGrown()
        try flush()
    }

    /// Writes pending index entries and fsyncs the log and both indexes.
    func flush() throws(LogStoreError) {
        try offsetIndex.persist()
        try timeIndex.persist()
        try FileIO.syncData(log, path: logPath)
        try offsetIndex.sync()
        try timeIndex.sync()
        try txnIndex.sync()
    }

    /// fsync of the log alone: what the flush policy needs on the append path.
    func syncLog() throws(LogStoreError) {
        try FileIO.syncData(log, path: logPath)
    }

    /// Cuts the file at `position` (a batch boundary) and rebuilds the indexes from what remains.
    func truncate(toPosition position: Int, indexIntervalBytes: Int) throws(LogStoreError) {
        precondition(position >= 0 && position <= size, "truncation point outside the segment")
        try FileIO.truncate(log, to: position, path: logPath)
        size = position
        _ = try rebuild(verifyCRC: false, indexIntervalBytes: indexIntervalBytes)
    }

    /// Renames the four files with a `.deleted` suffix; returns the new paths to unlink later.
    /// Open descriptors (in-flight reads) keep working on the renamed files.
    func markDeleted() throws(LogStoreError) -> [String] {
        try offsetIndex.persist()
        try timeIndex.persist()
        let newLog = logPath + ".deleted"
        try FileIO.rename(logPath, newLog)
        logPath = newLog
        try offsetIndex.rename(to: offsetIndex.path + ".deleted")
        try timeIndex.rename(to: timeIndex.path + ".deleted")
        try txnIndex.rename(to: txnIndex.path + ".deleted")
        return [newLog, offsetIndex.path, timeIndex.path, txnIndex.path]
    }

    // MARK: Lookups

    func readHeader(at position: Int) throws(LogStoreError) -> BatchInfo? {
        guard position + RecordBatchHeader.size <= size else { return nil }
        let bytes = try FileIO.read(log, count: RecordBatchHeader.size, at: position, path: logPath)
        guard bytes.count == RecordBatchHeader.size else { return nil }
        return bytes.withUnsafeBytes { BatchInfo($0, at: 0) }
    }

    /// Start position for a forward scan towards `offset`: the greatest indexed offset <= it.
    func indexedPosition(for offset: Int64) throws(LogStoreError) -> Int {
        guard let i = try offsetIndex.lastIndex(where: { baseOffset + Int64($0.relativeOffset) <= offset }) else {
            return 0
        }
        return Int(offsetIndex.entry(at: i).position)
    }

    /// The first batch whose last offset is >= `offset` (the batch containing it, or the next one
    /// after a gap), found through the index then a forward scan of headers.
    func findBatch(containing offset: Int64) throws(LogStoreError) -> (position: Int, info: BatchInfo)? {
        try findBatch(from: try indexedPosition(for: offset)) { $0.lastOffset >= offset }
    }

    /// The first batch whose max timestamp is >= `timestamp` and that reaches `lastOffsetAtLeast`,
    /// starting after the time-index entries that rule earlier batches out.
    func findBatch(
        timestampAtLeast timestamp: Int64, lastOffsetAtLeast minimum: Int64
    ) throws(LogStoreError) -> (position: Int, info: BatchInfo)? {
        var start = 0
        if let i = try timeIndex.lastIndex(where: { $0.timestamp < timestamp }) {
            // Every record up to this offset is older than `timestamp`.
            start = try indexedPosition(for: baseOffset + Int64(timeIndex.entry(at: i).relativeOffset))
        }
        return try findBatch(from: start) { $0.maxTimestamp >= timestamp && $0.lastOffset >= minimum }
    }

    private func findBatch(
        from start: Int, where matches: (BatchInfo) -> Bool
    ) throws(LogStoreError) -> (position: Int, info: BatchInfo)? {
        var found: (position: Int, info: BatchInfo)?
        var scanner = BatchScanner(file: log, path: logPath, end: size, verifyCRC: false)
        let outcome = try scanner.scan(from: start, minimumOffset: baseOffset) { info, position in
            if matches(info) {
                found = (position, info)
                return false
            }
            return true
        }
        if found == nil, let defect = outcome.defect {
            throw .corruptSegment(path: logPath, position: outcome.validEnd, reason: defect)
        }
        return found
    }

    /// Whole batch bytes at `position`.
    func readBatch(at position: Int, size count: Int) throws(LogStoreError) -> [UInt8] {
        try FileIO.read(log, count: count, at: position, path: logPath)
    }
}
