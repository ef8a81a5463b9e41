// Goal: the coordinator answers InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn and EndTxn as
// Kafka does, only after the record is durable; fences zombies; aborts timed-out transactions;
// expires idle ids; and rebuilds the same state from its log after a crash. Method: the harness
// stands in for the broker and its log; durability and marker acknowledgements are stepped by
// hand.
import Testing
import KafkaProtocol
@testable import TransactionCoordinator

@Suite struct TransitionTableTests {
    /// Kafka's table of legal transitions, written out pair by pair.
    static let legal: Set<String> = [
        "Empty>Empty", "CompleteCommit>Empty", "CompleteAbort>Empty",
        "Ongoing>Ongoing", "Empty>Ongoing", "CompleteCommit>Ongoing", "CompleteAbort>Ongoing",
        "Ongoing>PrepareCommit",
        "Ongoing>PrepareAbort", "PrepareEpochFence>PrepareAbort",
        "PrepareCommit>CompleteCommit", "PrepareAbort>CompleteAbort",
        "Empty>Dead", "CompleteCommit>Dead", "CompleteAbort>Dead",
        "Ongoing>PrepareEpochFence",
    ]

    @Test func everyPairIsLegalOrIllegalAsInKafka() {
        for from in TransactionState.allCases {
            for to in TransactionState.allCases {
                #expect(from.canTransition(to: to) == Self.legal.contains("\(from.name)>\(to.name)"), "\(from) → \(to)")
            }
        }
    }

    @Test func statusBytesAndNames() {
        #expect(TransactionState.allCases.map(\.rawValue) == [0, 1, 2, 3, 4, 5, 6, 7])
        for state in TransactionState.allCases { #expect(TransactionState(name: state.name) == state) }
        #expect(TransactionState(name: "ongoing") == nil)
    }

    @Test func metadataChecksBeyondTheTable() {
        let ongoing = TransactionMetadata(transactionalId: "t", producerId: 5, producerEpoch: 3, timeoutMs: 100,
                                          state: .ongoing, partitions: [TransactionPartition("a", 0)],
                                          startTimestamp: 10, lastUpdateTimestamp: 10)
        var next = ongoing
        next.partitions = []
        #expect(ongoing.transitionViolation(to: next) == "Ongoing drops partitions")
        next = ongoing
        next.producerEpoch = 2
        next.state = .prepareCommit
        #expect(ongoing.transitionViolation(to: next) == "Prepare changes the producer")
        next = ongoing
        next.state = .prepareAbort
        next.producerEpoch = 4
        #expect(ongoing.transitionViolation(to: next) == nil)  // the fenced abort
        next.producerEpoch = 5
        #expect(ongoing.transitionViolation(to: next) == "Prepare changes the producer")
        next = ongoing
        next.lastUpdateTimestamp = 9
        #expect(ongoing.transitionViolation(to: next) == "update timestamp goes back")
        next = ongoing
        next.state = .completeCommit
        #expect(ongoing.transitionViolation(to: next) == "Ongoing cannot go to CompleteCommit")
        // Epochs never go back: an Empty at a lower epoch (same producer id) is refused, a new
        // producer id must start at 0.
        let complete = TransactionMetadata(transactionalId: "t", producerId: 5, producerEpoch: 3, timeoutMs: 100,
                                           state: .completeAbort, startTimestamp: 10, lastUpdateTimestamp: 10)
        next = complete
        next.state = .empty
        next.startTimestamp = -1
        next.producerEpoch = 2
        #expect(complete.transitionViolation(to: next) == "epoch neither kept nor bumped")
        next.producerId = 6
        #expect(complete.transitionViolation(to: next) == "epoch neither kept nor bumped")
        next.producerEpoch = 0
        #expect(complete.transitionViolation(to: next) == nil)
    }
}

@Suite struct CoordinatorTests {
    static let orders0 = TransactionPartition("orders", 0)
    static let orders1 = TransactionPartition("orders", 1)

    @Test func commitRunsPrepareMarkersComplete() throws {
        let h = CoordinatorHarness()
        let producer = try h.initialized("app")
        #expect(producer == ProducerIdAndEpoch(producerId: 1000, epoch: 0))
        let add = h.addPartitions("app", producer, [Self.orders0, Self.orders1])
        #expect(h.answers[add] == nil)  // not before the record is durable
        h.makeDurable()
        #expect(h.error(add) == KafkaError.none)
        #expect(h.core.transactions["app"]?.state == .ongoing)
        #expect(h.core.transactions["app"]?.startTimestamp == h.now)

        h.now += 5
        let end = h.endTxn("app", producer, .commit)
        #expect(h.answers[end] == nil && h.inFlightMarkers.isEmpty)
        h.makeDurable()
        #expect(h.error(end) == KafkaError.none)
        #expect(h.core.transactions["app"]?.state == .prepareCommit)
        let markers = try #require(h.inFlightMarkers.first)
        #expect(markers == TransactionMarkers(transactionalId: "app", producerId: 1000, producerEpoch: 0, result: .commit,
                                              coordinatorEpoch: 1, partitions: [Self.orders0, Self.orders1]))
        // While markers are outstanding the transaction is still completing.
        #expect(h.error(h.endTxn("app", producer, .commit)) == .concurrentTransactions)
        #expect(h.error(h.addPartitions("app", producer, [Self.orders0])) == .concurrentTransactions)
        #expect(h.error(h.initProducerId("app")) == .concurrentTransactions)
        h.acknowledgeMarkers()
        #expect(h.pendingAppends.count == 1)
        h.makeDurable()
        #expect(h.core.transactions["app"]?.state == .completeCommit)
        #expect(h.core.transactions["app"]?.partitions == [])
        // A retried EndTxn of the finished commit succeeds; the opposite result does not.
        #expect(h.error(h.endTxn("app", producer, .commit)) == KafkaError.none)
        #expect(h.error(h.endTxn("app", producer, .abort)) == .invalidTxnState)
        #expect(h.violations.isEmpty)
        #expect(h.core.invariantViolations().isEmpty)
    }

    @Test func endTxnErrors() throws {
        let h = CoordinatorHarness()
        let producer = try h.initialized("app")
        #expect(h.error(h.endTxn("app", producer, .commit)) == .invalidTxnState)  // Empty
        #expect(h.error(h.endTxn("other", producer, .commit)) == .invalidProducerIdMapping)
        #expect(h.error(h.endTxn("", producer, .commit)) == .invalidRequest)
        #expect(h.error(h.endTxn("app", ProducerIdAndEpoch(producerId: 9, epoch: 0), .commit)) == .invalidProducerIdMapping)
        #expect(h.error(h.endTxn("app", ProducerIdAndEpoch(producerId: 1000, epoch: 1), .commit)) == .producerFenced)
        h.addPartitions("app", producer, [Self.orders0])
        // A second request while the first append is pending.
        #expect(h.error(h.endTxn("app", producer, .commit)) == .concurrentTransactions)
        h.makeDurable()
        h.endTxn("app", producer, .abort)
        h.makeDurable()
        #expect(h.error(h.endTxn("app", producer, .commit)) == .invalidTxnState)  // PrepareAbort, other result
        #expect(h.error(h.endTxn("app", producer, .abort)) == .concurrentTransactions)
        h.settle()
        #expect(h.core.transactions["app"]?.state == .completeAbort)
        #expect(h.error(h.endTxn("app", producer, .abort)) == KafkaError.none)
    }

    @Test func initProducerIdChecks() throws {
        var config = TransactionCoordinatorConfig()
        config.maxTransactionTimeoutMs = 60_000
        let h = CoordinatorHarness(config: config)
        #expect(h.error(h.initProducerId("app", timeoutMs: 60_001)) == .invalidTransactionTimeout)
        #expect(h.error(h.initProducerId("app", timeoutMs: 0)) == .invalidTransactionTimeout)
        #expect(h.error(h.initProducerId("")) == .invalidRequest)
        #expect(h.pendingAppends.isEmpty)
        // Without producer ids the client is told to retry and the broker to supply a block.
        let dry = CoordinatorHarness(producerIds: 0..<0)
        #expect(dry.error(dry.initProducerId("app")) == .coordinatorLoadInProgress)
        #expect(dry.producerIdRequests == 1)
        // A failed append answers Kafka's mapping and changes nothing.
        h.initProducerId("app")
        h.failFirstAppend(.notLeaderOrFollower)
        #expect(h.answers.values.contains(.producerId(error: .notCoordinator, producerId: -1, producerEpoch: -1)))
        #expect(h.core.transactions["app"] == nil)
        let t = h.initProducerId("app")
        h.failFirstAppend(.requestTimedOut)
        #expect(h.error(t) == .coordinatorNotAvailable)
        // Re-initializing bumps the epoch and keeps the producer id.
        let first = try h.initialized("app")
        let second = try h.initialized("app")
        #expect(second.producerId == first.producerId && second.epoch == first.epoch + 1)
    }

    @Test func zombieIsFencedAndItsTransactionAborted() throws {
        let h = CoordinatorHarness()
        let zombie = try h.initialized("app")
        h.addPartitions("app", zombie, [Self.orders0])
        h.makeDurable()
        // A new instance with the same transactional id: the ongoing transaction is aborted with
        // a bumped epoch and the newcomer told to retry.
        let retry = h.initProducerId("app")
        h.makeDurable()
        #expect(h.error(retry) == .concurrentTransactions)
        let fenced = try #require(h.core.transactions["app"])
        #expect(fenced.state == .prepareAbort && fenced.producerEpoch == 1)
        #expect(h.inFlightMarkers == [TransactionMarkers(transactionalId: "app", producerId: 1000, producerEpoch: 1,
                                                         result: .abort, coordinatorEpoch: 1, partitions: [Self.orders0])])
        // The zombie is refused from now on.
        #expect(h.error(h.addPartitions("app", zombie, [Self.orders1])) == .producerFenced)
        #expect(h.error(h.endTxn("app", zombie, .commit)) == .producerFenced)
        h.settle()
        #expect(h.core.transactions["app"]?.state == .completeAbort)
        let newcomer = try h.initialized("app")
        #expect(newcomer == ProducerIdAndEpoch(producerId: 1000, epoch: 2))
        #expect(h.error(h.addPartitions("app", zombie, [Self.orders1])) == .producerFenced)
        #expect(h.error(h.initProducerId("app", expected: zombie)) == .producerFenced)
        #expect(h.violations.isEmpty)
    }

    @Test func kip360BumpRetryAndFence() throws {
        let h = CoordinatorHarness()
        let producer = try h.initialized("app")
        let bumped = try h.initialized("app", expected: producer)
        #expect(bumped == ProducerIdAndEpoch(producerId: 1000, epoch: 1))
        #expect(h.core.transactions["app"]?.lastProducerEpoch == 0)
        // The answer was lost and the producer retries with its old epoch: same epoch again.
        let again = try h.initialized("app", expected: producer)
        #expect(again == bumped)
        // An epoch that is neither current nor previous is a zombie.
        #expect(h.error(h.initProducerId("app", expected: ProducerIdAndEpoch(producerId: 1000, epoch: 7))) == .producerFenced)
        #expect(h.error(h.initProducerId("app", expected: ProducerIdAndEpoch(producerId: 55, epoch: 1))) == .producerFenced)
        // A plain InitProducerId (another instance) forgets the previous epoch, so the old
        // producer's retry is then fenced.
        _ = try h.initialized("app")
        #expect(h.error(h.initProducerId("app", expected: producer)) == .producerFenced)
    }

    @Test func exhaustedEpochRotatesTheProducerId() throws {
        let h = CoordinatorHarness()
        let old = TransactionMetadata(transactionalId: "app", producerId: 77, producerEpoch: Int16.max - 1, timeoutMs: 60_000,
                                      state: .completeCommit, startTimestamp: 5, lastUpdateTimestamp: 6)
        let partition = h.core.partition(of: "app")
        h.log[partition] = [(TransactionLog.encodeKey("app"), TransactionLog.encodeValue(old))]
        h.load(partition: partition, epoch: 2)
        let expected = ProducerIdAndEpoch(producerId: 77, epoch: Int16.max - 1)
        let rotated = try h.initialized("app", expected: expected)
        #expect(rotated == ProducerIdAndEpoch(producerId: 1000, epoch: 0))
        #expect(h.core.transactions["app"]?.lastProducerId == 77)
        #expect(h.core.transactions["app"]?.lastProducerEpoch == Int16.max - 1)
        // The rotation's answer was lost: the retry with the old id gets the same new one.
        let retried = try h.initialized("app", expected: expected)
        #expect(retried == rotated)
    }

    @Test func addPartitionsVerifyOnlyAndOffsets() throws {
        let h = CoordinatorHarness()
        let producer = try h.initialized("app")
        let verifyEmpty = h.addPartitions("app", producer, [Self.orders0], verifyOnly: true)
        #expect(h.answers[verifyEmpty] == .partitions([Self.orders0: .invalidTxnState]))
        h.addPartitions("app", producer, [Self.orders0])
        h.makeDurable()
        let verify = h.addPartitions("app", producer, [Self.orders0, Self.orders1], verifyOnly: true)
        #expect(h.answers[verify] == .partitions([Self.orders0: .none, Self.orders1: .invalidTxnState]))
        #expect(h.pendingAppends.isEmpty)
        // Adding a partition already in the transaction needs no record.
        #expect(h.error(h.addPartitions("app", producer, [Self.orders0])) == KafkaError.none)
        #expect(h.pendingAppends.isEmpty)
        #expect(h.error(h.addPartitions("app", ProducerIdAndEpoch(producerId: 1000, epoch: 3), [Self.orders0], verifyOnly: true))
                == .producerFenced)
        let offsets = h.addOffsets("app", producer, group: "hello")
        h.makeDurable()
        #expect(h.answers[offsets] == .error(.none))
        #expect(h.core.transactions["app"]?.partitions.contains(TransactionPartition("__consumer_offsets", 22)) == true)
        h.endTxn("app", producer, .commit)
        h.makeDurable()
        #expect(h.error(h.addOffsets("app", producer, group: "hello")) == .concurrentTransactions)
        let verifyPrepared = h.addPartitions("app", producer, [Self.orders0], verifyOnly: true)
        #expect(h.error(verifyPrepared) == .concurrentTransactions)
    }

    @Test func timedOutTransactionIsAbortedWithABumpedEpoch() throws {
        let h = CoordinatorHarness()
        let producer = try h.initialized("app", expected: nil)
        h.initProducerId("slow", timeoutMs: 10_000)
        h.makeDurable()
        h.addPartitions("app", producer, [Self.orders0])
        h.makeDurable()
        h.tick(advance: 60_000)
        #expect(h.pendingAppends.isEmpty)  // exactly at the timeout: not yet
        h.tick(advance: 1)
        #expect(h.pendingAppends.count == 1)
        h.makeDurable()
        let aborted = try #require(h.core.transactions["app"])
        #expect(aborted.state == .prepareAbort && aborted.producerEpoch == 1)
        #expect(h.inFlightMarkers.first?.result == .abort && h.inFlightMarkers.first?.producerEpoch == 1)
        h.settle()
        #expect(h.core.transactions["app"]?.state == .completeAbort)
        #expect(h.error(h.endTxn("app", producer, .commit)) == .producerFenced)
        #expect(h.core.transactions["slow"]?.state == .empty)  // no transaction, nothing to abort
        #expect(h.violations.isEmpty)
    }

    @Test func idleIdsExpireWithATombstone() throws {
        var config = TransactionCoordinatorConfig()
        config.transactionalIdExpirationMs = 1000
        let h = CoordinatorHarness(config: config)
        let producer = try h.initialized("idle")
        let busy = try h.initialized("busy")
        h.addPartitions("busy", busy, [Self.orders0])
        h.makeDurable()
        h.tick(advance: 999)
        #expect(h.pendingAppends.isEmpty)
        h.tick(advance: 1)
        #expect(h.pendingAppends.map(\.value) == [nil])  // only the idle one; an open transaction never expires
        // While the tombstone is pending the id takes no transition.
        #expect(h.error(h.initProducerId("idle")) == .concurrentTransactions)
        h.makeDurable()
        #expect(h.core.transactions["idle"] == nil)
        #expect(h.core.describe(["idle"]).first?.error == .transactionalIdNotFound)
        #expect(h.error(h.endTxn("idle", producer, .commit)) == .invalidProducerIdMapping)
        h.crashAndReload(producerIds: 5000..<6000)
        #expect(h.core.transactions["idle"] == nil)
        // The id comes back with a new producer id.
        #expect(try h.initialized("idle").producerId == 5000)
    }

    @Test func markersRetryAfterRetriableErrorsAndStopWhenFenced() throws {
        var config = TransactionCoordinatorConfig()
        config.markerRetryBackoffMs = 50
        let h = CoordinatorHarness(config: config)
        let producer = try h.prepared("app", [Self.orders0, Self.orders1], .commit)
        let batch = try #require(h.inFlightMarkers.first)
        h.inFlightMarkers.removeAll()
        h.handle(h.core.markerWritten(transactionalId: "app", producerId: 1000, producerEpoch: 0, partition: Self.orders0,
                                      outcome: .failed(.notLeaderOrFollower), now: h.now))
        h.acknowledged["app", default: []].insert(Self.orders1)
        h.handle(h.core.markerWritten(transactionalId: "app", producerId: 1000, producerEpoch: 0, partition: Self.orders1,
                                      outcome: .written, now: h.now))
        #expect(h.core.unacknowledgedMarkers(of: "app") == [Self.orders0])
        // Stale acknowledgements (another epoch) are ignored.
        h.handle(h.core.markerWritten(transactionalId: "app", producerId: 1000, producerEpoch: 7, partition: Self.orders0,
                                      outcome: .written, now: h.now))
        #expect(h.core.unacknowledgedMarkers(of: "app") == [Self.orders0])
        h.tick(advance: 49)
        #expect(h.inFlightMarkers.isEmpty)
        h.tick(advance: 1)
        #expect(h.inFlightMarkers.map(\.partitions) == [[Self.orders0]])
        #expect(h.inFlightMarkers.first?.result == batch.result)
        h.acknowledgeMarkers(.partitionDeleted)
        h.makeDurable()
        #expect(h.core.transactions["app"]?.state == .completeCommit)

        // Fenced markers: the coordinator stops and leaves the transaction to its successor.
        h.addPartitions("app", producer, [Self.orders0])
        h.makeDurable()
        h.endTxn("app", producer, .abort)
        h.makeDurable()
        h.acknowledgeMarkers(.failed(.transactionCoordinatorFenced))
        h.tick(advance: 1000)
        #expect(h.inFlightMarkers.isEmpty && h.pendingAppends.isEmpty)
        #expect(h.core.transactions["app"]?.state == .prepareAbort)
        #expect(h.violations.isEmpty)
    }

    @Test func completeRecordIsRetriedAfterAFailedAppend() throws {
        let h = CoordinatorHarness()
        _ = try h.prepared("app", [Self.orders0], .commit)
        h.acknowledgeMarkers()
        h.failFirstAppend(.notEnoughReplicas)
        #expect(h.core.transactions["app"]?.state == .prepareCommit)
        h.tick(advance: 1)
        h.makeDurable()
        #expect(h.core.transactions["app"]?.state == .completeCommit)
        #expect(h.violations.isEmpty)
    }

    @Test func crashDuringPrepareCommitResumesTheMarkers() throws {
        let h = CoordinatorHarness()
        _ = try h.prepared("app", [Self.orders0, Self.orders1], .commit)
        // One marker lands, then the broker dies before the other and before CompleteCommit.
        let first = try #require(h.inFlightMarkers.first)
        h.inFlightMarkers.removeAll()
        h.handle(h.core.markerWritten(transactionalId: "app", producerId: first.producerId, producerEpoch: first.producerEpoch,
                                      partition: Self.orders0, outcome: .written, now: h.now))
        h.crashAndReload(producerIds: 3000..<4000)
        #expect(h.core.transactions["app"]?.state == .prepareCommit)
        // The new coordinator sends every marker again (markers are idempotent on the partition)
        // under its own coordinator epoch, then completes.
        #expect(h.inFlightMarkers == [TransactionMarkers(transactionalId: "app", producerId: 1000, producerEpoch: 0,
                                                         result: .commit, coordinatorEpoch: 2,
                                                         partitions: [Self.orders0, Self.orders1])])
        h.settle()
        #expect(h.core.transactions["app"]?.state == .completeCommit)
        #expect(h.violations.isEmpty)
    }

    @Test func crashBeforePrepareIsDurableLeavesTheTransactionOngoing() throws {
        let h = CoordinatorHarness()
        let producer = try h.initialized("app")
        h.addPartitions("app", producer, [Self.orders0])
        h.makeDurable()
        let end = h.endTxn("app", producer, .commit)
        h.crashAndReload(producerIds: 3000..<4000)
        #expect(h.answers[end] == nil)  // never answered: the client retries
        #expect(h.core.transactions["app"]?.state == .ongoing)
        #expect(h.sentMarkers.isEmpty)
        h.endTxn("app", producer, .commit)
        h.settle()
        #expect(h.core.transactions["app"]?.state == .completeCommit)
    }

    @Test func replayEqualsTheLiveState() throws {
        let h = CoordinatorHarness()
        let a = try h.initialized("a")
        let b = try h.initialized("b")
        _ = try h.initialized("c")
        h.addPartitions("a", a, [Self.orders0])
        h.addPartitions("b", b, [Self.orders1])
        h.makeDurable()
        h.now += 10
        h.addOffsets("a", a, group: "g")
        h.endTxn("b", b, .abort)
        h.makeDurable()
        h.now += 10
        h.acknowledgeMarkers()
        h.makeDurable()
        _ = try h.initialized("b", expected: b)
        h.addPartitions("b", ProducerIdAndEpoch(producerId: b.producerId, epoch: b.epoch + 1), [Self.orders0])
        h.makeDurable()
        h.endTxn("a", a, .commit)
        h.makeDurable()  // a stays in PrepareCommit with its markers in flight
        let live = h.liveState()
        #expect(Set(live.values.map(\.state)) == [.prepareCommit, .ongoing, .empty])
        var replica = TransactionCoordinatorCore()
        for (partition, records) in h.log {
            _ = try replica.load(partition: partition, coordinatorEpoch: 1, records: records, now: h.now)
        }
        #expect(replica.transactions == live)
    }

    @Test func leadershipMovesAndRequestsElsewhereAreRedirected() throws {
        let h = CoordinatorHarness()
        let producer = try h.initialized("app")
        let partition = h.core.partition(of: "app")
        let add = h.addPartitions("app", producer, [Self.orders0])
        h.handle(h.core.unload(partition: partition))
        #expect(h.error(add) == .notCoordinator)
        h.makeDurable()  // the outcome of an append of a partition no longer led is ignored
        #expect(h.core.transactions["app"] == nil)
        #expect(h.error(h.initProducerId("app")) == .notCoordinator)
        #expect(h.core.describe(["app"]).first?.error == .notCoordinator)
        // The log did get the record; the next leader sees it.
        h.load(partition: partition, epoch: 5)
        #expect(h.core.transactions["app"]?.state == .ongoing)
        #expect(h.core.invariantViolations().isEmpty)
    }

    @Test func idsOfAPartitionBeingLoadedAreAskedToRetry() throws {
        let h = CoordinatorHarness()
        let producer = try h.initialized("app")
        let partition = h.core.partition(of: "app")
        h.handle(h.core.beginLoading(partition: partition))
        #expect(h.error(h.initProducerId("app")) == .coordinatorLoadInProgress)
        #expect(h.error(h.endTxn("app", producer, .commit)) == .coordinatorLoadInProgress)
        #expect(h.core.describe(["app"]).first?.error == .coordinatorLoadInProgress)
        #expect(h.core.list(stateFilters: [], producerIdFilters: [], now: h.now).error == .coordinatorLoadInProgress)
        h.load(partition: partition, epoch: 2)
        #expect(h.core.list(stateFilters: [], producerIdFilters: [], now: h.now).error == KafkaError.none)
        #expect(h.error(h.endTxn("app", producer, .commit)) == .invalidTxnState)
    }

    @Test func loadOfACorruptPartitionChangesNothing() throws {
        let h = CoordinatorHarness()
        _ = try h.initialized("app")
        let partition = h.core.partition(of: "app")
        let before = h.core.transactions
        #expect(throws: TransactionLog.DecodeFailure.self) {
            _ = try h.core.load(partition: partition, coordinatorEpoch: 9,
                                records: [(TransactionLog.encodeKey("x"), [0, 1, 2])], now: h.now)
        }
        #expect(h.core.transactions == before)
        #expect(h.core.ownedPartitions[partition] == 1)
    }

    @Test func describeAndListWithFilters() throws {
        let h = CoordinatorHarness()
        let a = try h.initialized("a")
        _ = try h.initialized("b")
        h.addPartitions("a", a, [Self.orders1, Self.orders0])
        h.makeDurable()
        let start = h.now
        h.now += 5000
        let description = try #require(h.core.describe(["a", "zz"]).first)
        #expect(description == TransactionDescription(transactionalId: "a", error: .none, state: "Ongoing", timeoutMs: 60_000,
                                                      startTimestamp: start, producerId: 1000, producerEpoch: 0,
                                                      partitions: [Self.orders0, Self.orders1]))
        #expect(h.core.describe(["zz"]).first?.error == .transactionalIdNotFound)
        let all = h.core.list(stateFilters: [], producerIdFilters: [], now: h.now)
        #expect(all.transactions.map(\.transactionalId) == ["a", "b"] && all.unknownStateFilters.isEmpty)
        let ongoing = h.core.list(stateFilters: ["Ongoing", "Bogus"], producerIdFilters: [], now: h.now)
        #expect(ongoing.transactions == [TransactionListing(transactionalId: "a", producerId: 1000, state: "Ongoing")])
        #expect(ongoing.unknownStateFilters == ["Bogus"])
        #expect(h.core.list(stateFilters: [], producerIdFilters: [1001], now: h.now).transactions.map(\.transactionalId) == ["b"])
        #expect(h.core.list(stateFilters: [], producerIdFilters: [], durationFilterMs: 4999, now: h.now)
            .transactions.map(\.transactionalId) == ["a"])
        #expect(h.core.list(stateFilters: [], producerIdFilters: [], durationFilterMs: 5000, now: h.now).transactions.isEmpty)
    }
}
