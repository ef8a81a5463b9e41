// Codecs for the records of the internal `__consumer_offsets` and `__transaction_state` topics
// (Kafka's key/value shapes from `internal-records/group-coordinator/` and
// `internal-records/transaction-coordinator/`), written to `<output>/Internal/`. Only the classic
// group records are generated; the KIP-848 and share-group ones have no user yet.
import Foundation

/// Internal record types per coordinator directory. Group coordinator: key version = record type
/// (0/1 offset commit, 2 group metadata); transaction coordinator: key version 0 is the only
/// type. Each value carries its own version.
let internalRecordTypes: [(directory: String, names: [String])] = [
    ("group-coordinator", ["OffsetCommitKey", "OffsetCommitValue", "GroupMetadataKey", "GroupMetadataValue"]),
    ("transaction-coordinator", ["TransactionLogKey", "TransactionLogValue"]),
]

/// Generates the internal record codecs from `<messagesDir>/../internal-records/<coordinator>`
/// into `<outputDir>/Internal`, replacing whatever Swift files were there.
func generateInternalRecords(messagesDirectory: String, outputDirectory: String) throws {
    let records = URL(fileURLWithPath: messagesDirectory).deletingLastPathComponent()
        .appendingPathComponent("internal-records").path
    let output = "\(outputDirectory)/Internal"
    try clearGeneratedSwift(in: output)
    for (directory, names) in internalRecordTypes {
        for name in names {
            let message = try loadMessage("\(records)/\(directory)/\(name).json")
            let text = Generator(message: message).generate(source: "internal-records/\(directory)/\(name).json")
            try text.write(toFile: "\(output)/\(name).swift", atomically: true, encoding: .utf8)
        }
    }
}
