import Foundation
import KafkaClient
import KafkaProtocol

/// `sluice topics ...`, shaped like kafka-topics.sh.
enum Topics {
    static func run(_ sub: String, _ options: Options) throws {
        let client = try options.client()
        switch sub {
        case "create":
            let name = try options.required("topic")
            var configs: [String: String] = [:]
            for item in options.all("config") {
                let (k, v) = try keyValue(item)
                configs[k] = v
            }
            do {
                try client.createTopic(name, partitions: Int32(try options.int("partitions", default: -1)),
                                       replicationFactor: Int16(try options.int("replication-factor", default: -1)),
                                       configs: configs)
                print("Created topic \(name).")
            } catch ClientError.kafka(let code, _) where code == .topicAlreadyExists && options.has("if-not-exists") {
                print("Topic \(name) already exists.")
            }
        case "list":
            let metadata = try client.metadata(topics: nil)
            for topic in metadata.topics.compactMap(\.name).sorted() { print(topic) }
        case "describe":
            let names = options.string("topic").map { [$0] }
            let metadata = try client.metadata(topics: names)
            for topic in metadata.topics.sorted(by: { ($0.name ?? "") < ($1.name ?? "") }) {
                let name = topic.name ?? "?"
                if topic.errorCode != 0 { throw CLIError("topic \(name): \(KafkaError(topic.errorCode))") }
                let configs = try client.describeTopicConfigs(name).filter { $0.configSource == 1 }
                    .map { "\($0.name)=\($0.value ?? "")" }
                print("Topic: \(name)\tTopicId: \(topic.topicId)\tPartitionCount: \(topic.partitions.count)\t"
                      + "ReplicationFactor: \(topic.partitions.first?.replicaNodes.count ?? 0)\t"
                      + "Configs: \(configs.joined(separator: ","))")
                for p in topic.partitions.sorted(by: { $0.partitionIndex < $1.partitionIndex }) {
                    let replicas = p.replicaNodes.map(String.init).joined(separator: ",")
                    let isr = p.isrNodes.map(String.init).joined(separator: ",")
                    print("\tTopic: \(name)\tPartition: \(p.partitionIndex)\tLeader: \(p.leaderId)\t"
                          + "Replicas: \(replicas)\tIsr: \(isr)")
                }
            }
        case "alter":
            let name = try options.required("topic")
            if let count = options.string("partitions") {
                guard let n = Int32(count) else { throw CLIError("--partitions expects a number") }
                try client.createPartitions(name, count: n)
                print("Topic \(name) now has \(n) partitions.")
            }
            var set: [String: String] = [:]
            for group in options.all("add-config") {
                for item in group.split(separator: ",") {
                    let (k, v) = try keyValue(String(item))
                    set[k] = v
                }
            }
            let delete = options.all("delete-config").flatMap { $0.split(separator: ",").map(String.init) }
            if !set.isEmpty || !delete.isEmpty {
                try client.alterTopicConfigs(name, set: set, delete: delete)
                print("Updated configs of topic \(name).")
            }
        case "delete":
            let name = try options.required("topic")
            try client.deleteTopic(name)
            print("Deleted topic \(name).")
        default:
            throw CLIError("unknown topics subcommand '\(sub)'")
        }
    }

    static func keyValue(_ item: String) throws(CLIError) -> (String, String) {
        guard let eq = item.firstIndex(of: "=") else { throw CLIError("expected key=value, got '\(item)'") }
        return (String(item[..<eq]), String(item[item.index(after: eq)...]))
    }
}
