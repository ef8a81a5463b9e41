import KafkaProtocol

/// The transaction coordinator (KIP-98, KIP-360, KIP-664, KIP-890 part 1) without I/O: requests,
/// append outcomes, marker outcomes and `now` in; appends to `__transaction_state`, markers to
/// send and answers out.
///
/// The in-memory metadata of an id is always its last durable record: a transition is prepared as
/// a pending append and applied only when `appended` reports it durable, and while one is pending
/// the id takes no other transition (CONCURRENT_TRANSACTIONS). So a crash loses at most the
/// pending transitions, whose requests were never answered.
public struct TransactionCoordinatorCore: Sendable {
    public let config: TransactionCoordinatorConfig
    /// Owned `__transaction_state` partitions and the coordinator epoch each was loaded with.
    public private(set) var ownedPartitions: [Int32: Int32] = [:]
    /// Partitions this broker leads whose records are still being read (`beginLoading`).
    public private(set) var loadingPartitions: Set<Int32> = []
    public private(set) var transactions: [String: TransactionMetadata] = [:]
    private var pending: [String: PendingTransition] = [:]
    private var pendingIds: [AppendID: String] = [:]
    /// Markers not yet acknowledged, per id in PrepareCommit/PrepareAbort: nil while in flight,
    /// else the time to send again.
    private var outstandingMarkers: [String: [TransactionPartition: Int64?]] = [:]
    /// Ids whose markers were refused as fenced: another coordinator owns them now.
    private var abandonedMarkers: Set<String> = []
    private var producerIds: Range<Int64> = 0..<0
    private var nextAppend: UInt64 = 0

    private struct PendingTransition: Sendable {
        var appendId: AppendID
        var target: TransactionMetadata
        var purpose: Purpose
    }

    private enum Purpose: Sendable {
        case initProducerId(RequestToken)
        /// InitProducerId found an ongoing transaction: it is aborted with a bumped epoch and the
        /// client told to retry (which bumps once more).
        case fenceForInit(RequestToken)
        case addPartitions(RequestToken, [TransactionPartition], offsets: Bool)
        case endTxn(RequestToken)
        case timeoutAbort
        case complete
        case expire
    }

    public init(config: TransactionCoordinatorConfig = TransactionCoordinatorConfig()) {
        self.config = config
    }

    // MARK: Producer ids

    /// A block of producer ids to hand out (from the controller, or the broker's allocator).
    public mutating func supplyProducerIds(_ ids: Range<Int64>) {
        precondition(ids.lowerBound >= 0, "producer ids are non-negative")
        producerIds = ids
    }

    public var remainingProducerIds: Int { producerIds.count }

    private mutating func takeProducerId() -> Int64? {
        guard let id = producerIds.first else { return nil }
        producerIds = producerIds.dropFirst()
        return id
    }

    // MARK: Requests

    public func partition(of transactionalId: String) -> Int32 {
        TransactionLog.partition(for: transactionalId, partitions: config.transactionStatePartitions)
    }

    private func coordinatorEpoch(of transactionalId: String) -> Int32? {
        ownedPartitions[partition(of: transactionalId)]
    }

    /// NOT_COORDINATOR, or COORDINATOR_LOAD_IN_PROGRESS while the id's partition is being read;
    /// nil when this coordinator serves the id.
    private func ownershipError(of transactionalId: String) -> KafkaError? {
        let partition = partition(of: transactionalId)
        if loadingPartitions.contains(partition) { return .coordinatorLoadInProgress }
        return ownedPartitions[partition] == nil ? .notCoordinator : nil
    }

    /// InitProducerId with a transactional id (the caller serves a null id itself). `expected` is
    /// the producer id and epoch a KIP-360 client (v3+) states, nil otherwise.
    public mutating func initProducerId(_ token: RequestToken, transactionalId: String, timeoutMs: Int32,
                                        expected: ProducerIdAndEpoch?, now: Int64) -> [TransactionCoordinatorEffect] {
        func refuse(_ error: KafkaError) -> [TransactionCoordinatorEffect] {
            [.answer(token, .producerId(error: error, producerId: ProducerIdentity.noProducerId,
                                        producerEpoch: ProducerIdentity.noEpoch))]
        }
        guard !transactionalId.isEmpty else { return refuse(.invalidRequest) }
        guard timeoutMs > 0, timeoutMs <= config.maxTransactionTimeoutMs else { return refuse(.invalidTransactionTimeout) }
        if let error = ownershipError(of: transactionalId) { return refuse(error) }
        guard pending[transactionalId] == nil else { return refuse(.concurrentTransactions) }

        guard let current = transactions[transactionalId] else {
            guard let producerId = takeProducerId() else { return refuse(.coordinatorLoadInProgress) + [.needProducerIds] }
            // Kafka starts a new id at epoch -1 and bumps it to 0.
            let fresh = TransactionMetadata(transactionalId: transactionalId, producerId: producerId,
                                            producerEpoch: ProducerIdentity.noEpoch, timeoutMs: timeoutMs,
                                            state: .empty, lastUpdateTimestamp: now)
            var target = fresh
            target.lastProducerId = producerId
            target.producerEpoch = 0
            return prepare(target, from: fresh, purpose: .initProducerId(token))
        }

        if let expected, !Self.isKnownProducer(expected, of: current) { return refuse(.producerFenced) }
        switch current.state {
        case .prepareCommit, .prepareAbort:
            return refuse(.concurrentTransactions)
        case .ongoing:
            guard current.producerEpoch < Int16.max else { return refuse(.unknownServerError) }
            var target = current
            target.producerEpoch += 1
            target.lastProducerEpoch = ProducerIdentity.noEpoch
            target.state = .prepareAbort
            target.lastUpdateTimestamp = now
            return prepareFence(target, from: current, purpose: .fenceForInit(token))
        case .empty, .completeCommit, .completeAbort:
            var target = current
            target.lastProducerId = current.producerId
            target.timeoutMs = timeoutMs
            target.state = .empty
            target.partitions = []
            target.startTimestamp = -1
            target.lastUpdateTimestamp = now
            if ProducerIdentity.isEpochExhausted(current.producerEpoch),
               expected == nil || expected?.epoch == current.producerEpoch {
                guard let producerId = takeProducerId() else { return refuse(.coordinatorLoadInProgress) + [.needProducerIds] }
                target.producerId = producerId
                target.producerEpoch = 0
                target.lastProducerEpoch = expected == nil ? ProducerIdentity.noEpoch : current.producerEpoch
            } else if let expected {
                if current.producerEpoch == ProducerIdentity.noEpoch || expected.epoch == current.producerEpoch {
                    // The producer recovers from an error and nobody else initialized since: bump.
                    target.producerEpoch = current.producerEpoch + 1
                    target.lastProducerEpoch = current.producerEpoch
                } else if expected.epoch == current.lastProducerEpoch {
                    // A retry of a bump whose answer was lost: answer the same epoch again.
                    target.lastProducerEpoch = current.lastProducerEpoch
                } else {
                    return refuse(.producerFenced)
                }
            } else {
                target.producerEpoch = current.producerEpoch + 1
                target.lastProducerEpoch = ProducerIdentity.noEpoch
            }
            return prepare(target, from: current, purpose: .initProducerId(token))
        case .dead, .prepareEpochFence:
            // Neither is ever the durable state of a loaded id.
            return refuse(.unknownServerError)
        }
    }

    /// KIP-360: a stated producer id is accepted when the id has no epoch yet, when it is the
    /// current one, or when it is the previous one at an exhausted epoch (a retried rotation).
    private static func isKnownProducer(_ expected: ProducerIdAndEpoch, of current: TransactionMetadata) -> Bool {
        current.producerEpoch == ProducerIdentity.noEpoch || expected.producerId == current.producerId
            || (expected.producerId == current.lastProducerId && ProducerIdentity.isEpochExhausted(expected.epoch))
    }

    /// AddPartitionsToTxn. `verifyOnly` (v4+, KIP-890 part 1, sent by partition leaders) only asks
    /// whether each partition is already in the ongoing transaction: NONE or INVALID_TXN_STATE
    /// (the handler answers TRANSACTION_ABORTABLE instead from v5).
    public mutating func addPartitions(_ token: RequestToken, transactionalId: String, producerId: Int64,
                                       producerEpoch: Int16, partitions: Set<TransactionPartition>,
                                       verifyOnly: Bool = false, now: Int64) -> [TransactionCoordinatorEffect] {
        func all(_ error: KafkaError) -> [TransactionCoordinatorEffect] {
            [.answer(token, .partitions(Dictionary(uniqueKeysWithValues: partitions.map { ($0, error) })))]
        }
        if let error = checkProducer(transactionalId, producerId, producerEpoch) { return all(error) }
        let current = transactions[transactionalId]!
        if verifyOnly {
            // Kafka does not look at a pending transition here: the partition leader re-checks at
            // append time.
            if current.state == .prepareCommit || current.state == .prepareAbort { return all(.concurrentTransactions) }
            let open = current.state == .ongoing
            return [.answer(token, .partitions(Dictionary(uniqueKeysWithValues: partitions.map {
                ($0, open && current.partitions.contains($0) ? KafkaError.none : .invalidTxnState)
            })))]
        }
        if let error = addBlocked(current, adding: partitions) {
            return all(error)
        }
        return prepare(adding: partitions, to: current, now: now,
                       purpose: .addPartitions(token, partitions.sorted(), offsets: false))
    }

    /// AddOffsetsToTxn: adds the `__consumer_offsets` partition of `groupId`.
    public mutating func addOffsets(_ token: RequestToken, transactionalId: String, producerId: Int64,
                                    producerEpoch: Int16, groupId: String, now: Int64) -> [TransactionCoordinatorEffect] {
        if let error = checkProducer(transactionalId, producerId, producerEpoch) { return [.answer(token, .error(error))] }
        let current = transactions[transactionalId]!
        let offsets: Set = [offsetsPartition(of: groupId)]
        if let error = addBlocked(current, adding: offsets) {
            return [.answer(token, .error(error))]
        }
        return prepare(adding: offsets, to: current, now: now, purpose: .addPartitions(token, [], offsets: true))
    }

    public func offsetsPartition(of groupId: String) -> TransactionPartition {
        TransactionPartition("__consumer_offsets", TransactionLog.partition(for: groupId, partitions: config.offsetsTopicPartitions))
    }

    /// The checks every request of a running producer passes first, in Kafka's order; nil when
    /// the id exists here with exactly this producer id and epoch.
    private func checkProducer(_ transactionalId: String, _ producerId: Int64, _ producerEpoch: Int16) -> KafkaError? {
        guard !transactionalId.isEmpty else { return .invalidRequest }
        if let error = ownershipError(of: transactionalId) { return error }
        guard let current = transactions[transactionalId], current.producerId == producerId else {
            return .invalidProducerIdMapping
        }
        guard current.producerEpoch == producerEpoch else { return .producerFenced }
        return nil
    }

    /// Why partitions cannot be added now (NONE when they already are in the transaction), or nil.
    private func addBlocked(_ current: TransactionMetadata, adding: Set<TransactionPartition>) -> KafkaError? {
        if pending[current.transactionalId] != nil { return .concurrentTransactions }
        switch current.state {
        case .prepareCommit, .prepareAbort: return .concurrentTransactions
        case .ongoing where adding.isSubset(of: current.partitions): return KafkaError.none
        case .dead, .prepareEpochFence: return .unknownServerError
        default: return nil
        }
    }

    private mutating func prepare(adding: Set<TransactionPartition>, to current: TransactionMetadata, now: Int64,
                                  purpose: Purpose) -> [TransactionCoordinatorEffect] {
        var target = current
        target.state = .ongoing
        target.partitions.formUnion(adding)
        if current.state != .ongoing { target.startTimestamp = now }
        target.lastUpdateTimestamp = max(now, current.lastUpdateTimestamp)
        return prepare(target, from: current, purpose: purpose)
    }

    /// EndTxn from the client.
    public mutating func endTxn(_ token: RequestToken, transactionalId: String, producerId: Int64, producerEpoch: Int16,
                                result: TransactionResult, now: Int64) -> [TransactionCoordinatorEffect] {
        func answer(_ error: KafkaError) -> [TransactionCoordinatorEffect] { [.answer(token, .error(error))] }
        if let error = checkProducer(transactionalId, producerId, producerEpoch) { return answer(error) }
        guard pending[transactionalId] == nil else { return answer(.concurrentTransactions) }
        let current = transactions[transactionalId]!
        switch (current.state, result) {
        case (.ongoing, _):
            var target = current
            target.state = result == .commit ? .prepareCommit : .prepareAbort
            target.lastUpdateTimestamp = max(now, current.lastUpdateTimestamp)
            return prepare(target, from: current, purpose: .endTxn(token))
        // A retry of an EndTxn that already completed succeeds; one still completing waits.
        case (.completeCommit, .commit), (.completeAbort, .abort): return answer(.none)
        case (.prepareCommit, .commit), (.prepareAbort, .abort): return answer(.concurrentTransactions)
        case (.dead, _), (.prepareEpochFence, _): return answer(.unknownServerError)
        default: return answer(.invalidTxnState)
        }
    }

    // MARK: Log and markers

    /// The outcome of an append: `.none` once durable, else the log's error.
    public mutating func appended(_ id: AppendID, error: KafkaError, now: Int64) -> [TransactionCoordinatorEffect] {
        guard let transactionalId = pendingIds.removeValue(forKey: id),
              let transition = pending.removeValue(forKey: transactionalId) else { return [] }
        guard error == .none else { return failed(transition, Self.coordinatorError(forAppend: error)) }
        let target = transition.target
        if target.state == .dead {
            transactions.removeValue(forKey: transactionalId)
            return []
        }
        if let current = transactions[transactionalId] {
            let violation = current.transitionViolation(to: target)
            precondition(violation == nil, "\(transactionalId): \(violation ?? "")")
        }
        transactions[transactionalId] = target
        switch transition.purpose {
        case .initProducerId(let token):
            return [.answer(token, .producerId(error: .none, producerId: target.producerId, producerEpoch: target.producerEpoch))]
        case .fenceForInit(let token):
            return [.answer(token, .producerId(error: .concurrentTransactions, producerId: ProducerIdentity.noProducerId,
                                               producerEpoch: ProducerIdentity.noEpoch))] + startMarkers(transactionalId, now: now)
        case .addPartitions(let token, let partitions, let offsets):
            return [.answer(token, offsets ? .error(.none)
                            : .partitions(Dictionary(uniqueKeysWithValues: partitions.map { ($0, KafkaError.none) })))]
        case .endTxn(let token):
            // Kafka answers once the Prepare record is durable; the markers follow.
            return [.answer(token, .error(.none))] + startMarkers(transactionalId, now: now)
        case .timeoutAbort:
            return startMarkers(transactionalId, now: now)
        case .complete:
            outstandingMarkers.removeValue(forKey: transactionalId)
            return []
        case .expire:
            return []
        }
    }

    private func failed(_ transition: PendingTransition, _ error: KafkaError) -> [TransactionCoordinatorEffect] {
        switch transition.purpose {
        case .initProducerId(let token), .fenceForInit(let token):
            return [.answer(token, .producerId(error: error, producerId: ProducerIdentity.noProducerId,
                                               producerEpoch: ProducerIdentity.noEpoch))]
        case .addPartitions(let token, let partitions, let offsets):
            return [.answer(token, offsets ? .error(error)
                            : .partitions(Dictionary(uniqueKeysWithValues: partitions.map { ($0, error) })))]
        case .endTxn(let token):
            return [.answer(token, .error(error))]
        // The sweep and the marker completion try again at the next tick.
        case .timeoutAbort, .complete, .expire:
            return []
        }
    }

    /// Kafka's mapping of a `__transaction_state` append error to what the client is told.
    static func coordinatorError(forAppend error: KafkaError) -> KafkaError {
        switch error {
        case .unknownTopicOrPartition, .notEnoughReplicas, .notEnoughReplicasAfterAppend, .requestTimedOut:
            return .coordinatorNotAvailable
        case .notLeaderOrFollower, .kafkaStorageError, .notCoordinator:
            return .notCoordinator
        case .coordinatorNotAvailable, .coordinatorLoadInProgress:
            return error
        default:
            return .unknownServerError
        }
    }

    private mutating func startMarkers(_ transactionalId: String, now: Int64) -> [TransactionCoordinatorEffect] {
        let metadata = transactions[transactionalId]!
        precondition(metadata.state == .prepareCommit || metadata.state == .prepareAbort,
                     "markers only after a durable Prepare record")
        abandonedMarkers.remove(transactionalId)
        outstandingMarkers[transactionalId] = Dictionary(uniqueKeysWithValues: metadata.partitions.map { ($0, nil) })
        guard !metadata.partitions.isEmpty else { return completeIfDone(transactionalId, now: now) }
        return [.sendMarkers(markers(for: metadata, partitions: metadata.partitions.sorted()))]
    }

    private func markers(for metadata: TransactionMetadata, partitions: [TransactionPartition]) -> TransactionMarkers {
        TransactionMarkers(transactionalId: metadata.transactionalId, producerId: metadata.producerId,
                           producerEpoch: metadata.producerEpoch,
                           result: metadata.state == .prepareCommit ? .commit : .abort,
                           coordinatorEpoch: coordinatorEpoch(of: metadata.transactionalId) ?? -1, partitions: partitions)
    }

    /// One partition's marker outcome. Markers of another producer or epoch (stale) are ignored.
    public mutating func markerWritten(transactionalId: String, producerId: Int64, producerEpoch: Int16,
                                       partition: TransactionPartition, outcome: MarkerOutcome,
                                       now: Int64) -> [TransactionCoordinatorEffect] {
        guard let metadata = transactions[transactionalId], metadata.producerId == producerId,
              metadata.producerEpoch == producerEpoch, outstandingMarkers[transactionalId]?[partition] != nil
        else { return [] }
        switch outcome {
        case .written, .partitionDeleted, .failed(.unsupportedForMessageFormat), .failed(.unsupportedVersion):
            outstandingMarkers[transactionalId]?.removeValue(forKey: partition)
            return completeIfDone(transactionalId, now: now)
        case .failed(.invalidProducerEpoch), .failed(.producerFenced), .failed(.transactionCoordinatorFenced):
            // A newer coordinator or epoch has taken over: it completes the transaction.
            outstandingMarkers.removeValue(forKey: transactionalId)
            abandonedMarkers.insert(transactionalId)
            return []
        case .failed:
            outstandingMarkers[transactionalId]?[partition] = .some(now + config.markerRetryBackoffMs)
            return []
        }
    }

    /// The partitions whose markers are not yet acknowledged (empty when none are outstanding).
    public func unacknowledgedMarkers(of transactionalId: String) -> Set<TransactionPartition> {
        Set(outstandingMarkers[transactionalId].map { Array($0.keys) } ?? [])
    }

    /// Writes CompleteCommit/CompleteAbort once every marker is acknowledged.
    private mutating func completeIfDone(_ transactionalId: String, now: Int64) -> [TransactionCoordinatorEffect] {
        guard let outstanding = outstandingMarkers[transactionalId], outstanding.isEmpty,
              pending[transactionalId] == nil, let current = transactions[transactionalId] else { return [] }
        var target = current
        target.state = current.state == .prepareCommit ? .completeCommit : .completeAbort
        target.partitions = []
        target.lastUpdateTimestamp = max(now, current.lastUpdateTimestamp)
        return prepare(target, from: current, purpose: .complete)
    }

    // MARK: Timers

    /// Re-sends markers due for a retry, retries Complete records, aborts transactions past
    /// their timeout (bumping the epoch, which fences their producer) and expires ids idle for
    /// `transactional.id.expiration.ms`.
    public mutating func tick(now: Int64) -> [TransactionCoordinatorEffect] {
        var effects: [TransactionCoordinatorEffect] = []
        for transactionalId in transactions.keys.sorted() {
            guard pending[transactionalId] == nil, let current = transactions[transactionalId] else { continue }
            if let outstanding = outstandingMarkers[transactionalId] {
                let due = outstanding.filter { if let at = $0.value { at <= now } else { false } }.keys.sorted()
                if !due.isEmpty {
                    for partition in due { outstandingMarkers[transactionalId]?[partition] = .some(nil) }
                    effects.append(.sendMarkers(markers(for: current, partitions: due)))
                }
                effects += completeIfDone(transactionalId, now: now)
            } else if current.state == .ongoing, current.startTimestamp + Int64(current.timeoutMs) < now {
                var target = current
                // At Short.MaxValue there is no epoch left to fence with; abort at the same one.
                if target.producerEpoch < Int16.max {
                    target.producerEpoch += 1
                    target.lastProducerEpoch = ProducerIdentity.noEpoch
                }
                target.state = .prepareAbort
                target.lastUpdateTimestamp = max(now, current.lastUpdateTimestamp)
                effects += prepareFence(target, from: current, purpose: .timeoutAbort)
            } else if current.state.isExpirationAllowed,
                      current.lastUpdateTimestamp <= now - config.transactionalIdExpirationMs {
                var target = current
                target.state = .dead
                target.partitions = []
                effects += prepare(target, from: current, purpose: .expire)
            }
        }
        return effects
    }

    // MARK: Transitions

    private mutating func prepare(_ target: TransactionMetadata, from current: TransactionMetadata,
                                  purpose: Purpose) -> [TransactionCoordinatorEffect] {
        let violation = current.transitionViolation(to: target)
        precondition(violation == nil, "\(target.transactionalId): \(violation ?? "")")
        precondition(pending[target.transactionalId] == nil, "one pending transition per transactional id")
        nextAppend += 1
        let id = AppendID(rawValue: nextAppend)
        pending[target.transactionalId] = PendingTransition(appendId: id, target: target, purpose: purpose)
        pendingIds[id] = target.transactionalId
        return [.append(TransactionLogAppend(id: id, partition: partition(of: target.transactionalId),
                                             key: TransactionLog.encodeKey(target.transactionalId),
                                             value: TransactionLog.encodeValue(target)))]
    }

    /// Aborting an ongoing transaction with a bumped epoch goes Ongoing → PrepareEpochFence →
    /// PrepareAbort, of which only the last is written.
    private mutating func prepareFence(_ target: TransactionMetadata, from current: TransactionMetadata,
                                       purpose: Purpose) -> [TransactionCoordinatorEffect] {
        var fencing = current
        fencing.state = .prepareEpochFence
        fencing.producerEpoch = target.producerEpoch
        if target.producerEpoch != current.producerEpoch {
            precondition(current.transitionViolation(to: fencing) == nil, "epoch fence")
        }
        precondition(TransactionState.prepareEpochFence.canTransition(to: .prepareAbort), "epoch fence")
        return prepare(target, from: current, purpose: purpose)
    }

    /// Whether an append for `transactionalId` is waiting to become durable.
    public func hasPendingTransition(_ transactionalId: String) -> Bool { pending[transactionalId] != nil }

    // MARK: Loading

    /// Leadership of `partition` arrived and its records are being read: its ids are answered
    /// COORDINATOR_LOAD_IN_PROGRESS (retriable) until `load` or `unload`.
    public mutating func beginLoading(partition: Int32) -> [TransactionCoordinatorEffect] {
        let effects = unload(partition: partition)
        loadingPartitions.insert(partition)
        return effects
    }

    /// Becoming the coordinator of `partition`: replays its records in log order (the latest
    /// value per id wins, a null value removes the id), then resumes the markers of every
    /// transaction found in PrepareCommit/PrepareAbort. On a record that does not decode, throws
    /// and changes nothing.
    public mutating func load(partition: Int32, coordinatorEpoch: Int32, records: [(key: [UInt8], value: [UInt8]?)],
                              now: Int64) throws(TransactionLog.DecodeFailure) -> [TransactionCoordinatorEffect] {
        var replayed: [String: TransactionMetadata] = [:]
        for record in records {
            let entry = try TransactionLog.decode(key: record.key, value: record.value)
            if let metadata = entry.metadata, metadata.state != .dead {
                replayed[entry.transactionalId] = metadata
            } else {
                replayed.removeValue(forKey: entry.transactionalId)
            }
        }
        var effects = unload(partition: partition)
        loadingPartitions.remove(partition)
        ownedPartitions[partition] = coordinatorEpoch
        for (transactionalId, metadata) in replayed {
            transactions[transactionalId] = metadata
        }
        for transactionalId in replayed.keys.sorted() {
            let state = replayed[transactionalId]!.state
            if state == .prepareCommit || state == .prepareAbort {
                effects += startMarkers(transactionalId, now: now)
            }
        }
        return effects
    }

    /// Losing leadership of `partition`: forgets its ids; requests waiting on an append there are
    /// answered NOT_COORDINATOR (their appends' outcomes will be ignored).
    public mutating func unload(partition: Int32) -> [TransactionCoordinatorEffect] {
        ownedPartitions.removeValue(forKey: partition)
        loadingPartitions.remove(partition)
        var effects: [TransactionCoordinatorEffect] = []
        for transactionalId in Set(transactions.keys).union(pending.keys).sorted()
        where self.partition(of: transactionalId) == partition {
            transactions.removeValue(forKey: transactionalId)
            outstandingMarkers.removeValue(forKey: transactionalId)
            abandonedMarkers.remove(transactionalId)
            if let transition = pending.removeValue(forKey: transactionalId) {
                pendingIds.removeValue(forKey: transition.appendId)
                effects += failed(transition, .notCoordinator)
            }
        }
        return effects
    }

    // MARK: Admin

    /// DescribeTransactions (KIP-664).
    public func describe(_ transactionalIds: [String]) -> [TransactionDescription] {
        transactionalIds.map { transactionalId in
            var description = TransactionDescription(transactionalId: transactionalId, error: .none, state: "",
                                                     timeoutMs: 0, startTimestamp: -1,
                                                     producerId: ProducerIdentity.noProducerId,
                                                     producerEpoch: ProducerIdentity.noEpoch, partitions: [])
            if let error = ownershipError(of: transactionalId) {
                description.error = error
                return description
            }
            guard let metadata = transactions[transactionalId] else {
                description.error = .transactionalIdNotFound
                return description
            }
            description.state = metadata.state.name
            description.timeoutMs = metadata.timeoutMs
            description.startTimestamp = metadata.startTimestamp
            description.producerId = metadata.producerId
            description.producerEpoch = metadata.producerEpoch
            description.partitions = metadata.partitions.sorted()
            return description
        }
    }

    /// ListTransactions (KIP-664 state and producer id filters, KIP-994 duration filter: only
    /// transactions started more than `durationFilterMs` ago; -1 for none). Unknown state names
    /// are returned, not an error.
    public func list(stateFilters: [String], producerIdFilters: [Int64], durationFilterMs: Int64 = -1,
                     now: Int64) -> (error: KafkaError, unknownStateFilters: [String], transactions: [TransactionListing]) {
        // Kafka answers the whole list as loading while any owned partition is.
        guard loadingPartitions.isEmpty else { return (.coordinatorLoadInProgress, [], []) }
        let unknown = stateFilters.filter { TransactionState(name: $0) == nil }
        let states = Set(stateFilters.compactMap(TransactionState.init(name:)))
        let producerIds = Set(producerIdFilters)
        let listed = transactions.values.filter { metadata in
            (stateFilters.isEmpty || states.contains(metadata.state))
                && (producerIds.isEmpty || producerIds.contains(metadata.producerId))
                && (durationFilterMs < 0 || (metadata.startTimestamp >= 0 && now - metadata.startTimestamp > durationFilterMs))
        }
        .sorted { $0.transactionalId < $1.transactionalId }
        .map { TransactionListing(transactionalId: $0.transactionalId, producerId: $0.producerId, state: $0.state.name) }
        return (.none, unknown, listed)
    }

    // MARK: Invariants

    /// The invariants of the coordinator's state, as readable violations (empty when it holds).
    public func invariantViolations() -> [String] {
        var violations: [String] = []
        for (transactionalId, metadata) in transactions {
            if ownedPartitions[partition(of: transactionalId)] == nil { violations.append("\(transactionalId) not owned") }
            if metadata.state == .dead || metadata.state == .prepareEpochFence {
                violations.append("\(transactionalId) rests in \(metadata.state)")
            }
            if metadata.producerEpoch < 0 { violations.append("\(transactionalId) has no epoch") }
            if (metadata.state == .empty || metadata.state == .completeCommit || metadata.state == .completeAbort)
                && !metadata.partitions.isEmpty {
                violations.append("\(transactionalId) has partitions outside a transaction")
            }
            if let outstanding = outstandingMarkers[transactionalId] {
                if metadata.state != .prepareCommit && metadata.state != .prepareAbort {
                    violations.append("\(transactionalId) has markers outside Prepare")
                }
                if !Set(outstanding.keys).isSubset(of: metadata.partitions) {
                    violations.append("\(transactionalId) has markers for partitions outside its transaction")
                }
            }
        }
        for (transactionalId, transition) in pending where pendingIds[transition.appendId] != transactionalId {
            violations.append("\(transactionalId) pending append lost")
        }
        return violations
    }
}
