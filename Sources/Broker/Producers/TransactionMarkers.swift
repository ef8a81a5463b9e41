import KafkaProtocol
import LogStore

extension Partition {
    /// The leader's half of ending a transaction (what WriteTxnMarkers asks of each partition):
    /// appends a COMMIT or ABORT control batch for the producer, after Kafka's fencing checks
    /// (an older producer epoch → INVALID_PRODUCER_EPOCH, an older coordinator epoch →
    /// TRANSACTION_COORDINATOR_FENCED). The log closes the producer's open transaction, moves the
    /// last stable offset and, for an abort, adds the `.txnindex` entry; the producer table does
    /// the same for its own view. Held under the producer lock, like a produce, so a marker
    /// and a batch of the same producer cannot interleave between check and append.
    /// Returns nil when written, else the error and why; the caller wakes waiting fetches.
    func writeTxnMarker(
        producerId: Int64, producerEpoch: Int16, coordinatorEpoch: Int32, commit: Bool, now: Int64
    ) -> (error: KafkaError, message: String)? {
        producers.withLock { table -> (error: KafkaError, message: String)? in
            if let refusal = table.checkMarker(producerId: producerId, epoch: producerEpoch,
                                               coordinatorEpoch: coordinatorEpoch) {
                return refusal
            }
            var bytes = TransactionMarker(kind: commit ? .commit : .abort, coordinatorEpoch: coordinatorEpoch)
                .batch(producerId: producerId, producerEpoch: producerEpoch, timestamp: now)
            do {
                let info = try log.append(&bytes, leaderEpoch: leaderEpoch, now: now)
                // One node: the in-sync replica set is this node, so the marker is committed now.
                log.updateHighWatermark(info.lastOffset + 1)
            } catch {
                return (.kafkaStorageError, "\(error)")
            }
            table.recordMarker(producerId: producerId, epoch: producerEpoch, coordinatorEpoch: coordinatorEpoch, now: now)
            producersDirty.store(true, ordering: .releasing)
            return nil
        }
    }
}
