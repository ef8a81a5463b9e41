// Transactions on data partitions through the wire: transactional produce opens a transaction,
// WriteTxnMarkers (ClusterAction) ends it with Kafka's fencing, read_committed Fetch stops at the
// last stable offset and lists aborted transactions, ListOffsets answers the LSO, and producer
// snapshots carry the open transaction's first offset across a restart.
import Foundation
import KafkaClient
import KafkaProtocol
import Testing
@testable import Broker

@Suite(.serialized) struct TransactionBrokerTests {
    func markersRequest(producerId: Int64, epoch: Int16 = 0, commit: Bool, coordinatorEpoch: Int32 = 0,
                        topic: String = "orders", partitions: [Int32] = [0]) -> WriteTxnMarkersRequest {
        var t = WriteTxnMarkersRequest.WritableTxnMarkerTopic()
        t.name = topic
        t.partitionIndexes = partitions
        var m = WriteTxnMarkersRequest.WritableTxnMarker()
        m.producerId = producerId
        m.producerEpoch = epoch
        m.transactionResult = commit
        m.coordinatorEpoch = coordinatorEpoch
        m.topics = [t]
        var request = WriteTxnMarkersRequest()
        request.markers = [m]
        return request
    }

    func markerErrors(_ response: WriteTxnMarkersResponse) -> [Int16] {
        response.markers.flatMap { $0.topics.flatMap { $0.partitions.map(\.errorCode) } }
    }

    func fetch(_ connection: KafkaConnection, readCommitted: Bool, from offset: Int64 = 0) throws -> FetchResponse.PartitionData {
        var request = fetchRequest(["orders"])
        request.isolationLevel = readCommitted ? 1 : 0
        request.topics[0].partitions[0].fetchOffset = offset
        let response: FetchResponse = try connection.roundTrip(request)
        return response.responses[0].partitions[0]
    }

    func latest(_ connection: KafkaConnection, readCommitted: Bool) throws -> Int64 {
        var p = ListOffsetsRequest.ListOffsetsPartition()
        p.partitionIndex = 0
        p.timestamp = -1
        var t = ListOffsetsRequest.ListOffsetsTopic()
        t.name = "orders"
        t.partitions = [p]
        var request = ListOffsetsRequest()
        request.replicaId = -1
        request.isolationLevel = readCommitted ? 1 : 0
        request.topics = [t]
        let response: ListOffsetsResponse = try connection.roundTrip(request)
        return response.topics[0].partitions[0].offset
    }

    func batchOffsets(_ data: FetchResponse.PartitionData) -> [(Int64, Bool)] {
        RecordBatches.batches(in: data.records ?? []).map { ($0.header.baseOffset, $0.header.isControl) }
    }

    @Test func readCommittedStopsAtTheLastStableOffsetAndListsAbortedTransactions() throws {
        let b = try SecuredBroker(policy: "", authorizer: false)
        try b.createTopics("orders")
        let admin = try b.connect("admin")
        func produce(_ batch: [UInt8], transactionalId: String? = nil) throws -> Int16 {
            let response: ProduceResponse = try admin.roundTrip(
                produceRequest(["orders"], transactionalId: transactionalId, batch: batch))
            return response.responses[0].partitionResponses[0].errorCode
        }
        #expect(try produce(try testBatch(count: 2)) == 0)                                         // 0-1
        #expect(try produce(try testBatch(count: 2, transactional: true, producerId: 10), transactionalId: "t") == 0)  // 2-3
        #expect(try produce(try testBatch(count: 1)) == 0)                                         // 4
        #expect(try latest(admin, readCommitted: false) == 5)
        #expect(try latest(admin, readCommitted: true) == 2)

        var committed = try fetch(admin, readCommitted: true)
        #expect(committed.highWatermark == 5 && committed.lastStableOffset == 2)
        #expect(batchOffsets(committed).map(\.0) == [0])
        #expect(committed.abortedTransactions?.isEmpty == true)
        let uncommitted = try fetch(admin, readCommitted: false)
        #expect(uncommitted.lastStableOffset == 2 && batchOffsets(uncommitted).map(\.0) == [0, 2, 4])
        #expect(uncommitted.abortedTransactions == nil)

        // Abort: the marker lands at 5, the LSO moves to the log end, the transaction is listed.
        let aborted: WriteTxnMarkersResponse = try admin.roundTrip(markersRequest(producerId: 10, commit: false))
        #expect(markerErrors(aborted) == [0])
        #expect(try latest(admin, readCommitted: true) == 6)
        committed = try fetch(admin, readCommitted: true)
        #expect(committed.lastStableOffset == 6)
        #expect(batchOffsets(committed).map(\.0) == [0, 2, 4, 5])
        #expect(batchOffsets(committed).last?.1 == true)  // the marker is returned; clients skip it
        #expect(committed.abortedTransactions?.map { [$0.producerId, $0.firstOffset] } == [[10, 2]])
        // A read starting after the transaction does not list it.
        #expect(try fetch(admin, readCommitted: true, from: 6).abortedTransactions?.isEmpty == true)
        let log = b.broker.replicas.partition("orders", 0)!.log
        #expect(log.abortedTransactions(from: 0, upTo: 6).first?.lastOffset == 5)

        // An idempotent (non-transactional) batch while the producer has a transaction open is refused.
        #expect(try produce(try testBatch(count: 1, transactional: true, producerId: 11), transactionalId: "u") == 0)
        var plain = try testBatch(count: 1, producerId: 11)
        plain[53...56] = [0, 0, 0, 1]  // next sequence
        plain = restampCRC(plain)
        #expect(try produce(plain) == KafkaError.invalidTxnState.rawValue)
        let commit: WriteTxnMarkersResponse = try admin.roundTrip(markersRequest(producerId: 11, commit: true))
        #expect(markerErrors(commit) == [0])
        #expect(log.ongoingTransactions.isEmpty && log.lastStableOffset == log.logEndOffset)
    }

    @Test func aWaitingReadCommittedFetchIsAnsweredWhenAMarkerMovesTheLastStableOffset() throws {
        let b = try SecuredBroker(policy: "", authorizer: false)
        try b.createTopics("orders")
        let admin = try b.connect("admin")
        let _: ProduceResponse = try admin.roundTrip(
            produceRequest(["orders"], transactionalId: "t", batch: try testBatch(count: 2, transactional: true, producerId: 40)))
        let partition = b.broker.replicas.partition("orders", 0)!
        #expect(partition.log.lastStableOffset == 0)
        let purgatory = b.broker.purgatory
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(300)) {
            _ = partition.writeTxnMarker(producerId: 40, producerEpoch: 0, coordinatorEpoch: 0, commit: true,
                                         now: SystemClock.nowMs())
            purgatory.checkWatchers(partition.key)  // what the WriteTxnMarkers handler does
        }
        var request = fetchRequest(["orders"], maxWaitMs: 8_000)
        request.isolationLevel = 1
        let started = Date()
        let response: FetchResponse = try admin.roundTrip(request)
        let data = response.responses[0].partitions[0]
        #expect(Date().timeIntervalSince(started) < 6)
        #expect(data.lastStableOffset == 3)
        #expect(batchOffsets(data).map(\.0) == [0, 2])
    }

    @Test func markersAreFencedByProducerAndCoordinatorEpochs() throws {
        let b = try SecuredBroker(policy: "", authorizer: false)
        try b.createTopics("orders")
        let admin = try b.connect("admin")
        let partition = b.broker.replicas.partition("orders", 0)!
        var batch = try testBatch(count: 1, transactional: true, producerId: 20)
        batch[51...52] = [0, 3]  // producer epoch 3
        batch = restampCRC(batch)
        let _: ProduceResponse = try admin.roundTrip(produceRequest(["orders"], transactionalId: "t", batch: batch))
        #expect(partition.log.ongoingTransactions == [20: 0])

        let stale: WriteTxnMarkersResponse = try admin.roundTrip(markersRequest(producerId: 20, epoch: 2, commit: true))
        #expect(markerErrors(stale) == [KafkaError.invalidProducerEpoch.rawValue])
        let written: WriteTxnMarkersResponse = try admin.roundTrip(
            markersRequest(producerId: 20, epoch: 3, commit: true, coordinatorEpoch: 5))
        #expect(markerErrors(written) == [0])
        let oldCoordinator: WriteTxnMarkersResponse = try admin.roundTrip(
            markersRequest(producerId: 20, epoch: 3, commit: false, coordinatorEpoch: 4))
        #expect(markerErrors(oldCoordinator) == [KafkaError.transactionCoordinatorFenced.rawValue])
        let unknown: WriteTxnMarkersResponse = try admin.roundTrip(
            markersRequest(producerId: 20, epoch: 3, commit: true, coordinatorEpoch: 5, partitions: [0, 7]))
        #expect(markerErrors(unknown) == [0, KafkaError.unknownTopicOrPartition.rawValue])
        #expect(partition.log.logEndOffset == 3)
        #expect(partition.producers.withLock { $0.entries[20]?.coordinatorEpoch } == 5)
    }

    @Test func writeTxnMarkersNeedsClusterAction() throws {
        let b = try SecuredBroker(policy: """
            allow User:alice cluster-action cluster
            allow User:bob write topic:orders
            """)
        try b.createTopics("orders")
        let denied: WriteTxnMarkersResponse = try b.connect("bob").roundTrip(markersRequest(producerId: 1, commit: false))
        #expect(markerErrors(denied) == [KafkaError.clusterAuthorizationFailed.rawValue])
        #expect(b.broker.replicas.partition("orders", 0)!.log.logEndOffset == 0)
        let allowed: WriteTxnMarkersResponse = try b.connect("alice").roundTrip(markersRequest(producerId: 1, commit: false))
        #expect(markerErrors(allowed) == [0])
        #expect(b.broker.replicas.partition("orders", 0)!.log.logEndOffset == 1)
    }

    @Test func producerSnapshotsCarryTheOpenTransactionsFirstOffset() throws {
        var table = ProducerStateTable()
        table.record(producerId: 5, epoch: 1, batch: ProducerBatchInfo(firstSequence: 0, lastSequence: 1, firstOffset: 40,
                                                                       lastOffset: 41, maxTimestamp: 9),
                     now: 9, isTransactional: true)
        #expect(table.entries[5]?.currentTxnFirstOffset == 40)
        let loaded = try ProducerStateTable.load(snapshot: table.snapshot())
        #expect(loaded.entries[5]?.currentTxnFirstOffset == 40)
        // Kafka's row: ..., coordinator epoch (int32) -1, CurrentTxnFirstOffset (int64) 40 at the end.
        #expect(Array(table.snapshot().suffix(12)) == [255, 255, 255, 255, 0, 0, 0, 0, 0, 0, 0, 40])
        table.recordMarker(producerId: 5, epoch: 1, coordinatorEpoch: 2, now: 10)
        let closed = try ProducerStateTable.load(snapshot: table.snapshot())
        #expect(closed.entries[5]?.currentTxnFirstOffset == -1 && closed.entries[5]?.coordinatorEpoch == 2)
        // An open transaction keeps its producer from expiring.
        var open = ProducerStateTable()
        open.record(producerId: 6, epoch: 0, batch: ProducerBatchInfo(firstSequence: 0, lastSequence: 0, firstOffset: 1,
                                                                      lastOffset: 1, maxTimestamp: 0),
                    now: 0, isTransactional: true)
        #expect(open.expire(now: 1_000_000, expirationMs: 10) == 0)
    }

    @Test func restartRecoversOpenTransactionsFromSnapshotsAndTheLog() throws {
        let root = makeTemporaryDirectory("txn-restart")
        defer { try? FileManager.default.removeItem(atPath: root) }
        var config = BrokerConfig()
        try config.apply(overrides: ["listeners=PLAINTEXT://127.0.0.1:0", "log.dirs=\(root)", "num.network.threads=1"])
        do {
            let server = try BrokerServer(config: config)
            try server.start()
            let c = try KafkaConnection(host: "127.0.0.1", port: server.boundPorts[0], clientId: "t", timeoutSeconds: 10)
            try c.negotiate()
            var create = CreateTopicsRequest()
            var topic = CreateTopicsRequest.CreatableTopic()
            topic.name = "orders"
            topic.numPartitions = 1
            topic.replicationFactor = -1
            create.topics = [topic]
            let _: CreateTopicsResponse = try c.roundTrip(create)
            let _: ProduceResponse = try c.roundTrip(produceRequest(["orders"], batch: try testBatch(count: 3)))
            let _: ProduceResponse = try c.roundTrip(produceRequest(
                ["orders"], transactionalId: "t", batch: try testBatch(count: 2, transactional: true, producerId: 30)))
            server.shutdown()  // writes the producer snapshot at the log end
        }
        let server = try BrokerServer(config: config)
        try server.start()
        defer { server.shutdown() }
        let partition = server.broker.replicas.partition("orders", 0)!
        #expect(partition.log.ongoingTransactions == [30: 3])
        #expect(partition.log.lastStableOffset == 3)
        #expect(partition.producers.withLock { $0.entries[30]?.currentTxnFirstOffset } == 3)
        #expect(partition.writeTxnMarker(producerId: 30, producerEpoch: 0, coordinatorEpoch: 0, commit: false,
                                         now: SystemClock.nowMs()) == nil)
        #expect(partition.log.lastStableOffset == 6)
        #expect(partition.log.abortedTransactions(from: 0, upTo: 6).map(\.firstOffset) == [3])
    }
}

/// Recomputes a single batch's CRC after a test edited header bytes covered by it.
func restampCRC(_ batch: [UInt8]) -> [UInt8] {
    var bytes = batch
    let crc = RecordBatchHeader.computeCRC(bytes, batchStart: 0, totalSize: bytes.count)
    withUnsafeBytes(of: crc.bigEndian) { raw in
        for i in 0..<4 { bytes[RecordBatchHeader.Field.crc + i] = raw[i] }
    }
    return bytes
}
