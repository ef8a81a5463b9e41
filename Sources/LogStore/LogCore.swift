// The state and logic of one partition log. `PartitionLog` wraps it in a Mutex; everything here
// runs with that lock held, so this file needs no synchronization of its own.
import KafkaProtocol

/// The segments, offsets, epoch cache and flush state of one partition directory.
///
/// Invariants (checked with preconditions where they are established):
/// - `segments` is non-empty, sorted by base offset; the last one is the active segment.
/// - `logStartOffset <= highWatermark <= logEndOffset`, and `segments[0].baseOffset <= logStartOffset`.
/// - `recoveryPoint <= logEndOffset`: offsets below it are fsynced; every sealed segment is.
final class LogCore {
    let directory: String
    var config: LogConfig
    private(set) var segments: [Segment] = []
    private(set) var logEndOffset: Int64 = 0
    private(set) var logStartOffset: Int64 = 0
    private(set) var highWatermark: Int64 = 0
    private var persistedOffsets: OffsetsCheckpoint?
    private var epochs = LeaderEpochCache()
    private var recoveryPoint: Int64 = 0
    private var lastFlushMs: Int64
    /// Latest `now` passed in, for calls that take no clock (deleteRecords, truncate).
    private var clock: Int64
    private var pendingDeletes: [(paths: [String], dueMs: Int64)] = []
    private(set) var closed = false
    /// Offsets below this were compacted by the last clean (in memory: after a restart the first
    /// clean looks at everything again, which is correct, only slower).
    var cleanerCheckpoint: Int64 = 0
    /// Producers with an open transaction and where each began (rebuilt from the data at open).
    private(set) var transactions = OngoingTransactions()

    /// Offsets below it hold no record of an open transaction and are committed: the high
    /// watermark, or the first offset of the oldest open transaction if that is lower.
    var lastStableOffset: Int64 { min(transactions.firstUnstableOffset ?? highWatermark, highWatermark) }

    var active: Segment { segments[segments.count - 1] }
    var latestEpoch: Int32? { epochs.latestEpoch }
    var epochEntries: [EpochEntry] { epochs.entries }

    private var offsetsPath: String { directory + "/" + OffsetsCheckpoint.fileName }
    private var epochsPath: String { directory + "/" + LeaderEpochCache.fileName }
    private var transactionsPath: String { directory + "/" + TransactionsCheckpoint.fileName }

    // MARK: Open and recovery

    /// Opens `directory` (creating it if needed). Without `cleanShutdown` the active segment is
    /// re-validated batch by batch (CRC) and cut at the first bad batch; with it, only its tail
    /// after the last index entry is walked. Sealed segments with missing or implausible indexes
    /// are always rebuilt (and validated) from their data.
    init(directory: String, config: LogConfig, now: Int64, cleanShutdown: Bool) throws(LogStoreError) {
        try config.validate()
        self.directory = directory
        self.config = config
        lastFlushMs = now
        clock = now
        try FileIO.makeDirectory(directory)
        let bases = try removeLeftoversAndListSegments()
        var rebuiltSegments = Set<Int64>()

        let checkpoint = try FileIO.readSmallFile(offsetsPath).map { bytes throws(LogStoreError) in
            try OffsetsCheckpoint(decoding: bytes, path: offsetsPath)
        }
        persistedOffsets = checkpoint
        if let bytes = try FileIO.readSmallFile(epochsPath) {
            epochs = try LeaderEpochCache(decoding: bytes, path: epochsPath)
        }
        // Valid only for this start: removed before anything is appended.
        let savedTransactions = try FileIO.readSmallFile(transactionsPath).flatMap(TransactionsCheckpoint.init(decoding:))
        try FileIO.remove(transactionsPath)

        if bases.isEmpty {
            let start = checkpoint?.logStartOffset ?? 0
            segments = [try Segment.create(directory: directory, baseOffset: start, now: now)]
            try FileIO.syncDirectory(directory)
            logEndOffset = start
        } else {
            rebuiltSegments = try loadSegments(bases, now: now, cleanShutdown: cleanShutdown)
        }

        logStartOffset = max(checkpoint?.logStartOffset ?? 0, segments[0].baseOffset)
        if logStartOffset > logEndOffset {
            // The data below a DeleteRecords point was lost in a crash: start empty at that point.
            try truncateFully(startAt: logStartOffset)
        }
        highWatermark = min(max(checkpoint?.highWatermark ?? 0, logStartOffset), logEndOffset)
        let cutAtEnd = epochs.truncateFromEnd(logEndOffset)
        let cutAtStart = epochs.truncateFromStart(logStartOffset)
        if cutAtEnd || cutAtStart { try persistEpochs() }
        recoveryPoint = logEndOffset
        if cleanShutdown, let savedTransactions, savedTransactions.logEndOffset == logEndOffset, rebuiltSegments.isEmpty,
           segments.allSatisfy({ $0.txnIndex.loadedIntact }) {
            transactions = OngoingTransactions(firstOffsets: savedTransactions.firstOffsets)
        } else {
            try recoverTransactions(rebuilding: rebuiltSegments)
        }
        checkInvariants()
    }

    /// Deletes what an interrupted run left behind (`.deleted`, temp and orphan index files) and
    /// returns the base offsets of the `.log` files, sorted.
    private func removeLeftoversAndListSegments() throws(LogStoreError) -> [Int64] {
        let names = try FileIO.list(directory)
        var bases = [Int64]()
        for name in names where name.hasSuffix(LogCleaner.swapSuffix) {
            // A cleaned segment whose swap was committed but not finished: finish it. Its indexes
            // are removed so they are rebuilt (and the data CRC-checked) below.
            let logName = String(name.dropLast(LogCleaner.swapSuffix.count))
            try FileIO.rename(directory + "/" + name, directory + "/" + logName)
            if let base = segmentBase(logName, suffix: ".log") {
                for suffix in [".index", ".timeindex"] { try FileIO.remove(directory + "/" + Segment.fileName(base, suffix)) }
            }
        }
        for name in try FileIO.list(directory) {
            if name.hasSuffix(".deleted") || name.hasSuffix(".tmp") || name.hasSuffix(LogCleaner.cleanedSuffix) {
                try FileIO.remove(directory + "/" + name)
            } else if let base = segmentBase(name, suffix: ".log") {
                bases.append(base)
            }
        }
        let known = Set(bases)
        for name in names {
            let base = segmentBase(name, suffix: ".index") ?? segmentBase(name, suffix: ".timeindex")
                ?? segmentBase(name, suffix: Segment.txnIndexSuffix)
            if let base, !known.contains(base) { try FileIO.remove(directory + "/" + name) }
        }
        return bases.sorted()
    }

    private func segmentBase(_ name: String, suffix: String) -> Int64? {
        guard name.hasSuffix(suffix) else { return nil }
        let digits = name.dropLast(suffix.count)
        guard digits.count == 20, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int64(digits)
    }

    /// Returns the base offsets of the segments whose data was re-validated (their `.txnindex`
    /// is rebuilt too: it may miss entries of a torn tail or hold entries of a cut one).
    private func loadSegments(_ bases: [Int64], now: Int64, cleanShutdown: Bool) throws(LogStoreError) -> Set<Int64> {
        var rebuilt = Set<Int64>()
        let interval = config.indexIntervalBytes
        // Batches seen during validation re-teach the epoch cache what a crash kept it from writing.
        let noteEpoch: (BatchInfo) -> Void = { [self] info in
            _ = epochs.assign(epoch: info.leaderEpoch, startOffset: info.baseOffset)
        }
        var epochsLearned = false
        var activeTrusted = false
        for (i, base) in bases.enumerated() {
            let segment = try Segment.open(directory: directory, baseOffset: base, now: now)
            let isLast = i == bases.count - 1
            // Each segment must start after everything before it.
            let minimumOffset = max(base, logEndOffset)
            if isLast, cleanShutdown, try segment.indexesLookSane(), let next = try segment.loadActive() {
                segments.append(segment)
                logEndOffset = next
                activeTrusted = true
                break
            }
            if !isLast, try segment.indexesLookSane() {
                try segment.loadSealed()
                segments.append(segment)
                logEndOffset = bases[i + 1]
                continue
            }
            let before = epochs
            rebuilt.insert(base)
            let recovery = try segment.rebuild(
                verifyCRC: true, indexIntervalBytes: interval, minimumOffset: minimumOffset, onBatch: noteEpoch)
            epochsLearned = epochsLearned || epochs != before
            segments.append(segment)
            logEndOffset = recovery.nextOffset
            if isLast { break }
            if recovery.defect == nil && recovery.nextOffset == bases[i + 1] {
                try segment.seal()
                continue
            }
            // A hole in a sealed segment: what follows cannot continue it, so it goes. (Rolls
            // start the next segment exactly at the previous one's end; compaction would have to
            // relax this.)
            for later in bases[(i + 1)...] {
                for suffix in Segment.suffixes {
                    try FileIO.remove(directory + "/" + Segment.fileName(later, suffix))
                }
            }
            break
        }
        if !activeTrusted {
            // Make the recovered state durable before anything is acknowledged on top of it.
            try active.flush()
            try FileIO.syncDirectory(directory)
        }
        if epochsLearned { try persistEpochs() }
        return rebuilt
    }

    /// Rebuilds the open transactions by walking the batch headers of every segment (reading only
    /// control batches whole), and rewrites the `.txnindex` of the segments in `rebuilding`, of
    /// those whose index was missing or malformed, and of those with entries past their end.
    private func recoverTransactions(rebuilding: Set<Int64>) throws(LogStoreError) {
        transactions = OngoingTransactions()
        for (i, segment) in segments.enumerated() {
            let end = i + 1 < segments.count ? segments[i + 1].baseOffset : logEndOffset
            let rebuild = rebuilding.contains(segment.baseOffset) || !segment.txnIndex.loadedIntact
                || segment.txnIndex.entries.contains { $0.lastOffset >= end }
            var aborted: [AbortedTransaction] = []
            try walkTransactions(segment) { entry in aborted.append(entry) }
            if rebuild { try segment.txnIndex.rewrite(aborted) }
        }
    }

    /// Applies the transactional batches of `segment` to `transactions`, reporting each aborted one.
    private func walkTransactions(
        _ segment: Segment, aborted: (AbortedTransaction) -> Void
    ) throws(LogStoreError) {
        var scanner = BatchScanner(file: segment.log, path: segment.logPath, end: segment.size, verifyCRC: false)
        var failure: LogStoreError?
        // A defect in a trusted sealed segment ends its walk without failing the open: reads of
        // those bytes report it, as they did before transactions were tracked.
        _ = try scanner.scan(from: 0, minimumOffset: segment.baseOffset) { info, position in
            guard info.opensOrEndsTransaction else { return true }
            let completed = transactions.apply(
                producerId: info.producerId, isTransactional: true, isControl: info.isControl,
                firstOffset: info.baseOffset
            ) {
                do throws(LogStoreError) {
                    return TransactionMarker.parse(try segment.readBatch(at: position, size: info.size))
                } catch {
                    failure = error
                    return nil
                }
            }
            if let completed, completed.aborted {
                aborted(AbortedTransaction(producerId: info.producerId, firstOffset: completed.firstOffset,
                                           lastOffset: info.lastOffset,
                                           lastStableOffset: transactions.lastStableOffset(after: info.lastOffset)))
            }
            return failure == nil
        }
        if let failure { throw failure }
    }

    private func checkInvariants() {
        precondition(!segments.isEmpty, "a log always has an active segment")
        precondition(segments[0].baseOffset <= logStartOffset, "log start offset below the first segment")
        precondition(logStartOffset <= highWatermark, "high watermark below log start offset")
        precondition(highWatermark <= logEndOffset, "high watermark above log end offset")
        precondition(active.baseOffset <= logEndOffset, "active segment starts after the log end")
    }

    // MARK: Append

    /// See `PartitionLog.append`.
    func append(_ batches: inout [UInt8], leaderEpoch: Int32, now: Int64) throws(LogStoreError) -> AppendInfo {
        if closed { throw .closed }
        precondition(!batches.isEmpty, "append needs at least one batch")
        precondition(leaderEpoch >= (epochs.latestEpoch ?? -1), "append with a leader epoch older than the log's")
        precondition((epochs.entries.last?.startOffset ?? 0) <= logEndOffset, "epoch cache ahead of the log end")
        if batches.count > config.segmentBytes {
            throw .appendTooLarge(size: batches.count, segmentBytes: config.segmentBytes)
        }
        clock = now
        let firstOffset = logEndOffset

        // One pass over the batch headers (never the records): assign offsets, stamp the epoch.
        var next = firstOffset
        var batchCount = 0
        var maxTimestamp: Int64 = -1
        var offsetOfMaxTimestamp: Int64 = -1
        // Transactional batches (position, header) to apply once the bytes are written.
        var transactional: [(position: Int, info: BatchInfo)] = []
        batches.withUnsafeMutableBytes { raw in
            var position = 0
            while position < raw.count {
                precondition(raw.count - position >= RecordBatchHeader.size, "append: truncated batch header")
                raw.storeBytes(of: next.bigEndian, toByteOffset: position + BatchInfo.Field.baseOffset, as: Int64.self)
                raw.storeBytes(of: leaderEpoch.bigEndian,
                               toByteOffset: position + BatchInfo.Field.partitionLeaderEpoch, as: Int32.self)
                let info = BatchInfo(UnsafeRawBufferPointer(raw), at: position)
                precondition(info.defect(available: raw.count - position, minimumOffset: next) == nil,
                             "append: malformed batch at byte \(position)")
                if info.maxTimestamp > maxTimestamp {
                    maxTimestamp = info.maxTimestamp
                    offsetOfMaxTimestamp = info.lastOffset
                }
                if info.opensOrEndsTransaction { transactional.append((position, info)) }
                next = info.lastOffset + 1
                batchCount += 1
                position += info.size
            }
        }
        let lastOffset = next - 1
        try rollIfNeeded(size: batches.count, batchCount: batchCount, lastOffset: lastOffset,
                         maxTimestamp: maxTimestamp, now: now)
        if leaderEpoch > (epochs.latestEpoch ?? -1) {
            // Written before the data: an epoch entry at the log end with no data yet is still true.
            _ = epochs.assign(epoch: leaderEpoch, startOffset: firstOffset)
            try persistEpochs()
        }

        let segment = active
        let start = segment.size
        try segment.write(batches)
        batches.withUnsafeBytes { raw in
            var position = 0
            while position < raw.count {
                let info = BatchInfo(raw, at: position)
                segment.batchAppended(info, at: start + position, indexIntervalBytes: config.indexIntervalBytes)
                position += info.size
            }
        }
        logEndOffset = next
        for (position, info) in transactional {
            let completed = transactions.apply(
                producerId: info.producerId, isTransactional: true, isControl: info.isControl,
                firstOffset: info.baseOffset
            ) { TransactionMarker.parse(batches, batchStart: position) }
            if let completed, completed.aborted {
                try segment.txnIndex.append(AbortedTransaction(
                    producerId: info.producerId, firstOffset: completed.firstOffset, lastOffset: info.lastOffset,
                    lastStableOffset: transactions.lastStableOffset(after: info.lastOffset)))
            }
        }

        // The flush policy: fsync before returning when flush.messages or flush.ms says so.
        if logEndOffset - recoveryPoint >= config.flushMessages || now - lastFlushMs >= config.flushMs {
            try segment.syncLog()
            recoveryPoint = logEndOffset
            lastFlushMs = now
        }
        precondition(segment.size == start + batches.count, "segment size out of step with the append")
        return AppendInfo(firstOffset: firstOffset, lastOffset: lastOffset, maxTimestamp: maxTimestamp,
                          offsetOfMaxTimestamp: offsetOfMaxTimestamp, logStartOffset: logStartOffset)
    }

    /// Kafka's roll rules: the append would overflow segment.bytes, the incoming batches are more
    /// than segment.ms newer than the segment's first batch, an index would overflow, or an offset
    /// would not fit the int32 relative to the segment base. An empty segment is never rolled.
    private func rollIfNeeded(
        size: Int, batchCount: Int, lastOffset: Int64, maxTimestamp: Int64, now: Int64
    ) throws(LogStoreError) {
        let segment = active
        guard segment.size > 0 else {
            precondition(segment.canHold(offset: lastOffset), "one append spans more than 2^31 offsets")
            return
        }
        let age: Int64
        if let first = segment.firstBatchTimestamp, first >= 0, maxTimestamp >= 0 {
            age = maxTimestamp - first
        } else {
            age = now - segment.created
        }
        if segment.size + size > config.segmentBytes || age > config.segmentMs
            || segment.indexesFull(adding: batchCount, config: config) || !segment.canHold(offset: lastOffset) {
            try roll(now: now)
        }
    }

    /// Seals the active segment (final time entry, indexes written, fsync) and starts a new one at
    /// the log end offset. Sealing first means every segment but the last is always durable.
    private func roll(now: Int64) throws(LogStoreError) {
        precondition(active.size > 0, "rolling an empty segment")
        try active.seal()
        let segment = try Segment.create(directory: directory, baseOffset: logEndOffset, now: now)
        segments.append(segment)
        try FileIO.syncDirectory(directory)
        recoveryPoint = logEndOffset
        lastFlushMs = now
    }

    // MARK: Read

    /// What `read` needs after the lock is released: the file, where the first batch starts, how
    /// far complete batches go right now, and the first batch's header.
    struct ReadPlan {
        var file: LogFile
        var path: String
        var start: Int
        var end: Int
        var first: BatchInfo
    }

    /// Finds the batch containing `offset` (or the next one after a gap), crossing to later
    /// segments if needed. Nil at the log end.
    func locate(offset: Int64) throws(LogStoreError) -> ReadPlan? {
        if closed { throw .closed }
        guard offset >= logStartOffset && offset <= logEndOffset else {
            throw .offsetOutOfRange(requested: offset, logStartOffset: logStartOffset, logEndOffset: logEndOffset)
        }
        guard offset < logEndOffset else { return nil }
        var i = segmentIndex(containing: offset)
        while i < segments.count {
            let segment = segments[i]
            if let (position, info) = try segment.findBatch(containing: offset) {
                return ReadPlan(file: segment.log, path: segment.logPath, start: position, end: segment.size,
                                first: info)
            }
            i += 1
        }
        return nil
    }

    func abortedTransactions(from: Int64, upTo: Int64) -> [AbortedTransaction] {
        guard from < upTo, !closed else { return [] }
        var found: [AbortedTransaction] = []
        // An entry sits in the segment of its marker, which is at or after the data it covers.
        for segment in segments[segmentIndex(containing: from)...] {
            for entry in segment.txnIndex.entries where entry.lastOffset >= from && entry.firstOffset < upTo {
                found.append(entry)
            }
        }
        return found
    }

    /// Index of the last segment whose base offset is <= `offset` (binary search).
    private func segmentIndex(containing offset: Int64) -> Int {
        var low = 0
        var high = segments.count
        while low < high {
            let mid = (low + high) / 2
            if segments[mid].baseOffset <= offset { low = mid + 1 } else { high = mid }
        }
        return max(0, low - 1)
    }

    // MARK: Timestamps

    func offsetForTimestamp(_ timestamp: Int64) throws(LogStoreError) -> (offset: Int64, timestamp: Int64)? {
        if closed { throw .closed }
        let start = logStartOffset
        for segment in segments where segment.maxTimestamp >= timestamp {
            guard let (position, info) = try segment.findBatch(timestampAtLeast: timestamp, lastOffsetAtLeast: start)
            else { continue }
            let bytes = try segment.readBatch(at: position, size: info.size)
            return firstRecord(in: bytes, info: info, timestampAtLeast: timestamp, minimumOffset: start)
        }
        return nil
    }

    func maxTimestampOffset() throws(LogStoreError) -> (offset: Int64, timestamp: Int64)? {
        if closed { throw .closed }
        var best: Segment?
        for segment in segments where segment.maxTimestamp > (best?.maxTimestamp ?? -1) { best = segment }
        guard let best else { return nil }
        // Narrow the batch-level answer to the first record that carries the maximum.
        if let (position, info) = try best.findBatch(containing: best.offsetOfMaxTimestamp),
           info.maxTimestamp == best.maxTimestamp {
            let bytes = try best.readBatch(at: position, size: info.size)
            return firstRecord(in: bytes, info: info, timestampAtLeast: info.maxTimestamp, minimumOffset: 0)
        }
        return (best.offsetOfMaxTimestamp, best.maxTimestamp)
    }

    func offsetsBefore(_ timestamp: Int64, maxCount: Int, now: Int64) throws(LogStoreError) -> [Int64] {
        if closed { throw .closed }
        // (first offset, last modified) per segment, plus the log end "now" when the active
        // segment holds data: the candidates Kafka's v0 answer picks from.
        var candidates: [(offset: Int64, modified: Int64)] = []
        for segment in segments {
            candidates.append((max(segment.baseOffset, logStartOffset), try FileIO.modifiedMs(segment.log, path: segment.logPath)))
        }
        if (segments.last?.size ?? 0) > 0 { candidates.append((logEndOffset, now)) }
        let newest: Int
        switch timestamp {
        case -1: newest = candidates.count - 1
        case -2: newest = candidates.isEmpty ? -1 : 0
        default: newest = candidates.lastIndex { $0.modified <= timestamp } ?? -1
        }
        guard newest >= 0, maxCount > 0 else { return [] }
        return candidates[max(0, newest - maxCount + 1)...newest].map(\.offset).sorted(by: >)
    }

    // MARK: Offsets and epochs

    func updateHighWatermark(_ offset: Int64) -> Int64 {
        highWatermark = min(max(offset, logStartOffset), logEndOffset)
        return highWatermark
    }

    func endOffset(forLeaderEpoch epoch: Int32) -> (epoch: Int32, endOffset: Int64) {
        epochs.endOffset(for: epoch, logEndOffset: logEndOffset)
    }

    /// Records that `epoch` starts at the current log end (a new leader before its first append).
    func assignEpochStart(_ epoch: Int32) throws(LogStoreError) {
        if closed { throw .closed }
        if epochs.assign(epoch: epoch, startOffset: logEndOffset) { try persistEpochs() }
    }

    private func persistEpochs() throws(LogStoreError) {
        try FileIO.replaceFile(epochsPath, with: epochs.encoded(), directory: directory)
    }

    private func persistOffsets() throws(LogStoreError) {
        let current = OffsetsCheckpoint(logStartOffset: logStartOffset, highWatermark: highWatermark)
        guard current != persistedOffsets else { return }
        try FileIO.replaceFile(offsetsPath, with: current.encoded(), directory: directory)
        persistedOffsets = current
    }

    /// Lazily persisted high watermark: written here, on flush and on close.
    func checkpointHighWatermark() throws(LogStoreError) {
        if closed { return }
        try persistOffsets()
    }

    // MARK: Deletion

    func deleteRecords(before offset: Int64) throws(LogStoreError) -> Int64 {
        if closed { throw .closed }
        guard offset >= 0 && offset <= highWatermark else {
            throw .offsetOutOfRange(requested: offset, logStartOffset: logStartOffset, logEndOffset: logEndOffset)
        }
        guard offset > logStartOffset else { return logStartOffset }
        logStartOffset = offset
        if epochs.truncateFromStart(logStartOffset) { try persistEpochs() }
        try persistOffsets()
        _ = try deleteOldSegments { _, next in next.map { $0.baseOffset <= self.logStartOffset } ?? false }
        checkInvariants()
        return logStartOffset
    }

    /// retention.ms, retention.bytes and log-start-offset breaches, whole segments from the oldest,
    /// as Kafka does: a segment goes only if all of it is below the high watermark; the active
    /// segment too if non-empty (a fresh one is rolled first).
    func applyRetention(now: Int64) throws(LogStoreError) {
        if closed { throw .closed }
        clock = now
        if config.deletePolicy && config.retentionMs >= 0 {
            let retentionMs = config.retentionMs
            _ = try deleteOldSegments { segment, _ throws(LogStoreError) in
                let newest = segment.maxTimestamp >= 0
                    ? segment.maxTimestamp : try FileIO.modifiedMs(segment.log, path: segment.logPath)
                return now - newest > retentionMs
            }
        }
        if config.deletePolicy && config.retentionBytes >= 0 {
            var excess = Int64(segments.reduce(0) { $0 + $1.size }) - config.retentionBytes
            _ = try deleteOldSegments { segment, _ in
                guard excess - Int64(segment.size) >= 0 else { return false }
                excess -= Int64(segment.size)
                return true
            }
        }
        _ = try deleteOldSegments { _, next in next.map { $0.baseOffset <= self.logStartOffset } ?? false }
        try purgeDeleted(now: now, all: false)
        checkInvariants()
    }

    /// Deletes the longest prefix of segments for which `predicate(segment, next)` holds and which
    /// lie wholly below the high watermark. Returns how many went.
    private func deleteOldSegments(
        _ predicate: (Segment, Segment?) throws(LogStoreError) -> Bool
    ) throws(LogStoreError) -> Int {
        var count = 0
        while count < segments.count {
            let segment = segments[count]
            let next = count + 1 < segments.count ? segments[count + 1] : nil
            let upperBound = next?.baseOffset ?? logEndOffset
            let lastAndEmpty = next == nil && segment.size == 0
            guard highWatermark >= upperBound, !lastAndEmpty, try predicate(segment, next) else { break }
            count += 1
        }
        guard count > 0 else { return 0 }
        if count == segments.count { try roll(now: clock) }
        let doomed = segments.prefix(count)
        segments.removeFirst(count)
        for segment in doomed { try scheduleDeletion(segment) }
        logStartOffset = max(logStartOffset, segments[0].baseOffset)
        if epochs.truncateFromStart(logStartOffset) { try persistEpochs() }
        try persistOffsets()
        return count
    }

    private func scheduleDeletion(_ segment: Segment) throws(LogStoreError) {
        let paths = try segment.markDeleted()
        pendingDeletes.append((paths, clock + config.fileDeleteDelayMs))
    }

    /// Unlinks `.deleted` files whose delay has passed (all of them with `all`).
    private func purgeDeleted(now: Int64, all: Bool) throws(LogStoreError) {
        var kept: [(paths: [String], dueMs: Int64)] = []
        for entry in pendingDeletes {
            if all || entry.dueMs <= now {
                for path in entry.paths { try FileIO.remove(path) }
            } else {
                kept.append(entry)
            }
        }
        pendingDeletes = kept
    }

    // MARK: Truncation

    /// Removes every batch at or above `offset` (whole batches: one straddling `offset` goes too).
    func truncate(to offset: Int64) throws(LogStoreError) {
        if closed { throw .closed }
        precondition(offset >= 0, "truncation to a negative offset")
        guard offset < logEndOffset else { return }
        let keep = segments.lastIndex { $0.baseOffset < offset }
        guard offset > logStartOffset, let keep else {
            try truncateFully(startAt: offset)
            return
        }
        let doomed = segments[(keep + 1)...]
        segments.removeLast(segments.count - keep - 1)
        for segment in doomed { try scheduleDeletion(segment) }
        let segment = segments[keep]
        var newEnd = offset
        if let (position, info) = try segment.findBatch(containing: offset) {
            try segment.truncate(toPosition: position, indexIntervalBytes: config.indexIntervalBytes)
            newEnd = min(offset, info.baseOffset)
        }
        try segment.txnIndex.rewrite(segment.txnIndex.entries.filter { $0.lastOffset < newEnd })
        try segment.flush()
        try FileIO.syncDirectory(directory)
        logEndOffset = newEnd
        highWatermark = min(highWatermark, logEndOffset)
        recoveryPoint = min(recoveryPoint, logEndOffset)
        if epochs.truncateFromEnd(logEndOffset) { try persistEpochs() }
        try recoverTransactions(rebuilding: [])
        checkInvariants()
    }

    /// Drops all data and restarts the log, empty, at `offset` (Kafka's truncateFullyAndStartAt).
    func truncateFully(startAt offset: Int64) throws(LogStoreError) {
        let doomed = segments
        segments = []
        for segment in doomed { try scheduleDeletion(segment) }
        segments = [try Segment.create(directory: directory, baseOffset: offset, now: clock)]
        try FileIO.syncDirectory(directory)
        logEndOffset = offset
        logStartOffset = offset
        highWatermark = offset
        recoveryPoint = offset
        transactions = OngoingTransactions()
        epochs = LeaderEpochCache()
        try persistEpochs()
        try persistOffsets()
    }

    // MARK: Compaction

    /// Installs a cleaned copy of the sealed segment at `base`: the committed `.swap` file takes
    /// the `.log` name, the indexes are rebuilt from it. Returns false (and drops the copy) when
    /// the segment is gone meanwhile (retention, truncation).
    func installCleanedSegment(base: Int64, swapPath: String, now: Int64) throws(LogStoreError) -> Bool {
        if closed { throw .closed }
        guard let i = segments.firstIndex(where: { $0.baseOffset == base }), i < segments.count - 1 else {
            try FileIO.remove(swapPath)
            return false
        }
        let old = segments[i]
        let logPath = directory + "/" + Segment.fileName(base, ".log")
        try FileIO.rename(swapPath, logPath)
        try FileIO.syncDirectory(directory)
        for suffix in [".index", ".timeindex"] { try FileIO.remove(directory + "/" + Segment.fileName(base, suffix)) }
        let fresh = try Segment.open(directory: directory, baseOffset: base, now: now)
        let recovery = try fresh.rebuild(verifyCRC: false, indexIntervalBytes: config.indexIntervalBytes)
        precondition(recovery.defect == nil, "a cleaned segment must hold only whole batches")
        precondition(recovery.nextOffset == segments[i + 1].baseOffset, "cleaning changed a segment's offset span")
        try fresh.seal()
        segments[i] = fresh
        _ = old
        checkInvariants()
        return true
    }

    // MARK: Flush and close

    func flushIfDue(now: Int64) throws(LogStoreError) {
        if closed { return }
        clock = now
        if logEndOffset > recoveryPoint && now - lastFlushMs >= config.flushMs { try flush() }
        try purgeDeleted(now: now, all: false)
    }

    func flush() throws(LogStoreError) {
        if closed { throw .closed }
        try active.flush()
        recoveryPoint = logEndOffset
        lastFlushMs = clock
        try persistOffsets()
    }

    func updateConfig(_ config: LogConfig) throws(LogStoreError) {
        try config.validate()
        self.config = config
    }

    /// Seals the active segment (so a clean reopen can trust its indexes), persists the
    /// checkpoints and unlinks pending deletions. Idempotent.
    func close() throws(LogStoreError) {
        if closed { return }
        try active.seal()
        try persistOffsets()
        try FileIO.replaceFile(transactionsPath, with: TransactionsCheckpoint(
            logEndOffset: logEndOffset, firstOffsets: transactions.firstOffsets).encoded(), directory: directory)
        try purgeDeleted(now: clock, all: true)
        closed = true
        segments = []
    }
}
