import KafkaProtocol
import LogStore

/// ListOffsets: v1–v7. Timestamps: -1 latest (high watermark; the last stable offset for
/// read_committed), -2 earliest (log start offset), -3 the record with the largest timestamp (v7+),
/// otherwise the first offset whose timestamp is at or after the one asked for (via .timeindex);
/// none found → offset -1. v4+ checks the current leader epoch and returns ours.
/// Authorization: Describe on each topic (TOPIC_AUTHORIZATION_FAILED per partition).
extension Broker {
    static let latestTimestamp: Int64 = -1
    static let earliestTimestamp: Int64 = -2
    static let maxTimestamp: Int64 = -3

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
                topicResponse.partitions.append(listOffset(topic.name, p, version: header.apiVersion))
            }
            response.topics.append(topicResponse)
        }
        return .respond(response)
    }

    private func listOffset(_ topic: String, _ p: ListOffsetsRequest.ListOffsetsPartition, version: Int16)
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
        answer.leaderEpoch = partition.leaderEpoch
        switch p.timestamp {
        case Self.latestTimestamp:
            answer.offset = log.highWatermark
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
                    if let found = try log.offsetForTimestamp(p.timestamp), found.offset < log.highWatermark {
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
