import Broker
import Compression
import Foundation
import KafkaClient
import KafkaProtocol

/// Codec names as Kafka's `compression.type` spells them.
func parseCodec(_ name: String?) throws(CLIError) -> CompressionCodec {
    switch name ?? "none" {
    case "none", "uncompressed": return .none
    case "gzip": return .gzip
    case "snappy": return .snappy
    case "lz4": return .lz4
    case "zstd": return .zstd
    default: throw CLIError("unknown compression '\(name ?? "")' (none, gzip, snappy, lz4, zstd)")
    }
}

func parseAcks(_ text: String?) throws(CLIError) -> Int16 {
    switch text ?? "all" {
    case "all", "-1": return -1
    case "1": return 1
    case "0": return 0
    default: throw CLIError("--acks must be 0, 1 or all")
    }
}

/// `sluice produce`: like kafka-console-producer, one record per stdin line; with
/// `--key-separator S` the text before the first S is the key. Lines are sent in batches.
enum ConsoleProducer {
    static func run(_ options: Options) throws {
        let topic = try options.required("topic")
        let partition = Int32(try options.int("partition", default: 0))
        let separator = options.string("key-separator")
        let acks = try parseAcks(options.string("acks"))
        let codec = try parseCodec(options.string("compression"))
        let batchRecords = try options.int("batch-records", default: 500)
        var headers: [RecordHeader] = []
        for item in options.all("header") {
            let (k, v) = try Topics.keyValue(item)
            headers.append(RecordHeader(key: k, value: Array(v.utf8)))
        }
        let client = try options.client(clientId: "sluice-console-producer")
        // Idempotence: a producer id and epoch (from InitProducerId unless given), and a sequence
        // per record. `--send-each-batch N` sends every batch N times, as a producer retrying after
        // lost acknowledgements would; the broker must answer the copies with the first offsets.
        var producerId: Int64 = -1
        var producerEpoch: Int16 = -1
        var sequence = Int32(try options.int("sequence", default: 0))
        if options.has("idempotent") {
            if let given = options.string("producer-id") {
                guard let id = Int64(given) else { throw CLIError("--producer-id expects a number") }
                producerId = id
                producerEpoch = Int16(try options.int("producer-epoch", default: 0))
            } else {
                (producerId, producerEpoch) = try client.initProducerId()
            }
        }
        let sends = max(1, try options.int("send-each-batch", default: 1))
        func newBuilder() -> RecordBatchBuilder {
            RecordBatchBuilder(codec: codec, producerId: producerId, producerEpoch: producerEpoch,
                               baseSequence: producerId >= 0 ? sequence : -1)
        }
        var builder = newBuilder()
        var sent = 0
        var batches = 0
        var duplicates = 0
        func flush() throws {
            guard builder.recordCount > 0 else { return }
            let count = Int(builder.recordCount)
            let batch = try builder.build()
            var firstOffset: Int64?
            for _ in 0..<sends {
                let offset = try client.produce(topic: topic, partition: partition, batch: batch, acks: acks)
                if let first = firstOffset {
                    guard offset == first else {
                        throw CLIError("resent batch got offset \(offset), the original went to \(first)")
                    }
                    duplicates += 1
                } else {
                    firstOffset = offset
                }
            }
            sequence = sequence &+ Int32(count)
            builder = newBuilder()
            sent += count
            batches += 1
        }
        while let line = readLine(strippingNewline: true) {
            var key: [UInt8]?
            var value = Array(line.utf8)
            if let separator, let range = line.range(of: separator) {
                key = Array(line[..<range.lowerBound].utf8)
                value = Array(line[range.upperBound...].utf8)
            }
            builder.append(key: key, value: value, headers: headers, timestamp: SystemClock.nowMs())
            if Int(builder.recordCount) >= batchRecords { try flush() }
        }
        try flush()
        var summary = "sluice: produced \(sent) records in \(batches) batches to \(topic)-\(partition)"
        if producerId >= 0 {
            summary += " as producer \(producerId) epoch \(producerEpoch); \(duplicates) resent batches answered with their original offsets"
        }
        FileHandle.standardError.write(Data((summary + "\n").utf8))
    }
}

/// `sluice consume`: like kafka-console-consumer on one partition (default 0) or all of them.
enum ConsoleConsumer {
    static func run(_ options: Options) throws {
        let topic = try options.required("topic")
        let maxMessages = try options.int("max-messages", default: Int.max)
        let timeoutMs = try options.int("timeout-ms", default: maxMessages == Int.max ? Int.max : 10_000)
        let client = try options.client(clientId: "sluice-console-consumer")
        let partitions: [Int32]
        if let p = options.string("partition") {
            guard let n = Int32(p) else { throw CLIError("--partition expects a number") }
            partitions = [n]
        } else {
            let meta = try client.metadata(topics: [topic])
            guard let t = meta.topics.first, t.errorCode == 0 else {
                throw CLIError("topic \(topic): \(KafkaError(meta.topics.first?.errorCode ?? 3))")
            }
            partitions = t.partitions.map(\.partitionIndex).sorted()
        }
        var positions: [Int32: Int64] = [:]
        for p in partitions {
            if let o = options.string("offset") {
                guard let n = Int64(o) else { throw CLIError("--offset expects a number") }
                positions[p] = n
            } else {
                positions[p] = try client.listOffset(topic: topic, partition: p,
                                                     timestamp: options.has("from-beginning") ? -2 : -1).offset
            }
        }
        var printed = 0
        var lastProgress = SystemClock.monotonicNs()
        let out = FileHandle.standardOutput
        while printed < maxMessages {
            var gotAny = false
            for p in partitions where printed < maxMessages {
                let data = try client.fetch(topic: topic, partition: p, offset: positions[p]!,
                                            maxWaitMs: partitions.count > 1 ? 100 : 500)
                if data.errorCode != 0 { throw CLIError("fetch \(topic)-\(p): \(KafkaError(data.errorCode))") }
                let records = data.records ?? []
                for (start, header) in RecordBatches.batches(in: records) {
                    if header.isControl {
                        positions[p] = header.lastOffset + 1
                        continue
                    }
                    for record in try RecordBatches.records(in: records, batchStart: start,
                                                            maxDecompressedSize: 256 << 20) {
                        let offset = header.baseOffset + Int64(record.offsetDelta)
                        if offset < positions[p]! { continue }
                        var line = ""
                        if options.has("print-offset") { line += "\(p):\(offset)\t" }
                        if options.has("print-headers") {
                            line += record.headers.map { "\($0.key):\(String(decoding: $0.value ?? [], as: UTF8.self))" }
                                .joined(separator: ",") + "\t"
                        }
                        if options.has("print-key") {
                            line += (record.key.map { String(decoding: $0, as: UTF8.self) } ?? "null") + "\t"
                        }
                        line += record.value.map { String(decoding: $0, as: UTF8.self) } ?? "null"
                        out.write(Data((line + "\n").utf8))
                        printed += 1
                        positions[p] = offset + 1
                        gotAny = true
                        if printed >= maxMessages { break }
                    }
                    if printed >= maxMessages { break }
                    positions[p] = max(positions[p]!, header.lastOffset + 1)
                }
            }
            if gotAny {
                lastProgress = SystemClock.monotonicNs()
            } else if timeoutMs != Int.max && SystemClock.monotonicNs() - lastProgress > UInt64(timeoutMs) * 1_000_000 {
                break
            }
        }
        FileHandle.standardError.write(Data("sluice: consumed \(printed) records\n".utf8))
    }
}
