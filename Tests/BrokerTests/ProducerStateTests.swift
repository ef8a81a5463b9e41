// The idempotent-producer table (KIP-98 rules as Kafka applies them) and its snapshot format.
import Testing
@testable import Broker
import KafkaProtocol

@Suite struct ProducerStateTests {
    func batch(_ first: Int32, _ last: Int32, at offset: Int64) -> ProducerBatchInfo {
        ProducerBatchInfo(firstSequence: first, lastSequence: last, firstOffset: offset,
                          lastOffset: offset + Int64(last - first), maxTimestamp: 1000)
    }

    @Test func sequencesMustContinue() {
        var t = ProducerStateTable()
        #expect(t.check(producerId: 7, epoch: 0, firstSequence: 0, lastSequence: 9) == .append)
        t.record(producerId: 7, epoch: 0, batch: batch(0, 9, at: 100), now: 1)
        #expect(t.check(producerId: 7, epoch: 0, firstSequence: 10, lastSequence: 19) == .append)
        guard case .reject(let code, _) = t.check(producerId: 7, epoch: 0, firstSequence: 12, lastSequence: 19) else {
            Issue.record("a gap must be refused")
            return
        }
        #expect(code == .outOfOrderSequenceNumber)
    }

    @Test func duplicatesOfTheLastFiveBatchesReturnTheirOffsets() {
        var t = ProducerStateTable()
        for i in 0..<7 {
            t.record(producerId: 1, epoch: 3, batch: batch(Int32(i * 10), Int32(i * 10 + 9), at: Int64(i * 10)), now: 1)
        }
        #expect(t.check(producerId: 1, epoch: 3, firstSequence: 60, lastSequence: 69) == .duplicate(batch(60, 69, at: 60)))
        #expect(t.check(producerId: 1, epoch: 3, firstSequence: 20, lastSequence: 29) == .duplicate(batch(20, 29, at: 20)))
        // The sixth-newest batch is no longer remembered: it is out of order, not a duplicate.
        guard case .reject(.outOfOrderSequenceNumber, _) = t.check(producerId: 1, epoch: 3, firstSequence: 10,
                                                                    lastSequence: 19) else {
            Issue.record("expected OUT_OF_ORDER_SEQUENCE_NUMBER")
            return
        }
    }

    @Test func epochsFence() {
        var t = ProducerStateTable()
        t.record(producerId: 1, epoch: 5, batch: batch(0, 0, at: 0), now: 1)
        guard case .reject(.invalidProducerEpoch, _) = t.check(producerId: 1, epoch: 4, firstSequence: 1,
                                                                lastSequence: 1) else {
            Issue.record("an older epoch must be fenced")
            return
        }
        #expect(t.check(producerId: 1, epoch: 6, firstSequence: 0, lastSequence: 3) == .append)
        guard case .reject(.outOfOrderSequenceNumber, _) = t.check(producerId: 1, epoch: 6, firstSequence: 4,
                                                                    lastSequence: 5) else {
            Issue.record("a new epoch must start at sequence 0")
            return
        }
        // Unknown producers may start anywhere (their state may have expired).
        #expect(t.check(producerId: 2, epoch: 0, firstSequence: 500, lastSequence: 510) == .append)
        // Sequences wrap after Int32.max.
        t.record(producerId: 3, epoch: 0, batch: batch(Int32.max - 1, Int32.max, at: 50), now: 1)
        #expect(t.check(producerId: 3, epoch: 0, firstSequence: 0, lastSequence: 4) == .append)
        #expect(t.check(producerId: -1, epoch: -1, firstSequence: -1, lastSequence: -1) == .append)
    }

    @Test func expiryAndTruncation() {
        var t = ProducerStateTable()
        t.record(producerId: 1, epoch: 0, batch: batch(0, 4, at: 0), now: 1_000)
        t.record(producerId: 2, epoch: 0, batch: batch(0, 4, at: 5), now: 50_000)
        #expect(t.expire(now: 60_000, expirationMs: 20_000) == 1)
        #expect(t.entries.keys.sorted() == [2])
        t.truncate(to: 5)
        #expect(t.entries.isEmpty)
    }

    @Test func snapshotRoundTripKeepsEveryRememberedBatchAndDetectsCorruption() throws {
        var t = ProducerStateTable()
        t.record(producerId: 9, epoch: 2, batch: batch(0, 9, at: 0), now: 1)
        t.record(producerId: 9, epoch: 2, batch: batch(10, 14, at: 10), now: 1)
        t.record(producerId: 4, epoch: 0, batch: batch(0, 0, at: 15), now: 1)
        var bytes = t.snapshot()
        #expect(Array(bytes[0..<2]) == [0, 1])  // version 1
        let loaded = try ProducerStateTable.load(snapshot: bytes)
        #expect(loaded.entries[9]?.batches == [batch(0, 9, at: 0), batch(10, 14, at: 10)])
        #expect(loaded.entries[9]?.epoch == 2)
        #expect(loaded.check(producerId: 9, epoch: 2, firstSequence: 10, lastSequence: 14) == .duplicate(batch(10, 14, at: 10)))
        #expect(loaded.check(producerId: 9, epoch: 2, firstSequence: 0, lastSequence: 9) == .duplicate(batch(0, 9, at: 0)))
        #expect(loaded == t)
        #expect(loaded.check(producerId: 9, epoch: 2, firstSequence: 15, lastSequence: 15) == .append)
        bytes[bytes.count - 1] ^= 0xFF
        #expect(throws: ProducerStateTable.SnapshotError.checksumMismatch) { try ProducerStateTable.load(snapshot: bytes) }
        #expect(throws: ProducerStateTable.SnapshotError.self) { try ProducerStateTable.load(snapshot: [0, 1, 0]) }
    }
}
