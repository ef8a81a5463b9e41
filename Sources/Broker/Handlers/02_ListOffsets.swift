import KafkaProtocol
import LogStore

/// ListOffsets: v0–v7. v0 (sarama before its V0_10_1_0 setting; Kafka 4 dropped it in KIP-896)
/// answers Kafka's legacy way: up to `max_num_offsets` segment start offsets, largest first, of
/// the segments last modified at or before the timestamp (-1 adds the high watermark, -2 is the
/// log start), see `PartitionLog.offsetsBefore`. v1+ timestamps: -1 latest (high watermark; the last stable
/// offset for isolation_level 1, read_committed, v2+), -2 earliest (log start offset), -3 the record with the largest timestamp (v7+),
/// otherwise the first offset whose timestamp is at or after the one asked for (via .timeindex);
/// none found → offset -1 (as in Kafka, also when it lies at or past the offset the isolation level
/// may read: high watermark or last stable offset). v4+ checks the current leader epoch and returns ours.
/// Authorization: Describe on each topic (TOPIC_AUTHORIZATION_FAILED per partition).
extension Broker {
    static let latestTimestamp: Int64 = -1
    static let earliestTimestamp: Int64 = -2
    static let maxTimestamp: Int64 = -3
    /// The replica id consumers send; others (followers, -2 debug tools) may read past the high watermark.
    static let consumerReplicaId: Int32 = -1

    func handleListOffsets(_ header: RequestContext, _ r: inout WireReader) throws(DecodeError) -> HandlerOutcome {
        var request = try ListOffsetsRequest(from: &r, version: header.apiVersion)
        if header.tenant != nil {
            for i in request.topics.indices { request.topics[i].name = header.names.topic(request.topics[i].name) }
        }
        var response = ListOffsetsResponse()
        let denied = access(header).deniedNames(.describe, .topic, request.topics.lazy.map(\.name))
        for topic in request.topics {
            var topicResponse = ListOffsetsResponse.ListOffsetsTopicResponse()
            topicResponse.name = header.names.local(topic.name)
            let topicDenied = !denied.isEmpty && denied.contains(topic.name)
            for p in topic.partitions {
                if topicDenied {
                    var answer = ListOffsetsResponse.ListOffsetsPartitionResponse()
                    answer.partitionIndex = p.partitionIndex
                    answer.errorCode = KafkaError.topicAuthorizationFailed.rawValue
                    topicResponse.partitions.append(answer)
                    continue
                }
                topicResponse.partitions.append(listOffset(topic.name, p, version: header.apiVersion,
                                                           replicaId: request.replicaId,
                                                           readCommitted: request.isolationLevel == 1))
            }
            response.topics.append(topicResponse)
        }
        return .respond(response)
    }

    private func listOffset(_ topic: String, _ p: ListOffsetsRequest.ListOffsetsPartition, version: Int16,
                            replicaId: Int32, readCommitted: Bool)
        -> ListOffsetsResponse.ListOffsetsPartitionResponse {
        var answer = ListOffsetsResponse.ListOffsetsPartitionResponse()
        answer.partitionIndex = p.partitionIndex
        guard let partition = replicas.partition(topic, p.partitionIndex) else {
            answer.errorCode = KafkaError.unknownTopicOrPartition.rawValue
            return answer
        }
        if let epochError = checkLeaderEpoch(p.currentLeaderEpoch, partition) {
            answer.errorCode = epochError.rawValue
            return answer
        }
        let log = partition.log
        if version == 0 {
            do {
                var offsets = try log.offsetsBefore(p.timestamp, maxCount: Int(max(p.maxNumOffsets, 0)),
                                                    now: SystemClock.nowMs())
                // Consumers see nothing past the high watermark: it stands in for larger offsets.
                let highWatermark = log.highWatermark
                if replicaId == Self.consumerReplicaId, offsets.contains(where: { $0 > highWatermark }) {
                    offsets = [highWatermark] + offsets.drop { $0 > highWatermark }
                }
                answer.oldStyleOffsets = offsets
            } catch {
                answer.errorCode = KafkaError.kafkaStorageError.rawValue
            }
            return answer
        }
        answer.leaderEpoch = partition.leaderEpoch
        let fetchable = readCommitted ? log.lastStableOffset : log.highWatermark
        switch p.timestamp {
        case Self.latestTimestamp:
            answer.offset = fetchable
        case Self.earliestTimestamp:
            answer.offset = log.logStartOffset
        case Self.maxTimestamp:
            do {
                if let found = try log.maxTimestampOffset() {
                    answer.offset = found.offset
                    answer.timestamp = found.timestamp
                }
            } catch {
                answer.errorCode = KafkaError.kafkaStorageError.rawValue
            }
        default:
            if p.timestamp < 0 {
                answer.errorCode = KafkaError.invalidRequest.rawValue
            } else {
                do {
                    if let found = try log.offsetForTimestamp(p.timestamp), found.offset < fetchable {
                        answer.offset = found.offset
                        answer.timestamp = found.timestamp
                    }
                } catch {
                    answer.errorCode = KafkaError.kafkaStorageError.rawValue
                }
            }
        }
        return answer
    }
}
