import KafkaProtocol

/// DescribeClientQuotas (48) and AlterClientQuotas (49), v0–v1, mapped onto tenants: Kafka's
/// `user` entity names a tenant (not a member principal), and the keys `producer_byte_rate`,
/// `consumer_byte_rate`, `request_percentage` and `connection_creation_rate` are that tenant's
/// produce/fetch byte rates, request-time percentage and connection creation rate. Describe
/// answers the effective values (the tenant file's, with operator overrides applied); Alter writes
/// overrides that persist in the data directory (`client-quotas.json`) and take precedence over
/// the files until removed (`remove=true` falls back to the file's value). Other entity types
/// (`client-id`, `ip`), default entities and other keys are refused with INVALID_REQUEST.
/// Authorization: DescribeConfigs / AlterConfigs on the cluster (operators).
extension Broker {
    func handleDescribeClientQuotas(_ header: RequestContext, _ r: inout WireReader) throws(DecodeError) -> HandlerOutcome {
        let request = try DescribeClientQuotasRequest(from: &r, version: header.apiVersion)
        var response = DescribeClientQuotasResponse()
        response.errorMessage = nil
        guard access(header).allowsCluster(.describeConfigs, for: .brokerWide) else {
            response.errorCode = KafkaError.clusterAuthorizationFailed.rawValue
            response.errorMessage = "Cluster authorization failed."
            response.entries = nil
            return .respond(response)
        }
        // Components: entity type "user" only; match type 0 = exact name, 2 = any (specified)
        // entity; 1 (the default entity) matches nothing, since tenants have no default.
        var names: Set<String>? = nil
        for component in request.components {
            guard component.entityType == "user" else {
                if request.strict || component.matchType != 2 {
                    response.errorCode = KafkaError.invalidRequest.rawValue
                    response.errorMessage = "Only the user entity (a tenant name) is supported; got \(component.entityType)."
                    response.entries = nil
                    return .respond(response)
                }
                continue
            }
            switch component.matchType {
            case 0: names = names.map { $0.intersection([component.match ?? ""]) } ?? [component.match ?? ""]
            case 1: names = []
            default: break
            }
        }
        var entries: [DescribeClientQuotasResponse.EntryData] = []
        for usage in tenantUsage() where names?.contains(usage.tenant) ?? true {
            var values: [(String, Double)] = []
            let l = usage.limits
            if let v = l.rates.produceBytesPerSecond { values.append(("producer_byte_rate", v)) }
            if let v = l.rates.fetchBytesPerSecond { values.append(("consumer_byte_rate", v)) }
            if let v = l.rates.requestPercentage { values.append(("request_percentage", v)) }
            if let v = l.connectionCreationRate { values.append(("connection_creation_rate", v)) }
            guard !values.isEmpty else { continue }
            var entry = DescribeClientQuotasResponse.EntryData()
            var entity = DescribeClientQuotasResponse.EntityData()
            entity.entityType = "user"
            entity.entityName = usage.tenant
            entry.entity = [entity]
            entry.values = values.map { key, value in
                var v = DescribeClientQuotasResponse.ValueData()
                v.key = key
                v.value = value
                return v
            }
            entries.append(entry)
        }
        response.entries = entries
        return .respond(response)
    }

    func handleAlterClientQuotas(_ header: RequestContext, _ r: inout WireReader) throws(DecodeError) -> HandlerOutcome {
        let request = try AlterClientQuotasRequest(from: &r, version: header.apiVersion)
        var response = AlterClientQuotasResponse()
        let allowed = access(header).allowsCluster(.alterConfigs, for: .brokerWide)
        let known = Set(quotas.catalog.tenants().map(\.name))
        for entry in request.entries {
            var result = AlterClientQuotasResponse.EntryData()
            result.errorMessage = nil
            result.entity = entry.entity.map { e in
                var out = AlterClientQuotasResponse.EntityData()
                out.entityType = e.entityType
                out.entityName = e.entityName
                return out
            }
            func fail(_ error: KafkaError, _ message: String) {
                result.errorCode = error.rawValue
                result.errorMessage = message
            }
            if !allowed {
                fail(.clusterAuthorizationFailed, "Cluster authorization failed.")
            } else if entry.entity.count != 1 || entry.entity[0].entityType != "user" {
                fail(.invalidRequest, "Only a single user entity (a tenant name) is supported.")
            } else if let name = entry.entity[0].entityName, known.contains(name) {
                var changes: [String: Double?] = [:]
                var problem: String?
                for op in entry.ops {
                    if !BrokerQuotas.keys.contains(op.key) {
                        problem = "Unsupported quota key \(op.key); supported: \(BrokerQuotas.keys.joined(separator: ", "))."
                    } else if !op.remove && !(op.value > 0) {
                        problem = "Quota \(op.key) must be a positive number."
                    } else {
                        changes[op.key] = op.remove ? Double?.none : op.value
                    }
                }
                if let problem {
                    fail(.invalidRequest, problem)
                } else if !request.validateOnly {
                    do {
                        try quotas.alter(tenant: name, changes: changes)
                    } catch {
                        fail(.unknownServerError, "Could not persist the quota: \(error)")
                    }
                }
            } else {
                fail(.invalidRequest, entry.entity[0].entityName == nil
                     ? "Tenants have no default entity: name a tenant."
                     : "No tenant is named \(entry.entity[0].entityName ?? "")")
            }
            response.entries.append(result)
        }
        return .respond(response)
    }
}
