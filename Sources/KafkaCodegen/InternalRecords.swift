// Codecs for the records of the internal `__consumer_offsets` topic (Kafka's key/value shapes
// from `internal-records/group-coordinator/`), written to `<output>/Internal/`. Only the classic
// group records are generated; the KIP-848 and share-group ones have no user yet.
import Foundation

/// Internal record types the group coordinator stores. Key version = record type (0/1 offset
/// commit, 2 group metadata); each value carries its own version.
let internalRecordTypes: [String] = [
    "OffsetCommitKey", "OffsetCommitValue",
    "GroupMetadataKey", "GroupMetadataValue",
]

/// Generates the internal record codecs from `<messagesDir>/../internal-records/group-coordinator`
/// into `<outputDir>/Internal`, replacing whatever Swift files were there.
func generateInternalRecords(messagesDirectory: String, outputDirectory: String) throws {
    let input = URL(fileURLWithPath: messagesDirectory).deletingLastPathComponent()
        .appendingPathComponent("internal-records/group-coordinator").path
    let output = "\(outputDirectory)/Internal"
    try clearGeneratedSwift(in: output)
    for name in internalRecordTypes {
        let message = try loadMessage("\(input)/\(name).json")
        let text = Generator(message: message).generate(source: "internal-records/group-coordinator/\(name).json")
        try text.write(toFile: "\(output)/\(name).swift", atomically: true, encoding: .utf8)
    }
}
