import KafkaProtocol
import Security

/// CreateAcls: v0–v3 (v1+ pattern types). Adds rules to the API-made rule set
/// (`<data dir>/acls-api`), persisted before they take effect; creating a rule that already
/// exists succeeds without change (Kafka's semantics). Per creation: INVALID_REQUEST for a bad
/// binding (unknown codes, ANY/MATCH, empty name, a cluster not named kafka-cluster, a principal
/// that is not `User:<name>`, a bad host). Every creation gets CLUSTER_AUTHORIZATION_FAILED
/// without Alter on the cluster or while `acls.api.enabled=false` (the message says which),
/// SECURITY_DISABLED without an authorizer.
extension Broker {
    func handleCreateAcls(_ header: RequestContext, _ r: inout WireReader) throws(DecodeError) -> HandlerOutcome {
        let request = try CreateAclsRequest(from: &r, version: header.apiVersion)
        var response = CreateAclsResponse()
        if let (error, message) = aclChangeRefusal(header) {
            response.results = request.creations.map { _ in Self.aclCreationResult(error, message) }
            return .respond(response)
        }
        let access = access(header)
        var rules: [AclRule] = []
        var results: [CreateAclsResponse.AclCreationResult?] = []
        for creation in request.creations {
            switch ApiAclSet.bindingFromWire(
                resourceType: creation.resourceType, name: creation.resourceName,
                patternType: creation.resourcePatternType, principal: creation.principal, host: creation.host,
                operation: creation.operation, permission: creation.permissionType) {
            case .success(let rule) where !access.withinTenant(.aclsOf(principal: rule.principal)):
                results.append(Self.aclCreationResult(.invalidRequest,
                    "\(rule.principal) is not a member of your tenant: a tenant's ACLs can only name its own members"))
            case .success(let rule):
                rules.append(rule)
                results.append(nil)
            case .failure(let error):
                results.append(Self.aclCreationResult(KafkaError(error.kafkaErrorCode), error.message))
            }
        }
        var persisted: CreateAclsResponse.AclCreationResult = Self.aclCreationResult(.none, nil)
        if !rules.isEmpty, case .failure(let error) = security.createApiAcls(rules, by: header) {
            persisted = Self.aclCreationResult(.unknownServerError, "Could not save \(ApiAclSet.fileName): \(error)")
        }
        response.results = results.map { $0 ?? persisted }
        return .respond(response)
    }

    static func aclCreationResult(_ error: KafkaError, _ message: String?) -> CreateAclsResponse.AclCreationResult {
        var result = CreateAclsResponse.AclCreationResult()
        result.errorCode = error.rawValue
        result.errorMessage = message
        return result
    }

    /// Why CreateAcls/DeleteAcls may not change anything for this caller, if so: Alter on the
    /// cluster is required (checked first, as in Kafka), an authorizer must be configured, and
    /// the API rule set must be switched on. The last is reported as CLUSTER_AUTHORIZATION_FAILED
    /// (an authorization error clients show with its message) rather than SECURITY_DISABLED,
    /// which would claim that no authorizer runs.
    /// Tenancy: ACL rules whose principal belongs to a tenant are matched against that tenant's
    /// local names, so a tenant member may only see, create and delete rules for its own tenant's
    /// member principals (`ClusterUse.aclsOf`; resource names stay local).
    func aclChangeRefusal(_ header: RequestContext) -> (KafkaError, String)? {
        if !access(header).allowsCluster(.alter, for: .ownNamespace) {
            return (.clusterAuthorizationFailed, AuthorizationMessage.denied(.alter, .cluster))
        }
        if !security.enabled { return (.securityDisabled, "No authorizer is configured on the broker") }
        if !security.authorizer.apiAclsEnabled {
            return (.clusterAuthorizationFailed,
                    "ACLs made through the admin API are switched off on this cluster (acls.api.enabled=false); "
                        + "access is managed in the policy files")
        }
        return nil
    }
}
