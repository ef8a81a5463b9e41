import KafkaProtocol
import Security

/// DescribeAcls: v0–v3 (KIP-140; v1+ pattern types, KIP-290). Lists the rules in force that match
/// the filter — policy-file rules and API-made rules (the latter only while `acls.api.enabled`),
/// grouped by resource pattern. Schema-registry `subject` rules have no Kafka resource type and
/// are not listed. Errors (top level): CLUSTER_AUTHORIZATION_FAILED without Describe on the
/// cluster, SECURITY_DISABLED without an authorizer, INVALID_REQUEST for an unknown code in the
/// filter.
extension Broker {
    func handleDescribeAcls(_ header: RequestContext, _ r: inout WireReader) throws(DecodeError) -> HandlerOutcome {
        let request = try DescribeAclsRequest(from: &r, version: header.apiVersion)
        var response = DescribeAclsResponse()
        response.errorMessage = nil
        func fail(_ error: KafkaError, _ message: String) -> HandlerOutcome {
            response.errorCode = error.rawValue
            response.errorMessage = message
            return .respond(response)
        }
        let access = access(header)
        guard access.allowsCluster(.describe, for: .ownNamespace) else {
            return fail(.clusterAuthorizationFailed, AuthorizationMessage.denied(.describe, .cluster))
        }
        guard security.enabled else { return fail(.securityDisabled, "No authorizer is configured on the broker") }
        let filter: AclBindingFilter
        switch AclBindingFilter.fromWire(
            resourceType: request.resourceTypeFilter, name: request.resourceNameFilter,
            patternType: request.patternTypeFilter, principal: request.principalFilter, host: request.hostFilter,
            operation: request.operation, permission: request.permissionType) {
        case .success(let parsed): filter = parsed
        case .failure(let error): return fail(.invalidRequest, error.message)
        }
        let authorizer = security.authorizer
        var groups: [AclResourcePattern: Int] = [:]
        for (ref, rule) in authorizer.describe(filter) where rule.pattern.type != .subject {
            if case .api = ref, !authorizer.apiAclsEnabled { continue }
            if !access.withinTenant(.aclsOf(principal: rule.principal)) { continue }
            var acl = DescribeAclsResponse.AclDescription()
            acl.principal = rule.principal
            acl.host = rule.host
            acl.operation = rule.operation.rawValue
            acl.permissionType = rule.permission.rawValue
            if let index = groups[rule.pattern] {
                response.resources[index].acls.append(acl)
                continue
            }
            var resource = DescribeAclsResponse.DescribeAclsResource()
            resource.resourceType = rule.pattern.type.rawValue
            resource.resourceName = rule.pattern.name
            resource.patternType = rule.pattern.patternType.rawValue
            resource.acls = [acl]
            groups[rule.pattern] = response.resources.count
            response.resources.append(resource)
        }
        return .respond(response)
    }
}
