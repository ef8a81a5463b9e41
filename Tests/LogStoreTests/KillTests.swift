// Goal: the durability rule holds against a real kill -9. Every append acknowledged before the
// kill is there after recovery, the log is a valid, contiguous prefix, and appends continue.
// Method: the test binary re-runs itself with LOGSTORE_KILL_DIR set, so only `writerChild` runs
// in the child; it appends in a loop and records each acknowledged last offset in an O_APPEND
// file. The parent SIGKILLs it mid-stream, recovers the log, and checks it against the acks.
import Foundation
import KafkaProtocol
import Testing
@testable import LogStore

private let killDirVariable = "LOGSTORE_KILL_DIR"

@Suite(.serialized) struct KillTests {
    static let config = LogConfig(segmentBytes: 20_000, indexIntervalBytes: 700)

    /// Runs only in the child process.
    @Test(.enabled(if: ProcessInfo.processInfo.environment[killDirVariable] != nil))
    func writerChild() throws {
        let dir = ProcessInfo.processInfo.environment[killDirVariable]!
        let log = try PartitionLog.open(directory: dir + "/topic-0", config: Self.config, now: 0)
        let acks = open(dir + "/acks", O_WRONLY | O_APPEND | O_CREAT, 0o644)
        precondition(acks >= 0)
        var i = 0
        while true {
            var batches = makeBatch(count: 1 + i % 5, valueSize: 20 + i % 300)
            if i % 7 == 0 { batches += makeBatch(count: 2) }
            let info = try log.append(&batches, leaderEpoch: 0, now: 0)
            let line = Array("\(info.lastOffset)\n".utf8)
            precondition(write(acks, line, line.count) == line.count)
            i += 1
        }
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment[killDirVariable] == nil))
    func acknowledgedAppendsSurviveKill9() throws {
        let dir = TempDir()
        let executable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        var lastAcked: Int64 = -1
        for round in 1...3 {
            let child = Process()
            child.executableURL = URL(fileURLWithPath: executable)
            child.arguments = ["--testing-library", "swift-testing", "--filter", "KillTests/writerChild"]
            var environment = ProcessInfo.processInfo.environment
            environment[killDirVariable] = dir.path
            child.environment = environment
            child.standardOutput = FileHandle.nullDevice
            child.standardError = FileHandle.nullDevice
            try child.run()
            // Let it write a while (past a few segment rolls), then kill it mid-stream.
            let target = fileSize(dir.path + "/acks") + 20_000 * round
            let deadline = Date().addingTimeInterval(20)
            while fileSize(dir.path + "/acks") < target && Date() < deadline && child.isRunning {
                usleep(2_000)
            }
            #expect(child.isRunning, "the writer child stopped on its own")
            kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
            #expect(child.terminationReason == .uncaughtSignal)

            let acks = String(decoding: readFile(dir.path + "/acks"), as: UTF8.self).split(separator: "\n")
            lastAcked = try #require(acks.last.flatMap { Int64($0) })

            let log = try PartitionLog.open(directory: dir.partition, config: Self.config, now: 0)
            #expect(log.logEndOffset > lastAcked)
            #expect(log.segmentBaseOffsets.count > round)
            let data = try readAll(log)
            #expect(try crcsValid(data))
            var next: Int64 = 0
            for header in try headers(data) {
                #expect(header.baseOffset == next)
                next = header.lastOffset + 1
            }
            #expect(next == log.logEndOffset)
            try log.close()
        }
        #expect(lastAcked > 100)
    }
}
