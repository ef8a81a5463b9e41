// The produce path's header rewrites (Kafka's LogValidator): batches whose header fields disagree
// with their records, built by hand, then appended to a real log and looked up by timestamp.
import Compression
import Foundation
import KafkaProtocol
import LogStore
import Testing
@testable import Broker

@Suite struct ProduceValidationHeaderTests {
    static let createTime = ProducePolicy(maxMessageBytes: 1 << 20, logAppendTime: false,
                                          timestampBeforeMaxMs: .max, timestampAfterMaxMs: .max,
                                          compressionType: "producer", compacted: false)

    /// Three records at 1_000, 1_050 and 1_020, so the largest is not the last.
    static func batch(codec: CompressionCodec = .none) throws -> [UInt8] {
        var builder = RecordBatchBuilder(codec: codec)
        for (i, stamp) in [Int64(1_000), 1_050, 1_020].enumerated() {
            builder.append(key: nil, value: [UInt8(i)], timestamp: stamp)
        }
        return try builder.build()
    }

    /// What sarama 1.22 sends: maxTimestamp unset (-1; zero time encodes so), with a matching CRC.
    static func saramaLike(codec: CompressionCodec = .none) throws -> [UInt8] {
        var bytes = try batch(codec: codec)
        #expect(RecordBatches.stampMaxTimestamp(-1, type: .createTime, in: &bytes, batchStart: 0))
        return bytes
    }

    static func header(_ bytes: [UInt8]) throws -> RecordBatchHeader { try RecordBatchHeader(from: bytes, at: 0) }

    static func crcMatches(_ bytes: [UInt8]) throws -> Bool {
        let h = try header(bytes)
        return RecordBatchHeader.computeCRC(bytes, batchStart: 0, totalSize: h.totalSize) == h.crc
    }

    @Test(arguments: [CompressionCodec.none, .lz4])
    func createTimeMaxTimestampComesFromTheRecords(codec: CompressionCodec) throws {
        var bytes = try Self.saramaLike(codec: codec)
        let sent = bytes
        guard case .success(let returned) = ProduceValidation.prepare(&bytes, policy: Self.createTime, now: 5_000)
        else { Issue.record("refused"); return }
        let stored = try Self.header(bytes)
        #expect(stored.maxTimestamp == 1_050 && returned.maxTimestamp == 1_050)
        #expect(!stored.isLogAppendTime && stored.baseTimestamp == 1_000)
        #expect(try Self.crcMatches(bytes))
        // Only the maxTimestamp and CRC bytes changed; the records are as sent.
        #expect(sent.count == bytes.count)
        let changed = sent.indices.filter { sent[$0] != bytes[$0] }
        let allowed = Set(RecordBatchHeader.Field.crc..<(RecordBatchHeader.Field.crc + 4))
            .union(RecordBatchHeader.Field.maxTimestamp..<(RecordBatchHeader.Field.maxTimestamp + 8))
        #expect(!changed.isEmpty && changed.allSatisfy(allowed.contains))
        #expect(try RecordBatches.records(in: bytes, batchStart: 0, maxDecompressedSize: 1 << 20)
                    == RecordBatches.records(in: sent, batchStart: 0, maxDecompressedSize: 1 << 20))
    }

    @Test func aMaxTimestampTooHighIsLoweredToo() throws {
        var bytes = try Self.batch()
        RecordBatches.stampMaxTimestamp(9_999_999, type: .createTime, in: &bytes, batchStart: 0)
        guard case .success = ProduceValidation.prepare(&bytes, policy: Self.createTime, now: 0)
        else { Issue.record("refused"); return }
        #expect(try Self.header(bytes).maxTimestamp == 1_050 && Self.crcMatches(bytes))
    }

    @Test func aCorrectBatchIsNotCopiedOrChanged() throws {
        var bytes = try Self.batch()
        let sent = bytes
        let before = bytes.withUnsafeBufferPointer { $0.baseAddress }
        guard case .success = ProduceValidation.prepare(&bytes, policy: Self.createTime, now: 0)
        else { Issue.record("refused"); return }
        #expect(bytes == sent)
        #expect(bytes.withUnsafeBufferPointer { $0.baseAddress } == before)
    }

    @Test func logAppendTimeTopicsGetTheBrokerClock() throws {
        var policy = Self.createTime
        policy.logAppendTime = true
        var bytes = try Self.saramaLike()
        guard case .success(let returned) = ProduceValidation.prepare(&bytes, policy: policy, now: 77_000)
        else { Issue.record("refused"); return }
        let stored = try Self.header(bytes)
        #expect(stored.isLogAppendTime && stored.maxTimestamp == 77_000 && returned.maxTimestamp == 77_000)
        #expect(try Self.crcMatches(bytes))
    }

    @Test func recompressedBatchesCarryTheComputedMaxTimestamp() throws {
        var policy = Self.createTime
        policy.compressionType = "zstd"
        var bytes = try Self.saramaLike()
        guard case .success = ProduceValidation.prepare(&bytes, policy: policy, now: 0)
        else { Issue.record("refused"); return }
        let stored = try Self.header(bytes)
        #expect(stored.compressionCodec == CompressionCodec.zstd.rawValue && stored.maxTimestamp == 1_050)
        #expect(try Self.crcMatches(bytes))
    }

    /// The header fields Kafka refuses instead of rewriting, with its error codes.
    @Test func headerFieldsThatDisagreeWithTheRecordsAreRefused() throws {
        func put(_ value: some FixedWidthInteger, at offset: Int) -> (inout [UInt8]) -> Void {
            { bytes in
                let big = withUnsafeBytes(of: value.bigEndian) { Array($0) }
                bytes.replaceSubrange(offset..<(offset + big.count), with: big)
            }
        }
        func refusal(_ edit: (inout [UInt8]) -> Void, policy: ProducePolicy = Self.createTime) throws -> KafkaError? {
            var bytes = try Self.batch()
            edit(&bytes)
            // Fix the CRC so that the check under test is the one that fires.
            let h = try Self.header(bytes)
            put(RecordBatchHeader.computeCRC(bytes, batchStart: 0, totalSize: h.totalSize),
                at: RecordBatchHeader.Field.crc)(&bytes)
            if case .failure(let failure) = ProduceValidation.prepare(&bytes, policy: policy, now: 1_000) {
                return failure.error
            }
            return nil
        }
        let field = RecordBatchHeader.Field.self
        #expect(try refusal(put(Int64(5), at: field.baseOffset)) == .invalidRecord)
        #expect(try refusal(put(Int32(7), at: field.lastOffsetDelta)) == .invalidRecord)
        // Count and last offset delta agree with each other but not with the three records.
        #expect(try refusal { bytes in
            put(Int32(4), at: field.recordsCount)(&bytes)
            put(Int32(3), at: field.lastOffsetDelta)(&bytes)
        } == .invalidRecord)
        #expect(try refusal { bytes in
            put(Int32(2), at: field.recordsCount)(&bytes)
            put(Int32(1), at: field.lastOffsetDelta)(&bytes)
        } == .invalidRecord)
        // A client may not claim LogAppendTime.
        #expect(try refusal(put(BatchAttributes.logAppendTime, at: field.attributes)) == .invalidTimestamp)
        // Record timestamps outside message.timestamp.before/after.max.ms (now is 1_000).
        var bounded = Self.createTime
        bounded.timestampAfterMaxMs = 40
        #expect(try refusal({ _ in }, policy: bounded) == .invalidTimestamp)
        bounded = Self.createTime
        bounded.timestampBeforeMaxMs = 0
        #expect(try refusal({ _ in }, policy: bounded) == nil)
        #expect(try refusal(put(Int64(900), at: field.baseTimestamp), policy: bounded) == .invalidTimestamp)
        // The maxTimestamp and partition leader epoch a client sends are overwritten, never refused.
        #expect(try refusal(put(Int64(-1), at: field.maxTimestamp)) == nil)
        #expect(try refusal(put(Int32(42), at: field.partitionLeaderEpoch)) == nil)
    }

    /// The whole path: a sarama-like batch appended to a log is found by timestamp, and the
    /// stored leader epoch is the partition's, not the client's.
    @Test func listOffsetsByTimestampFindsRecordsOfASaramaLikeBatch() throws {
        let dir = makeTemporaryDirectory("produce-validation")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let log = try PartitionLog.open(directory: dir, config: LogConfig(), now: 0)
        for _ in 0..<2 {
            var bytes = try Self.saramaLike()
            bytes.setBatchLeaderEpoch(42, batchStart: 0)
            guard case .success = ProduceValidation.prepare(&bytes, policy: Self.createTime, now: 0)
            else { Issue.record("refused"); return }
            _ = try log.append(&bytes, leaderEpoch: 3, now: 0)
        }
        #expect(try log.offsetForTimestamp(1_001)! == (1, 1_050))
        #expect(try log.offsetForTimestamp(1_030)! == (1, 1_050))
        #expect(try log.offsetForTimestamp(1_051) == nil)
        #expect(try log.maxTimestampOffset()! == (1, 1_050))
        let read = try log.read(from: 0, maxBytes: 1 << 20, maxOffset: .max, minOneBatch: true)
        for (_, header) in RecordBatches.batches(in: read.records) {
            #expect(header.partitionLeaderEpoch == 3 && header.maxTimestamp == 1_050)
        }
    }
}
