import Broker
import Foundation
import KafkaClient
import KafkaProtocol

/// `sluice groups ...`, shaped like kafka-consumer-groups.sh: list, describe (offsets and lag per
/// partition, or `--state` / `--members`), delete, reset-offsets (dry run unless `--execute`).
/// Kafka's `--list`/`--describe`/`--delete`/`--reset-offsets` spellings work as subcommands too.
enum Groups {
    static func run(_ sub: String, _ options: Options) throws {
        let client = try options.client()
        switch sub.hasPrefix("--") ? String(sub.dropFirst(2)) : sub {
        case "list":
            for g in try listGroups(client) { print(g.groupId) }
        case "describe":
            let group = try options.required("group")
            if options.has("state") {
                try describeState(client, group, coordinator: options.bootstrap)
            } else if options.has("members") {
                try describeMembers(client, group)
            } else {
                try describeOffsets(client, group)
            }
        case "delete":
            let group = try options.required("group")
            var request = DeleteGroupsRequest()
            request.groupsNames = [group]
            let response: DeleteGroupsResponse = try client.connection.roundTrip(request)
            if let e = response.results.first?.errorCode, e != 0 {
                throw CLIError("group \(group): \(KafkaError(e))")
            }
            print("Deletion of requested consumer groups ('\(group)') was successful.")
        case "reset-offsets":
            try resetOffsets(client, options)
        default:
            throw CLIError("unknown groups subcommand '\(sub)' (list|describe|delete|reset-offsets)")
        }
    }

    static func listGroups(_ client: KafkaClient) throws -> [ListGroupsResponse.ListedGroup] {
        let response: ListGroupsResponse = try client.connection.roundTrip(ListGroupsRequest())
        if response.errorCode != 0 { throw CLIError("ListGroups: \(KafkaError(response.errorCode))") }
        return response.groups.sorted { $0.groupId < $1.groupId }
    }

    static func describeGroup(_ client: KafkaClient, _ group: String) throws -> DescribeGroupsResponse.DescribedGroup {
        var request = DescribeGroupsRequest()
        request.groups = [group]
        let response: DescribeGroupsResponse = try client.connection.roundTrip(request)
        guard let d = response.groups.first else { throw CLIError("empty DescribeGroups response") }
        if d.errorCode != 0 { throw CLIError("group \(group): \(KafkaError(d.errorCode))") }
        return d
    }

    /// Committed offsets of the group, all partitions (OffsetFetch with a null topic list).
    static func committedOffsets(_ client: KafkaClient, _ group: String) throws -> [PartitionRef: Int64] {
        var request = OffsetFetchRequest()
        request.groupId = group
        request.topics = nil
        let version = try client.connection.version(for: OffsetFetchRequest.self, max: 7)
        let response: OffsetFetchResponse = try client.connection.roundTrip(request, version: version)
        if response.errorCode != 0 { throw CLIError("group \(group): \(KafkaError(response.errorCode))") }
        var result: [PartitionRef: Int64] = [:]
        for t in response.topics {
            for p in t.partitions where p.committedOffset >= 0 {
                result[PartitionRef(topic: t.name, partition: p.partitionIndex)] = p.committedOffset
            }
        }
        return result
    }

    struct PartitionRef: Hashable, Comparable {
        var topic: String
        var partition: Int32
        static func < (a: Self, b: Self) -> Bool { (a.topic, a.partition) < (b.topic, b.partition) }
    }

    static func table(_ rows: [[String]]) {
        guard let first = rows.first else { return }
        var widths = first.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        for row in rows {
            print(row.enumerated().map { i, cell in cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: " ").trimmingCharacters(in: .whitespaces))
        }
    }

    static func describeOffsets(_ client: KafkaClient, _ group: String) throws {
        let d = try describeGroup(client, group)
        if d.groupState == "Dead" { throw CLIError("Consumer group '\(group)' does not exist.") }
        var owner: [PartitionRef: DescribeGroupsResponse.DescribedGroupMember] = [:]
        for m in d.members {
            guard let a = ConsumerMetadata.assignment(m.memberAssignment) else { continue }
            for tp in a.assignedPartitions {
                for p in tp.partitions { owner[PartitionRef(topic: tp.topic, partition: p)] = m }
            }
        }
        let committed = try committedOffsets(client, group)
        var rows = [["GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID",
                     "HOST", "CLIENT-ID"]]
        for ref in Set(owner.keys).union(committed.keys).sorted() {
            let end = try? client.listOffset(topic: ref.topic, partition: ref.partition, timestamp: -1).offset
            let current = committed[ref]
            let lag = zip2(current, end).map { String(max($1 - $0, 0)) } ?? "-"
            let m = owner[ref]
            rows.append([group, ref.topic, String(ref.partition), current.map(String.init) ?? "-",
                         end.map(String.init) ?? "-", lag, m?.memberId ?? "-",
                         m.map { $0.clientHost.isEmpty ? "-" : $0.clientHost } ?? "-", m?.clientId ?? "-"])
        }
        if rows.count == 1 { print("Consumer group '\(group)' has no active members and no committed offsets.") }
        table(rows)
    }

    static func zip2(_ a: Int64?, _ b: Int64?) -> (Int64, Int64)? {
        guard let a, let b else { return nil }
        return (a, b)
    }

    static func describeState(_ client: KafkaClient, _ group: String, coordinator: String) throws {
        let d = try describeGroup(client, group)
        table([["GROUP", "COORDINATOR", "ASSIGNMENT-STRATEGY", "STATE", "#MEMBERS"],
               [group, coordinator, d.protocolData.isEmpty ? "-" : d.protocolData, d.groupState, String(d.members.count)]])
    }

    static func describeMembers(_ client: KafkaClient, _ group: String) throws {
        let d = try describeGroup(client, group)
        var rows = [["GROUP", "CONSUMER-ID", "GROUP-INSTANCE-ID", "HOST", "CLIENT-ID", "#PARTITIONS"]]
        for m in d.members {
            let count = ConsumerMetadata.assignment(m.memberAssignment)?.assignedPartitions
                .reduce(0) { $0 + $1.partitions.count } ?? 0
            rows.append([group, m.memberId, m.groupInstanceId ?? "-", m.clientHost.isEmpty ? "-" : m.clientHost,
                         m.clientId, String(count)])
        }
        table(rows)
    }

    /// `--topic T` (every partition) or `--topic T:0,2`; repeatable. `--all-topics`: every topic
    /// the group has offsets for.
    static func resetOffsets(_ client: KafkaClient, _ options: Options) throws {
        let group = try options.required("group")
        let d = try describeGroup(client, group)
        if !["Empty", "Dead"].contains(d.groupState) {
            throw CLIError("Assignments can only be reset if the group '\(group)' is inactive, but the current state is \(d.groupState).")
        }
        var targets: [PartitionRef] = []
        if options.has("all-topics") {
            targets = try committedOffsets(client, group).keys.sorted()
        }
        for spec in options.all("topic") {
            let parts = spec.split(separator: ":", maxSplits: 1)
            let topic = String(parts[0])
            if parts.count == 2 {
                for p in parts[1].split(separator: ",") {
                    guard let n = Int32(p) else { throw CLIError("--topic \(spec): bad partition '\(p)'") }
                    targets.append(PartitionRef(topic: topic, partition: n))
                }
            } else {
                let metadata = try client.metadata(topics: [topic])
                guard let t = metadata.topics.first, t.errorCode == 0 else {
                    throw CLIError("topic \(topic): \(KafkaError(metadata.topics.first?.errorCode ?? -1))")
                }
                targets += t.partitions.map { PartitionRef(topic: topic, partition: $0.partitionIndex) }
            }
        }
        if targets.isEmpty { throw CLIError("reset-offsets needs --topic T[:P,...] or --all-topics") }
        var plan: [(PartitionRef, Int64)] = []
        for ref in targets.sorted() {
            let offset: Int64
            if options.has("to-earliest") {
                offset = try client.listOffset(topic: ref.topic, partition: ref.partition, timestamp: -2).offset
            } else if options.has("to-latest") {
                offset = try client.listOffset(topic: ref.topic, partition: ref.partition, timestamp: -1).offset
            } else if let text = options.string("to-offset") {
                guard let n = Int64(text) else { throw CLIError("--to-offset expects a number") }
                // Kafka's tool clamps to the partition's valid range.
                let low = try client.listOffset(topic: ref.topic, partition: ref.partition, timestamp: -2).offset
                let high = try client.listOffset(topic: ref.topic, partition: ref.partition, timestamp: -1).offset
                offset = min(max(n, low), high)
            } else {
                throw CLIError("reset-offsets needs --to-earliest, --to-latest or --to-offset N")
            }
            plan.append((ref, offset))
        }
        if options.has("execute") {
            var request = OffsetCommitRequest()
            request.groupId = group
            request.generationIdOrMemberEpoch = -1
            request.memberId = ""
            var byTopic: [String: [OffsetCommitRequest.OffsetCommitRequestPartition]] = [:]
            for (ref, offset) in plan {
                var p = OffsetCommitRequest.OffsetCommitRequestPartition()
                p.partitionIndex = ref.partition
                p.committedOffset = offset
                byTopic[ref.topic, default: []].append(p)
            }
            request.topics = byTopic.keys.sorted().map { name in
                var t = OffsetCommitRequest.OffsetCommitRequestTopic()
                t.name = name
                t.partitions = byTopic[name]!
                return t
            }
            let response: OffsetCommitResponse = try client.connection.roundTrip(request)
            for t in response.topics {
                for p in t.partitions where p.errorCode != 0 {
                    throw CLIError("commit \(t.name)-\(p.partitionIndex): \(KafkaError(p.errorCode))")
                }
            }
        }
        table([["GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"]]
              + plan.map { [group, $0.0.topic, String($0.0.partition), String($0.1)] })
    }
}
