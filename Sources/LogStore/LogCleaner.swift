// Log compaction (cleanup.policy=compact): keep the last record of every key, drop tombstones
// once delete.retention.ms has passed. The cleaner reads sealed segments without the log lock and
// takes it only to install each cleaned copy, so appends and reads never wait for a clean.
import Compression
import KafkaProtocol

/// What one clean did.
public struct CleanResult: Equatable, Sendable {
    public var segmentsCleaned: Int
    public var bytesBefore: Int
    public var bytesAfter: Int
    public var recordsRemoved: Int
}

/// The cleaner's view of the log, taken under the lock: sealed segments that may be cleaned.
struct CleanPlan: Sendable {
    struct Source: Sendable {
        var base: Int64
        var file: LogFile
        var path: String
        var size: Int
    }
    var sources: [Source]
    /// Segments from this offset on were not yet cleaned: their keys form the offset map.
    var firstDirty: Int64
    /// Where cleaning stops (the first segment that may not be cleaned yet).
    var firstUncleanable: Int64
    /// Aborted transactions (the `.txnindex` entries): the data batches they cover are removed
    /// and never enter the offset map.
    var aborted: [AbortedTransaction] = []

    /// Whether a data batch belongs to an aborted transaction: transactional, and its producer
    /// has an aborted transaction spanning its offset (a producer has one transaction at a time).
    func isAborted(_ header: RecordBatchHeader) -> Bool {
        guard header.isTransactional, !header.isControl, header.producerId >= 0 else { return false }
        return aborted.contains {
            $0.producerId == header.producerId && $0.firstOffset <= header.baseOffset && header.baseOffset <= $0.lastOffset
        }
    }
}

/// What the cleaner learns of transactions while it walks the cleanable segments in order: for the
/// transaction each producer is in, whether any of its data was kept (its marker must stay then).
struct CleanerTransactions {
    var retainedData: [Int64: Bool] = [:]
}

/// Crash safety: a segment is cleaned into `<base>.log.cleaned` (fsynced), then renamed to
/// `<base>.log.swap` — the commit point — and finally, under the log lock, over `<base>.log`.
/// On open, `.cleaned` files are deleted and `.swap` files finish their rename, so either the old
/// or the complete cleaned segment survives a crash, never a mix. A cleaned segment keeps its
/// base offset and its last batch (empty if need be, with the original last offset), so the
/// offsets it spans do not change.
enum LogCleaner {
    static let cleanedSuffix = ".cleaned"
    static let swapSuffix = ".swap"
    /// Largest decompressed batch the cleaner will inflate.
    static let maxBatchBytes = 256 << 20

    /// Latest offset of every key in the dirty part of the plan.
    static func offsetMap(_ plan: CleanPlan) throws(LogStoreError) -> [[UInt8]: Int64] {
        var map: [[UInt8]: Int64] = [:]
        for source in plan.sources where source.base >= plan.firstDirty {
            try forEachBatch(source) { bytes, header throws(LogStoreError) in
                if header.isControl || plan.isAborted(header) { return }
                for record in try records(bytes, source: source) {
                    if let key = record.key { map[key] = header.baseOffset + Int64(record.offsetDelta) }
                }
            }
        }
        return map
    }

    /// Writes the cleaned copy of one segment to `<path>.swap` and returns its path and what went.
    static func clean(_ source: CleanPlan.Source, plan: CleanPlan, map: [[UInt8]: Int64],
                      transactions: inout CleanerTransactions, config: LogConfig, now: Int64)
        throws(LogStoreError) -> (swapPath: String, bytesAfter: Int, recordsRemoved: Int) {
        var output: [UInt8] = []
        output.reserveCapacity(source.size)
        var removed = 0
        var batches: [([UInt8], RecordBatchHeader)] = []
        try forEachBatch(source) { bytes, header in batches.append((bytes, header)) }
        let horizon = now - config.deleteRetentionMs
        for (index, (bytes, header)) in batches.enumerated() {
            let isLast = index == batches.count - 1
            if header.isControl {
                // Kafka's rule: a transaction's marker goes once no data of the transaction is
                // left and it is older than delete.retention.ms (consumers that read the data
                // before it went have had that long to read the marker too). A segment's last
                // batch stays so its offset span does not change.
                let keptData = transactions.retainedData.removeValue(forKey: header.producerId) ?? false
                if header.producerId >= 0, !keptData, !isLast, header.maxTimestamp < horizon,
                   TransactionMarker.parse(bytes) != nil {
                    removed += Int(header.recordsCount)
                } else {
                    output.append(contentsOf: bytes)
                }
                continue
            }
            let all = try records(bytes, source: source)
            let tombstoneHorizon = horizon
            // Aborted transactional data goes whole (it never enters the offset map either).
            let aborted = plan.isAborted(header)
            let kept = aborted ? [] : all.filter { record in
                guard let key = record.key else { return true }
                let offset = header.baseOffset + Int64(record.offsetDelta)
                if let latest = map[key], latest > offset { return false }
                if record.value == nil && header.maxTimestamp < tombstoneHorizon { return false }
                return true
            }
            removed += all.count - kept.count
            if header.isTransactional && header.producerId >= 0 {
                transactions.retainedData[header.producerId, default: false] =
                    (transactions.retainedData[header.producerId] ?? false) || !kept.isEmpty
            }
            if kept.count == all.count {
                output.append(contentsOf: bytes)
            } else if !kept.isEmpty || isLast {
                output.append(contentsOf: try rebuild(header, records: kept, source: source))
            }
        }
        let cleanedPath = source.path + cleanedSuffix
        let swapPath = source.path + swapSuffix
        try? FileIO.remove(cleanedPath)
        let file = try FileIO.open(cleanedPath, create: true, exclusive: true)
        try FileIO.write(file, output, at: 0, path: cleanedPath)
        try FileIO.syncData(file, path: cleanedPath)
        try FileIO.rename(cleanedPath, swapPath)
        return (swapPath, output.count, removed)
    }

    /// A batch with only `records`, keeping the original offsets span, timestamps, producer fields
    /// and codec. An empty result keeps the header alone (count 0), as compaction does in Kafka.
    static func rebuild(_ header: RecordBatchHeader, records: [Record], source: CleanPlan.Source)
        throws(LogStoreError) -> [UInt8] {
        var builder = RecordBatchBuilder(
            baseOffset: header.baseOffset, partitionLeaderEpoch: header.partitionLeaderEpoch,
            codec: CompressionCodec(rawValue: header.compressionCodec) ?? .none,
            timestampType: header.isLogAppendTime ? .logAppendTime : .createTime,
            isTransactional: header.isTransactional, isControl: header.isControl,
            baseTimestamp: header.baseTimestamp, producerId: header.producerId, producerEpoch: header.producerEpoch,
            baseSequence: header.baseSequence)
        for record in records { builder.append(record) }
        var bytes: [UInt8]
        do {
            bytes = try builder.build()
        } catch {
            throw .corruptSegment(path: source.path, position: 0, reason: "recompression failed: \(error)")
        }
        // Keep the batch's original last offset and timestamps so offsets, indexes and the
        // segment's span stay as they were.
        var patched = try RecordBatchHeader(from: bytes, at: 0, path: source.path)
        patched.lastOffsetDelta = header.lastOffsetDelta
        patched.baseTimestamp = header.baseTimestamp
        patched.maxTimestamp = header.maxTimestamp
        patched.write(to: &bytes, at: 0)
        let crc = RecordBatchHeader.computeCRC(bytes, batchStart: 0, totalSize: bytes.count)
        patched.crc = crc
        patched.write(to: &bytes, at: 0)
        return bytes
    }

    static func records(_ bytes: [UInt8], source: CleanPlan.Source) throws(LogStoreError) -> [Record] {
        do {
            return try RecordBatches.records(in: bytes, batchStart: 0, maxDecompressedSize: maxBatchBytes)
        } catch {
            throw .corruptSegment(path: source.path, position: 0, reason: "cleaner: \(error)")
        }
    }

    /// Every whole batch of a sealed segment, read without the log lock (sealed files never change).
    static func forEachBatch(_ source: CleanPlan.Source,
                             _ body: ([UInt8], RecordBatchHeader) throws(LogStoreError) -> Void) throws(LogStoreError) {
        var position = 0
        while position + RecordBatchHeader.size <= source.size {
            let head = try FileIO.read(source.file, count: RecordBatchHeader.size, at: position, path: source.path)
            let header = try RecordBatchHeader(from: head, at: 0, path: source.path)
            let size = header.totalSize
            guard size >= RecordBatchHeader.size, position + size <= source.size else {
                throw .corruptSegment(path: source.path, position: position, reason: "cleaner: bad batch length")
            }
            let bytes = try FileIO.read(source.file, count: size, at: position, path: source.path)
            try body(bytes, header)
            position += size
        }
    }
}

extension RecordBatchHeader {
    init(from bytes: [UInt8], at offset: Int, path: String) throws(LogStoreError) {
        do {
            try self.init(from: bytes, at: offset)
        } catch {
            throw .corruptSegment(path: path, position: offset, reason: "\(error)")
        }
    }
}

extension LogCore {
    /// The cleanable sealed segments, or nil when nothing is due: the policy is not compact, no
    /// sealed segment is old enough (min.compaction.lag.ms) or below the high watermark, or the
    /// uncleaned share is under min.cleanable.dirty.ratio.
    func cleanPlan(now: Int64) -> CleanPlan? {
        guard config.compactPolicy, !closed, segments.count > 1 else { return nil }
        var sources: [CleanPlan.Source] = []
        var firstUncleanable = segments[segments.count - 1].baseOffset
        for (i, segment) in segments.dropLast().enumerated() {
            let end = segments[i + 1].baseOffset
            let tooYoung = segment.maxTimestamp >= 0 && now - segment.maxTimestamp < config.minCompactionLagMs
            // Nothing at or above the last stable offset: an open transaction may still abort.
            if tooYoung || end > lastStableOffset {
                firstUncleanable = segment.baseOffset
                break
            }
            sources.append(.init(base: segment.baseOffset, file: segment.log, path: segment.logPath, size: segment.size))
        }
        guard !sources.isEmpty else { return nil }
        let firstDirty = max(cleanerCheckpoint, logStartOffset)
        let total = sources.reduce(0) { $0 + $1.size }
        let dirty = sources.filter { $0.base >= firstDirty }.reduce(0) { $0 + $1.size }
        guard dirty > 0, total > 0, Double(dirty) / Double(total) >= config.minCleanableDirtyRatio else { return nil }
        // Every segment's entries: a transaction's marker (and so its entry) may lie beyond the
        // cleanable part while its data is inside it.
        let aborted = segments.flatMap(\.txnIndex.entries)
        return CleanPlan(sources: sources, firstDirty: firstDirty, firstUncleanable: firstUncleanable, aborted: aborted)
    }
}
