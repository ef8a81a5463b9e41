import KafkaProtocol
import LogStore

/// Appends that do not come from a client: coordinator state written to internal topics.
extension ReplicaManager {
    enum InternalAppendError: Error {
        case noSuchPartition(String, Int32)
        case storage(LogStoreError)
    }

    /// Appends one already-built batch to a partition this node leads and, one node being the
    /// whole ISR, commits it (high watermark = log end), as an acks=all produce would.
    func appendInternal(topic: String, partition index: Int32, batch: [UInt8], now: Int64)
        throws(InternalAppendError) -> Partition {
        guard let partition = partition(topic, index) else { throw .noSuchPartition(topic, index) }
        var bytes = batch
        do {
            let info = try partition.log.append(&bytes, leaderEpoch: partition.leaderEpoch, now: now)
            partition.log.updateHighWatermark(info.lastOffset + 1)
        } catch {
            throw .storage(error)
        }
        return partition
    }
}
