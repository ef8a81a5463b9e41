import KafkaProtocol
import Security

/// What a cluster permission is used for. The cluster resource is shared by every tenant, so
/// `RequestAccess.allowsCluster(_:for:)` bounds a tenant member's cluster permissions by use.
enum ClusterUse: Equatable {
    /// Acting on names the handler checks against the caller's namespace itself (CreateTopics,
    /// Metadata auto-creation, ListGroups, InitProducerId, the cluster's own description).
    case ownNamespace
    /// Seeing or changing ACL rules of one principal (DescribeAcls, CreateAcls, DeleteAcls).
    case aclsOf(principal: String)
    /// Seeing or changing one user's SCRAM credentials (KIP-554).
    case credentialsOf(user: String)
    /// State of the whole cluster: broker configs, client quotas, replication (ClusterAction),
    /// leader elections and reassignments. Never a tenant member's.
    case brokerWide

    func staysInside(_ tenant: TenantNamespace, _ context: RequestContext, _ security: BrokerSecurity) -> Bool {
        switch self {
        case .ownNamespace: true
        case .aclsOf(let principal): security.tenants.tenant(for: principal)?.name == tenant.tenant
        case .credentialsOf(let user): "User:" + user == context.principal
        case .brokerWide: false
        }
    }
}

/// One request's view of the ACL engine: the authorizer snapshot taken once when the handler
/// starts, so a request is decided against one consistent rule set and pays for one lock at most.
///
/// Fast paths: without an authorizer (`authorizer.class.name` empty) no snapshot is taken and every
/// check is `true`; a super user is recognised once and then skips rule evaluation.
///
/// Denials go through `BrokerSecurity.record` (the audit hook). Checks Kafka makes with
/// `logIfDenied = false` — listing filters, the cluster-wide try before a per-topic check,
/// authorized-operation bitfields — pass `quiet: true` and are not recorded.
struct RequestAccess {
    let context: RequestContext
    let security: BrokerSecurity
    /// nil: no authorizer configured, everything is allowed.
    private let authorizer: Authorizer?
    private let superUser: Bool
    /// Tenancy (docs/tenants.md): a tenant member's names must be in its namespace and its rules
    /// are matched against local names; a caller with no tenant that is not a super user may not
    /// use the reserved internal form.
    private let tenant: TenantNamespace?
    private let reservedRefused: Bool

    init(_ security: BrokerSecurity, _ context: RequestContext) {
        self.security = security
        self.context = context
        if security.enabled {
            let snapshot = security.authorizer
            authorizer = snapshot
            superUser = snapshot.isSuperUser(context.principal)
        } else {
            authorizer = nil
            superUser = context.tenancy && context.tenant == nil && security.authorizer.isSuperUser(context.principal)
        }
        tenant = context.tenant
        reservedRefused = context.tenancy && context.tenant == nil && !superUser
    }

    /// True when no check can fail (no authorizer, or a super user, and no tenancy rule applies):
    /// handlers skip filtering.
    var allowsEverything: Bool { (authorizer == nil || superUser) && tenant == nil && !reservedRefused }

    /// Whether the caller may perform `operation` on `resource`. A cluster resource is checked
    /// as a use inside the caller's namespace (`allowsCluster(_:for: .ownNamespace)`): handlers
    /// that act on anything else with a cluster permission name that use.
    func allows(_ operation: AclOperation, _ resource: AclResource, quiet: Bool = false) -> Bool {
        if resource.type == .cluster { return allowsCluster(operation, for: .ownNamespace, quiet: quiet) }
        if let tenant {
            // Another namespace's name (a listing): never visible. Own names are decided by the
            // rules against the local name.
            guard let local = tenant.localName(resource.name) else {
                if !quiet { recordDenial(operation, resource) }
                return false
            }
            return allowsRules(operation, AclResource(resource.type, local), audited: resource, quiet: quiet)
        }
        if reservedRefused && Self.isReserved(resource) {
            if !quiet { recordDenial(operation, resource) }
            return false
        }
        return allowsRules(operation, resource, audited: resource, quiet: quiet)
    }

    /// Whether the caller may name `name` at all (its namespace; not the reserved form for a
    /// principal outside tenancy). Checked where a cluster permission stands in for per-name
    /// checks (CreateTopics with Create on the cluster, replica fetches, ListGroups with Describe
    /// on the cluster), so no cluster permission opens another namespace.
    func mayName(_ name: String) -> Bool {
        if let tenant { return tenant.owns(name) }
        return !(reservedRefused && TenantNamespace.isReserved(name))
    }

    /// With tenancy, the internal topics that hold every tenant's names (group ids and offsets in
    /// `__consumer_offsets`, subjects in `_schemas`) are reserved too: only operators read them.
    static let topicsHoldingTenantNames: Set<String> = [GroupRecordCodec.topic, SchemaRegistryService.topic]

    static func isReserved(_ resource: AclResource) -> Bool {
        TenantNamespace.isReserved(resource.name)
            || (resource.type == .topic && topicsHoldingTenantNames.contains(resource.name))
    }

    /// The names among `names` the caller may not name at all (empty without tenancy).
    func unnameable<S: Sequence>(_ names: S) -> Set<String> where S.Element == String {
        guard tenant != nil || reservedRefused else { return [] }
        return Set(names.filter { !mayName($0) })
    }

    private func allowsRules(_ operation: AclOperation, _ resource: AclResource, audited: AclResource,
                             quiet: Bool) -> Bool {
        guard let authorizer else { return true }
        if superUser {
            if !quiet && security.auditsAllows {
                security.record(context, operation, audited,
                                Decision(allowed: true, rule: nil, reason: Decision.superUserReason))
            }
            return true
        }
        let decision = authorizer.authorize(principal: context.principal, host: context.clientHost,
                                            operation: operation, resource: resource)
        if !quiet && (!decision.allowed || decision.isAllowedWithoutAcl || security.auditsAllows) {
            security.record(context, operation, audited, decision)
        }
        return decision.allowed
    }

    /// Records a denial decided by a combination of checks (each made quietly), such as
    /// InitProducerId's "IdempotentWrite on the cluster or Write on some topic".
    func recordDenial(_ operation: AclOperation, _ resource: AclResource) {
        security.record(context, operation, resource,
                        Decision(allowed: false, rule: nil, reason: Decision.noMatchReason))
    }

    func allowsTopic(_ operation: AclOperation, _ name: String, quiet: Bool = false) -> Bool {
        allows(operation, .topic(name), quiet: quiet)
    }

    func allowsGroup(_ operation: AclOperation, _ name: String, quiet: Bool = false) -> Bool {
        allows(operation, .group(name), quiet: quiet)
    }

    /// Whether the caller may perform `operation` on the cluster for `use`: the one place every
    /// cluster permission is checked. A tenant member is bounded before any rule is consulted
    /// (docs/tenants.md, "Cluster permissions"): only `TenantClusterPermissions.grantable`
    /// operations, and each only for a use inside its tenant — ACLs of its own tenant's members,
    /// its own SCRAM credentials, never broker-wide state — with or without an authorizer.
    func allowsCluster(_ operation: AclOperation, for use: ClusterUse, quiet: Bool = false) -> Bool {
        if let tenant, !tenantMayUse(operation, use, tenant) {
            if !quiet {
                security.record(context, operation, .cluster,
                                Decision(allowed: false, rule: nil, reason: TenantClusterPermissions.refusedReason))
            }
            return false
        }
        return allowsRules(operation, .cluster, audited: .cluster, quiet: quiet)
    }

    private func tenantMayUse(_ operation: AclOperation, _ use: ClusterUse, _ tenant: TenantNamespace) -> Bool {
        TenantClusterPermissions.grantable.contains(operation) && use.staysInside(tenant, context, security)
    }

    /// Whether `use` stays inside the caller's tenant (always true outside tenancy). Listings
    /// filter with it quietly after the caller's cluster permission was checked once.
    func withinTenant(_ use: ClusterUse) -> Bool {
        guard let tenant else { return true }
        return use.staysInside(tenant, context, security)
    }


    /// The names among `names` the caller may NOT perform `operation` on, each distinct name
    /// checked once (Kafka's `filterByAuthorized`). Empty without allocation when everything is
    /// allowed, so produce and fetch pay one comparison per request on the fast path.
    func deniedNames<S: Sequence>(_ operation: AclOperation, _ type: AclResourceType, _ names: S,
                                  quiet: Bool = false) -> Set<String> where S.Element == String {
        if allowsEverything { return [] }
        var checked = Set<String>()
        var denied = Set<String>()
        for name in names where checked.insert(name).inserted {
            if !allows(operation, AclResource(type, name), quiet: quiet) { denied.insert(name) }
        }
        return denied
    }

    /// Kafka's authorized-operations bitfield (bit n set = operation with wire code n allowed),
    /// over the operations that mean something for the resource type. Quiet checks, as in Kafka.
    func authorizedOperations(_ resource: AclResource) -> Int32 {
        var bits: Int32 = 0
        for operation in Self.supportedOperations(resource.type) where allows(operation, resource, quiet: true) {
            bits |= Int32(1) << Int32(operation.rawValue)
        }
        return bits
    }

    /// The operations an authorized-operations bitfield reports for each resource type
    /// (the engine's applicable operations without ALL).
    static func supportedOperations(_ type: AclResourceType) -> [AclOperation] {
        AclOperation.allCases.filter { $0 != .any && $0 != .all && type.applicableOperations.contains($0) }
    }

    /// Kafka's `authorizeByResourceType`: may the caller perform `operation` on at least one
    /// resource of `type`? Allowed for a super user or when a wildcard-name check passes; denied
    /// by a wildcard literal DENY; otherwise allowed when some ALLOW (of the operation or ALL, for
    /// this principal or `User:*`, from this host or `*`) is not covered by a DENY of the same
    /// literal name or of a prefix of its name. Implications (Write → Describe) are not applied,
    /// as in Kafka.
    func allowsAny(_ operation: AclOperation, of type: AclResourceType) -> Bool {
        guard let authorizer else { return true }
        if superUser { return true }
        // A name no rule can name literally: only wildcard rules decide it.
        if allows(operation, AclResource(type, "\u{0}sluice-any-\(type.name)"), quiet: true) { return true }
        var deniedLiteral = Set<String>()
        var deniedPrefixes = Set<String>()
        var allowedLiteral: [String] = []
        var allowedPrefixes: [String] = []
        var rules = authorizer.policy.rules
        if authorizer.apiAclsEnabled { rules += authorizer.apiAcls.entries.map(\.rule) }
        for rule in rules where rule.pattern.type == type {
            guard rule.principal == context.principal || rule.principal == AclRule.wildcardPrincipal,
                  rule.host == "*" || rule.host == context.clientHost,
                  rule.operation == operation || rule.operation == .all
            else { continue }
            let literal = rule.pattern.patternType == .literal
            if rule.permission == .deny {
                if literal && rule.pattern.name == "*" { return false }
                if literal { deniedLiteral.insert(rule.pattern.name) } else { deniedPrefixes.insert(rule.pattern.name) }
            } else if literal {
                if rule.pattern.name == "*" { return true }
                allowedLiteral.append(rule.pattern.name)
            } else {
                allowedPrefixes.append(rule.pattern.name)
            }
        }
        func coveredByDeniedPrefix(_ name: String) -> Bool {
            var prefix = ""
            for character in name {
                prefix.append(character)
                if deniedPrefixes.contains(prefix) { return true }
            }
            return false
        }
        for name in allowedLiteral where !deniedLiteral.contains(name) && !coveredByDeniedPrefix(name) { return true }
        for name in allowedPrefixes where !coveredByDeniedPrefix(name) { return true }
        return false
    }
}

extension Broker {
    /// The authorization view for one request.
    func access(_ context: RequestContext) -> RequestAccess { RequestAccess(security, context) }
}

/// Fixed client-facing messages for authorization failures: they name the operation and the
/// resource, never the rule (rules are for `sluice acls explain` and the audit log).
enum AuthorizationMessage {
    static func denied(_ operation: AclOperation, _ resource: AclResource) -> String {
        "Not authorized to \(operation.name) \(resource)"
    }
}
