// Goal: the leader-epoch cache answers OffsetForLeaderEpoch like Kafka's, survives restarts (file
// or, after a crash, the stamped batches) and follows truncation; concurrent appenders get unique,
// contiguous offsets. Method: direct calls on PartitionLog; threads via DispatchQueue.
import Dispatch
import Foundation
import Synchronization
import Testing
@testable import LogStore

@Suite struct LeaderEpochTests {
    /// Epoch 1 at 0..2, epoch 2 at 3..4, epoch 5 at 5..9 (epochs 3 and 4 never appended).
    func makeLog(_ dir: TempDir) throws -> PartitionLog {
        let log = try PartitionLog.open(directory: dir.partition, config: LogConfig(segmentBytes: 400), now: 0)
        try appendAll(log, [makeBatch(count: 3)], epoch: 1)
        try appendAll(log, [makeBatch(count: 2)], epoch: 2)
        try appendAll(log, [makeBatch(count: 2), makeBatch(count: 3)], epoch: 5)
        return log
    }

    func expectEndOffsets(_ log: PartitionLog, _ expected: [Int32: (Int32, Int64)]) {
        for (epoch, answer) in expected {
            let got = log.endOffset(forLeaderEpoch: epoch)
            #expect(got.epoch == answer.0 && got.endOffset == answer.1, "epoch \(epoch): \(got)")
        }
    }

    @Test func endOffsetsFollowKafkaSemantics() throws {
        let dir = TempDir()
        let log = try makeLog(dir)
        expectEndOffsets(log, [0: (0, 0), 1: (1, 3), 2: (2, 5), 3: (2, 5), 4: (2, 5), 5: (5, 10), 6: (-1, -1),
                               -1: (-1, -1)])
        #expect(String(decoding: readFile(dir.partition + "/leader-epoch-checkpoint"), as: UTF8.self)
            == "0\n3\n1 0\n2 3\n5 5\n")
        // A new leader records its epoch before appending; the latest epoch then ends at the log end.
        try log.assignEpochStart(7)
        expectEndOffsets(log, [5: (5, 10), 7: (7, 10)])
    }

    @Test func epochsSurviveRestartAndAreRelearnedFromBatchesAfterACrash() throws {
        let dir = TempDir()
        try makeLog(dir).close()
        expectEndOffsets(try PartitionLog.open(directory: dir.partition, config: LogConfig(), now: 0),
                         [1: (1, 3), 2: (2, 5), 5: (5, 10)])
        // Lose the checkpoint: recovery of the active segment re-reads the epochs stamped in it.
        try FileManager.default.removeItem(atPath: dir.partition + "/leader-epoch-checkpoint")
        let log = try PartitionLog.open(directory: dir.partition, config: LogConfig(), now: 0)
        #expect(log.latestEpoch == 5)
        #expect(log.endOffset(forLeaderEpoch: 5) == (5, 10))
    }

    @Test func truncationAndDeleteRecordsTrimTheCache() throws {
        let dir = TempDir()
        let log = try makeLog(dir)
        try log.truncate(to: 5)
        expectEndOffsets(log, [2: (2, 5), 5: (-1, -1)])
        log.updateHighWatermark(5)
        try log.deleteRecords(before: 4)
        expectEndOffsets(log, [1: (1, 4), 2: (2, 5)])
        #expect(String(decoding: readFile(dir.partition + "/leader-epoch-checkpoint"), as: UTF8.self) == "0\n1\n2 4\n")
    }
}

@Suite struct ConcurrencyTests {
    @Test func concurrentAppendersGetUniqueContiguousOffsets() throws {
        let dir = TempDir()
        let config = LogConfig(segmentBytes: 8_000, indexIntervalBytes: 500)
        let log = try PartitionLog.open(directory: dir.partition, config: config, now: 0)
        let threads = 4
        let perThread = 150
        let ranges = Mutex<[ClosedRange<Int64>]>([])
        let failures = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            for i in 0..<perThread {
                var batch = makeBatch(count: 1 + (thread + i) % 3)
                do {
                    let info = try log.append(&batch, leaderEpoch: 0, now: 0)
                    ranges.withLock { $0.append(info.firstOffset...info.lastOffset) }
                    // Readers run alongside the writers.
                    _ = try log.read(from: info.firstOffset, maxBytes: 1_000, maxOffset: .max, minOneBatch: true)
                } catch {
                    failures.add(1, ordering: .relaxed)
                }
            }
        }
        #expect(failures.load(ordering: .relaxed) == 0)
        let sorted = ranges.withLock { $0 }.sorted { $0.lowerBound < $1.lowerBound }
        #expect(sorted.count == threads * perThread)
        var next: Int64 = 0
        for range in sorted {
            #expect(range.lowerBound == next)
            next = range.upperBound + 1
        }
        #expect(log.logEndOffset == next)
        #expect(log.segmentBaseOffsets.count > 3)
        let batches = try headers(readAll(log))
        #expect(batches.count == threads * perThread)
        #expect(batches.map(\.baseOffset) == sorted.map(\.lowerBound))
    }
}
