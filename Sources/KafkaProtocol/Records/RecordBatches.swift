internal import Compression

/// Why a batch was refused or could not be decoded, with the Kafka error code to answer with.
/// `recordIndex` is the record's position in its batch when one record is to blame (what
/// Produce v8+ reports in `RecordErrors`).
public struct BatchValidationError: Error, Equatable, Sendable, CustomStringConvertible {
    public var code: Int16
    public var message: String
    public var batchIndex: Int
    public var recordIndex: Int?

    public init(code: Int16, message: String, batchIndex: Int = 0, recordIndex: Int? = nil) {
        self.code = code
        self.message = message
        self.batchIndex = batchIndex
        self.recordIndex = recordIndex
    }

    public var description: String { "error \(code): \(message)" }

    public static let corruptMessage: Int16 = 2
    public static let messageTooLarge: Int16 = 10
    public static let invalidTimestamp: Int16 = 32
    public static let invalidRecord: Int16 = 87
}

/// Helpers over a `records` field: zero or more v2 batches laid end to end.
public enum RecordBatches {
    /// The batches in `bytes`, each with its start offset. Stops without error at a partial
    /// tail (as fetch responses may end) or at a length that cannot be a batch.
    public static func batches(in bytes: [UInt8]) -> BatchSequence { BatchSequence(bytes: bytes) }

    /// A lazily parsed list of the complete batches in a `records` byte array.
    public struct BatchSequence: Sequence {
        public let bytes: [UInt8]

        /// Walks the batches front to back; see `batches(in:)` for where it stops.
        public struct Iterator: IteratorProtocol {
            let bytes: [UInt8]
            var position = 0

            public mutating func next() -> (start: Int, header: RecordBatchHeader)? {
                let start = position
                guard let header = try? RecordBatchHeader(from: bytes, at: start),
                      header.batchLength >= Int32(RecordBatchHeader.size - RecordBatchHeader.logOverhead),
                      header.totalSize <= bytes.count - start
                else { return nil }
                position = start + header.totalSize
                return (start, header)
            }
        }

        public func makeIterator() -> Iterator { Iterator(bytes: bytes) }

        /// Bytes taken by the complete batches, i.e. where a partial tail starts.
        public var completeBytes: Int {
            var it = makeIterator()
            while it.next() != nil {}
            return it.position
        }
    }

    /// Decodes the records of the batch at `batchStart`, decompressing (at most
    /// `maxDecompressedSize` bytes) when needed. Checks the CRC unless told not to.
    public static func records(
        in bytes: [UInt8], batchStart: Int, maxDecompressedSize: Int, verifyCRC: Bool = true
    ) throws(BatchValidationError) -> [Record] {
        let header = try completeHeader(bytes, at: batchStart, batchIndex: 0)
        if verifyCRC {
            let crc = RecordBatchHeader.computeCRC(bytes, batchStart: batchStart, totalSize: header.totalSize)
            guard crc == header.crc else {
                throw BatchValidationError(code: BatchValidationError.corruptMessage,
                                           message: "CRC mismatch: stored \(header.crc), computed \(crc)")
            }
        }
        let count = Int(header.recordsCount)
        guard count >= 0 else {
            throw BatchValidationError(code: BatchValidationError.corruptMessage, message: "negative record count \(count)")
        }
        let recordsStart = batchStart + RecordBatchHeader.size
        let end = batchStart + header.totalSize
        guard let codec = CompressionCodec(rawValue: header.compressionCodec) else {
            throw BatchValidationError(code: BatchValidationError.corruptMessage,
                                       message: "unknown compression codec \(header.compressionCodec)")
        }
        if codec == .none {
            return try decode(bytes, from: recordsStart, to: end, count: count)
        }
        let plain: [UInt8]
        do {
            plain = try Compressor.decompress(bytes[recordsStart..<end], codec: codec, maxOutputSize: maxDecompressedSize)
        } catch {
            throw BatchValidationError(code: BatchValidationError.corruptMessage, message: "\(codec): \(error)")
        }
        return try decode(plain, from: 0, to: plain.count, count: count)
    }

    private static func decode(_ bytes: [UInt8], from start: Int, to end: Int, count: Int) throws(BatchValidationError) -> [Record] {
        // Every record takes at least 7 bytes, so a count beyond that is refused before reserving.
        guard count <= (end - start) / 7 else {
            throw BatchValidationError(code: BatchValidationError.invalidRecord,
                                       message: "record count \(count) does not fit in \(end - start) bytes")
        }
        return try bytes.withUnsafeBufferPointer { (buf) throws(BatchValidationError) -> [Record] in
            var cursor = RecordCursor(buf, from: start, to: end)
            var out = [Record]()
            out.reserveCapacity(count)
            for index in 0..<count {
                let view: RecordView
                do { view = try cursor.nextRecord() } catch {
                    throw BatchValidationError(code: BatchValidationError.invalidRecord,
                                               message: "record \(index): \(error)", recordIndex: index)
                }
                func slice(_ s: Int, _ n: Int) -> [UInt8]? { n < 0 ? nil : Array(buf[s..<(s + n)]) }
                var headers = [RecordHeader]()
                if view.headerCount > 0 {
                    headers.reserveCapacity(view.headerCount)
                    // Already walked and bounds-checked by nextRecord, so these reads cannot fail.
                    var h = RecordCursor(buf, from: view.headersStart, to: view.end)
                    for _ in 0..<view.headerCount {
                        guard let k = try? h.lengthPrefixed(nullable: false, what: "header key"),
                              let v = try? h.lengthPrefixed(nullable: true, what: "header value")
                        else { break }
                        headers.append(RecordHeader(key: String(decoding: buf[k.start..<(k.start + k.length)], as: UTF8.self),
                                                    value: slice(v.start, v.length)))
                    }
                }
                out.append(Record(offsetDelta: view.offsetDelta, timestampDelta: view.timestampDelta,
                                  key: slice(view.keyStart, view.keyLength), value: slice(view.valueStart, view.valueLength),
                                  headers: headers, attributes: view.attributes))
            }
            guard cursor.remaining == 0 else {
                throw BatchValidationError(code: BatchValidationError.invalidRecord,
                                           message: "\(cursor.remaining) bytes left after \(count) records")
            }
            return out
        }
    }

    /// Writes a batch's timestamp type (attribute bit 3) and maxTimestamp as Kafka's LogValidator
    /// does before an append: LogAppendTime topics get the broker's clock, CreateTime topics the
    /// largest record timestamp, whatever the client put there (sarama 1.22 leaves maxTimestamp
    /// unset, -1). baseTimestamp is left as it is, as Kafka does. The CRC covers both fields, so it is
    /// recomputed, but only when something changed: a correct batch is not touched. Returns
    /// whether it rewrote the batch, which must be complete.
    @discardableResult
    public static func stampMaxTimestamp(_ time: Int64, type: TimestampType, in bytes: inout [UInt8],
                                         batchStart: Int) -> Bool {
        let header: RecordBatchHeader
        do { header = try RecordBatchHeader(from: bytes, at: batchStart) } catch {
            preconditionFailure("stampMaxTimestamp: no batch header at \(batchStart)")
        }
        precondition(header.totalSize >= RecordBatchHeader.size && header.totalSize <= bytes.count - batchStart,
                     "stampMaxTimestamp: incomplete batch at \(batchStart)")
        let attributes = type == .logAppendTime
            ? header.attributes | BatchAttributes.logAppendTime
            : header.attributes & ~BatchAttributes.logAppendTime
        if attributes == header.attributes && time == header.maxTimestamp { return false }
        bytes.putBigEndian(attributes, at: batchStart + RecordBatchHeader.Field.attributes)
        bytes.putBigEndian(time, at: batchStart + RecordBatchHeader.Field.maxTimestamp)
        let crc = RecordBatchHeader.computeCRC(bytes, batchStart: batchStart, totalSize: header.totalSize)
        bytes.putBigEndian(crc, at: batchStart + RecordBatchHeader.Field.crc)
        return true
    }

    /// The header at `start`, refusing anything that is not a whole v2 batch.
    static func completeHeader(_ bytes: [UInt8], at start: Int, batchIndex: Int) throws(BatchValidationError) -> RecordBatchHeader {
        let left = bytes.count - start
        // Byte 16 holds the magic in every format version, so it is read before the v2 length rules.
        guard left > RecordBatchHeader.Field.magic else {
            throw BatchValidationError(code: BatchValidationError.corruptMessage,
                                       message: "partial batch: \(left) bytes at \(start)", batchIndex: batchIndex)
        }
        let magic = Int8(bitPattern: bytes[start + RecordBatchHeader.Field.magic])
        guard magic == 2 else {
            throw BatchValidationError(code: BatchValidationError.invalidRecord,
                                       message: "record batches must have magic 2, got \(magic)", batchIndex: batchIndex)
        }
        guard let header = try? RecordBatchHeader(from: bytes, at: start) else {
            throw BatchValidationError(code: BatchValidationError.corruptMessage,
                                       message: "partial batch header: \(left) bytes at \(start)", batchIndex: batchIndex)
        }
        guard header.batchLength >= Int32(RecordBatchHeader.size - RecordBatchHeader.logOverhead) else {
            throw BatchValidationError(code: BatchValidationError.corruptMessage,
                                       message: "batch length \(header.batchLength) is below the minimum of 49",
                                       batchIndex: batchIndex)
        }
        guard header.totalSize <= left else {
            throw BatchValidationError(code: BatchValidationError.corruptMessage,
                                       message: "partial batch: \(header.totalSize) bytes declared, \(left) present",
                                       batchIndex: batchIndex)
        }
        return header
    }
}
