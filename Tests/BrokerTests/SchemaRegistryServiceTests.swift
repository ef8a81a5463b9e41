import Foundation
import Compression
import KafkaProtocol
import SchemaRegistry
import Testing
@testable import Broker


private func makeBroker(_ dir: String) throws -> Broker {
    var config = BrokerConfig()
    try config.apply(overrides: ["log.dirs=\(dir)", "schema.registry.listeners=http://127.0.0.1:0",
                                 "group.initial.rebalance.delay.ms=0"])
    return try Broker(config: config)
}

private func post(_ b: Broker, _ path: [String], _ body: String) -> RegistryResponse {
    b.schemaRegistry!.handle(RegistryRequest(method: "POST", path: path, body: Array(body.utf8)))
}

private func schemaBody(_ schema: String, type: String = "AVRO") -> String {
    JSONValue.object(JSONObject([("schema", .string(schema)), ("schemaType", .string(type))])).serialized()
}

private let user = #"{"type":"record","name":"User","namespace":"ex","fields":[{"name":"name","type":"string"},{"name":"age","type":"int"}]}"#

/// Avro binary of User{name, age}: zig-zag varint length + UTF-8, zig-zag varint.
private func avroUser(_ name: String, _ age: Int) -> [UInt8] {
    func zz(_ n: Int) -> [UInt8] {
        var z = UInt64(bitPattern: Int64((n << 1) ^ (n >> 63)))
        var out: [UInt8] = []
        while z >= 0x80 { out.append(UInt8(z & 0x7f) | 0x80); z >>= 7 }
        out.append(UInt8(z))
        return out
    }
    return zz(name.utf8.count) + Array(name.utf8) + zz(age)
}

private func framed(_ id: Int32, _ payload: [UInt8]) -> [UInt8] {
    [0] + withUnsafeBytes(of: id.bigEndian) { Array($0) } + payload
}

@Suite(.serialized) struct SchemaRegistryServiceTests {
    @Test func stateIsReplayedFromTheSchemasTopic() throws {
        let dir = makeTemporaryDirectory("registry")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            let b = try makeBroker(dir)
            #expect(post(b, ["subjects", "a-value", "versions"], schemaBody(user)).body == #"{"id":1,"version":1}"#)
            #expect(post(b, ["subjects", "b-value", "versions"], schemaBody(#""string""#)).status == 200)
            _ = b.schemaRegistry!.handle(RegistryRequest(method: "PUT", path: ["config", "a-value"],
                                                         body: Array(#"{"compatibility":"FULL"}"#.utf8)))
            _ = b.schemaRegistry!.handle(RegistryRequest(method: "DELETE", path: ["subjects", "b-value"]))
            #expect(b.metadata.topic("_schemas")?.configs["cleanup.policy"] == "compact")
            b.shutdown()
        }
        let again = try makeBroker(dir)
        defer { again.shutdown() }
        let state = again.schemaRegistry!.currentState
        #expect(state.liveVersions("a-value").map(\.id) == [1] && state.liveVersions("b-value").isEmpty)
        #expect(state.subjectLevels["a-value"] == .full && state.maxId == 2)
        #expect(post(again, ["subjects", "c-value", "versions"], schemaBody(#""bytes""#)).body == #"{"id":3,"version":1}"#)
    }

    @Test func concurrentRegistrationsNeverShareIdsOrVersions() throws {
        let dir = makeTemporaryDirectory("registry")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let b = try makeBroker(dir)
        defer { b.shutdown() }
        _ = b.schemaRegistry!.handle(RegistryRequest(method: "PUT", path: ["config"], body: Array(#"{"compatibility":"NONE"}"#.utf8)))
        DispatchQueue.concurrentPerform(iterations: 40) { i in
            _ = post(b, ["subjects", "s\(i % 3)", "versions"],
                     schemaBody(#"{"type":"fixed","name":"F\#(i)","size":\#(i + 1)}"#))
        }
        let state = b.schemaRegistry!.currentState
        let all = state.subjects.values.flatMap { $0 }
        #expect(all.count == 40 && Set(all.map(\.id)).count == 40)
        for versions in state.subjects.values { #expect(versions.map(\.version) == Array(1...versions.count)) }
    }

    @Test func produceValidationInIdAndPayloadModes() throws {
        let dir = makeTemporaryDirectory("registry")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let b = try makeBroker(dir)
        defer { b.shutdown() }
        let id = Int32(1)
        #expect(post(b, ["subjects", "orders-value", "versions"], schemaBody(user)).status == 200)
        try b.replicas.createTopic(TopicMetadata(name: "orders", id: KafkaUUID.random().description, partitionCount: 1,
                                                 configs: ["value.schema.validation": "true",
                                                           "value.schema.validation.level": "payload"],
                                                 isInternal: false, leaderEpoch: 0))
        func produce(_ values: [[UInt8]?]) -> ProduceResponse.PartitionProduceResponse {
            var builder = RecordBatchBuilder(baseTimestamp: SystemClock.nowMs())
            for v in values { builder.append(key: nil, value: v, timestamp: SystemClock.nowMs()) }
            var bytes: [UInt8]? = try? builder.build()
            return b.appendRecords(topic: "orders", partition: 0, records: &bytes, now: SystemClock.nowMs())
        }
        let ok = produce([framed(id, avroUser("ann", 30)), nil, framed(id, avroUser("bob", 7))])
        #expect(ok.errorCode == 0 && ok.baseOffset == 0)
        let bad = produce([framed(id, avroUser("ann", 30)), framed(id, Array(avroUser("x", 1).dropLast())),
                           Array("text".utf8), framed(9, [])])
        #expect(bad.errorCode == KafkaError.invalidRecord.rawValue)
        #expect(bad.recordErrors.map(\.batchIndex) == [1, 2, 3])
        #expect(bad.recordErrors[0].batchIndexErrorMessage?.contains("does not match Avro schema id 1") == true)
        #expect(bad.recordErrors[1].batchIndexErrorMessage?.contains("has no schema id") == true)
        #expect(bad.recordErrors[2].batchIndexErrorMessage?.contains("unknown schema id 9") == true)
        #expect(b.replicas.partition("orders", 0)!.log.logEndOffset == 3)  // the failed batch wrote nothing
    }

    @Test func keyValidationWithRecordStrategiesAndCompressedBatches() throws {
        let dir = makeTemporaryDirectory("registry")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let b = try makeBroker(dir)
        defer { b.shutdown() }
        // ex.User registered under "keys-ex.User" (TopicRecordNameStrategy) and "ex.User" (RecordNameStrategy).
        #expect(post(b, ["subjects", "keys-ex.User", "versions"], schemaBody(user)).status == 200)
        #expect(post(b, ["subjects", "other", "versions"], schemaBody(#""string""#)).status == 200)  // id 2, no record name
        func topic(_ name: String, _ strategy: String) throws {
            try b.replicas.createTopic(TopicMetadata(name: name, id: KafkaUUID.random().description, partitionCount: 1,
                                                     configs: ["key.schema.validation": "true", "key.subject.name.strategy": strategy],
                                                     isInternal: false, leaderEpoch: 0))
        }
        try topic("keys", "io.confluent.kafka.serializers.subject.TopicRecordNameStrategy")
        try topic("keys2", "RecordNameStrategy")
        func produce(_ t: String, _ keys: [[UInt8]?], codec: CompressionCodec = .none) -> ProduceResponse.PartitionProduceResponse {
            var builder = RecordBatchBuilder(codec: codec, baseTimestamp: SystemClock.nowMs())
            for k in keys { builder.append(key: k, value: Array("plain value".utf8), timestamp: SystemClock.nowMs()) }
            var bytes: [UInt8]? = try? builder.build()
            return b.appendRecords(topic: t, partition: 0, records: &bytes, now: SystemClock.nowMs())
        }
        let good = framed(1, avroUser("k", 1))
        for codec in [CompressionCodec.none, .lz4, .zstd, .gzip, .snappy] {
            #expect(produce("keys", [good, nil, good], codec: codec).errorCode == 0, "\(codec)")
            let bad = produce("keys", [good, framed(2, [1])], codec: codec)
            #expect(bad.errorCode == KafkaError.invalidRecord.rawValue && bad.recordErrors.map(\.batchIndex) == [1], "\(codec)")
            #expect(bad.recordErrors.first?.batchIndexErrorMessage?.contains("key schema id 2 has no record name") == true)
        }
        // RecordNameStrategy wants subject "ex.User", which does not exist yet.
        let refused = produce("keys2", [good])
        #expect(refused.recordErrors.first?.batchIndexErrorMessage?.contains("not registered under subject 'ex.User'") == true)
        #expect(post(b, ["subjects", "ex.User", "versions"], schemaBody(user)).status == 200)
        #expect(produce("keys2", [good]).errorCode == 0)
    }
}
