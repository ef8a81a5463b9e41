// Audit log: line format, the hash chain, tamper detection with the first broken line, rotation
// that keeps the chain, recovery of an incomplete last line, concurrent writers.
// Method: logs written to fresh temporary directories, then edited as text.
import Foundation
import Testing
@testable import Security

@Suite struct AuditTests {
    func event(_ index: Int) -> AuditEvent {
        AuditEvent(kind: index % 2 == 0 ? .authorization : .authentication, principal: "User:alice", client: "127.0.0.1:5000",
                   listener: "SASL_SSL", api: "Produce", resource: "topic:orders-\(index)", operation: "write",
                   decision: .deny, rule: "policies/teams.acl:\(index)", detail: "line \(index)")
    }

    func writeLog(_ directory: String, count: Int, maxBytes: Int = 1 << 20, maxFiles: Int = 10) throws -> AuditLog {
        let log = try AuditLog(config: AuditLogConfig(directory: directory, maxBytes: maxBytes, maxFiles: maxFiles), nowMs: nowMs)
        for index in 0..<count { try log.record(event(index), nowMs: nowMs + Int64(index)) }
        return log
    }

    func lines(_ path: String) -> [String] { readText(path).split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init) }

    func write(_ path: String, _ lines: [String]) { writeText(path, lines.map { $0 + "\n" }.joined()) }

    func breakOf(_ directory: String) -> AuditChainBreak? {
        do {
            _ = try AuditVerifier.verify(files: AuditVerifier.files(directory: directory))
            return nil
        } catch {
            return error
        }
    }

    @Test func lineFormatAndChain() throws {
        let directory = temporaryDirectory()
        defer { removeDirectory(directory) }
        let log = try writeLog(directory, count: 3)
        try log.close()
        let text = lines(directory + "/audit.log")
        #expect(text.count == 3)
        #expect(text[0] == """
            {"time":"2027-01-15T08:00:00.000Z","event":"authorization","principal":"User:alice","client":"127.0.0.1:5000",\
            "listener":"SASL_SSL","api":"Produce","resource":"topic:orders-0","operation":"write","decision":"deny",\
            "rule":"policies/teams.acl:0","detail":"line 0","prev":"\(AuditLog.genesis)"}
            """)
        #expect(text[1].hasSuffix("\"prev\":\"\(AuditLog.hash(bytes(text[0])))\"}"))
        #expect(text[1].contains("\"time\":\"2027-01-15T08:00:00.001Z\""))
        let result = try AuditVerifier.verify(files: [directory + "/audit.log"])
        #expect(result.lines == 3 && result.startsAtGenesis)
        var mode = stat()
        stat(directory + "/audit.log", &mode)
        #expect(mode.st_mode & 0o777 == 0o600)
        #expect(throws: AuditError.self) { try log.record(event(9), nowMs: nowMs) }
    }

    @Test func nullsEscapesAndCaps() {
        let line = text(AuditLog.line(AuditEvent(kind: .aclChange, detail: "a\"b\n" + String(repeating: "é", count: 2000)),
                                      nowMs: -1, prev: AuditLog.genesis))
        #expect(line.hasPrefix("{\"time\":\"1969-12-31T23:59:59.999Z\",\"event\":\"acl-change\",\"principal\":null,"))
        #expect(line.contains("\"detail\":\"a\\\"b\\n"))
        #expect(line.contains("...\",\"prev\""))
        #expect(line.utf8.count < 1400)
        #expect(!line.contains("\n"))
    }

    @Test func allowFilter() throws {
        let filter = try AuditAllowFilter("topic:payments.*, cluster ,group:*,topic:orders")
        #expect(filter.records(resource: "topic:payments.eu"))
        #expect(filter.records(resource: "topic:orders"))
        #expect(!filter.records(resource: "topic:orders2"))
        #expect(filter.records(resource: "group:any"))
        #expect(filter.records(resource: "cluster"))
        #expect(!filter.records(resource: "transactional-id:t"))
        #expect(try !AuditAllowFilter().records(resource: "cluster"))
        #expect(try AuditAllowFilter("*").records(resource: "subject:x"))
        #expect(throws: AuditError.self) { try AuditAllowFilter("topic") }
        #expect(throws: AuditError.self) { try AuditAllowFilter("topic:") }
    }

    @Test func reopeningContinuesTheChain() throws {
        let directory = temporaryDirectory()
        defer { removeDirectory(directory) }
        try writeLog(directory, count: 2).close()
        try writeLog(directory, count: 2).close()
        #expect(lines(directory + "/audit.log").count == 4)
        #expect(breakOf(directory) == nil)
    }

    @Test func tamperingIsFoundAtTheRightLine() throws {
        let directory = temporaryDirectory()
        defer { removeDirectory(directory) }
        try writeLog(directory, count: 8).close()
        let path = directory + "/audit.log"
        let original = lines(path)

        var edited = original
        edited[3] = edited[3].replacingOccurrences(of: "\"deny\"", with: "\"allow\"")
        write(path, edited)
        #expect(breakOf(directory)?.line == 5)
        #expect(breakOf(directory)?.reason.contains("audit.log:4") == true)

        var deleted = original
        deleted.remove(at: 2)
        write(path, deleted)
        #expect(breakOf(directory)?.line == 3)

        var swapped = original
        swapped.swapAt(5, 6)
        write(path, swapped)
        #expect(breakOf(directory)?.line == 6)

        // An inserted line that chains correctly from its predecessor breaks the next one.
        var inserted = original
        let forged = text(AuditLog.line(event(99), nowMs: nowMs, prev: AuditLog.hash(bytes(original[3]))))
        inserted.insert(forged, at: 4)
        write(path, inserted)
        #expect(breakOf(directory)?.line == 6)

        var garbage = original
        garbage[6] = "not json"
        write(path, garbage)
        #expect(breakOf(directory)?.line == 7)
        #expect(breakOf(directory)?.reason.contains("not a JSON object") == true)

        // Removing the last line cannot be seen from the chain alone; the first line can.
        write(path, Array(original.dropFirst()))
        #expect(breakOf(directory) == nil)
        #expect(try AuditVerifier.verify(files: [path]).startsAtGenesis == false)

        writeText(path, original.joined(separator: "\n"))
        #expect(breakOf(directory)?.line == 8)
        #expect(breakOf(directory)?.reason.contains("incomplete") == true)
    }

    @Test func rotationKeepsTheChain() throws {
        let directory = temporaryDirectory()
        defer { removeDirectory(directory) }
        let log = try writeLog(directory, count: 60, maxBytes: 4096, maxFiles: 3)
        try log.close()
        let files = try AuditVerifier.files(directory: directory)
        #expect(files.map { ($0 as NSString).lastPathComponent } == ["audit.log.2", "audit.log.1", "audit.log"])
        for file in files {
            #expect(readText(file).utf8.count <= 4096)
        }
        let result = try AuditVerifier.verify(files: files)
        #expect(!result.startsAtGenesis)   // older files were rotated away
        // The first line of each newer file chains from the last line of the one before.
        let lastOfPrevious = lines(files[1]).last!
        #expect(lines(files[2])[0].hasSuffix("\"prev\":\"\(AuditLog.hash(bytes(lastOfPrevious)))\"}"))

        // Tampering in a rotated file is named with that file.
        var middle = lines(files[1])
        middle[1] = middle[1].replacingOccurrences(of: "alice", with: "mallory")
        write(files[1], middle)
        let broken = breakOf(directory)
        #expect(broken?.file == files[1] && broken?.line == 3)

        // A missing rotated file is named.
        unlink(files[1])
        #expect(breakOf(directory)?.reason.contains("missing rotated file") == true)
    }

    @Test func rotationOnOpenChainsFromThePreviousFile() throws {
        let directory = temporaryDirectory()
        defer { removeDirectory(directory) }
        try writeLog(directory, count: 3).close()
        rename(directory + "/audit.log", directory + "/audit.log.1")
        try writeLog(directory, count: 2).close()
        #expect(breakOf(directory) == nil)
    }

    @Test func incompleteLastLineIsCutAndReported() throws {
        let directory = temporaryDirectory()
        defer { removeDirectory(directory) }
        try writeLog(directory, count: 3).close()
        let path = directory + "/audit.log"
        let handle = FileHandle(forWritingAtPath: path)!
        handle.seekToEndOfFile()
        handle.write(Data("{\"time\":\"2027".utf8))
        handle.closeFile()
        let log = try AuditLog(config: AuditLogConfig(directory: directory), nowMs: nowMs)
        try log.record(event(7), nowMs: nowMs)
        try log.close()
        let text = lines(path)
        #expect(text.count == 5)
        #expect(text[3].contains("\"event\":\"audit-recovery\"") && text[3].contains("cut 13 bytes"))
        #expect(breakOf(directory) == nil)
    }

    @Test func manyThreadsOneChain() throws {
        let directory = temporaryDirectory()
        defer { removeDirectory(directory) }
        let log = try AuditLog(config: AuditLogConfig(directory: directory, maxBytes: 64 << 10, maxFiles: 50, syncIntervalMs: 5),
                               nowMs: nowMs)
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for index in 0..<100 { try? log.record(event(worker * 1000 + index), nowMs: nowMs + Int64(index)) }
        }
        try log.close()
        let result = try AuditVerifier.verify(files: AuditVerifier.files(directory: directory))
        #expect(result.lines == 800)
        #expect(result.files.count > 1)
    }
}
