import KafkaProtocol

/// InitProducerId: v0–v5. Without a transactional id (idempotent producers) every call gets a
/// fresh producer id with epoch 0, as Kafka does. Transactional ids are not served yet: they
/// answer UNSUPPORTED_VERSION, which clients report as "transactions not supported by the broker"
/// (docs/UNSUPPORTED.md). v0 stays in range for older librdkafka's feature check.
extension Broker {
    func handleInitProducerId(_ header: RequestContext, _ r: inout WireReader) throws(DecodeError) -> HandlerOutcome {
        let request = try InitProducerIdRequest(from: &r, version: header.apiVersion)
        var response = InitProducerIdResponse()
        if let transactionalId = request.transactionalId, !transactionalId.isEmpty {
            response.errorCode = KafkaError.unsupportedVersion.rawValue
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
