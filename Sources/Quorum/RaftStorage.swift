// The Raft core's disk: one directory holding the `quorum-state` file, the metadata log as the
// LogStore partition `__cluster_metadata-0`, and snapshot checkpoints. `execute` carries out the
// core's storage effects in order and returns the events they complete (`.logFlushed`);
// `open` rebuilds what the core needs after a restart.
//
// Durability: the quorum state and snapshots are durable when `execute` returns (temp file,
// fsync, rename, directory fsync). Log appends and truncations reach the page cache only; they
// are durable once a `flushLog` effect has run, which is when `.logFlushed` goes back to the core.
// A crash keeps a prefix of the log that includes everything flushed (LogStore's recovery drops a
// torn tail batch by batch, and a batch is never split: one batch per run of one epoch).
public import LogStore
public import Raft

public final class RaftStorage {
    public static let logDirectoryName = "__cluster_metadata-0"

    public let directory: String
    public let log: PartitionLog
    /// The newest durable snapshot.
    public private(set) var latestSnapshot: SnapshotID?
    /// Record timestamps (the core has no clock; `execute` sets it from its `now`).
    private var clock: Int64 = 0

    private init(directory: String, log: PartitionLog, latestSnapshot: SnapshotID?) {
        self.directory = directory
        self.log = log
        self.latestSnapshot = latestSnapshot
    }

    /// The log's settings: no flush policy of its own (the core asks for flushes), Kafka's
    /// metadata log segment size, no retention (snapshots decide what goes).
    public static var logConfig: LogConfig {
        var config = LogConfig()
        config.segmentBytes = 8 << 20
        config.retentionMs = -1
        config.retentionBytes = -1
        return config
    }

    /// Opens (or creates) the directory: deletes half-written snapshots, loads the newest whole
    /// snapshot, recovers the log and reconciles it with the snapshot (a log that does not reach
    /// the snapshot or disagrees with it at its last record restarts empty at its end).
    public static func open(directory: String, now: Int64, logConfig: LogConfig = RaftStorage.logConfig)
        throws -> (storage: RaftStorage, recovered: RecoveredState) {
        try DurableFiles.makeDirectory(directory)
        let quorumState = try QuorumStateFile.read(directory: directory)

        var snapshots: [SnapshotID] = []
        for name in try DurableFiles.list(directory) {
            if name.hasSuffix(SnapshotFile.partSuffix) || name == QuorumStateFile.fileName + ".tmp" {
                try DurableFiles.remove(directory + "/" + name)
            } else if let id = SnapshotFile.id(fromFileName: name) {
                snapshots.append(id)
            }
        }
        // Newest first; a checkpoint that does not read back whole is skipped for an older one.
        var snapshot: (id: SnapshotID, data: [UInt8])?
        for id in snapshots.sorted(by: { ($0.endOffset, $0.epoch) > ($1.endOffset, $1.epoch) }) {
            let path = directory + "/" + id.fileName
            guard let bytes = try DurableFiles.read(path), let data = try? SnapshotFile.decode(bytes, path: path) else { continue }
            snapshot = (id, data)
            break
        }

        let log = try PartitionLog.open(directory: directory + "/" + logDirectoryName, config: logConfig, now: now)
        let storage = RaftStorage(directory: directory, log: log, latestSnapshot: snapshot?.id)
        let entries = try storage.readEntries(from: log.logStartOffset)
        var raftLog: RaftLog
        if let snapshot {
            let id = snapshot.id
            let start = log.logStartOffset, end = log.logEndOffset
            let agrees = start == id.endOffset
                || (start < id.endOffset && id.endOffset <= end && entries[Int(id.endOffset - 1 - start)].epoch == id.epoch)
            if agrees && start <= id.endOffset {
                raftLog = RaftLog(startOffset: id.endOffset, startEpoch: id.epoch,
                                  entries: Array(entries[Int(id.endOffset - start)...]))
                try storage.deleteLog(before: id.endOffset)
            } else {
                try log.truncateFullyAndStart(at: id.endOffset)
                raftLog = RaftLog(startOffset: id.endOffset, startEpoch: id.epoch)
            }
        } else {
            guard log.logStartOffset == 0 else {
                throw QuorumStorageError(path: log.directory,
                                         reason: "log starts at \(log.logStartOffset) but there is no snapshot")
            }
            raftLog = RaftLog(entries: entries)
        }
        return (storage, RecoveredState(quorumState: quorumState, snapshot: snapshot, log: raftLog))
    }

    /// Carries out one effect of `RaftNode.handle`; returns the events to hand back to the node.
    /// Effects that are not about storage are ignored. A thrown error means the disk did not do
    /// what the core already counts on: the node must stop (as a Kafka controller halts on a
    /// storage error) and restart from `open`, which trusts only what is on disk.
    public func execute(_ effect: RaftEffect, now: Int64) throws -> [RaftEvent] {
        clock = now
        switch effect {
        case .persistQuorumState(let state):
            try QuorumStateFile.write(state, directory: directory)
        case .appendToLog(let slice):
            try append(slice)
        case .truncateLog(let offset):
            try truncate(to: offset)
        case .flushLog(let token):
            try log.flush()
            return [.logFlushed(token: token)]
        case .installSnapshot(let id, let data):
            try writeSnapshot(id, data: data)
            try log.truncateFullyAndStart(at: id.endOffset)
        case .deleteLogBefore(let offset):
            try deleteLog(before: offset)
        case .send, .becameLeader, .becameFollower, .commit, .appendAccepted, .appendRejected:
            break
        }
        return []
    }

    /// Writes a snapshot the state machine took, durably, before the node hears of it
    /// (`.snapshotTaken` tells the core the snapshot is on disk).
    public func writeSnapshot(_ id: SnapshotID, data: [UInt8]) throws {
        try SnapshotFile.write(id, data: data, directory: directory)
        if latestSnapshot.map({ ($0.endOffset, $0.epoch) < (id.endOffset, id.epoch) }) ?? true { latestSnapshot = id }
    }

    /// The entries from `offset` to the log end, decoded from the batches on disk.
    public func readEntries(from offset: Int64) throws -> [LogEntry] {
        var entries: [LogEntry] = []
        var next = offset
        while next < log.logEndOffset {
            let read = try log.read(from: next, maxBytes: 1 << 20, maxOffset: .max, minOneBatch: true)
            guard read.nextOffset > next, let slice = try QuorumRecords.slice(from: read.records) else {
                throw QuorumStorageError(path: log.directory, reason: "no batch readable at offset \(next)")
            }
            // The first batch may start below `next` (reads return whole batches).
            entries += slice.entries.dropFirst(Int(next - slice.baseOffset))
            next = read.nextOffset
        }
        return entries
    }

    public func close() throws { try log.close() }

    private func append(_ slice: RecordSlice) throws {
        precondition(slice.baseOffset == log.logEndOffset,
                     "append at \(slice.baseOffset) to a log ending at \(log.logEndOffset)")
        var offset = slice.baseOffset
        for run in QuorumRecords.runs(of: slice.entries) {
            var batch = QuorumRecords.batch(run, baseOffset: offset, timestamp: clock)
            // One call per batch: LogStore stamps the call's epoch on every batch it appends.
            _ = try log.append(&batch, leaderEpoch: run[run.startIndex].epoch, now: clock)
            offset += Int64(run.count)
        }
    }

    /// LogStore truncates whole batches; when `offset` falls inside one, the entries of that
    /// batch below `offset` are written again (and flushed, as they may have been flushed before).
    private func truncate(to offset: Int64) throws {
        guard offset < log.logEndOffset else { return }
        let read = try log.read(from: offset, maxBytes: 1, maxOffset: .max, minOneBatch: true)
        let straddling = try QuorumRecords.slice(from: read.records)
        try log.truncate(to: offset)
        guard let straddling, straddling.baseOffset < offset, log.logEndOffset == straddling.baseOffset else { return }
        try append(Raft.RecordSlice(baseOffset: straddling.baseOffset,
                                    entries: Array(straddling.entries.prefix(Int(offset - straddling.baseOffset)))))
        try log.flush()
    }

    /// Raises the log start to `offset` (covered by a durable snapshot) and deletes the segments
    /// wholly below it.
    private func deleteLog(before offset: Int64) throws {
        guard offset > log.logStartOffset else { return }
        // LogStore deletes only below its high watermark; the snapshot covers committed records.
        _ = log.updateHighWatermark(offset)
        try log.deleteRecords(before: offset)
    }
}
