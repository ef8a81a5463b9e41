import KafkaProtocol
import LogStore

/// OffsetForLeaderEpoch: v0–v4 (KIP-101/KIP-320; v0–v1, which Kafka 4 dropped, have no current
/// leader epoch to check and v0 answers no epoch). For a requested epoch, the end offset of the
/// largest epoch ≤ it from the partition's leader-epoch cache; the current leader epoch is checked
/// as for Fetch. Consumers use it to detect truncation; followers will use it to truncate.
/// Authorization (KIP-320): ClusterAction on the cluster, or else Describe on each topic
/// (TOPIC_AUTHORIZATION_FAILED per partition).
extension Broker {
    func handleOffsetForLeaderEpoch(_ header: RequestContext, _ r: inout WireReader) throws(DecodeError)
        -> HandlerOutcome {
        var request = try OffsetForLeaderEpochRequest(from: &r, version: header.apiVersion)
        if header.tenant != nil {
            for i in request.topics.indices { request.topics[i].topic = header.names.topic(request.topics[i].topic) }
        }
        var response = OffsetForLeaderEpochResponse()
        let access = access(header)
        let denied = access.allowsEverything ? []
            : access.allowsCluster(.clusterAction, for: .brokerWide, quiet: true) ? access.unnameable(request.topics.lazy.map(\.topic))
            : access.deniedNames(.describe, .topic, request.topics.lazy.map(\.topic))
        for topic in request.topics {
            var topicResult = OffsetForLeaderEpochResponse.OffsetForLeaderTopicResult()
            topicResult.topic = header.names.local(topic.topic)
            let topicDenied = !denied.isEmpty && denied.contains(topic.topic)
            for p in topic.partitions {
                var result = OffsetForLeaderEpochResponse.EpochEndOffset()
                result.partition = p.partition
                if topicDenied {
                    result.errorCode = KafkaError.topicAuthorizationFailed.rawValue
                } else if let partition = replicas.partition(topic.topic, p.partition) {
                    if let epochError = checkLeaderEpoch(p.currentLeaderEpoch, partition) {
                        result.errorCode = epochError.rawValue
                    } else {
                        let end = partition.log.endOffset(forLeaderEpoch: p.leaderEpoch)
                        result.leaderEpoch = end.epoch
                        result.endOffset = end.endOffset
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
