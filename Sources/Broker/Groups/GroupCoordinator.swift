import Foundation
import KafkaProtocol
import LogStore
import Synchronization

/// The I/O shell around `GroupCoordinatorCore`: one lock over the state machine, parked
/// JoinGroup/SyncGroup slots, writes to `__consumer_offsets`, the loader and the timer thread.
///
/// Threads: requests arrive on reactor threads; the timer thread expires sessions and deadlines;
/// the loader thread replays `__consumer_offsets` at start (requests get COORDINATOR_LOAD_IN_PROGRESS
/// until it is done). Writes happen under the lock, so the log holds state changes in the order
/// they were made and an answer never goes out before the write it depends on returned.
public final class GroupCoordinator: Sendable {
    struct Waiter {
        let slot: ResponseSlot
        let header: RequestContext
    }

    struct State {
        var core: GroupCoordinatorCore
        var waiters: [WaiterID: Waiter] = [:]
        var nextWaiter: WaiterID = 1
        var nextRetentionCheck: Int64 = 0
    }

    private let state: Mutex<State>
    private let loaded = Atomic<Bool>(false)
    private let stopped = Atomic<Bool>(false)
    private let threadsRunning = Atomic<Int>(0)
    let replicas: ReplicaManager
    let purgatory: Purgatory
    public let partitionCount: Int32
    let retentionCheckIntervalMs: Int64

    init(config: BrokerConfig, replicas: ReplicaManager, purgatory: Purgatory) throws {
        var settings = GroupSettings()
        settings.minSessionTimeoutMs = Int32(clamping: config.int64("group.min.session.timeout.ms"))
        settings.maxSessionTimeoutMs = Int32(clamping: config.int64("group.max.session.timeout.ms"))
        settings.initialRebalanceDelayMs = config.int64("group.initial.rebalance.delay.ms")
        settings.maxGroupSize = config.int("group.max.size")
        settings.offsetsRetentionMs = config.int64("offsets.retention.minutes") * 60_000
        settings.offsetMetadataMaxBytes = config.int("offset.metadata.max.bytes")
        state = Mutex(State(core: GroupCoordinatorCore(settings: settings)))
        self.replicas = replicas
        self.purgatory = purgatory
        retentionCheckIntervalMs = config.int64("offsets.retention.check.interval.ms")
        let topic = GroupRecordCodec.topic
        if let existing = replicas.metadata.topic(topic) {
            // The partition count is fixed once the topic exists: groups hash onto it.
            partitionCount = existing.partitionCount
        } else {
            partitionCount = Int32(clamping: config.int64("offsets.topic.num.partitions"))
            let configs = ["cleanup.policy": "compact",
                           "segment.bytes": config.string("offsets.topic.segment.bytes") ?? "104857600"]
            try replicas.createTopic(TopicMetadata(name: topic, id: KafkaUUID.random().description,
                                                   partitionCount: partitionCount, configs: configs,
                                                   isInternal: true, leaderEpoch: 0))
        }
    }

    /// Starts loading `__consumer_offsets` and the timer.
    func start() {
        threadsRunning.add(2, ordering: .relaxed)
        let loader = Thread { [self] in
            load()
            threadsRunning.subtract(1, ordering: .relaxed)
        }
        loader.name = "group-loader"
        loader.start()
        let timer = Thread { [self] in
            timerLoop()
            threadsRunning.subtract(1, ordering: .relaxed)
        }
        timer.name = "group-timer"
        timer.start()
    }

    /// Stops the threads; parked requests are answered by their slots closing.
    func stop() {
        stopped.store(true, ordering: .releasing)
        while threadsRunning.load(ordering: .acquiring) > 0 { usleep(1000) }
        let parked = state.withLock { s in
            let all = Array(s.waiters.values)
            s.waiters.removeAll()
            return all
        }
        for w in parked { w.slot.closeConnection() }
    }

    public var isLoading: Bool { !loaded.load(ordering: .acquiring) }

    /// A read-only look at the state machine.
    func inspect<T>(_ body: (GroupCoordinatorCore) -> T) -> T {
        state.withLock { body($0.core) }
    }

    // MARK: Events

    /// `log.level=debug` logs every group request and answer (debugging clients).
    static func trace(_ text: @autoclosure () -> String) {
        BrokerLog.shared.debug("groups", text())
    }

    /// The operator's view of what the state machine did (info: lifecycle and rebalance reasons).
    static func log(_ events: [GroupLogEvent]) {
        let log = BrokerLog.shared
        guard !events.isEmpty, log.isEnabled(.info) else { return }
        for event in events {
            switch event {
            case .created(let group):
                log.info("groups", "group \(group) created")
            case .rebalancing(let group, let generation, let reason):
                log.info("groups", "group \(group) rebalancing (generation \(generation)): \(reason)")
            case .generationFormed(let group, let generation, let protocolName, let members):
                log.info("groups", "group \(group) generation \(generation) formed with \(members) member(s), "
                         + "protocol \(protocolName ?? "-"); waiting for the leader's assignment")
            case .stable(let group, let generation):
                log.info("groups", "group \(group) stable at generation \(generation)")
            case .emptied(let group, let generation):
                log.info("groups", "group \(group) empty at generation \(generation)")
            case .removed(let group, let reason):
                log.info("groups", "group \(group) removed: \(reason)")
            case .subscribedTopicDeleted(let group, let topic):
                log.info("groups", "group \(group): subscribed topic \(topic) deleted; its members rebalance "
                         + "when their leader sees the topic gone")
            }
        }
    }

    func join(_ args: JoinArgs, header: RequestContext, slot: ResponseSlot) {
        Self.trace("join \(args.groupId) member=\(args.memberId) instance=\(args.instanceId ?? "-") v\(header.apiVersion)")
        run(header: header, slot: slot) { core, waiter, now in core.join(args, waiter: waiter, now: now) }
    }

    func sync(groupId: String, generationId: Int32, memberId: String, instanceId: String?, protocolType: String?,
              protocolName: String?, assignments: [String: [UInt8]], header: RequestContext, slot: ResponseSlot) {
        Self.trace("sync \(groupId) member=\(memberId) gen=\(generationId) assignments=\(assignments.count)")
        run(header: header, slot: slot) { core, waiter, now in
            core.sync(groupId: groupId, generationId: generationId, memberId: memberId, instanceId: instanceId,
                      protocolType: protocolType, protocolName: protocolName, assignments: assignments,
                      waiter: waiter, now: now)
        }
    }

    func heartbeat(groupId: String, generationId: Int32, memberId: String, instanceId: String?) -> KafkaError {
        let now = SystemClock.nowMs()
        let error = state.withLock { s in
            s.core.heartbeat(groupId: groupId, generationId: generationId, memberId: memberId,
                             instanceId: instanceId, now: now)
        }
        Self.trace("heartbeat \(groupId) member=\(memberId) gen=\(generationId) -> \(error)")
        return error
    }

    func leave(groupId: String, members: [(memberId: String, instanceId: String?)])
        -> (error: KafkaError, memberErrors: [KafkaError]) {
        var result: (KafkaError, [KafkaError]) = (.none, [])
        perform { core, now in
            let r = core.leave(groupId: groupId, members: members, now: now)
            result = (r.error, r.memberErrors)
            return r.effects
        }
        return result
    }

    /// OffsetCommit: validated, written as one batch, and only then visible to OffsetFetch.
    func commit(groupId: String, generationId: Int32, memberId: String, instanceId: String?,
                offsets: [(TopicPartitionID, CommittedOffset)]) -> (KafkaError, [KafkaError]) {
        let now = SystemClock.nowMs()
        let result: (KafkaError, [KafkaError]) = state.withLock { s in
            let error = s.core.validateCommit(groupId: groupId, generationId: generationId, memberId: memberId,
                                              instanceId: instanceId, now: now)
            guard error == .none else { return (error, offsets.map { _ in error }) }
            var errors: [KafkaError] = []
            var accepted: [TopicPartitionID: CommittedOffset] = [:]
            var records: [GroupRecord] = []
            for (tp, o) in offsets {
                if o.metadata.utf8.count > s.core.settings.offsetMetadataMaxBytes {
                    errors.append(.offsetMetadataTooLarge)
                } else if replicas.partition(tp.topic, tp.partition) == nil {
                    errors.append(.unknownTopicOrPartition)
                } else {
                    errors.append(.none)
                    accepted[tp] = o
                    records.append(.offset(group: groupId, tp, o))
                }
            }
            guard !records.isEmpty else { return (.none, errors) }
            if let failure = write(records, groupId: groupId, now: now) {
                return (.none, errors.map { $0 == .none ? failure : $0 })
            }
            s.core.applyCommit(groupId: groupId, offsets: accepted)
            return (.none, errors)
        }
        return result
    }

    func fetchOffsets(groupId: String, partitions: [TopicPartitionID]?) -> [(TopicPartitionID, CommittedOffset?)] {
        state.withLock { $0.core.fetchOffsets(groupId: groupId, partitions: partitions) }
    }

    func deleteOffsets(groupId: String, partitions: [TopicPartitionID]) -> (KafkaError, [KafkaError]) {
        var result: (KafkaError, [KafkaError]) = (.none, [])
        perform { core, _ in
            let r = core.deleteOffsets(groupId: groupId, partitions: partitions)
            result = (r.error, r.partitionErrors)
            return r.effects
        }
        return result
    }

    func deleteGroup(_ groupId: String) -> KafkaError {
        var result = KafkaError.none
        perform { core, now in
            let (error, effects) = core.deleteGroup(groupId, now: now)
            result = error
            return effects
        }
        return result
    }

    /// DeleteTopics: the topic's committed offsets go with it.
    func topicDeleted(_ topic: String) {
        perform { core, _ in core.topicDeleted(topic) }
    }

    // MARK: Effects

    /// Registers a parked request, feeds the event to the core and performs the effects.
    private func run(header: RequestContext, slot: ResponseSlot,
                     _ event: (inout GroupCoordinatorCore, WaiterID, Int64) -> [GroupEffect]) {
        let now = SystemClock.nowMs()
        let (deliveries, events) = state.withLock { s in
            let id = s.nextWaiter
            s.nextWaiter += 1
            s.waiters[id] = Waiter(slot: slot, header: header)
            return (apply(event(&s.core, id, now), state: &s, now: now), s.core.takeJournal())
        }
        deliver(deliveries)
        Self.log(events)
    }

    private func perform(_ event: (inout GroupCoordinatorCore, Int64) -> [GroupEffect]) {
        let now = SystemClock.nowMs()
        let (deliveries, events) = state.withLock { s in
            (apply(event(&s.core, now), state: &s, now: now), s.core.takeJournal())
        }
        deliver(deliveries)
        Self.log(events)
    }

    /// Writes under the lock; answers are collected and sent after it is released.
    private func apply(_ effects: [GroupEffect], state s: inout State, now: Int64) -> [(Waiter, GroupEffect)] {
        var out: [(Waiter, GroupEffect)] = []
        for effect in effects {
            switch effect {
            case .write(let records):
                // Group metadata is kept in memory even if the write fails (the failure is logged);
                // offsets are different and handled in `commit`.
                var byGroup: [String: [GroupRecord]] = [:]
                var order: [String] = []
                for r in records {
                    let g: String
                    switch r {
                    case .offset(let group, _, _): g = group
                    case .group(let group, _): g = group
                    }
                    if byGroup[g] == nil { order.append(g) }
                    byGroup[g, default: []].append(r)
                }
                for g in order {
                    if let error = write(byGroup[g]!, groupId: g, now: now) {
                        BrokerLog.shared.error("groups", "group \(g): write to \(GroupRecordCodec.topic) failed: \(error)")
                    }
                }
            case .join(let id, _), .sync(let id, _):
                if let w = s.waiters.removeValue(forKey: id) { out.append((w, effect)) }
            }
        }
        return out
    }

    private func deliver(_ deliveries: [(Waiter, GroupEffect)]) {
        for (w, effect) in deliveries {
            let body: any KafkaAPIMessage
            switch effect {
            case .join(_, let r):
                Self.trace("answer join \(r.memberId): \(r.error) generation \(r.generationId) leader \(r.leaderId)")
                body = Self.joinResponse(r, version: w.header.apiVersion)
            case .sync(_, let r):
                Self.trace("answer sync: \(r.error), \(r.assignment.count) assignment bytes")
                body = Self.syncResponse(r)
            case .write: continue
            }
            w.slot.complete(ResponseFramer.frame(body, apiKey: w.header.apiKey, version: w.header.apiVersion,
                                                 correlationId: w.header.correlationId, capacityHint: 512))
        }
    }

    static func joinResponse(_ r: JoinResult, version: Int16) -> JoinGroupResponse {
        var resp = JoinGroupResponse()
        resp.errorCode = r.error.rawValue
        resp.generationId = r.generationId
        resp.protocolType = r.protocolType
        // Before v7 the name is not nullable.
        resp.protocolName = version >= 7 ? r.protocolName : (r.protocolName ?? "")
        resp.leader = r.leaderId
        resp.memberId = r.memberId
        resp.members = r.members.map { m in
            var rm = JoinGroupResponse.JoinGroupResponseMember()
            rm.memberId = m.memberId
            rm.groupInstanceId = m.instanceId
            rm.metadata = m.metadata
            return rm
        }
        return resp
    }

    static func syncResponse(_ r: SyncResult) -> SyncGroupResponse {
        var resp = SyncGroupResponse()
        resp.errorCode = r.error.rawValue
        resp.protocolType = r.protocolType
        resp.protocolName = r.protocolName
        resp.assignment = r.assignment
        return resp
    }

    /// Appends `records` (all of one group) as one batch to the group's partition; nil on success,
    /// else the error to report (retriable, so clients try again).
    private func write(_ records: [GroupRecord], groupId: String, now: Int64) -> KafkaError? {
        var builder = RecordBatchBuilder(baseTimestamp: now)
        for r in records {
            let (key, value) = GroupRecordCodec.encode(r)
            builder.append(key: key, value: value, timestamp: now)
        }
        guard let batch = try? builder.build() else { return .unknownServerError }
        let index = GroupRecordCodec.partition(for: groupId, partitions: partitionCount)
        do {
            let partition = try replicas.appendInternal(topic: GroupRecordCodec.topic, partition: index,
                                                        batch: batch, now: now)
            purgatory.checkWatchers(partition.key)
            return nil
        } catch {
            return .coordinatorNotAvailable
        }
    }

    // MARK: Loading and time

    /// Replays every `__consumer_offsets` partition up to its high watermark.
    private func load() {
        let started = SystemClock.nowMs()
        for index in 0..<partitionCount {
            guard !stopped.load(ordering: .acquiring) else { return }
            guard let partition = replicas.partition(GroupRecordCodec.topic, index) else { continue }
            // After a crash the high watermark is the last checkpoint's; one node being the whole
            // ISR, everything in the log is committed, as it becomes on a leader's election.
            let end = partition.log.updateHighWatermark(partition.log.logEndOffset)
            var offset = partition.log.logStartOffset
            while offset < end {
                guard let result = try? partition.log.read(from: offset, maxBytes: 1 << 20, maxOffset: end,
                                                           minOneBatch: true),
                      result.nextOffset > offset else { break }
                var records: [GroupRecord] = []
                for (start, header) in RecordBatches.batches(in: result.records) where !header.isControl {
                    guard let decoded = try? RecordBatches.records(in: result.records, batchStart: start,
                                                                   maxDecompressedSize: 64 << 20) else { continue }
                    for (i, record) in decoded.enumerated() where header.baseOffset + Int64(i) >= offset {
                        if let r = GroupRecordCodec.decode(key: record.key, value: record.value) { records.append(r) }
                    }
                }
                let now = SystemClock.nowMs()
                state.withLock { s in for r in records { s.core.replay(r, now: now) } }
                offset = result.nextOffset
            }
        }
        let now = SystemClock.nowMs()
        let count = state.withLock { s in
            s.core.finishLoading(now: now)
            s.nextRetentionCheck = now + retentionCheckIntervalMs
            _ = s.core.takeJournal()  // replay is not news
            return s.core.groups.count
        }
        loaded.store(true, ordering: .releasing)
        BrokerLog.shared.info("groups", "loaded \(count) group(s) from \(GroupRecordCodec.topic) in \(now - started) ms")
    }

    /// Polls the state machine's deadlines every few milliseconds (cheap: a lock and a scan of the
    /// groups), which keeps rebalance latency low without a timer per group.
    private func timerLoop() {
        while !stopped.load(ordering: .acquiring) {
            usleep(10_000)
            guard loaded.load(ordering: .acquiring) else { continue }
            let now = SystemClock.nowMs()
            let (deliveries, events) = state.withLock { s in
                var effects: [GroupEffect] = []
                if let next = s.core.nextDeadline(), next <= now { effects += s.core.tick(now: now) }
                if now >= s.nextRetentionCheck {
                    s.nextRetentionCheck = now + retentionCheckIntervalMs
                    effects += s.core.expireOffsets(now: now)
                }
                return (apply(effects, state: &s, now: now), s.core.takeJournal())
            }
            deliver(deliveries)
            Self.log(events)
        }
    }
}
