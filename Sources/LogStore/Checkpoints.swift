// The small text files next to the segments: leader-epoch-checkpoint (Kafka's format) and our
// per-partition offsets checkpoint. Both are replaced atomically (temp + fsync + rename + dir fsync).

/// One epoch -> start offset pair of the leader-epoch cache.
struct EpochEntry: Equatable, Sendable {
    var epoch: Int32
    var startOffset: Int64
}

/// The epoch -> start-offset table behind OffsetForLeaderEpoch (KIP-101/KIP-279), kept in memory
/// and persisted as `leader-epoch-checkpoint`: "0", entry count, then "<epoch> <startOffset>" lines.
/// Invariant: epochs and start offsets both increase strictly.
struct LeaderEpochCache: Equatable {
    static let fileName = "leader-epoch-checkpoint"
    private(set) var entries: [EpochEntry] = []

    var latestEpoch: Int32? { entries.last?.epoch }

    /// Records that `epoch` starts at `startOffset`; false (no change) when it is not newer than the
    /// latest epoch or would start before it (recovery meeting an odd checkpoint must not crash).
    mutating func assign(epoch: Int32, startOffset: Int64) -> Bool {
        guard epoch >= 0, epoch > (latestEpoch ?? -1), startOffset >= (entries.last?.startOffset ?? 0) else {
            return false
        }
        if entries.last?.startOffset == startOffset {
            // The previous epoch wrote nothing; the newer epoch owns this offset.
            entries.removeLast()
        }
        entries.append(EpochEntry(epoch: epoch, startOffset: startOffset))
        return true
    }

    /// Drops epochs that start at or after `endOffset` (log truncated there).
    mutating func truncateFromEnd(_ endOffset: Int64) -> Bool {
        let before = entries.count
        entries.removeAll { $0.startOffset >= endOffset }
        return entries.count != before
    }

    /// Drops epochs that end before `startOffset` and moves the one covering it to start there.
    mutating func truncateFromStart(_ startOffset: Int64) -> Bool {
        guard let floor = entries.lastIndex(where: { $0.startOffset <= startOffset }) else { return false }
        let changed = floor > 0 || entries[floor].startOffset != startOffset
        entries.removeFirst(floor)
        entries[0].startOffset = startOffset
        return changed
    }

    /// OffsetForLeaderEpoch: the largest epoch <= `epoch` and the offset where the next epoch
    /// starts (the log end offset for the latest epoch); (-1, -1) when unknown.
    func endOffset(for epoch: Int32, logEndOffset: Int64) -> (epoch: Int32, endOffset: Int64) {
        guard epoch >= 0, let latest = latestEpoch else { return (-1, -1) }
        if epoch == latest { return (epoch, logEndOffset) }
        guard let higher = entries.firstIndex(where: { $0.epoch > epoch }) else { return (-1, -1) }
        if higher == 0 { return (epoch, entries[0].startOffset) }
        return (entries[higher - 1].epoch, entries[higher].startOffset)
    }

    func encoded() -> [UInt8] {
        var text = "0\n\(entries.count)\n"
        for entry in entries { text += "\(entry.epoch) \(entry.startOffset)\n" }
        return Array(text.utf8)
    }

    init() {}

    init(decoding bytes: [UInt8], path: String) throws(LogStoreError) {
        let lines = checkpointLines(bytes)
        guard lines.count >= 2, lines[0] == ["0"], lines[1].count == 1, let count = Int(lines[1][0]),
              count == lines.count - 2 else { throw .corruptCheckpoint(path: path) }
        for line in lines.dropFirst(2) {
            guard line.count == 2, let epoch = Int32(line[0]), let start = Int64(line[1]),
                  epoch > (latestEpoch ?? -1), start >= (entries.last?.startOffset ?? 0)
            else { throw .corruptCheckpoint(path: path) }
            entries.append(EpochEntry(epoch: epoch, startOffset: start))
        }
    }
}

/// `log-offsets-checkpoint`: the partition's log start offset (raised by DeleteRecords and
/// retention) and its last persisted high watermark. Lines: "0", "log_start_offset N",
/// "high_watermark N".
struct OffsetsCheckpoint: Equatable {
    static let fileName = "log-offsets-checkpoint"
    var logStartOffset: Int64
    var highWatermark: Int64

    init(logStartOffset: Int64, highWatermark: Int64) {
        self.logStartOffset = logStartOffset
        self.highWatermark = highWatermark
    }

    func encoded() -> [UInt8] {
        Array("0\nlog_start_offset \(logStartOffset)\nhigh_watermark \(highWatermark)\n".utf8)
    }

    init(decoding bytes: [UInt8], path: String) throws(LogStoreError) {
        let lines = checkpointLines(bytes)
        guard lines.count == 3, lines[0] == ["0"],
              lines[1].count == 2, lines[1][0] == "log_start_offset", let start = Int64(lines[1][1]), start >= 0,
              lines[2].count == 2, lines[2][0] == "high_watermark", let hw = Int64(lines[2][1]), hw >= 0
        else { throw .corruptCheckpoint(path: path) }
        logStartOffset = start
        highWatermark = hw
    }
}

/// Non-empty lines split on spaces.
private func checkpointLines(_ bytes: [UInt8]) -> [[Substring]] {
    String(decoding: bytes, as: UTF8.self)
        .split(separator: "\n")
        .map { $0.split(separator: " ") }
}

/// `transactions-checkpoint`, written by a clean close only: the open transactions as of the log
/// end then, so a clean start need not walk every segment to find them. Read and removed at open
/// and trusted only after a clean shutdown when the log end still matches. Lines: "0",
/// "<log end offset> <count>", then "<producer id> <first offset>" per open transaction.
struct TransactionsCheckpoint: Equatable {
    static let fileName = "transactions-checkpoint"
    var logEndOffset: Int64
    var firstOffsets: [Int64: Int64]

    init(logEndOffset: Int64, firstOffsets: [Int64: Int64]) {
        self.logEndOffset = logEndOffset
        self.firstOffsets = firstOffsets
    }

    func encoded() -> [UInt8] {
        var text = "0\n\(logEndOffset) \(firstOffsets.count)\n"
        for (producerId, first) in firstOffsets.sorted(by: { $0.key < $1.key }) { text += "\(producerId) \(first)\n" }
        return Array(text.utf8)
    }

    /// Nil when the bytes are not a well-formed checkpoint (the caller then walks the log).
    init?(decoding bytes: [UInt8]) {
        let lines = checkpointLines(bytes)
        guard lines.count >= 2, lines[0] == ["0"], lines[1].count == 2, let end = Int64(lines[1][0]),
              let count = Int(lines[1][1]), count == lines.count - 2 else { return nil }
        var offsets: [Int64: Int64] = [:]
        for line in lines.dropFirst(2) {
            guard line.count == 2, let producerId = Int64(line[0]), let first = Int64(line[1]),
                  producerId >= 0, first >= 0, first < end else { return nil }
            offsets[producerId] = first
        }
        logEndOffset = end
        firstOffsets = offsets
    }
}
