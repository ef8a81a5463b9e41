import KafkaProtocol
import Security

/// DeleteAcls: v0–v3 (v1+ pattern types). Removes the API-made rules matching each filter
/// (Kafka's filter semantics: ANY, MATCH, exact fields) and lists them per filter. Rules from the
/// policy files cannot be deleted through the API: a filter that matches one fails as a whole
/// with POLICY_VIOLATION, names the file lines in its message and deletes nothing (narrow the
/// filter, or edit the files). Per filter also: INVALID_REQUEST for an unknown code. Every filter
/// gets CLUSTER_AUTHORIZATION_FAILED without Alter on the cluster or while
/// `acls.api.enabled=false`, SECURITY_DISABLED without an authorizer.
extension Broker {
    func handleDeleteAcls(_ header: RequestContext, _ r: inout WireReader) throws(DecodeError) -> HandlerOutcome {
        let request = try DeleteAclsRequest(from: &r, version: header.apiVersion)
        var response = DeleteAclsResponse()
        func failed(_ error: KafkaError, _ message: String) -> DeleteAclsResponse.DeleteAclsFilterResult {
            var result = DeleteAclsResponse.DeleteAclsFilterResult()
            result.errorCode = error.rawValue
            result.errorMessage = message
            return result
        }
        if let (error, message) = aclChangeRefusal(header) {
            response.filterResults = request.filters.map { _ in failed(error, message) }
            return .respond(response)
        }
        let access = access(header)
        let policy = security.authorizer.policy
        var filters: [AclBindingFilter] = []
        var results: [DeleteAclsResponse.DeleteAclsFilterResult?] = []
        for wire in request.filters {
            let parsed = AclBindingFilter.fromWire(
                resourceType: wire.resourceTypeFilter, name: wire.resourceNameFilter,
                patternType: wire.patternTypeFilter, principal: wire.principalFilter, host: wire.hostFilter,
                operation: wire.operation, permission: wire.permissionType)
            switch parsed {
            case .failure(let error):
                results.append(failed(KafkaError(error.kafkaErrorCode), error.message))
            case .success where header.tenant != nil
                && !(wire.principalFilter.map { access.withinTenant(.aclsOf(principal: $0)) } ?? false):
                results.append(failed(.invalidRequest,
                    "A tenant's DeleteAcls filter must name one of the tenant's member principals"))
            case .success(let filter):
                let fileRefs = zip(policy.rules, policy.refs)
                    .filter { $0.0.pattern.type != .subject && filter.matches($0.0) }.map(\.1)
                if !fileRefs.isEmpty {
                    let shown = fileRefs.prefix(5).map(\.description).joined(separator: ", ")
                        + (fileRefs.count > 5 ? ", ..." : "")
                    results.append(failed(.policyViolation,
                        "The filter matches \(fileRefs.count) rule(s) from policy files (\(shown)); rules from "
                            + "policy files cannot be deleted through the API: edit the files, or narrow the "
                            + "filter. Nothing was deleted for this filter."))
                } else {
                    filters.append(filter)
                    results.append(nil)
                }
            }
        }
        var matched: [[(id: Int, rule: AclRule)]] = []
        var persistError: String?
        if !filters.isEmpty {
            switch security.deleteApiAcls(filters, by: header) {
            case .success(let perFilter): matched = perFilter
            case .failure(let error): persistError = "Could not save \(ApiAclSet.fileName): \(error)"
            }
        }
        var next = 0
        response.filterResults = results.map { result in
            if let result { return result }
            defer { next += 1 }
            if let persistError { return failed(.unknownServerError, persistError) }
            var ok = DeleteAclsResponse.DeleteAclsFilterResult()
            ok.errorMessage = nil
            ok.matchingAcls = matched[next].map { entry in
                var acl = DeleteAclsResponse.DeleteAclsMatchingAcl()
                acl.errorMessage = nil
                acl.resourceType = entry.rule.pattern.type.rawValue
                acl.resourceName = entry.rule.pattern.name
                acl.patternType = entry.rule.pattern.patternType.rawValue
                acl.principal = entry.rule.principal
                acl.host = entry.rule.host
                acl.operation = entry.rule.operation.rawValue
                acl.permissionType = entry.rule.permission.rawValue
                return acl
            }
            return ok
        }
        return .respond(response)
    }
}
