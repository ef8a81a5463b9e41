// Checks the hash chain of audit files and names the first line where it breaks.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where and why a chain broke. `line` is 1-based.
public struct AuditChainBreak: Error, Equatable, Sendable, CustomStringConvertible {
    public let file: String
    public let line: Int
    public let reason: String
    public var description: String { "\(file):\(line): \(reason)" }
}

/// What a successful verification covered.
public struct AuditVerification: Sendable, Equatable {
    public var files: [String]
    public var lines: Int
    /// False when the oldest file does not start at the genesis value: older files were rotated
    /// away (or the start of the log is missing), so the chain is checked from there on only.
    public var startsAtGenesis: Bool
}

public enum AuditVerifier {
    /// The files of the log in `directory`, oldest first: `audit.log.N`, ..., `audit.log.1`,
    /// `audit.log`. A gap in the numbering is an error (a rotated file was removed).
    public static func files(directory: String, fileName: String = "audit.log") throws(AuditChainBreak) -> [String] {
        let names: [String]
        do { names = try SecurityFiles.list(directory) } catch {
            throw AuditChainBreak(file: directory, line: 0, reason: error.description)
        }
        var numbers: [Int] = []
        var hasCurrent = false
        for name in names {
            if name == fileName { hasCurrent = true; continue }
            guard name.hasPrefix(fileName + "."), let number = Int(name.dropFirst(fileName.count + 1)), number > 0 else { continue }
            numbers.append(number)
        }
        numbers.sort()
        for (index, number) in numbers.enumerated() where number != index + 1 {
            throw AuditChainBreak(file: directory + "/" + fileName + ".\(index + 1)", line: 0,
                                  reason: "missing rotated file (found .\(number) after .\(index))")
        }
        guard hasCurrent || !numbers.isEmpty else {
            throw AuditChainBreak(file: directory + "/" + fileName, line: 0, reason: "no audit log here")
        }
        return numbers.reversed().map { directory + "/" + fileName + ".\($0)" } + (hasCurrent ? [directory + "/" + fileName] : [])
    }

    /// Verifies `files`, oldest first, as one chain.
    public static func verify(files: [String]) throws(AuditChainBreak) -> AuditVerification {
        var previousHash: String?
        var previousPlace = ""
        var startsAtGenesis = true
        var total = 0
        for file in files {
            let bytes: [UInt8]
            do {
                guard let read = try SecurityFiles.read(file) else {
                    throw AuditChainBreak(file: file, line: 0, reason: "no such file")
                }
                bytes = read
            } catch let error as AuditChainBreak {
                throw error
            } catch {
                throw AuditChainBreak(file: file, line: 0, reason: "\(error)")
            }
            if let last = bytes.last, last != 0x0A {
                let lines = bytes.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) } + 1
                throw AuditChainBreak(file: file, line: lines, reason: "incomplete last line (no newline)")
            }
            var number = 0
            for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast() {
                number += 1
                total += 1
                let prev = try prevField(line, file: file, number: number)
                if let previousHash {
                    guard prev == previousHash else {
                        throw AuditChainBreak(file: file, line: number, reason:
                            "prev does not match the hash of \(previousPlace): that line was changed, or lines were removed, inserted or reordered between them")
                    }
                } else if prev != AuditLog.genesis {
                    startsAtGenesis = false
                }
                previousHash = AuditLog.hash(Array(line))
                previousPlace = "\(file):\(number)"
            }
        }
        return AuditVerification(files: files, lines: total, startsAtGenesis: startsAtGenesis)
    }

    private static func prevField(_ line: ArraySlice<UInt8>, file: String, number: Int) throws(AuditChainBreak) -> String {
        let value: JsonValue
        do { value = try Json.parse(Array(line)) } catch {
            throw AuditChainBreak(file: file, line: number, reason: "not a JSON object: \(error)")
        }
        guard let prev = value["prev"]?.stringValue, prev.utf8.count == 64,
              prev.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else {
            throw AuditChainBreak(file: file, line: number, reason: "no \"prev\" hash (64 lowercase hex digits)")
        }
        return prev
    }
}
