import KafkaProtocol

/// FindCoordinator: v0–v4. This node coordinates every group, so a group key (type 0) is answered
/// with our advertised endpoint. Transaction keys (type 1) get COORDINATOR_NOT_AVAILABLE until
/// transactions exist; other key types INVALID_REQUEST. v4+ batches keys in `CoordinatorKeys`.
/// Authorization: Describe on the group (GROUP_AUTHORIZATION_FAILED) or on the transactional id
/// (TRANSACTIONAL_ID_AUTHORIZATION_FAILED), checked before anything else about the key.
extension Broker {
    func handleFindCoordinator(_ header: RequestContext, _ r: inout WireReader) throws(DecodeError) -> HandlerOutcome {
        let request = try FindCoordinatorRequest(from: &r, version: header.apiVersion)
        let endpoint = advertisedEndpoint(for: header.listenerName)
        let access = access(header)
        func answer(_ key: String) -> FindCoordinatorResponse.Coordinator {
            var c = FindCoordinatorResponse.Coordinator()
            c.key = key
            switch request.keyType {
            case 0 where !access.allowsGroup(.describe, key):
                return Self.noCoordinator(key, .groupAuthorizationFailed, AuthorizationMessage.denied(.describe, .group(key)))
            case 1 where !access.allows(.describe, .transactionalId(key)):
                return Self.noCoordinator(key, .transactionalIdAuthorizationFailed,
                                          AuthorizationMessage.denied(.describe, .transactionalId(key)))
            case 0:
                c.nodeId = config.nodeId
                c.host = endpoint.host
                c.port = endpoint.port
                c.errorMessage = nil
            case 1:
                c.nodeId = -1
                c.errorCode = KafkaError.coordinatorNotAvailable.rawValue
                c.errorMessage = "transactions are not supported yet"
            default:
                c.nodeId = -1
                c.errorCode = KafkaError.invalidRequest.rawValue
                c.errorMessage = "unknown coordinator key type \(request.keyType)"
            }
            if c.errorCode == 0 && key.isEmpty { return Self.noCoordinator(key, .invalidGroupId, "empty group id") }
            return c
        }
        // Keys are group ids or transactional ids: looked up in the caller's namespace, answered
        // as sent.
        let names = header.names
        func answerLocal(_ key: String) -> FindCoordinatorResponse.Coordinator {
            var c = answer(names.group(key))
            c.key = key
            c.errorMessage = names.message(c.errorMessage)
            return c
        }
        var response = FindCoordinatorResponse()
        if header.apiVersion >= 4 {
            response.coordinators = request.coordinatorKeys.map(answerLocal)
        } else {
            let c = answerLocal(request.key)
            response.errorCode = c.errorCode
            response.errorMessage = c.errorMessage
            response.nodeId = c.nodeId
            response.host = c.host
            response.port = c.port
        }
        return .respond(response)
    }

    /// An answer without a coordinator (Kafka's "no node": id -1, empty host, port -1).
    static func noCoordinator(_ key: String, _ error: KafkaError, _ message: String) -> FindCoordinatorResponse.Coordinator {
        var c = FindCoordinatorResponse.Coordinator()
        c.key = key
        c.nodeId = -1
        c.host = ""
        c.port = -1
        c.errorCode = error.rawValue
        c.errorMessage = message
        return c
    }
}
