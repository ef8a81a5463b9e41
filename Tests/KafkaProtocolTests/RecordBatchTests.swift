import Testing
import Compression
@testable import KafkaProtocol

/// A two-record batch written byte by byte from RECORDS.md, independent of the builder.
/// Record 0: key "k", value "v", timestamp 1000. Record 1: null key, value "x", header
/// ("h", null), timestamp 1005. The CRC was computed with a bitwise CRC-32C outside this project.
let goldenBatch: [UInt8] = [
    0, 0, 0, 0, 0, 0, 0, 0,  // baseOffset 0
    0, 0, 0, 0x45,  // batchLength 69 = 81 - 12
    0xFF, 0xFF, 0xFF, 0xFF,  // partitionLeaderEpoch -1
    0x02,  // magic
    0x42, 0x46, 0xAB, 0x87,  // CRC-32C of bytes 21..<81
    0x00, 0x00,  // attributes: no compression, CreateTime
    0, 0, 0, 1,  // lastOffsetDelta 1
    0, 0, 0, 0, 0, 0, 0x03, 0xE8,  // baseTimestamp 1000
    0, 0, 0, 0, 0, 0, 0x03, 0xED,  // maxTimestamp 1005
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,  // producerId -1
    0xFF, 0xFF,  // producerEpoch -1
    0xFF, 0xFF, 0xFF, 0xFF,  // baseSequence -1
    0, 0, 0, 2,  // recordsCount 2
    // record 0: length 8 (zig-zag 0x10), attributes, tsDelta 0, offsetDelta 0, key len 1, "k", value len 1, "v", 0 headers
    0x10, 0x00, 0x00, 0x00, 0x02, 0x6B, 0x02, 0x76, 0x00,
    // record 1: length 10, attributes, tsDelta 5, offsetDelta 1, key null, value len 1, "x", 1 header: key "h", value null
    0x14, 0x00, 0x0A, 0x02, 0x01, 0x02, 0x78, 0x02, 0x02, 0x68, 0x01,
]

let goldenRecords = [
    Record(offsetDelta: 0, timestampDelta: 0, key: [0x6B], value: [0x76]),
    Record(offsetDelta: 1, timestampDelta: 5, key: nil, value: [0x78], headers: [RecordHeader(key: "h", value: nil)]),
]

/// Recomputes the CRC after a test edits a batch, so that the check under test is the one that fires.
func fixCRC(_ bytes: inout [UInt8], at start: Int = 0) {
    let header = try! RecordBatchHeader(from: bytes, at: start)
    bytes.putBigEndian(RecordBatchHeader.computeCRC(bytes, batchStart: start, totalSize: header.totalSize),
                       at: start + RecordBatchHeader.Field.crc)
}

func validate(
    _ bytes: [UInt8], maxBatchBytes: Int = 1 << 20, now: Int64 = 0, before: Int64 = .max, after: Int64 = .max,
    type: TimestampType = .createTime, compacted: Bool = false, maxDecompressed: Int = 64 << 20,
    origin: AppendOrigin = .client
) -> Result<ValidatedBatches, BatchValidationError> {
    RecordBatches.validateForAppend(
        bytes, maxBatchBytes: maxBatchBytes, now: now, timestampBeforeMaxMs: before, timestampAfterMaxMs: after,
        topicTimestampType: type, compactedTopic: compacted, maxDecompressedBytes: maxDecompressed, origin: origin)
}

func errorCode(_ r: Result<ValidatedBatches, BatchValidationError>) -> Int16? {
    if case .failure(let e) = r { return e.code }
    return nil
}

func appendGoldenRecords(_ b: inout RecordBatchBuilder) {
    b.append(key: [0x6B], value: [0x76], timestamp: 1000)
    b.append(key: nil, value: [0x78], headers: [RecordHeader(key: "h", value: nil)], timestamp: 1005)
}

func goldenBuilder(codec: CompressionCodec = .none) -> RecordBatchBuilder {
    var b = RecordBatchBuilder(codec: codec)
    appendGoldenRecords(&b)
    return b
}

func build(_ builder: RecordBatchBuilder) throws -> [UInt8] {
    var b = builder
    return try b.build()
}

@Suite struct RecordCRC32C {
    @Test func knownAnswers() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        // RFC 3720 B.4 vectors.
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum(Array((0..<32).map { UInt8($0) })) == 0x46DD_794E)
    }

    @Test func goldenBatchCRC() {
        #expect(RecordBatchHeader.computeCRC(goldenBatch, batchStart: 0, totalSize: goldenBatch.count) == 0x4246_AB87)
    }
}

@Suite struct RecordBatchGolden {
    @Test func builderMatchesHandWrittenBytes() throws {
        #expect(try build(goldenBuilder()) == goldenBatch)
    }

    @Test func builderIsReusableAfterBuild() throws {
        var b = RecordBatchBuilder(estimatedRecordBytes: 4)  // also forces the buffer to grow
        appendGoldenRecords(&b)
        #expect(try b.build() == goldenBatch)
        #expect(b.recordCount == 0 && b.uncompressedSize == 61)
        appendGoldenRecords(&b)
        #expect(try b.build() == goldenBatch)
    }

    @Test func decoderReadsHandWrittenBytes() throws {
        let header = try RecordBatchHeader(from: goldenBatch)
        #expect(header.totalSize == 81 && header.recordsCount == 2 && header.lastOffsetDelta == 1)
        #expect(header.baseTimestamp == 1000 && header.maxTimestamp == 1005 && header.producerId == -1)
        #expect(try RecordBatches.records(in: goldenBatch, batchStart: 0, maxDecompressedSize: 1 << 20) == goldenRecords)
    }

    @Test func validatorAcceptsHandWrittenBytes() throws {
        let v = try validate(goldenBatch).get()
        #expect(v.totalRecords == 2 && v.batches.count == 1)
        let b = v.batches[0]
        #expect(b.start == 0 && b.totalSize == 81 && b.recordCount == 2)
        #expect(b.maxTimestamp == 1005 && b.maxRecordTimestamp == 1005)
        #expect(b.producerId == -1 && b.producerEpoch == -1 && b.baseSequence == -1)
        #expect(!b.isTransactional && !b.isControl)
    }
}

@Suite struct RecordBatchRoundTrip {
    static func sampleRecords() -> [(key: [UInt8]?, value: [UInt8]?, headers: [RecordHeader], ts: Int64)] {
        (0..<500).map { i in
            let key: [UInt8]? = i % 7 == 0 ? nil : Array("key-\(i)".utf8)
            let value: [UInt8]? = i % 11 == 0 ? nil : Array(repeating: UInt8(truncatingIfNeeded: i), count: i * 13 % 700)
            let headers = i % 3 == 0 ? [RecordHeader(key: "trace", value: Array("id-\(i)".utf8)),
                                        RecordHeader(key: "ünïcode", value: nil), RecordHeader(key: "", value: [])] : []
            return (key, value, headers, 1_700_000_000_000 + Int64(i * 3) - (i % 5 == 0 ? 50 : 0))
        }
    }

    @Test(arguments: CompressionCodec.allCases)
    func buildValidateDecode(codec: CompressionCodec) throws {
        let input = Self.sampleRecords()
        var b = RecordBatchBuilder(codec: codec, isTransactional: true, producerId: 42, producerEpoch: 3, baseSequence: 100)
        for r in input { b.append(key: r.key, value: r.value, headers: r.headers, timestamp: r.ts) }
        let bytes = try b.build()

        let header = try RecordBatchHeader(from: bytes)
        #expect(header.compressionCodec == codec.rawValue)
        #expect(header.baseTimestamp == input[0].ts)
        let maxTs = input.map(\.ts).max()!
        #expect(header.maxTimestamp == maxTs)

        let v = try validate(bytes, maxBatchBytes: 10 << 20, now: 1_700_000_000_000, before: 60_000, after: 60_000).get()
        #expect(v.totalRecords == input.count)
        #expect(v.batches[0].maxRecordTimestamp == maxTs)
        #expect(v.batches[0].isTransactional && v.batches[0].producerId == 42)
        #expect(v.batches[0].producerEpoch == 3 && v.batches[0].baseSequence == 100)

        let records = try RecordBatches.records(in: bytes, batchStart: 0, maxDecompressedSize: 10 << 20)
        #expect(records.count == input.count)
        for (i, (rec, exp)) in zip(records, input).enumerated() {
            #expect(rec.offsetDelta == Int32(i))
            #expect(header.baseTimestamp + rec.timestampDelta == exp.ts)
            #expect(rec.key == exp.key && rec.value == exp.value && rec.headers == exp.headers)
        }
    }

    @Test func snappyRawFramingAlsoDecodes() throws {
        var b = goldenBuilder(codec: .snappy)
        b.snappyFraming = .raw
        let bytes = try b.build()
        #expect(try RecordBatches.records(in: bytes, batchStart: 0, maxDecompressedSize: 1000) == goldenRecords)
    }

    @Test func emptyBatch() throws {
        let bytes = try build(RecordBatchBuilder())
        #expect(bytes.count == 61)
        let h = try RecordBatchHeader(from: bytes)
        #expect(h.recordsCount == 0 && h.lastOffsetDelta == -1 && h.baseTimestamp == -1 && h.maxTimestamp == -1)
        #expect(try RecordBatches.records(in: bytes, batchStart: 0, maxDecompressedSize: 0) == [])
        #expect(errorCode(validate(bytes)) == 87)  // Kafka refuses count 0 from clients
        #expect(errorCode(validate(bytes, origin: .broker)) == nil)
    }

    @Test func headerFieldsAndAttributes() throws {
        var b = RecordBatchBuilder(baseOffset: 77, partitionLeaderEpoch: 9, codec: .lz4, timestampType: .logAppendTime,
                                   isTransactional: true, isControl: true, baseTimestamp: 500)
        b.append(key: [0, 0, 0, 1], value: [0, 0, 0, 0, 0, 5], timestamp: 510)
        let bytes = try b.build()
        let h = try RecordBatchHeader(from: bytes)
        #expect(h.baseOffset == 77 && h.partitionLeaderEpoch == 9 && h.baseTimestamp == 500 && h.maxTimestamp == 510)
        #expect(h.attributes == 0x3B)  // lz4 | LogAppendTime | transactional | control
        let r = try RecordBatches.records(in: bytes, batchStart: 0, maxDecompressedSize: 100)
        #expect(r == [Record(offsetDelta: 0, timestampDelta: 10, key: [0, 0, 0, 1], value: [0, 0, 0, 0, 0, 5])])
    }
}

@Suite struct RecordBatchValidation {
    @Test func corruptedCRC() {
        var bytes = goldenBatch
        bytes[75] ^= 0x01  // inside record 1
        #expect(errorCode(validate(bytes)) == 2)
        var crcOnly = goldenBatch
        crcOnly[17] ^= 0x80
        #expect(errorCode(validate(crcOnly)) == 2)
        #expect(throws: BatchValidationError.self) {
            try RecordBatches.records(in: crcOnly, batchStart: 0, maxDecompressedSize: 100)
        }
    }

    @Test func truncatedBatch() {
        for cut in [1, 20, 40, 61, 80] {
            #expect(errorCode(validate(Array(goldenBatch.prefix(cut)))) == 2, "cut at \(cut)")
        }
        // A complete batch followed by a partial one is refused too.
        #expect(errorCode(validate(goldenBatch + goldenBatch.prefix(30), origin: .broker)) == 2)
        #expect(errorCode(validate([])) == 87)
    }

    @Test func batchLengthBelowMinimum() {
        var bytes = goldenBatch
        bytes.putBigEndian(Int32(48), at: 8)
        #expect(errorCode(validate(bytes)) == 2)
    }

    @Test func wrongRecordCount() {
        // Count and lastOffsetDelta agree, but there are only two records.
        var bytes = goldenBatch
        bytes.putBigEndian(Int32(3), at: RecordBatchHeader.Field.recordsCount)
        bytes.putBigEndian(Int32(2), at: RecordBatchHeader.Field.lastOffsetDelta)
        fixCRC(&bytes)
        #expect(errorCode(validate(bytes)) == 87)
        #expect(throws: BatchValidationError.self) { try RecordBatches.records(in: bytes, batchStart: 0, maxDecompressedSize: 100) }
        // Fewer declared than present: trailing bytes.
        var fewer = goldenBatch
        fewer.putBigEndian(Int32(1), at: RecordBatchHeader.Field.recordsCount)
        fewer.putBigEndian(Int32(0), at: RecordBatchHeader.Field.lastOffsetDelta)
        fixCRC(&fewer)
        #expect(errorCode(validate(fewer)) == 87)
        #expect(throws: BatchValidationError.self) { try RecordBatches.records(in: fewer, batchStart: 0, maxDecompressedSize: 100) }
        // A huge count is refused without trying to reserve for it.
        var huge = goldenBatch
        huge.putBigEndian(Int32.max, at: RecordBatchHeader.Field.recordsCount)
        fixCRC(&huge)
        #expect(throws: BatchValidationError.self) { try RecordBatches.records(in: huge, batchStart: 0, maxDecompressedSize: 100) }
        #expect(errorCode(validate(huge, origin: .broker)) == 87)
    }

    @Test func lastOffsetDeltaMismatch() throws {
        var bytes = goldenBatch
        bytes.putBigEndian(Int32(5), at: RecordBatchHeader.Field.lastOffsetDelta)
        fixCRC(&bytes)
        guard case .failure(let e) = validate(bytes) else { Issue.record("accepted"); return }
        #expect(e.code == 87 && e.message.contains("lastOffsetDelta"))
    }

    @Test func offsetDeltasMustCountUp() throws {
        for codec in [CompressionCodec.none, .zstd] {
            var b = RecordBatchBuilder(codec: codec, baseTimestamp: 0)
            b.append(Record(offsetDelta: 0, timestampDelta: 0, key: nil, value: [1]))
            b.append(Record(offsetDelta: 2, timestampDelta: 0, key: nil, value: [2]))
            var bytes = try b.build()
            bytes.putBigEndian(Int32(1), at: RecordBatchHeader.Field.lastOffsetDelta)
            fixCRC(&bytes)
            guard case .failure(let e) = validate(bytes) else { Issue.record("accepted \(codec)"); continue }
            #expect(e.code == 87 && e.recordIndex == 1)
        }
    }

    @Test func recordLengthMismatch() {
        var bytes = goldenBatch
        bytes[61] = 0x12  // record 0 claims 9 bytes but its fields take 8
        fixCRC(&bytes)
        guard case .failure(let e) = validate(bytes) else { Issue.record("accepted"); return }
        #expect(e.code == 87 && e.recordIndex == 0)
    }

    @Test func nullHeaderKey() {
        var bytes = goldenBatch
        bytes[78] = 0x01  // header key length -1
        fixCRC(&bytes)
        guard case .failure(let e) = validate(bytes) else { Issue.record("accepted"); return }
        #expect(e.code == 87 && e.recordIndex == 1 && e.message.contains("header key"))
    }

    @Test func oversizeBatch() {
        #expect(errorCode(validate(goldenBatch, maxBatchBytes: 80)) == 10)
        #expect(errorCode(validate(goldenBatch, maxBatchBytes: 81)) == nil)
    }

    @Test func magicOtherThanTwo() {
        var bytes = goldenBatch
        bytes[16] = 1
        #expect(errorCode(validate(bytes)) == 87)
        // A small legacy v0 message (26 bytes) is refused on its magic, not its size.
        var v0 = [UInt8](repeating: 0, count: 26)
        v0[11] = 14
        v0[16] = 0
        #expect(errorCode(validate(v0)) == 87)
    }

    @Test func controlBatchFromClient() throws {
        var b = RecordBatchBuilder(isTransactional: true, isControl: true, producerId: 5, producerEpoch: 0)
        b.append(key: [0, 0, 0, 1], value: [0, 0, 0, 0, 0, 0], timestamp: 1)
        let bytes = try b.build()
        #expect(errorCode(validate(bytes)) == 87)
        let ok = try validate(bytes, origin: .broker).get()
        #expect(ok.batches[0].isControl && ok.batches[0].isTransactional)
    }

    @Test func clientOnlyBatchRules() throws {
        // Two batches, non-zero base offset, producer id without sequence, LogAppendTime set by a client.
        #expect(errorCode(validate(goldenBatch + goldenBatch)) == 87)
        #expect(try validate(goldenBatch + goldenBatch, origin: .broker).get().batches.map(\.start) == [0, 81])
        var offset = goldenBatch
        offset.setBatchBaseOffset(10, batchStart: 0)
        #expect(errorCode(validate(offset)) == 87)
        #expect(errorCode(validate(offset, origin: .broker)) == nil)
        var b = goldenBuilder()
        b.producerId = 9
        #expect(errorCode(validate(try build(b))) == 87)
        b.baseSequence = 0
        #expect(errorCode(validate(try build(b))) == nil)
        b.timestampType = .logAppendTime
        #expect(errorCode(validate(try build(b))) == 32)
    }

    @Test func timestampBounds() throws {
        let now: Int64 = 1_000_000
        func batch(_ ts: [Int64]) throws -> [UInt8] {
            var b = RecordBatchBuilder(baseTimestamp: now)
            for (i, t) in ts.enumerated() {
                b.append(Record(offsetDelta: Int32(i), timestampDelta: t &- now, key: nil, value: [1]))
            }
            return try b.build()
        }
        #expect(errorCode(validate(try batch([now - 1000, now + 500]), now: now, before: 1000, after: 500)) == nil)
        let early = validate(try batch([now, now - 1001]), now: now, before: 1000, after: 500)
        #expect(errorCode(early) == 32)
        if case .failure(let e) = early { #expect(e.recordIndex == 1) }
        #expect(errorCode(validate(try batch([now + 501]), now: now, before: 1000, after: 500)) == 32)
        // -1 means "no timestamp" and is exempt; LogAppendTime topics do not check.
        #expect(errorCode(validate(try batch([-1]), now: now, before: 1000, after: 500)) == nil)
        #expect(errorCode(validate(try batch([0]), now: now, before: 1000, after: 500, type: .logAppendTime)) == nil)
        // Extreme bounds and timestamps do not overflow.
        #expect(errorCode(validate(try batch([.min + 1, .max]), now: now)) == nil)
    }

    @Test func compactedTopicNeedsKeys() {
        guard case .failure(let e) = validate(goldenBatch, compacted: true) else { Issue.record("accepted"); return }
        #expect(e.code == 87 && e.recordIndex == 1)
    }

    @Test func compressedBatchFailures() throws {
        // Valid CRC over a payload that is not zstd.
        var garbage = try build(goldenBuilder(codec: .zstd))
        for i in 61..<garbage.count { garbage[i] = 0xAB }
        fixCRC(&garbage)
        #expect(errorCode(validate(garbage)) == 2)
        // Decompressed records over the bound.
        var big = RecordBatchBuilder(codec: .gzip)
        big.append(key: nil, value: [UInt8](repeating: 0, count: 100_000), timestamp: 0)
        let bytes = try big.build()
        #expect(errorCode(validate(bytes, maxDecompressed: 50_000)) == 2)
        #expect(errorCode(validate(bytes, maxDecompressed: 200_000)) == nil)
        #expect(throws: BatchValidationError.self) { try RecordBatches.records(in: bytes, batchStart: 0, maxDecompressedSize: 50_000) }
        // Unknown codec 5.
        var codec5 = goldenBatch
        codec5[22] = 5
        fixCRC(&codec5)
        #expect(errorCode(validate(codec5)) == 2)
    }
}

@Suite struct RecordBatchIteration {
    @Test func iteratesAndStopsAtPartialTail() throws {
        var second = try build(goldenBuilder(codec: .gzip))
        second.setBatchBaseOffset(2, batchStart: 0)
        let third = try build(RecordBatchBuilder())
        let all = goldenBatch + second + third
        for tail in [0, 5, 30, 70] {
            let bytes = all + goldenBatch.prefix(tail)
            let seen = Array(RecordBatches.batches(in: bytes))
            #expect(seen.map(\.start) == [0, 81, 81 + second.count], "tail \(tail)")
            #expect(seen.map(\.header.baseOffset) == [0, 2, 0])
            #expect(RecordBatches.batches(in: bytes).completeBytes == all.count)
        }
        #expect(Array(RecordBatches.batches(in: [])).isEmpty)
        // A nonsense length ends the walk instead of looping or trapping.
        var bad = goldenBatch
        bad.putBigEndian(Int32(-5), at: 8)
        #expect(Array(RecordBatches.batches(in: bad)).isEmpty)
    }

    @Test func decodesBatchInsideLargerBuffer() throws {
        let second = try build(goldenBuilder(codec: .snappy))
        let bytes = goldenBatch + second
        #expect(try RecordBatches.records(in: bytes, batchStart: 81, maxDecompressedSize: 1000) == goldenRecords)
    }
}

@Suite struct RecordBatchLogAppendTime {
    @Test func setsBitMaxTimestampAndCRC() throws {
        for codec in [CompressionCodec.none, .lz4] {
            let batch = try build(goldenBuilder(codec: codec))
            var bytes = goldenBatch + batch
            #expect(RecordBatches.stampMaxTimestamp(123_456, type: .logAppendTime, in: &bytes, batchStart: 81))
            let h = try RecordBatchHeader(from: bytes, at: 81)
            #expect(h.isLogAppendTime && h.compressionCodec == codec.rawValue)
            #expect(h.maxTimestamp == 123_456 && h.baseTimestamp == 1000)
            #expect(RecordBatchHeader.computeCRC(bytes, batchStart: 81, totalSize: h.totalSize) == h.crc)
            #expect(Array(bytes.prefix(81)) == goldenBatch)  // the neighbour is untouched
            #expect(try RecordBatches.records(in: bytes, batchStart: 81, maxDecompressedSize: 1000) == goldenRecords)
            // Broker-side re-validation of the stamped batch passes.
            #expect(errorCode(validate(Array(bytes[81...]), origin: .broker)) == nil)
        }
    }
}
