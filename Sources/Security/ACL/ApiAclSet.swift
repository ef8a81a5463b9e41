// ACLs made through the admin API (CreateAcls / DeleteAcls / DescribeAcls, KIP-140, KIP-290):
// Kafka's binding and filter semantics, a durable file in the data directory, and the same index
// the file rules use.

/// Why a CreateAcls binding or an ACL filter was refused. `kafkaErrorCode` is the per-binding or
/// per-filter error the handler answers with (INVALID_REQUEST 42).
public struct AclApiError: Error, Equatable, Sendable {
    public let message: String
    public var kafkaErrorCode: Int16 { 42 }
}

/// Kafka's AclBindingFilter: every nil/ANY field matches anything; `patternType` may be ANY
/// (any pattern type, exact name) or MATCH (every pattern that applies to the named resource).
public struct AclBindingFilter: Equatable, Sendable {
    /// nil = ANY.
    public var resourceType: AclResourceType?
    /// nil = any name.
    public var name: String?
    public var patternType: AclPatternType
    /// nil = any principal; otherwise exact (a filter for `User:*` finds only wildcard rules).
    public var principal: String?
    /// nil = any host; otherwise exact.
    public var host: String?
    public var operation: AclOperation
    public var permission: AclPermission

    public init(resourceType: AclResourceType? = nil, name: String? = nil, patternType: AclPatternType = .any,
                principal: String? = nil, host: String? = nil, operation: AclOperation = .any,
                permission: AclPermission = .any) {
        self.resourceType = resourceType
        self.name = name
        self.patternType = patternType
        self.principal = principal
        self.host = host
        self.operation = operation
        self.permission = permission
    }

    /// Matches everything.
    public static let any = AclBindingFilter()

    /// Builds a filter from DescribeAcls/DeleteAcls wire fields (Kafka codes; 0 = UNKNOWN is
    /// refused, as Kafka does).
    public static func fromWire(resourceType: Int8, name: String?, patternType: Int8, principal: String?,
                                host: String?, operation: Int8, permission: Int8) -> Result<Self, AclApiError> {
        var type: AclResourceType? = nil
        if resourceType != AclResourceType.anyCode {
            guard let known = AclResourceType(rawValue: resourceType), known != .subject else {
                return .failure(AclApiError(message: "Invalid resource type \(resourceType)"))
            }
            type = known
        }
        guard let pattern = AclPatternType(rawValue: patternType) else {
            return .failure(AclApiError(message: "Invalid pattern type \(patternType)"))
        }
        guard let op = AclOperation(rawValue: operation) else {
            return .failure(AclApiError(message: "Invalid operation \(operation)"))
        }
        guard let perm = AclPermission(rawValue: permission) else {
            return .failure(AclApiError(message: "Invalid permission type \(permission)"))
        }
        return .success(AclBindingFilter(resourceType: type, name: name, patternType: pattern, principal: principal,
                                         host: host, operation: op, permission: perm))
    }

    /// Kafka's ResourcePatternFilter.matches plus AccessControlEntryFilter.matches.
    public func matches(_ rule: AclRule) -> Bool {
        matchesPattern(rule.pattern) && matchesEntry(rule)
    }

    func matchesPattern(_ pattern: AclResourcePattern) -> Bool {
        if let resourceType, resourceType != pattern.type { return false }
        if patternType != .any && patternType != .match && patternType != pattern.patternType { return false }
        guard let name else { return true }
        if patternType == .any || patternType == pattern.patternType { return name == pattern.name }
        // MATCH: the patterns that would apply to a resource called `name`.
        switch pattern.patternType {
        case .literal: return name == pattern.name || pattern.name == "*"
        case .prefixed: return name.hasPrefix(pattern.name)
        case .any, .match: return false
        }
    }

    func matchesEntry(_ rule: AclRule) -> Bool {
        if let principal, principal != rule.principal { return false }
        if let host, host != rule.host { return false }
        if operation != .any && operation != rule.operation { return false }
        if permission != .any && permission != rule.permission { return false }
        return true
    }
}

/// The API-made rule set: rules with stable ids (`api:<id>` in decisions and explanations),
/// persisted in `<data dir>/acls-api` in the policy-line syntax:
///
///   # sluice api acls v1
///   @<id> allow User:bob read topic:orders
///
/// A value type; the broker swaps a new one in after each change is durable.
public struct ApiAclSet: Sendable {
    public static let fileName = "acls-api"
    static let header = "# sluice api acls v1"

    public private(set) var entries: [(id: Int, rule: AclRule)] = []
    public private(set) var nextId = 1
    private(set) var index = RuleIndex(rules: [], refs: [])

    public init() {}

    /// Validates one CreateAcls binding from wire fields (Kafka's rules: concrete resource type,
    /// LITERAL or PREFIXED, concrete operation and permission, non-empty name, `User:` principal).
    public static func bindingFromWire(resourceType: Int8, name: String, patternType: Int8, principal: String,
                                       host: String, operation: Int8, permission: Int8)
        -> Result<AclRule, AclApiError>
    {
        guard let type = AclResourceType(rawValue: resourceType), type != .subject else {
            return .failure(AclApiError(message: "Invalid resource type \(resourceType)"))
        }
        guard let pattern = AclPatternType(rawValue: patternType), pattern == .literal || pattern == .prefixed else {
            return .failure(AclApiError(message: "Invalid pattern type \(patternType)"))
        }
        guard let op = AclOperation(rawValue: operation), op != .any else {
            return .failure(AclApiError(message: "Invalid operation \(operation)"))
        }
        guard let perm = AclPermission(rawValue: permission), perm != .any else {
            return .failure(AclApiError(message: "Invalid permission type \(permission)"))
        }
        guard !name.isEmpty else { return .failure(AclApiError(message: "Resource name should not be empty")) }
        guard type != .cluster || (name == clusterResourceName && pattern == .literal) else {
            return .failure(AclApiError(message: "The only valid name for the cluster resource is kafka-cluster"))
        }
        guard PolicyText.parsePrincipal(principal) != nil else {
            return .failure(AclApiError(message: "Could not parse principal \(principal)"))
        }
        guard PolicyText.isValidHost(host) else { return .failure(AclApiError(message: "Invalid host \(host)")) }
        return .success(AclRule(perm, principal, op, AclResourcePattern(type, name, pattern), host: host))
    }

    /// CreateAcls: adds each rule not already present (creating an existing ACL succeeds and
    /// changes nothing, as in Kafka). Returns the id of each rule.
    @discardableResult
    public mutating func create(_ rules: [AclRule]) -> [Int] {
        var ids: [Int] = []
        for rule in rules {
            if let existing = entries.first(where: { $0.rule == rule }) {
                ids.append(existing.id)
                continue
            }
            entries.append((nextId, rule))
            ids.append(nextId)
            nextId += 1
        }
        rebuild()
        return ids
    }

    /// DeleteAcls: removes every rule matching any filter; returns, per filter, the rules it
    /// matched (a rule matched by several filters is reported under each, as in Kafka).
    public mutating func delete(matching filters: [AclBindingFilter]) -> [[(id: Int, rule: AclRule)]] {
        let results = filters.map { filter in entries.filter { filter.matches($0.rule) } }
        let doomed = Set(results.joined().map(\.id))
        if !doomed.isEmpty {
            entries.removeAll { doomed.contains($0.id) }
            rebuild()
        }
        return results
    }

    /// DescribeAcls over the API rules.
    public func describe(_ filter: AclBindingFilter) -> [(ref: RuleRef, rule: AclRule)] {
        entries.filter { filter.matches($0.rule) }.map { (RuleRef.api($0.id), $0.rule) }
    }

    private mutating func rebuild() {
        index = RuleIndex(rules: entries.map(\.rule), refs: entries.map { .api($0.id) })
    }

    // MARK: Persistence

    /// File contents: header, `@next <n>`, then `@<id> <rule>` lines in id order.
    public func serialized() -> [UInt8] {
        var text = Self.header + "\n@next \(nextId)\n"
        for (id, rule) in entries { text += "@\(id) \(rule)\n" }
        return Array(text.utf8)
    }

    /// Parses file contents; errors carry the 1-based line.
    public static func parse(_ bytes: [UInt8], fileName: String = ApiAclSet.fileName)
        -> Result<ApiAclSet, PolicyErrors>
    {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            return .failure(PolicyErrors(errors: [PolicyError(file: fileName, line: 0, kind: .io, message: "not UTF-8")]))
        }
        var set = ApiAclSet()
        var errors: [PolicyError] = []
        var lineNumber = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            func fail(_ kind: PolicyError.Kind, _ message: String) {
                errors.append(PolicyError(file: fileName, line: lineNumber, kind: kind, message: message))
            }
            let trimmed = line.drop { $0 == " " }
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            guard trimmed.hasPrefix("@"), let space = trimmed.firstIndex(of: " ") else {
                fail(.syntax, "expected @<id> <rule> or @next <n>")
                continue
            }
            let label = trimmed[trimmed.index(after: trimmed.startIndex)..<space]
            let rest = trimmed[trimmed.index(after: space)...]
            if label == "next" {
                guard let next = Int(rest), next >= 1 else {
                    fail(.syntax, "bad @next")
                    continue
                }
                set.nextId = max(set.nextId, next)
                continue
            }
            guard let id = Int(label), id >= 1 else {
                fail(.syntax, "bad rule id '\(label)'")
                continue
            }
            switch PolicyParser.parseLine(rest) {
            case .success(.rules(let rules)) where rules.count == 1:
                if set.entries.contains(where: { $0.id == id || $0.rule == rules[0] }) {
                    fail(.duplicateRule, "duplicate rule or id @\(id)")
                    continue
                }
                set.entries.append((id, rules[0]))
                set.nextId = max(set.nextId, id + 1)
            case .success:
                fail(.syntax, "expected exactly one allow/deny rule with one operation")
            case .failure(let box):
                fail(box.kind, box.message)
            }
        }
        if !errors.isEmpty { return .failure(PolicyErrors(errors: errors)) }
        set.entries.sort { $0.id < $1.id }
        set.rebuild()
        return .success(set)
    }

    /// Loads `<dataDirectory>/acls-api`; a missing file is an empty set.
    public static func load(dataDirectory: String) -> Result<ApiAclSet, PolicyErrors> {
        do throws(SecurityFileError) {
            guard let bytes = try SecurityFiles.read(dataDirectory + "/" + fileName) else { return .success(ApiAclSet()) }
            return parse(bytes)
        } catch {
            return .failure(PolicyErrors(errors: [PolicyError(file: fileName, line: 0, kind: .io,
                                                              message: error.description)]))
        }
    }

    /// Writes the set atomically (temp + fsync + rename + directory fsync).
    public func save(dataDirectory: String) throws(SecurityFileError) {
        try SecurityFiles.writeAtomically(dataDirectory + "/" + Self.fileName, serialized())
    }
}
