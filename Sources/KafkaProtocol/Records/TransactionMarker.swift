/// A transaction's end marker (KIP-98): the single record of a control batch (attributes control
/// and transactional set, the producer's id and epoch, base sequence -1), written by a partition
/// leader when the coordinator commits or aborts. Kafka's control record layout:
/// key = int16 version (0) + int16 type (0 ABORT, 1 COMMIT);
/// value = int16 version (0) + int32 coordinator epoch.
public struct TransactionMarker: Equatable, Sendable {
    public enum Kind: Int16, Sendable {
        case abort = 0
        case commit = 1
    }

    public var kind: Kind
    public var coordinatorEpoch: Int32

    public init(kind: Kind, coordinatorEpoch: Int32) {
        self.kind = kind
        self.coordinatorEpoch = coordinatorEpoch
    }

    public var isCommit: Bool { kind == .commit }

    static let keyVersion: Int16 = 0
    static let valueVersion: Int16 = 0

    /// The control batch carrying this marker, offset 0, ready to append.
    public func batch(producerId: Int64, producerEpoch: Int16, timestamp: Int64) -> [UInt8] {
        var key = WireWriter(capacity: 4)
        key.writeInt16(Self.keyVersion)
        key.writeInt16(kind.rawValue)
        var value = WireWriter(capacity: 6)
        value.writeInt16(Self.valueVersion)
        value.writeInt32(coordinatorEpoch)
        var builder = RecordBatchBuilder(isTransactional: true, isControl: true, producerId: producerId,
                                         producerEpoch: producerEpoch, baseSequence: -1, estimatedRecordBytes: 32)
        builder.append(key: key.bytes, value: value.bytes, timestamp: timestamp)
        // Uncompressed batches cannot fail to build.
        return (try? builder.build()) ?? []
    }

    /// The marker in the control batch starting at `start` of `bytes` (whole batch present), or
    /// nil when it is not a control batch or its first record is not an end marker of a known
    /// type and version (Kafka ignores other control records, so do we).
    public static func parse(_ bytes: [UInt8], batchStart start: Int = 0) -> TransactionMarker? {
        guard let header = try? RecordBatchHeader(from: bytes, at: start), header.isControl,
              header.compressionCodec == 0, header.recordsCount >= 1,
              start + header.totalSize <= bytes.count else { return nil }
        var reader = WireReader(bytes, from: start + RecordBatchHeader.size, to: start + header.totalSize)
        do {
            _ = try reader.readVarint()   // record length
            _ = try reader.readInt8()     // attributes
            _ = try reader.readVarlong()  // timestamp delta
            _ = try reader.readVarint()   // offset delta
            guard try reader.readVarint() >= 4, try reader.readInt16() == keyVersion,
                  let kind = Kind(rawValue: try reader.readInt16()) else { return nil }
            guard try reader.readVarint() >= 6 else { return nil }
            _ = try reader.readInt16()    // value version: later versions only append fields
            return TransactionMarker(kind: kind, coordinatorEpoch: try reader.readInt32())
        } catch {
            return nil
        }
    }
}
