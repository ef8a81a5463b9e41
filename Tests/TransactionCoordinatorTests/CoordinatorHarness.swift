// A driver for the coordinator core standing in for the broker: a durable in-memory
// `__transaction_state` (records become durable only when the test says so), the markers sent
// and not yet acknowledged, and the answers received. It also checks two ordering invariants on
// every effect: markers only for a transaction whose Prepare record is durable, and a Complete
// record only after every marker of the transaction was acknowledged.
import KafkaProtocol
@testable import TransactionCoordinator

/// A class, so an expectation can read the answer of a request made in the same expression.
final class CoordinatorHarness {
    var core: TransactionCoordinatorCore
    var now: Int64 = 1_000_000
    /// The durable log, per partition, in append order.
    var log: [Int32: [(key: [UInt8], value: [UInt8]?)]] = [:]
    /// Appends emitted and not yet durable, in order.
    var pendingAppends: [TransactionLogAppend] = []
    /// Markers sent and not yet acknowledged.
    var inFlightMarkers: [TransactionMarkers] = []
    /// Every marker batch ever sent.
    var sentMarkers: [TransactionMarkers] = []
    var answers: [RequestToken: TransactionAnswer] = [:]
    var producerIdRequests = 0
    /// Partitions acknowledged per (transactional id, producer id, epoch) since its Prepare.
    var acknowledged: [String: Set<TransactionPartition>] = [:]
    var violations: [String] = []
    private var nextToken: RequestToken = 0

    init(config: TransactionCoordinatorConfig = TransactionCoordinatorConfig(), producerIds: Range<Int64> = 1000..<2000,
         ownAll: Bool = true) {
        core = TransactionCoordinatorCore(config: config)
        core.supplyProducerIds(producerIds)
        if ownAll {
            for partition in 0..<config.transactionStatePartitions { load(partition: partition, epoch: 1) }
        }
    }

    func token() -> RequestToken {
        nextToken += 1
        return nextToken
    }

    /// The latest durable value of `transactionalId`, decoded.
    func durable(_ transactionalId: String) -> TransactionMetadata? {
        let partition = core.partition(of: transactionalId)
        let key = TransactionLog.encodeKey(transactionalId)
        guard let last = log[partition]?.last(where: { $0.key == key }) else { return nil }
        return try? TransactionLog.decode(key: last.key, value: last.value).metadata
    }

    func handle(_ effects: [TransactionCoordinatorEffect]) {
        for effect in effects {
            switch effect {
            case .append(let append):
                if let value = append.value, let entry = try? TransactionLog.decode(key: append.key, value: value),
                   let metadata = entry.metadata,
                   metadata.state == .completeCommit || metadata.state == .completeAbort {
                    let prepared = durable(entry.transactionalId)?.partitions ?? []
                    let acked = acknowledged[entry.transactionalId] ?? []
                    if !prepared.isSubset(of: acked) {
                        violations.append("Complete for \(entry.transactionalId) before markers \(prepared.subtracting(acked))")
                    }
                }
                pendingAppends.append(append)
            case .sendMarkers(let markers):
                let prepared = durable(markers.transactionalId)
                let expected: TransactionState = markers.result == .commit ? .prepareCommit : .prepareAbort
                if prepared?.state != expected || prepared?.producerEpoch != markers.producerEpoch
                    || !Set(markers.partitions).isSubset(of: prepared?.partitions ?? []) {
                    violations.append("markers for \(markers.transactionalId) without a durable \(expected)")
                }
                inFlightMarkers.append(markers)
                sentMarkers.append(markers)
            case .answer(let token, let answer):
                answers[token] = answer
            case .needProducerIds:
                producerIdRequests += 1
            }
        }
    }

    /// Makes the first `count` pending appends (all by default) durable, in order.
    func makeDurable(_ count: Int? = nil) {
        let n = min(count ?? pendingAppends.count, pendingAppends.count)
        let batch = pendingAppends.prefix(n)
        pendingAppends.removeFirst(n)
        for append in batch {
            log[append.partition, default: []].append((append.key, append.value))
            if let entry = try? TransactionLog.decode(key: append.key, value: append.value),
               let metadata = entry.metadata, metadata.state == .prepareCommit || metadata.state == .prepareAbort {
                acknowledged[entry.transactionalId] = []
            }
            handle(core.appended(append.id, error: .none, now: now))
        }
    }

    /// Fails the first pending append with `error`.
    func failFirstAppend(_ error: KafkaError) {
        guard !pendingAppends.isEmpty else { return }
        let append = pendingAppends.removeFirst()
        handle(core.appended(append.id, error: error, now: now))
    }

    /// Acknowledges every marker in flight with `outcome`.
    func acknowledgeMarkers(_ outcome: MarkerOutcome = .written) {
        let batches = inFlightMarkers
        inFlightMarkers.removeAll()
        for markers in batches {
            for partition in markers.partitions {
                if outcome == .written || outcome == .partitionDeleted {
                    acknowledged[markers.transactionalId, default: []].insert(partition)
                }
                handle(core.markerWritten(transactionalId: markers.transactionalId, producerId: markers.producerId,
                                          producerEpoch: markers.producerEpoch, partition: partition,
                                          outcome: outcome, now: now))
            }
        }
    }

    /// Makes appends durable and acknowledges markers until nothing is left to do.
    func settle() {
        while !pendingAppends.isEmpty || !inFlightMarkers.isEmpty {
            makeDurable()
            acknowledgeMarkers()
        }
    }

    func tick(advance: Int64 = 0) {
        now += advance
        handle(core.tick(now: now))
    }

    func load(partition: Int32, epoch: Int32) {
        let records = log[partition] ?? []
        do {
            handle(try core.load(partition: partition, coordinatorEpoch: epoch, records: records, now: now))
        } catch {
            violations.append("load of \(partition) failed: \(error)")
        }
    }

    /// The broker crashes: pending appends are lost, so are markers in flight; a fresh core loads
    /// every partition from the durable log with the next coordinator epoch.
    func crashAndReload(producerIds: Range<Int64>) {
        pendingAppends.removeAll()
        inFlightMarkers.removeAll()
        let epochs = core.ownedPartitions
        core = TransactionCoordinatorCore(config: core.config)
        core.supplyProducerIds(producerIds)
        for (partition, epoch) in epochs.sorted(by: { $0.key < $1.key }) { load(partition: partition, epoch: epoch + 1) }
    }

    // MARK: Requests

    @discardableResult
    func initProducerId(_ id: String, timeoutMs: Int32 = 60_000, expected: ProducerIdAndEpoch? = nil) -> RequestToken {
        let t = token()
        handle(core.initProducerId(t, transactionalId: id, timeoutMs: timeoutMs, expected: expected, now: now))
        return t
    }

    @discardableResult
    func addPartitions(_ id: String, _ producer: ProducerIdAndEpoch, _ partitions: [TransactionPartition],
                                verifyOnly: Bool = false) -> RequestToken {
        let t = token()
        handle(core.addPartitions(t, transactionalId: id, producerId: producer.producerId, producerEpoch: producer.epoch,
                                  partitions: Set(partitions), verifyOnly: verifyOnly, now: now))
        return t
    }

    @discardableResult
    func addOffsets(_ id: String, _ producer: ProducerIdAndEpoch, group: String) -> RequestToken {
        let t = token()
        handle(core.addOffsets(t, transactionalId: id, producerId: producer.producerId, producerEpoch: producer.epoch,
                               groupId: group, now: now))
        return t
    }

    @discardableResult
    func endTxn(_ id: String, _ producer: ProducerIdAndEpoch, _ result: TransactionResult) -> RequestToken {
        let t = token()
        handle(core.endTxn(t, transactionalId: id, producerId: producer.producerId, producerEpoch: producer.epoch,
                           result: result, now: now))
        return t
    }

    struct UnexpectedAnswer: Error { var answer: TransactionAnswer? }

    /// InitProducerId made durable; the producer it answered.
    func initialized(_ id: String, expected: ProducerIdAndEpoch? = nil) throws -> ProducerIdAndEpoch {
        let t = initProducerId(id, expected: expected)
        makeDurable()
        guard case .producerId(.none, let pid, let epoch)? = answers[t] else { throw UnexpectedAnswer(answer: answers[t]) }
        return ProducerIdAndEpoch(producerId: pid, epoch: epoch)
    }

    /// A producer whose transaction over `partitions` has a durable Prepare record (markers in flight).
    func prepared(_ id: String, _ partitions: [TransactionPartition], _ result: TransactionResult) throws -> ProducerIdAndEpoch {
        let producer = try initialized(id)
        addPartitions(id, producer, partitions)
        makeDurable()
        endTxn(id, producer, result)
        makeDurable()
        return producer
    }

    func error(_ t: RequestToken) -> KafkaError? {
        switch answers[t] {
        case .producerId(let error, _, _)?: error
        case .error(let error)?: error
        case .partitions(let errors)?: Set(errors.values).count == 1 ? errors.values.first : .unknownServerError
        case nil: nil
        }
    }

    /// Every transaction as a reload from the durable log would rebuild it.
    func liveState() -> [String: TransactionMetadata] {
        core.transactions.mapValues(\.persisted)
    }
}

/// SplitMix64: a small seeded generator so a failing property run can be replayed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
