// Goal: retention (time, bytes), DeleteRecords and truncation remove whole segments or whole
// batches only, respect the high watermark, advance and persist the log start offset, and leave a
// log that reopens the same. Method: small segments in temp dirs, file listings checked directly.
import Foundation
import Testing
@testable import LogStore

@Suite struct RetentionTests {
    /// 30 single-record batches at timestamps 0, 100, ... in segments of 5 batches.
    func makeLog(_ dir: TempDir, retentionMs: Int64 = -1, retentionBytes: Int64 = -1) throws
        -> (PartitionLog, [[UInt8]])
    {
        let batchSize = makeBatch().count
        let config = LogConfig(segmentBytes: batchSize * 5, retentionMs: retentionMs, retentionBytes: retentionBytes,
                               fileDeleteDelayMs: 0)
        let log = try PartitionLog.open(directory: dir.partition, config: config, now: 0)
        let stamped = try appendAll(log, (0..<30).map { makeBatch(baseTimestamp: Int64($0 * 100)) })
        #expect(log.segmentBaseOffsets == [0, 5, 10, 15, 20, 25])
        return (log, stamped)
    }

    func logFiles(_ dir: TempDir) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.partition).filter { $0.hasSuffix(".log") }.sorted()
    }

    @Test func retentionByTimeDeletesWholeOldSegmentsBelowTheHighWatermark() throws {
        let dir = TempDir()
        let (log, stamped) = try makeLog(dir, retentionMs: 1_000)
        // Segment [10, 15) holds timestamps up to 1400: at now = 2401 it is just over 1000 ms old.
        log.updateHighWatermark(12)
        try log.applyRetention(now: 2_401)
        // Only segments wholly below the high watermark may go.
        #expect(log.segmentBaseOffsets == [10, 15, 20, 25])
        #expect(log.logStartOffset == 10)
        log.updateHighWatermark(30)
        try log.applyRetention(now: 2_401)
        #expect(log.segmentBaseOffsets == [15, 20, 25])
        #expect(log.logStartOffset == 15)
        #expect(try logFiles(dir) == [15, 20, 25].map { Segment.fileName($0, ".log") })
        #expect(throws: LogStoreError.offsetOutOfRange(requested: 14, logStartOffset: 15, logEndOffset: 30)) {
            try log.read(from: 14, maxBytes: 100, maxOffset: .max, minOneBatch: true)
        }
        #expect(try readAll(log) == stamped[15...].reduce([], +))
        // The log start offset survives a restart.
        try log.close()
        let reopened = try PartitionLog.open(directory: dir.partition, config: log.config, now: 0)
        #expect(reopened.logStartOffset == 15)
        #expect(reopened.highWatermark == 30)
    }

    @Test func retentionCanEmptyTheWholeLogAndKeepsAnActiveSegment() throws {
        let dir = TempDir()
        let (log, _) = try makeLog(dir, retentionMs: 1_000)
        log.updateHighWatermark(30)
        try log.applyRetention(now: 100_000)
        #expect(log.segmentBaseOffsets == [30])
        #expect(log.logStartOffset == 30 && log.logEndOffset == 30)
        var batch = makeBatch()
        #expect(try log.append(&batch, leaderEpoch: 0, now: 0).firstOffset == 30)
    }

    @Test func retentionByBytesKeepsTheNewestSegmentsUnderTheLimit() throws {
        let dir = TempDir()
        let batchSize = Int64(makeBatch().count)
        let (log, _) = try makeLog(dir, retentionBytes: batchSize * 12)
        log.updateHighWatermark(30)
        try log.applyRetention(now: 0)
        // 30 batches, limit 12: delete whole segments while the rest stays >= 12 batches.
        #expect(log.segmentBaseOffsets == [15, 20, 25])
        #expect(log.logStartOffset == 15)
    }

    @Test func deletedFilesLingerForTheDeleteDelay() throws {
        let dir = TempDir()
        let batchSize = makeBatch().count
        let config = LogConfig(segmentBytes: batchSize * 5, retentionMs: 10, fileDeleteDelayMs: 1_000)
        let log = try PartitionLog.open(directory: dir.partition, config: config, now: 0)
        try appendAll(log, (0..<10).map { _ in makeBatch(baseTimestamp: 0) })
        log.updateHighWatermark(10)
        let reader = try log.read(from: 0, maxBytes: 1 << 20, maxOffset: .max, minOneBatch: true)
        try log.applyRetention(now: 5_000)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.partition)
        #expect(names.contains("00000000000000000000.log.deleted"))
        // A read that located the segment before deletion can still use its descriptor.
        let region = try #require(reader.region)
        var buffer = [UInt8](repeating: 0, count: region.length)
        let got = buffer.withUnsafeMutableBytes { pread(region.file.descriptor, $0.baseAddress, region.length, 0) }
        #expect(got == region.length && buffer == reader.records)
        try log.flushIfDue(now: 6_001)
        let remaining = try FileManager.default.contentsOfDirectory(atPath: dir.partition)
        #expect(!remaining.contains { $0.hasSuffix(".deleted") })
    }

    @Test func deleteRecordsRaisesTheLogStartOffsetAndDropsSegmentsBelowIt() throws {
        let dir = TempDir()
        let (log, stamped) = try makeLog(dir)
        log.updateHighWatermark(20)
        #expect(throws: LogStoreError.offsetOutOfRange(requested: 21, logStartOffset: 0, logEndOffset: 30)) {
            try log.deleteRecords(before: 21)
        }
        #expect(try log.deleteRecords(before: 12) == 12)
        #expect(log.segmentBaseOffsets == [10, 15, 20, 25])
        #expect(try log.deleteRecords(before: 3) == 12)  // never goes back
        #expect(throws: LogStoreError.offsetOutOfRange(requested: 11, logStartOffset: 12, logEndOffset: 30)) {
            try log.read(from: 11, maxBytes: 100, maxOffset: .max, minOneBatch: true)
        }
        #expect(try log.read(from: 12, maxBytes: 1, maxOffset: .max, minOneBatch: true).records == stamped[12])
        // Persisted at once, even without a clean close.
        let reopened = try PartitionLog.open(directory: dir.partition, config: log.config, now: 0)
        #expect(reopened.logStartOffset == 12)
        #expect(try reopened.offsetForTimestamp(0)?.offset == 12)
    }

    @Test func truncateRemovesWholeBatchesAndSegmentsAbove() throws {
        let dir = TempDir()
        let (log, stamped) = try makeLog(dir)
        log.updateHighWatermark(30)
        try log.truncate(to: 17)
        #expect(log.logEndOffset == 17)
        #expect(log.highWatermark == 17)
        #expect(log.segmentBaseOffsets == [0, 5, 10, 15])
        #expect(try readAll(log) == stamped[..<17].reduce([], +))
        var batch = makeBatch(count: 3)
        #expect(try log.append(&batch, leaderEpoch: 0, now: 0).firstOffset == 17)

        // A batch straddling the truncation point goes whole.
        try log.truncate(to: 19)
        #expect(log.logEndOffset == 17)
        try log.close()
        let reopened = try PartitionLog.open(directory: dir.partition, config: log.config, now: 0)
        #expect(reopened.logEndOffset == 17)
        #expect(try readAll(reopened) == stamped[..<17].reduce([], +))

        // At or below the log start offset the log restarts empty there.
        try reopened.truncate(to: 0)
        #expect(reopened.segmentBaseOffsets == [0])
        #expect(reopened.logEndOffset == 0 && reopened.logStartOffset == 0)
    }
}
