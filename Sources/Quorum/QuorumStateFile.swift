// Kafka's `quorum-state` file: QuorumStateData (internal-records/raft/QuorumStateData.json) as
// JSON with its `data_version`. We write version 1 (leaderId, leaderEpoch, votedId,
// votedDirectoryId — all zero directory ids, as KIP-853's directory ids are not used yet) and
// read versions 0 and 1. Replaced atomically, so a vote is either wholly on disk or not at all.
import Foundation
public import Raft

public enum QuorumStateFile {
    public static let fileName = "quorum-state"
    /// The zero Uuid in Kafka's base64url form, as `votedDirectoryId` is written without one.
    static let zeroDirectoryId = "AAAAAAAAAAAAAAAAAAAAAA"

    public static func encode(_ state: QuorumStateData) -> [UInt8] {
        let json = "{\"leaderId\":\(state.leaderId),\"leaderEpoch\":\(state.leaderEpoch),"
            + "\"votedId\":\(state.votedId),\"votedDirectoryId\":\"\(zeroDirectoryId)\",\"data_version\":1}"
        return Array(json.utf8)
    }

    public static func decode(_ bytes: [UInt8], path: String) throws(QuorumStorageError) -> QuorumStateData {
        func refuse(_ reason: String) -> QuorumStorageError { QuorumStorageError(path: path, reason: reason) }
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw refuse("not a JSON object")
        }
        func int(_ key: String, default value: Int?) throws(QuorumStorageError) -> Int {
            guard let raw = object[key] else {
                guard let value else { throw refuse("missing \(key)") }
                return value
            }
            guard let number = raw as? NSNumber, number.doubleValue == Double(number.intValue) else {
                throw refuse("\(key) is not an integer")
            }
            return number.intValue
        }
        let version = try int("data_version", default: nil)
        guard version == 0 || version == 1 else { throw refuse("unsupported data_version \(version)") }
        let leaderId = try int("leaderId", default: -1)
        let leaderEpoch = try int("leaderEpoch", default: -1)
        let votedId = try int("votedId", default: -1)
        guard let leader = Int32(exactly: leaderId), let epoch = Int32(exactly: leaderEpoch),
              let voted = Int32(exactly: votedId) else { throw refuse("a field is out of the int32 range") }
        // -1 (the spec's default) means no epoch yet; the core counts epochs from 0.
        return QuorumStateData(leaderId: leader, leaderEpoch: max(0, epoch), votedId: voted)
    }

    /// The state in `directory`, or the initial one when the file does not exist.
    static func read(directory: String) throws(QuorumStorageError) -> QuorumStateData {
        let path = directory + "/" + fileName
        guard let bytes = try DurableFiles.read(path) else { return QuorumStateData() }
        return try decode(bytes, path: path)
    }

    static func write(_ state: QuorumStateData, directory: String) throws(QuorumStorageError) {
        let path = directory + "/" + fileName
        try DurableFiles.replace(path, with: encode(state), temporaryPath: path + ".tmp")
    }
}
