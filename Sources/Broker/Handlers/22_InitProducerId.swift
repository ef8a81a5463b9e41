import KafkaProtocol

/// InitProducerId: v0–v5. Without a transactional id (idempotent producers) every call gets a
/// fresh producer id with epoch 0, as Kafka does. Transactional ids are not served yet: they
/// answer UNSUPPORTED_VERSION, which clients report as "transactions not supported by the broker"
/// (docs/UNSUPPORTED.md). v0 stays in range for older librdkafka's feature check.
/// Authorization (Kafka's): a transactional id needs Write on it (TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
/// an idempotent producer needs IdempotentWrite on the cluster or Write on at least one topic
/// (KIP-679), else CLUSTER_AUTHORIZATION_FAILED.
extension Broker {
    func handleInitProducerId(_ header: RequestContext, _ r: inout WireReader) throws(DecodeError) -> HandlerOutcome {
        var request = try InitProducerIdRequest(from: &r, version: header.apiVersion)
        request.transactionalId = header.names.group(request.transactionalId)
        var response = InitProducerIdResponse()
        let access = access(header)
        if let transactionalId = request.transactionalId, !transactionalId.isEmpty {
            if !access.allows(.write, .transactionalId(transactionalId)) {
                response.errorCode = KafkaError.transactionalIdAuthorizationFailed.rawValue
                response.producerEpoch = -1
                return .respond(response)
            }
            response.errorCode = KafkaError.unsupportedVersion.rawValue
            return .respond(response)
        }
        // KIP-679: IdempotentWrite on the cluster, or Write on at least one topic.
        if !access.allowsEverything && !access.allowsCluster(.idempotentWrite, for: .ownNamespace, quiet: true)
            && !access.allowsAny(.write, of: .topic) {
            access.recordDenial(.idempotentWrite, .cluster)
            response.errorCode = KafkaError.clusterAuthorizationFailed.rawValue
            response.producerEpoch = -1
            return .respond(response)
        }
        do {
            response.producerId = try producerIds.next()
            response.producerEpoch = 0
        } catch {
            response.errorCode = KafkaError.unknownServerError.rawValue
        }
        return .respond(response)
    }
}
