// Transactions on a data partition: the last stable offset with interleaved transactional and
// plain producers, end markers, the `.txnindex` bytes, recovery of both after a crash, the
// aborted-transaction lookup a read_committed fetch uses, and compaction of aborted data.
import Foundation
import KafkaProtocol
import Testing
@testable import LogStore

@Suite struct TransactionTests {
    /// A transactional data batch of `producerId` with one keyed record per key.
    func txnBatch(_ producerId: Int64, _ keys: [String], value: String = "v", timestamp: Int64 = 1_000) throws -> [UInt8] {
        var b = RecordBatchBuilder(isTransactional: true, producerId: producerId, producerEpoch: 0, baseSequence: 0)
        for k in keys { b.append(key: Array(k.utf8), value: Array(value.utf8), timestamp: timestamp) }
        return try b.build()
    }

    func plainBatch(_ keys: [String], value: String = "p", timestamp: Int64 = 1_000) throws -> [UInt8] {
        var b = RecordBatchBuilder()
        for k in keys { b.append(key: Array(k.utf8), value: Array(value.utf8), timestamp: timestamp) }
        return try b.build()
    }

    func marker(_ producerId: Int64, commit: Bool, coordinatorEpoch: Int32 = 3) -> [UInt8] {
        TransactionMarker(kind: commit ? .commit : .abort, coordinatorEpoch: coordinatorEpoch)
            .batch(producerId: producerId, producerEpoch: 0, timestamp: 1_000)
    }

    func compactingConfig() -> LogConfig {
        var config = LogConfig(segmentBytes: 150, indexIntervalBytes: 1)
        config.deletePolicy = false
        config.compactPolicy = true
        config.minCleanableDirtyRatio = 0
        return config
    }

    @discardableResult
    func append(_ log: PartitionLog, _ batch: [UInt8]) throws -> AppendInfo {
        var bytes = batch
        let info = try log.append(&bytes, leaderEpoch: 0, now: 1_000)
        log.updateHighWatermark(log.logEndOffset)
        return info
    }

    @Test func markerRoundTripsKafkasControlRecordLayout() throws {
        let bytes = marker(7, commit: false, coordinatorEpoch: 42)
        let header = try RecordBatchHeader(from: bytes)
        #expect(header.isControl && header.isTransactional && header.producerId == 7 && header.baseSequence == -1)
        let records = try RecordBatches.records(in: bytes, batchStart: 0, maxDecompressedSize: 1 << 10)
        #expect(records.count == 1)
        #expect(records[0].key == [0, 0, 0, 0])                 // version 0, type 0 (ABORT)
        #expect(records[0].value == [0, 0, 0, 0, 0, 42])        // version 0, coordinator epoch 42
        #expect(TransactionMarker.parse(bytes) == TransactionMarker(kind: .abort, coordinatorEpoch: 42))
        #expect(TransactionMarker.parse(marker(7, commit: true))?.kind == .commit)
        #expect(TransactionMarker.parse(try plainBatch(["a"])) == nil)
    }

    @Test func lastStableOffsetFollowsTheOldestOpenTransaction() throws {
        let dir = TempDir()
        let log = try PartitionLog.open(directory: dir.partition, config: LogConfig(), now: 0)
        try append(log, try plainBatch(["x"]))                  // 0
        #expect(log.lastStableOffset == 1)
        try append(log, try txnBatch(1, ["a", "b"]))            // 1-2: producer 1 opens at 1
        try append(log, try plainBatch(["y"]))                  // 3
        try append(log, try txnBatch(2, ["c"]))                 // 4: producer 2 opens at 4
        try append(log, try txnBatch(1, ["d"]))                 // 5: still producer 1's transaction
        #expect(log.highWatermark == 6)
        #expect(log.lastStableOffset == 1)
        #expect(log.ongoingTransactions == [1: 1, 2: 4])
        try append(log, marker(1, commit: true))                // 6
        #expect(log.lastStableOffset == 4)
        try append(log, marker(2, commit: false))               // 7
        #expect(log.lastStableOffset == 8 && log.ongoingTransactions.isEmpty)
        // The LSO never passes the high watermark.
        try append(log, try txnBatch(3, ["e"]))                 // 8
        try append(log, try plainBatch(["z"]))                  // 9
        log.updateHighWatermark(8)
        #expect(log.lastStableOffset == 8)
        log.updateHighWatermark(10)
        #expect(log.lastStableOffset == 8)
        // Producer 2's aborted transaction is in the index: [4, 7], LSO 8 once it completed.
        #expect(log.abortedTransactions(from: 0, upTo: 10)
            == [AbortedTransaction(producerId: 2, firstOffset: 4, lastOffset: 7, lastStableOffset: 8)])
        // Reads report it.
        #expect(try log.read(from: 0, maxBytes: 1 << 20, maxOffset: 8, minOneBatch: true).lastStableOffset == 8)
    }

    @Test func txnindexHasKafkasEntryLayout() throws {
        let dir = TempDir()
        let log = try PartitionLog.open(directory: dir.partition, config: LogConfig(), now: 0)
        try append(log, try txnBatch(5, ["a"]))                 // 0
        try append(log, try txnBatch(6, ["b"]))                 // 1
        try append(log, marker(5, commit: false))               // 2: LSO then is 1 (producer 6 open)
        try append(log, marker(6, commit: true))                // 3: commits are not indexed
        try append(log, marker(9, commit: false))               // 4: an abort with nothing open
        let bytes = readFile(segmentFile(dir.partition, 0, ".txnindex"))
        func entry(_ version: Int16, _ pid: Int64, _ first: Int64, _ last: Int64, _ lso: Int64) -> [UInt8] {
            var w = WireWriter()
            w.writeInt16(version)
            w.writeInt64(pid)
            w.writeInt64(first)
            w.writeInt64(last)
            w.writeInt64(lso)
            return w.bytes
        }
        #expect(bytes.count == 2 * 34)
        #expect(bytes == entry(0, 5, 0, 2, 1) + entry(0, 9, 4, 4, 5))
    }

    @Test func recoveryRebuildsTransactionsAndTheIndexAfterACrash() throws {
        let dir = TempDir()
        var config = LogConfig(segmentBytes: 300, indexIntervalBytes: 1)
        config.deletePolicy = false
        var log: PartitionLog? = try PartitionLog.open(directory: dir.partition, config: config, now: 0)
        try append(log!, try txnBatch(1, ["a"]))
        try append(log!, try txnBatch(2, ["b"]))
        try append(log!, try plainBatch(["c"]))
        try append(log!, marker(1, commit: false))
        try append(log!, try txnBatch(3, ["d"]))
        try append(log!, marker(3, commit: false))
        try append(log!, try txnBatch(4, ["e"]))
        let ongoing = log!.ongoingTransactions
        let aborted = log!.abortedTransactions(from: 0, upTo: .max)
        let lastStable = log!.lastStableOffset
        let bases = log!.segmentBaseOffsets
        #expect(bases.count > 1)
        #expect(ongoing == [2: 1, 4: 6] && lastStable == 1 && aborted.count == 2)
        log = nil  // a crash: nothing sealed or checkpointed

        // Every .txnindex deleted: all are rebuilt from the data.
        for base in bases { try? FileManager.default.removeItem(atPath: segmentFile(dir.partition, base, ".txnindex")) }
        log = try PartitionLog.open(directory: dir.partition, config: config, now: 0)
        log!.updateHighWatermark(log!.logEndOffset)
        #expect(log!.ongoingTransactions == ongoing)
        #expect(log!.abortedTransactions(from: 0, upTo: .max) == aborted)
        #expect(log!.lastStableOffset == lastStable)
        for base in bases { #expect(FileManager.default.fileExists(atPath: segmentFile(dir.partition, base, ".txnindex"))) }
        log = nil

        // A torn tail: the active segment loses its last batch (producer 4's data and, if it
        // were there, anything after); its index must not keep entries beyond the cut.
        let active = segmentFile(dir.partition, bases.last!, ".log")
        truncateFile(active, to: fileSize(active) - 5)
        log = try PartitionLog.open(directory: dir.partition, config: config, now: 0)
        log!.updateHighWatermark(log!.logEndOffset)
        #expect(log!.ongoingTransactions == [2: 1])
        #expect(log!.abortedTransactions(from: 0, upTo: .max) == aborted)
        #expect(log!.lastStableOffset == 1)
    }

    @Test func cleanRestartTakesOpenTransactionsFromTheCheckpoint() throws {
        let dir = TempDir()
        let checkpoint = dir.partition + "/transactions-checkpoint"
        var log = try PartitionLog.open(directory: dir.partition, config: LogConfig(), now: 0)
        try append(log, try txnBatch(1, ["a"]))                 // 0
        try append(log, try txnBatch(2, ["b"]))                 // 1
        try append(log, marker(1, commit: false))               // 2
        try log.close()
        #expect(String(decoding: readFile(checkpoint), as: UTF8.self) == "0\n3 1\n2 1\n")
        log = try PartitionLog.open(directory: dir.partition, config: LogConfig(), now: 0, cleanShutdown: true)
        #expect(!FileManager.default.fileExists(atPath: checkpoint))  // good for one start only
        #expect(log.ongoingTransactions == [2: 1])
        #expect(log.abortedTransactions(from: 0, upTo: 3).map(\.producerId) == [1])
        try log.close()
        // A checkpoint that does not match the log is ignored: the log is walked instead.
        writeFile(checkpoint, Array("0\n3 1\n7 0\n".utf8))
        log = try PartitionLog.open(directory: dir.partition, config: LogConfig(), now: 0, cleanShutdown: false)
        #expect(log.ongoingTransactions == [2: 1])
        try log.close()
        writeFile(checkpoint, Array("0\n9 1\n7 0\n".utf8))
        log = try PartitionLog.open(directory: dir.partition, config: LogConfig(), now: 0, cleanShutdown: true)
        #expect(log.ongoingTransactions == [2: 1])
    }

    @Test func truncationDropsIndexEntriesAndReopensTransactions() throws {
        let dir = TempDir()
        let log = try PartitionLog.open(directory: dir.partition, config: LogConfig(), now: 0)
        try append(log, try txnBatch(1, ["a"]))                 // 0
        try append(log, marker(1, commit: false))               // 1
        try append(log, try txnBatch(2, ["b"]))                 // 2
        try append(log, marker(2, commit: false))               // 3
        try log.truncate(to: 3)
        log.updateHighWatermark(3)
        #expect(log.ongoingTransactions == [2: 2])
        #expect(log.lastStableOffset == 2)
        #expect(log.abortedTransactions(from: 0, upTo: .max).map(\.producerId) == [1])
        #expect(fileSize(segmentFile(dir.partition, 0, ".txnindex")) == 34)
    }

    @Test func abortedTransactionsOverlappingARead() throws {
        let dir = TempDir()
        let log = try PartitionLog.open(directory: dir.partition, config: LogConfig(), now: 0)
        try append(log, try txnBatch(1, ["a"]))                 // 0
        try append(log, marker(1, commit: false))               // 1
        try append(log, try plainBatch(["b"]))                  // 2
        try append(log, try txnBatch(2, ["c"]))                 // 3
        try append(log, try plainBatch(["d"]))                  // 4
        try append(log, marker(2, commit: false))               // 5
        #expect(log.abortedTransactions(from: 0, upTo: 1).map(\.producerId) == [1])
        #expect(log.abortedTransactions(from: 2, upTo: 3).isEmpty)
        #expect(log.abortedTransactions(from: 2, upTo: 4).map(\.producerId) == [2])
        #expect(log.abortedTransactions(from: 0, upTo: 6).map(\.producerId) == [1, 2])
        #expect(log.abortedTransactions(from: 6, upTo: 6).isEmpty)
    }

    @Test func segmentDeletionTakesTheTxnindexAlong() throws {
        let dir = TempDir()
        var config = LogConfig(segmentBytes: 200, indexIntervalBytes: 1)
        config.fileDeleteDelayMs = 0
        let log = try PartitionLog.open(directory: dir.partition, config: config, now: 0)
        try append(log, try txnBatch(1, ["a"]))
        try append(log, marker(1, commit: false))
        for _ in 0..<4 { try append(log, try plainBatch(["x"])) }
        let first = log.segmentBaseOffsets[0]
        #expect(log.segmentBaseOffsets.count > 1)
        try log.deleteRecords(before: log.segmentBaseOffsets[1])
        try log.applyRetention(now: 10_000)
        #expect(!FileManager.default.fileExists(atPath: segmentFile(dir.partition, first, ".txnindex")))
        #expect(!FileManager.default.fileExists(atPath: segmentFile(dir.partition, first, ".txnindex.deleted")))
    }

    @Test func compactionRemovesAbortedDataAndKeepsCommitted() throws {
        let dir = TempDir()
        let now: Int64 = 100_000
        let log = try PartitionLog.open(directory: dir.partition, config: compactingConfig(), now: now)
        try append(log, try plainBatch(["k"], value: "committed-1"))
        try append(log, try txnBatch(1, ["k"], value: "aborted"))
        try append(log, marker(1, commit: false))
        try append(log, try txnBatch(2, ["m"], value: "committed-2"))
        try append(log, marker(2, commit: true))
        for _ in 0..<4 { try append(log, try plainBatch(["z"], value: "tail")) }
        let result = try #require(try log.compact(now: now))
        #expect(result.recordsRemoved >= 1)
        var values: [String: [String]] = [:]
        var offset = log.logStartOffset
        while offset < log.logEndOffset {
            let read = try log.read(from: offset, maxBytes: 1 << 20, maxOffset: log.logEndOffset, minOneBatch: true)
            if read.records.isEmpty { break }
            for (start, header) in RecordBatches.batches(in: read.records) {
                if !header.isControl {
                    for r in try RecordBatches.records(in: read.records, batchStart: start, maxDecompressedSize: 1 << 20) {
                        values[String(decoding: r.key ?? [], as: UTF8.self), default: []]
                            .append(String(decoding: r.value ?? [], as: UTF8.self))
                    }
                }
                offset = header.lastOffset + 1
            }
        }
        // The aborted write of "k" neither survives nor shadows the committed one.
        #expect(values["k"] == ["committed-1"])
        #expect(values["m"] == ["committed-2"])
    }

    @Test func compactionRemovesMarkersOnceTheirDataIsGoneAndDeleteRetentionPassed() throws {
        let dir = TempDir()
        var config = compactingConfig()
        config.segmentBytes = 1_000
        config.deleteRetentionMs = 10_000
        let log = try PartitionLog.open(directory: dir.partition, config: config, now: 0)
        try append(log, try txnBatch(1, ["k"], value: "aborted"))
        try append(log, marker(1, commit: false))                // data removed: marker may go
        try append(log, try txnBatch(2, ["m"], value: "m1"))
        try append(log, marker(2, commit: true))                 // data kept: marker stays
        try append(log, try txnBatch(3, ["n"], value: "n1"))
        try append(log, marker(3, commit: true))                 // data superseded below: marker may go
        try append(log, try plainBatch(["n"], value: "n2"))
        func fill() throws {
            let segments = log.segmentBaseOffsets.count
            while log.segmentBaseOffsets.count < segments + 1 { try append(log, try plainBatch(["z"], value: "tail")) }
        }
        func markers() throws -> [Int64] {
            var found: [Int64] = []
            var offset = log.logStartOffset
            while offset < log.logEndOffset {
                let read = try log.read(from: offset, maxBytes: 1 << 20, maxOffset: log.logEndOffset, minOneBatch: true)
                if read.records.isEmpty { break }
                for (_, header) in RecordBatches.batches(in: read.records) {
                    if header.isControl { found.append(header.producerId) }
                    offset = header.lastOffset + 1
                }
            }
            return found
        }
        try fill()
        #expect(try log.compact(now: 2_000) != nil)
        #expect(try markers() == [1, 2, 3])                      // younger than delete.retention.ms
        try fill()
        #expect(try log.compact(now: 1_000 + 10_001) != nil)
        #expect(try markers() == [2])
        // Recovery agrees: no transaction is left open by the removals.
        try log.close()
        let reopened = try PartitionLog.open(directory: dir.partition, config: config, now: 0)
        #expect(reopened.ongoingTransactions.isEmpty)
    }

    @Test func anEmptiedAbortedBatchLeftAtASegmentEndDoesNotReopenItsTransaction() throws {
        let plain = try plainBatch(["x"], value: "p")
        let data = try txnBatch(1, ["k"], value: "aborted")
        let abort = marker(1, commit: false)
        var config = compactingConfig()
        // Segment 1: plain, data (the marker does not fit); segment 2: marker, plain; then fillers.
        config.segmentBytes = max(plain.count + data.count, abort.count + plain.count)
        config.deleteRetentionMs = 10_000
        let dir = TempDir()
        let log = try PartitionLog.open(directory: dir.partition, config: config, now: 0)
        for batch in [plain, data, abort, plain, plain, plain, plain] { try append(log, batch) }
        #expect(log.segmentBaseOffsets.count >= 3 && log.segmentBaseOffsets[1] == 2)
        #expect(try log.compact(now: 1_000 + 10_001) != nil)
        #expect(log.ongoingTransactions.isEmpty)
        // The marker went; the emptied data batch stays as segment 1's last batch.
        let stored = try headers(readAll(log))
        #expect(!stored.contains { $0.isControl })
        #expect(stored.contains { $0.isTransactional && $0.recordsCount == 0 })
        try log.close()
        let reopened = try PartitionLog.open(directory: dir.partition, config: config, now: 0)
        #expect(reopened.ongoingTransactions.isEmpty)
        #expect(reopened.lastStableOffset == reopened.highWatermark)
    }

    @Test func compactionStopsAtTheLastStableOffset() throws {
        let dir = TempDir()
        let log = try PartitionLog.open(directory: dir.partition, config: compactingConfig(), now: 0)
        try append(log, try txnBatch(1, ["k"], value: "open"))
        for _ in 0..<4 { try append(log, try plainBatch(["k"], value: "later")) }
        #expect(log.lastStableOffset == 0)
        #expect(try log.compact(now: 0) == nil)
    }
}
