// Goal: RaftStorage keeps the core's durability contract on a real disk: after a crash the log
// comes back as exactly a prefix that contains everything flushed (also when the tail batch is
// torn), the quorum state and snapshots survive whole, a half-written snapshot is ignored, and
// segments below a snapshot go. Method: real directories; a "crash" drops the open log without
// closing it and cuts the segment file to what a lost page cache would leave.
import Foundation
import Testing
import KafkaProtocol
import LogStore
import Raft
@testable import Quorum

func makeTemporaryDirectory() -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("quorum-\(UUID().uuidString)").path
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

@Suite struct RaftStorageTests {
    static func data(_ epoch: Int32, _ count: Int, tag: UInt8 = 0) -> [LogEntry] {
        (0..<count).map { LogEntry(epoch: epoch, content: .data([tag, UInt8($0), UInt8($0 &* 7)])) }
    }

    static let flushedPrefix = [LogEntry(epoch: 1, content: .leaderChange(leaderID: 1))] + data(1, 9)
    static let unflushedTail = [LogEntry(epoch: 2, content: .leaderChange(leaderID: 2))] + data(2, 4, tag: 1)

    func segmentPath(_ directory: String) -> String {
        directory + "/" + RaftStorage.logDirectoryName + "/00000000000000000000.log"
    }

    func fileSize(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? -1
    }

    /// Writes the flushed prefix (flushed) and the tail (not flushed); returns the segment size
    /// at the flush. The storage is abandoned without close, as a crash would.
    func writeFlushedAndUnflushed(_ directory: String) throws -> Int {
        let (storage, recovered) = try RaftStorage.open(directory: directory, now: 0)
        #expect(recovered.log.endOffset == 0)
        _ = try storage.execute(.appendToLog(RecordSlice(baseOffset: 0, entries: Self.flushedPrefix)), now: 1)
        let events = try storage.execute(.flushLog(token: 7), now: 2)
        guard events.count == 1, case .logFlushed(token: 7) = events[0] else {
            Issue.record("flush answered \(events)")
            return -1
        }
        let flushedSize = try fileSize(segmentPath(directory))
        _ = try storage.execute(.appendToLog(RecordSlice(baseOffset: 10, entries: Self.unflushedTail)), now: 3)
        return flushedSize
    }

    @Test func crashLosingTheUnflushedTailRecoversTheFlushedPrefix() throws {
        let directory = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let flushedSize = try writeFlushedAndUnflushed(directory)
        #expect(truncate(segmentPath(directory), off_t(flushedSize)) == 0)
        let (_, recovered) = try RaftStorage.open(directory: directory, now: 10)
        #expect(recovered.log == RaftLog(entries: Self.flushedPrefix))
    }

    @Test func crashTearingTheTailBatchRecoversTheFlushedPrefix() throws {
        let directory = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let flushedSize = try writeFlushedAndUnflushed(directory)
        let fullSize = try fileSize(segmentPath(directory))
        #expect(fullSize > flushedSize + 40)
        // Inside the first unflushed batch (the epoch-2 leader change): exactly the flushed prefix.
        // Inside the last one: the whole batches before it, still a prefix of what was written.
        let cuts = [(flushedSize + 1, Self.flushedPrefix), (flushedSize + 30, Self.flushedPrefix),
                    (fullSize - 1, Self.flushedPrefix + Self.unflushedTail.prefix(1))]
        for (cut, expected) in cuts {
            let copy = makeTemporaryDirectory()
            try FileManager.default.removeItem(atPath: copy)
            try FileManager.default.copyItem(atPath: directory, toPath: copy)
            defer { try? FileManager.default.removeItem(atPath: copy) }
            #expect(truncate(segmentPath(copy), off_t(cut)) == 0)
            let (_, recovered) = try RaftStorage.open(directory: copy, now: 10)
            #expect(recovered.log == RaftLog(entries: expected), "cut at \(cut)")
        }
    }

    @Test func pageCacheSurvivingAProcessCrashKeepsEverything() throws {
        let directory = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        _ = try writeFlushedAndUnflushed(directory)
        let (_, recovered) = try RaftStorage.open(directory: directory, now: 10)
        #expect(recovered.log == RaftLog(entries: Self.flushedPrefix + Self.unflushedTail))
        #expect(recovered.log.endOffset(forEpoch: 1) == OffsetAndEpoch(offset: 10, epoch: 1))
    }

    @Test func quorumStateSurvivesAndIsKafkasJSON() throws {
        let directory = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (storage, recovered) = try RaftStorage.open(directory: directory, now: 0)
        #expect(recovered.quorumState == QuorumStateData())
        let state = QuorumStateData(leaderId: -1, leaderEpoch: 6, votedId: 3)
        _ = try storage.execute(.persistQuorumState(state), now: 1)
        let text = try String(contentsOfFile: directory + "/quorum-state", encoding: .utf8)
        #expect(text == #"{"leaderId":-1,"leaderEpoch":6,"votedId":3,"votedDirectoryId":"AAAAAAAAAAAAAAAAAAAAAA","data_version":1}"#)
        #expect(try RaftStorage.open(directory: directory, now: 2).recovered.quorumState == state)

        // Version 0 as older Kafka controllers wrote it.
        let v0 = #"{"clusterId":"","leaderId":2,"leaderEpoch":9,"votedId":2,"appliedOffset":0,"currentVoters":[{"voterId":1},{"voterId":2}],"data_version":0}"#
        #expect(try QuorumStateFile.decode(Array(v0.utf8), path: "q") == QuorumStateData(leaderId: 2, leaderEpoch: 9, votedId: 2))
        #expect(throws: QuorumStorageError.self) { try QuorumStateFile.decode(Array("{\"leaderId\":1}".utf8), path: "q") }
        #expect(throws: QuorumStorageError.self) { try QuorumStateFile.decode(Array("[1]".utf8), path: "q") }
    }

    @Test func anUnreadableQuorumStateStopsOpenWithItsPath() throws {
        let directory = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/quorum-state"
        #expect(FileManager.default.createFile(atPath: path, contents: Data(#"{"leaderId":1,"data_version":7}"#.utf8)))
        #expect(throws: QuorumStorageError(path: path, reason: "unsupported data_version 7")) {
            _ = try RaftStorage.open(directory: directory, now: 0)
        }
    }

    @Test func truncationInsideABatchKeepsTheEntriesBelow() throws {
        let directory = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (storage, _) = try RaftStorage.open(directory: directory, now: 0)
        let entries = Self.data(3, 10)
        _ = try storage.execute(.appendToLog(RecordSlice(baseOffset: 0, entries: entries)), now: 1)
        _ = try storage.execute(.flushLog(token: 1), now: 1)
        _ = try storage.execute(.truncateLog(to: 4), now: 2)
        #expect(storage.log.logEndOffset == 4)
        #expect(try storage.readEntries(from: 0) == Array(entries.prefix(4)))
        // Rewritten and flushed: a crash now keeps all four.
        let size = try fileSize(segmentPath(directory))
        #expect(truncate(segmentPath(directory), off_t(size)) == 0)
        #expect(try RaftStorage.open(directory: directory, now: 3).recovered.log == RaftLog(entries: Array(entries.prefix(4))))
    }

    @Test func snapshotsAreWholeOrIgnoredAndTheLogBelowThemGoes() throws {
        let directory = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var config = RaftStorage.logConfig
        config.segmentBytes = 1024
        let (storage, _) = try RaftStorage.open(directory: directory, now: 0, logConfig: config)
        var entries: [LogEntry] = []
        for round in 0..<40 {
            let slice = Self.data(1, 5, tag: UInt8(round))
            _ = try storage.execute(.appendToLog(RecordSlice(baseOffset: Int64(entries.count), entries: slice)), now: 1)
            entries += slice
        }
        _ = try storage.execute(.flushLog(token: 1), now: 2)
        let segmentsBefore = storage.log.segmentBaseOffsets
        #expect(segmentsBefore.count > 3)

        let id = SnapshotID(endOffset: 150, epoch: 1)
        let state = Array(repeating: UInt8(42), count: 600_000)  // several records' worth
        try storage.writeSnapshot(id, data: state)
        _ = try storage.execute(.deleteLogBefore(150), now: 3)
        #expect(storage.log.logStartOffset == 150)
        #expect(storage.log.segmentBaseOffsets.first! > 0)
        #expect(storage.log.segmentBaseOffsets.first! <= 150)

        // The file: SnapshotHeader control batch first, SnapshotFooter control batch last.
        let bytes = try #require(try DurableFiles.read(directory + "/" + id.fileName))
        let batches = Array(RecordBatches.batches(in: bytes))
        #expect(batches.first!.header.isControl && batches.last!.header.isControl)
        #expect(try RecordBatches.records(in: bytes, batchStart: 0, maxDecompressedSize: 1 << 20)[0].key == [0, 0, 0, 3])
        #expect(try RecordBatches.records(in: bytes, batchStart: batches.last!.start, maxDecompressedSize: 1 << 20)[0].key == [0, 0, 0, 4])

        // A crash while writing a newer snapshot: its .part is ignored and removed; a torn
        // .checkpoint (which rename never produces, but a disk might) is skipped too.
        let newer = SnapshotID(endOffset: 190, epoch: 1)
        let part = directory + "/" + newer.fileName + ".part"
        #expect(FileManager.default.createFile(atPath: part, contents: Data(SnapshotFile.encode(newer, data: [1, 2, 3]).dropLast(5))))
        let torn = SnapshotID(endOffset: 180, epoch: 1)
        #expect(FileManager.default.createFile(atPath: directory + "/" + torn.fileName,
                                       contents: Data(SnapshotFile.encode(torn, data: [1]).dropLast(1))))

        let (reopened, recovered) = try RaftStorage.open(directory: directory, now: 4, logConfig: config)
        #expect(recovered.snapshot?.id == id)
        #expect(recovered.snapshot?.data == state)
        #expect(recovered.log == RaftLog(startOffset: 150, startEpoch: 1, entries: Array(entries[150...])))
        #expect(!FileManager.default.fileExists(atPath: part))
        #expect(reopened.latestSnapshot == id)
    }

    @Test func installedSnapshotRestartsTheLogAtItsEnd() throws {
        let directory = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (storage, _) = try RaftStorage.open(directory: directory, now: 0)
        _ = try storage.execute(.appendToLog(RecordSlice(baseOffset: 0, entries: Self.data(1, 5))), now: 1)
        let id = SnapshotID(endOffset: 300, epoch: 4)
        _ = try storage.execute(.installSnapshot(id, data: [9, 9]), now: 2)
        #expect(storage.log.logStartOffset == 300 && storage.log.logEndOffset == 300)
        _ = try storage.execute(.appendToLog(RecordSlice(baseOffset: 300, entries: Self.data(4, 2))), now: 3)
        _ = try storage.execute(.flushLog(token: 2), now: 3)
        let (_, recovered) = try RaftStorage.open(directory: directory, now: 4)
        #expect(recovered.snapshot?.id == id && recovered.snapshot?.data == [9, 9])
        #expect(recovered.log == RaftLog(startOffset: 300, startEpoch: 4, entries: Self.data(4, 2)))
    }

    @Test func snapshotFileNames() {
        let id = SnapshotID(endOffset: 1234, epoch: 5)
        #expect(SnapshotFile.id(fromFileName: id.fileName) == id)
        #expect(SnapshotFile.id(fromFileName: id.fileName + ".part") == nil)
        #expect(SnapshotFile.id(fromFileName: "00000000000000001234-000000000x.checkpoint") == nil)
    }
}
