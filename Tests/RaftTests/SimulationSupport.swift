// The pieces the quorum simulator is built from: a seeded PRNG, an event queue ordered by
// simulated time, a disk that loses what was not flushed, and the key/value state machine whose
// images the checkers compare.
import Raft

/// xoshiro256** seeded through SplitMix64: the simulator's only randomness.
struct Xoshiro256: Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    init(seed: UInt64) {
        var seeder = SplitMix64(seed: seed)
        state = (seeder.next(), seeder.next(), seeder.next(), seeder.next())
    }

    mutating func next() -> UInt64 {
        let result = rotateLeft(state.1 &* 5, 7) &* 9
        let shifted = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= shifted
        state.3 = rotateLeft(state.3, 45)
        return result
    }

    private func rotateLeft(_ value: UInt64, _ count: UInt64) -> UInt64 { (value << count) | (value >> (64 - count)) }

    /// Uniform in range (the modulo bias is irrelevant here).
    mutating func int(_ range: ClosedRange<Int64>) -> Int64 {
        range.lowerBound + Int64(next() % UInt64(range.upperBound - range.lowerBound + 1))
    }

    mutating func chance(_ probability: Double) -> Bool {
        Double(next() >> 11) / Double(1 << 53) < probability
    }

    mutating func pick<T>(_ values: [T]) -> T { values[Int(next() % UInt64(values.count))] }
}

/// A min-heap of events by (time, insertion order), so equal times keep their order.
struct EventQueue<Event> {
    private var heap: [(time: Int64, sequence: Int64, event: Event)] = []
    private var nextSequence: Int64 = 0

    var isEmpty: Bool { heap.isEmpty }

    mutating func push(_ event: Event, at time: Int64) {
        heap.append((time, nextSequence, event))
        nextSequence += 1
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard before(child, parent) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> (time: Int64, event: Event)? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let top = heap.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < heap.count && before(left, smallest) { smallest = left }
            if right < heap.count && before(right, smallest) { smallest = right }
            if smallest == parent { break }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
        return (top.time, top.event)
    }

    private func before(_ lhs: Int, _ rhs: Int) -> Bool {
        (heap[lhs].time, heap[lhs].sequence) < (heap[rhs].time, heap[rhs].sequence)
    }
}

/// One node's disk. The quorum-state file and snapshots are written atomically and synced
/// before the write returns (as the I/O layer must); log writes sit in `unflushed` until a flush
/// completes, and a crash keeps only a random prefix of them, the last possibly torn.
struct SimulatedDisk {
    enum Operation {
        case append(RecordSlice)
        case truncate(Int64)
        case deletePrefix(SnapshotID)
        case reset(SnapshotID)
    }

    var quorumState = QuorumStateData()
    var snapshot: (id: SnapshotID, data: [UInt8])?
    private(set) var durable = RaftLog()
    /// The log as the running node wrote it (durable plus unflushed writes).
    private(set) var current = RaftLog()
    private var unflushed: [Operation] = []
    /// Absolute index of `unflushed[0]` among all operations since the node's start.
    private var firstUnflushedIndex = 0

    var operationCount: Int { firstUnflushedIndex + unflushed.count }

    mutating func write(_ operation: Operation) {
        Self.apply(operation, to: &current)
        unflushed.append(operation)
    }

    /// A flush asked for when `operationCount` was `upTo` has completed.
    mutating func flush(upTo: Int) {
        let count = min(unflushed.count, upTo - firstUnflushedIndex)
        guard count > 0 else { return }
        for operation in unflushed.prefix(count) { Self.apply(operation, to: &durable) }
        unflushed.removeFirst(count)
        firstUnflushedIndex += count
    }

    /// Power loss: a prefix of the unflushed writes made it, the last one possibly in part
    /// (a torn tail, which recovery cuts at the last whole record).
    mutating func crash(random: inout Xoshiro256) {
        // Often nothing unflushed survives (the harshest case), otherwise a random prefix.
        let survivors = random.chance(0.5) ? 0 : Int(random.int(0...Int64(unflushed.count)))
        for operation in unflushed.prefix(survivors) { Self.apply(operation, to: &durable) }
        if survivors < unflushed.count, case .append(let slice) = unflushed[survivors], random.chance(0.5) {
            let kept = Int(random.int(0...Int64(slice.entries.count)))
            Self.apply(.append(RecordSlice(baseOffset: slice.baseOffset, entries: Array(slice.entries.prefix(kept)))),
                       to: &durable)
        }
        unflushed = []
        firstUnflushedIndex = 0
        current = durable
    }

    /// Start-up recovery (what the I/O layer does too): a log that starts below the snapshot
    /// loses that prefix, and one that does not reach or agrees with the snapshot goes entirely.
    mutating func recover() {
        precondition(unflushed.isEmpty, "recovery runs on a stopped node")
        if let snapshot { durable.dropPrefix(through: snapshot.id) }
        current = durable
    }

    private static func apply(_ operation: Operation, to log: inout RaftLog) {
        switch operation {
        case .append(let slice):
            precondition(slice.baseOffset == log.endOffset, "disk append at \(slice.baseOffset), log ends at \(log.endOffset)")
            log.append(slice.entries)
        case .truncate(let offset):
            log.truncate(to: max(offset, log.startOffset))
        case .deletePrefix(let snapshotId):
            log.dropPrefix(through: snapshotId)
        case .reset(let snapshotId):
            log = RaftLog(startOffset: snapshotId.endOffset, startEpoch: snapshotId.epoch)
        }
    }
}

/// The replicated state machine: `key=value` records into a map.
struct KeyValueImage: Equatable {
    var appliedOffset: Int64 = 0
    var values: [String: String] = [:]

    mutating func apply(_ entry: LogEntry) {
        if case .data(let bytes) = entry.content {
            let text = String(decoding: bytes, as: UTF8.self)
            if let equals = text.firstIndex(of: "=") {
                values[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
        }
        appliedOffset += 1
    }

    func encoded() -> [UInt8] {
        Array(values.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)\n" }.joined().utf8)
    }

    init() {}

    init(snapshot: SnapshotID, data: [UInt8]) {
        appliedOffset = snapshot.endOffset
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            if let equals = line.firstIndex(of: "=") {
                values[String(line[..<equals])] = String(line[line.index(after: equals)...])
            }
        }
    }

    static func replay(_ entries: ArraySlice<LogEntry>) -> KeyValueImage {
        var image = KeyValueImage()
        for entry in entries { image.apply(entry) }
        return image
    }
}
