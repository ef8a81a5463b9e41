// The vocabulary of Kafka's authorizer (KIP-11, KIP-290 for PREFIXED): resource types, pattern
// types, operations and permissions, with Kafka's wire codes (DescribeAcls/CreateAcls/DeleteAcls)
// and the spellings our policy files use.

/// A resource type. Wire codes are Kafka's (`Subject` has none: it exists for the schema
/// registry and is only reachable from policy files). Persisted by name: never rename.
public enum AclResourceType: Int8, CaseIterable, Sendable, Hashable {
    case topic = 2
    case group = 3
    case cluster = 4
    case transactionalId = 5
    /// Schema-registry subjects (our extension; code outside Kafka's range).
    case subject = 100

    /// Kafka's ANY (1) for filters.
    public static let anyCode: Int8 = 1

    /// Policy-file spelling.
    public var name: String {
        switch self {
        case .topic: "topic"
        case .group: "group"
        case .cluster: "cluster"
        case .transactionalId: "transactional-id"
        case .subject: "subject"
        }
    }

    public init?(name: String) {
        switch name.lowercased() {
        case "topic": self = .topic
        case "group": self = .group
        case "cluster": self = .cluster
        case "transactional-id", "transactionalid": self = .transactionalId
        case "subject": self = .subject
        default: return nil
        }
    }

    /// Operations that mean something for this resource type (Kafka's authorizer docs; Subject
    /// follows the schema registry's use). A rule outside this set can never match a real check.
    public var applicableOperations: Set<AclOperation> {
        switch self {
        case .topic: [.all, .read, .write, .create, .delete, .alter, .describe, .describeConfigs, .alterConfigs]
        case .group: [.all, .read, .describe, .delete]
        case .cluster:
            [.all, .create, .clusterAction, .describeConfigs, .alterConfigs, .idempotentWrite, .alter, .describe]
        case .transactionalId: [.all, .describe, .write]
        case .subject: [.all, .read, .write, .delete, .describe, .describeConfigs, .alterConfigs]
        }
    }
}

/// The only name a Cluster resource has in Kafka.
public let clusterResourceName = "kafka-cluster"

/// How a rule's resource name matches. Wire codes are Kafka's; `any`/`match` only occur in filters.
public enum AclPatternType: Int8, Sendable, Hashable {
    case any = 1
    case match = 2
    case literal = 3
    case prefixed = 4

    public var name: String {
        switch self {
        case .any: "any"
        case .match: "match"
        case .literal: "literal"
        case .prefixed: "prefixed"
        }
    }
}

/// An operation. Wire codes are Kafka's; `any` only occurs in filters.
public enum AclOperation: Int8, CaseIterable, Sendable, Hashable {
    case any = 1
    case all = 2
    case read = 3
    case write = 4
    case create = 5
    case delete = 6
    case alter = 7
    case describe = 8
    case clusterAction = 9
    case describeConfigs = 10
    case alterConfigs = 11
    case idempotentWrite = 12

    /// Policy-file spelling (lowercase, hyphenated).
    public var name: String {
        switch self {
        case .any: "any"
        case .all: "all"
        case .read: "read"
        case .write: "write"
        case .create: "create"
        case .delete: "delete"
        case .alter: "alter"
        case .describe: "describe"
        case .clusterAction: "cluster-action"
        case .describeConfigs: "describe-configs"
        case .alterConfigs: "alter-configs"
        case .idempotentWrite: "idempotent-write"
        }
    }

    /// Accepts the policy spelling and Kafka's (`DescribeConfigs`, `DESCRIBE_CONFIGS`).
    public init?(name: String) {
        let key = name.lowercased().filter { $0 != "-" && $0 != "_" }
        switch key {
        case "all": self = .all
        case "read": self = .read
        case "write": self = .write
        case "create": self = .create
        case "delete": self = .delete
        case "alter": self = .alter
        case "describe": self = .describe
        case "clusteraction": self = .clusterAction
        case "describeconfigs": self = .describeConfigs
        case "alterconfigs": self = .alterConfigs
        case "idempotentwrite": self = .idempotentWrite
        default: return nil
        }
    }

    /// Operations whose ALLOW also allows `self` (Kafka's implication rules): Describe is allowed
    /// by Read, Write, Delete or Alter; DescribeConfigs by AlterConfigs; everything by All.
    /// A DENY never implies: only a DENY of `self` or of All denies `self`.
    public var allowedBy: [AclOperation] {
        switch self {
        case .describe: [.describe, .read, .write, .delete, .alter, .all]
        case .describeConfigs: [.describeConfigs, .alterConfigs, .all]
        default: [self, .all]
        }
    }

    /// Whether an ALLOW of `self` allows `operation`.
    public func allows(_ operation: AclOperation) -> Bool {
        switch (self, operation) {
        case (.all, _): true
        case (.read, .describe), (.write, .describe), (.delete, .describe), (.alter, .describe): true
        case (.alterConfigs, .describeConfigs): true
        default: self == operation
        }
    }

    /// Whether a DENY of `self` denies `operation`.
    public func denies(_ operation: AclOperation) -> Bool {
        self == .all || self == operation
    }
}

/// ALLOW or DENY. Wire codes are Kafka's (`any` is 1, filters only).
public enum AclPermission: Int8, Sendable, Hashable {
    case any = 1
    case deny = 2
    case allow = 3

    public var name: String {
        switch self {
        case .any: "any"
        case .deny: "deny"
        case .allow: "allow"
        }
    }
}

/// A concrete resource being accessed: type and name (`kafka-cluster` for the cluster).
public struct AclResource: Hashable, Sendable, CustomStringConvertible {
    public var type: AclResourceType
    public var name: String

    public init(_ type: AclResourceType, _ name: String) {
        self.type = type
        self.name = name
    }

    public static let cluster = AclResource(.cluster, clusterResourceName)
    public static func topic(_ name: String) -> AclResource { AclResource(.topic, name) }
    public static func group(_ name: String) -> AclResource { AclResource(.group, name) }
    public static func transactionalId(_ name: String) -> AclResource { AclResource(.transactionalId, name) }
    public static func subject(_ name: String) -> AclResource { AclResource(.subject, name) }

    public var description: String { type == .cluster ? "cluster" : "\(type.name):\(name)" }
}

/// A rule's resource pattern: type, name and LITERAL (name `*` = every resource of the type) or
/// PREFIXED.
public struct AclResourcePattern: Hashable, Sendable, CustomStringConvertible {
    public var type: AclResourceType
    public var name: String
    public var patternType: AclPatternType

    public init(_ type: AclResourceType, _ name: String, _ patternType: AclPatternType = .literal) {
        precondition(patternType == .literal || patternType == .prefixed, "rule patterns are LITERAL or PREFIXED")
        self.type = type
        self.name = name
        self.patternType = patternType
    }

    /// Whether this pattern applies to `resource`.
    public func matches(_ resource: AclResource) -> Bool {
        guard type == resource.type else { return false }
        switch patternType {
        case .literal: return name == "*" || name == resource.name
        case .prefixed: return resource.name.hasPrefix(name)
        case .any, .match: return false
        }
    }

    /// Whether every resource this pattern matches is also matched by `other`.
    func isCovered(by other: AclResourcePattern) -> Bool {
        guard type == other.type else { return false }
        switch (other.patternType, patternType) {
        case (.literal, _) where other.name == "*": return true
        case (.literal, .literal): return other.name == name
        case (.prefixed, .literal) where name != "*": return name.hasPrefix(other.name)
        case (.prefixed, .prefixed): return name.hasPrefix(other.name)
        default: return false
        }
    }

    public var description: String {
        let resource = type == .cluster && name == clusterResourceName ? "cluster" : "\(type.name):\(name)"
        return patternType == .prefixed ? "\(resource) prefixed" : resource
    }
}

/// Where a rule came from: a policy file line, or an ACL made through the admin API.
public enum RuleRef: Hashable, Sendable, CustomStringConvertible {
    case file(String, line: Int)
    case api(Int)

    public var description: String {
        switch self {
        case .file(let name, let line): "\(name):\(line)"
        case .api(let id): "api:\(id)"
        }
    }
}

/// One access-control entry: who, from where, which operation, on what, allow or deny.
public struct AclRule: Hashable, Sendable, CustomStringConvertible {
    public var permission: AclPermission
    /// `User:<name>` or the wildcard `User:*`.
    public var principal: String
    public var operation: AclOperation
    public var pattern: AclResourcePattern
    /// `*` or one exact IP address.
    public var host: String

    public init(_ permission: AclPermission, _ principal: String, _ operation: AclOperation,
                _ pattern: AclResourcePattern, host: String = "*") {
        precondition(permission != .any && operation != .any, "rules have a concrete permission and operation")
        self.permission = permission
        self.principal = principal
        self.operation = operation
        self.pattern = pattern
        self.host = host
    }

    public static let wildcardPrincipal = "User:*"

    /// Whether the rule's principal and host apply to this caller.
    @inline(__always)
    func appliesTo(principal requester: String, host requesterHost: String) -> Bool {
        (principal == requester || principal == Self.wildcardPrincipal)
            && (host == "*" || host == requesterHost)
    }

    /// The rule in policy-file syntax (one operation).
    public var description: String {
        var text = "\(permission.name) \(PolicyText.quoteIfNeeded(principal)) \(operation.name) "
        if pattern.type == .cluster && pattern.name == clusterResourceName && pattern.patternType == .literal {
            text += "cluster"
        } else {
            text += "\(pattern.type.name):\(PolicyText.quoteIfNeeded(pattern.name))"
            if pattern.patternType == .prefixed { text += " prefixed" }
        }
        if host != "*" { text += " from \(host)" }
        return text
    }
}

/// The answer to one authorization question.
public struct Decision: Equatable, Sendable {
    public var allowed: Bool
    /// The rule that decided; nil for super users and when nothing matched.
    public var rule: RuleRef?
    /// Short, fixed reason (string literals: no allocation on the hot path).
    public var reason: String

    /// The fixed reasons `Authorizer.authorize` gives.
    public static let superUserReason = "super user"
    public static let deniedByRuleReason = "denied by rule"
    public static let allowedByRuleReason = "allowed by rule"
    public static let noMatchReason = "no rule matched"
    /// `allow.everyone.if.no.acl.found=true` and no rule at all exists for the resource.
    public static let noAclFoundReason = "no ACL found for the resource"

    /// An allow that no rule granted (`allow.everyone.if.no.acl.found`): always audited, since
    /// these are the requests a rollout still has to write rules for.
    public var isAllowedWithoutAcl: Bool { allowed && rule == nil && reason == Decision.noAclFoundReason }

    public init(allowed: Bool, rule: RuleRef?, reason: String) {
        self.allowed = allowed
        self.rule = rule
        self.reason = reason
    }
}
