/// Rules indexed for lookup by resource: per resource type, a dictionary of LITERAL names, the
/// list of wildcard (`*`) rules, and a byte trie of PREFIXED names. A lookup visits only rules
/// whose pattern matches the resource, and allocates nothing.
///
/// Immutable after `init`; rebuilt whole when a rule set changes (file reload, API change).
struct RuleIndex: Sendable {
    let rules: [AclRule]
    let refs: [RuleRef]
    private var perType: [TypeIndex]

    private struct TrieNode: Sendable {
        var children: [UInt8: Int32] = [:]
        var rules: [Int32] = []
    }

    private struct TypeIndex: Sendable {
        var literal: [String: [Int32]] = [:]
        var wildcard: [Int32] = []
        /// nodes[0] is the root (the empty prefix, never used: prefixes are non-empty).
        var trie: [TrieNode] = [TrieNode()]
        var hasPrefixed = false
    }

    /// The first matching DENY and ALLOW (lowest index = earliest in file order).
    struct Match {
        var deny: Int32?
        var allow: Int32?
    }

    static func slot(_ type: AclResourceType) -> Int {
        switch type {
        case .topic: 0
        case .group: 1
        case .cluster: 2
        case .transactionalId: 3
        case .subject: 4
        }
    }

    init(rules: [AclRule], refs: [RuleRef]) {
        precondition(rules.count == refs.count, "one reference per rule")
        precondition(rules.count < Int(Int32.max), "too many rules")
        self.rules = rules
        self.refs = refs
        perType = Array(repeating: TypeIndex(), count: AclResourceType.allCases.count)
        for (position, rule) in rules.enumerated() {
            let index = Int32(position)
            let slot = Self.slot(rule.pattern.type)
            switch rule.pattern.patternType {
            case .literal where rule.pattern.name == "*":
                perType[slot].wildcard.append(index)
            case .literal:
                perType[slot].literal[rule.pattern.name, default: []].append(index)
            case .prefixed:
                perType[slot].hasPrefixed = true
                var node = 0
                for byte in rule.pattern.name.utf8 {
                    if let next = perType[slot].trie[node].children[byte] {
                        node = Int(next)
                    } else {
                        perType[slot].trie.append(TrieNode())
                        let next = perType[slot].trie.count - 1
                        perType[slot].trie[node].children[byte] = Int32(next)
                        node = next
                    }
                }
                perType[slot].trie[node].rules.append(index)
            case .any, .match:
                preconditionFailure("rule patterns are LITERAL or PREFIXED")
            }
        }
    }

    /// Finds the first DENY that denies and the first ALLOW that allows `operation` on `resource`
    /// for this principal and host.
    func match(principal: String, host: String, operation: AclOperation, resource: AclResource) -> Match {
        var result = Match()
        let typeIndex = perType[Self.slot(resource.type)]
        visit(typeIndex.wildcard, principal, host, operation, &result)
        if let list = typeIndex.literal[resource.name] { visit(list, principal, host, operation, &result) }
        if typeIndex.hasPrefixed {
            var node = 0
            for byte in resource.name.utf8 {
                guard let next = typeIndex.trie[node].children[byte] else { break }
                node = Int(next)
                visit(typeIndex.trie[node].rules, principal, host, operation, &result)
            }
        }
        return result
    }

    /// Whether any rule (any principal, host, operation or permission) has a pattern matching
    /// `resource`: Kafka's "ACLs found for the resource" that `allow.everyone.if.no.acl.found`
    /// looks at. Allocates nothing.
    func hasRule(on resource: AclResource) -> Bool {
        let typeIndex = perType[Self.slot(resource.type)]
        if !typeIndex.wildcard.isEmpty || typeIndex.literal[resource.name] != nil { return true }
        guard typeIndex.hasPrefixed else { return false }
        var node = 0
        for byte in resource.name.utf8 {
            guard let next = typeIndex.trie[node].children[byte] else { return false }
            node = Int(next)
            if !typeIndex.trie[node].rules.isEmpty { return true }
        }
        return false
    }

    @inline(__always)
    private func visit(_ list: [Int32], _ principal: String, _ host: String, _ operation: AclOperation,
                       _ result: inout Match) {
        for index in list {
            let rule = rules[Int(index)]
            guard rule.appliesTo(principal: principal, host: host) else { continue }
            switch rule.permission {
            case .deny where rule.operation.denies(operation):
                if result.deny.map({ index < $0 }) ?? true { result.deny = index }
            case .allow where rule.operation.allows(operation):
                if result.allow.map({ index < $0 }) ?? true { result.allow = index }
            default:
                break
            }
        }
    }

    /// Every rule whose pattern matches `resource` (any principal, host, operation), in order.
    func rulesMatching(resource: AclResource) -> [Int] {
        (0..<rules.count).filter { rules[$0].pattern.matches(resource) }
    }
}
