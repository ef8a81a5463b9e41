import Foundation
import KafkaProtocol
import SchemaRegistry

/// CPU cost of broker-side validation without sockets or disk (`sluice bench validation`): one
/// batch of identical records is run through `ProduceValidation.prepare` (what every produce
/// pays: CRC, record walk, timestamps) and through the id-mode and payload-mode checks.
public enum SchemaValidationBench {
    public struct Result: Sendable {
        public let recordsPerBatch: Int
        public let batchBytes: Int
        /// Nanoseconds per batch.
        public let prepareNs: Double
        public let idNs: Double
        public let payloadNs: Double
    }

    /// `value` is the Avro binary of one record of `schema` (without the 5-byte prefix).
    public static func run(schema: String, value: [UInt8], recordsPerBatch: Int, iterations: Int) throws -> Result {
        var state = RegistryState()
        state.apply(.schema(SchemaVersionRecord(subject: "bench-value", version: 1, id: 1, schemaType: .avro, schema: schema)))
        guard state.schemas[1]?.parsed != nil else { throw ConfigError("the bench schema does not parse") }
        let snapshot = state.snapshot()
        let framed: [UInt8] = [0, 0, 0, 0, 1] + value
        let now = SystemClock.nowMs()
        var builder = RecordBatchBuilder(baseTimestamp: now)
        for _ in 0..<recordsPerBatch { builder.append(key: nil, value: framed, timestamp: now) }
        let batch = try builder.build()
        let policy = ProducePolicy(maxMessageBytes: Int.max, logAppendTime: false, timestampBeforeMaxMs: Int64.max,
                                   timestampAfterMaxMs: Int64.max, compressionType: "producer", compacted: false)
        let idPolicy = SchemaValidationPolicy(key: nil, value: .init(strategy: .topicName, payload: false))
        let payloadPolicy = SchemaValidationPolicy(key: nil, value: .init(strategy: .topicName, payload: true))
        func time(_ body: () -> Bool) -> Double {
            _ = body()  // warm-up
            let start = SystemClock.monotonicNs()
            var ok = true
            for _ in 0..<iterations { ok = body() && ok }
            precondition(ok, "bench batch failed validation")
            return Double(SystemClock.monotonicNs() - start) / Double(iterations)
        }
        let prepare = time {
            var copy = batch
            if case .success = ProduceValidation.prepare(&copy, policy: policy, now: now) { return true }
            return false
        }
        let id = time { SchemaValidation.check(batch, topic: "bench", policy: idPolicy, registry: snapshot).isEmpty }
        let payload = time { SchemaValidation.check(batch, topic: "bench", policy: payloadPolicy, registry: snapshot).isEmpty }
        return Result(recordsPerBatch: recordsPerBatch, batchBytes: batch.count, prepareNs: prepare, idNs: id, payloadNs: payload)
    }
}
