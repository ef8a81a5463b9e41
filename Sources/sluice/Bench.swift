import Broker
import Compression
import Foundation
import KafkaClient
import KafkaProtocol
import Synchronization

/// `sluice bench produce|consume`: like kafka-producer-perf-test / kafka-consumer-perf-test.
/// Produce pipelines `--in-flight` requests per connection, one connection per partition, and
/// reports records/s, MB/s (10^6 payload bytes) and per-request ack latency percentiles.
enum Bench {
    static func run(_ sub: String, _ options: Options) throws {
        switch sub {
        case "produce": try produce(options)
        case "consume": try consume(options)
        case "validation": try validation(options)
        default: throw CLIError("unknown bench subcommand '\(sub)'")
        }
    }

    static func ensureTopic(_ client: KafkaClient, _ topic: String, partitions: Int32) throws -> [Int32] {
        let meta = try client.metadata(topics: [topic])
        if let t = meta.topics.first, t.errorCode == 0 { return t.partitions.map(\.partitionIndex).sorted() }
        try client.createTopic(topic, partitions: partitions)
        return Array(0..<partitions)
    }

    final class Results: Sendable {
        let latenciesNs = Mutex<[UInt64]>([])
        let records = Atomic<Int>(0)
        let failure = Mutex<String?>(nil)
    }

    static func produce(_ options: Options) throws {
        let topic = try options.required("topic")
        let total = try options.int("num-records", default: 1_000_000)
        // --value-file: every record's value is that file's bytes (schema-validation benches).
        var fileValue: [UInt8]?
        if let path = options.string("value-file") {
            guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read \(path)") }
            fileValue = Array(data)
        }
        let size = try fileValue?.count ?? options.int("record-size", default: 1024)
        let acks = try parseAcks(options.string("acks") ?? "1")
        let codec = try parseCodec(options.string("compression"))
        let batchBytes = try options.int("batch-size", default: 256 * 1024)
        let inFlight = max(1, try options.int("in-flight", default: 4))
        let admin = try options.client(clientId: "sluice-bench")
        let partitions = try ensureTopic(admin, topic, partitions: Int32(try options.int("partitions", default: 3)))
        let payload = fileValue ?? (0..<size).map { i in UInt8(truncatingIfNeeded: 0x61 + (i * 7 + i / 13) % 26) }
        let recordsPerBatch = max(1, batchBytes / max(1, size + 10))
        let results = Results()
        let share = total / partitions.count
        let start = SystemClock.monotonicNs()
        var threads: [Thread] = []
        let done = DispatchGroup()
        for (i, partition) in partitions.enumerated() {
            let count = i == partitions.count - 1 ? total - share * (partitions.count - 1) : share
            done.enter()
            let thread = Thread {
                defer { done.leave() }
                do {
                    let client = try options.client(clientId: "sluice-bench-\(i)")
                    let version = try client.connection.version(for: ProduceRequest.self)
                    var sentAt: [UInt64] = []
                    var latencies: [UInt64] = []
                    latencies.reserveCapacity(count / recordsPerBatch + 1)
                    var remaining = count
                    var outstanding = 0
                    func receiveOne() throws {
                        let response: ProduceResponse = try client.connection.receive()
                        let sent = sentAt.removeFirst()
                        latencies.append(SystemClock.monotonicNs() - sent)
                        outstanding -= 1
                        if let e = response.responses.first?.partitionResponses.first, e.errorCode != 0 {
                            throw CLIError("produce failed: \(KafkaError(e.errorCode))")
                        }
                    }
                    while remaining > 0 {
                        let n = min(recordsPerBatch, remaining)
                        var builder = RecordBatchBuilder(codec: codec, estimatedRecordBytes: n * (size + 12))
                        let now = SystemClock.nowMs()
                        for _ in 0..<n { builder.append(key: nil, value: payload, timestamp: now) }
                        let batch = try builder.build()
                        let request = KafkaClient.produceRequest(topic: topic, batches: [(partition, batch)], acks: acks)
                        if acks == 0 {
                            try client.connection.send(request, version: version, expectResponse: false)
                        } else {
                            while outstanding >= inFlight { try receiveOne() }
                            sentAt.append(SystemClock.monotonicNs())
                            try client.connection.send(request, version: version)
                            outstanding += 1
                        }
                        remaining -= n
                        results.records.add(n, ordering: .relaxed)
                    }
                    while outstanding > 0 { try receiveOne() }
                    results.latenciesNs.withLock { $0.append(contentsOf: latencies) }
                } catch {
                    results.failure.withLock { $0 = "\(error)" }
                }
            }
            threads.append(thread)
            thread.start()
        }
        let progress = Thread {
            while done.wait(timeout: .now() + 2) == .timedOut {
                let n = results.records.load(ordering: .relaxed)
                let secs = Double(SystemClock.monotonicNs() - start) / 1e9
                FileHandle.standardError.write(Data(String(format: "  %d records sent, %.0f records/s\n",
                                                           n, Double(n) / secs).utf8))
            }
        }
        progress.start()
        done.wait()
        let seconds = Double(SystemClock.monotonicNs() - start) / 1e9
        if let failure = results.failure.withLock({ $0 }) { throw CLIError(failure) }
        let latencies = results.latenciesNs.withLock { $0 }.sorted()
        func pct(_ p: Double) -> Double {
            guard !latencies.isEmpty else { return 0 }
            return Double(latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]) / 1e6
        }
        let mb = Double(total * size) / 1e6
        print(String(format: "RESULT mode=produce topic=%@ records=%d size=%d acks=%d compression=%@ secs=%.3f "
                     + "records_per_s=%.0f MB_per_s=%.2f latency_p50_ms=%.2f latency_p99_ms=%.2f latency_p999_ms=%.2f",
                     topic, total, size, Int(acks), "\(codec)", seconds, Double(total) / seconds, mb / seconds,
                     pct(0.5), pct(0.99), pct(0.999)))
    }

    static func consume(_ options: Options) throws {
        let topic = try options.required("topic")
        let total = try options.int("num-records", default: 1_000_000)
        let fetchBytes = Int32(try options.int("fetch-size", default: 8 << 20))
        let admin = try options.client(clientId: "sluice-bench")
        let meta = try admin.metadata(topics: [topic])
        guard let t = meta.topics.first, t.errorCode == 0 else { throw CLIError("topic \(topic) not found") }
        let partitions = t.partitions.map(\.partitionIndex).sorted()
        var positions: [Int32: Int64] = [:]
        var ends: [Int32: Int64] = [:]
        for p in partitions {
            positions[p] = try admin.listOffset(topic: topic, partition: p, timestamp: -2).offset
            ends[p] = try admin.listOffset(topic: topic, partition: p, timestamp: -1).offset
        }
        var records = 0
        var bytes = 0
        let start = SystemClock.monotonicNs()
        var idleRounds = 0
        while records < total && idleRounds < 50 {
            var progressed = false
            for p in partitions where positions[p]! < ends[p]! {
                let data = try admin.fetch(topic: topic, partition: p, offset: positions[p]!, maxBytes: fetchBytes,
                                           maxWaitMs: 100)
                let recordsBytes = data.records ?? []
                for (_, header) in RecordBatches.batches(in: recordsBytes) where header.lastOffset >= positions[p]! {
                    records += Int(header.recordsCount)
                    bytes += header.totalSize
                    positions[p] = header.lastOffset + 1
                    progressed = true
                }
            }
            idleRounds = progressed ? 0 : idleRounds + 1
        }
        let seconds = Double(SystemClock.monotonicNs() - start) / 1e9
        print(String(format: "RESULT mode=consume topic=%@ records=%d secs=%.3f records_per_s=%.0f MB_per_s=%.2f",
                     topic, records, seconds, Double(records) / seconds, Double(bytes) / 1e6 / seconds))
    }

    /// `bench validation --schema-file F --value-file F`: CPU per batch of produce preparation and
    /// of schema validation in id and payload mode (no broker needed).
    static func validation(_ options: Options) throws {
        let schemaPath = try options.required("schema-file")
        let valuePath = try options.required("value-file")
        guard let schema = try? String(contentsOfFile: schemaPath, encoding: .utf8),
              let value = FileManager.default.contents(atPath: valuePath) else {
            throw CLIError("cannot read \(schemaPath) or \(valuePath)")
        }
        let perBatch = try options.int("batch-records", default: 256)
        let r = try SchemaValidationBench.run(schema: schema, value: Array(value), recordsPerBatch: perBatch,
                                              iterations: try options.int("iterations", default: 2000))
        func f(_ x: Double) -> String { String(format: "%.1f", x) }
        print("RESULT mode=validation records_per_batch=\(r.recordsPerBatch) batch_bytes=\(r.batchBytes) "
              + "prepare_us=\(f(r.prepareNs / 1000)) id_us=\(f(r.idNs / 1000)) payload_us=\(f(r.payloadNs / 1000)) "
              + "id_ns_per_record=\(f(r.idNs / Double(perBatch))) payload_ns_per_record=\(f(r.payloadNs / Double(perBatch))) "
              + "id_vs_prepare_pct=\(f(100 * r.idNs / r.prepareNs))")
    }
}

