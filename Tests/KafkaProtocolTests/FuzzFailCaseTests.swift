// Goal: every input a fuzzer ever crashed on stays fixed.
// Method: each file under Fuzz/FailCases/<target>/ goes through the same entry point the
// libFuzzer target <target> calls (FuzzEntryPoints.swift is linked from Fuzz/), here without the
// sanitizer; the entry points trap on any broken invariant, so passing means no crash.
import Foundation
import Testing

struct FuzzFailCase: Sendable, CustomTestStringConvertible {
    let target: String
    let path: String
    var testDescription: String { "\(target)/\(URL(fileURLWithPath: path).lastPathComponent)" }

    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz/FailCases")

    static let entryPoints: [String: @Sendable ([UInt8]) -> Void] = [
        "FuzzRequestDecode": FuzzEntry.requestDecode,
        "FuzzRecordBatches": FuzzEntry.recordBatches,
        "FuzzDecompress": FuzzEntry.decompress,
    ]

    static let all: [FuzzFailCase] = {
        let fm = FileManager.default
        var cases = [FuzzFailCase]()
        for target in ((try? fm.contentsOfDirectory(atPath: directory.path)) ?? []).sorted() {
            let folder = directory.appendingPathComponent(target)
            for file in ((try? fm.contentsOfDirectory(atPath: folder.path)) ?? []).sorted() where !file.hasPrefix(".") {
                cases.append(FuzzFailCase(target: target, path: folder.appendingPathComponent(file).path))
            }
        }
        return cases
    }()
}

@Suite struct FuzzFailCaseTests {
    @Test(arguments: FuzzFailCase.all)
    func replayDoesNotCrash(_ failCase: FuzzFailCase) throws {
        let entry = try #require(FuzzFailCase.entryPoints[failCase.target], "no entry point for \(failCase.target)")
        let data = try #require(FileManager.default.contents(atPath: failCase.path))
        entry([UInt8](data))
    }

    /// Every fuzz target has a FailCases folder, even when empty, so a new target is not forgotten.
    @Test func everyTargetHasAnEntryPoint() {
        for target in (try? FileManager.default.contentsOfDirectory(atPath: FuzzFailCase.directory.path)) ?? [] {
            #expect(FuzzFailCase.entryPoints[target] != nil, "Fuzz/FailCases/\(target) has no entry point")
        }
    }
}
