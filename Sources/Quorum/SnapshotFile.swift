// Snapshot checkpoints as KIP-630 lays them out: `<20-digit end offset>-<10-digit epoch>.checkpoint`,
// a file of record batches that starts with a control batch holding a SnapshotHeader record and
// ends with one holding a SnapshotFooter record. The core's snapshot bytes go in between as the
// values of plain records. A file is written as `.checkpoint.part`, fsynced and renamed, so a
// `.checkpoint` is always complete; `.part` leftovers of a crash are deleted at open.
internal import KafkaProtocol
public import Raft

public enum SnapshotFile {
    public static let suffix = ".checkpoint"
    public static let partSuffix = ".checkpoint.part"
    /// Snapshot bytes per record (a record's value is at most this long).
    static let chunkSize = 256 * 1024

    /// The id a checkpoint file name stands for; nil for any other name.
    public static func id(fromFileName name: String) -> SnapshotID? {
        guard name.hasSuffix(suffix), name.count == 20 + 1 + 10 + suffix.count else { return nil }
        let stem = name.dropLast(suffix.count)
        let parts = stem.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 20, parts[1].count == 10,
              parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              let offset = Int64(parts[0]), let epoch = Int32(parts[1]) else { return nil }
        return SnapshotID(endOffset: offset, epoch: epoch)
    }

    public static func encode(_ id: SnapshotID, data: [UInt8], timestamp: Int64 = 0) -> [UInt8] {
        var header = SnapshotHeaderRecord()
        header.lastContainedLogTimestamp = timestamp
        var out = controlBatch(.snapshotHeader, QuorumRecords.encoded(header, version: 0), id: id, offset: 0, timestamp: timestamp)
        var offset: Int64 = 1
        var builder = RecordBatchBuilder(baseOffset: offset, partitionLeaderEpoch: id.epoch, baseTimestamp: timestamp)
        var start = 0
        while start < data.count {
            let end = min(data.count, start + chunkSize)
            builder.append(key: nil, value: Array(data[start..<end]), timestamp: timestamp)
            start = end
        }
        if builder.recordCount > 0 {
            offset += Int64(builder.recordCount)
            guard let bytes = try? builder.build() else { preconditionFailure("uncompressed batch failed to build") }
            out += bytes
        }
        out += controlBatch(.snapshotFooter, QuorumRecords.encoded(SnapshotFooterRecord(), version: 0), id: id,
                            offset: offset, timestamp: timestamp)
        return out
    }

    static func controlBatch(_ type: ControlRecordType, _ value: [UInt8], id: SnapshotID, offset: Int64,
                             timestamp: Int64) -> [UInt8] {
        var builder = RecordBatchBuilder(baseOffset: offset, partitionLeaderEpoch: id.epoch, isControl: true,
                                         baseTimestamp: timestamp)
        builder.append(key: type.key, value: value, timestamp: timestamp)
        guard let bytes = try? builder.build() else { preconditionFailure("uncompressed batch failed to build") }
        return bytes
    }

    /// The snapshot bytes of a checkpoint file; throws unless it is whole: header first, footer
    /// last, every batch complete with a correct CRC.
    public static func decode(_ bytes: [UInt8], path: String) throws(QuorumStorageError) -> [UInt8] {
        func refuse(_ reason: String) -> QuorumStorageError { QuorumStorageError(path: path, reason: reason) }
        let batches = Array(RecordBatches.batches(in: bytes))
        guard RecordBatches.batches(in: bytes).completeBytes == bytes.count else { throw refuse("partial batch at the end") }
        guard batches.count >= 2 else { throw refuse("no header and footer") }
        var data: [UInt8] = []
        for (index, batch) in batches.enumerated() {
            let records: [Record]
            do {
                records = try RecordBatches.records(in: bytes, batchStart: batch.start,
                                                    maxDecompressedSize: QuorumRecords.maxDecompressedBatch)
            } catch { throw refuse("batch \(index): \(error)") }
            let isFirst = index == 0, isLast = index == batches.count - 1
            if isFirst || isLast {
                let expected: ControlRecordType = isFirst ? .snapshotHeader : .snapshotFooter
                guard batch.header.isControl, records.count == 1,
                      ControlRecordType.type(ofKey: records[0].key) == expected.rawValue else {
                    throw refuse(isFirst ? "does not start with a SnapshotHeader" : "does not end with a SnapshotFooter")
                }
            } else {
                guard !batch.header.isControl else { throw refuse("control batch inside the snapshot") }
                for record in records { data += record.value ?? [] }
            }
        }
        return data
    }

    /// Writes the snapshot durably under its checkpoint name.
    static func write(_ id: SnapshotID, data: [UInt8], directory: String) throws(QuorumStorageError) {
        let path = directory + "/" + id.fileName
        try DurableFiles.replace(path, with: encode(id, data: data), temporaryPath: path + ".part")
    }
}
