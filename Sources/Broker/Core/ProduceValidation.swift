import Compression
import KafkaProtocol

/// Why a partition's produce was refused.
struct ProduceFailure: Error {
    var error: KafkaError
    var message: String
    var batchIndex: Int?
}

/// Everything that happens to a produced batch before it reaches the log: validation with
/// Kafka's error codes, recompression when the topic forces a codec, and the header's
/// maxTimestamp and timestamp type written as Kafka's LogValidator writes them.
enum ProduceValidation {
    /// Largest decompressed batch we are willing to inflate while validating.
    static let maxDecompressedBytes = 256 << 20

    /// Validates, recompresses and stamps `bytes` in place; returns the header of its one batch
    /// (producer id, epoch and sequence are what idempotence needs).
    static func prepare(_ bytes: inout [UInt8], policy: ProducePolicy, now: Int64)
        -> Result<RecordBatchHeader, ProduceFailure> {
        let validated: ValidatedBatches
        switch RecordBatches.validateForAppend(
            bytes, maxBatchBytes: policy.maxMessageBytes, now: now,
            timestampBeforeMaxMs: policy.timestampBeforeMaxMs, timestampAfterMaxMs: policy.timestampAfterMaxMs,
            topicTimestampType: policy.logAppendTime ? .logAppendTime : .createTime,
            compactedTopic: policy.compacted, maxDecompressedBytes: maxDecompressedBytes) {
        case .success(let v): validated = v
        case .failure(let e):
            return .failure(ProduceFailure(error: KafkaError(e.code), message: e.message, batchIndex: e.batchIndex))
        }
        if let target = forcedCodec(policy.compressionType) {
            for batch in validated.batches where batch.header.compressionCodec != target.rawValue {
                switch recompress(bytes, batch: batch, codec: target) {
                case .success(let rebuilt):
                    if rebuilt.count > policy.maxMessageBytes {
                        return .failure(ProduceFailure(error: .messageTooLarge,
                                                       message: "batch of \(rebuilt.count) bytes after recompression",
                                                       batchIndex: 0))
                    }
                    bytes = rebuilt
                case .failure(let failure):
                    return .failure(failure)
                }
            }
        }
        // The log indexes and ListOffsets read maxTimestamp from the header, so it must be what
        // Kafka computes, not what the client wrote. A recompressed batch already carries the
        // builder's value; stamping it again changes nothing.
        let type: TimestampType = policy.logAppendTime ? .logAppendTime : .createTime
        // Starts taken first: iterating `bytes` while writing to it would copy the whole buffer.
        let starts = RecordBatches.batches(in: bytes).map(\.start)
        for (batch, start) in zip(validated.batches, starts) {
            RecordBatches.stampMaxTimestamp(policy.logAppendTime ? now : batch.maxRecordTimestamp, type: type,
                                            in: &bytes, batchStart: start)
        }
        var header = validated.batches[0].header
        header.maxTimestamp = policy.logAppendTime ? now : validated.batches[0].maxRecordTimestamp
        return .success(header)
    }

    /// The codec a topic's `compression.type` imposes, or nil for `producer`.
    static func forcedCodec(_ compressionType: String) -> CompressionCodec? {
        switch compressionType {
        case "uncompressed": return CompressionCodec.none
        case "gzip": return .gzip
        case "snappy": return .snappy
        case "lz4": return .lz4
        case "zstd": return .zstd
        default: return nil
        }
    }

    /// Rebuilds one batch with another codec, keeping every record, header field and delta.
    static func recompress(_ bytes: [UInt8], batch: ValidatedBatch, codec: CompressionCodec)
        -> Result<[UInt8], ProduceFailure> {
        let header = batch.header
        let records: [Record]
        do {
            records = try RecordBatches.records(in: bytes, batchStart: batch.start,
                                                maxDecompressedSize: maxDecompressedBytes)
        } catch {
            return .failure(ProduceFailure(error: KafkaError(error.code), message: error.message, batchIndex: 0))
        }
        var builder = RecordBatchBuilder(
            baseOffset: header.baseOffset, partitionLeaderEpoch: header.partitionLeaderEpoch, codec: codec,
            timestampType: header.isLogAppendTime ? .logAppendTime : .createTime,
            isTransactional: header.isTransactional, isControl: header.isControl,
            baseTimestamp: header.baseTimestamp, producerId: header.producerId, producerEpoch: header.producerEpoch,
            baseSequence: header.baseSequence, estimatedRecordBytes: header.totalSize * 2)
        for record in records { builder.append(record) }
        do {
            return .success(try builder.build())
        } catch {
            return .failure(ProduceFailure(error: .unknownServerError, message: "recompression failed: \(error)"))
        }
    }
}
