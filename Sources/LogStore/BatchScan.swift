// Walking the batches of a `.log` file: recovery (with CRC), index rebuilds and read-path lookups
// (headers only). Everything here is per batch; records are only looked at for timestamp lookups.
import KafkaProtocol

/// The header fields LogStore needs from one stored batch, read in place (big-endian).
struct BatchInfo {
    typealias Field = RecordBatchHeader.Field

    var baseOffset: Int64
    /// Whole batch including the 12-byte offset+length prefix.
    var size: Int
    var leaderEpoch: Int32
    var magic: Int8
    var attributes: Int16
    var lastOffsetDelta: Int32
    var maxTimestamp: Int64
    var recordsCount: Int32
    var producerId: Int64

    var lastOffset: Int64 { baseOffset + Int64(lastOffsetDelta) }
    var isCompressed: Bool { attributes & 0x7 != 0 }
    var isLogAppendTime: Bool { attributes & 0x8 != 0 }
    var isTransactional: Bool { attributes & 0x10 != 0 }
    var isControl: Bool { attributes & 0x20 != 0 }
    /// A transactional batch that counts for transaction state: a control batch, or data with
    /// records (compaction may leave an emptied batch of an aborted or superseded transaction
    /// behind as a segment's last batch; it must not reopen a transaction once its marker is gone).
    var opensOrEndsTransaction: Bool { producerId >= 0 && isTransactional && (isControl || recordsCount > 0) }

    /// Reads the header at `at`; the caller guarantees `RecordBatchHeader.size` bytes are there.
    init(_ raw: UnsafeRawBufferPointer, at p: Int) {
        precondition(p + RecordBatchHeader.size <= raw.count, "batch header out of bounds")
        func int64(_ field: Int) -> Int64 {
            Int64(bigEndian: raw.loadUnaligned(fromByteOffset: p + field, as: Int64.self))
        }
        func int32(_ field: Int) -> Int32 {
            Int32(bigEndian: raw.loadUnaligned(fromByteOffset: p + field, as: Int32.self))
        }
        baseOffset = int64(Field.baseOffset)
        size = Int(int32(Field.batchLength)) + RecordBatchHeader.logOverhead
        leaderEpoch = int32(Field.partitionLeaderEpoch)
        magic = Int8(bitPattern: raw[p + Field.magic])
        attributes = Int16(bigEndian: raw.loadUnaligned(fromByteOffset: p + Field.attributes, as: Int16.self))
        lastOffsetDelta = int32(Field.lastOffsetDelta)
        maxTimestamp = int64(Field.maxTimestamp)
        recordsCount = int32(Field.recordsCount)
        producerId = int64(Field.producerId)
    }

    /// Why these header bytes cannot start a valid stored batch, or nil. `available` is how many
    /// bytes the file holds from the batch start.
    func defect(available: Int, minimumOffset: Int64) -> String? {
        if size < RecordBatchHeader.size { return "batch length \(size - RecordBatchHeader.logOverhead) too small" }
        if magic != 2 { return "magic \(magic)" }
        if lastOffsetDelta < 0 { return "negative lastOffsetDelta" }
        if baseOffset < minimumOffset { return "offset \(baseOffset) below \(minimumOffset)" }
        if size > available { return "incomplete batch" }
        return nil
    }
}

/// How a scan ended.
struct ScanOutcome {
    /// End of the last good batch visited (the truncation point when `defect` is set).
    var validEnd: Int
    /// Set when the scan stopped at bytes that are not a valid batch.
    var defect: String?
    /// Set when the body asked to stop: the position of that batch.
    var stoppedAt: Int?
}

/// Reads batches from `start` up to `end` through a chunk buffer, so a scan costs about one pread
/// per chunk, not one per batch. With `verifyCRC` every batch is read whole and checksummed.
struct BatchScanner {
    let file: LogFile
    let path: String
    let end: Int
    let verifyCRC: Bool
    private var buffer: [UInt8]
    private var bufferStart = 0
    private var bufferCount = 0

    init(file: LogFile, path: String, end: Int, verifyCRC: Bool) {
        self.file = file
        self.path = path
        self.end = end
        self.verifyCRC = verifyCRC
        // Headers-only walks skip over data, so they read small chunks.
        buffer = [UInt8](repeating: 0, count: verifyCRC ? 1 << 20 : 16 << 10)
    }

    /// Makes `[position, position + count)` present in the buffer; false if the range passes `end`.
    private mutating func ensure(_ position: Int, _ count: Int) throws(LogStoreError) -> Bool {
        if position + count > end { return false }
        if position >= bufferStart && position + count <= bufferStart + bufferCount { return true }
        if count > buffer.count { buffer = [UInt8](repeating: 0, count: count) }
        let want = min(buffer.count, end - position)
        var failure: LogStoreError?
        let got = buffer.withUnsafeMutableBytes { raw -> Int in
            do throws(LogStoreError) {
                return try FileIO.read(file, into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<want]),
                                       at: position, path: path)
            } catch {
                failure = error
                return 0
            }
        }
        if let failure { throw failure }
        bufferStart = position
        bufferCount = got
        return got >= count
    }

    /// Visits batches from `start` while `body` returns true. `minimumOffset` is the lowest base
    /// offset the first batch may have; each later one must follow the previous batch's last offset.
    mutating func scan(
        from start: Int, minimumOffset: Int64, _ body: (BatchInfo, Int) throws(LogStoreError) -> Bool
    ) throws(LogStoreError) -> ScanOutcome {
        var position = start
        var nextMinimum = minimumOffset
        while position < end {
            guard try ensure(position, RecordBatchHeader.size) else {
                return ScanOutcome(validEnd: position, defect: "incomplete batch header")
            }
            let offsetInBuffer = position - bufferStart
            let info = buffer.withUnsafeBytes { BatchInfo($0, at: offsetInBuffer) }
            if let defect = info.defect(available: end - position, minimumOffset: nextMinimum) {
                return ScanOutcome(validEnd: position, defect: defect)
            }
            if verifyCRC {
                guard try ensure(position, info.size) else {
                    return ScanOutcome(validEnd: position, defect: "incomplete batch")
                }
                let first = position - bufferStart
                let (stored, computed) = buffer.withUnsafeBytes { raw in
                    (UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: first + BatchInfo.Field.crc, as: UInt32.self)),
                     CRC32C.checksum(UnsafeRawBufferPointer(
                        rebasing: raw[(first + BatchInfo.Field.attributes)..<(first + info.size)])))
                }
                if stored != computed { return ScanOutcome(validEnd: position, defect: "CRC mismatch") }
            }
            if try !body(info, position) { return ScanOutcome(validEnd: position, stoppedAt: position) }
            position += info.size
            nextMinimum = info.lastOffset + 1
        }
        return ScanOutcome(validEnd: position)
    }
}

/// Record-level timestamp search inside one batch (whole batch bytes). Uncompressed CreateTime
/// batches are walked record by record; for compressed or LogAppendTime batches the answer is the
/// batch's first offset at or above `minimumOffset`, with the batch's max timestamp (exact for
/// LogAppendTime, where every record carries it; a documented approximation for compressed ones).
func firstRecord(
    in batch: [UInt8], info: BatchInfo, timestampAtLeast target: Int64, minimumOffset: Int64
) -> (offset: Int64, timestamp: Int64) {
    let fallback = (offset: max(info.baseOffset, minimumOffset), timestamp: info.maxTimestamp)
    if info.isCompressed || info.isLogAppendTime { return fallback }
    var reader = WireReader(batch, from: RecordBatchHeader.size, to: min(info.size, batch.count))
    do {
        let baseTimestamp = Int64(bigEndian: batch.withUnsafeBytes {
            $0.loadUnaligned(fromByteOffset: RecordBatchHeader.Field.baseTimestamp, as: Int64.self)
        })
        for _ in 0..<max(0, Int(info.recordsCount)) {
            let length = Int(try reader.readVarint())
            let recordStart = reader.position
            _ = try reader.readInt8()  // attributes
            let timestamp = baseTimestamp &+ (try reader.readVarlong())
            let offset = info.baseOffset + Int64(try reader.readVarint())
            if timestamp >= target && offset >= minimumOffset { return (offset, timestamp) }
            try reader.skip(recordStart + length - reader.position)
        }
    } catch {
        return fallback
    }
    return fallback
}
