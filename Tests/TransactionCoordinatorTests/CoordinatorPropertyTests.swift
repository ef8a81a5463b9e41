// Goal: under any interleaving of client requests (current producers and zombies), durable and
// failed appends, marker outcomes, clock jumps, leadership moves and crashes, the coordinator
// keeps its invariants, and its state is always what a replay of its log gives. Method: seeded
// random runs over the harness; a failure names the seed and the step.
import Testing
import KafkaProtocol
@testable import TransactionCoordinator

@Suite struct CoordinatorPropertyTests {
    static let ids = ["alpha", "beta", "gamma", "my-txn"]
    static let topics = [TransactionPartition("t", 0), TransactionPartition("t", 1), TransactionPartition("u", 0)]

    struct Run {
        let seed: UInt64
        var rng: SeededGenerator
        let h: CoordinatorHarness
        /// Every producer identity ever handed out, per id (the latest last): zombies included.
        var known: [String: [ProducerIdAndEpoch]] = [:]
        var lastDurableEpoch: [String: ProducerIdAndEpoch] = [:]
        var issues: [String] = []
        var statesSeen: Set<TransactionState> = []
        var fencedRefusals = 0
        var step = 0
        var nextProducerIds: Int64 = 10_000

        init(seed: UInt64) {
            self.seed = seed
            rng = SeededGenerator(seed: seed)
            var config = TransactionCoordinatorConfig()
            config.transactionalIdExpirationMs = 200_000
            config.transactionStatePartitions = 4
            h = CoordinatorHarness(config: config, producerIds: 1000..<1003)
        }

        mutating func fail(_ message: String) { issues.append("seed \(seed) step \(step): \(message)") }

        mutating func producer(for id: String) -> ProducerIdAndEpoch {
            known[id]?.randomElement(using: &rng) ?? ProducerIdAndEpoch(producerId: 1, epoch: 0)
        }

        mutating func learnAnswers() {
            for (_, answer) in h.answers {
                guard case .producerId(.none, let pid, let epoch) = answer else { continue }
                for id in Self.idsOwning(pid: pid, epoch: epoch, in: h) {
                    let identity = ProducerIdAndEpoch(producerId: pid, epoch: epoch)
                    if known[id]?.contains(identity) != true { known[id, default: []].append(identity) }
                }
            }
            h.answers.removeAll()
        }

        static func idsOwning(pid: Int64, epoch: Int16, in h: CoordinatorHarness) -> [String] {
            h.core.transactions.filter { $0.value.producerId == pid && $0.value.producerEpoch == epoch }.map(\.key)
        }

        /// A request by a producer older than the id's current epoch is refused at once.
        mutating func expectFencedIfStale(_ id: String, _ producer: ProducerIdAndEpoch, _ token: RequestToken) {
            guard let current = h.core.transactions[id], current.producerId == producer.producerId,
                  producer.epoch < current.producerEpoch else { return }
            fencedRefusals += 1
            if h.error(token) != .producerFenced { fail("stale \(producer) of \(id) answered \(String(describing: h.answers[token]))") }
        }

        mutating func randomStep() {
            let id = CoordinatorPropertyTests.ids.randomElement(using: &rng)!
            switch Int.random(in: 0..<100, using: &rng) {
            case 0..<12:
                let expected = Bool.random(using: &rng) ? known[id]?.randomElement(using: &rng) : nil
                h.initProducerId(id, timeoutMs: Int32.random(in: 1000...90_000, using: &rng), expected: expected)
            case 12..<30:
                let p = producer(for: id)
                let partitions = Array(CoordinatorPropertyTests.topics.shuffled(using: &rng).prefix(Int.random(in: 1...3, using: &rng)))
                let t = h.addPartitions(id, p, partitions, verifyOnly: Int.random(in: 0..<4, using: &rng) == 0)
                expectFencedIfStale(id, p, t)
            case 30..<35:
                let p = producer(for: id)
                expectFencedIfStale(id, p, h.addOffsets(id, p, group: "group-\(Int.random(in: 0..<3, using: &rng))"))
            case 35..<47:
                let p = producer(for: id)
                expectFencedIfStale(id, p, h.endTxn(id, p, Bool.random(using: &rng) ? .commit : .abort))
            case 47..<67:
                h.makeDurable(Int.random(in: 1...3, using: &rng))
            case 67..<70:
                h.failFirstAppend([KafkaError.notLeaderOrFollower, .requestTimedOut, .notEnoughReplicas].randomElement(using: &rng)!)
            case 70..<82:
                h.acknowledgeMarkers([MarkerOutcome.written, .written, .written, .partitionDeleted,
                                      .failed(.notLeaderOrFollower)].randomElement(using: &rng)!)
            case 82..<92:
                h.tick(advance: [0, 100, 5_000, 30_000, 95_000].randomElement(using: &rng)!)
            case 92..<95:
                let partition = h.core.partition(of: id)
                let epoch = (h.core.ownedPartitions[partition] ?? 0) + 1
                h.handle(h.core.unload(partition: partition))
                // What was in flight to or from the old leader is lost.
                h.inFlightMarkers.removeAll { h.core.partition(of: $0.transactionalId) == partition }
                h.pendingAppends.removeAll { $0.partition == partition }
                h.load(partition: partition, epoch: epoch)
            case 95..<97:
                nextProducerIds += 100
                h.crashAndReload(producerIds: nextProducerIds..<(nextProducerIds + 3))
            default:
                if h.core.remainingProducerIds == 0 {
                    nextProducerIds += 100
                    h.core.supplyProducerIds(nextProducerIds..<(nextProducerIds + 3))
                }
            }
            learnAnswers()
        }

        mutating func check() {
            if !h.violations.isEmpty { fail("ordering: \(h.violations)") }
            h.violations.removeAll()
            let invariants = h.core.invariantViolations()
            if !invariants.isEmpty { fail("invariants: \(invariants)") }
            for (id, metadata) in h.core.transactions {
                let now = ProducerIdAndEpoch(producerId: metadata.producerId, epoch: metadata.producerEpoch)
                if let before = lastDurableEpoch[id], before.producerId == now.producerId, now.epoch < before.epoch {
                    fail("epoch of \(id) went back from \(before.epoch) to \(now.epoch)")
                }
                lastDurableEpoch[id] = now
                statesSeen.insert(metadata.state)
                // The state in memory is the last durable record, by construction.
                if h.durable(id) != metadata.persisted {
                    fail("\(id) differs from its log: \(String(describing: h.durable(id))) vs \(metadata)")
                }
            }
        }

        /// Lets every retry run out, then checks that a replay of the log equals the live state.
        mutating func finish() {
            if h.core.remainingProducerIds == 0 { h.core.supplyProducerIds(90_000..<90_100) }
            for _ in 0..<20 {
                h.settle()
                h.tick(advance: 1_000)
            }
            var replica = TransactionCoordinatorCore(config: h.core.config)
            for (partition, epoch) in h.core.ownedPartitions {
                do {
                    _ = try replica.load(partition: partition, coordinatorEpoch: epoch, records: h.log[partition] ?? [], now: h.now)
                } catch {
                    fail("replay failed: \(error)")
                }
            }
            if replica.transactions != h.liveState() { fail("replay differs from the live state") }
            for (id, metadata) in h.core.transactions where metadata.state == .prepareCommit || metadata.state == .prepareAbort {
                // Only a coordinator whose markers were refused as fenced may stay in Prepare.
                if !h.core.unacknowledgedMarkers(of: id).isEmpty { fail("\(id) still has markers after settling") }
            }
            check()
        }
    }

    @Test func randomOperationsKeepTheInvariants() {
        var issues: [String] = []
        var statesSeen: Set<TransactionState> = []
        var fencedRefusals = 0
        for seed in UInt64(1)...120 {
            var run = Run(seed: seed)
            for step in 0..<300 {
                run.step = step
                run.randomStep()
                run.check()
                if !run.issues.isEmpty { break }
            }
            if run.issues.isEmpty { run.finish() }
            issues += run.issues
            statesSeen.formUnion(run.statesSeen)
            fencedRefusals += run.fencedRefusals
            if issues.count > 5 { break }
        }
        #expect(issues.isEmpty, "\(issues.prefix(5).joined(separator: "\n"))")
        // The runs reach every durable state and do send zombies.
        #expect(statesSeen == [.empty, .ongoing, .prepareCommit, .prepareAbort, .completeCommit, .completeAbort])
        #expect(fencedRefusals > 50, "\(fencedRefusals)")
    }
}
