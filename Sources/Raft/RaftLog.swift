// The core's view of the replicated log: the snapshot bound (start offset and the epoch below
// it) and the entries after it. The I/O layer keeps the same log on disk by carrying out the
// append/truncate effects; the core keeps this copy to answer fetches and votes without I/O.

public struct RaftLog: Hashable, Sendable {
    /// First offset held; everything below is in the snapshot ending here.
    public private(set) var startOffset: Int64
    /// Epoch of the record at `startOffset - 1` (the snapshot's epoch), 0 for an empty history.
    public private(set) var startEpoch: Int32
    public private(set) var entries: [LogEntry]

    public init(startOffset: Int64 = 0, startEpoch: Int32 = 0, entries: [LogEntry] = []) {
        precondition(startOffset >= 0 && startEpoch >= 0)
        self.startOffset = startOffset
        self.startEpoch = startEpoch
        self.entries = []
        append(entries)
    }

    public var endOffset: Int64 { startOffset + Int64(entries.count) }
    public var lastEpoch: Int32 { entries.last?.epoch ?? startEpoch }
    public var end: OffsetAndEpoch { OffsetAndEpoch(offset: endOffset, epoch: lastEpoch) }

    public func entry(at offset: Int64) -> LogEntry {
        precondition(offset >= startOffset && offset < endOffset, "offset \(offset) outside the log")
        return entries[Int(offset - startOffset)]
    }

    /// The epoch of the record at `offset`, including the snapshot's last record; nil when
    /// neither the log nor the snapshot bound says.
    public func epoch(at offset: Int64) -> Int32? {
        if offset == startOffset - 1 { return startEpoch }
        guard offset >= startOffset && offset < endOffset else { return nil }
        return entries[Int(offset - startOffset)].epoch
    }

    public func entries(from offset: Int64, maxBytes: Int) -> [LogEntry] {
        precondition(offset >= startOffset && offset <= endOffset)
        var slice: [LogEntry] = []
        var bytes = 0
        for index in Int(offset - startOffset)..<entries.count {
            let entry = entries[index]
            bytes += entry.approximateSize
            if !slice.isEmpty && bytes > maxBytes { break }
            slice.append(entry)
        }
        return slice
    }

    /// Kafka's end offset for an epoch: the largest epoch not above `epoch` that this log knows
    /// and the offset where it ends (where the next epoch starts, or the log end). nil when
    /// `epoch` is older than the snapshot bound, so only a snapshot can answer.
    public func endOffset(forEpoch epoch: Int32) -> OffsetAndEpoch? {
        if epoch >= lastEpoch { return end }
        var index = entries.count - 1
        while index >= 0 && entries[index].epoch > epoch { index -= 1 }
        if index >= 0 {
            return OffsetAndEpoch(offset: startOffset + Int64(index) + 1, epoch: entries[index].epoch)
        }
        return startEpoch <= epoch ? OffsetAndEpoch(offset: startOffset, epoch: startEpoch) : nil
    }

    public mutating func append(_ newEntries: [LogEntry]) {
        var last = lastEpoch
        for entry in newEntries {
            precondition(entry.epoch >= last, "log epochs must not go down (\(entry.epoch) after \(last))")
            last = entry.epoch
        }
        entries.append(contentsOf: newEntries)
    }

    /// Drops every entry at or above `offset`.
    public mutating func truncate(to offset: Int64) {
        precondition(offset >= startOffset, "truncation to \(offset) below the log start \(startOffset)")
        guard offset < endOffset else { return }
        entries.removeLast(Int(endOffset - offset))
    }

    /// Moves the start to a snapshot's end: entries below go; if the log does not reach the
    /// snapshot or disagrees with it at its last record, the whole log goes.
    public mutating func dropPrefix(through snapshot: SnapshotID) {
        if snapshot.endOffset <= startOffset { return }
        if epoch(at: snapshot.endOffset - 1) == snapshot.epoch {
            entries.removeFirst(Int(snapshot.endOffset - startOffset))
        } else {
            entries = []
        }
        startOffset = snapshot.endOffset
        startEpoch = snapshot.epoch
    }
}
