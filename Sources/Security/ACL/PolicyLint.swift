// `sluice acls lint`: rules that are valid but cannot have any effect. The checks reason about
// pattern coverage (every resource one pattern matches is matched by another) with the same
// semantics the authorizer uses, so a finding is a proof, not a heuristic.

/// One lint finding on a rule (or super-user line).
public struct LintFinding: Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Equatable, Sendable {
        /// The operation means nothing for the resource type (e.g. `write group:x`).
        case inapplicableOperation
        /// `<type>:* prefixed` matches only names starting with `*`; `*` literal means "all".
        case wildcardPrefix
        /// Every request this rule matches is matched by another rule of the same permission.
        case redundant(by: RuleRef)
        /// An ALLOW whose every request is denied by a DENY (DENY beats ALLOW).
        case overriddenByDeny(by: RuleRef)
        /// A rule for a super user: super users are allowed without consulting rules.
        case superUserRule
        /// A DENY that no ALLOW overlaps: the default already denies. Informational, since API
        /// rules may add such an ALLOW later.
        case denyWithoutAllow
        /// An ALLOW on the cluster for a principal that is (or, for `User:*`, includes) a tenant
        /// member, granting operations that would reach outside the tenant. The broker never
        /// grants those to a member (`TenantClusterPermissions`), so for members the rule does
        /// less than it says.
        case tenantClusterReach
    }

    public enum Severity: String, Equatable, Sendable {
        case warning
        case info
    }

    public let ref: RuleRef
    public let rule: AclRule
    public let kind: Kind
    public let severity: Severity
    public let message: String

    public var description: String { "\(ref): \(severity.rawValue): \(message)" }
}

extension PolicySet {
    /// Findings for this policy, in rule order. `superUsers` adds the configured `super.users`;
    /// `tenants` (the `*.tenants` files) lets it find cluster rules that reach tenant members.
    public func lint(superUsers: Set<String> = [], tenants: TenantSet = TenantSet()) -> [LintFinding] {
        let allSuperUsers = superUsers.union(superUserRefs.keys)
        var findings: [LintFinding] = []
        let rules = self.rules
        let refs = self.refs
        for (position, rule) in rules.enumerated() {
            let ref = refs[position]
            func add(_ kind: LintFinding.Kind, _ severity: LintFinding.Severity, _ message: String) {
                findings.append(LintFinding(ref: ref, rule: rule, kind: kind, severity: severity, message: message))
            }
            if !rule.pattern.type.applicableOperations.contains(rule.operation) {
                add(.inapplicableOperation, .warning,
                    "'\(rule)' can never match: \(rule.operation.name) is not an operation on \(rule.pattern.type.name) resources")
                continue
            }
            if rule.pattern.patternType == .prefixed && rule.pattern.name == "*" {
                add(.wildcardPrefix, .warning,
                    "'\(rule)' matches only names starting with '*'; write \(rule.pattern.type.name):* without 'prefixed' for all")
            }
            if allSuperUsers.contains(rule.principal) {
                add(.superUserRule, .warning, "'\(rule)' has no effect: \(rule.principal) is a super user")
                continue
            }
            if let finding = Self.tenantClusterReach(rule, tenants) {
                add(.tenantClusterReach, .warning, finding)
            }
            if let other = (0..<rules.count).first(where: { $0 != position && Self.covers(rules[$0], rule) }) {
                let note = refs[other] == ref ? " on the same line" : ""
                add(.redundant(by: refs[other]), .warning,
                    "'\(rule)' is redundant: '\(rules[other])' (\(refs[other]))\(note) already covers it")
                continue
            }
            if rule.permission == .allow,
               let deny = (0..<rules.count).first(where: { Self.deniesAll(rules[$0], of: rule) }) {
                add(.overriddenByDeny(by: refs[deny]), .warning,
                    "'\(rule)' never takes effect: '\(rules[deny])' (\(refs[deny])) denies everything it allows")
                continue
            }
            if rule.permission == .deny,
               !rules.contains(where: { $0.permission == .allow && Self.overlaps($0, rule) }) {
                add(.denyWithoutAllow, .info,
                    "'\(rule)' overlaps no allow rule: requests it matches are denied by default anyway")
            }
        }
        return findings
    }

    /// The warning for an ALLOW on the cluster that would give a tenant member operations outside
    /// its tenant, if `rule` is one.
    static func tenantClusterReach(_ rule: AclRule, _ tenants: TenantSet) -> String? {
        guard rule.permission == .allow, rule.pattern.type == .cluster, !tenants.isEmpty,
              case let never = TenantClusterPermissions.neverGranted(by: rule.operation), !never.isEmpty
        else { return nil }
        let who: String
        if rule.principal == AclRule.wildcardPrincipal {
            who = "every tenant member"
        } else if let tenant = tenants.tenant(for: rule.principal) {
            who = "\(rule.principal), a member of tenant \(tenant.name),"
        } else {
            return nil
        }
        return "'\(rule)' would give \(who) \(never.map(\.name).joined(separator: ", ")) on the cluster, which reaches outside its tenant "
            + "(other tenants' state, broker configs, quotas, replication): tenant members are never granted "
            + "that, so the rule has no such effect for them (docs/tenants.md, \"Cluster permissions\")"
    }

    /// Whether `broad` (same permission) matches every request `narrow` matches and decides it
    /// the same way.
    static func covers(_ broad: AclRule, _ narrow: AclRule) -> Bool {
        guard broad.permission == narrow.permission else { return false }
        guard broad.principal == narrow.principal || broad.principal == AclRule.wildcardPrincipal else { return false }
        guard broad.host == "*" || broad.host == narrow.host else { return false }
        let operationCovered = broad.permission == .allow
            ? operationsAllowed(by: narrow.operation).allSatisfy { broad.operation.allows($0) }
            : broad.operation.denies(narrow.operation)
        return operationCovered && narrow.pattern.isCovered(by: broad.pattern)
    }

    /// Whether DENY `deny` denies every request ALLOW `allow` would allow.
    static func deniesAll(_ deny: AclRule, of allow: AclRule) -> Bool {
        guard deny.permission == .deny, allow.permission == .allow else { return false }
        guard deny.principal == allow.principal || deny.principal == AclRule.wildcardPrincipal else { return false }
        guard deny.host == "*" || deny.host == allow.host else { return false }
        let operations = operationsAllowed(by: allow.operation)
        return operations.allSatisfy { deny.operation.denies($0) } && allow.pattern.isCovered(by: deny.pattern)
    }

    /// Every concrete operation an ALLOW of `operation` allows (itself and what it implies).
    static func operationsAllowed(by operation: AclOperation) -> [AclOperation] {
        AclOperation.allCases.filter { $0 != .any && operation.allows($0) }
    }

    /// Whether some request could be matched by both rules (ignoring permissions).
    static func overlaps(_ first: AclRule, _ second: AclRule) -> Bool {
        let wildcard = AclRule.wildcardPrincipal
        guard first.principal == second.principal || first.principal == wildcard || second.principal == wildcard
        else { return false }
        guard first.host == second.host || first.host == "*" || second.host == "*" else { return false }
        let operations = AclOperation.allCases.filter { $0 != .any }
        let operationOverlap = operations.contains { operation in
            (first.permission == .allow ? first.operation.allows(operation) : first.operation.denies(operation))
                && (second.permission == .allow ? second.operation.allows(operation) : second.operation.denies(operation))
        }
        return operationOverlap && patternsOverlap(first.pattern, second.pattern)
    }

    static func patternsOverlap(_ first: AclResourcePattern, _ second: AclResourcePattern) -> Bool {
        guard first.type == second.type else { return false }
        switch (first.patternType, second.patternType) {
        case (.literal, .literal):
            return first.name == second.name || first.name == "*" || second.name == "*"
        case (.literal, .prefixed):
            return first.name == "*" || first.name.hasPrefix(second.name)
        case (.prefixed, .literal):
            return second.name == "*" || second.name.hasPrefix(first.name)
        case (.prefixed, .prefixed):
            return first.name.hasPrefix(second.name) || second.name.hasPrefix(first.name)
        default:
            return false
        }
    }
}
