internal import Compression

/// Who is appending: Produce requests from clients get Kafka's client-only checks (one batch,
/// base offset 0, no control batches, consistent offsets, no client-set LogAppendTime); the
/// broker's own writes (transaction markers, coordinator records) skip them.
public enum AppendOrigin: Sendable {
    case client, broker
}

/// What validation learned about one batch, for offset assignment and producer-state checks.
public struct ValidatedBatch: Equatable, Sendable {
    public var start: Int
    public var header: RecordBatchHeader
    /// Largest record timestamp seen in the walk (-1 if none); Kafka stores this as maxTimestamp
    /// on CreateTime topics whatever the client's header says (`RecordBatches.stampMaxTimestamp`).
    public var maxRecordTimestamp: Int64

    public var totalSize: Int { header.totalSize }
    public var recordCount: Int32 { header.recordsCount }
    /// As the client sent it, which may be wrong (sarama 1.22 sends -1, others 0); see `maxRecordTimestamp`.
    public var maxTimestamp: Int64 { header.maxTimestamp }
    public var producerId: Int64 { header.producerId }
    public var producerEpoch: Int16 { header.producerEpoch }
    public var baseSequence: Int32 { header.baseSequence }
    public var isTransactional: Bool { header.isTransactional }
    public var isControl: Bool { header.isControl }
}

/// The batches of a `records` field that passed `validateForAppend`.
public struct ValidatedBatches: Equatable, Sendable {
    public var batches: [ValidatedBatch]
    public var totalRecords: Int
}

extension RecordBatches {
    /// Validates a Produce request's `records` before append, batch by batch, with the error
    /// codes Kafka 4 answers:
    ///
    /// * not magic 2 → INVALID_RECORD (87): Kafka's ProduceRequest check (v3+) throws
    ///   InvalidRecordException; UNSUPPORTED_FOR_MESSAGE_FORMAT is for old *stored* formats.
    /// * no batch, more than one batch (client), baseOffset != 0 (client) → INVALID_RECORD.
    /// * partial batch, length < 49, CRC mismatch, unknown codec, decompression failure or
    ///   decompressed size over `maxDecompressedBytes` → CORRUPT_MESSAGE (2).
    /// * stored size (`totalSize`) over `maxBatchBytes` → MESSAGE_TOO_LARGE (10).
    /// * client batch checks (Kafka's LogValidator): count <= 0, lastOffsetDelta + 1 != count,
    ///   control batch, producer id without a base sequence → INVALID_RECORD.
    /// * record walk: records not matching the count, bad lengths/varints, trailing bytes,
    ///   offset deltas not 0, 1, 2, …, null header keys, a null key on a compacted topic →
    ///   INVALID_RECORD (Kafka reports the walk's InvalidRecordException this way, not as
    ///   CORRUPT_MESSAGE, so producers fail fast instead of retrying a batch that cannot pass).
    /// * CreateTime timestamp (baseTimestamp + timestampDelta, -1 exempt) outside
    ///   [now - timestampBeforeMaxMs, now + timestampAfterMaxMs], or a client batch flagged
    ///   LogAppendTime → INVALID_TIMESTAMP (32). A bound of Int64.max (Kafka's default) is no bound.
    ///
    /// Uncompressed records are walked in place without allocating.
    public static func validateForAppend(
        _ bytes: [UInt8],
        maxBatchBytes: Int,
        now: Int64 = 0,
        timestampBeforeMaxMs: Int64 = .max,
        timestampAfterMaxMs: Int64 = .max,
        topicTimestampType: TimestampType = .createTime,
        compactedTopic: Bool = false,
        maxDecompressedBytes: Int = 64 << 20,
        origin: AppendOrigin = .client
    ) -> Result<ValidatedBatches, BatchValidationError> {
        let rules = WalkRules(
            checkTimestamps: topicTimestampType == .createTime,
            // Int64.max is Kafka's default for both settings and means "no bound".
            lowestTimestamp: timestampBeforeMaxMs == .max ? .min : saturatingSubtract(now, timestampBeforeMaxMs),
            highestTimestamp: timestampAfterMaxMs == .max ? .max : saturatingAdd(now, timestampAfterMaxMs),
            requireKeys: compactedTopic)
        guard !bytes.isEmpty else {
            return .failure(BatchValidationError(code: BatchValidationError.invalidRecord,
                                                 message: "produce records must hold at least one record batch"))
        }
        var out = ValidatedBatches(batches: [], totalRecords: 0)
        var position = 0
        var index = 0
        while position < bytes.count {
            do {
                let validated = try validateBatch(bytes, at: position, index: index, maxBatchBytes: maxBatchBytes,
                                                  maxDecompressedBytes: maxDecompressedBytes, origin: origin, rules: rules)
                out.batches.append(validated)
                out.totalRecords += Int(validated.recordCount)
                position += validated.totalSize
                index += 1
            } catch {
                return .failure(error)
            }
        }
        return .success(out)
    }

    struct WalkRules {
        var checkTimestamps: Bool
        var lowestTimestamp: Int64
        var highestTimestamp: Int64
        var requireKeys: Bool
    }

    private static func validateBatch(
        _ bytes: [UInt8], at start: Int, index: Int, maxBatchBytes: Int, maxDecompressedBytes: Int,
        origin: AppendOrigin, rules: WalkRules
    ) throws(BatchValidationError) -> ValidatedBatch {
        func fail(_ code: Int16, _ message: String) -> BatchValidationError {
            BatchValidationError(code: code, message: message, batchIndex: index)
        }
        let header = try completeHeader(bytes, at: start, batchIndex: index)
        let isClient = origin == .client
        if isClient && index > 0 {
            throw fail(BatchValidationError.invalidRecord, "produce records must hold exactly one record batch")
        }
        if isClient && header.baseOffset != 0 {
            throw fail(BatchValidationError.invalidRecord, "batch baseOffset must be 0, got \(header.baseOffset)")
        }
        if header.totalSize > maxBatchBytes {
            throw fail(BatchValidationError.messageTooLarge,
                       "batch of \(header.totalSize) bytes exceeds the limit of \(maxBatchBytes)")
        }
        let crc = RecordBatchHeader.computeCRC(bytes, batchStart: start, totalSize: header.totalSize)
        if crc != header.crc {
            throw fail(BatchValidationError.corruptMessage, "CRC mismatch: stored \(header.crc), computed \(crc)")
        }
        guard let codec = CompressionCodec(rawValue: header.compressionCodec) else {
            throw fail(BatchValidationError.corruptMessage, "unknown compression codec \(header.compressionCodec)")
        }
        let count = Int(header.recordsCount)
        if isClient {
            if count <= 0 { throw fail(BatchValidationError.invalidRecord, "invalid record count \(count)") }
            if Int(header.lastOffsetDelta) + 1 != count {
                throw fail(BatchValidationError.invalidRecord,
                           "lastOffsetDelta \(header.lastOffsetDelta) does not match record count \(count)")
            }
            if header.isControl {
                throw fail(BatchValidationError.invalidRecord, "clients may not write control batches")
            }
            if header.producerId >= 0 && header.baseSequence < 0 {
                throw fail(BatchValidationError.invalidRecord,
                           "invalid base sequence \(header.baseSequence) for producer id \(header.producerId)")
            }
            if header.isLogAppendTime {
                throw fail(BatchValidationError.invalidTimestamp, "producers may not set the LogAppendTime type")
            }
        } else if count < 0 {
            throw fail(BatchValidationError.corruptMessage, "negative record count \(count)")
        }

        let recordsStart = start + RecordBatchHeader.size
        let end = start + header.totalSize
        let maxTimestamp: Int64
        if codec == .none {
            maxTimestamp = try walk(bytes, from: recordsStart, to: end, header: header, batchIndex: index, rules: rules)
        } else {
            let plain: [UInt8]
            do {
                plain = try Compressor.decompress(bytes[recordsStart..<end], codec: codec,
                                                  maxOutputSize: maxDecompressedBytes)
            } catch {
                throw fail(BatchValidationError.corruptMessage, "\(codec) records: \(error)")
            }
            maxTimestamp = try walk(plain, from: 0, to: plain.count, header: header, batchIndex: index, rules: rules)
        }
        return ValidatedBatch(start: start, header: header, maxRecordTimestamp: maxTimestamp)
    }

    /// Walks `count` records in place; returns the largest record timestamp.
    private static func walk(
        _ bytes: [UInt8], from start: Int, to end: Int, header: RecordBatchHeader, batchIndex: Int, rules: WalkRules
    ) throws(BatchValidationError) -> Int64 {
        let count = Int(header.recordsCount)
        let base = header.baseTimestamp
        return try bytes.withUnsafeBufferPointer { (buf) throws(BatchValidationError) -> Int64 in
            func fail(_ code: Int16, _ message: String, _ record: Int?) -> BatchValidationError {
                BatchValidationError(code: code, message: message, batchIndex: batchIndex, recordIndex: record)
            }
            var cursor = RecordCursor(buf, from: start, to: end)
            var maxTimestamp: Int64 = -1
            for index in 0..<count {
                let view: RecordView
                do { view = try cursor.nextRecord() } catch {
                    throw fail(BatchValidationError.invalidRecord,
                               "record \(index) of \(count): \(error)", index)
                }
                if Int(view.offsetDelta) != index {
                    throw fail(BatchValidationError.invalidRecord,
                               "record \(index) has offset delta \(view.offsetDelta)", index)
                }
                if rules.requireKeys && view.keyLength < 0 {
                    throw fail(BatchValidationError.invalidRecord, "compacted topics require a record key", index)
                }
                let timestamp = base &+ view.timestampDelta
                if rules.checkTimestamps && timestamp != -1
                    && (timestamp < rules.lowestTimestamp || timestamp > rules.highestTimestamp) {
                    throw fail(BatchValidationError.invalidTimestamp,
                               "timestamp \(timestamp) of record \(index) is outside "
                                   + "[\(rules.lowestTimestamp), \(rules.highestTimestamp)]", index)
                }
                if timestamp > maxTimestamp { maxTimestamp = timestamp }
            }
            if cursor.remaining != 0 {
                throw fail(BatchValidationError.invalidRecord,
                           "\(cursor.remaining) bytes left after the \(count) declared records", nil)
            }
            return maxTimestamp
        }
    }

    static func saturatingSubtract(_ a: Int64, _ b: Int64) -> Int64 {
        let (r, o) = a.subtractingReportingOverflow(b)
        return o ? (b > 0 ? .min : .max) : r
    }

    static func saturatingAdd(_ a: Int64, _ b: Int64) -> Int64 {
        let (r, o) = a.addingReportingOverflow(b)
        return o ? (b > 0 ? .max : .min) : r
    }
}
