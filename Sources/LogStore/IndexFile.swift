// The `.index` and `.timeindex` files: fixed-size big-endian entries appended with pwrite. No
// preallocation or mmap: the files are exactly as long as their entries, so "trim on roll" is free.

/// One fixed-size index entry, stored big-endian.
protocol IndexEntry: Sendable {
    static var size: Int { get }
    /// Offset minus the segment's base offset.
    var relativeOffset: Int32 { get }
    init(loading raw: UnsafeRawBufferPointer, at index: Int)
    func store(into raw: UnsafeMutableRawBufferPointer, at index: Int)
}

/// `.index` entry: (last offset of a batch) - base → byte position where that batch starts.
struct OffsetEntry: IndexEntry, Equatable {
    static let size = 8
    var relativeOffset: Int32
    var position: Int32

    init(relativeOffset: Int32, position: Int32) {
        self.relativeOffset = relativeOffset
        self.position = position
    }

    init(loading raw: UnsafeRawBufferPointer, at index: Int) {
        relativeOffset = Int32(bigEndian: raw.loadUnaligned(fromByteOffset: index, as: Int32.self))
        position = Int32(bigEndian: raw.loadUnaligned(fromByteOffset: index + 4, as: Int32.self))
    }

    func store(into raw: UnsafeMutableRawBufferPointer, at index: Int) {
        raw.storeBytes(of: relativeOffset.bigEndian, toByteOffset: index, as: Int32.self)
        raw.storeBytes(of: position.bigEndian, toByteOffset: index + 4, as: Int32.self)
    }
}

/// `.timeindex` entry: every record up to `relativeOffset` has a timestamp <= `timestamp`.
struct TimeEntry: IndexEntry, Equatable {
    static let size = 12
    var timestamp: Int64
    var relativeOffset: Int32

    init(timestamp: Int64, relativeOffset: Int32) {
        self.timestamp = timestamp
        self.relativeOffset = relativeOffset
    }

    init(loading raw: UnsafeRawBufferPointer, at index: Int) {
        timestamp = Int64(bigEndian: raw.loadUnaligned(fromByteOffset: index, as: Int64.self))
        relativeOffset = Int32(bigEndian: raw.loadUnaligned(fromByteOffset: index + 8, as: Int32.self))
    }

    func store(into raw: UnsafeMutableRawBufferPointer, at index: Int) {
        raw.storeBytes(of: timestamp.bigEndian, toByteOffset: index, as: Int64.self)
        raw.storeBytes(of: relativeOffset.bigEndian, toByteOffset: index + 8, as: Int32.self)
    }
}

/// An index file and its entries. Entries of sealed segments are loaded lazily on the first lookup;
/// the active segment's are always in memory, and new ones are written to the file only by
/// `persist()` (on roll, flush and close). That keeps index syscalls off the append path; after a
/// crash the active segment's indexes are rebuilt from the log anyway.
///
/// Not thread-safe: owned by a `Segment`, which the partition's mutex protects.
final class IndexFile<Entry: IndexEntry> {
    private(set) var path: String
    private let file: LogFile
    private var entries: [Entry] = []
    private var loaded = false
    /// Entries currently in the file; `entries[persistedCount...]` exist only in memory.
    private var persistedCount: Int

    /// Opens or creates the file. A size that is not a multiple of the entry size is not an error
    /// here: `isWellFormed` reports it so the caller can rebuild.
    init(path: String) throws(LogStoreError) {
        self.path = path
        file = try FileIO.open(path, create: true)
        let bytes = try FileIO.size(file, path: path)
        fileBytes = bytes
        persistedCount = bytes / Entry.size
    }

    /// File size at open (0 after a reset), to judge whether the file is sane.
    private(set) var fileBytes: Int

    var isWellFormed: Bool { fileBytes % Entry.size == 0 }

    var count: Int { loaded ? entries.count : persistedCount }
    var isEmpty: Bool { count == 0 }

    /// Reads the whole file into memory (once).
    func load() throws(LogStoreError) {
        if loaded { return }
        let bytes = try FileIO.read(file, count: persistedCount * Entry.size, at: 0, path: path)
        let n = bytes.count / Entry.size
        var loadedEntries = [Entry]()
        loadedEntries.reserveCapacity(n)
        bytes.withUnsafeBytes { raw in
            for i in 0..<n { loadedEntries.append(Entry(loading: raw, at: i * Entry.size)) }
        }
        entries = loadedEntries
        persistedCount = n
        loaded = true
    }

    /// The last entry, read from the file if not loaded (cheap sanity check at open).
    func last() throws(LogStoreError) -> Entry? {
        if loaded { return entries.last }
        if persistedCount == 0 { return nil }
        let bytes = try FileIO.read(file, count: Entry.size, at: (persistedCount - 1) * Entry.size, path: path)
        guard bytes.count == Entry.size else { return nil }
        return bytes.withUnsafeBytes { Entry(loading: $0, at: 0) }
    }

    func entry(at index: Int) -> Entry {
        precondition(loaded, "index must be loaded before lookups")
        return entries[index]
    }

    func append(_ entry: Entry) {
        precondition(loaded, "appending to an index that was not loaded")
        precondition(entries.last.map { $0.relativeOffset <= entry.relativeOffset } ?? true,
                     "index offsets must not decrease")
        entries.append(entry)
    }

    /// The greatest index `i` for which `isAtOrBelow(entries[i])` holds, given the predicate is true
    /// for a prefix of the entries and false after it (binary search).
    func lastIndex(where isAtOrBelow: (Entry) -> Bool) throws(LogStoreError) -> Int? {
        try load()
        var low = 0
        var high = entries.count
        while low < high {
            let mid = (low + high) / 2
            if isAtOrBelow(entries[mid]) { low = mid + 1 } else { high = mid }
        }
        return low == 0 ? nil : low - 1
    }

    /// Writes the in-memory tail to the file.
    func persist() throws(LogStoreError) {
        guard loaded, persistedCount < entries.count else { return }
        let pending = entries.count - persistedCount
        var bytes = [UInt8](repeating: 0, count: pending * Entry.size)
        bytes.withUnsafeMutableBytes { raw in
            for i in 0..<pending { entries[persistedCount + i].store(into: raw, at: i * Entry.size) }
        }
        try FileIO.write(file, bytes, at: persistedCount * Entry.size, path: path)
        persistedCount = entries.count
    }

    /// Empties the index (before a rebuild); also drops a malformed file's bytes.
    func reset() throws(LogStoreError) {
        try FileIO.truncate(file, to: 0, path: path)
        entries = []
        persistedCount = 0
        fileBytes = 0
        loaded = true
    }

    func sync() throws(LogStoreError) {
        try FileIO.syncData(file, path: path)
    }

    func rename(to newPath: String) throws(LogStoreError) {
        try FileIO.rename(path, newPath)
        path = newPath
    }
}
