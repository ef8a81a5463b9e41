import KafkaProtocol
import LogStore

/// Fetch: v4–v12. Consumers read up to the high watermark; with isolation_level 1 (read_committed)
/// up to the last stable offset, and `aborted_transactions` lists (producer id, first offset) of
/// every aborted transaction overlapping the returned range (from the `.txnindex` files), so the
/// client drops those batches itself, as with Kafka. Control batches (markers) are returned as
/// stored; clients skip them. `max_bytes` bounds the response (capped by the
/// broker's `fetch.max.bytes`), `partition_max_bytes` each partition; the first batch found is
/// returned whole even when larger, so a consumer always progresses. When less than `min_bytes`
/// is available the request is parked in the purgatory until an append to one of its partitions
/// satisfies it or `max_wait_ms` passes. Fetch sessions (v7+) are declined: session id 0 makes
/// clients send full requests. Topic ids (v13+) are not served yet.
/// Authorization: Read on each topic (TOPIC_AUTHORIZATION_FAILED per partition, checked before
/// existence, once per request); follower fetches need ClusterAction on the cluster.
extension Broker {
    func handleFetch(_ header: RequestContext, _ r: inout WireReader, _ slot: ResponseSlot) throws(DecodeError)
        -> HandlerOutcome {
        var decoded = try FetchRequest(from: &r, version: header.apiVersion)
        let names = header.names
        if header.tenant != nil {
            for t in decoded.topics.indices { decoded.topics[t].topic = names.topic(decoded.topics[t].topic) }
        }
        let request = decoded
        let denied = deniedFetchTopics(request, access(header))
        var first = readFetch(request, version: header.apiVersion, denied: denied)
        if header.tenant != nil { first.localize(names) }
        if request.maxWaitMs <= 0 || first.bytes >= Int(request.minBytes) || first.hasError || request.topics.isEmpty
            || first.readable == 0 {
            // Answered here rather than with `.respond` so the response buffer is allocated once at
            // its final size: growing it by doubling copied and page-faulted the records repeatedly.
            completeFetch(slot, header: header, first, sizeHint: first.bytes + responseOverhead(request))
            return .deferred
        }
        let keys = request.topics.flatMap { t in t.partitions.map { PartitionKey(t.topic, $0.partition) } }
        let deadline = SystemClock.monotonicNs() + UInt64(request.maxWaitMs) * 1_000_000
        let operation = DelayedOperation(deadline: deadline, watchKeys: keys) { [self] forced in
            var result = readFetch(request, version: header.apiVersion, denied: denied)
            if names.namespace != nil { result.localize(names) }
            guard forced || result.bytes >= Int(request.minBytes) || result.hasError else { return false }
            completeFetch(slot, header: header, result, sizeHint: result.bytes + responseOverhead(request))
            return true
        }
        purgatory.park(operation)
        return .deferred
    }

    /// Answers a fetch; with a fetch byte-rate quota the records' bytes are charged to the tenant
    /// and the throttle goes out in `throttle_time_ms`, then the connection is muted (KIP-219).
    /// Like Kafka, a throttled fetch still returns its data: the mute is what slows the consumer.
    func completeFetch(_ slot: ResponseSlot, header: RequestContext, _ read: FetchRead, sizeHint: Int) {
        guard let subject = header.quotaSubject else {
            return complete(slot, header: header, body: read.response, sizeHint: sizeHint)
        }
        var response = read.response
        let throttle = quotas.charge(.fetch, amount: Double(read.bytes), subject: subject,
                                     now: Int64(SystemClock.monotonicNs() / 1_000_000))
        response.throttleTimeMs = Int32(clamping: throttle)
        complete(slot, header: header, body: response, sizeHint: sizeHint, muteMs: throttle)
    }

    /// Generous bound on a response's bytes besides the records (names, per-partition fields), so
    /// the encoder never has to grow its buffer.
    func responseOverhead(_ request: FetchRequest) -> Int {
        request.topics.reduce(64) { sum, t in sum + 32 + t.topic.utf8.count + 96 * t.partitions.count }
    }

    /// Topics this fetch may not read (checked once per request): a consumer needs Read on each
    /// topic; a follower fetch (replica id ≥ 0) needs ClusterAction on the cluster for all of them.
    /// `nil` means every topic is denied.
    func deniedFetchTopics(_ request: FetchRequest, _ access: RequestAccess) -> Set<String>? {
        if access.allowsEverything { return [] }
        if request.replicaId >= 0 {
            return access.allowsCluster(.clusterAction, for: .brokerWide) ? access.unnameable(request.topics.lazy.map(\.topic)) : nil
        }
        return access.deniedNames(.read, .topic, request.topics.lazy.map(\.topic))
    }

    struct FetchRead {
        var response: FetchResponse
        var bytes: Int
        var hasError: Bool
        /// Partitions that passed authorization; with none, the answer goes out at once.
        var readable: Int

        /// Topic names back into the tenant's terms.
        mutating func localize(_ names: TenantScope) {
            for i in response.responses.indices { response.responses[i].topic = names.local(response.responses[i].topic) }
        }
    }

    /// `denied`: topics answered TOPIC_AUTHORIZATION_FAILED (nil: all). As in Kafka, such
    /// partitions do not end a wait early; the others are read normally.
    func readFetch(_ request: FetchRequest, version: Int16, denied: Set<String>? = []) -> FetchRead {
        var response = FetchResponse()
        var total = 0
        var hasError = false
        var readable = 0
        let limit = min(Int(request.maxBytes), config.int("fetch.max.bytes"))
        for topic in request.topics {
            var topicResponse = FetchResponse.FetchableTopicResponse()
            topicResponse.topic = topic.topic
            topicResponse.topicId = topic.topicId
            let topicDenied = denied.map { !$0.isEmpty && $0.contains(topic.topic) } ?? true
            for p in topic.partitions {
                var data = FetchResponse.PartitionData()
                data.partitionIndex = p.partition
                data.abortedTransactions = request.isolationLevel == 1 ? [] : nil
                data.records = []
                if topicDenied {
                    data.errorCode = KafkaError.topicAuthorizationFailed.rawValue
                    data.highWatermark = -1
                    data.lastStableOffset = -1
                    data.logStartOffset = -1
                    topicResponse.partitions.append(data)
                    continue
                }
                readable += 1
                guard let partition = replicas.partition(topic.topic, p.partition) else {
                    data.errorCode = KafkaError.unknownTopicOrPartition.rawValue
                    data.highWatermark = -1
                    hasError = true
                    topicResponse.partitions.append(data)
                    continue
                }
                let log = partition.log
                let highWatermark = log.highWatermark
                let lastStable = log.lastStableOffset
                let readCommitted = request.isolationLevel == 1
                let fetchable = readCommitted ? lastStable : highWatermark
                data.highWatermark = highWatermark
                data.lastStableOffset = lastStable
                data.logStartOffset = log.logStartOffset
                if let epochError = checkLeaderEpoch(p.currentLeaderEpoch, partition) {
                    data.errorCode = epochError.rawValue
                    hasError = true
                } else if p.fetchOffset < log.logStartOffset || p.fetchOffset > log.logEndOffset {
                    data.errorCode = KafkaError.offsetOutOfRange.rawValue
                    hasError = true
                } else if p.fetchOffset < fetchable && total < limit {
                    let budget = min(Int(p.partitionMaxBytes), limit - total)
                    do {
                        let read = try log.read(from: p.fetchOffset, maxBytes: budget, maxOffset: fetchable,
                                                minOneBatch: total == 0)
                        data.records = read.records
                        if readCommitted {
                            data.abortedTransactions = log.abortedTransactions(from: p.fetchOffset, upTo: read.nextOffset)
                                .map { aborted in
                                    var entry = FetchResponse.AbortedTransaction()
                                    entry.producerId = aborted.producerId
                                    entry.firstOffset = aborted.firstOffset
                                    return entry
                                }
                        }
                        total += read.records.count
                    } catch {
                        data.errorCode = KafkaError.kafkaStorageError.rawValue
                        hasError = true
                    }
                }
                topicResponse.partitions.append(data)
            }
            response.responses.append(topicResponse)
        }
        return FetchRead(response: response, bytes: total, hasError: hasError, readable: readable)
    }

    /// KIP-320 fencing: a client that knows a newer epoch than ours is ahead (UNKNOWN_LEADER_EPOCH),
    /// one with an older epoch is fenced (FENCED_LEADER_EPOCH); -1 skips the check.
    func checkLeaderEpoch(_ clientEpoch: Int32, _ partition: Partition) -> KafkaError? {
        if clientEpoch < 0 { return nil }
        let ours = partition.leaderEpoch
        if clientEpoch > ours { return .unknownLeaderEpoch }
        if clientEpoch < ours { return .fencedLeaderEpoch }
        return nil
    }
}
