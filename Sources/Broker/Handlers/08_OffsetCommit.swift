import KafkaProtocol

/// OffsetCommit: v2–v8 (kafka-python 2.0 sends v2, librdkafka up to 7/8). Group members commit
/// with their generation and member id; generation -1 with an empty member id commits for a group
/// without group management (assign() consumers, tools). The offsets are appended to
/// `__consumer_offsets` as one batch and answered after the append returned. v2–v4 retention_time
/// sets an explicit expiry; v5+ offsets follow `offsets.retention.minutes` once the group is empty.
/// Errors: INVALID_GROUP_ID, ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, REBALANCE_IN_PROGRESS,
/// FENCED_INSTANCE_ID, OFFSET_METADATA_TOO_LARGE, UNKNOWN_TOPIC_OR_PARTITION,
/// COORDINATOR_LOAD_IN_PROGRESS.
extension Broker {
    func handleOffsetCommit(_ header: RequestContext, _ r: inout WireReader) throws(DecodeError) -> HandlerOutcome {
        let request = try OffsetCommitRequest(from: &r, version: header.apiVersion)
        let now = SystemClock.nowMs()
        var offsets: [(TopicPartitionID, CommittedOffset)] = []
        let expire: Int64? = header.apiVersion <= 4 && request.retentionTimeMs >= 0
            ? now + request.retentionTimeMs : nil
        for t in request.topics {
            for p in t.partitions {
                offsets.append((TopicPartitionID(t.name, p.partitionIndex),
                                CommittedOffset(offset: p.committedOffset, leaderEpoch: p.committedLeaderEpoch,
                                                metadata: p.committedMetadata ?? "", commitTimestamp: now,
                                                expireTimestamp: expire)))
            }
        }
        let errors: [KafkaError]
        if groups.isLoading {
            errors = offsets.map { _ in .coordinatorLoadInProgress }
        } else {
            errors = groups.commit(groupId: request.groupId, generationId: request.generationIdOrMemberEpoch,
                                   memberId: request.memberId, instanceId: request.groupInstanceId,
                                   offsets: offsets).1
        }
        var response = OffsetCommitResponse()
        var i = 0
        for t in request.topics {
            var rt = OffsetCommitResponse.OffsetCommitResponseTopic()
            rt.name = t.name
            for p in t.partitions {
                var rp = OffsetCommitResponse.OffsetCommitResponsePartition()
                rp.partitionIndex = p.partitionIndex
                rp.errorCode = errors[i].rawValue
                i += 1
                rt.partitions.append(rp)
            }
            response.topics.append(rt)
        }
        return .respond(response)
    }
}
