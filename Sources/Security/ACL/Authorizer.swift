/// The ACL engine: file rules (`PolicySet`) and API-made rules (`ApiAclSet`) evaluated together
/// with Kafka's authorizer semantics:
///
/// 1. a super user is always allowed;
/// 2. otherwise, among the rules whose resource pattern, principal (`User:*` matches everyone)
///    and host (`*` matches every address) apply, a DENY of the operation (or of All) wins;
/// 3. otherwise an ALLOW of the operation, of All, or of an operation that implies it (Read,
///    Write, Delete and Alter imply Describe; AlterConfigs implies DescribeConfigs) allows;
/// 4. otherwise the request is denied, unless `allow.everyone.if.no.acl.found` is true and no rule
///    at all (any principal, host, operation or permission) has a pattern matching the resource:
///    Kafka's "no ACL found for the resource" (StandardAuthorizer since KAFKA-14435). A rule for
///    someone else on the resource is enough to keep default-deny, so a rollout that writes the
///    first rule for a topic closes that topic to everyone the rules do not name.
///
/// A value type: the broker swaps in a new `Authorizer` when a policy file or the API rule set
/// changes, so each check sees one consistent snapshot.
public struct Authorizer: Sendable {
    /// Rules from `policies/*.acl`.
    public var policy: PolicySet
    /// Rules made through CreateAcls/DeleteAcls.
    public var apiAcls: ApiAclSet
    /// `super.users` from the broker configuration (`User:<name>` each); the policy's `super`
    /// lines add to it.
    public var configuredSuperUsers: Set<String>
    /// `acls.api.enabled`: when false, API-made rules are ignored by checks (and the broker
    /// refuses CreateAcls/DeleteAcls).
    public var apiAclsEnabled: Bool
    /// `allow.everyone.if.no.acl.found` (Kafka's broker property, default false): allow requests
    /// on resources no rule mentions. Meant for turning authorization on in a running cluster.
    public var allowEveryoneIfNoAclFound: Bool

    public init(policy: PolicySet = PolicySet(), apiAcls: ApiAclSet = ApiAclSet(),
                superUsers: Set<String> = [], apiAclsEnabled: Bool = true,
                allowEveryoneIfNoAclFound: Bool = false) {
        self.policy = policy
        self.apiAcls = apiAcls
        self.configuredSuperUsers = superUsers
        self.apiAclsEnabled = apiAclsEnabled
        self.allowEveryoneIfNoAclFound = allowEveryoneIfNoAclFound
    }

    /// Whether some rule that checks consult (file rules; API rules unless `acls.api.enabled` is
    /// false) has a pattern matching `resource`.
    public func hasRule(on resource: AclResource) -> Bool {
        policy.index.hasRule(on: resource) || (apiAclsEnabled && apiAcls.index.hasRule(on: resource))
    }

    /// Whether `principal` is a super user (configured or from a policy `super` line).
    public func isSuperUser(_ principal: String) -> Bool {
        configuredSuperUsers.contains(principal) || policy.superUserRefs[principal] != nil
    }

    /// The decision for one operation on one resource. Allocates nothing beyond the result.
    public func authorize(principal: String, host: String, operation: AclOperation,
                          resource: AclResource) -> Decision {
        if isSuperUser(principal) {
            return Decision(allowed: true, rule: policy.superUserRefs[principal], reason: Decision.superUserReason)
        }
        let fileMatch = policy.index.match(principal: principal, host: host, operation: operation, resource: resource)
        if let deny = fileMatch.deny {
            return Decision(allowed: false, rule: policy.index.refs[Int(deny)], reason: Decision.deniedByRuleReason)
        }
        var apiMatch = RuleIndex.Match()
        if apiAclsEnabled {
            apiMatch = apiAcls.index.match(principal: principal, host: host, operation: operation, resource: resource)
            if let deny = apiMatch.deny {
                return Decision(allowed: false, rule: apiAcls.index.refs[Int(deny)], reason: Decision.deniedByRuleReason)
            }
        }
        if let allow = fileMatch.allow {
            return Decision(allowed: true, rule: policy.index.refs[Int(allow)], reason: Decision.allowedByRuleReason)
        }
        if let allow = apiMatch.allow {
            return Decision(allowed: true, rule: apiAcls.index.refs[Int(allow)], reason: Decision.allowedByRuleReason)
        }
        // Only the request that found no rule of its own pays for the whole-resource lookup.
        if allowEveryoneIfNoAclFound && !hasRule(on: resource) {
            return Decision(allowed: true, rule: nil, reason: Decision.noAclFoundReason)
        }
        return Decision(allowed: false, rule: nil, reason: Decision.noMatchReason)
    }

    /// Every rule (file then API) matching `filter`, with its origin (DescribeAcls).
    public func describe(_ filter: AclBindingFilter) -> [(ref: RuleRef, rule: AclRule)] {
        var out: [(ref: RuleRef, rule: AclRule)] = []
        for (rule, ref) in zip(policy.index.rules, policy.index.refs) where filter.matches(rule) {
            out.append((ref, rule))
        }
        return out + apiAcls.describe(filter)
    }

    // MARK: Explain

    /// How one rule relates to a request, for `explain`.
    public struct ExplainedRule: Equatable, Sendable {
        public enum Effect: Equatable, Sendable {
            /// A DENY of this operation or of All.
            case denies
            /// An ALLOW of this operation or of All.
            case allows
            /// An ALLOW of an operation that implies this one.
            case allowsByImplication(AclOperation)
            /// Matches resource, principal and host but neither allows nor denies this operation.
            case irrelevantOperation
            /// Matches resource and principal but not the host.
            case otherHost
            /// An API rule while `acls.api.enabled=false`.
            case apiRulesDisabled
        }

        public let ref: RuleRef
        public let rule: AclRule
        public let effect: Effect
    }

    /// The full story of one decision (`sluice acls explain`).
    public struct Explanation: Equatable, Sendable, CustomStringConvertible {
        public let principal: String
        public let host: String
        public let operation: AclOperation
        public let resource: AclResource
        public let decision: Decision
        /// Rules on this resource that concern this principal, in evaluation order.
        public let rules: [ExplainedRule]
        /// Human-readable account, one step per line.
        public let lines: [String]

        public var description: String { lines.joined(separator: "\n") }
    }

    /// Which rule decided, and why: super users, every rule on the resource for this principal
    /// with its effect, implications, and the DENY-beats-ALLOW and default-deny rules.
    public func explain(principal: String, operation: AclOperation, resource: AclResource,
                        host: String = "*") -> Explanation {
        let decision = authorize(principal: principal, host: host, operation: operation, resource: resource)
        var lines = ["request: \(principal) from \(host) wants \(operation.name) on \(resource)"]
        var explained: [ExplainedRule] = []
        let sources: [(RuleIndex, Bool)] = [(policy.index, true), (apiAcls.index, apiAclsEnabled)]
        for (index, enabled) in sources {
            for position in index.rulesMatching(resource: resource) {
                let rule = index.rules[position]
                guard rule.principal == principal || rule.principal == AclRule.wildcardPrincipal else { continue }
                let effect: ExplainedRule.Effect
                if !enabled {
                    effect = .apiRulesDisabled
                } else if rule.host != "*" && rule.host != host {
                    effect = .otherHost
                } else if rule.permission == .deny {
                    effect = rule.operation.denies(operation) ? .denies : .irrelevantOperation
                } else if rule.operation == operation || rule.operation == .all {
                    effect = .allows
                } else if rule.operation.allows(operation) {
                    effect = .allowsByImplication(rule.operation)
                } else {
                    effect = .irrelevantOperation
                }
                explained.append(ExplainedRule(ref: index.refs[position], rule: rule, effect: effect))
            }
        }
        if isSuperUser(principal) {
            let source = policy.superUserRefs[principal].map { "policy \($0)" } ?? "super.users"
            lines.append("\(principal) is a super user (\(source)): always allowed, rules are not consulted")
        }
        for item in explained {
            let text: String
            switch item.effect {
            case .denies: text = "DENY matches"
            case .allows: text = "ALLOW matches"
            case .allowsByImplication(let by): text = "ALLOW matches: \(by.name) implies \(operation.name)"
            case .irrelevantOperation:
                text = item.rule.permission == .deny
                    ? "not applicable: a DENY of \(item.rule.operation.name) does not deny \(operation.name) (denials do not imply)"
                    : "not applicable: \(item.rule.operation.name) does not imply \(operation.name)"
            case .otherHost: text = "not applicable: rule is for host \(item.rule.host)"
            case .apiRulesDisabled: text = "ignored: acls.api.enabled=false"
            }
            lines.append("  \(item.ref): \(item.rule) -> \(text)")
        }
        if explained.isEmpty && !isSuperUser(principal) {
            lines.append("  no rule on \(resource) names \(principal) or User:*")
        }
        let deciding = decision.rule.map { " (\($0))" } ?? ""
        switch decision.reason {
        case Decision.deniedByRuleReason:
            let allows = explained.contains { item in
                switch item.effect {
                case .allows, .allowsByImplication: true
                default: false
                }
            }
            lines.append("decision: DENIED by\(deciding)" + (allows ? "; DENY beats ALLOW" : ""))
        case Decision.allowedByRuleReason: lines.append("decision: ALLOWED by\(deciding)")
        case Decision.superUserReason: lines.append("decision: ALLOWED (super user)")
        case Decision.noAclFoundReason:
            lines.append("decision: ALLOWED: no ACL found for \(resource) and allow.everyone.if.no.acl.found=true")
        default:
            if allowEveryoneIfNoAclFound {
                lines.append("decision: DENIED: no rule allows it (deny by default; allow.everyone.if.no.acl.found "
                             + "does not apply: \(resource) has rules, for other principals or operations)")
            } else {
                lines.append("decision: DENIED: no rule allows it (deny by default)")
            }
        }
        return Explanation(principal: principal, host: host, operation: operation, resource: resource,
                           decision: decision, rules: explained, lines: lines)
    }
}
