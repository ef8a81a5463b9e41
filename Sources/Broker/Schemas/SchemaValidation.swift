import KafkaProtocol
import SchemaRegistry

/// How a subject name is derived from a record (Confluent's `*.subject.name.strategy`).
public enum SubjectNameStrategy: String, Sendable, Equatable {
    case topicName = "TopicNameStrategy"
    case recordName = "RecordNameStrategy"
    case topicRecordName = "TopicRecordNameStrategy"

    /// Accepts the short names and Confluent's fully-qualified class names.
    public init?(configValue: String) {
        let short = configValue.split(separator: ".").last.map(String.init) ?? configValue
        self.init(rawValue: short)
    }

    public static let configValues: [String] = [
        "TopicNameStrategy", "RecordNameStrategy", "TopicRecordNameStrategy",
        "io.confluent.kafka.serializers.subject.TopicNameStrategy",
        "io.confluent.kafka.serializers.subject.RecordNameStrategy",
        "io.confluent.kafka.serializers.subject.TopicRecordNameStrategy",
    ]
}

/// Per-topic schema validation, resolved from the topic configs once per config change.
public struct SchemaValidationPolicy: Sendable, Equatable {
    public struct Side: Sendable, Equatable {
        public var strategy: SubjectNameStrategy
        /// `payload`: also decode the bytes against the schema; `id`: only the id and subject.
        public var payload: Bool
    }
    public var key: Side?
    public var value: Side?
}

/// The record check of broker-side validation. A record passes when its key/value (for each side
/// with validation on) is null (tombstones and unkeyed records are not checked), or starts with
/// magic byte 0 and a 4-byte big-endian schema id that the registry knows and has registered
/// under the subject the strategy names; in payload mode the rest must also decode as one value
/// of that schema (Avro binary) or be a JSON document valid against it (JSON Schema).
enum SchemaValidation {
    struct RecordError {
        let index: Int
        let message: String
    }

    /// Most errors reported for one batch (the rest are summarized).
    static let maxReported = 20

    /// Checks every record of every batch in `bytes`; the failures, empty when all pass.
    static func check(_ bytes: [UInt8], topic: String, policy: SchemaValidationPolicy,
                      registry: RegistrySnapshot) -> [RecordError] {
        var errors: [RecordError] = []
        var checkers: [Side] = []
        if let k = policy.key { checkers.append(Side(rule: k, topic: topic, isKey: true)) }
        if let v = policy.value { checkers.append(Side(rule: v, topic: topic, isKey: false)) }
        for (start, _) in RecordBatches.batches(in: bytes) {
            do {
                try RecordBatches.forEachRecord(in: bytes, batchStart: start,
                                                maxDecompressedSize: ProduceValidation.maxDecompressedBytes) { record in
                    for i in checkers.indices {
                        let range = checkers[i].isKey ? record.key : record.value
                        if let problem = checkers[i].problem(record.buffer, range, registry: registry) {
                            errors.append(RecordError(index: record.index,
                                                      message: "record \(record.index): \(checkers[i].isKey ? "key" : "value") \(problem)"))
                            break
                        }
                    }
                    return errors.count < maxReported
                }
            } catch {
                errors.append(RecordError(index: error.recordIndex ?? 0, message: error.message))
            }
        }
        return errors
    }

    /// One side's rule with its per-batch cache: the last schema id that passed the id check.
    struct Side {
        let rule: SchemaValidationPolicy.Side
        let isKey: Bool
        let topicSubject: String
        let topicPrefix: String
        var lastGoodId: Int32?

        init(rule: SchemaValidationPolicy.Side, topic: String, isKey: Bool) {
            self.rule = rule
            self.isKey = isKey
            topicSubject = topic + (isKey ? "-key" : "-value")
            topicPrefix = topic + "-"
        }

        mutating func problem(_ buffer: UnsafeBufferPointer<UInt8>, _ range: Range<Int>?, registry: RegistrySnapshot) -> String? {
            guard let range else { return nil }
            guard range.count >= 5 else {
                return "has no schema id: \(range.count) bytes, expected magic byte 0 and a 4-byte schema id first"
            }
            let s = range.lowerBound
            guard buffer[s] == 0 else {
                return "does not start with magic byte 0 (found 0x\(String(buffer[s], radix: 16))): not in the schema registry's wire format"
            }
            let id = Int32(bitPattern: UInt32(buffer[s + 1]) << 24 | UInt32(buffer[s + 2]) << 16
                           | UInt32(buffer[s + 3]) << 8 | UInt32(buffer[s + 4]))
            // Id mode's fast path: the id that passed for the previous record passes again.
            if id == lastGoodId { return nil }
            guard let entry = registry.byId[id] else { return "has unknown schema id \(id)" }
            do {
                let subject: String
                switch rule.strategy {
                case .topicName:
                    subject = topicSubject
                case .recordName, .topicRecordName:
                    guard let name = entry.recordName else {
                        return "schema id \(id) has no record name (\(rule.strategy.rawValue) needs a named Avro type or a JSON Schema title)"
                    }
                    subject = rule.strategy == .recordName ? name : topicPrefix + name
                }
                guard entry.liveSubjects.contains(subject) else {
                    return "schema id \(id) is not registered under subject '\(subject)' (\(rule.strategy.rawValue))"
                }
                if !rule.payload { lastGoodId = id }
            }
            guard rule.payload else { return nil }
            let payload = ArraySlice(UnsafeBufferPointer(rebasing: buffer[(s + 5)..<range.upperBound]))
            switch entry.parsed {
            case .avro(let schema)?:
                do {
                    try AvroBinary.validate(payload, schema: schema)
                } catch {
                    return "does not match Avro schema id \(id): \(error.description)"
                }
            case .json(let document)?:
                let value: JSONValue
                do {
                    value = try JSONParser().parse(Array(payload))  // one copy per record, payload mode only
                } catch {
                    return "is not JSON (schema id \(id)): \(error.description)"
                }
                let problems = document.validate(value)
                if let first = problems.first {
                    return "does not match JSON Schema id \(id): \(first.description)"
                        + (problems.count > 1 ? " (and \(problems.count - 1) more)" : "")
                }
            case nil:
                return "schema id \(id) cannot be used for payload validation (unsupported type or unresolved references)"
            }
            return nil
        }
    }
}

extension Broker {
    /// Broker-side schema validation of one partition's prepared bytes, outside every lock.
    /// Nil when the records pass; else the INVALID_RECORD answer with one `record_errors` entry
    /// per failing record (batch_index = the record's index in its batch).
    func validateSchemas(topic: String, _ bytes: [UInt8], policy: SchemaValidationPolicy, partition: Partition,
                         answer: inout ProduceResponse.PartitionProduceResponse) -> ProduceResponse.PartitionProduceResponse? {
        let registry = schemaRegistry?.snapshot ?? RegistrySnapshot()
        let errors = SchemaValidation.check(bytes, topic: topic, policy: policy, registry: registry)
        guard let first = errors.first else { return nil }
        answer.errorCode = KafkaError.invalidRecord.rawValue
        answer.errorMessage = errors.count == 1 ? first.message : "\(first.message) (and \(errors.count - 1) more failing records)"
        answer.recordErrors = errors.map {
            var e = ProduceResponse.BatchIndexAndErrorMessage()
            e.batchIndex = Int32($0.index)
            e.batchIndexErrorMessage = $0.message
            return e
        }
        answer.logStartOffset = partition.log.logStartOffset
        return answer
    }
}
