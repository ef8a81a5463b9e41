import KafkaProtocol

/// OffsetCommit: v0–v8 (sarama 1.22 sends v1, kafka-python 2.0 v2, librdkafka up to 7/8; Kafka 4
/// dropped v0–v1 in KIP-896, 3.9 served them). Group members commit with their generation and
/// member id; generation -1 with an empty member id commits for a group without group management
/// (assign() consumers, tools), which is what a v0 request (no generation, no member id) is: old
/// Kafka wrote v0 commits to ZooKeeper, 3.x to the coordinator, as here. The offsets are appended
/// to `__consumer_offsets` as one batch and answered after the append returned. v1 carries a
/// per-partition commit timestamp (-1: now); v2–v4 retention_time sets an explicit expiry; other
/// offsets follow `offsets.retention.minutes` once the group is empty.
/// Errors: INVALID_GROUP_ID, ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, REBALANCE_IN_PROGRESS,
/// FENCED_INSTANCE_ID, OFFSET_METADATA_TOO_LARGE, UNKNOWN_TOPIC_OR_PARTITION,
/// COORDINATOR_LOAD_IN_PROGRESS.
/// Authorization (Kafka's): Read on the group (GROUP_AUTHORIZATION_FAILED on every partition),
/// then Read on each topic (TOPIC_AUTHORIZATION_FAILED on its partitions; the others commit).
extension Broker {
    func handleOffsetCommit(_ header: RequestContext, _ r: inout WireReader) throws(DecodeError) -> HandlerOutcome {
        var request = try OffsetCommitRequest(from: &r, version: header.apiVersion)
        if header.tenant != nil {
            request.groupId = header.names.group(request.groupId)
            for t in request.topics.indices { request.topics[t].name = header.names.topic(request.topics[t].name) }
        }
        let access = access(header)
        guard access.allowsGroup(.read, request.groupId) else {
            return .respond(offsetCommitResponse(request) { _ in .groupAuthorizationFailed })
        }
        let denied = access.deniedNames(.read, .topic, request.topics.lazy.map(\.name))
        let now = SystemClock.nowMs()
        var offsets: [(TopicPartitionID, CommittedOffset)] = []
        let expire: Int64? = header.apiVersion <= 4 && request.retentionTimeMs >= 0
            ? now + request.retentionTimeMs : nil
        for t in request.topics where denied.isEmpty || !denied.contains(t.name) {
            for p in t.partitions {
                offsets.append((TopicPartitionID(t.name, p.partitionIndex),
                                CommittedOffset(offset: p.committedOffset, leaderEpoch: p.committedLeaderEpoch,
                                                metadata: p.committedMetadata ?? "",
                                                commitTimestamp: p.commitTimestamp >= 0 ? p.commitTimestamp : now,
                                                expireTimestamp: expire)))
            }
        }
        let errors: [KafkaError]
        if offsets.isEmpty && !denied.isEmpty {
            errors = []  // nothing authorized: Kafka answers without asking the coordinator
        } else if groups.isLoading {
            errors = offsets.map { _ in .coordinatorLoadInProgress }
        } else {
            errors = groups.commit(groupId: request.groupId, generationId: request.generationIdOrMemberEpoch,
                                   memberId: request.memberId, instanceId: request.groupInstanceId,
                                   offsets: offsets).1
        }
        var i = 0
        var response = offsetCommitResponse(request) { topic in
            if !denied.isEmpty && denied.contains(topic) { return .topicAuthorizationFailed }
            defer { i += 1 }
            return errors[i]
        }
        if header.tenant != nil {
            for t in response.topics.indices { response.topics[t].name = header.names.local(response.topics[t].name) }
        }
        return .respond(response)
    }

    /// One answer per requested partition, in request order.
    private func offsetCommitResponse(_ request: OffsetCommitRequest, _ error: (String) -> KafkaError)
        -> OffsetCommitResponse {
        var response = OffsetCommitResponse()
        for t in request.topics {
            var rt = OffsetCommitResponse.OffsetCommitResponseTopic()
            rt.name = t.name
            for p in t.partitions {
                var rp = OffsetCommitResponse.OffsetCommitResponsePartition()
                rp.partitionIndex = p.partitionIndex
                rp.errorCode = error(t.name).rawValue
                rt.partitions.append(rp)
            }
            response.topics.append(rt)
        }
        return response
    }
}
