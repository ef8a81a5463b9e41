// Goal: appends assign offsets, stamp batches and land in Kafka's segment layout; reads return
// whole batches with Kafka's containing-batch, maxBytes, minOneBatch and maxOffset rules; rolls
// and index lookups behave. Method: hand-built batches in temp dirs, checked against the files.
import Foundation
import KafkaProtocol
import Testing
@testable import LogStore

@Suite struct AppendReadTests {
    @Test func offsetsAssignedAndBatchesStampedInPlace() throws {
        let dir = TempDir()
        let log = try PartitionLog.open(directory: dir.partition, config: LogConfig(), now: 0)
        var first = makeBatch(count: 3)
        let info1 = try log.append(&first, leaderEpoch: 7, now: 0)
        var second = makeBatch(count: 2, baseTimestamp: 5_000) + makeBatch(count: 4, baseTimestamp: 4_000)
        let info2 = try log.append(&second, leaderEpoch: 7, now: 0)

        #expect(info1 == AppendInfo(firstOffset: 0, lastOffset: 2, maxTimestamp: 1_002, offsetOfMaxTimestamp: 2,
                                    logStartOffset: 0))
        #expect(info2 == AppendInfo(firstOffset: 3, lastOffset: 8, maxTimestamp: 5_001, offsetOfMaxTimestamp: 4,
                                    logStartOffset: 0))
        let stamped = try headers(second)
        #expect(stamped.map(\.baseOffset) == [3, 5])
        #expect(stamped.map(\.partitionLeaderEpoch) == [7, 7])
        #expect(try crcsValid(first + second))
        #expect(log.logEndOffset == 9)
        // The file holds exactly the stamped bytes.
        #expect(readFile(segmentFile(dir.partition, 0, ".log")) == first + second)
        #expect(try readAll(log) == first + second)
    }

    @Test func roundTripAcrossSegmentsAndReadsFromEveryOffset() throws {
        let dir = TempDir()
        let config = LogConfig(segmentBytes: 1_000, indexIntervalBytes: 100)
        let log = try PartitionLog.open(directory: dir.partition, config: config, now: 0)
        let batches = (0..<40).map { makeBatch(count: 1 + $0 % 4, baseTimestamp: Int64(1_000 + $0 * 10)) }
        let stamped = try appendAll(log, batches)
        #expect(log.segmentBaseOffsets.count >= 4)
        #expect(try readAll(log) == stamped.reduce([], +))

        // Every offset reads back the batch that contains it.
        let all = stamped.flatMap { try! headers($0) }
        for offset in 0..<log.logEndOffset {
            let result = try log.read(from: offset, maxBytes: 1, maxOffset: .max, minOneBatch: true)
            let header = try #require(try headers(result.records).first)
            #expect(header.baseOffset <= offset && offset <= header.lastOffset)
            #expect(all.contains(header))
        }
        // Segment files are named by base offset and each starts with the batch at that offset.
        for base in log.segmentBaseOffsets {
            let bytes = readFile(segmentFile(dir.partition, base, ".log"))
            #expect(bytes.count <= config.segmentBytes)
            if !bytes.isEmpty { #expect(try RecordBatchHeader(from: bytes).baseOffset == base) }
        }
    }

    @Test func readFromMiddleOfBatchReturnsContainingBatch() throws {
        let dir = TempDir()
        let log = try PartitionLog.open(directory: dir.partition, config: LogConfig(), now: 0)
        let stamped = try appendAll(log, [makeBatch(count: 3), makeBatch(count: 3), makeBatch(count: 3)])
        let result = try log.read(from: 4, maxBytes: 1 << 20, maxOffset: .max, minOneBatch: false)
        #expect(result.records == stamped[1] + stamped[2])
        #expect(result.nextOffset == 9)
        #expect(result.region?.position == stamped[0].count)
        #expect(result.region?.length == stamped[1].count + stamped[2].count)
    }

    @Test func maxBytesMinOneBatchAndMaxOffset() throws {
        let dir = TempDir()
        let log = try PartitionLog.open(directory: dir.partition, config: LogConfig(), now: 0)
        let stamped = try appendAll(log, (0..<4).map { _ in makeBatch(count: 2, valueSize: 50) })
        let size = stamped[0].count

        // Smaller than one batch: nothing, unless minOneBatch, then exactly that batch.
        #expect(try log.read(from: 0, maxBytes: size - 1, maxOffset: .max, minOneBatch: false).records.isEmpty)
        #expect(try log.read(from: 0, maxBytes: size - 1, maxOffset: .max, minOneBatch: true).records == stamped[0])
        // Two and a half batches of room: two whole batches.
        let partial = try log.read(from: 2, maxBytes: size * 5 / 2, maxOffset: .max, minOneBatch: false)
        #expect(partial.records == stamped[1] + stamped[2])
        #expect(partial.nextOffset == 6)
        // maxOffset is exclusive and whole-batch: high watermark 5 stops before the batch 4...5.
        log.updateHighWatermark(5)
        #expect(log.highWatermark == 5)
        let committed = try log.read(from: 0, maxBytes: 1 << 20, maxOffset: log.highWatermark, minOneBatch: true)
        #expect(committed.records == stamped[0] + stamped[1])
        #expect(committed.highWatermark == 5 && committed.logEndOffset == 8)
        #expect(try log.read(from: 4, maxBytes: 1 << 20, maxOffset: 4, minOneBatch: true).records.isEmpty)
    }

    @Test func offsetsOutOfRange() throws {
        let dir = TempDir()
        let log = try PartitionLog.open(directory: dir.partition, config: LogConfig(), now: 0)
        try appendAll(log, [makeBatch(count: 2)])
        #expect(try log.read(from: 2, maxBytes: 100, maxOffset: .max, minOneBatch: true).records.isEmpty)
        #expect(throws: LogStoreError.offsetOutOfRange(requested: 3, logStartOffset: 0, logEndOffset: 2)) {
            try log.read(from: 3, maxBytes: 100, maxOffset: .max, minOneBatch: true)
        }
        #expect(throws: LogStoreError.offsetOutOfRange(requested: -1, logStartOffset: 0, logEndOffset: 2)) {
            try log.read(from: -1, maxBytes: 100, maxOffset: .max, minOneBatch: true)
        }
    }

    @Test func rollsBySizeTimeAndIndexCapacity() throws {
        let dir = TempDir()
        let batch = makeBatch(count: 1)
        // Size: three batches fit, the fourth rolls.
        let bySize = try PartitionLog.open(directory: dir.path + "/size-0",
                                           config: LogConfig(segmentBytes: batch.count * 3), now: 0)
        try appendAll(bySize, Array(repeating: batch, count: 7))
        #expect(bySize.segmentBaseOffsets == [0, 3, 6])

        // Time: a batch more than segment.ms newer than the segment's first batch rolls.
        let byTime = try PartitionLog.open(directory: dir.path + "/time-0", config: LogConfig(segmentMs: 1_000), now: 0)
        try appendAll(byTime, [makeBatch(baseTimestamp: 10_000), makeBatch(baseTimestamp: 11_000),
                               makeBatch(baseTimestamp: 11_001), makeBatch(baseTimestamp: 11_500)])
        #expect(byTime.segmentBaseOffsets == [0, 2])

        // Index capacity: room for three offset entries; with interval 0 every batch after the
        // first gets one, so the fifth batch rolls.
        let byIndex = try PartitionLog.open(directory: dir.path + "/index-0",
                                            config: LogConfig(segmentIndexBytes: 24, indexIntervalBytes: 0), now: 0)
        try appendAll(byIndex, Array(repeating: batch, count: 6))
        #expect(byIndex.segmentBaseOffsets == [0, 4])
        #expect(fileSize(segmentFile(byIndex.directory, 0, ".index")) == 24)

        // A single append larger than a segment is refused.
        var huge = makeBatch(count: 1, valueSize: 200)
        #expect(throws: LogStoreError.appendTooLarge(size: huge.count, segmentBytes: batch.count * 3)) {
            try bySize.append(&huge, leaderEpoch: 0, now: 0)
        }
    }

    @Test func sparseIndexEntriesPointAtBatchStarts() throws {
        let dir = TempDir()
        let log = try PartitionLog.open(directory: dir.partition, config: LogConfig(indexIntervalBytes: 200), now: 0)
        let stamped = try appendAll(log, (0..<30).map { makeBatch(count: 1 + $0 % 3, valueSize: 40) })
        try log.flush()
        let index = readFile(segmentFile(dir.partition, 0, ".index"))
        #expect(index.count % 8 == 0 && index.count > 8 * 3)
        let data = readFile(segmentFile(dir.partition, 0, ".log"))
        var previous: Int32 = -1
        var lastPosition = -1
        for entry in stride(from: 0, to: index.count, by: 8) {
            let relative = index[entry..<entry + 4].reduce(Int32(0)) { $0 << 8 | Int32($1) }
            let position = Int(index[entry + 4..<entry + 8].reduce(Int32(0)) { $0 << 8 | Int32($1) })
            #expect(relative > previous)
            // Entries are at least index.interval.bytes apart and name the last offset of that batch.
            #expect(lastPosition < 0 || position - lastPosition > 200)
            let header = try RecordBatchHeader(from: data, at: position)
            #expect(header.lastOffset == Int64(relative))
            previous = relative
            lastPosition = position
        }
        #expect(stamped.reduce(0) { $0 + $1.count } == data.count)
    }

    @Test func timestampLookups() throws {
        let dir = TempDir()
        let config = LogConfig(segmentBytes: 600, indexIntervalBytes: 50)
        let log = try PartitionLog.open(directory: dir.partition, config: config, now: 0)
        // Batch i holds 3 records with timestamps 100*i + {0, 10, 20}; batch 5 goes backwards.
        var batches = (0..<12).map { (i: Int) -> [UInt8] in
            let base = Int64(100 * i)
            return makeBatch(count: 3, timestamps: [base, base + 10, base + 20])
        }
        batches[5] = makeBatch(count: 3, timestamps: [50, 60, 70])
        try appendAll(log, batches)
        #expect(log.segmentBaseOffsets.count > 2)

        #expect(try log.offsetForTimestamp(0)! == (0, 0))
        #expect(try log.offsetForTimestamp(305)! == (10, 310))  // record-exact inside batch 3
        #expect(try log.offsetForTimestamp(420)! == (14, 420))
        #expect(try log.offsetForTimestamp(421)! == (18, 600))  // batch 5 (t 50..70) is skipped
        #expect(try log.offsetForTimestamp(1_120)! == (35, 1_120))
        #expect(try log.offsetForTimestamp(1_121) == nil)
        let max = try #require(try log.maxTimestampOffset())
        #expect(max == (35, 1_120))
    }

    @Test func logAppendTimeBatchesAnswerWithTheirFirstOffset() throws {
        let dir = TempDir()
        let log = try PartitionLog.open(directory: dir.partition, config: LogConfig(), now: 0)
        try appendAll(log, [makeBatch(count: 2, timestamps: [5, 9], attributes: 0x8),
                            makeBatch(count: 2, timestamps: [20, 30], attributes: 0x8)])
        #expect(try log.offsetForTimestamp(10)! == (2, 30))
        #expect(try log.maxTimestampOffset()! == (2, 30))
    }
}
