// The classic group state machine, driven sans-I/O: events and a clock in, answers and records
// out. Covers KIP-394 member ids, the initial delay, rebalances, protocol selection, session
// expiry, static membership (KIP-345), offset commits and retention, and the record codec/replay.
import KafkaProtocol
import Synchronization
import Testing
@testable import Broker

private func settings() -> GroupSettings {
    var s = GroupSettings()
    s.minSessionTimeoutMs = 100
    s.initialRebalanceDelayMs = 50
    s.offsetsRetentionMs = 1000
    return s
}

private func proto(_ names: String...) -> [MemberProtocol] {
    names.map { MemberProtocol(name: $0, metadata: Array($0.utf8)) }
}

private final class Counter: Sendable {
    private let value = Mutex(0)
    func next() -> Int { value.withLock { $0 += 1; return $0 } }
}

/// A harness that numbers waiters and collects the answers the core sends to them.
private struct Harness {
    var core = GroupCoordinatorCore(settings: settings())
    var now: Int64 = 1_000
    var nextWaiter: WaiterID = 1
    var joins: [WaiterID: JoinResult] = [:]
    var syncs: [WaiterID: SyncResult] = [:]
    var written: [GroupRecord] = []

    init() {
        let counter = Counter()
        core.makeSuffix = { "id\(counter.next())" }
    }

    mutating func absorb(_ effects: [GroupEffect]) {
        for e in effects {
            switch e {
            case .join(let w, let r): joins[w] = r
            case .sync(let w, let r): syncs[w] = r
            case .write(let records): written += records
            }
        }
    }

    /// Sends a JoinGroup; returns its waiter so the (possibly later) answer can be looked up.
    mutating func join(_ member: String, group: String = "g", instance: String? = nil,
                       protocols: [MemberProtocol] = proto("range"), session: Int32 = 1000) -> WaiterID {
        let w = nextWaiter
        nextWaiter += 1
        absorb(core.join(JoinArgs(groupId: group, memberId: member, instanceId: instance, sessionTimeoutMs: session,
                                  rebalanceTimeoutMs: 500, protocols: protocols), waiter: w, now: now))
        return w
    }

    /// The two-step KIP-394 join of a new dynamic member; returns its member id and join waiter.
    mutating func joinNew(group: String = "g", protocols: [MemberProtocol] = proto("range")) -> (String, WaiterID) {
        let first = join("", group: group, protocols: protocols)
        #expect(joins[first]?.error == .memberIdRequired)
        let id = joins[first]!.memberId
        return (id, join(id, group: group, protocols: protocols))
    }

    mutating func sync(_ member: String, generation: Int32, assignments: [String: [UInt8]] = [:]) -> WaiterID {
        let w = nextWaiter
        nextWaiter += 1
        absorb(core.sync(groupId: "g", generationId: generation, memberId: member, instanceId: nil, protocolType: nil,
                         protocolName: nil, assignments: assignments, waiter: w, now: now))
        return w
    }

    mutating func advance(_ ms: Int64) {
        now += ms
        absorb(core.tick(now: now))
    }
}

@Suite struct GroupCoordinatorTests {
    @Test func firstGenerationWaitsForTheInitialDelayThenSyncs() {
        var h = Harness()
        let (a, wa) = h.joinNew()
        let (b, wb) = h.joinNew()
        #expect(h.joins[wa] == nil && h.core.group("g")?.state == .preparingRebalance)
        h.advance(60)  // the delay is extended once because b arrived during it
        #expect(h.joins[wa] == nil)
        h.advance(60)
        let ja = h.joins[wa]!, jb = h.joins[wb]!
        #expect(ja.error == .none && ja.generationId == 1 && ja.leaderId == a && ja.protocolName == "range")
        #expect(ja.members.map(\.memberId) == [a, b] && jb.members.isEmpty)
        let sb = h.sync(b, generation: 1)
        #expect(h.syncs[sb] == nil)  // followers wait for the leader
        let sa = h.sync(a, generation: 1, assignments: [a: [1], b: [2]])
        #expect(h.syncs[sa]?.assignment == [1] && h.syncs[sb]?.assignment == [2])
        #expect(h.core.group("g")?.state == .stable)
        #expect(h.written.contains { if case .group("g", let v?) = $0 { v.generation == 1 } else { false } })
    }

    @Test func aJoiningMemberRebalancesAStableGroup() {
        var h = Harness()
        let (a, wa) = h.joinNew()
        h.advance(60)
        #expect(h.joins[wa]?.generationId == 1)
        _ = h.sync(a, generation: 1, assignments: [a: [1]])
        let (b, wb) = h.joinNew(protocols: proto("roundrobin", "range"))
        #expect(h.core.heartbeat(groupId: "g", generationId: 1, memberId: a, instanceId: nil, now: h.now) == .rebalanceInProgress)
        #expect(h.joins[wb] == nil)
        let wa2 = h.join(a, protocols: proto("range", "roundrobin"))
        // Everyone rejoined: no need to wait for the rebalance timeout.
        #expect(h.joins[wa2]?.generationId == 2 && h.joins[wb]?.generationId == 2)
        #expect(h.joins[wa2]?.members.count == 2)
        // One vote each: the leader's preference breaks the tie.
        #expect(h.joins[wa2]?.protocolName == "range")
        let stale = h.sync(b, generation: 1)
        #expect(h.syncs[stale]?.error == .illegalGeneration)
        #expect(h.core.heartbeat(groupId: "g", generationId: 2, memberId: b, instanceId: nil, now: h.now) == .none)
    }

    @Test func rejectsWhatKafkaRejects() {
        var h = Harness()
        let noGroup = h.join("", group: "")
        let shortSession = h.join("", session: 10)
        let ghost = h.join("ghost")
        #expect(h.joins[noGroup]?.error == .invalidGroupId)
        #expect(h.joins[shortSession]?.error == .invalidSessionTimeout)
        #expect(h.joins[ghost]?.error == .unknownMemberId)
        let (_, wa) = h.joinNew(protocols: proto("range"))
        h.advance(60)
        #expect(h.joins[wa]?.error == KafkaError.none)
        let first = h.join("", protocols: proto("sticky"))
        #expect(h.joins[first]?.error == .inconsistentGroupProtocol)
        #expect(h.core.heartbeat(groupId: "g", generationId: 1, memberId: "ghost", instanceId: nil, now: h.now) == .unknownMemberId)
        #expect(h.core.heartbeat(groupId: "nope", generationId: 1, memberId: "x", instanceId: nil, now: h.now) == .unknownMemberId)
        #expect(h.core.deleteGroup("g", now: h.now).0 == .nonEmptyGroup)
        #expect(h.core.deleteGroup("nope", now: h.now).0 == .groupIdNotFound)
    }

    @Test func expiredSessionsLeaveAndTheRestRebalance() {
        var h = Harness()
        let (a, wa) = h.joinNew()
        let (b, _) = h.joinNew()
        h.advance(60)
        h.advance(60)
        _ = h.sync(b, generation: 1)
        _ = h.sync(a, generation: 1, assignments: [:])
        #expect(h.joins[wa]?.generationId == 1)
        // Only a heartbeats; b's session (1000 ms) runs out.
        for _ in 0..<6 {
            h.advance(200)
            _ = h.core.heartbeat(groupId: "g", generationId: h.core.group("g")!.generationId, memberId: a,
                                 instanceId: nil, now: h.now)
        }
        let g = h.core.group("g")!
        #expect(g.members[b] == nil && g.state == .preparingRebalance)
        let wa2 = h.join(a)
        #expect(h.joins[wa2]?.generationId == 2 && h.joins[wa2]?.members.map(\.memberId) == [a])
    }

    @Test func leaveGroupAndPendingMemberExpiry() {
        var h = Harness()
        let (a, _) = h.joinNew()
        h.advance(60)
        _ = h.sync(a, generation: 1, assignments: [:])
        let r = h.core.leave(groupId: "g", members: [(a, nil), ("ghost", nil)], now: h.now)
        #expect(r.memberErrors == [.none, .unknownMemberId])
        h.absorb(r.effects)
        #expect(h.core.group("g")?.state == .empty && h.core.group("g")?.generationId == 2)
        // A member id handed out with MEMBER_ID_REQUIRED expires if never used.
        let w = h.join("")
        let pending = h.joins[w]!.memberId
        h.advance(1100)
        let late = h.join(pending)
        #expect(h.joins[late]?.error == .unknownMemberId)
    }

    @Test func staticMemberRestartTakesOverWithoutRebalance() {
        var h = Harness()
        let w1 = h.join("", instance: "i1")
        let w2 = h.join("", instance: "i2")
        h.advance(60)
        h.advance(60)
        let m1 = h.joins[w1]!.memberId, m2 = h.joins[w2]!.memberId
        #expect(h.joins[w1]?.generationId == 1 && h.joins[w1]?.leaderId == m1)
        _ = h.sync(m2, generation: 1)
        _ = h.sync(m1, generation: 1, assignments: [m1: [1], m2: [2]])
        // i2 restarts: a new id, the same generation and assignment, no rebalance.
        let w3 = h.join("", instance: "i2")
        let j3 = h.joins[w3]!
        #expect(j3.error == .none && j3.generationId == 1 && j3.memberId != m2 && j3.leaderId == m1)
        #expect(h.core.group("g")?.state == .stable)
        let s3 = h.sync(j3.memberId, generation: 1)
        #expect(h.syncs[s3]?.assignment == [2])
        // The old incarnation is fenced.
        #expect(h.core.heartbeat(groupId: "g", generationId: 1, memberId: m2, instanceId: "i2", now: h.now) == .fencedInstanceId)
        let zombie = h.join(m2, instance: "i2")
        #expect(h.joins[zombie]?.error == .fencedInstanceId)
        #expect(h.core.heartbeat(groupId: "g", generationId: 1, memberId: m1, instanceId: "i1", now: h.now) == .none)
    }

    @Test func offsetCommitsRetentionAndDeletion() {
        var h = Harness()
        // Without group management: generation -1 creates an empty group that stores offsets.
        #expect(h.core.validateCommit(groupId: "s", generationId: -1, memberId: "", instanceId: nil, now: h.now) == .none)
        h.core.applyCommit(groupId: "s", offsets: [TopicPartitionID("t", 0): CommittedOffset(offset: 5, commitTimestamp: h.now)])
        #expect(h.core.fetchOffsets(groupId: "s", partitions: nil).map { $0.1?.offset } == [5])
        #expect(h.core.fetchOffsets(groupId: "s", partitions: [TopicPartitionID("t", 1)]).map { $0.1?.offset } == [nil])
        #expect(h.core.validateCommit(groupId: "x", generationId: 3, memberId: "m", instanceId: nil, now: h.now) == .illegalGeneration)
        #expect(h.core.expireOffsets(now: h.now + 999).isEmpty)
        let expired = h.core.expireOffsets(now: h.now + 1000)
        #expect(expired == [.write([.offset(group: "s", TopicPartitionID("t", 0), nil), .group("s", nil)])])
        #expect(h.core.group("s") == nil)
    }

    @Test func aDeletedTopicTakesItsCommittedOffsetsWithIt() {
        var h = Harness()
        let committed = CommittedOffset(offset: 7, commitTimestamp: h.now)
        for group in ["a", "b"] {
            #expect(h.core.validateCommit(groupId: group, generationId: -1, memberId: "", instanceId: nil, now: h.now) == .none)
            h.core.applyCommit(groupId: group, offsets: [TopicPartitionID("gone", 1): committed, TopicPartitionID("gone", 0): committed,
                                                       TopicPartitionID("kept", 0): committed])
        }
        #expect(h.core.topicDeleted("gone") == [.write([
            .offset(group: "a", TopicPartitionID("gone", 0), nil), .offset(group: "a", TopicPartitionID("gone", 1), nil),
            .offset(group: "b", TopicPartitionID("gone", 0), nil), .offset(group: "b", TopicPartitionID("gone", 1), nil),
        ])])
        #expect(h.core.fetchOffsets(groupId: "a", partitions: nil).map(\.0) == [TopicPartitionID("kept", 0)])
        #expect(h.core.topicDeleted("never-committed").isEmpty)
    }

    @Test func theJournalNamesEachRebalanceAndItsReason() {
        var h = Harness()
        var w = WireWriter()
        w.writeInt16(0)
        var subscription = ConsumerProtocolSubscription()
        subscription.topics = ["gone", "kept"]
        subscription.encode(to: &w, version: 0)
        let consumer = [MemberProtocol(name: "range", metadata: w.bytes)]
        let (a, _) = h.joinNew(protocols: consumer)
        h.advance(50)  // the initial delay
        _ = h.sync(a, generation: 1, assignments: [a: []])
        #expect(h.core.takeJournal() == [
            .created(group: "g"), .rebalancing(group: "g", generation: 0, reason: "member \(a) joined"),
            .generationFormed(group: "g", generation: 1, protocolName: "range", members: 1),
            .stable(group: "g", generation: 1),
        ])
        #expect(h.core.takeJournal().isEmpty)
        _ = h.core.topicDeleted("gone")
        _ = h.join(a, protocols: consumer)  // the leader saw the topic gone from Metadata
        #expect(h.core.takeJournal() == [
            .subscribedTopicDeleted(group: "g", topic: "gone"),
            .rebalancing(group: "g", generation: 1, reason: "topic metadata changed (gone deleted): member \(a) rejoined"),
            .generationFormed(group: "g", generation: 2, protocolName: "range", members: 1),
        ])
        _ = h.sync(a, generation: 2, assignments: [a: []])
        h.absorb(h.core.leave(groupId: "g", members: [(a, nil)], now: h.now).effects)
        #expect(h.core.takeJournal() == [
            .stable(group: "g", generation: 2),
            .rebalancing(group: "g", generation: 2, reason: "member \(a) left the group"),
            .emptied(group: "g", generation: 3),
        ])
    }

    @Test func recordsRoundTripAndReplayRebuildsTheGroup() {
        var h = Harness()
        let w1 = h.join("", instance: "i1")
        h.advance(60)
        let m1 = h.joins[w1]!.memberId
        _ = h.sync(m1, generation: 1, assignments: [m1: [9, 9]])
        h.core.applyCommit(groupId: "g", offsets: [TopicPartitionID("t", 3): CommittedOffset(offset: 42, commitTimestamp: 7)])
        var records = h.written + [GroupRecord.offset(group: "g", TopicPartitionID("t", 3),
                                                      CommittedOffset(offset: 42, commitTimestamp: 7)),
                                   .offset(group: "gone", TopicPartitionID("t", 0), CommittedOffset(offset: 1, commitTimestamp: 7)),
                                   .offset(group: "gone", TopicPartitionID("t", 0), nil)]
        records = records.map { r in
            let (k, v) = GroupRecordCodec.encode(r)
            return GroupRecordCodec.decode(key: k, value: v)!
        }
        var replayed = GroupCoordinatorCore(settings: settings())
        for r in records { replayed.replay(r, now: 5_000) }
        replayed.finishLoading(now: 5_000)
        let g = replayed.group("g")!
        #expect(g.state == .stable && g.generationId == 1 && g.leaderId == m1 && g.members[m1]?.assignment == [9, 9])
        #expect(g.offsets[TopicPartitionID("t", 3)]?.offset == 42)
        #expect(replayed.group("gone")?.offsets.isEmpty == true)
        // The restarted member keeps heartbeating on the old generation.
        #expect(replayed.heartbeat(groupId: "g", generationId: 1, memberId: m1, instanceId: "i1", now: 5_001) == .none)
    }

    @Test func groupsHashOntoKafkasPartitions() {
        // Java: "abc".hashCode() == 96354; a negative hash is masked, not negated.
        #expect(GroupRecordCodec.partition(for: "abc", partitions: 50) == 4)
        #expect((0..<50).contains(GroupRecordCodec.partition(for: "a-rather-long-group-name-with-a-negative-hash", partitions: 50)))
    }
}
