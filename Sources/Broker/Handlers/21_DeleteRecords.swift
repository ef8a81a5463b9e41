import KafkaProtocol
import LogStore

/// DeleteRecords: v0–v2. Moves the log start offset forward (whole segments below it are
/// removed); -1 means the high watermark; beyond it is OFFSET_OUT_OF_RANGE. Authorization: Delete
/// on each topic (TOPIC_AUTHORIZATION_FAILED per partition, checked before existence).
extension Broker {
    func handleDeleteRecords(_ header: RequestContext, _ r: inout WireReader) throws(DecodeError) -> HandlerOutcome {
        var request = try DeleteRecordsRequest(from: &r, version: header.apiVersion)
        if header.tenant != nil {
            for i in request.topics.indices { request.topics[i].name = header.names.topic(request.topics[i].name) }
        }
        var response = DeleteRecordsResponse()
        let denied = access(header).deniedNames(.delete, .topic, request.topics.lazy.map(\.name))
        for topic in request.topics {
            var topicResult = DeleteRecordsResponse.DeleteRecordsTopicResult()
            topicResult.name = header.names.local(topic.name)
            let topicDenied = !denied.isEmpty && denied.contains(topic.name)
            for p in topic.partitions {
                var result = DeleteRecordsResponse.DeleteRecordsPartitionResult()
                result.partitionIndex = p.partitionIndex
                result.lowWatermark = -1
                if topicDenied {
                    result.errorCode = KafkaError.topicAuthorizationFailed.rawValue
                } else if let partition = replicas.partition(topic.name, p.partitionIndex) {
                    let log = partition.log
                    let target = p.offset == -1 ? log.highWatermark : p.offset
                    if target < 0 || target > log.highWatermark {
                        result.errorCode = KafkaError.offsetOutOfRange.rawValue
                    } else {
                        do {
                            result.lowWatermark = try log.deleteRecords(before: target)
                        } catch {
                            result.errorCode = KafkaError.kafkaStorageError.rawValue
                        }
                    }
                } else {
                    result.errorCode = KafkaError.unknownTopicOrPartition.rawValue
                }
                topicResult.partitions.append(result)
            }
            response.topics.append(topicResult)
        }
        return .respond(response)
    }
}
