import Foundation
import KafkaProtocol
import Synchronization

/// What the broker knows of one topic. Persisted as JSON in `sluice-metadata.json`.
public struct TopicMetadata: Codable, Sendable, Equatable {
    public var name: String
    /// Kafka topic id, URL-safe base64 (22 characters), as Kafka prints it.
    public var id: String
    public var partitionCount: Int32
    /// Topic-level overrides only (DYNAMIC_TOPIC_CONFIG); defaults come from the broker config.
    public var configs: [String: String]
    public var isInternal: Bool
    public var leaderEpoch: Int32

    public var topicId: KafkaUUID { KafkaUUID(base64: id) ?? .zero }
}

/// The cluster metadata of a single node: topics, their configs, dynamic broker configs and the
/// cluster id. Small, changed rarely, so it is kept whole in memory and rewritten whole on each
/// change (temp file, fsync, rename, fsync of the directory), which makes every change atomic.
///
/// Threads: read from every reactor thread, written by admin requests; one Mutex guards it.
public final class MetadataStore: Sendable {
    struct State: Codable {
        var clusterId: String
        var topics: [String: TopicMetadata] = [:]
        /// Dynamic cluster-wide broker configs (AlterConfigs on the default broker resource).
        var dynamicBrokerConfigs: [String: String] = [:]
        /// Producer ids below this are handed out or reserved (InitProducerId allocates in blocks).
        var producerIdBlockEnd: Int64?
    }

    private let path: String
    private let state: Mutex<State>

    public init(directory: String, clusterId: String?) throws {
        path = directory + "/sluice-metadata.json"
        if let data = FileManager.default.contents(atPath: path) {
            do {
                state = Mutex(try JSONDecoder().decode(State.self, from: data))
            } catch {
                throw ConfigError("\(path): unreadable metadata: \(error)")
            }
        } else {
            let id = clusterId ?? KafkaUUID.random().description
            state = Mutex(State(clusterId: id))
            try persist()
        }
    }

    public var clusterId: String { state.withLock { $0.clusterId } }
    public var topics: [TopicMetadata] { state.withLock { Array($0.topics.values) } }
    public func topic(_ name: String) -> TopicMetadata? { state.withLock { $0.topics[name] } }
    public func topic(id: KafkaUUID) -> TopicMetadata? { state.withLock { $0.topics.values.first { $0.topicId == id } } }
    public var dynamicBrokerConfigs: [String: String] { state.withLock { $0.dynamicBrokerConfigs } }

    /// Applies `change` and persists the result; the in-memory state only changes if the write succeeded.
    func update<T>(_ change: (inout State) throws -> T) throws -> T {
        try state.withLock { current in
            var next = current
            let result = try change(&next)
            try Self.write(next, to: path)
            current = next
            return result
        }
    }

    private func persist() throws {
        try state.withLock { try Self.write($0, to: path) }
    }

    static func write(_ state: State, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(state), to: path)
    }

    public func createTopic(_ topic: TopicMetadata) throws {
        try update { $0.topics[topic.name] = topic }
    }

    public func deleteTopic(_ name: String) throws {
        try update { $0.topics[name] = nil }
    }

    public func setPartitionCount(_ name: String, _ count: Int32) throws {
        try update { $0.topics[name]?.partitionCount = count }
    }

    public func setTopicConfigs(_ name: String, _ configs: [String: String]) throws {
        try update { $0.topics[name]?.configs = configs }
    }

    /// Reserves the next block of `size` producer ids durably; returns its first id.
    public func reserveProducerIds(_ size: Int64) throws -> Int64 {
        try update { state in
            let start = state.producerIdBlockEnd ?? 0
            state.producerIdBlockEnd = start + size
            return start
        }
    }

    public func setDynamicBrokerConfigs(_ configs: [String: String]) throws {
        try update { $0.dynamicBrokerConfigs = configs }
    }
}

/// Write-then-rename with fsyncs, so a crash leaves either the old or the new file, never a mix.
enum AtomicFile {
    static func write(_ data: Data, to path: String) throws {
        let temp = path + ".tmp"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        var failure: Int32 = 0
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                offset += n
            }
        }
        if failure == 0 && fsync(fd) != 0 { failure = errno }
        close(fd)
        if failure != 0 { throw POSIXError(POSIXErrorCode(rawValue: failure) ?? .EIO) }
        guard rename(temp, path) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        let directory = (path as NSString).deletingLastPathComponent
        let dfd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            _ = fsync(dfd)
            close(dfd)
        }
    }
}

/// Topic-name rules Kafka enforces: 1–249 characters of `[a-zA-Z0-9._-]`, not "." or "..".
public enum TopicName {
    public static let maxLength = 249

    public static func validate(_ name: String) -> String? {
        if name.isEmpty { return "Topic name is illegal, it can't be empty" }
        if name == "." || name == ".." { return "Topic name cannot be \".\" or \"..\"" }
        if name.utf8.count > maxLength {
            return "Topic name is illegal, it can't be longer than \(maxLength) characters"
        }
        for c in name.utf8 {
            let ok = (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || (c >= 0x30 && c <= 0x39)
                || c == 0x2E || c == 0x5F || c == 0x2D
            if !ok {
                return "Topic name \"\(name)\" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'"
            }
        }
        return nil
    }
}
