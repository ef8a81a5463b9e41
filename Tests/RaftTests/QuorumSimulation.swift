// A deterministic simulation of N voters running the real Raft core: one seeded PRNG drives the
// network (drop, delay, duplicate, reorder, symmetric and one-way partitions), the disks (crashes
// lose unflushed writes, torn tails), per-node clocks (offset and rate), crashes and restarts,
// graceful resignations and client writes. Checkers run after every step; a failure names the
// seed, which replays the run exactly.
import Raft

struct SimulationFailure: Error, CustomStringConvertible {
    var seed: UInt64
    var time: Int64
    var message: String
    var trace: [String]

    var description: String {
        """
        Raft simulation seed \(seed) failed at t=\(time) ms: \(message)
        replay: RAFT_SEED=\(seed) swift test --filter RaftSimulationTests/replaySeed
        last events:
        \(trace.joined(separator: "\n"))
        """
    }
}

struct QuorumSimulation {
    struct Options {
        var nodeCount: Int
        /// Faults happen before this time; afterwards the network heals and every node runs.
        var faultPhaseMs: Int64 = 12_000
        /// After healing, a leader must commit a new client write on every node within this.
        var livenessBoundMs: Int64 = 8_000
        var dropRate: Double
        var duplicateRate: Double
        var snapshotInterval: Int64
        var raft: RaftConfig
    }

    private enum Event {
        /// A response carries the incarnation of the node it answers: like an answer on a TCP
        /// connection, it cannot reach a restarted process.
        case deliver(Envelope, answering: Int?)
        case tick(ReplicaID, incarnation: Int)
        case flushed(ReplicaID, incarnation: Int, token: Int64, upTo: Int)
        case crash(ReplicaID?)
        /// Restarts the node down longest.
        case restartDown
        case resign(ReplicaID?)
        case partition(ReplicaID?)
        case dropRate(Double)
        case crashAll
        case healPartition
        case clientWrite
        case healAll
    }

    private struct Node {
        var raft: RaftNode?
        var incarnation = 0
        var disk = SimulatedDisk()
        var image = KeyValueImage()
        var clockOffset: Int64
        var clockRatePPM: Int64
        var lastFlushCompletion: Int64 = 0
        /// Entries below this offset have been compared with the committed oracle.
        var checkedUpTo: Int64 = 0
        /// The HW never goes back while the process lives (a restart forgets it).
        var lastHighWatermark: Int64 = 0
    }

    let seed: UInt64
    let options: Options
    private var random: Xoshiro256
    private var queue = EventQueue<Event>()
    private var now: Int64 = 0
    private var nodes: [ReplicaID: Node] = [:]
    private let ids: [ReplicaID]
    private var blocked: Set<[ReplicaID]> = []
    private var healed = false
    /// In half the runs one node's disk is always slow to flush: the window in which others hold
    /// records it has not synced stays open.
    private let slowDisk: ReplicaID?
    private struct RequestKey: Hashable {
        var requester: ReplicaID
        var correlationId: Int32
    }
    /// The incarnation that sent each request, so its answer dies with that process.
    private var requestIncarnation: [RequestKey: Int] = [:]
    private var downSince: [ReplicaID] = []
    private var dropRate: Double
    private var duplicateRate: Double
    /// Every committed entry any node reported, by offset: what no node may ever contradict.
    private var committed: [LogEntry] = []
    /// The epoch in which each committed record was first reported committed (the committing
    /// leader's epoch): leaders of later epochs must hold it.
    private var committedInEpoch: [Int32] = []
    private var leaderOfEpoch: [Int32: ReplicaID] = [:]
    private var writeSequence = 0
    /// The first write sent after healing, once a leader accepted it: (offset, epoch).
    private var probe: OffsetAndEpoch?
    private var steps = 0
    /// The last events, rendered only when a check fails.
    private var trace: [(time: Int64, line: TraceLine)] = []

    private enum TraceLine {
        case text(String)
        case delivered(Envelope)
    }
    private var stats = (leaders: 0, committed: 0, snapshotsInstalled: 0, crashes: 0, steps: 0, truncations: 0)

    /// FNV-1a over the committed records, to compare two runs.
    var committedFingerprint: UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for (entry, epoch) in zip(committed, committedInEpoch) {
            var bytes: [UInt8] = withUnsafeBytes(of: entry.epoch.littleEndian, Array.init)
            bytes += withUnsafeBytes(of: epoch.littleEndian, Array.init)
            switch entry.content {
            case .data(let data): bytes += [0] + data
            case .leaderChange(let leader): bytes += [1] + withUnsafeBytes(of: leader.littleEndian, Array.init)
            }
            for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        }
        return hash
    }

    var summary: String {
        "\(options.nodeCount) voters, drop \(options.dropRate), \(stats.steps) steps, \(stats.leaders) elections won, "
            + "\(stats.committed) records committed, \(stats.crashes) crashes, \(stats.truncations) truncations, "
            + "\(stats.snapshotsInstalled) snapshots fetched"
    }

    init(seed: UInt64) {
        self.seed = seed
        var random = Xoshiro256(seed: seed)
        var raft = RaftConfig()
        raft.electionTimeoutMs = 300
        raft.fetchTimeoutMs = 600
        raft.electionBackoffMaxMs = 300
        raft.retryBackoffMs = 20
        raft.requestTimeoutMs = 400
        raft.fetchMaxWaitMs = 100
        raft.fetchMaxBytes = Int32(random.int(60...2_000))
        raft.fetchSnapshotMaxBytes = Int32(random.int(16...512))
        options = Options(nodeCount: Int(random.int(3...5)), dropRate: Double(random.int(0...15)) / 100,
                          duplicateRate: Double(random.int(0...5)) / 100, snapshotInterval: random.int(5...120),
                          raft: raft)
        ids = (1...Int32(options.nodeCount)).map { $0 }
        slowDisk = random.chance(0.5) ? ReplicaID(random.int(1...Int64(options.nodeCount))) : nil
        dropRate = options.dropRate
        duplicateRate = options.duplicateRate
        for id in ids {
            nodes[id] = Node(clockOffset: random.int(0...10_000), clockRatePPM: random.int(-50_000...50_000))
        }
        self.random = random
    }

    // MARK: - Running

    mutating func run() throws(SimulationFailure) {
        for id in ids { try start(id) }
        queue.push(.clientWrite, at: 50)
        // Some runs are calm, some stormy: the gap between faults varies per seed.
        let meanGap = random.int(150...1_000)
        var time: Int64 = random.int(100...600)
        while time < options.faultPhaseMs {
            scheduleFault(at: time)
            time += random.int(meanGap / 3...meanGap * 2)
        }
        queue.push(.healAll, at: options.faultPhaseMs)
        let deadline = options.faultPhaseMs + options.livenessBoundMs
        while let (time, event) = queue.pop() {
            if time > deadline { break }
            now = time
            try step(event)
            steps += 1
            try checkAfterStep()
            if healed, let probe, everyNodeApplied(probe.offset + 1) {
                try fullImageCheck()
                stats.steps = steps
                stats.committed = committed.count
                return
            }
        }
        throw failure("liveness: after healing at \(options.faultPhaseMs) ms no write committed on every node within "
            + "\(options.livenessBoundMs) ms (probe \(probe.map(\.description) ?? "never accepted"), "
            + "roles \(ids.map { "\($0):\(nodes[$0]!.raft.map { "\($0.role.rawValue)@\($0.epoch) hw \($0.highWatermark)" } ?? "down")" })")
    }

    private mutating func scheduleFault(at time: Int64) {
        let roll = random.int(0...99)
        // nil: whoever leads when the fault happens (the interesting victim), decided then.
        let target: ReplicaID? = random.chance(0.5) ? nil : random.pick(ids)
        switch roll {
        case 0..<35:
            queue.push(.crash(target), at: time)
            queue.push(.restartDown, at: time + random.int(20...2_500))
        case 35..<75:
            queue.push(.partition(target), at: time)
            queue.push(.healPartition, at: time + random.int(100...3_000))
        case 75..<85:
            queue.push(.resign(target), at: time)
        case 92..<96:
            // Power loss everywhere: only what each disk flushed survives.
            queue.push(.crashAll, at: time)
            for _ in ids { queue.push(.restartDown, at: time + random.int(20...1_500)) }
        case 85..<92:
            // A storm: most messages lost for a while.
            queue.push(.dropRate(0.7), at: time)
            queue.push(.dropRate(options.dropRate), at: time + random.int(100...1_500))
        default:
            break
        }
    }

    private func localTime(_ id: ReplicaID) -> Int64 {
        let node = nodes[id]!
        return node.clockOffset + now + now * node.clockRatePPM / 1_000_000
    }

    private mutating func note(_ text: String) { record(.text(text)) }

    private mutating func record(_ line: TraceLine) {
        trace.append((now, line))
        if trace.count > 120 { trace.removeFirst(trace.count - 60) }
    }

    private mutating func step(_ event: Event) throws(SimulationFailure) {
        switch event {
        case .deliver(let envelope, let answering):
            guard nodes[envelope.destination]!.raft != nil else { return }
            if let answering, answering != nodes[envelope.destination]!.incarnation { return }
            record(.delivered(envelope))
            try handle(envelope.destination, .received(envelope))
        case .tick(let id, let incarnation):
            guard nodes[id]!.raft != nil && nodes[id]!.incarnation == incarnation else { return }
            try handle(id, .tick)
            queue.push(.tick(id, incarnation: incarnation), at: now + random.int(5...15))
        case .flushed(let id, let incarnation, let token, let upTo):
            guard nodes[id]!.raft != nil && nodes[id]!.incarnation == incarnation else { return }
            nodes[id]!.disk.flush(upTo: upTo)
            try handle(id, .logFlushed(token: token))
        case .crash(let target):
            guard !healed, let id = target ?? currentLeader(), nodes[id]!.raft != nil else { return }
            crash(id)
        case .crashAll:
            guard !healed else { return }
            note("power loss")
            for id in ids where nodes[id]!.raft != nil { crash(id) }
        case .restartDown:
            guard !downSince.isEmpty else { return }
            try start(downSince.removeFirst())
        case .resign(let target):
            guard !healed, let id = target ?? currentLeader(), nodes[id]!.raft?.role == .leader else { return }
            note("resign \(id)")
            try handle(id, .resign)
        case .partition(let target):
            guard !healed else { return }
            makePartition(victim: target ?? currentLeader() ?? random.pick(ids))
        case .dropRate(let rate):
            guard !healed else { return }
            dropRate = rate
            note("drop rate \(rate)")
        case .healPartition:
            blocked = []
            note("partition healed")
        case .clientWrite:
            let upNodes = ids.filter { nodes[$0]!.raft != nil }
            if !upNodes.isEmpty {
                writeSequence += 1
                let payload = Array("k\(random.int(0...15))=w\(writeSequence)".utf8)
                let target = upNodes.first { nodes[$0]!.raft!.role == .leader } ?? random.pick(upNodes)
                try handle(target, .clientAppend([payload]))
            }
            queue.push(.clientWrite, at: now + random.int(10...80))
        case .healAll:
            healed = true
            blocked = []
            dropRate = 0
            duplicateRate = 0
            note("heal all")
            for id in ids where nodes[id]!.raft == nil { try start(id) }
            downSince = []
        }
    }

    private mutating func crash(_ id: ReplicaID) {
        note("crash \(id)")
        downSince.append(id)
        stats.crashes += 1
        nodes[id]!.raft = nil
        nodes[id]!.incarnation += 1
        var disk = nodes[id]!.disk
        disk.crash(random: &random)
        nodes[id]!.disk = disk
    }

    private func currentLeader() -> ReplicaID? {
        ids.filter { nodes[$0]!.raft?.role == .leader }.max { nodes[$0]!.raft!.epoch < nodes[$1]!.raft!.epoch }
    }

    private mutating func makePartition(victim: ReplicaID) {
        blocked = []
        switch random.int(0...3) {
        case 0: // the victim is cut off both ways
            for other in ids where other != victim { blocked.insert([victim, other]); blocked.insert([other, victim]) }
            note("partition: \(victim) isolated")
        case 1: // the victim can send but hears nothing
            for other in ids where other != victim { blocked.insert([other, victim]) }
            note("partition: \(victim) deaf")
        case 2: // the victim hears but cannot send
            for other in ids where other != victim { blocked.insert([victim, other]) }
            note("partition: \(victim) mute")
        default: // a random split into two groups
            let side = Set(ids.filter { _ in random.chance(0.5) })
            for a in ids { for b in ids where side.contains(a) != side.contains(b) { blocked.insert([a, b]) } }
            note("partition: \(side.sorted()) | rest")
        }
    }

    private mutating func start(_ id: ReplicaID) throws(SimulationFailure) {
        var node = nodes[id]!
        node.disk.recover()
        let recovered = RecoveredState(quorumState: node.disk.quorumState, snapshot: node.disk.snapshot, log: node.disk.durable)
        node.raft = RaftNode(id: id, voters: ids, config: options.raft, clusterId: "sim", seed: random.next(),
                             recovered: recovered, now: localTime(id))
        node.image = node.disk.snapshot.map { KeyValueImage(snapshot: $0.id, data: $0.data) } ?? KeyValueImage()
        node.checkedUpTo = 0
        node.lastHighWatermark = 0
        node.lastFlushCompletion = now
        nodes[id] = node
        note("start \(id) as \(node.raft!.role.rawValue)@\(node.raft!.epoch) log \(node.raft!.log.startOffset)..<\(node.raft!.log.endOffset)")
        try checkImage(id, "restart from snapshot")
        queue.push(.tick(id, incarnation: node.incarnation), at: now + random.int(1...10))
    }

    private mutating func handle(_ id: ReplicaID, _ event: RaftEvent) throws(SimulationFailure) {
        let effects = nodes[id]!.raft!.handle(event, now: localTime(id))
        for effect in effects { try perform(effect, at: id) }
    }

    private mutating func perform(_ effect: RaftEffect, at id: ReplicaID) throws(SimulationFailure) {
        switch effect {
        case .send(let envelope):
            let link = [envelope.source, envelope.destination]
            if blocked.contains(link) || random.chance(dropRate) { return }
            let answering: Int?
            switch envelope.message {
            case .voteResponse, .beginQuorumEpochResponse, .endQuorumEpochResponse, .fetchResponse, .fetchSnapshotResponse:
                answering = requestIncarnation[RequestKey(requester: envelope.destination, correlationId: envelope.correlationId)]
            default:
                answering = nil
                requestIncarnation[RequestKey(requester: id, correlationId: envelope.correlationId)] = nodes[id]!.incarnation
            }
            queue.push(.deliver(envelope, answering: answering), at: now + networkDelay())
            if random.chance(duplicateRate) { queue.push(.deliver(envelope, answering: answering), at: now + networkDelay()) }
        case .persistQuorumState(let state):
            nodes[id]!.disk.quorumState = state
        case .appendToLog(let slice):
            guard slice.baseOffset == nodes[id]!.disk.current.endOffset else {
                throw failure("node \(id) appends at \(slice.baseOffset) but its disk log ends at \(nodes[id]!.disk.current.endOffset)")
            }
            nodes[id]!.disk.write(.append(slice))
        case .truncateLog(let offset):
            stats.truncations += 1
            nodes[id]!.disk.write(.truncate(offset))
        case .flushLog(let token):
            // Flushes complete in order, after a random disk latency.
            // Now and then a slow disk, so that crashes find unflushed records that others hold.
            let latency = id == slowDisk || random.chance(0.1) ? random.int(50...400) : random.int(1...12)
            let completion = max(nodes[id]!.lastFlushCompletion, now + latency)
            nodes[id]!.lastFlushCompletion = completion
            queue.push(.flushed(id, incarnation: nodes[id]!.incarnation, token: token, upTo: nodes[id]!.disk.operationCount),
                       at: completion)
        case .installSnapshot(let snapshotId, let data):
            stats.snapshotsInstalled += 1
            note("\(id) installs \(snapshotId)")
            nodes[id]!.disk.snapshot = (snapshotId, data)
            nodes[id]!.disk.write(.reset(snapshotId))
            nodes[id]!.image = KeyValueImage(snapshot: snapshotId, data: data)
            nodes[id]!.checkedUpTo = snapshotId.endOffset
            try checkImage(id, "installed \(snapshotId)")
        case .deleteLogBefore(let offset):
            guard let snapshot = nodes[id]!.disk.snapshot, snapshot.id.endOffset == offset else {
                throw failure("node \(id) deletes its log below \(offset) without a snapshot ending there")
            }
            nodes[id]!.disk.write(.deletePrefix(snapshot.id))
        case .becameLeader(let epoch):
            stats.leaders += 1
            note("\(id) leads epoch \(epoch)")
            if let other = leaderOfEpoch[epoch], other != id {
                throw failure("two leaders in epoch \(epoch): \(other) and \(id)")
            }
            leaderOfEpoch[epoch] = id
            try checkLeaderCompleteness(id)
        case .becameFollower(let leader, let epoch):
            note("\(id) follows \(leader) in epoch \(epoch)")
        case .commit(let slice, let highWatermark):
            guard slice.baseOffset == nodes[id]!.image.appliedOffset else {
                throw failure("node \(id) commits from \(slice.baseOffset) but applied up to \(nodes[id]!.image.appliedOffset)")
            }
            for (index, entry) in slice.entries.enumerated() {
                let offset = Int(slice.baseOffset) + index
                if offset < committed.count {
                    guard committed[offset] == entry else {
                        throw failure("node \(id) commits \(entry) at \(offset), but \(committed[offset]) was committed there")
                    }
                } else {
                    guard offset == committed.count else { throw failure("node \(id) commits past a gap at \(offset)") }
                    committed.append(entry)
                    committedInEpoch.append(nodes[id]!.raft!.epoch)
                }
                nodes[id]!.image.apply(entry)
            }
            if let raft = nodes[id]!.raft, raft.appliedOffset != highWatermark {
                throw failure("node \(id) applied \(raft.appliedOffset), commit said HW \(highWatermark)")
            }
            try maybeSnapshot(id)
        case .appendAccepted(let base, _, let epoch):
            if healed && probe == nil { probe = OffsetAndEpoch(offset: base, epoch: epoch) }
        case .appendRejected:
            break
        }
    }

    private mutating func networkDelay() -> Int64 {
        random.chance(0.05) ? random.int(50...600) : random.int(1...20)
    }

    private mutating func maybeSnapshot(_ id: ReplicaID) throws(SimulationFailure) {
        let node = nodes[id]!
        guard let raft = node.raft else { return }
        let since = raft.appliedOffset - (node.disk.snapshot?.id.endOffset ?? 0)
        guard since >= options.snapshotInterval else { return }
        // The state machine writes its image first; only then may the core drop the log.
        let snapshotId = raft.snapshotID(endingAt: raft.appliedOffset)
        let data = node.image.encoded()
        nodes[id]!.disk.snapshot = (snapshotId, data)
        note("\(id) snapshots \(snapshotId)")
        try handle(id, .snapshotTaken(snapshotId, data: data))
    }

    // MARK: - Checkers

    private func failure(_ message: String) -> SimulationFailure {
        let lines = trace.suffix(60).map { entry -> String in
            switch entry.line {
            case .text(let text): return "t=\(entry.time) \(text)"
            case .delivered(let envelope):
                return "t=\(entry.time) \(envelope.source)->\(envelope.destination) #\(envelope.correlationId) \(summary(envelope.message))"
            }
        }
        return SimulationFailure(seed: seed, time: now, message: message, trace: lines)
    }

    private func everyNodeApplied(_ offset: Int64) -> Bool {
        ids.allSatisfy { (nodes[$0]!.raft?.appliedOffset ?? -1) >= offset }
    }

    /// After every step: one leader per epoch among live nodes, and every node's log agrees
    /// with the committed oracle below its high watermark.
    private mutating func checkAfterStep() throws(SimulationFailure) {
        var leaders: [Int32: ReplicaID] = [:]
        for id in ids {
            guard let raft = nodes[id]!.raft else { continue }
            if raft.role == .leader {
                if let other = leaders[raft.epoch] { throw failure("nodes \(other) and \(id) both lead epoch \(raft.epoch)") }
                leaders[raft.epoch] = id
            }
            guard raft.highWatermark >= nodes[id]!.lastHighWatermark else {
                throw failure("node \(id)'s HW went back from \(nodes[id]!.lastHighWatermark) to \(raft.highWatermark)")
            }
            nodes[id]!.lastHighWatermark = raft.highWatermark
            guard raft.highWatermark <= Int64(committed.count) else {
                throw failure("node \(id) has HW \(raft.highWatermark) but only \(committed.count) records were committed")
            }
            var offset = max(nodes[id]!.checkedUpTo, raft.log.startOffset)
            while offset < raft.highWatermark {
                guard raft.log.entry(at: offset) == committed[Int(offset)] else {
                    throw failure("node \(id)'s log differs from the committed record at \(offset)")
                }
                offset += 1
            }
            nodes[id]!.checkedUpTo = max(nodes[id]!.checkedUpTo, raft.highWatermark)
            guard nodes[id]!.image.appliedOffset == raft.appliedOffset else {
                throw failure("node \(id)'s image is at \(nodes[id]!.image.appliedOffset), the core applied \(raft.appliedOffset)")
            }
        }
        if steps % 2_000 == 0 { try fullImageCheck() }
    }

    /// Leader completeness: a new leader holds every record committed in an earlier epoch. (A
    /// stale candidate may still win an old epoch with votes sent long ago; it lacks what later
    /// epochs committed, and it cannot commit anything, since a majority has moved on.)
    private func checkLeaderCompleteness(_ id: ReplicaID) throws(SimulationFailure) {
        let raft = nodes[id]!.raft!
        let log = raft.log
        let mustHold = Int64(committedInEpoch.firstIndex { $0 >= raft.epoch } ?? committed.count)
        guard log.endOffset >= mustHold else {
            throw failure("leader \(id) of epoch \(raft.epoch): log ends at \(log.endOffset), below the \(mustHold) records committed before")
        }
        for offset in log.startOffset..<mustHold where log.entry(at: offset) != committed[Int(offset)] {
            throw failure("leader \(id)'s log differs from the committed record at \(offset)")
        }
    }

    private func checkImage(_ id: ReplicaID, _ context: String) throws(SimulationFailure) {
        let image = nodes[id]!.image
        guard image.appliedOffset <= Int64(committed.count) else {
            throw failure("node \(id) (\(context)) holds an image at \(image.appliedOffset) beyond the committed \(committed.count)")
        }
        guard image == KeyValueImage.replay(committed[..<Int(image.appliedOffset)]) else {
            throw failure("node \(id) (\(context)): image at \(image.appliedOffset) differs from the replay of the committed prefix")
        }
    }

    private func fullImageCheck() throws(SimulationFailure) {
        for id in ids where nodes[id]!.raft != nil { try checkImage(id, "periodic check") }
    }

    private func summary(_ message: RaftMessage) -> String {
        switch message {
        case .voteRequest(let r): return "\(r.preVote ? "PreVote" : "Vote") e\(r.candidateEpoch) last \(r.lastOffset)@\(r.lastOffsetEpoch)"
        case .voteResponse(let r): return "\(r.preVote ? "PreVote" : "Vote")Resp e\(r.leaderEpoch) granted \(r.voteGranted)"
        case .beginQuorumEpochRequest(let r): return "BeginQuorumEpoch e\(r.leaderEpoch)"
        case .beginQuorumEpochResponse(let r): return "BeginQuorumEpochResp e\(r.leaderEpoch) err \(r.errorCode)"
        case .endQuorumEpochRequest(let r): return "EndQuorumEpoch e\(r.leaderEpoch)"
        case .endQuorumEpochResponse(let r): return "EndQuorumEpochResp e\(r.leaderEpoch)"
        case .fetchRequest(let r): return "Fetch e\(r.currentLeaderEpoch) at \(r.fetchOffset)@\(r.lastFetchedEpoch)"
        case .fetchResponse(let r):
            return "FetchResp err \(r.errorCode) hw \(r.highWatermark) \(r.records.map { "\($0.entries.count) at \($0.baseOffset)" } ?? "")"
                + "\(r.divergingEpoch.map { " diverging \($0)" } ?? "")\(r.snapshotId.map { " \($0)" } ?? "")"
        case .fetchSnapshotRequest(let r): return "FetchSnapshot \(r.snapshotId) pos \(r.position)"
        case .fetchSnapshotResponse(let r): return "FetchSnapshotResp err \(r.errorCode) pos \(r.position) size \(r.size)"
        }
    }
}
