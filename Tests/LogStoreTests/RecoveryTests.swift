// Goal: reopening recovers exactly the valid prefix of the log after a clean close, a crash
// (the log is dropped without close, as kill -9 would leave it), a torn or garbled tail, and
// missing or broken index files; indexes come back identical and appends continue at the right
// offset. Method: build a log, damage its files directly, reopen, compare with what was written.
import Foundation
import KafkaProtocol
import Testing
@testable import LogStore

@Suite struct RecoveryTests {
    let config = LogConfig(segmentBytes: 1_200, indexIntervalBytes: 150)

    /// A log of 60 batches over several segments; returns the stamped bytes per batch.
    func buildLog(_ dir: String, close: Bool) throws -> [[UInt8]] {
        let log = try PartitionLog.open(directory: dir, config: config, now: 0)
        let stamped = try appendAll(log, (0..<60).map { makeBatch(count: 1 + $0 % 3, baseTimestamp: Int64($0 * 100)) })
        if close { try log.close() }
        return stamped
    }

    func indexFiles(_ dir: String) throws -> [String: [UInt8]] {
        var files = [String: [UInt8]]()
        for name in try FileManager.default.contentsOfDirectory(atPath: dir) where name.hasSuffix("index") {
            files[name] = readFile(dir + "/" + name)
        }
        return files
    }

    /// Rebuilt indexes equal the originals, except that the active segment's time index may lack
    /// the final entry a clean close adds (recovery, like Kafka's, does not force it).
    func expectSameIndexes(_ rebuilt: [String: [UInt8]], _ original: [String: [UInt8]], active: Int64) {
        let activeTime = Segment.fileName(active, ".timeindex")
        #expect(rebuilt.filter { $0.key != activeTime } == original.filter { $0.key != activeTime })
        let rebuiltTime = rebuilt[activeTime] ?? []
        let originalTime = original[activeTime] ?? []
        #expect(originalTime.starts(with: rebuiltTime) && originalTime.count - rebuiltTime.count <= 12)
    }

    /// Every offset reads back its batch, timestamps resolve, and the next append gets `expectedEnd`.
    func checkLog(_ log: PartitionLog, holds stamped: [[UInt8]]) throws {
        #expect(try readAll(log) == stamped.reduce([], +))
        let expectedEnd = try stamped.last.map { try headers($0).last!.lastOffset + 1 } ?? 0
        #expect(log.logEndOffset == expectedEnd)
        for batch in stamped {
            let header = try headers(batch)[0]
            let read = try log.read(from: header.lastOffset, maxBytes: 1, maxOffset: .max, minOneBatch: true)
            #expect(read.records == batch)
            #expect(try log.offsetForTimestamp(header.baseTimestamp)?.offset == header.baseOffset)
        }
        var next = makeBatch(count: 2)
        let info = try log.append(&next, leaderEpoch: 0, now: 0)
        #expect(info.firstOffset == expectedEnd)
        #expect(try log.read(from: expectedEnd, maxBytes: 1 << 20, maxOffset: .max, minOneBatch: true).records == next)
    }

    @Test(arguments: [true, false])
    func cleanCloseAndReopenKeepsEverything(cleanShutdown: Bool) throws {
        let dir = TempDir()
        let stamped = try buildLog(dir.partition, close: true)
        let indexes = try indexFiles(dir.partition)
        let log = try PartitionLog.open(directory: dir.partition, config: config, now: 0, cleanShutdown: cleanShutdown)
        #expect(log.segmentBaseOffsets.count > 3)
        expectSameIndexes(try indexFiles(dir.partition), indexes, active: log.segmentBaseOffsets.last!)
        try checkLog(log, holds: stamped)
    }

    @Test func crashWithoutCloseLosesNothingWritten() throws {
        let dir = TempDir()
        let reference = TempDir()
        let stamped = try buildLog(dir.partition, close: false)  // dropped: like kill -9
        _ = try buildLog(reference.partition, close: true)
        let log = try PartitionLog.open(directory: dir.partition, config: config, now: 0)
        // The active segment's indexes existed only in memory; recovery rebuilt them identically.
        expectSameIndexes(try indexFiles(dir.partition), try indexFiles(reference.partition),
                          active: log.segmentBaseOffsets.last!)
        try checkLog(log, holds: stamped)
    }

    @Test(arguments: [1, 10, 40, 61, 70])
    func tornTailIsCutAtTheLastWholeBatch(bytesCut: Int) throws {
        let dir = TempDir()
        let stamped = try buildLog(dir.partition, close: true)
        let active = try #require(try PartitionLog.open(directory: dir.partition, config: config, now: 0)
            .segmentBaseOffsets.last)
        let path = segmentFile(dir.partition, active, ".log")
        let size = fileSize(path)
        truncateFile(path, to: size - bytesCut)
        // Which batches are still whole after the cut.
        var kept = stamped
        var removed = 0
        while removed < bytesCut {
            removed += kept.removeLast().count
        }
        let log = try PartitionLog.open(directory: dir.partition, config: config, now: 0)
        #expect(fileSize(path) == size - removed)
        try checkLog(log, holds: kept)
    }

    @Test func garbledBytesCutTheLogAtTheFirstBadBatch() throws {
        let dir = TempDir()
        let stamped = try buildLog(dir.partition, close: true)
        let active = try #require(try PartitionLog.open(directory: dir.partition, config: config, now: 0)
            .segmentBaseOffsets.last)
        let path = segmentFile(dir.partition, active, ".log")
        var bytes = readFile(path)
        // Which stamped batches live in the active segment.
        let inActive = stamped.filter { (try? headers($0)[0].baseOffset >= active) == true }
        #expect(inActive.count >= 3)
        // Flip a record byte of the second batch in the active segment: its CRC fails, so it and
        // everything after it go; the first batch stays.
        bytes[inActive[0].count + 70] ^= 0xFF
        writeFile(path, bytes)
        let log = try PartitionLog.open(directory: dir.partition, config: config, now: 0, cleanShutdown: false)
        #expect(fileSize(path) == inActive[0].count)
        try checkLog(log, holds: Array(stamped.dropLast(inActive.count - 1)))
    }

    @Test func garbledLastBytesWithCleanMarkerStillCaught() throws {
        let dir = TempDir()
        let stamped = try buildLog(dir.partition, close: true)
        let active = try #require(try PartitionLog.open(directory: dir.partition, config: config, now: 0)
            .segmentBaseOffsets.last)
        let path = segmentFile(dir.partition, active, ".log")
        // A half-written header after the last batch: the clean path's tail walk notices and recovers.
        writeFile(path, readFile(path) + [0, 0, 0, 0, 0, 0, 0, 99, 0, 0, 0])
        let log = try PartitionLog.open(directory: dir.partition, config: config, now: 0, cleanShutdown: true)
        try checkLog(log, holds: stamped)
    }

    @Test func missingAndBrokenIndexesAreRebuilt() throws {
        let dir = TempDir()
        let stamped = try buildLog(dir.partition, close: true)
        let indexes = try indexFiles(dir.partition)
        let bases = try PartitionLog.open(directory: dir.partition, config: config, now: 0).segmentBaseOffsets
        #expect(bases.count >= 4)
        // Sealed segment 0: no offset index. Segment 1: time index gone. Segment 2: index with a
        // partial entry. Active: index entry pointing past the log.
        try FileManager.default.removeItem(atPath: segmentFile(dir.partition, bases[0], ".index"))
        try FileManager.default.removeItem(atPath: segmentFile(dir.partition, bases[1], ".timeindex"))
        let index2 = segmentFile(dir.partition, bases[2], ".index")
        writeFile(index2, readFile(index2) + [0, 0, 1])
        let indexLast = segmentFile(dir.partition, bases.last!, ".index")
        writeFile(indexLast, readFile(indexLast) + [0, 0, 0, 9, 0x7F, 0, 0, 0])

        let log = try PartitionLog.open(directory: dir.partition, config: config, now: 0, cleanShutdown: true)
        expectSameIndexes(try indexFiles(dir.partition), indexes, active: bases.last!)
        try checkLog(log, holds: stamped)
    }

    @Test func aTornSealedSegmentDropsTheSegmentsAfterIt() throws {
        let dir = TempDir()
        let stamped = try buildLog(dir.partition, close: true)
        let bases = try PartitionLog.open(directory: dir.partition, config: config, now: 0).segmentBaseOffsets
        // Cut the middle of segment 1 and lose its index, as a failing disk might.
        let path = segmentFile(dir.partition, bases[1], ".log")
        truncateFile(path, to: fileSize(path) / 2)
        try FileManager.default.removeItem(atPath: segmentFile(dir.partition, bases[1], ".index"))
        let log = try PartitionLog.open(directory: dir.partition, config: config, now: 0)
        #expect(log.segmentBaseOffsets == [bases[0], bases[1]])
        #expect(!FileManager.default.fileExists(atPath: segmentFile(dir.partition, bases[2], ".log")))
        var kept = [[UInt8]]()
        var bytes = 0
        for batch in stamped {
            let base = try headers(batch)[0].baseOffset
            if base >= bases[1] {
                if bytes + batch.count > fileSize(path) { break }
                bytes += batch.count
            }
            kept.append(batch)
        }
        try checkLog(log, holds: kept)
    }

    @Test func leftoverFilesAreCleanedUp() throws {
        let dir = TempDir()
        let stamped = try buildLog(dir.partition, close: true)
        writeFile(dir.partition + "/00000000000000000003.log.deleted", [1, 2, 3])
        writeFile(dir.partition + "/00000000000099999999.index", [0, 0, 0, 0, 0, 0, 0, 0])
        writeFile(dir.partition + "/leader-epoch-checkpoint.tmp", [1])
        let log = try PartitionLog.open(directory: dir.partition, config: config, now: 0)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.partition)
        let leftovers = names.filter {
            $0.hasSuffix(".deleted") || $0.hasSuffix(".tmp") || $0.hasPrefix("00000000000099999999")
        }
        #expect(leftovers.isEmpty)
        try checkLog(log, holds: stamped)
    }
}
