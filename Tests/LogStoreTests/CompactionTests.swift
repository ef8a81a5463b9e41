// Log compaction: the last record per key survives (also inside compressed batches), tombstones
// go after delete.retention.ms, offsets and segment spans do not move, the dirty-ratio and lag
// rules hold, appends are unaffected, and a crash at any point of the swap leaves a valid log.
import Compression
import Foundation
import KafkaProtocol
import Testing
@testable import LogStore

@Suite struct CompactionTests {
    func keyed(_ pairs: [(String, String?)], timestamp: Int64, codec: CompressionCodec = .none) throws -> [UInt8] {
        var b = RecordBatchBuilder(codec: codec)
        for (k, v) in pairs { b.append(key: Array(k.utf8), value: v.map { Array($0.utf8) }, timestamp: timestamp) }
        return try b.build()
    }

    func config() -> LogConfig {
        var c = LogConfig(segmentBytes: 150, indexIntervalBytes: 1)
        c.deletePolicy = false
        c.compactPolicy = true
        c.minCleanableDirtyRatio = 0
        c.deleteRetentionMs = 10_000
        return c
    }

    /// Every (offset, key, value) readable from the log.
    func contents(_ log: PartitionLog) throws -> [(Int64, String, String?)] {
        var out: [(Int64, String, String?)] = []
        var offset = log.logStartOffset
        while offset < log.logEndOffset {
            let read = try log.read(from: offset, maxBytes: 1 << 20, maxOffset: log.logEndOffset, minOneBatch: true)
            if read.records.isEmpty { break }
            for (start, header) in RecordBatches.batches(in: read.records) {
                for r in try RecordBatches.records(in: read.records, batchStart: start, maxDecompressedSize: 1 << 20) {
                    let o = header.baseOffset + Int64(r.offsetDelta)
                    if o >= offset {
                        out.append((o, String(decoding: r.key ?? [], as: UTF8.self),
                                    r.value.map { String(decoding: $0, as: UTF8.self) }))
                    }
                }
                offset = header.lastOffset + 1
            }
        }
        return out
    }

    func fill(_ log: PartitionLog, now: Int64, codec: CompressionCodec = .none) throws {
        // 3 keys, each written 6 times; "b" ends with a tombstone.
        for round in 0..<6 {
            var batch = try keyed([("a", "a\(round)"), ("b", round == 5 ? nil : "b\(round)"), ("c", "c\(round)")],
                                  timestamp: now - 60_000 + Int64(round), codec: codec)
            _ = try log.append(&batch, leaderEpoch: 0, now: now)
        }
        // A few more batches, so every round above lies in a sealed (cleanable) segment.
        for _ in 0..<3 {
            var tail = try keyed([("z", "tail")], timestamp: now, codec: codec)
            _ = try log.append(&tail, leaderEpoch: 0, now: now)
        }
        log.updateHighWatermark(log.logEndOffset)
    }

    @Test(arguments: [CompressionCodec.none, .gzip, .zstd, .lz4, .snappy])
    func keepsTheLastValuePerKey(codec: CompressionCodec) throws {
        let dir = TempDir()
        let now: Int64 = 1_000_000
        let log = try PartitionLog.open(directory: dir.path + "/t-0", config: config(), now: now)
        try fill(log, now: now, codec: codec)
        let segmentsBefore = log.segmentBaseOffsets
        #expect(segmentsBefore.count > 2)
        let end = log.logEndOffset
        let result = try #require(try log.compact(now: now))
        #expect(result.recordsRemoved > 0 && result.bytesAfter < result.bytesBefore)
        #expect(log.segmentBaseOffsets == segmentsBefore)
        #expect(log.logEndOffset == end)
        let after = try contents(log)
        // Keys from the cleaned segments appear once, with their last value; the tombstone is
        // younger than delete.retention.ms here... it was written 60 s ago with 10 s retention:
        // so it is gone. The active segment's records are untouched.
        let latest = Dictionary(after.map { ($0.1, $0.2) }, uniquingKeysWith: { _, new in new })
        #expect(latest["a"] == "a5")
        #expect(latest["c"] == "c5")
        #expect(latest["z"] == "tail")
        #expect(latest["b"] == nil)
        #expect(after.filter { $0.1 == "a" }.count == 1)
        let offsets = after.map(\.0)
        #expect(offsets == offsets.sorted())
        // Appends carry on at the same offsets.
        var more = try keyed([("a", "new")], timestamp: now, codec: codec)
        #expect(try log.append(&more, leaderEpoch: 0, now: now).firstOffset == end)
        try log.close()
        // A reopen (with its CRC scan) accepts the cleaned segments.
        let reopened = try PartitionLog.open(directory: dir.path + "/t-0", config: config(), now: now)
        #expect(reopened.logEndOffset == end + 1)
        #expect(try contents(reopened).map(\.0) == after.map(\.0) + [end])
    }

    @Test func tombstonesStayUntilDeleteRetentionPasses() throws {
        let dir = TempDir()
        let now: Int64 = 1_000_000
        var c = config()
        c.deleteRetentionMs = 3_600_000
        let log = try PartitionLog.open(directory: dir.path + "/t-0", config: c, now: now)
        try fill(log, now: now)
        _ = try log.compact(now: now)
        let kept = try contents(log).filter { $0.1 == "b" }
        #expect(kept.count == 1 && kept[0].2 == nil)  // the tombstone is the only "b" left
        // Later: the tombstone is older than delete.retention.ms and goes.
        var later = c
        later.minCleanableDirtyRatio = 0
        try log.updateConfig(later)
        var extra = try keyed([("d", "1")], timestamp: now + 4_000_000)
        for _ in 0..<8 { _ = try log.append(&extra, leaderEpoch: 0, now: now + 4_000_000); extra = try keyed([("d", "1")], timestamp: now + 4_000_000) }
        log.updateHighWatermark(log.logEndOffset)
        _ = try log.compact(now: now + 4_000_000)
        #expect(try contents(log).filter { $0.1 == "b" }.isEmpty)
    }

    @Test func dirtyRatioAndLagGateCleaning() throws {
        let dir = TempDir()
        let now: Int64 = 1_000_000
        var c = config()
        c.minCompactionLagMs = 3_600_000
        let log = try PartitionLog.open(directory: dir.path + "/t-0", config: c, now: now)
        try fill(log, now: now)
        #expect(try log.compact(now: now) == nil)  // every segment is younger than the lag
        c.minCompactionLagMs = 0
        c.minCleanableDirtyRatio = 0.9
        try log.updateConfig(c)
        _ = try log.compact(now: now)  // first clean: all dirty, ratio 1
        #expect(try log.compact(now: now) == nil)  // nothing dirty left
        var d = c
        d.compactPolicy = false
        d.deletePolicy = true
        try log.updateConfig(d)
        #expect(try log.compact(now: now) == nil)  // not a compacted topic
    }

    @Test func crashDuringTheSwapLeavesOldOrNewSegment() throws {
        let dir = TempDir()
        let now: Int64 = 1_000_000
        let path = dir.path + "/t-0"
        let log = try PartitionLog.open(directory: path, config: config(), now: now)
        try fill(log, now: now)
        let before = try contents(log)
        let bases = log.segmentBaseOffsets
        try log.close()
        // A half-written `.cleaned` file: ignored and removed on open.
        let first = path + "/" + String(format: "%020lld", bases[0]) + ".log"
        _ = FileManager.default.createFile(atPath: first + ".cleaned", contents: Data([1, 2, 3]))
        var reopened = try PartitionLog.open(directory: path, config: config(), now: now)
        #expect(try contents(reopened).map(\.0) == before.map(\.0))
        #expect(!FileManager.default.fileExists(atPath: first + ".cleaned"))
        // A committed `.swap` file: the swap is completed on open.
        let result = try #require(try reopened.compact(now: now))
        #expect(result.segmentsCleaned >= 1)
        let cleaned = try contents(reopened)
        try reopened.close()
        let cleanedFirst = try Data(contentsOf: URL(fileURLWithPath: first))
        // Put the old segment back and leave the cleaned copy as an uncompleted swap.
        reopened = try PartitionLog.open(directory: path, config: config(), now: now)
        try reopened.close()
        try cleanedFirst.write(to: URL(fileURLWithPath: first + ".swap"))
        reopened = try PartitionLog.open(directory: path, config: config(), now: now)
        #expect(try contents(reopened).map(\.0) == cleaned.map(\.0))
        #expect(!FileManager.default.fileExists(atPath: first + ".swap"))
    }
}
