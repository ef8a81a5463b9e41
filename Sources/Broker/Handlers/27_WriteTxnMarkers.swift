import KafkaProtocol
import LogStore

/// WriteTxnMarkers: v0–v1 (the transaction coordinator's request to partition leaders, KIP-98).
/// For each marker and each of its partitions, a COMMIT (`transaction_result` true) or ABORT
/// control batch is appended for the producer through `Partition.writeTxnMarker`, which refuses an
/// older producer epoch (INVALID_PRODUCER_EPOCH) or coordinator epoch
/// (TRANSACTION_COORDINATOR_FENCED); an unknown partition is UNKNOWN_TOPIC_OR_PARTITION.
/// Authorization (Kafka's): ClusterAction on the cluster, else CLUSTER_AUTHORIZATION_FAILED for
/// every partition. That is never a tenant member's (broker-wide use), so names are not mapped.
extension Broker {
    func handleWriteTxnMarkers(_ header: RequestContext, _ r: inout WireReader) throws(DecodeError) -> HandlerOutcome {
        let request = try WriteTxnMarkersRequest(from: &r, version: header.apiVersion)
        let access = access(header)
        let allowed = access.allowsEverything || access.allowsCluster(.clusterAction, for: .brokerWide)
        let now = SystemClock.nowMs()
        var response = WriteTxnMarkersResponse()
        for marker in request.markers {
            var markerResult = WriteTxnMarkersResponse.WritableTxnMarkerResult()
            markerResult.producerId = marker.producerId
            for topic in marker.topics {
                var topicResult = WriteTxnMarkersResponse.WritableTxnMarkerTopicResult()
                topicResult.name = topic.name
                for index in topic.partitionIndexes {
                    var result = WriteTxnMarkersResponse.WritableTxnMarkerPartitionResult()
                    result.partitionIndex = index
                    if !allowed {
                        result.errorCode = KafkaError.clusterAuthorizationFailed.rawValue
                    } else if let partition = replicas.partition(topic.name, index) {
                        if let refusal = partition.writeTxnMarker(
                            producerId: marker.producerId, producerEpoch: marker.producerEpoch,
                            coordinatorEpoch: marker.coordinatorEpoch, commit: marker.transactionResult, now: now) {
                            result.errorCode = refusal.error.rawValue
                        } else {
                            // The last stable offset may have moved: read_committed fetches may complete.
                            purgatory.checkWatchers(partition.key)
                        }
                    } else {
                        result.errorCode = KafkaError.unknownTopicOrPartition.rawValue
                    }
                    topicResult.partitions.append(result)
                }
                markerResult.topics.append(topicResult)
            }
            response.markers.append(markerResult)
        }
        return .respond(response)
    }
}
