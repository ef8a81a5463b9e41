// The metadata log's entries as Kafka record batches (KIP-595): each run of entries with one
// epoch and one kind becomes a v2 batch whose partitionLeaderEpoch is that epoch. Data entries are
// plain records (null key, the payload as value); a leader-change entry is a control batch holding
// one LeaderChange control record, as KRaft writes it at the start of an epoch.
internal import KafkaProtocol
public import Raft

public enum QuorumRecordsError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A batch failed its CRC or record decoding.
    case corruptBatch(baseOffset: Int64, reason: String)
    /// A batch does not start where the previous one ended.
    case offsetGap(expected: Int64, found: Int64)
    /// A control record the metadata log does not hold (key type as in ControlRecordType).
    case unexpectedControlRecord(type: Int16)
    /// Bytes after the last whole batch.
    case partialBatch(bytes: Int)

    public var description: String {
        switch self {
        case .corruptBatch(let base, let reason): return "corrupt batch at offset \(base): \(reason)"
        case .offsetGap(let expected, let found): return "batch starts at \(found), expected \(expected)"
        case .unexpectedControlRecord(let type): return "unexpected control record type \(type)"
        case .partialBatch(let bytes): return "\(bytes) bytes of a partial batch"
        }
    }
}

/// Kafka's ControlRecordType values (the int16 after the version in a control record's key).
public enum ControlRecordType: Int16, Sendable {
    case leaderChange = 2
    case snapshotHeader = 3
    case snapshotFooter = 4

    /// The key of a control record: version 0, then the type.
    public var key: [UInt8] {
        var writer = WireWriter(capacity: 4)
        writer.writeInt16(0)
        writer.writeInt16(rawValue)
        return writer.bytes
    }

    /// The type in a control record's key; nil when the key is not one.
    static func type(ofKey key: [UInt8]?) -> Int16? {
        guard let key, key.count >= 4 else { return nil }
        var reader = WireReader(key)
        guard (try? reader.readInt16()) != nil, let type = try? reader.readInt16() else { return nil }
        return type
    }
}

public enum QuorumRecords {
    /// The largest decompressed batch accepted when reading (a metadata batch is far smaller).
    static let maxDecompressedBatch = 64 << 20

    /// Encodes `slice` as record batches with offsets from its base. `timestamp` is the records'
    /// create time (the core has no clock; the I/O layer passes its own).
    public static func batches(for slice: Raft.RecordSlice, timestamp: Int64 = 0) -> [UInt8] {
        var out: [UInt8] = []
        var offset = slice.baseOffset
        for run in runs(of: slice.entries) {
            out += batch(run, baseOffset: offset, timestamp: timestamp)
            offset += Int64(run.count)
        }
        return out
    }

    /// One batch of entries sharing an epoch and a kind.
    static func batch(_ run: ArraySlice<LogEntry>, baseOffset: Int64, timestamp: Int64) -> [UInt8] {
        let first = run[run.startIndex]
        var isControl = false
        if case .leaderChange = first.content { isControl = true }
        var builder = RecordBatchBuilder(baseOffset: baseOffset, partitionLeaderEpoch: first.epoch,
                                         isControl: isControl, baseTimestamp: timestamp)
        for entry in run {
            switch entry.content {
            case .data(let payload):
                builder.append(key: nil, value: payload, timestamp: timestamp)
            case .leaderChange(let leaderID):
                var message = LeaderChangeMessage()
                message.leaderId = leaderID
                builder.append(key: ControlRecordType.leaderChange.key, value: encoded(message, version: 0),
                               timestamp: timestamp)
            }
        }
        // Uncompressed batches cannot fail to build.
        guard let bytes = try? builder.build() else { preconditionFailure("uncompressed batch failed to build") }
        return bytes
    }

    /// Consecutive entries of one epoch and one kind (data or leader change): one batch each.
    static func runs(of entries: [LogEntry]) -> [ArraySlice<LogEntry>] {
        func isControl(_ entry: LogEntry) -> Bool {
            if case .leaderChange = entry.content { return true }
            return false
        }
        var runs: [ArraySlice<LogEntry>] = []
        var start = entries.startIndex
        for index in entries.indices.dropFirst()
        where entries[index].epoch != entries[start].epoch || isControl(entries[index]) != isControl(entries[start]) {
            runs.append(entries[start..<index])
            start = index
        }
        if start < entries.endIndex { runs.append(entries[start...]) }
        return runs
    }

    /// Decodes whole batches back into entries; nil for no batches. Each batch's epoch is its
    /// partitionLeaderEpoch. A trailing partial batch is an error unless `allowPartialTail`
    /// (fetch responses may be cut at a byte limit). Snapshot header/footer records are skipped.
    public static func slice(from bytes: [UInt8], allowPartialTail: Bool = false) throws(QuorumRecordsError) -> Raft.RecordSlice? {
        var result: Raft.RecordSlice?
        let sequence = RecordBatches.batches(in: bytes)
        for (start, header) in sequence {
            let records: [Record]
            do {
                records = try RecordBatches.records(in: bytes, batchStart: start, maxDecompressedSize: maxDecompressedBatch)
            } catch {
                throw .corruptBatch(baseOffset: header.baseOffset, reason: error.description)
            }
            var entries: [LogEntry] = []
            for record in records {
                if header.isControl {
                    let type = ControlRecordType.type(ofKey: record.key) ?? -1
                    switch ControlRecordType(rawValue: type) {
                    case .leaderChange:
                        var reader = WireReader(record.value ?? [])
                        guard let message = try? LeaderChangeMessage(from: &reader, version: 0) else {
                            throw .corruptBatch(baseOffset: header.baseOffset, reason: "unreadable LeaderChangeMessage")
                        }
                        entries.append(LogEntry(epoch: header.partitionLeaderEpoch,
                                                content: .leaderChange(leaderID: message.leaderId)))
                    case .snapshotHeader, .snapshotFooter:
                        continue
                    case nil:
                        throw .unexpectedControlRecord(type: type)
                    }
                } else {
                    entries.append(LogEntry(epoch: header.partitionLeaderEpoch, content: .data(record.value ?? [])))
                }
            }
            if var slice = result {
                let expected = slice.baseOffset + Int64(slice.entries.count)
                guard header.baseOffset == expected else { throw .offsetGap(expected: expected, found: header.baseOffset) }
                slice.entries += entries
                result = slice
            } else {
                result = Raft.RecordSlice(baseOffset: header.baseOffset, entries: entries)
            }
        }
        let tail = bytes.count - sequence.completeBytes
        if tail > 0 && !allowPartialTail { throw .partialBatch(bytes: tail) }
        return result
    }

    static func encoded(_ message: some KafkaMessage, version: Int16) -> [UInt8] {
        var writer = WireWriter(capacity: 64)
        message.encode(to: &writer, version: version)
        return writer.bytes
    }
}
