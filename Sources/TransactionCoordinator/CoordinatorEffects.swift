import KafkaProtocol

/// Settings of the coordinator, with Kafka's defaults.
public struct TransactionCoordinatorConfig: Sendable {
    /// `transaction.state.log.num.partitions`.
    public var transactionStatePartitions: Int32 = TransactionLog.defaultPartitions
    /// `offsets.topic.num.partitions`: where AddOffsetsToTxn finds a group's partition.
    public var offsetsTopicPartitions: Int32 = 50
    /// `transaction.max.timeout.ms` (15 minutes).
    public var maxTransactionTimeoutMs: Int32 = 900_000
    /// `transactional.id.expiration.ms` (7 days).
    public var transactionalIdExpirationMs: Int64 = 604_800_000
    /// How long a marker that failed with a retriable error waits before it is sent again.
    public var markerRetryBackoffMs: Int64 = 100

    public init() {}
}

/// Identifies a request the coordinator will answer later (the caller's correlation).
public typealias RequestToken = UInt64

/// Identifies an append to `__transaction_state` until the caller reports its outcome.
public struct AppendID: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public var description: String { "append#\(rawValue)" }
}

public enum TransactionResult: Sendable, Hashable {
    case commit
    case abort
}

/// Write this record to partition `partition` of `__transaction_state`, then report
/// `appended(id, error:)` once it is durable (or has failed).
public struct TransactionLogAppend: Equatable, Sendable {
    public var id: AppendID
    public var partition: Int32
    public var key: [UInt8]
    /// nil: a tombstone.
    public var value: [UInt8]?
}

/// Write COMMIT/ABORT control records (WriteTxnMarkers) for this producer on these partitions,
/// then report each partition's outcome with `markerWritten`.
public struct TransactionMarkers: Equatable, Sendable {
    public var transactionalId: String
    public var producerId: Int64
    public var producerEpoch: Int16
    public var result: TransactionResult
    public var coordinatorEpoch: Int32
    public var partitions: [TransactionPartition]
}

/// The answer to one request.
public enum TransactionAnswer: Equatable, Sendable {
    /// InitProducerId.
    case producerId(error: KafkaError, producerId: Int64, producerEpoch: Int16)
    /// AddPartitionsToTxn (both forms): one error per partition.
    case partitions([TransactionPartition: KafkaError])
    /// AddOffsetsToTxn, EndTxn.
    case error(KafkaError)
}

public enum TransactionCoordinatorEffect: Equatable, Sendable {
    case append(TransactionLogAppend)
    case sendMarkers(TransactionMarkers)
    case answer(RequestToken, TransactionAnswer)
    /// The coordinator has no producer ids left; supply a block with `supplyProducerIds`.
    case needProducerIds
}

/// What became of one partition's marker.
public enum MarkerOutcome: Equatable, Sendable {
    case written
    /// The partition (or its topic) no longer exists: nothing to mark.
    case partitionDeleted
    case failed(KafkaError)
}

/// DescribeTransactions, per id.
public struct TransactionDescription: Equatable, Sendable {
    public var transactionalId: String
    public var error: KafkaError
    public var state: String
    public var timeoutMs: Int32
    public var startTimestamp: Int64
    public var producerId: Int64
    public var producerEpoch: Int16
    public var partitions: [TransactionPartition]
}

/// ListTransactions, per id.
public struct TransactionListing: Equatable, Sendable {
    public var transactionalId: String
    public var producerId: Int64
    public var state: String
}
