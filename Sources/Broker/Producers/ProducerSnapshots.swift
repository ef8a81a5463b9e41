import Foundation
import KafkaProtocol
import LogStore

/// Producer-state persistence beside a partition's segments: `<20-digit offset>.snapshot` files
/// holding the table as of that offset (Kafka's layout), and the rebuild on open: load the newest
/// snapshot at or below the log end, then replay the idempotent batches after it from the log.
enum ProducerSnapshots {
    static let suffix = ".snapshot"
    static let kept = 2

    static func fileName(offset: Int64) -> String {
        let digits = String(offset)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits + suffix
    }

    /// Snapshot offsets present in `directory`, ascending.
    static func offsets(in directory: String) -> [Int64] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.compactMap { name -> Int64? in
            guard name.hasSuffix(suffix) else { return nil }
            return Int64(name.dropLast(suffix.count))
        }.sorted()
    }

    /// Writes the table as of `offset` and keeps only the newest `kept` snapshots.
    static func write(_ table: ProducerStateTable, offset: Int64, directory: String) throws {
        try AtomicFile.write(Data(table.snapshot()), to: directory + "/" + fileName(offset: offset))
        let all = offsets(in: directory)
        for old in all.dropLast(kept) {
            try? FileManager.default.removeItem(atPath: directory + "/" + fileName(offset: old))
        }
    }

    /// The table for `log` as it stands: newest usable snapshot plus a replay of the rest.
    /// A snapshot beyond the log end (the tail was truncated by recovery) or unreadable is skipped.
    static func rebuild(log: PartitionLog) -> ProducerStateTable {
        let end = log.logEndOffset
        var table = ProducerStateTable()
        var from = log.logStartOffset
        for offset in offsets(in: log.directory).reversed() where offset <= end {
            let path = log.directory + "/" + fileName(offset: offset)
            guard let data = FileManager.default.contents(atPath: path),
                  let loaded = try? ProducerStateTable.load(snapshot: [UInt8](data)) else { continue }
            table = loaded
            from = max(offset, log.logStartOffset)
            break
        }
        replay(log: log, from: from, into: &table)
        return table
    }

    /// Re-applies the idempotent batches and end markers in [from, log end) to `table`.
    static func replay(log: PartitionLog, from start: Int64, into table: inout ProducerStateTable) {
        var offset = start
        let end = log.logEndOffset
        while offset < end {
            guard let read = try? log.read(from: offset, maxBytes: 4 << 20, maxOffset: end, minOneBatch: true),
                  !read.records.isEmpty else { return }
            var advanced = false
            for (batchStart, header) in RecordBatches.batches(in: read.records) where header.lastOffset >= offset {
                if header.producerId >= 0 && header.isControl && header.lastOffset >= start,
                   let marker = TransactionMarker.parse(read.records, batchStart: batchStart) {
                    table.recordMarker(producerId: header.producerId, epoch: header.producerEpoch,
                                       coordinatorEpoch: marker.coordinatorEpoch, now: max(header.maxTimestamp, 0))
                } else if header.producerId >= 0 && !header.isControl && header.lastOffset >= start {
                    let info = ProducerBatchInfo(
                        firstSequence: header.baseSequence, lastSequence: header.baseSequence &+ header.lastOffsetDelta,
                        firstOffset: header.baseOffset, lastOffset: header.lastOffset,
                        maxTimestamp: header.maxTimestamp)
                    table.record(producerId: header.producerId, epoch: header.producerEpoch, batch: info,
                                 now: max(header.maxTimestamp, 0),
                                 isTransactional: header.isTransactional && header.recordsCount > 0)
                }
                offset = header.lastOffset + 1
                advanced = true
            }
            if !advanced { return }
        }
    }
}
