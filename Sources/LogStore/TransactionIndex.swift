// Transactions on a data partition (KIP-98): the producers with an open transaction, the last
// stable offset they hold back, and the per-segment aborted-transaction index (`.txnindex`).
import KafkaProtocol

/// One aborted transaction, as a `.txnindex` entry (Kafka's layout, 34 bytes big-endian):
/// int16 version (0), int64 producer id, int64 first offset, int64 last offset (the ABORT
/// marker's offset), int64 last stable offset (the LSO once this transaction was complete).
public struct AbortedTransaction: Equatable, Sendable {
    public static let size = 34
    static let version: Int16 = 0

    public var producerId: Int64
    public var firstOffset: Int64
    public var lastOffset: Int64
    public var lastStableOffset: Int64

    public init(producerId: Int64, firstOffset: Int64, lastOffset: Int64, lastStableOffset: Int64) {
        self.producerId = producerId
        self.firstOffset = firstOffset
        self.lastOffset = lastOffset
        self.lastStableOffset = lastStableOffset
    }

    var encoded: [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Self.size)
        bytes.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: Self.version.bigEndian, toByteOffset: 0, as: Int16.self)
            raw.storeBytes(of: producerId.bigEndian, toByteOffset: 2, as: Int64.self)
            raw.storeBytes(of: firstOffset.bigEndian, toByteOffset: 10, as: Int64.self)
            raw.storeBytes(of: lastOffset.bigEndian, toByteOffset: 18, as: Int64.self)
            raw.storeBytes(of: lastStableOffset.bigEndian, toByteOffset: 26, as: Int64.self)
        }
        return bytes
    }

    /// Nil for an entry of an unknown version.
    init?(loading raw: UnsafeRawBufferPointer, at p: Int) {
        func int64(_ field: Int) -> Int64 { Int64(bigEndian: raw.loadUnaligned(fromByteOffset: p + field, as: Int64.self)) }
        guard Int16(bigEndian: raw.loadUnaligned(fromByteOffset: p, as: Int16.self)) == Self.version else { return nil }
        producerId = int64(2)
        firstOffset = int64(10)
        lastOffset = int64(18)
        lastStableOffset = int64(26)
    }
}

/// A segment's `.txnindex`: the transactions aborted by ABORT markers in that segment, in marker
/// order. Entries are few (one per aborted transaction), so they are kept in memory and each new
/// one is written at once with pwrite; the file is exactly its entries. Every segment has the file
/// (empty when nothing aborted), so a missing one means it was lost and must be rebuilt. No
/// descriptor is held between writes: aborts are rare, and segments already hold three each.
/// Not thread-safe (owned by a `Segment`, under the partition's mutex).
final class TransactionIndexFile {
    private(set) var path: String
    private(set) var entries: [AbortedTransaction] = []
    /// False when the file was missing or held anything but whole entries of a known version
    /// (the segment's data is then walked to rebuild it).
    private(set) var loadedIntact: Bool
    /// Written since the last fsync.
    private var unsynced = false

    init(path: String) throws(LogStoreError) {
        self.path = path
        guard let bytes = try FileIO.readSmallFile(path) else {
            loadedIntact = false
            _ = try FileIO.open(path, create: true)  // closed again at once
            return
        }
        guard bytes.count % AbortedTransaction.size == 0 else {
            loadedIntact = false
            return
        }
        var loaded: [AbortedTransaction] = []
        let intact = bytes.withUnsafeBytes { raw -> Bool in
            for p in stride(from: 0, to: bytes.count, by: AbortedTransaction.size) {
                guard let entry = AbortedTransaction(loading: raw, at: p) else { return false }
                loaded.append(entry)
            }
            return true
        }
        loadedIntact = intact
        entries = intact ? loaded : []
    }

    func append(_ entry: AbortedTransaction) throws(LogStoreError) {
        let file = try FileIO.open(path, create: true)
        try FileIO.write(file, entry.encoded, at: entries.count * AbortedTransaction.size, path: path)
        entries.append(entry)
        unsynced = true
    }

    /// Replaces the contents (rebuild after recovery or truncation).
    func rewrite(_ fresh: [AbortedTransaction]) throws(LogStoreError) {
        let file = try FileIO.open(path, create: true)
        try FileIO.truncate(file, to: 0, path: path)
        entries = []
        var bytes: [UInt8] = []
        bytes.reserveCapacity(fresh.count * AbortedTransaction.size)
        for entry in fresh { bytes += entry.encoded }
        if !bytes.isEmpty { try FileIO.write(file, bytes, at: 0, path: path) }
        entries = fresh
        loadedIntact = true
        unsynced = true
    }

    func sync() throws(LogStoreError) {
        guard unsynced else { return }
        try FileIO.syncData(try FileIO.open(path, create: false), path: path)
        unsynced = false
    }

    func rename(to newPath: String) throws(LogStoreError) {
        try FileIO.rename(path, newPath)
        path = newPath
    }
}

/// The producers with an open transaction on one partition: producer id → offset of the first
/// batch of its current transaction. A transactional data batch opens one (if its producer has
/// none); an end marker closes it. The first unstable offset is the smallest first offset.
struct OngoingTransactions: Equatable {
    private(set) var firstOffsets: [Int64: Int64] = [:]

    init(firstOffsets: [Int64: Int64] = [:]) { self.firstOffsets = firstOffsets }

    var firstUnstableOffset: Int64? { firstOffsets.values.min() }

    /// Applies one batch (header fields) at `offset`; for an end marker returns the completed
    /// transaction: (first offset, whether it aborted).
    mutating func apply(producerId: Int64, isTransactional: Bool, isControl: Bool, firstOffset: Int64,
                        marker: () -> TransactionMarker?) -> (firstOffset: Int64, aborted: Bool)? {
        guard producerId >= 0, isTransactional else { return nil }
        if !isControl {
            if firstOffsets[producerId] == nil { firstOffsets[producerId] = firstOffset }
            return nil
        }
        guard let marker = marker() else { return nil }
        // A marker with nothing open (a retried or empty transaction) completes a transaction
        // that starts at the marker itself, as in Kafka.
        let first = firstOffsets.removeValue(forKey: producerId) ?? firstOffset
        return (first, marker.kind == .abort)
    }

    /// The last stable offset once a transaction ending at `markerOffset` has completed: the first
    /// offset of the transactions still open, else the offset after the marker.
    func lastStableOffset(after markerOffset: Int64) -> Int64 {
        firstUnstableOffset ?? (markerOffset + 1)
    }
}
