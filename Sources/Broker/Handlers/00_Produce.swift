import KafkaProtocol
import LogStore

/// Produce: v3–v11 served, advertised from v0 (librdkafka before 2.11.1 disables compression
/// unless the range contains v0; v0–v2 requests close the connection, as in Kafka 4).
/// Per partition: unknown topic/partition → UNKNOWN_TOPIC_OR_PARTITION; each batch is validated
/// (magic 2, CRC, sizes, record count and offsets, compressed contents, timestamps) before
/// anything is written; one batch per partition, as Kafka requires. acks: 0 (no response; the
/// connection is closed if any partition failed), 1 and -1 (one node: the ISR is this node, so
/// both are answered once the append returned). v8+ carries the failed batch index.
/// Transactional batches (KIP-98) go through the idempotent checks and open their producer's
/// transaction on the partition (the last stable offset stays at its first offset until
/// WriteTxnMarkers ends it); a non-transactional batch of a producer with an open transaction is
/// INVALID_TXN_STATE. Whether the partition was added to the transaction is not checked: there is
/// no transaction coordinator yet (docs/UNSUPPORTED.md).
/// Authorization (Kafka's): Write on each topic (TOPIC_AUTHORIZATION_FAILED for its partitions,
/// whether or not it exists); a request with transactional batches needs Write on its
/// transactional id (TRANSACTIONAL_ID_AUTHORIZATION_FAILED everywhere). Idempotent batches need
/// nothing more (KIP-679: InitProducerId is where IdempotentWrite is checked).
extension Broker {
    func handleProduce(_ header: RequestContext, _ r: inout WireReader, _ slot: ResponseSlot) throws(DecodeError)
        -> HandlerOutcome {
        var request = try ProduceRequest(from: &r, version: header.apiVersion)
        let names = header.names
        if header.tenant != nil {
            request.transactionalId = names.group(request.transactionalId)
            for t in request.topicData.indices { request.topicData[t].name = names.topic(request.topicData[t].name) }
        }
        let acks = request.acks
        var response = ProduceResponse()
        var anyError = false
        let now = SystemClock.nowMs()
        let access = access(header)
        // Kafka: transactional batches need Write on the transactional id (else the whole request
        // fails); each topic needs Write. Checked once per topic, before its existence.
        var requestError: KafkaError? = nil
        var deniedTopics = Set<String>()
        // Storage quota: while the tenant's stored bytes are at or over its limit every partition
        // is refused with POLICY_VIOLATION (nothing stored is touched; retention or DeleteRecords
        // lowering the usage lets produce resume within a maintenance tick).
        var storageRefusal: String?
        if let subject = header.quotaSubject, let limit = subject.tenantLimits.maxStorageBytes,
           quotas.storedBytes(ofTenant: subject.tenant) >= limit {
            storageRefusal = "Tenant \(subject.tenant) has reached its storage limit (storage-bytes=\(limit))."
        }
        if !access.allowsEverything {
            if Self.hasTransactionalBatch(request),
               !(request.transactionalId.map { access.allows(.write, .transactionalId($0)) } ?? false) {
                requestError = .transactionalIdAuthorizationFailed
            } else {
                deniedTopics = access.deniedNames(.write, .topic, request.topicData.lazy.map(\.name))
            }
        }
        for t in request.topicData.indices {
            var topicResponse = ProduceResponse.TopicProduceResponse()
            topicResponse.name = names.local(request.topicData[t].name)
            let topicError: KafkaError? = requestError
                ?? (deniedTopics.contains(request.topicData[t].name) ? .topicAuthorizationFailed : nil)
            for p in request.topicData[t].partitionData.indices {
                var partitionResponse: ProduceResponse.PartitionProduceResponse
                if let topicError {
                    partitionResponse = .init()
                    partitionResponse.index = request.topicData[t].partitionData[p].index
                    partitionResponse.errorCode = topicError.rawValue
                } else if let storageRefusal {
                    partitionResponse = .init()
                    partitionResponse.index = request.topicData[t].partitionData[p].index
                    partitionResponse.errorCode = KafkaError.policyViolation.rawValue
                    partitionResponse.errorMessage = storageRefusal
                } else if acks != 0 && acks != 1 && acks != -1 {
                    partitionResponse = .init()
                    partitionResponse.index = request.topicData[t].partitionData[p].index
                    partitionResponse.errorCode = KafkaError.invalidRequiredAcks.rawValue
                } else {
                    // Move the records out of the request: the append stamps offsets in place, and a
                    // second reference would make that a copy of the whole batch.
                    var records = request.topicData[t].partitionData[p].records.take()
                    partitionResponse = appendRecords(topic: request.topicData[t].name,
                                                      partition: request.topicData[t].partitionData[p].index,
                                                      records: &records, now: now)
                }
                if partitionResponse.errorCode != 0 {
                    anyError = true
                    if header.tenant != nil {
                        partitionResponse.errorMessage = names.message(partitionResponse.errorMessage)
                        for e in partitionResponse.recordErrors.indices {
                            partitionResponse.recordErrors[e].batchIndexErrorMessage =
                                names.message(partitionResponse.recordErrors[e].batchIndexErrorMessage)
                        }
                    }
                }
                topicResponse.partitionResponses.append(partitionResponse)
            }
            response.responses.append(topicResponse)
        }
        // Produce byte-rate quota (KIP-13): the request's size is charged to the tenant; the
        // dispatcher mutes the connection for the throttle time after the answer (KIP-219).
        if let subject = header.quotaSubject {
            let throttle = quotas.charge(.produce, amount: Double(header.requestBytes), subject: subject,
                                         now: Int64(SystemClock.monotonicNs() / 1_000_000))
            response.throttleTimeMs = Int32(clamping: throttle)
        }
        if acks == 0 {
            if anyError { return .close(reason: "acks=0 produce failed") }
            if response.throttleTimeMs > 0 {  // no answer to carry it: the mute alone throttles
                slot.completeWithoutResponse(muteMs: Int64(response.throttleTimeMs))
                return .deferred
            }
            return .noResponse
        }
        return .respond(response)
    }

    /// Kafka's `hasTransactionalRecords`: the first batch of some partition is a v2 batch (magic
    /// at byte 16) with the transactional attribute (bit 4 of the attributes at bytes 21–22).
    static func hasTransactionalBatch(_ request: ProduceRequest) -> Bool {
        request.topicData.contains { topic in
            topic.partitionData.contains { partition in
                guard let records = partition.records, records.count > 22, records[16] == 2 else { return false }
                return records[22] & 0x10 != 0
            }
        }
    }

    /// Validates and appends one partition's records; the answer for that partition.
    func appendRecords(topic: String, partition index: Int32, records: inout [UInt8]?, now: Int64)
        -> ProduceResponse.PartitionProduceResponse {
        var answer = ProduceResponse.PartitionProduceResponse()
        answer.index = index
        guard let partition = replicas.partition(topic, index) else {
            answer.errorCode = KafkaError.unknownTopicOrPartition.rawValue
            return answer
        }
        guard var bytes = records.take(), !bytes.isEmpty else {
            answer.errorCode = KafkaError.corruptMessage.rawValue
            return answer
        }
        let policy = partition.policy
        let header: RecordBatchHeader
        switch ProduceValidation.prepare(&bytes, policy: policy, now: now) {
        case .failure(let failure):
            answer.errorCode = failure.error.rawValue
            answer.errorMessage = failure.message
            if let batchIndex = failure.batchIndex {
                var e = ProduceResponse.BatchIndexAndErrorMessage()
                e.batchIndex = Int32(batchIndex)
                e.batchIndexErrorMessage = failure.message
                answer.recordErrors = [e]
            }
            answer.logStartOffset = partition.log.logStartOffset
            return answer
        case .success(let h):
            header = h
        }
        if let schemaPolicy = policy.schemaValidation,
           let failed = validateSchemas(topic: topic, bytes, policy: schemaPolicy, partition: partition, answer: &answer) {
            return failed
        }
        if header.producerId < 0 {
            appendToLog(partition, &bytes, policy: policy, now: now, answer: &answer)
            return answer
        }
        // Idempotent batch: check, append and record under the partition's producer lock.
        partition.producers.withLock { table in
            let first = header.baseSequence
            let last = first &+ header.lastOffsetDelta
            switch table.check(producerId: header.producerId, epoch: header.producerEpoch, firstSequence: first,
                               lastSequence: last, isTransactional: header.isTransactional) {
            case .duplicate(let original):
                // A retry of a batch already written: answer with where it went, write nothing.
                answer.baseOffset = original.firstOffset
                answer.logAppendTimeMs = policy.logAppendTime ? original.maxTimestamp : -1
                answer.logStartOffset = partition.log.logStartOffset
            case .reject(let error, let message):
                answer.errorCode = error.rawValue
                answer.errorMessage = message
                answer.logStartOffset = partition.log.logStartOffset
            case .append:
                guard let info = appendToLog(partition, &bytes, policy: policy, now: now, answer: &answer) else { return }
                table.record(producerId: header.producerId, epoch: header.producerEpoch,
                             batch: ProducerBatchInfo(firstSequence: first, lastSequence: last,
                                                      firstOffset: info.firstOffset, lastOffset: info.lastOffset,
                                                      maxTimestamp: info.maxTimestamp),
                             now: now, isTransactional: header.isTransactional)
                partition.producersDirty.store(true, ordering: .releasing)
            }
        }
        return answer
    }

    /// Appends prepared bytes, fills in the answer; nil when the log refused them.
    @discardableResult
    private func appendToLog(_ partition: Partition, _ bytes: inout [UInt8], policy: ProducePolicy, now: Int64,
                             answer: inout ProduceResponse.PartitionProduceResponse) -> AppendInfo? {
        let info: AppendInfo
        do {
            info = try partition.log.append(&bytes, leaderEpoch: partition.leaderEpoch, now: now)
        } catch {
            answer.errorCode = KafkaError.kafkaStorageError.rawValue
            answer.errorMessage = "\(error)"
            return nil
        }
        // One node: the in-sync replica set is this node, so the append is committed now.
        partition.log.updateHighWatermark(info.lastOffset + 1)
        answer.baseOffset = info.firstOffset
        answer.logAppendTimeMs = policy.logAppendTime ? now : -1
        answer.logStartOffset = info.logStartOffset
        purgatory.checkWatchers(partition.key)
        return info
    }
}
