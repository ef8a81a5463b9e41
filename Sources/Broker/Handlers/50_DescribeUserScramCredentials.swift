import KafkaProtocol
import Security

/// DescribeUserScramCredentials: v0 (KIP-554). For each asked-for user (all users when the list is
/// null or empty) the mechanisms and iteration counts of its SCRAM credentials — never salts or
/// keys. Per user: RESOURCE_NOT_FOUND for a user without credentials, DUPLICATE_RESOURCE for a
/// user named twice. Describe on the cluster is required (CLUSTER_AUTHORIZATION_FAILED at top
/// level and for each asked-for user); without an authorizer everyone may, as in Kafka. A tenant
/// member sees only its own user (CLUSTER_AUTHORIZATION_FAILED for any other it names).
extension Broker {
    func handleDescribeUserScramCredentials(_ header: RequestContext, _ r: inout WireReader) throws(DecodeError)
        -> HandlerOutcome {
        let request = try DescribeUserScramCredentialsRequest(from: &r, version: header.apiVersion)
        var response = DescribeUserScramCredentialsResponse()
        response.errorMessage = nil
        func result(_ user: String, _ error: KafkaError, _ message: String?)
            -> DescribeUserScramCredentialsResponse.DescribeUserScramCredentialsResult {
            var result = DescribeUserScramCredentialsResponse.DescribeUserScramCredentialsResult()
            result.user = user
            result.errorCode = error.rawValue
            result.errorMessage = message
            return result
        }
        let access = access(header)
        guard access.allowsCluster(.describe, for: .ownNamespace) else {
            let message = AuthorizationMessage.denied(.describe, .cluster)
            response.errorCode = KafkaError.clusterAuthorizationFailed.rawValue
            response.errorMessage = message
            response.results = (request.users ?? []).map { result($0.name, .clusterAuthorizationFailed, message) }
            return .respond(response)
        }
        let store = security.credentials
        var names = (request.users ?? []).map(\.name)
        // A tenant member sees its own user's credentials only: listing all lists that one, and
        // any other user is refused as not authorized (it may or may not exist).
        if names.isEmpty { names = store.userNames.filter { access.withinTenant(.credentialsOf(user: $0)) } }
        var counts: [String: Int] = [:]
        for name in names { counts[name, default: 0] += 1 }
        var reported = Set<String>()
        for name in names where reported.insert(name).inserted {
            if !access.allowsCluster(.describe, for: .credentialsOf(user: name)) {
                response.results.append(result(name, .clusterAuthorizationFailed,
                                               AuthorizationMessage.denied(.describe, .cluster)))
            } else if counts[name]! > 1 {
                response.results.append(result(name, .duplicateResource,
                                               "User \(name) is named more than once in the request"))
            } else if let credentials = store.describe(user: name) {
                var found = result(name, .none, nil)
                found.credentialInfos = credentials.map { mechanism, iterations in
                    var info = DescribeUserScramCredentialsResponse.CredentialInfo()
                    info.mechanism = mechanism.kafkaType
                    info.iterations = Int32(iterations)
                    return info
                }
                response.results.append(found)
            } else {
                response.results.append(result(name, .resourceNotFound, "User \(name) has no SCRAM credentials"))
            }
        }
        return .respond(response)
    }
}
