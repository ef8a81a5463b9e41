import KafkaProtocol

/// Where one idempotent batch landed: its sequence range and offsets.
public struct ProducerBatchInfo: Equatable, Sendable {
    public var firstSequence: Int32
    public var lastSequence: Int32
    public var firstOffset: Int64
    public var lastOffset: Int64
    public var maxTimestamp: Int64

    public init(firstSequence: Int32, lastSequence: Int32, firstOffset: Int64, lastOffset: Int64, maxTimestamp: Int64) {
        self.firstSequence = firstSequence
        self.lastSequence = lastSequence
        self.firstOffset = firstOffset
        self.lastOffset = lastOffset
        self.maxTimestamp = maxTimestamp
    }
}

/// What the broker remembers of one producer on one partition.
public struct ProducerEntry: Equatable, Sendable {
    public var producerId: Int64
    public var epoch: Int16
    /// The most recent batches, oldest first, at most `ProducerStateTable.batchesKept`.
    public var batches: [ProducerBatchInfo]
    /// Time of the producer's last write (max timestamp of its last batch or the append time).
    public var lastTimestamp: Int64
    /// Epoch of the transaction coordinator that wrote this producer's last end marker (-1: none);
    /// a marker from an older coordinator is fenced.
    public var coordinatorEpoch: Int32 = -1
    /// Offset of the first batch of the producer's open transaction here (-1: none). Kept in
    /// snapshots (Kafka's `CurrentTxnFirstOffset`); the log's own view (`ongoingTransactions`)
    /// is rebuilt from the data and always agrees.
    public var currentTxnFirstOffset: Int64 = -1

    public var lastSequence: Int32 { batches.last?.lastSequence ?? -1 }
}

/// The idempotent-producer table of one partition (KIP-98): per producer id the current epoch and
/// the sequence ranges and offsets of its last five batches. Pure: the caller supplies offsets and
/// time, and persists `snapshot()` bytes.
///
/// Rules, as Kafka applies them to a batch (producer id ≥ 0):
/// * an epoch older than the known one → INVALID_PRODUCER_EPOCH;
/// * the same epoch and a sequence range equal to one of the cached batches → a duplicate,
///   answered with the original offsets and not appended again;
/// * a newer epoch must start at sequence 0, unless the producer is unknown here;
/// * the same epoch must continue at last sequence + 1 (wrapping after Int32.max), else
///   OUT_OF_ORDER_SEQUENCE_NUMBER.
/// An unknown producer may start at any sequence (its state may have expired).
/// Transactions (KIP-98): a transactional batch opens the producer's transaction here if none is
/// open; an end marker (`recordMarker`) closes it; while one is open, a non-transactional batch of
/// the same producer epoch is refused with INVALID_TXN_STATE, as Kafka does.
public struct ProducerStateTable: Sendable, Equatable {
    public static let batchesKept = 5

    public private(set) var entries: [Int64: ProducerEntry] = [:]

    public init() {}

    public enum Verdict: Equatable, Sendable {
        case append
        case duplicate(ProducerBatchInfo)
        case reject(KafkaError, String)
    }

    public func check(
        producerId: Int64, epoch: Int16, firstSequence: Int32, lastSequence: Int32, isTransactional: Bool = false
    ) -> Verdict {
        guard producerId >= 0 else { return .append }
        guard let entry = entries[producerId] else { return .append }
        if !isTransactional && epoch == entry.epoch && entry.currentTxnFirstOffset >= 0 {
            return .reject(.invalidTxnState,
                           "Expected a transactional write from producer \(producerId): it has an open transaction")
        }
        if epoch < entry.epoch {
            return .reject(.invalidProducerEpoch,
                           "Producer \(producerId)'s epoch \(epoch) is older than the current epoch \(entry.epoch)")
        }
        if epoch == entry.epoch {
            if let original = entry.batches.first(where: {
                $0.firstSequence == firstSequence && $0.lastSequence == lastSequence
            }) {
                return .duplicate(original)
            }
            if !Self.inSequence(last: entry.lastSequence, next: firstSequence) && !entry.batches.isEmpty {
                return .reject(.outOfOrderSequenceNumber,
                               "Out of order sequence number for producer \(producerId): \(firstSequence) "
                                   + "(incoming), \(entry.lastSequence) (current end)")
            }
            return .append
        }
        if firstSequence != 0 {
            return .reject(.outOfOrderSequenceNumber,
                           "Invalid sequence number for new epoch \(epoch) of producer \(producerId): \(firstSequence)")
        }
        return .append
    }

    static func inSequence(last: Int32, next: Int32) -> Bool {
        next == last &+ 1 || (next == 0 && last == Int32.max)
    }

    /// Records an appended (or replayed) batch; a transactional one opens the producer's
    /// transaction at its first offset unless one is open.
    public mutating func record(
        producerId: Int64, epoch: Int16, batch: ProducerBatchInfo, now: Int64, isTransactional: Bool = false
    ) {
        precondition(producerId >= 0, "only idempotent batches carry producer state")
        var entry = entries[producerId]
            ?? ProducerEntry(producerId: producerId, epoch: epoch, batches: [], lastTimestamp: now)
        if epoch != entry.epoch {
            entry.epoch = epoch
            entry.batches.removeAll()
        }
        entry.batches.append(batch)
        if entry.batches.count > Self.batchesKept { entry.batches.removeFirst(entry.batches.count - Self.batchesKept) }
        entry.lastTimestamp = max(now, batch.maxTimestamp)
        if isTransactional && entry.currentTxnFirstOffset < 0 { entry.currentTxnFirstOffset = batch.firstOffset }
        entries[producerId] = entry
    }

    /// Whether an end marker from this producer epoch and coordinator epoch may be written, as
    /// Kafka checks it: an older producer epoch → INVALID_PRODUCER_EPOCH; an older coordinator
    /// epoch than the last marker's → TRANSACTION_COORDINATOR_FENCED. A newer producer epoch is
    /// accepted (the coordinator bumped it, KIP-890).
    public func checkMarker(producerId: Int64, epoch: Int16, coordinatorEpoch: Int32) -> (KafkaError, String)? {
        guard let entry = entries[producerId] else { return nil }
        if epoch < entry.epoch {
            return (.invalidProducerEpoch,
                    "Producer \(producerId)'s epoch \(epoch) is older than the current epoch \(entry.epoch)")
        }
        if coordinatorEpoch < entry.coordinatorEpoch {
            return (.transactionCoordinatorFenced,
                    "Coordinator epoch \(coordinatorEpoch) is older than \(entry.coordinatorEpoch) for producer \(producerId)")
        }
        return nil
    }

    /// Records an appended (or replayed) end marker: the producer's transaction is closed.
    public mutating func recordMarker(producerId: Int64, epoch: Int16, coordinatorEpoch: Int32, now: Int64) {
        var entry = entries[producerId]
            ?? ProducerEntry(producerId: producerId, epoch: epoch, batches: [], lastTimestamp: now)
        if epoch != entry.epoch {
            entry.epoch = epoch
            entry.batches.removeAll()
        }
        entry.coordinatorEpoch = coordinatorEpoch
        entry.currentTxnFirstOffset = -1
        entry.lastTimestamp = max(entry.lastTimestamp, now)
        entries[producerId] = entry
    }

    /// Forgets producers idle for longer than `expirationMs` (producer.id.expiration.ms).
    public mutating func expire(now: Int64, expirationMs: Int64) -> Int {
        let before = entries.count
        // A producer with an open transaction stays (Kafka does not expire those either).
        entries = entries.filter { now - $0.value.lastTimestamp <= expirationMs || $0.value.currentTxnFirstOffset >= 0 }
        return before - entries.count
    }

    /// Drops state for batches at or after `offset` (log truncation); entries left without a batch
    /// are removed, as a rebuild from the shorter log would have them.
    public mutating func truncate(to offset: Int64) {
        for (id, var entry) in entries {
            entry.batches.removeAll { $0.lastOffset >= offset }
            if entry.currentTxnFirstOffset >= offset { entry.currentTxnFirstOffset = -1 }
            entries[id] = entry.batches.isEmpty ? nil : entry
        }
    }

    // MARK: Snapshots (Kafka's `<offset>.snapshot` layout, RECORDS.md §4.6)

    static let snapshotVersion: Int16 = 1

    /// int16 version, uint32 CRC-32C of what follows, int32 count, then rows of: producer id,
    /// epoch, last sequence, last offset, offset delta, timestamp, coordinator epoch, current
    /// transaction first offset — Kafka's layout (the timestamp is the producer's last write). Kafka writes one row per producer (its last
    /// batch); we write one row per remembered batch, oldest first, so that all five batches a
    /// producer may retry are still recognised after a restart. A reader that keeps the last row
    /// per producer (as Kafka's does) still gets the latest batch.
    public func snapshot() -> [UInt8] {
        var rows = 0
        var body = WireWriter(capacity: 4 + entries.count * 42 * Self.batchesKept)
        body.writeInt32(0)  // row count, patched below
        for entry in entries.values.sorted(by: { $0.producerId < $1.producerId }) {
            let batches: [ProducerBatchInfo?] = entry.batches.isEmpty ? [nil] : entry.batches.map { $0 }
            for batch in batches {
                body.writeInt64(entry.producerId)
                body.writeInt16(entry.epoch)
                body.writeInt32(batch?.lastSequence ?? -1)
                body.writeInt64(batch?.lastOffset ?? -1)
                body.writeInt32(batch.map { $0.lastSequence &- $0.firstSequence } ?? 0)
                body.writeInt64(entry.lastTimestamp)
                body.writeInt32(entry.coordinatorEpoch)
                body.writeInt64(entry.currentTxnFirstOffset)
                rows += 1
            }
        }
        body.patchInt32(Int32(rows), at: 0)
        var out = WireWriter(capacity: body.count + 6)
        out.writeInt16(Self.snapshotVersion)
        out.writeUInt32(CRC32C.checksum(body.bytes))
        out.writeRawBytes(body.bytes)
        return out.bytes
    }

    public enum SnapshotError: Error, Equatable {
        case unsupportedVersion(Int16)
        case checksumMismatch
        case malformed(DecodeError)
    }

    public static func load(snapshot bytes: [UInt8]) throws(SnapshotError) -> ProducerStateTable {
        var r = WireReader(bytes)
        do {
            let version = try r.readInt16()
            guard version == snapshotVersion else { throw SnapshotError.unsupportedVersion(version) }
            let crc = try r.readUInt32()
            guard CRC32C.checksum(bytes, from: 6) == crc else { throw SnapshotError.checksumMismatch }
            guard let count = try r.readArrayCount(flexible: false) else { throw SnapshotError.malformed(.unexpectedNull("entries")) }
            var table = ProducerStateTable()
            for _ in 0..<count {
                let id = try r.readInt64()
                let epoch = try r.readInt16()
                let lastSequence = try r.readInt32()
                let lastOffset = try r.readInt64()
                let offsetDelta = try r.readInt32()
                let timestamp = try r.readInt64()
                let coordinatorEpoch = try r.readInt32()
                let txnFirstOffset = try r.readInt64()
                var entry = table.entries[id] ?? ProducerEntry(
                    producerId: id, epoch: epoch, batches: [], lastTimestamp: timestamp,
                    coordinatorEpoch: coordinatorEpoch, currentTxnFirstOffset: txnFirstOffset)
                if lastOffset >= 0 {
                    entry.batches.append(ProducerBatchInfo(
                        firstSequence: lastSequence &- offsetDelta, lastSequence: lastSequence,
                        firstOffset: lastOffset - Int64(offsetDelta), lastOffset: lastOffset, maxTimestamp: timestamp))
                    if entry.batches.count > batchesKept { entry.batches.removeFirst() }
                }
                entry.epoch = epoch
                entry.lastTimestamp = max(entry.lastTimestamp, timestamp)
                table.entries[id] = entry
            }
            guard r.isAtEnd else { throw SnapshotError.malformed(.invalidValue("trailing bytes")) }
            return table
        } catch let e as SnapshotError {
            throw e
        } catch let e as DecodeError {
            throw .malformed(e)
        } catch {
            throw .malformed(.invalidValue("\(error)"))
        }
    }
}
