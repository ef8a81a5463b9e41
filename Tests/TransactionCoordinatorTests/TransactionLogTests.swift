// Goal: `__transaction_state` records are Kafka's bytes and decode back to the same metadata, and
// a transactional id lands on the partition Kafka puts it on. Method: round trips of every
// persisted state, hand-built version-0 values, and Java hash codes worked out by hand.
import Testing
import KafkaProtocol
@testable import TransactionCoordinator

@Suite struct TransactionLogTests {
    static func sample(_ state: TransactionState) -> TransactionMetadata {
        let partitions: Set<TransactionPartition> = state == .empty || state == .completeCommit || state == .completeAbort
            ? [] : [TransactionPartition("orders", 3), TransactionPartition("orders", 0), TransactionPartition("audit", 7)]
        return TransactionMetadata(transactionalId: "payments-1", producerId: 4242, lastProducerId: 4241, producerEpoch: 17,
                                   timeoutMs: 60_000, state: state, partitions: partitions,
                                   startTimestamp: state == .empty ? -1 : 1_700_000_000_000,
                                   lastUpdateTimestamp: 1_700_000_000_500)
    }

    @Test(arguments: [TransactionState.empty, .ongoing, .prepareCommit, .prepareAbort, .completeCommit, .completeAbort])
    func roundTrip(_ state: TransactionState) throws {
        let metadata = Self.sample(state)
        let key = TransactionLog.encodeKey(metadata.transactionalId)
        let value = try #require(TransactionLog.encodeValue(metadata))
        let entry = try TransactionLog.decode(key: key, value: value)
        #expect(entry.transactionalId == "payments-1")
        #expect(entry.metadata == metadata.persisted)
    }

    @Test func keyBytesAreVersionZeroAndAClassicString() {
        // int16 version 0, int16 length 3, "abc".
        #expect(TransactionLog.encodeKey("abc") == [0, 0, 0, 3, 0x61, 0x62, 0x63])
    }

    @Test func valueLayoutOfAnEmptyId() throws {
        var metadata = Self.sample(.empty)
        metadata.lastProducerId = -1
        let value = try #require(TransactionLog.encodeValue(metadata))
        // version 1; producer id; epoch; timeout; status 0; null partitions (compact: 0);
        // update and start timestamps; no tagged fields (previous producer id -1 is the default).
        var expected: [UInt8] = [0, 1]
        expected += [0, 0, 0, 0, 0, 0, 0x10, 0x92]     // 4242
        expected += [0, 17]
        expected += [0, 0, 0xEA, 0x60]                 // 60000
        expected += [0]
        expected += [0]
        expected += [0, 0, 0x01, 0x8B, 0xCF, 0xE5, 0x69, 0xF4]  // 1_700_000_000_500
        expected += [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
        expected += [0]
        #expect(value == expected)
    }

    @Test func tombstoneForDeadAndDecodesToNoMetadata() throws {
        var metadata = Self.sample(.completeCommit)
        metadata.state = .dead
        #expect(TransactionLog.encodeValue(metadata) == nil)
        let entry = try TransactionLog.decode(key: TransactionLog.encodeKey("gone"), value: nil)
        #expect(entry == TransactionLog.Entry(transactionalId: "gone", metadata: nil))
    }

    @Test func decodesVersionZeroValues() throws {
        var value = TransactionLogValue()
        value.producerId = 7
        value.producerEpoch = 2
        value.transactionTimeoutMs = 1000
        value.transactionStatus = TransactionState.ongoing.rawValue
        var schema = TransactionLogValue.PartitionsSchema()
        schema.topic = "t"
        schema.partitionIds = [1, 2]
        value.transactionPartitions = [schema]
        value.transactionStartTimestampMs = 10
        value.transactionLastUpdateTimestampMs = 20
        var w = WireWriter()
        w.writeInt16(0)
        value.encode(to: &w, version: 0)
        let metadata = try #require(try TransactionLog.decode(key: TransactionLog.encodeKey("x"), value: w.bytes).metadata)
        #expect(metadata.state == .ongoing)
        #expect(metadata.partitions == [TransactionPartition("t", 1), TransactionPartition("t", 2)])
        #expect(metadata.lastProducerId == -1)
        #expect(metadata.startTimestamp == 10 && metadata.lastUpdateTimestamp == 20)
    }

    @Test func badRecordsArePreciseErrors() {
        #expect(throws: TransactionLog.DecodeFailure.key("key version 1")) {
            try TransactionLog.decode(key: [0, 1, 0, 0], value: nil)
        }
        #expect(throws: TransactionLog.DecodeFailure.value("value version 9")) {
            try TransactionLog.decode(key: TransactionLog.encodeKey("a"), value: [0, 9])
        }
        var value = TransactionLog.encodeValue(Self.sample(.ongoing))!
        value[2 + 8 + 2 + 4] = 42  // the status byte
        #expect(throws: TransactionLog.DecodeFailure.value("transaction status 42")) {
            try TransactionLog.decode(key: TransactionLog.encodeKey("a"), value: value)
        }
        #expect(throws: (any Error).self) {
            try TransactionLog.decode(key: TransactionLog.encodeKey("a"), value: Array(value.prefix(9)))
        }
    }

    // Java hash codes worked out by hand (h = 31·h + UTF-16 unit, wrapping at 32 bits):
    //  "" = 0; "a" = 97; "ab" = 97·31 + 98 = 3105 → 3105 mod 50 = 5.
    //  "😀" is U+1F600 = the UTF-16 pair D83D DE00: 55357·31 + 56832 = 1772899 → mod 50 = 49
    //  (a count over Unicode scalars or UTF-8 bytes would differ).
    //  "hello" = 99162322 (the value Java documents widely) → mod 50 = 22.
    //  "polygenelubricants" is the well-known string whose hashCode is Integer.MIN_VALUE; Kafka's
    //  Utils.abs maps it to 0 → partition 0.
    //  "my-txn" hashes negative, -1061187895: Utils.abs gives 1061187895 → 45, whereas masking
    //  the sign bit (h & 0x7fffffff = 1086295753) would give 3.
    @Test func javaHashCodes() {
        #expect(TransactionLog.javaHashCode("") == 0)
        #expect(TransactionLog.javaHashCode("a") == 97)
        #expect(TransactionLog.javaHashCode("ab") == 3105)
        #expect(TransactionLog.javaHashCode("😀") == 1_772_899)
        #expect(TransactionLog.javaHashCode("hello") == 99_162_322)
        #expect(TransactionLog.javaHashCode("polygenelubricants") == Int32.min)
        #expect(TransactionLog.javaHashCode("my-txn") == -1_061_187_895)
    }

    @Test func partitionsFollowKafkasUtilsAbs() {
        #expect(TransactionLog.partition(for: "ab") == 5)
        #expect(TransactionLog.partition(for: "😀") == 49)
        #expect(TransactionLog.partition(for: "hello") == 22)
        #expect(TransactionLog.partition(for: "polygenelubricants") == 0)
        #expect(TransactionLog.partition(for: "my-txn") == 45)
        #expect(TransactionLog.partition(for: "my-txn", partitions: 1) == 0)
        #expect(TransactionLog.kafkaAbs(-5) == 5 && TransactionLog.kafkaAbs(Int32.min) == 0)
    }
}
