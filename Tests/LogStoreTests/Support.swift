// Test support: valid RecordBatch v2 bytes built by hand (header + simple uncompressed records +
// CRC-32C), temporary directories, and small file-surgery helpers for the recovery tests.
import Foundation
import KafkaProtocol
@testable import LogStore

/// Builds a valid, uncompressed v2 batch as a producer would send it (baseOffset 0, epoch -1).
/// Record timestamps are `timestamps` (default: `baseTimestamp + i`); values are `valueSize` bytes.
func makeBatch(
    count: Int = 1, baseTimestamp: Int64 = 1_000, timestamps: [Int64]? = nil, valueSize: Int = 10,
    attributes: Int16 = 0
) -> [UInt8] {
    let stamps = timestamps ?? (0..<count).map { baseTimestamp + Int64($0) }
    precondition(stamps.count == count && count > 0)
    let first = stamps[0]
    var records = WireWriter()
    for (i, stamp) in stamps.enumerated() {
        var body = WireWriter()
        body.writeInt8(0)
        body.writeVarlong(stamp - first)
        body.writeVarint(Int32(i))
        body.writeVarint(-1)  // null key
        body.writeVarint(Int32(valueSize))
        body.writeRawBytes([UInt8](repeating: UInt8(truncatingIfNeeded: i), count: valueSize))
        body.writeVarint(0)  // no headers
        records.writeVarint(Int32(body.count))
        records.writeRawBytes(body.bytes)
    }
    let header = RecordBatchHeader(
        baseOffset: 0, batchLength: Int32(RecordBatchHeader.size - RecordBatchHeader.logOverhead + records.count),
        partitionLeaderEpoch: -1, attributes: attributes, lastOffsetDelta: Int32(count - 1),
        baseTimestamp: first, maxTimestamp: stamps.max()!, recordsCount: Int32(count))
    var writer = WireWriter()
    header.encode(to: &writer)
    writer.writeRawBytes(records.bytes)
    var bytes = writer.bytes
    let crc = RecordBatchHeader.computeCRC(bytes, batchStart: 0, totalSize: bytes.count)
    var patch = WireWriter()
    patch.bytes = bytes
    patch.patchInt32(Int32(bitPattern: crc), at: RecordBatchHeader.Field.crc)
    bytes = patch.bytes
    return bytes
}

/// Splits concatenated batches into their headers (whole-batch granularity checks).
func headers(_ bytes: [UInt8]) throws -> [RecordBatchHeader] {
    var result = [RecordBatchHeader]()
    var position = 0
    while position < bytes.count {
        let header = try RecordBatchHeader(from: bytes, at: position)
        result.append(header)
        position += header.totalSize
    }
    return result
}

/// True when every batch in `bytes` still has a correct CRC.
func crcsValid(_ bytes: [UInt8]) throws -> Bool {
    var position = 0
    while position < bytes.count {
        let header = try RecordBatchHeader(from: bytes, at: position)
        if RecordBatchHeader.computeCRC(bytes, batchStart: position, totalSize: header.totalSize) != header.crc {
            return false
        }
        position += header.totalSize
    }
    return true
}

/// A fresh directory under the system temp dir, removed when the value is released.
final class TempDir {
    let path: String

    init() {
        let template = FileManager.default.temporaryDirectory.path + "/logstore-test-XXXXXX"
        var chars = Array(template.utf8CString)
        let made = chars.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!).map { String(cString: $0) } }
        guard let made else { preconditionFailure("mkdtemp failed") }
        path = made
    }

    var partition: String { path + "/topic-0" }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

func segmentFile(_ directory: String, _ base: Int64, _ suffix: String) -> String {
    directory + "/" + Segment.fileName(base, suffix)
}

func fileSize(_ path: String) -> Int {
    (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? -1
}

func readFile(_ path: String) -> [UInt8] {
    FileManager.default.contents(atPath: path).map { [UInt8]($0) } ?? []
}

func truncateFile(_ path: String, to size: Int) {
    precondition(Glibc.truncate(path, off_t(size)) == 0)
}

func writeFile(_ path: String, _ bytes: [UInt8]) {
    precondition(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
}

/// Appends `batches` one call each and returns the stamped bytes, in order.
@discardableResult
func appendAll(
    _ log: PartitionLog, _ batches: [[UInt8]], epoch: Int32 = 0, now: Int64 = 1_000
) throws -> [[UInt8]] {
    var stamped = [[UInt8]]()
    for batch in batches {
        var bytes = batch
        _ = try log.append(&bytes, leaderEpoch: epoch, now: now)
        stamped.append(bytes)
    }
    return stamped
}

/// Reads the whole log from its start, segment by segment, and returns the concatenated bytes.
func readAll(_ log: PartitionLog, maxOffset: Int64 = .max) throws -> [UInt8] {
    var out = [UInt8]()
    var offset = log.logStartOffset
    while offset < log.logEndOffset {
        let result = try log.read(from: offset, maxBytes: 1 << 20, maxOffset: maxOffset, minOneBatch: true)
        if result.records.isEmpty { break }
        out += result.records
        offset = result.nextOffset
    }
    return out
}
