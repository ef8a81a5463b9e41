import KafkaProtocol
import Security

/// AlterUserScramCredentials: v0 (KIP-554). Deletions (user, mechanism) and upsertions (user,
/// mechanism, iterations, salt, salted password: the client derives it; we keep only StoredKey
/// and ServerKey). Per user, one answer: DUPLICATE_RESOURCE when the user appears more than once
/// (nothing of it applies), UNSUPPORTED_SASL_MECHANISM for an unknown mechanism,
/// UNACCEPTABLE_CREDENTIAL for iterations outside 4096–16384, an empty user, salt or password,
/// RESOURCE_NOT_FOUND when deleting a credential that does not exist. Applied changes are written
/// to `<data dir>/scram-credentials` before the answer and used by the next login. Alter on the
/// cluster is required (CLUSTER_AUTHORIZATION_FAILED for each user it does not cover); without an
/// authorizer everyone may, as in Kafka. A tenant member may only ever change its own user's
/// credentials (docs/tenants.md), with or without an authorizer.
extension Broker {
    func handleAlterUserScramCredentials(_ header: RequestContext, _ r: inout WireReader) throws(DecodeError)
        -> HandlerOutcome {
        let request = try AlterUserScramCredentialsRequest(from: &r, version: header.apiVersion)
        var response = AlterUserScramCredentialsResponse()
        func result(_ user: String, _ error: KafkaError, _ message: String?)
            -> AlterUserScramCredentialsResponse.AlterUserScramCredentialsResult {
            var result = AlterUserScramCredentialsResponse.AlterUserScramCredentialsResult()
            result.user = user
            result.errorCode = error.rawValue
            result.errorMessage = message
            return result
        }
        // Alter on the cluster, per user: a tenant member may change its own credentials only.
        let access = access(header)
        var denied = Set<String>()
        for user in Set(request.deletions.map(\.name) + request.upsertions.map(\.name))
            where !access.allowsCluster(.alter, for: .credentialsOf(user: user)) {
            denied.insert(user)
        }
        let message = AuthorizationMessage.denied(.alter, .cluster)
        response.results = denied.sorted().map { result($0, .clusterAuthorizationFailed, message) }
        let outcomes = security.alterCredentials(
            deletions: request.deletions.filter { !denied.contains($0.name) }
                .map { .init(user: $0.name, mechanismType: $0.mechanism) },
            upsertions: request.upsertions.filter { !denied.contains($0.name) }.map {
                .init(user: $0.name, mechanismType: $0.mechanism, iterations: Int($0.iterations), salt: $0.salt,
                      saltedPassword: $0.saltedPassword)
            },
            by: header)
        response.results += outcomes.map { outcome in
            if let error = outcome.error {
                return result(outcome.user, KafkaError(error.kafkaErrorCode), error.message)
            }
            if let persist = outcome.persistError {
                return result(outcome.user, .unknownServerError, "Could not save the credentials: \(persist)")
            }
            return result(outcome.user, .none, nil)
        }
        return .respond(response)
    }
}
