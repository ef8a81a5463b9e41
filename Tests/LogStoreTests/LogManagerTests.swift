// Goal: LogManager finds partitions at start, creates and deletes them with Kafka's directory
// names, handles the clean-shutdown marker, and runs flush.ms/retention from tick. Method: a temp
// log dir, reopened between steps.
import Foundation
import Testing
@testable import LogStore

@Suite struct LogManagerTests {
    @Test func partitionsPersistAcrossRestartsWithTheCleanShutdownMarker() throws {
        let dir = TempDir()
        let manager = try LogManager(directory: dir.path, now: 0)
        #expect(!manager.hadCleanShutdown)
        let orders = try manager.createPartition(topic: "my-orders", partition: 3, config: LogConfig(), now: 0)
        try manager.createPartition(topic: "audit", partition: 0, config: LogConfig(), now: 0)
        #expect(throws: LogStoreError.partitionExists(topic: "audit", partition: 0)) {
            try manager.createPartition(topic: "audit", partition: 0, config: LogConfig(), now: 0)
        }
        let stamped = try appendAll(orders, [makeBatch(count: 2), makeBatch(count: 3)])
        try manager.close()
        #expect(FileManager.default.fileExists(atPath: dir.path + "/.kafka_cleanshutdown"))

        let reopened = try LogManager(directory: dir.path, now: 0)
        #expect(reopened.hadCleanShutdown)
        // The marker is consumed at start, so a crash from here on counts as unclean.
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/.kafka_cleanshutdown"))
        #expect(Set(reopened.logs.keys) == [TopicPartition(topic: "my-orders", partition: 3),
                                            TopicPartition(topic: "audit", partition: 0)])
        let log = try #require(reopened.log(topic: "my-orders", partition: 3))
        #expect(try readAll(log) == stamped.reduce([], +))

        // Without close(), the next start is unclean and still recovers everything.
        try appendAll(log, [makeBatch()])
        let afterCrash = try LogManager(directory: dir.path, now: 0)
        #expect(!afterCrash.hadCleanShutdown)
        #expect(afterCrash.log(topic: "my-orders", partition: 3)?.logEndOffset == 6)
    }

    @Test func deletePartitionRemovesTheDirectory() throws {
        let dir = TempDir()
        let manager = try LogManager(directory: dir.path, now: 0)
        let log = try manager.createPartition(topic: "t", partition: 0, config: LogConfig(), now: 0)
        try appendAll(log, [makeBatch()])
        try manager.deletePartition(topic: "t", partition: 0)
        #expect(manager.log(topic: "t", partition: 0) == nil)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
        #expect(throws: LogStoreError.closed) { try appendAll(log, [makeBatch()]) }
        #expect(throws: LogStoreError.unknownPartition(topic: "t", partition: 0)) {
            try manager.deletePartition(topic: "t", partition: 0)
        }
        // A deletion interrupted after the rename is finished at the next start.
        try FileManager.default.createDirectory(atPath: dir.path + "/t-1.0123abcd-delete",
                                                withIntermediateDirectories: false)
        writeFile(dir.path + "/t-1.0123abcd-delete/00000000000000000000.log", [1, 2])
        _ = try LogManager(directory: dir.path, now: 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }

    @Test func tickFlushesAndAppliesRetention() throws {
        let dir = TempDir()
        let manager = try LogManager(directory: dir.path, now: 0, retentionCheckIntervalMs: 1_000)
        let batchSize = makeBatch().count
        let config = LogConfig(segmentBytes: batchSize * 2, flushMs: 500, retentionMs: 100, fileDeleteDelayMs: 0)
        let log = try manager.createPartition(topic: "t", partition: 0, config: config, now: 0)
        try appendAll(log, (0..<6).map { _ in makeBatch(baseTimestamp: 0) }, now: 0)
        log.updateHighWatermark(6)
        try manager.tick(now: 600)  // flush due, retention not yet
        #expect(log.segmentBaseOffsets == [0, 2, 4])
        // The lazily persisted high watermark was checkpointed by the tick.
        #expect(String(decoding: readFile(log.directory + "/log-offsets-checkpoint"), as: UTF8.self)
            == "0\nlog_start_offset 0\nhigh_watermark 6\n")
        try manager.tick(now: 1_000)
        #expect(log.segmentBaseOffsets == [6])
        #expect(log.logStartOffset == 6)
    }
}
