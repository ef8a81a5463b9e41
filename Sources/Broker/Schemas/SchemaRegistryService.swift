import Foundation
import KafkaProtocol
import LogStore
import SchemaRegistry
import Synchronization

/// The schema registry's I/O shell: the `_schemas` topic, the state replayed from it, and the
/// snapshot the produce path validates against.
///
/// Threads: REST requests arrive on HTTP connection threads and run one at a time under `state`'s
/// lock: the pure `RegistryAPI` decides, the records are appended to `_schemas` (one batch,
/// `appendInternal`, the topic has `flush.messages=1`), and only once the append returned are they
/// applied to the state and the answer released. Ids and versions are therefore never handed out
/// twice, and an acknowledged change survives `kill -9` (and a machine crash). The produce path
/// reads `snapshot`, an immutable value swapped after each change, so it never waits for the registry.
public final class SchemaRegistryService: Sendable {
    public static let topic = RegistryRecordCodec.topic
    private let state: Mutex<RegistryState>
    private let published: Mutex<RegistrySnapshot>
    let replicas: ReplicaManager

    init(config: BrokerConfig, replicas: ReplicaManager) throws {
        self.replicas = replicas
        let levelText = (config.string("schema.registry.schema.compatibility.level") ?? "backward").uppercased()
        guard let level = CompatibilityLevel(rawValue: levelText) else {
            throw ConfigError("schema.registry.schema.compatibility.level: unknown level '\(levelText)' "
                              + "(NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE)")
        }
        if replicas.metadata.topic(Self.topic) == nil {
            try replicas.createTopic(TopicMetadata(name: Self.topic, id: KafkaUUID.random().description, partitionCount: 1,
                                                   configs: ["cleanup.policy": "compact", "flush.messages": "1"],
                                                   isInternal: true, leaderEpoch: 0))
        }
        let draftText = config.string("schema.registry.json.schema.spec.version") ?? JSONSchemaDraft.draft7.specVersionName
        guard let draft = JSONSchemaDraft(specVersionName: draftText) else {
            throw ConfigError("schema.registry.json.schema.spec.version: unknown draft '\(draftText)' ("
                              + JSONSchemaDraft.allCases.map(\.specVersionName).joined(separator: ", ") + ")")
        }
        var loaded = RegistryState(defaultLevel: level, jsonSchemaDefaultDraft: draft)
        if let partition = replicas.partition(Self.topic, 0) {
            for record in Self.replay(partition) { loaded.apply(record) }
        }
        state = Mutex(loaded)
        published = Mutex(loaded.snapshot())
    }

    /// Every record of the partition, oldest first. After a crash everything in the log counts as
    /// committed (one node is the whole ISR), as for `__consumer_offsets`.
    static func replay(_ partition: Partition) -> [RegistryRecord] {
        let end = partition.log.updateHighWatermark(partition.log.logEndOffset)
        var offset = partition.log.logStartOffset
        var out: [RegistryRecord] = []
        while offset < end {
            guard let result = try? partition.log.read(from: offset, maxBytes: 1 << 20, maxOffset: end, minOneBatch: true),
                  result.nextOffset > offset else { break }
            for (start, header) in RecordBatches.batches(in: result.records) where !header.isControl {
                guard let records = try? RecordBatches.records(in: result.records, batchStart: start,
                                                               maxDecompressedSize: 64 << 20) else { continue }
                for (i, record) in records.enumerated() where header.baseOffset + Int64(i) >= offset {
                    if let r = RegistryRecordCodec.decode(key: record.key, value: record.value) { out.append(r) }
                }
            }
            offset = result.nextOffset
        }
        return out
    }

    /// What validation reads: swapped after every change.
    public var snapshot: RegistrySnapshot { published.withLock { $0 } }

    /// A copy of the current state (tests, tools).
    public var currentState: RegistryState { state.withLock { $0 } }

    /// Serves one REST request (see the type's comment for the order of events).
    public func handle(_ request: RegistryRequest, authorize: @escaping RegistryAuthorizer = { _, _ in true })
        -> RegistryResponse {
        state.withLock { s in
            let outcome = RegistryAPI.handle(request, state: s, authorize: authorize)
            guard case .write(let records, let response) = outcome else { return outcome.response }
            if let failure = write(records) { return RegistryResponse(.storeError(failure)) }
            for r in records { s.apply(r) }
            let next = s.snapshot()
            published.withLock { $0 = next }
            return response
        }
    }

    /// Appends the records as one batch; nil on success, else why not.
    private func write(_ records: [RegistryRecord]) -> String? {
        let now = SystemClock.nowMs()
        var builder = RecordBatchBuilder(baseTimestamp: now)
        for r in records {
            let (key, value) = RegistryRecordCodec.encode(r)
            builder.append(key: key, value: value, timestamp: now)
        }
        do {
            let batch = try builder.build()
            _ = try replicas.appendInternal(topic: Self.topic, partition: 0, batch: batch, now: now)
            return nil
        } catch {
            return "\(Self.topic): \(error)"
        }
    }
}
