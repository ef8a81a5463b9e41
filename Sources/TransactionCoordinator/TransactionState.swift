import KafkaProtocol

/// The state of one transactional id (KIP-98). Raw values are the `TransactionStatus` byte of
/// Kafka's `__transaction_state` value; `name` is what DescribeTransactions/ListTransactions show.
public enum TransactionState: Int8, CaseIterable, Sendable, CustomStringConvertible {
    case empty = 0
    case ongoing = 1
    case prepareCommit = 2
    case prepareAbort = 3
    case completeCommit = 4
    case completeAbort = 5
    case dead = 6
    /// Transient: an InitProducerId (or the timeout sweep) is bumping the epoch of an ongoing
    /// transaction before aborting it. Never written to the log: the abort is written as
    /// PrepareAbort with the bumped epoch.
    case prepareEpochFence = 7

    public var name: String {
        switch self {
        case .empty: "Empty"
        case .ongoing: "Ongoing"
        case .prepareCommit: "PrepareCommit"
        case .prepareAbort: "PrepareAbort"
        case .completeCommit: "CompleteCommit"
        case .completeAbort: "CompleteAbort"
        case .dead: "Dead"
        case .prepareEpochFence: "PrepareEpochFence"
        }
    }

    public var description: String { name }

    public init?(name: String) {
        guard let state = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = state
    }

    /// The states a transactional id may be in just before entering this one (Kafka's table).
    public var validPreviousStates: Set<TransactionState> {
        switch self {
        case .empty: [.empty, .completeCommit, .completeAbort]
        case .ongoing: [.ongoing, .empty, .completeCommit, .completeAbort]
        case .prepareCommit: [.ongoing]
        case .prepareAbort: [.ongoing, .prepareEpochFence]
        case .completeCommit: [.prepareCommit]
        case .completeAbort: [.prepareAbort]
        case .dead: [.empty, .completeCommit, .completeAbort]
        case .prepareEpochFence: [.ongoing]
        }
    }

    public func canTransition(to next: TransactionState) -> Bool {
        next.validPreviousStates.contains(self)
    }

    /// Only ids with no transaction in flight may expire (`transactional.id.expiration.ms`).
    public var isExpirationAllowed: Bool {
        switch self {
        case .empty, .completeCommit, .completeAbort: true
        default: false
        }
    }

    /// A transaction has been started and not yet completed.
    public var hasOpenTransaction: Bool {
        switch self {
        case .ongoing, .prepareCommit, .prepareAbort, .prepareEpochFence: true
        default: false
        }
    }
}

/// A partition of a user topic (or of `__consumer_offsets`) taking part in a transaction.
public struct TransactionPartition: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32

    public init(_ topic: String, _ partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public static func < (a: Self, b: Self) -> Bool {
        (a.topic, a.partition) < (b.topic, b.partition)
    }

    public var description: String { "\(topic)-\(partition)" }
}

/// "No producer id" / "no epoch" as Kafka writes them (RecordBatch.NO_PRODUCER_ID/EPOCH).
public enum ProducerIdentity {
    public static let noProducerId: Int64 = -1
    public static let noEpoch: Int16 = -1

    /// Kafka keeps Short.MaxValue out of clients' reach so the coordinator can always fence once
    /// more; at MaxValue - 1 the id is rotated instead of bumped.
    public static func isEpochExhausted(_ epoch: Int16) -> Bool { epoch >= Int16.max - 1 }
}

/// A producer id and epoch as a client states them (InitProducerId v3+, KIP-360).
public struct ProducerIdAndEpoch: Hashable, Sendable {
    public var producerId: Int64
    public var epoch: Int16
    public init(producerId: Int64, epoch: Int16) {
        self.producerId = producerId
        self.epoch = epoch
    }
}

/// What the coordinator knows about one transactional id: exactly the persisted fields of a
/// `__transaction_state` value, plus `lastProducerEpoch`, which Kafka does not persist (it is -1
/// after a load, so a KIP-360 retry that spans a coordinator move is fenced, as in Kafka).
public struct TransactionMetadata: Equatable, Sendable {
    public let transactionalId: String
    public var producerId: Int64
    /// The producer id before the last transition (the record's PreviousProducerId).
    public var lastProducerId: Int64
    public var producerEpoch: Int16
    public var lastProducerEpoch: Int16
    public var timeoutMs: Int32
    public var state: TransactionState
    /// The partitions of the open transaction; during PrepareCommit/PrepareAbort, the ones whose
    /// marker is not yet acknowledged.
    public var partitions: Set<TransactionPartition>
    /// When the first partition joined the transaction; -1 when none did.
    public var startTimestamp: Int64
    public var lastUpdateTimestamp: Int64

    public init(transactionalId: String, producerId: Int64, lastProducerId: Int64 = ProducerIdentity.noProducerId,
                producerEpoch: Int16, lastProducerEpoch: Int16 = ProducerIdentity.noEpoch, timeoutMs: Int32,
                state: TransactionState, partitions: Set<TransactionPartition> = [],
                startTimestamp: Int64 = -1, lastUpdateTimestamp: Int64) {
        self.transactionalId = transactionalId
        self.producerId = producerId
        self.lastProducerId = lastProducerId
        self.producerEpoch = producerEpoch
        self.lastProducerEpoch = lastProducerEpoch
        self.timeoutMs = timeoutMs
        self.state = state
        self.partitions = partitions
        self.startTimestamp = startTimestamp
        self.lastUpdateTimestamp = lastUpdateTimestamp
    }

    /// The metadata as a reload from the log would rebuild it.
    public var persisted: TransactionMetadata {
        var copy = self
        copy.lastProducerEpoch = ProducerIdentity.noEpoch
        return copy
    }

    /// Why `next` may not follow `self`, or nil when it may (Kafka's completeTransitionTo checks):
    /// the state table; epochs only move forward (same, +1, or 0 with a new producer id); the
    /// update time never goes back; Ongoing only grows the partition set and keeps the timeout;
    /// Prepare keeps every partition of the transaction; Complete starts from a started
    /// transaction and clears the partitions; Empty carries no partitions and no start time.
    public func transitionViolation(to next: TransactionMetadata) -> String? {
        guard next.transactionalId == transactionalId else { return "different transactional id" }
        guard state.canTransition(to: next.state) else { return "\(state) cannot go to \(next.state)" }
        guard next.lastUpdateTimestamp >= lastUpdateTimestamp || next.state == .dead else {
            return "update timestamp goes back"
        }
        let sameProducer = next.producerId == producerId && next.producerEpoch == producerEpoch
        let bumped = (next.producerId == producerId && next.producerEpoch == producerEpoch &+ 1)
            || (next.producerId != producerId && next.producerEpoch == 0)
        switch next.state {
        case .empty:
            guard sameProducer || bumped else { return "epoch neither kept nor bumped" }
            guard next.partitions.isEmpty, next.startTimestamp == -1 else { return "Empty with a transaction" }
        case .ongoing:
            guard sameProducer else { return "Ongoing changes the producer" }
            guard partitions.isSubset(of: next.partitions) else { return "Ongoing drops partitions" }
            guard next.timeoutMs == timeoutMs else { return "Ongoing changes the timeout" }
        case .prepareCommit, .prepareAbort:
            // Fencing an ongoing transaction writes PrepareAbort with the epoch bumped by one.
            let fenced = next.state == .prepareAbort && next.producerId == producerId
                && next.producerEpoch == producerEpoch &+ 1
            guard sameProducer || fenced || state == .prepareEpochFence else { return "Prepare changes the producer" }
            guard next.partitions == partitions else { return "Prepare changes the partitions" }
            guard next.startTimestamp == startTimestamp, next.timeoutMs == timeoutMs else {
                return "Prepare changes the transaction"
            }
        case .completeCommit, .completeAbort:
            guard sameProducer else { return "Complete changes the producer" }
            guard next.startTimestamp != -1, next.partitions.isEmpty else { return "Complete without a finished transaction" }
        case .prepareEpochFence:
            guard next.producerId == producerId, next.producerEpoch == producerEpoch &+ 1 else {
                return "epoch fence without a bump"
            }
        case .dead:
            guard next.partitions.isEmpty else { return "Dead with partitions" }
        }
        return nil
    }
}
