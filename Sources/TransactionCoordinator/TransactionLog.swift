import KafkaProtocol

/// Kafka's `__transaction_state` record layout: key = int16 version (0) + TransactionLogKey,
/// value = int16 version + TransactionLogValue; a null value is the tombstone of an expired id.
public enum TransactionLog {
    public static let topic = "__transaction_state"
    public static let defaultPartitions: Int32 = 50
    static let keyVersion: Int16 = 0
    /// Version 1 is flexible and so carries PreviousProducerId (a tagged field); Kafka 4 reads
    /// both versions.
    static let valueVersion: Int16 = 1

    public enum DecodeFailure: Error, Equatable, Sendable {
        case key(String)
        case value(String)
    }

    /// One replayed record: the id, and its metadata or nil for a tombstone.
    public struct Entry: Equatable, Sendable {
        public var transactionalId: String
        public var metadata: TransactionMetadata?
    }

    public static func encodeKey(_ transactionalId: String) -> [UInt8] {
        var w = WireWriter(capacity: 8 + transactionalId.utf8.count)
        w.writeInt16(keyVersion)
        var key = TransactionLogKey()
        key.transactionalId = transactionalId
        key.encode(to: &w, version: keyVersion)
        return w.bytes
    }

    /// The value for `metadata`, or nil (a tombstone) for Dead.
    public static func encodeValue(_ metadata: TransactionMetadata) -> [UInt8]? {
        guard metadata.state != .dead else { return nil }
        var value = TransactionLogValue()
        value.producerId = metadata.producerId
        value.previousProducerId = metadata.lastProducerId
        value.producerEpoch = metadata.producerEpoch
        value.transactionTimeoutMs = metadata.timeoutMs
        value.transactionStatus = metadata.state.rawValue
        // Kafka writes no partition list for Empty.
        if metadata.state == .empty {
            value.transactionPartitions = nil
        } else {
            let byTopic = Dictionary(grouping: metadata.partitions, by: \.topic)
            value.transactionPartitions = byTopic.keys.sorted().map { topic in
                var schema = TransactionLogValue.PartitionsSchema()
                schema.topic = topic
                schema.partitionIds = byTopic[topic]!.map(\.partition).sorted()
                return schema
            }
        }
        value.transactionLastUpdateTimestampMs = metadata.lastUpdateTimestamp
        value.transactionStartTimestampMs = metadata.startTimestamp
        var w = WireWriter(capacity: 64)
        w.writeInt16(valueVersion)
        value.encode(to: &w, version: valueVersion)
        return w.bytes
    }

    public static func decode(key: [UInt8], value: [UInt8]?) throws(DecodeFailure) -> Entry {
        var r = WireReader(key)
        let transactionalId: String
        do {
            let version = try r.readInt16()
            guard version == keyVersion else { throw DecodeFailure.key("key version \(version)") }
            transactionalId = try TransactionLogKey(from: &r, version: version).transactionalId
        } catch let failure as DecodeFailure {
            throw failure
        } catch {
            throw .key("\(error)")
        }
        guard let value else { return Entry(transactionalId: transactionalId, metadata: nil) }
        var vr = WireReader(value)
        let decoded: TransactionLogValue
        do {
            let version = try vr.readInt16()
            guard TransactionLogValue.specVersions.contains(version) else {
                throw DecodeFailure.value("value version \(version)")
            }
            decoded = try TransactionLogValue(from: &vr, version: version)
        } catch let failure as DecodeFailure {
            throw failure
        } catch {
            throw .value("\(error)")
        }
        guard let state = TransactionState(rawValue: decoded.transactionStatus) else {
            throw .value("transaction status \(decoded.transactionStatus)")
        }
        var partitions = Set<TransactionPartition>()
        for schema in decoded.transactionPartitions ?? [] {
            for id in schema.partitionIds { partitions.insert(TransactionPartition(schema.topic, id)) }
        }
        let metadata = TransactionMetadata(
            transactionalId: transactionalId, producerId: decoded.producerId,
            lastProducerId: decoded.previousProducerId, producerEpoch: decoded.producerEpoch,
            lastProducerEpoch: ProducerIdentity.noEpoch, timeoutMs: decoded.transactionTimeoutMs, state: state,
            partitions: partitions, startTimestamp: decoded.transactionStartTimestampMs,
            lastUpdateTimestamp: decoded.transactionLastUpdateTimestampMs)
        return Entry(transactionalId: transactionalId, metadata: metadata)
    }

    /// Java's String.hashCode: h = 31·h + c over the UTF-16 code units, wrapping at 32 bits.
    public static func javaHashCode(_ text: String) -> Int32 {
        var h: Int32 = 0
        for unit in text.utf16 { h = h &* 31 &+ Int32(unit) }
        return h
    }

    /// Kafka's Utils.abs: |n|, except Int32.min, which has no positive counterpart, gives 0.
    public static func kafkaAbs(_ n: Int32) -> Int32 {
        n == .min ? 0 : abs(n)
    }

    /// The partition of `__transaction_state` (or of `__consumer_offsets`, for a group id) that
    /// owns `id`: Kafka's `Utils.abs(id.hashCode) % partitions`.
    public static func partition(for id: String, partitions: Int32 = defaultPartitions) -> Int32 {
        kafkaAbs(javaHashCode(id)) % max(partitions, 1)
    }
}
