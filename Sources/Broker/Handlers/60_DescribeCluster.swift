import KafkaProtocol

/// DescribeCluster: v0–v1. This node is the whole cluster and its controller. v1 asks for an
/// endpoint type: brokers (1) are served; controllers (2) are UNSUPPORTED_ENDPOINT_TYPE, since
/// a Sluice node is not a separate KRaft controller. Authorization: none to answer (as in
/// Kafka); the cluster's authorized-operations bitfield is 0 without Describe on the cluster.
extension Broker {
    func handleDescribeCluster(_ header: RequestContext, _ r: inout WireReader) throws(DecodeError) -> HandlerOutcome {
        let request = try DescribeClusterRequest(from: &r, version: header.apiVersion)
        var response = DescribeClusterResponse()
        response.endpointType = request.endpointType
        if header.apiVersion >= 1 && request.endpointType != 1 {
            response.errorCode = KafkaError.unsupportedEndpointType.rawValue
            response.errorMessage = "Only broker endpoints are available"
            return .respond(response)
        }
        response.clusterId = metadata.clusterId
        response.controllerId = config.nodeId
        let endpoint = advertisedEndpoint(for: header.listenerName)
        var broker = DescribeClusterResponse.DescribeClusterBroker()
        broker.brokerId = config.nodeId
        broker.host = endpoint.host
        broker.port = endpoint.port
        response.brokers = [broker]
        if request.includeClusterAuthorizedOperations {
            let access = access(header)
            response.clusterAuthorizedOperations = access.allowsCluster(.describe, for: .ownNamespace)
                ? access.authorizedOperations(.cluster) : 0
        }
        return .respond(response)
    }
}
