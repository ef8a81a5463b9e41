// Goal: the I/O edge works with the real core end to end: three RaftNodes, each on its own
// RaftStorage directory, with every message encoded to Kafka's bytes and decoded again through
// QuorumWire, elect a leader, commit 100 records, and a follower restarted from its directory
// catches up on what was committed while it was away. Method: one process, a simulated clock in
// 10 ms steps, an in-memory queue of encoded frames.
import Foundation
import Testing
import KafkaProtocol
import Raft
@testable import Quorum

/// Three voters in one process; the "network" carries QuorumFrames, never the core's structs.
final class WireCluster {
    struct InFlight {
        var source: ReplicaID
        var destination: ReplicaID
        var correlationId: Int32
        var frame: QuorumFrame
        /// For an answer: what the requester kept of its request.
        var kept: OutstandingRequest
    }

    let voters: [ReplicaID] = [1, 2, 3]
    let config: RaftConfig = {
        var config = RaftConfig()
        config.electionTimeoutMs = 300
        config.fetchTimeoutMs = 600
        config.electionBackoffMaxMs = 200
        config.fetchMaxWaitMs = 50
        return config
    }()
    var directories: [ReplicaID: String] = [:]
    var nodes: [ReplicaID: RaftNode] = [:]
    var storages: [ReplicaID: RaftStorage] = [:]
    /// Data payloads each node's state machine received through `commit`, in order.
    var applied: [ReplicaID: [[UInt8]]] = [:]
    var queue: [InFlight] = []
    /// What each requester keeps of its outstanding requests, by (requester, responder,
    /// correlation id), as a transport would.
    var outstanding: [String: OutstandingRequest] = [:]
    var now: Int64 = 0
    var framesCarried = 0

    init() throws {
        for id in voters {
            directories[id] = makeTemporaryDirectory()
            try start(id)
        }
    }

    deinit {
        for directory in directories.values { try? FileManager.default.removeItem(atPath: directory) }
    }

    func start(_ id: ReplicaID) throws {
        let (storage, recovered) = try RaftStorage.open(directory: directories[id]!, now: now)
        storages[id] = storage
        applied[id] = recovered.snapshot.map { Self.decodeState($0.data) } ?? []
        nodes[id] = RaftNode(id: id, voters: voters, config: config, clusterId: "wire-cluster",
                             seed: UInt64(id) &* 0x9E37 &+ UInt64(now), recovered: recovered, now: now)
    }

    func stop(_ id: ReplicaID) throws {
        nodes[id] = nil
        try storages.removeValue(forKey: id)?.close()
    }

    var leader: ReplicaID? { nodes.first { $0.value.role == .leader }?.key }

    func handle(_ id: ReplicaID, _ event: RaftEvent) throws {
        guard var node = nodes[id] else { return }
        let effects = node.handle(event, now: now)
        nodes[id] = node
        for effect in effects { try run(effect, at: id) }
    }

    func run(_ effect: RaftEffect, at id: ReplicaID) throws {
        switch effect {
        case .send(let envelope):
            let frame = QuorumWire.encode(envelope.message)
            var kept = OutstandingRequest(envelope.message)
            if frame.isRequest {
                outstanding["\(envelope.source)>\(envelope.destination)#\(envelope.correlationId)"] = kept
            } else {
                kept = outstanding.removeValue(forKey: "\(envelope.destination)>\(envelope.source)#\(envelope.correlationId)")
                    ?? OutstandingRequest()
            }
            queue.append(InFlight(source: envelope.source, destination: envelope.destination,
                                  correlationId: envelope.correlationId, frame: frame, kept: kept))
        case .commit(let slice, _):
            for entry in slice.entries { if case .data(let payload) = entry.content { applied[id, default: []].append(payload) } }
        case .installSnapshot(_, let data):
            applied[id] = Self.decodeState(data)
            _ = try storages[id]?.execute(effect, now: now)
        default:
            guard let storage = storages[id] else { return }
            for event in try storage.execute(effect, now: now) { try handle(id, event) }
        }
    }

    /// Delivers what is queued (and what that causes) until the network is quiet.
    func deliver() throws {
        var rounds = 0
        while !queue.isEmpty && rounds < 100 {
            rounds += 1
            let batch = queue
            queue = []
            for message in batch where nodes[message.destination] != nil {
                let decoded = try QuorumWire.decode(message.frame, request: message.kept)
                framesCarried += 1
                try handle(message.destination, .received(Envelope(source: message.source, destination: message.destination,
                                                                   correlationId: message.correlationId, message: decoded)))
            }
        }
    }

    func advance(_ milliseconds: Int64) throws {
        let end = now + milliseconds
        while now < end {
            now += 10
            for id in voters where nodes[id] != nil { try handle(id, .tick) }
            try deliver()
        }
    }

    /// Runs until `condition` holds or `limit` ms pass; returns whether it held.
    func run(until limit: Int64, _ condition: () -> Bool) throws -> Bool {
        let end = now + limit
        while now < end {
            if condition() { return true }
            try advance(10)
        }
        return condition()
    }

    /// The state machine's snapshot: its applied payloads, each length-prefixed.
    static func encodeState(_ payloads: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        for payload in payloads { out += [UInt8(payload.count)] + payload }
        return out
    }

    static func decodeState(_ bytes: [UInt8]) -> [[UInt8]] {
        var payloads: [[UInt8]] = []
        var index = 0
        while index < bytes.count {
            let count = Int(bytes[index])
            payloads.append(Array(bytes[(index + 1)..<(index + 1 + count)]))
            index += 1 + count
        }
        return payloads
    }

    /// The state machine of `id` snapshots what it applied: written durably first, then the core
    /// hears of it (which lets it drop the log below).
    func takeSnapshot(_ id: ReplicaID) throws -> SnapshotID {
        let node = nodes[id]!
        let snapshotId = node.snapshotID(endingAt: node.appliedOffset)
        let data = Self.encodeState(applied[id]!)
        try storages[id]!.writeSnapshot(snapshotId, data: data)
        try handle(id, .snapshotTaken(snapshotId, data: data))
        return snapshotId
    }

    func propose(_ payloads: [[UInt8]]) throws {
        guard let leader else { return }
        try handle(leader, .clientAppend(payloads))
    }
}

@Suite struct QuorumClusterTests {
    static func payload(_ index: Int) -> [UInt8] { Array("record-\(index)".utf8) }

    @Test func threeNodesOverTheWireCommitAndARestartedFollowerCatchesUp() throws {
        let cluster = try WireCluster()
        #expect(try cluster.run(until: 10_000) { cluster.leader != nil }, "no leader elected")
        let leader = try #require(cluster.leader)

        let first = (0..<100).map(Self.payload)
        for start in stride(from: 0, to: 100, by: 10) {
            try cluster.propose(Array(first[start..<(start + 10)]))
            try cluster.advance(20)
        }
        #expect(try cluster.run(until: 10_000) { cluster.voters.allSatisfy { cluster.applied[$0] == first } },
                "every voter applies the 100 records in order: \(cluster.applied.mapValues(\.count)) \(cluster.nodes.mapValues { "\($0.role) hw=\($0.highWatermark) end=\($0.log.endOffset) applied=\($0.appliedOffset) flushed=\($0.flushedOffset)" })")

        // A follower goes away; the other two still commit.
        let follower = try #require(cluster.voters.first { $0 != leader })
        try cluster.stop(follower)
        let second = (100..<130).map(Self.payload)
        try cluster.propose(second)
        #expect(try cluster.run(until: 10_000) { cluster.applied[leader] == first + second })

        // Restarted from its directory, it recovers its log and fetches what it missed.
        try cluster.start(follower)
        let restarted = try #require(cluster.nodes[follower])
        #expect(restarted.log.endOffset >= 100, "the restarted follower recovered its log from disk")
        #expect(try cluster.run(until: 10_000) { cluster.applied[follower] == first + second },
                "the restarted follower applies everything: \(cluster.applied[follower]?.count ?? -1)")
        let leaderNow = try #require(cluster.leader)
        #expect(cluster.nodes[follower]!.log.endOffset == cluster.nodes[leaderNow]!.log.endOffset)
        #expect(cluster.framesCarried > 30, "every message went through Kafka's bytes")

        // What is on the follower's disk is the leader's log.
        let followerEntries = try cluster.storages[follower]!.readEntries(from: 0)
        #expect(followerEntries == cluster.nodes[leaderNow]!.log.entries)
    }

    @Test func aFollowerBehindTheLeadersSnapshotFetchesItOverTheWire() throws {
        let cluster = try WireCluster()
        #expect(try cluster.run(until: 10_000) { cluster.leader != nil }, "no leader elected")
        let leader = try #require(cluster.leader)
        let follower = try #require(cluster.voters.first { $0 != leader })
        let first = (0..<40).map(Self.payload)
        try cluster.propose(first)
        #expect(try cluster.run(until: 10_000) { cluster.voters.allSatisfy { cluster.applied[$0] == first } })

        try cluster.stop(follower)
        let second = (40..<90).map(Self.payload)
        try cluster.propose(second)
        #expect(try cluster.run(until: 10_000) { cluster.applied[leader] == first + second })
        let snapshot = try cluster.takeSnapshot(leader)
        #expect(cluster.nodes[leader]!.log.startOffset == snapshot.endOffset)
        #expect(cluster.storages[leader]!.log.logStartOffset == snapshot.endOffset, "the leader's log below the snapshot is gone")
        let third = (90..<95).map(Self.payload)
        try cluster.propose(third)

        // The follower's log ends below the leader's log start: it must take the snapshot.
        try cluster.start(follower)
        #expect(cluster.nodes[follower]!.log.endOffset < snapshot.endOffset)
        #expect(try cluster.run(until: 10_000) { cluster.applied[follower] == first + second + third },
                "the follower applies snapshot + the rest: \(cluster.applied[follower]?.count ?? -1)")
        #expect(cluster.nodes[follower]!.snapshot?.id == snapshot)
        let directory = cluster.directories[follower]!
        #expect(FileManager.default.fileExists(atPath: directory + "/" + snapshot.fileName))

        // And it comes back from its directory with that snapshot and the log after it.
        try cluster.stop(follower)
        let (storage, recovered) = try RaftStorage.open(directory: directory, now: cluster.now)
        #expect(recovered.snapshot?.id == snapshot)
        #expect(recovered.log.startOffset == snapshot.endOffset)
        #expect(recovered.log.entries == Array(cluster.nodes[leader]!.log.entries.suffix(recovered.log.entries.count)))
        #expect(recovered.log.endOffset == cluster.nodes[leader]!.log.endOffset)
        try storage.close()
    }
}
