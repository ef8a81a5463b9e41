import Foundation
import KafkaProtocol

/// A JoinGroup answer, before version-specific encoding.
public struct JoinResult: Equatable, Sendable {
    public var error: KafkaError = .none
    public var generationId: Int32 = -1
    public var protocolType: String?
    public var protocolName: String?
    public var leaderId: String = ""
    public var memberId: String = ""
    /// Filled for the leader only: every member's metadata for the chosen protocol.
    public var members: [(memberId: String, instanceId: String?, metadata: [UInt8])] = []

    public static func == (a: JoinResult, b: JoinResult) -> Bool {
        a.error == b.error && a.generationId == b.generationId && a.protocolType == b.protocolType
            && a.protocolName == b.protocolName && a.leaderId == b.leaderId && a.memberId == b.memberId
            && a.members.map(\.memberId) == b.members.map(\.memberId)
    }

    static func failure(_ error: KafkaError, memberId: String = "") -> JoinResult {
        var r = JoinResult()
        r.error = error
        r.memberId = memberId
        return r
    }
}

/// A SyncGroup answer.
public struct SyncResult: Equatable, Sendable {
    public var error: KafkaError = .none
    public var protocolType: String?
    public var protocolName: String?
    public var assignment: [UInt8] = []

    static func failure(_ error: KafkaError) -> SyncResult {
        var r = SyncResult()
        r.error = error
        return r
    }
}

/// A record for `__consumer_offsets`; nil values are tombstones.
public enum GroupRecord: Equatable, Sendable {
    case offset(group: String, TopicPartitionID, CommittedOffset?)
    case group(String, GroupMetadataValue?)
}

/// What the operator log says about groups; `GroupCoordinator` takes them after each event.
public enum GroupLogEvent: Equatable, Sendable {
    case created(group: String)
    case rebalancing(group: String, generation: Int32, reason: String)
    case generationFormed(group: String, generation: Int32, protocolName: String?, members: Int)
    case stable(group: String, generation: Int32)
    case emptied(group: String, generation: Int32)
    case removed(group: String, reason: String)
    case subscribedTopicDeleted(group: String, topic: String)
}

/// What the I/O shell must do after an event, in order: writes first, then answers.
public enum GroupEffect: Equatable, Sendable {
    case write([GroupRecord])
    case join(WaiterID, JoinResult)
    case sync(WaiterID, SyncResult)
}

/// The arguments of a JoinGroup request.
public struct JoinArgs: Sendable {
    public var groupId: String
    public var memberId: String
    public var instanceId: String?
    public var clientId: String
    public var clientHost: String
    public var sessionTimeoutMs: Int32
    public var rebalanceTimeoutMs: Int32
    public var protocolType: String
    public var protocols: [MemberProtocol]
    /// v4+: an unknown member must first obtain a member id (KIP-394).
    public var requireKnownMemberId: Bool

    public init(groupId: String, memberId: String, instanceId: String? = nil, clientId: String = "client",
                clientHost: String = "", sessionTimeoutMs: Int32, rebalanceTimeoutMs: Int32,
                protocolType: String = "consumer", protocols: [MemberProtocol], requireKnownMemberId: Bool = true) {
        self.groupId = groupId
        self.memberId = memberId
        self.instanceId = instanceId
        self.clientId = clientId
        self.clientHost = clientHost
        self.sessionTimeoutMs = sessionTimeoutMs
        self.rebalanceTimeoutMs = rebalanceTimeoutMs
        self.protocolType = protocolType
        self.protocols = protocols
        self.requireKnownMemberId = requireKnownMemberId
    }
}

/// The classic group coordinator as a sans-I/O state machine: every method takes an event and the
/// current time and returns what to answer and write. It never blocks, reads clocks or does I/O;
/// `GroupCoordinator` drives it under one lock and performs the effects.
///
/// Kafka's semantics: a rebalance (PreparingRebalance) collects JoinGroups until every known
/// member rejoined or the rebalance timeout passed, then bumps the generation, picks a protocol
/// and a leader (CompletingRebalance); the leader's SyncGroup assignment makes the group Stable.
public struct GroupCoordinatorCore: Sendable {
    public var settings: GroupSettings
    public private(set) var groups: [String: ClassicGroup] = [:]
    /// Lifecycle events since the last `takeJournal` (rare: joins, rebalances, removals).
    public private(set) var journal: [GroupLogEvent] = []
    /// Member id suffixes; replaceable so tests get predictable ids.
    var makeSuffix: @Sendable () -> String = { UUID().uuidString.lowercased() }

    public init(settings: GroupSettings) {
        self.settings = settings
    }

    public func group(_ id: String) -> ClassicGroup? { groups[id] }

    public mutating func takeJournal() -> [GroupLogEvent] {
        defer { journal.removeAll(keepingCapacity: true) }
        return journal
    }

    // MARK: JoinGroup

    public mutating func join(_ a: JoinArgs, waiter: WaiterID, now: Int64) -> [GroupEffect] {
        if a.groupId.isEmpty { return [.join(waiter, .failure(.invalidGroupId, memberId: a.memberId))] }
        if a.sessionTimeoutMs < settings.minSessionTimeoutMs || a.sessionTimeoutMs > settings.maxSessionTimeoutMs {
            return [.join(waiter, .failure(.invalidSessionTimeout, memberId: a.memberId))]
        }
        let isUnknownMember = a.memberId.isEmpty
        if groups[a.groupId] == nil {
            // Only a member without id may create a group; a known id for a missing group is stale.
            guard isUnknownMember else { return [.join(waiter, .failure(.unknownMemberId, memberId: a.memberId))] }
            groups[a.groupId] = ClassicGroup(groupId: a.groupId, now: now)
            journal.append(.created(group: a.groupId))
        }
        var g = groups[a.groupId]!
        defer { groups[a.groupId] = g.state == .dead ? nil : g }
        if g.state == .dead { return [.join(waiter, .failure(.coordinatorNotAvailable, memberId: a.memberId))] }
        if !g.supports(protocolType: a.protocolType, protocols: a.protocols) {
            return [.join(waiter, .failure(.inconsistentGroupProtocol, memberId: a.memberId))]
        }
        if isUnknownMember {
            if let instanceId = a.instanceId, g.staticMembers[instanceId] != nil {
                return replaceStaticMember(&g, a, waiter: waiter, now: now)
            }
            if g.members.count + g.pendingMembers.count >= settings.maxGroupSize {
                return [.join(waiter, .failure(.groupMaxSizeReached))]
            }
            let newId = "\(a.instanceId ?? a.clientId)-\(makeSuffix())"
            if a.instanceId == nil && a.requireKnownMemberId {
                g.pendingMembers[newId] = now + Int64(a.sessionTimeoutMs)
                return [.join(waiter, .failure(.memberIdRequired, memberId: newId))]
            }
            return addMemberAndRebalance(&g, a, memberId: newId, waiter: waiter, now: now)
        }
        if g.isFenced(instanceId: a.instanceId, memberId: a.memberId) {
            return [.join(waiter, .failure(.fencedInstanceId, memberId: a.memberId))]
        }
        if g.pendingMembers.removeValue(forKey: a.memberId) != nil {
            return addMemberAndRebalance(&g, a, memberId: a.memberId, waiter: waiter, now: now)
        }
        guard let member = g.members[a.memberId] else {
            return [.join(waiter, .failure(.unknownMemberId, memberId: a.memberId))]
        }
        switch g.state {
        case .preparingRebalance:
            return updateMemberAndRebalance(&g, a, waiter: waiter, now: now)
        case .completingRebalance:
            if member.protocols == a.protocols {
                // The member lost its JoinGroup answer: repeat it.
                g.members[a.memberId]!.heartbeatDeadline = now + Int64(member.sessionTimeoutMs)
                return [.join(waiter, currentJoinResult(g, for: a.memberId))]
            }
            return updateMemberAndRebalance(&g, a, waiter: waiter, now: now)
        case .stable:
            if g.leaderId == a.memberId || member.protocols != a.protocols {
                return updateMemberAndRebalance(&g, a, waiter: waiter, now: now)
            }
            g.members[a.memberId]!.heartbeatDeadline = now + Int64(member.sessionTimeoutMs)
            return [.join(waiter, currentJoinResult(g, for: a.memberId))]
        case .empty, .dead:
            return [.join(waiter, .failure(.unknownMemberId, memberId: a.memberId))]
        }
    }

    private func currentJoinResult(_ g: ClassicGroup, for memberId: String) -> JoinResult {
        var r = JoinResult()
        r.generationId = g.generationId
        r.protocolType = g.protocolType
        r.protocolName = g.protocolName
        r.leaderId = g.leaderId ?? ""
        r.memberId = memberId
        if g.leaderId == memberId {
            r.members = g.orderedMembers.map { ($0.memberId, $0.instanceId, $0.metadata(for: g.protocolName) ?? []) }
        }
        return r
    }

    private mutating func addMemberAndRebalance(_ g: inout ClassicGroup, _ a: JoinArgs, memberId: String,
                                                waiter: WaiterID, now: Int64) -> [GroupEffect] {
        let member = GroupMember(memberId: memberId, instanceId: a.instanceId, clientId: a.clientId,
                                 clientHost: a.clientHost, sessionTimeoutMs: a.sessionTimeoutMs,
                                 rebalanceTimeoutMs: a.rebalanceTimeoutMs, protocols: a.protocols,
                                 awaitingJoin: waiter, heartbeatDeadline: now + Int64(a.sessionTimeoutMs))
        if g.members.isEmpty { g.protocolType = a.protocolType }
        g.members[memberId] = member
        g.memberOrder.append(memberId)
        if let instanceId = a.instanceId { g.staticMembers[instanceId] = memberId }
        if g.leaderId == nil { g.leaderId = memberId }
        var effects: [GroupEffect] = []
        if g.state == .preparingRebalance {
            g.initialDelay?.newMemberAdded = true
        } else {
            effects += prepareRebalance(&g, now: now, reason: "member \(memberId) joined")
        }
        return effects + maybeCompleteJoin(&g, now: now)
    }

    private mutating func updateMemberAndRebalance(_ g: inout ClassicGroup, _ a: JoinArgs, waiter: WaiterID,
                                                   now: Int64) -> [GroupEffect] {
        var effects: [GroupEffect] = []
        var m = g.members[a.memberId]!
        let reason = g.topicChange.map { "topic metadata changed (\($0)): member \(a.memberId) rejoined" }
            ?? (m.protocols != a.protocols ? "member \(a.memberId) rejoined with new metadata"
                : "leader \(a.memberId) rejoined (its subscribed topics' metadata changed)")
        if let old = m.awaitingJoin, old != waiter {
            // A second JoinGroup (a retry on a new connection) supersedes the first.
            effects.append(.join(old, .failure(.rebalanceInProgress, memberId: a.memberId)))
        }
        m.protocols = a.protocols
        m.sessionTimeoutMs = a.sessionTimeoutMs
        m.rebalanceTimeoutMs = a.rebalanceTimeoutMs
        m.clientId = a.clientId
        m.awaitingJoin = waiter
        m.heartbeatDeadline = now + Int64(a.sessionTimeoutMs)
        g.members[a.memberId] = m
        if g.state != .preparingRebalance { effects += prepareRebalance(&g, now: now, reason: reason) }
        return effects + maybeCompleteJoin(&g, now: now)
    }

    /// A static member rejoining without its member id (a restart): it takes over its old entry
    /// under a new id. In a Stable group with unchanged metadata there is no rebalance: it gets the
    /// current generation and, through SyncGroup, its old assignment.
    private mutating func replaceStaticMember(_ g: inout ClassicGroup, _ a: JoinArgs, waiter: WaiterID,
                                              now: Int64) -> [GroupEffect] {
        let instanceId = a.instanceId!
        let oldId = g.staticMembers[instanceId]!
        let newId = "\(instanceId)-\(makeSuffix())"
        var effects: [GroupEffect] = []
        var m = g.members.removeValue(forKey: oldId)!
        if let w = m.awaitingJoin { effects.append(.join(w, .failure(.fencedInstanceId, memberId: oldId))) }
        if let w = m.awaitingSync { effects.append(.sync(w, .failure(.fencedInstanceId))) }
        let oldMetadata = m.metadata(for: g.protocolName)
        m.memberId = newId
        m.awaitingJoin = nil
        m.awaitingSync = nil
        m.protocols = a.protocols
        m.sessionTimeoutMs = a.sessionTimeoutMs
        m.rebalanceTimeoutMs = a.rebalanceTimeoutMs
        m.clientId = a.clientId
        m.clientHost = a.clientHost
        m.heartbeatDeadline = now + Int64(a.sessionTimeoutMs)
        g.members[newId] = m
        g.memberOrder = g.memberOrder.map { $0 == oldId ? newId : $0 }
        g.staticMembers[instanceId] = newId
        if g.leaderId == oldId { g.leaderId = newId }
        switch g.state {
        case .stable where oldMetadata != nil && oldMetadata == m.metadata(for: g.protocolName):
            effects.append(.write([.group(g.groupId, metadataValue(g, now: now))]))
            effects.append(.join(waiter, currentJoinResult(g, for: newId)))
            return effects
        case .preparingRebalance:
            g.members[newId]!.awaitingJoin = waiter
            return effects + maybeCompleteJoin(&g, now: now)
        default:
            g.members[newId]!.awaitingJoin = waiter
            return effects + prepareRebalance(&g, now: now, reason: "static member \(instanceId) rejoined with new metadata")
                + maybeCompleteJoin(&g, now: now)
        }
    }

    /// Starts a rebalance: pending SyncGroups learn they must rejoin; an empty group waits the
    /// initial delay first so that members starting together land in one generation.
    private mutating func prepareRebalance(_ g: inout ClassicGroup, now: Int64, reason: String) -> [GroupEffect] {
        var effects: [GroupEffect] = []
        journal.append(.rebalancing(group: g.groupId, generation: g.generationId, reason: reason))
        g.topicChange = nil
        if g.state == .completingRebalance {
            for id in g.memberOrder {
                g.members[id]!.assignment = []
                if let w = g.members[id]!.awaitingSync {
                    g.members[id]!.awaitingSync = nil
                    effects.append(.sync(w, .failure(.rebalanceInProgress)))
                }
            }
        }
        g.syncDeadline = nil
        let rebalanceTimeout = g.rebalanceTimeoutMs
        if g.state == .empty {
            let delay = settings.initialRebalanceDelayMs
            g.initialDelay = (delay, max(rebalanceTimeout - delay, 0), false)
            g.joinDeadline = now + delay
        } else {
            g.initialDelay = nil
            g.joinDeadline = now + rebalanceTimeout
        }
        g.transition(to: .preparingRebalance, now: now)
        return effects
    }

    private mutating func maybeCompleteJoin(_ g: inout ClassicGroup, now: Int64) -> [GroupEffect] {
        guard g.state == .preparingRebalance else { return [] }
        if g.initialDelay != nil { return [] }  // only its timer ends the initial delay
        let allJoined = g.members.values.allSatisfy { $0.awaitingJoin != nil } && g.pendingMembers.isEmpty
        return allJoined ? completeJoin(&g, now: now) : []
    }

    /// Ends PreparingRebalance: members that did not rejoin are dropped, the generation advances,
    /// and every waiting JoinGroup is answered (the leader with all members' metadata).
    private mutating func completeJoin(_ g: inout ClassicGroup, now: Int64) -> [GroupEffect] {
        var effects: [GroupEffect] = []
        for id in g.memberOrder where g.members[id]?.awaitingJoin == nil {
            removeMember(&g, id)
        }
        g.joinDeadline = nil
        g.initialDelay = nil
        g.generationId += 1
        if g.members.isEmpty {
            g.protocolName = nil
            g.leaderId = nil
            g.transition(to: .empty, now: now)
            journal.append(.emptied(group: g.groupId, generation: g.generationId))
            effects.append(.write([.group(g.groupId, metadataValue(g, now: now))]))
            return effects
        }
        g.protocolName = g.selectProtocol()
        if g.leaderId == nil || g.members[g.leaderId!] == nil { g.leaderId = g.memberOrder.first }
        g.transition(to: .completingRebalance, now: now)
        journal.append(.generationFormed(group: g.groupId, generation: g.generationId, protocolName: g.protocolName,
                                         members: g.members.count))
        g.syncDeadline = now + g.rebalanceTimeoutMs
        for id in g.memberOrder {
            guard let w = g.members[id]!.awaitingJoin else { continue }
            g.members[id]!.awaitingJoin = nil
            g.members[id]!.heartbeatDeadline = now + Int64(g.members[id]!.sessionTimeoutMs)
            effects.append(.join(w, currentJoinResult(g, for: id)))
        }
        return effects
    }

    /// Drops a member (its parked requests are the caller's to answer).
    private func removeMember(_ g: inout ClassicGroup, _ id: String) {
        guard let m = g.members.removeValue(forKey: id) else { return }
        g.memberOrder.removeAll { $0 == id }
        if let instanceId = m.instanceId, g.staticMembers[instanceId] == id { g.staticMembers[instanceId] = nil }
        if g.leaderId == id { g.leaderId = g.memberOrder.first }
    }

    /// Removes a member that left or expired and rebalances what remains.
    private mutating func removeMemberAndRebalance(_ g: inout ClassicGroup, _ id: String, now: Int64,
                                                   reason: String) -> [GroupEffect] {
        var effects: [GroupEffect] = []
        if let m = g.members[id] {
            if let w = m.awaitingJoin { effects.append(.join(w, .failure(.unknownMemberId, memberId: id))) }
            if let w = m.awaitingSync { effects.append(.sync(w, .failure(.unknownMemberId))) }
        }
        removeMember(&g, id)
        switch g.state {
        case .stable, .completingRebalance:
            effects += prepareRebalance(&g, now: now, reason: reason)
            effects += maybeCompleteJoin(&g, now: now)
        case .preparingRebalance:
            effects += maybeCompleteJoin(&g, now: now)
        case .empty, .dead:
            break
        }
        return effects
    }

    // MARK: SyncGroup

    public mutating func sync(groupId: String, generationId: Int32, memberId: String, instanceId: String?,
                              protocolType: String?, protocolName: String?,
                              assignments: [String: [UInt8]], waiter: WaiterID, now: Int64) -> [GroupEffect] {
        guard var g = groups[groupId] else { return [.sync(waiter, .failure(.unknownMemberId))] }
        defer { groups[groupId] = g }
        if g.state == .dead { return [.sync(waiter, .failure(.coordinatorNotAvailable))] }
        if g.isFenced(instanceId: instanceId, memberId: memberId) { return [.sync(waiter, .failure(.fencedInstanceId))] }
        guard let member = g.members[memberId] else { return [.sync(waiter, .failure(.unknownMemberId))] }
        if generationId != g.generationId { return [.sync(waiter, .failure(.illegalGeneration))] }
        if let t = protocolType, t != g.protocolType { return [.sync(waiter, .failure(.inconsistentGroupProtocol))] }
        if let n = protocolName, n != g.protocolName { return [.sync(waiter, .failure(.inconsistentGroupProtocol))] }
        switch g.state {
        case .empty, .dead:
            return [.sync(waiter, .failure(.unknownMemberId))]
        case .preparingRebalance:
            return [.sync(waiter, .failure(.rebalanceInProgress))]
        case .stable:
            g.members[memberId]!.heartbeatDeadline = now + Int64(member.sessionTimeoutMs)
            return [.sync(waiter, syncResult(g, member.assignment))]
        case .completingRebalance:
            var effects: [GroupEffect] = []
            if let old = member.awaitingSync { effects.append(.sync(old, .failure(.rebalanceInProgress))) }
            g.members[memberId]!.awaitingSync = waiter
            g.members[memberId]!.heartbeatDeadline = now + Int64(member.sessionTimeoutMs)
            guard memberId == g.leaderId else { return effects }
            // The leader's assignment completes the generation; members it left out get nothing.
            for id in g.memberOrder { g.members[id]!.assignment = assignments[id] ?? [] }
            g.syncDeadline = nil
            g.transition(to: .stable, now: now)
            journal.append(.stable(group: g.groupId, generation: g.generationId))
            effects.append(.write([.group(g.groupId, metadataValue(g, now: now))]))
            for id in g.memberOrder {
                guard let w = g.members[id]!.awaitingSync else { continue }
                g.members[id]!.awaitingSync = nil
                effects.append(.sync(w, syncResult(g, g.members[id]!.assignment)))
            }
            return effects
        }
    }

    private func syncResult(_ g: ClassicGroup, _ assignment: [UInt8]) -> SyncResult {
        SyncResult(error: .none, protocolType: g.protocolType, protocolName: g.protocolName, assignment: assignment)
    }

    // MARK: Heartbeat and LeaveGroup

    public mutating func heartbeat(groupId: String, generationId: Int32, memberId: String, instanceId: String?,
                                   now: Int64) -> KafkaError {
        guard var g = groups[groupId] else { return .unknownMemberId }
        defer { groups[groupId] = g }
        if g.state == .dead { return .coordinatorNotAvailable }
        if g.isFenced(instanceId: instanceId, memberId: memberId) { return .fencedInstanceId }
        guard let member = g.members[memberId], g.state != .empty else { return .unknownMemberId }
        if generationId != g.generationId { return .illegalGeneration }
        g.members[memberId]!.heartbeatDeadline = now + Int64(member.sessionTimeoutMs)
        return g.state == .preparingRebalance ? .rebalanceInProgress : .none
    }

    /// Removes the listed members (v3+ batches them); returns one error per member.
    public mutating func leave(groupId: String, members leaving: [(memberId: String, instanceId: String?)],
                               now: Int64) -> (error: KafkaError, memberErrors: [KafkaError], effects: [GroupEffect]) {
        guard var g = groups[groupId] else {
            return (.none, leaving.map { _ in .unknownMemberId }, [])
        }
        defer { groups[groupId] = g }
        if g.state == .dead { return (.coordinatorNotAvailable, leaving.map { _ in .coordinatorNotAvailable }, []) }
        var errors: [KafkaError] = []
        var effects: [GroupEffect] = []
        for l in leaving {
            var target = l.memberId
            if let instanceId = l.instanceId {
                guard let registered = g.staticMembers[instanceId] else {
                    errors.append(.unknownMemberId)
                    continue
                }
                if !l.memberId.isEmpty && l.memberId != registered {
                    errors.append(.fencedInstanceId)
                    continue
                }
                target = registered
            }
            if g.pendingMembers.removeValue(forKey: target) != nil {
                errors.append(.none)
                effects += maybeCompleteJoin(&g, now: now)
                continue
            }
            guard g.members[target] != nil else {
                errors.append(.unknownMemberId)
                continue
            }
            errors.append(.none)
            effects += removeMemberAndRebalance(&g, target, now: now, reason: "member \(target) left the group")
        }
        return (.none, errors, effects)
    }

    // MARK: Offsets

    /// Checks whether a commit may proceed (creating the group for a simple, generation -1
    /// commit). The caller writes the offsets and then calls `applyCommit`.
    public mutating func validateCommit(groupId: String, generationId: Int32, memberId: String,
                                        instanceId: String?, now: Int64) -> KafkaError {
        if groupId.isEmpty { return .invalidGroupId }
        guard var g = groups[groupId] else {
            // Without group management (assign() consumers, admin tools) offsets are just stored.
            guard generationId < 0 else { return .illegalGeneration }
            groups[groupId] = ClassicGroup(groupId: groupId, now: now)
            return .none
        }
        defer { groups[groupId] = g }
        if g.state == .dead { return .coordinatorNotAvailable }
        if g.isFenced(instanceId: instanceId, memberId: memberId) { return .fencedInstanceId }
        if generationId < 0 && g.state == .empty { return .none }
        if g.state == .completingRebalance { return .rebalanceInProgress }
        guard let member = g.members[memberId] else { return .unknownMemberId }
        if generationId != g.generationId { return .illegalGeneration }
        g.members[memberId]!.heartbeatDeadline = now + Int64(member.sessionTimeoutMs)
        return .none
    }

    public mutating func applyCommit(groupId: String, offsets: [TopicPartitionID: CommittedOffset]) {
        guard groups[groupId] != nil else { return }
        groups[groupId]!.offsets.merge(offsets) { $1 }
    }

    /// Committed offsets of a group: the listed partitions, or all when `partitions` is nil.
    public func fetchOffsets(groupId: String, partitions: [TopicPartitionID]?) -> [(TopicPartitionID, CommittedOffset?)] {
        let offsets = groups[groupId]?.offsets ?? [:]
        guard let partitions else { return offsets.keys.sorted().map { ($0, offsets[$0]) } }
        return partitions.map { ($0, offsets[$0]) }
    }

    /// OffsetDelete: removes offsets of topics the group does not subscribe to.
    public mutating func deleteOffsets(groupId: String, partitions: [TopicPartitionID])
        -> (error: KafkaError, partitionErrors: [KafkaError], effects: [GroupEffect]) {
        if groupId.isEmpty { return (.invalidGroupId, [], []) }
        guard var g = groups[groupId], g.state != .dead else { return (.groupIdNotFound, [], []) }
        defer { groups[groupId] = g }
        let subscribed: Set<String>
        if g.state == .empty {
            subscribed = []
        } else if let topics = g.subscribedTopics {
            subscribed = topics
        } else {
            return (.nonEmptyGroup, [], [])
        }
        var errors: [KafkaError] = []
        var records: [GroupRecord] = []
        for tp in partitions {
            if subscribed.contains(tp.topic) {
                errors.append(.groupSubscribedToTopic)
                continue
            }
            errors.append(.none)
            if g.offsets.removeValue(forKey: tp) != nil { records.append(.offset(group: groupId, tp, nil)) }
        }
        return (.none, errors, records.isEmpty ? [] : [.write(records)])
    }

    /// A deleted topic's committed offsets are removed from every group and tombstoned (Kafka's
    /// `onPartitionsDeleted`); the groups themselves stay, and their members rebalance when their
    /// leader sees the topic gone from Metadata.
    public mutating func topicDeleted(_ topic: String) -> [GroupEffect] {
        var records: [GroupRecord] = []
        for id in groups.keys.sorted() {
            for tp in groups[id]!.offsets.keys.sorted() where tp.topic == topic {
                groups[id]!.offsets[tp] = nil
                records.append(.offset(group: id, tp, nil))
            }
            if groups[id]!.state != .empty, groups[id]!.subscribedTopics?.contains(topic) == true {
                groups[id]!.topicChange = "\(topic) deleted"
                journal.append(.subscribedTopicDeleted(group: id, topic: topic))
            }
        }
        return records.isEmpty ? [] : [.write(records)]
    }

    /// DeleteGroups: only empty groups go; their offsets and metadata are tombstoned.
    public mutating func deleteGroup(_ groupId: String, now: Int64) -> (KafkaError, [GroupEffect]) {
        if groupId.isEmpty { return (.invalidGroupId, []) }
        guard let g = groups[groupId], g.state != .dead else { return (.groupIdNotFound, []) }
        guard g.state == .empty else { return (.nonEmptyGroup, []) }
        groups[groupId] = nil
        journal.append(.removed(group: groupId, reason: "deleted by DeleteGroups"))
        return (.none, [.write(tombstones(g))])
    }

    private func tombstones(_ g: ClassicGroup) -> [GroupRecord] {
        g.offsets.keys.sorted().map { .offset(group: g.groupId, $0, nil) } + [.group(g.groupId, nil)]
    }

    // MARK: Time

    /// Earliest time `tick` has something to do (nil: nothing scheduled).
    public func nextDeadline() -> Int64? {
        var next: Int64?
        func consider(_ t: Int64?) { if let t { next = min(next ?? t, t) } }
        for g in groups.values {
            consider(g.joinDeadline)
            consider(g.syncDeadline)
            for m in g.members.values where m.awaitingJoin == nil && m.awaitingSync == nil { consider(m.heartbeatDeadline) }
            for d in g.pendingMembers.values { consider(d) }
        }
        return next
    }

    /// Expires sessions, pending member ids, join and sync deadlines.
    public mutating func tick(now: Int64) -> [GroupEffect] {
        var effects: [GroupEffect] = []
        for id in groups.keys.sorted() {
            var g = groups[id]!
            for (pending, deadline) in g.pendingMembers where deadline <= now {
                g.pendingMembers[pending] = nil
                effects += maybeCompleteJoin(&g, now: now)
            }
            // Members parked in JoinGroup or SyncGroup are alive by definition.
            for memberId in g.memberOrder {
                guard let m = g.members[memberId], m.awaitingJoin == nil, m.awaitingSync == nil,
                      m.heartbeatDeadline <= now else { continue }
                effects += removeMemberAndRebalance(
                    &g, memberId, now: now, reason: "member \(memberId) timed out (no heartbeat for \(m.sessionTimeoutMs) ms)")
            }
            if g.state == .preparingRebalance, let deadline = g.joinDeadline, deadline <= now {
                if let delay = g.initialDelay, delay.newMemberAdded, delay.remainingMs > 0 {
                    let next = min(delay.delayMs, delay.remainingMs)
                    g.initialDelay = (delay.delayMs, delay.remainingMs - next, false)
                    g.joinDeadline = now + next
                } else {
                    effects += completeJoin(&g, now: now)
                }
            }
            if g.state == .completingRebalance, let deadline = g.syncDeadline, deadline <= now {
                // Members that never sent SyncGroup are gone; the rest rebalance without them.
                let missing = g.memberOrder.filter { g.members[$0]?.awaitingSync == nil }
                for memberId in missing { removeMember(&g, memberId) }
                effects += prepareRebalance(&g, now: now, reason: "member(s) \(missing.joined(separator: ", ")) "
                                                + "sent no SyncGroup within the rebalance timeout")
                effects += maybeCompleteJoin(&g, now: now)
            }
            groups[id] = g
        }
        return effects
    }

    /// Offset retention: a consumer group's offsets expire `offsets.retention.ms` after the group
    /// became empty (or after the commit, whichever is later); offsets of groups without a protocol
    /// (assign() users) after their commit. An empty group without offsets is then removed.
    public mutating func expireOffsets(now: Int64) -> [GroupEffect] {
        var records: [GroupRecord] = []
        for id in groups.keys.sorted() {
            var g = groups[id]!
            guard g.state == .empty else { continue }
            for (tp, o) in g.offsets.sorted(by: { $0.key < $1.key }) {
                let base = g.protocolType == nil ? o.commitTimestamp : max(o.commitTimestamp, g.stateTimestamp)
                let expiry = o.expireTimestamp ?? (base + settings.offsetsRetentionMs)
                if expiry <= now {
                    g.offsets[tp] = nil
                    records.append(.offset(group: id, tp, nil))
                }
            }
            if g.offsets.isEmpty && g.members.isEmpty && g.pendingMembers.isEmpty {
                groups[id] = nil
                journal.append(.removed(group: id, reason: "empty, and its last offsets expired"))
                records.append(.group(id, nil))
            } else {
                groups[id] = g
            }
        }
        return records.isEmpty ? [] : [.write(records)]
    }

    // MARK: Persistence

    /// The GroupMetadataValue that describes `g` now.
    func metadataValue(_ g: ClassicGroup, now: Int64) -> GroupMetadataValue {
        var v = GroupMetadataValue()
        v.protocolType = g.protocolType ?? ""
        v.generation = g.generationId
        v.protocol = g.protocolName
        v.leader = g.leaderId
        v.currentStateTimestamp = now
        v.members = g.orderedMembers.map { m in
            var mm = GroupMetadataValue.MemberMetadata()
            mm.memberId = m.memberId
            mm.groupInstanceId = m.instanceId
            mm.clientId = m.clientId
            mm.clientHost = m.clientHost
            mm.rebalanceTimeout = m.rebalanceTimeoutMs
            mm.sessionTimeout = m.sessionTimeoutMs
            mm.subscription = m.metadata(for: g.protocolName) ?? []
            mm.assignment = m.assignment
            return mm
        }
        return v
    }

    /// Replays one `__consumer_offsets` record (loading at start); later records win.
    public mutating func replay(_ record: GroupRecord, now: Int64) {
        switch record {
        case .offset(let groupId, let tp, let value):
            if let value {
                if groups[groupId] == nil { groups[groupId] = ClassicGroup(groupId: groupId, now: now) }
                groups[groupId]!.offsets[tp] = value
            } else {
                groups[groupId]?.offsets[tp] = nil
            }
        case .group(let groupId, let value):
            guard let value else {
                groups[groupId] = nil
                return
            }
            var g = ClassicGroup(groupId: groupId, now: value.currentStateTimestamp >= 0 ? value.currentStateTimestamp : now)
            g.offsets = groups[groupId]?.offsets ?? [:]
            g.generationId = value.generation
            g.protocolType = value.protocolType.isEmpty ? nil : value.protocolType
            g.protocolName = value.protocol
            g.leaderId = value.leader
            for mm in value.members {
                let protocols = value.protocol.map { [MemberProtocol(name: $0, metadata: mm.subscription)] } ?? []
                var m = GroupMember(memberId: mm.memberId, instanceId: mm.groupInstanceId, clientId: mm.clientId,
                                    clientHost: mm.clientHost, sessionTimeoutMs: mm.sessionTimeout,
                                    rebalanceTimeoutMs: mm.rebalanceTimeout >= 0 ? mm.rebalanceTimeout : mm.sessionTimeout,
                                    protocols: protocols, heartbeatDeadline: 0)
                m.assignment = mm.assignment
                g.members[m.memberId] = m
                g.memberOrder.append(m.memberId)
                if let i = m.instanceId { g.staticMembers[i] = m.memberId }
            }
            g.state = g.members.isEmpty ? .empty : .stable
            groups[groupId] = g
        }
    }

    /// After replay: loaded members get a fresh session from now, as if they had just heartbeated.
    public mutating func finishLoading(now: Int64) {
        for id in groups.keys {
            for memberId in groups[id]!.memberOrder {
                let timeout = groups[id]!.members[memberId]!.sessionTimeoutMs
                groups[id]!.members[memberId]!.heartbeatDeadline = now + Int64(timeout)
            }
        }
    }
}
