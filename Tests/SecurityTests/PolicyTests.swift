// Policy files: the parser's line-numbered errors (one case per kind of mistake), what valid lines
// mean, lint findings, explain output, the demo policies under policies/, and the API rule set's
// filter semantics (Kafka's AclBindingFilter: ANY and MATCH pattern types) and persistence.
// Method: small policy texts parsed with `PolicySet.load(files:)`; the API set driven directly.
import Glibc
import Testing
@testable import Security

struct ParseErrorCase: Sendable, CustomTestStringConvertible {
    let name: String
    let text: String
    let line: Int
    let kind: PolicyError.Kind
    var testDescription: String { name }
}

let parseErrorCases: [ParseErrorCase] = [
    ParseErrorCase(name: "unknown operation", text: "allow User:a reed topic:t", line: 1, kind: .unknownOperation),
    ParseErrorCase(name: "unknown operation in list", text: "\n\nallow User:a read,wrte topic:t", line: 3,
                   kind: .unknownOperation),
    ParseErrorCase(name: "operation listed twice", text: "allow User:a read,read topic:t", line: 1,
                   kind: .unknownOperation),
    ParseErrorCase(name: "empty operation", text: "allow User:a read, topic:t", line: 1, kind: .unknownOperation),
    ParseErrorCase(name: "any is filter-only", text: "allow User:a any topic:t", line: 1, kind: .unknownOperation),
    ParseErrorCase(name: "principal without type", text: "# c\nallow alice read topic:t", line: 2, kind: .badPrincipal),
    ParseErrorCase(name: "principal of other type", text: "allow Group:x read topic:t", line: 1, kind: .badPrincipal),
    ParseErrorCase(name: "empty principal name", text: "allow User: read topic:t", line: 1, kind: .badPrincipal),
    ParseErrorCase(name: "wildcard super user", text: "super User:*", line: 1, kind: .badPrincipal),
    ParseErrorCase(name: "unknown resource type", text: "allow User:a read queue:q", line: 1, kind: .badResource),
    ParseErrorCase(name: "resource without name", text: "allow User:a read topic:", line: 1, kind: .badResource),
    ParseErrorCase(name: "resource without colon", text: "allow User:a read orders", line: 1, kind: .badResource),
    ParseErrorCase(name: "illegal topic name", text: "allow User:a read topic:a/b", line: 1, kind: .badResource),
    ParseErrorCase(name: "cluster with other name", text: "allow User:a create cluster:main", line: 1,
                   kind: .badResource),
    ParseErrorCase(name: "prefixed cluster", text: "allow User:a create cluster prefixed", line: 1, kind: .badResource),
    ParseErrorCase(name: "bad host", text: "allow User:a read topic:t from example.com", line: 1, kind: .badHost),
    ParseErrorCase(name: "bad IPv4 host", text: "allow User:a read topic:t from 10.0.0.256", line: 1, kind: .badHost),
    ParseErrorCase(name: "missing host", text: "allow User:a read topic:t from", line: 1, kind: .badHost),
    ParseErrorCase(name: "unknown keyword", text: "permit User:a read topic:t", line: 1, kind: .unknownPermission),
    ParseErrorCase(name: "too few tokens", text: "allow User:a read", line: 1, kind: .syntax),
    ParseErrorCase(name: "trailing garbage", text: "allow User:a read topic:t from * now", line: 1, kind: .syntax),
    ParseErrorCase(name: "unexpected word", text: "allow User:a read topic:t sometimes", line: 1, kind: .syntax),
    ParseErrorCase(name: "unterminated quote", text: "allow \"User:a read topic:t", line: 1, kind: .syntax),
    ParseErrorCase(name: "super with extra token", text: "super User:a User:b", line: 1, kind: .syntax),
    ParseErrorCase(name: "duplicate rule", text: "allow User:a read topic:t\n# x\nallow User:a read topic:t", line: 3,
                   kind: .duplicateRule),
    ParseErrorCase(name: "duplicate via list", text: "allow User:a read topic:t\nallow User:a write,read topic:t",
                   line: 2, kind: .duplicateRule),
    ParseErrorCase(name: "duplicate super user", text: "super User:a\nsuper User:a", line: 2, kind: .duplicateRule),
]

private func load(_ text: String, name: String = "p.acl") -> Result<PolicySet, PolicyErrors> {
    PolicySet.load(files: [PolicyFile(name: name, text: text)])
}

@Suite struct PolicyParserTests {
    @Test(arguments: parseErrorCases)
    func errorsCarryLineNumbers(_ item: ParseErrorCase) {
        guard case .failure(let failure) = load(item.text) else {
            Issue.record("expected a failure")
            return
        }
        #expect(failure.errors.count == 1)
        #expect(failure.errors.first?.line == item.line)
        #expect(failure.errors.first?.kind == item.kind)
        #expect(failure.errors.first?.file == "p.acl")
    }

    @Test func allErrorsReportedAcrossFiles() {
        let result = PolicySet.load(files: [
            PolicyFile(name: "a.acl", text: "allow User:a read topic:t\nallow User:a bogus topic:t"),
            PolicyFile(name: "b.acl", text: "\nallow User:a read topic:t\ndeny User:b read queue:x"),
        ])
        guard case .failure(let failure) = result else {
            Issue.record("expected a failure")
            return
        }
        #expect(failure.errors.map(\.description) == [
            "a.acl:2: unknown operation 'bogus'",
            "b.acl:2: duplicate rule 'allow User:a read topic:t' (first at a.acl:1)",
            "b.acl:3: unknown resource type 'queue'",
        ])
    }

    @Test func validLinesMeanWhatTheySay() throws {
        let text = """
            allow User:alice read,describe topic:orders- prefixed from *  # trailing comment
            deny "User:CN=svc, O=acme" write topic:"payments" from 10.0.0.5
            allow User:*  DescribeConfigs,ALTER_CONFIGS  cluster:kafka-cluster
            allow User:app idempotent-write cluster
            allow User:app write transactional-id:"app tx #1" literal from ::1
            super User:root
            """
        let policy = try load(text).get()
        #expect(policy.rules.map(\.description) == [
            "allow User:alice read topic:orders- prefixed",
            "allow User:alice describe topic:orders- prefixed",
            "deny \"User:CN=svc, O=acme\" write topic:payments from 10.0.0.5",
            "allow User:* describe-configs cluster",
            "allow User:* alter-configs cluster",
            "allow User:app idempotent-write cluster",
            "allow User:app write transactional-id:\"app tx #1\" from ::1",
        ])
        #expect(policy.refs.map(\.description) == ["p.acl:1", "p.acl:1", "p.acl:2", "p.acl:3", "p.acl:3", "p.acl:4",
                                                   "p.acl:5"])
        #expect(policy.superUserRefs == ["User:root": .file("p.acl", line: 6)])
        // Printed rules parse back to themselves.
        let reparsed = try load(policy.rules.map(\.description).joined(separator: "\n")).get()
        #expect(reparsed.rules == policy.rules)
    }

    @Test func hotReloadKeepsOldSetOnFailure() throws {
        var current = try load("allow User:a read topic:t").get()
        switch load("allow User:a read topic:t\nallow User:a raed topic:u") {
        case .success(let next): current = next
        case .failure: break
        }
        #expect(current.rules.count == 1)
    }

    @Test func demoPoliciesLoadAndLintClean() throws {
        let directory = String(#filePath.split(separator: "/").dropLast(3).joined(separator: "/"))
        let policy = try PolicySet.load(directory: "/" + directory + "/policies").get()
        #expect(policy.fileNames == ["teams.acl"])
        #expect(policy.lint().filter { $0.severity == .warning } == [])
        let authorizer = Authorizer(policy: policy)
        func allowed(_ user: String, _ operation: AclOperation, _ resource: AclResource) -> Bool {
            authorizer.authorize(principal: "User:" + user, host: "127.0.0.1", operation: operation,
                                 resource: resource).allowed
        }
        #expect(allowed("admin", .alterConfigs, .cluster))
        #expect(allowed("team-a-app", .write, .topic("team-a.orders")))
        #expect(allowed("team-a-app", .read, .group("team-a.billing")))
        #expect(!allowed("team-a-app", .read, .topic("team-b.orders")))
        #expect(allowed("team-b-app", .read, .topic("team-b.events")))
        #expect(!allowed("team-b-app", .write, .topic("team-a.orders")))
        #expect(allowed("team-a-admin", .create, .topic("team-a.new")))
        #expect(!allowed("team-a-app", .create, .topic("team-a.new")))
    }
}

@Suite struct LintAndExplainTests {
    @Test func lintFindings() throws {
        let policy = try load("""
            super User:admin
            allow User:a write group:g
            allow User:a read topic:* prefixed
            allow User:a read topic:logs- prefixed
            allow User:a read topic:logs-app
            allow User:* describe topic:logs-app
            allow User:a read,describe topic:metrics
            deny  User:* all topic:secret- prefixed
            allow User:b read topic:secret-x
            allow User:admin read topic:x
            deny  User:c write topic:nothing-allows-this
            allow User:b write topic:secret-y from 10.0.0.1
            """).get()
        let findings = policy.lint(superUsers: ["User:ops"])
        let summary = findings.map { "\($0.ref) \($0.kind)" }
        #expect(summary == [
            "p.acl:2 inapplicableOperation",
            "p.acl:3 wildcardPrefix",
            "p.acl:5 redundant(by: p.acl:4)",
            "p.acl:7 redundant(by: p.acl:7)",
            "p.acl:9 overriddenByDeny(by: p.acl:8)",
            "p.acl:10 superUserRule",
            "p.acl:11 denyWithoutAllow",
            "p.acl:12 overriddenByDeny(by: p.acl:8)",
        ])
        #expect(findings[3].message.contains("on the same line"))
        #expect(findings[6].severity == .info)
        // Line 6 is not redundant: User:* is broader than User:a, not narrower.
        #expect(!summary.contains { $0.hasPrefix("p.acl:6 ") })
    }

    @Test func lintWarnsAboutClusterRulesReachingOutsideATenant() throws {
        let policy = try load("""
            allow User:beta-admin all cluster
            allow User:beta-admin alter,describe,create,idempotent-write cluster
            allow User:beta-ops alter-configs cluster
            allow User:* cluster-action cluster
            allow User:outsider all cluster
            deny  User:beta-admin all cluster
            """).get()
        let tenants = try TenantSet.load(files: [TenantFile(name: "t.tenants", text: """
            tenant beta
              member User:beta-admin
              member User:beta-o*
            """)]).get()
        let findings = policy.lint(tenants: tenants).filter { $0.kind == .tenantClusterReach }
        #expect(findings.map(\.ref.description) == ["p.acl:1", "p.acl:3", "p.acl:4"])
        #expect(findings.allSatisfy { $0.severity == .warning })
        #expect(findings[0].message.contains("User:beta-admin, a member of tenant beta,")
                    && findings[0].message.contains("cluster-action, describe-configs, alter-configs"))
        #expect(findings[2].message.contains("every tenant member"))
        // Without tenants there is nothing to warn about.
        #expect(!policy.lint().contains { $0.kind == .tenantClusterReach })
    }

    @Test func explainSaysWhichRuleAndWhy() throws {
        let policy = try load("""
            allow User:alice write topic:orders
            deny User:* describe topic:orders from 10.9.9.9
            allow User:* read topic:other
            """).get()
        let authorizer = Authorizer(policy: policy, superUsers: ["User:root"])
        let implied = authorizer.explain(principal: "User:alice", operation: .describe, resource: .topic("orders"),
                                         host: "10.0.0.1")
        #expect(implied.decision == Decision(allowed: true, rule: .file("p.acl", line: 1),
                                             reason: Decision.allowedByRuleReason))
        #expect(implied.lines == [
            "request: User:alice from 10.0.0.1 wants describe on topic:orders",
            "  p.acl:1: allow User:alice write topic:orders -> ALLOW matches: write implies describe",
            "  p.acl:2: deny User:* describe topic:orders from 10.9.9.9 -> not applicable: rule is for host 10.9.9.9",
            "decision: ALLOWED by (p.acl:1)",
        ])
        let denied = authorizer.explain(principal: "User:alice", operation: .describe, resource: .topic("orders"),
                                        host: "10.9.9.9")
        #expect(denied.lines.last == "decision: DENIED by (p.acl:2); DENY beats ALLOW")
        let none = authorizer.explain(principal: "User:bob", operation: .read, resource: .topic("orders"))
        #expect(none.lines.contains("  no rule on topic:orders names User:bob or User:*") == false)
        #expect(none.lines.last == "decision: DENIED: no rule allows it (deny by default)")
        let nothing = authorizer.explain(principal: "User:bob", operation: .read, resource: .topic("x"))
        #expect(nothing.lines == [
            "request: User:bob from * wants read on topic:x",
            "  no rule on topic:x names User:bob or User:*",
            "decision: DENIED: no rule allows it (deny by default)",
        ])
        let root = authorizer.explain(principal: "User:root", operation: .delete, resource: .topic("x"))
        #expect(root.lines[1] == "User:root is a super user (super.users): always allowed, rules are not consulted")
        #expect(root.decision.allowed)
        let denyNoImply = authorizer.explain(principal: "User:alice", operation: .write, resource: .topic("orders"),
                                             host: "10.9.9.9")
        #expect(denyNoImply.lines[2].hasSuffix("a DENY of describe does not deny write (denials do not imply)"))
        #expect(denyNoImply.decision.allowed)
    }
}

@Suite struct ApiAclTests {
    private func sample() -> ApiAclSet {
        var set = ApiAclSet()
        set.create([
            AclRule(.allow, "User:a", .read, AclResourcePattern(.topic, "orders")),  // 1
            AclRule(.allow, "User:a", .write, AclResourcePattern(.topic, "ord", .prefixed)),  // 2
            AclRule(.deny, "User:*", .read, AclResourcePattern(.topic, "*")),  // 3
            AclRule(.allow, "User:b", .read, AclResourcePattern(.group, "orders")),  // 4
            AclRule(.allow, "User:b", .describe, AclResourcePattern(.topic, "other"), host: "10.0.0.1"),  // 5
            AclRule(.allow, "User:b", .read, AclResourcePattern(.topic, "orders-eu", .prefixed)),  // 6
        ])
        return set
    }

    private func ids(_ set: ApiAclSet, _ filter: AclBindingFilter) -> [Int] {
        set.describe(filter).map { ref in
            guard case .api(let id) = ref.ref else { return -1 }
            return id
        }
    }

    @Test func describeFilterSemantics() {
        let set = sample()
        #expect(ids(set, .any) == [1, 2, 3, 4, 5, 6])
        #expect(ids(set, AclBindingFilter(resourceType: .topic)) == [1, 2, 3, 5, 6])
        // ANY pattern type: exact name, any pattern type.
        #expect(ids(set, AclBindingFilter(resourceType: .topic, name: "orders", patternType: .any)) == [1])
        #expect(ids(set, AclBindingFilter(name: "orders", patternType: .any)) == [1, 4])
        // LITERAL / PREFIXED: exact pattern type and name.
        #expect(ids(set, AclBindingFilter(resourceType: .topic, name: "ord", patternType: .prefixed)) == [2])
        #expect(ids(set, AclBindingFilter(resourceType: .topic, name: "ord", patternType: .literal)) == [])
        #expect(ids(set, AclBindingFilter(resourceType: .topic, patternType: .prefixed)) == [2, 6])
        // MATCH: every pattern that applies to topic "orders-eu-1".
        #expect(ids(set, AclBindingFilter(resourceType: .topic, name: "orders-eu-1", patternType: .match)) == [2, 3, 6])
        #expect(ids(set, AclBindingFilter(resourceType: .topic, name: "orders", patternType: .match)) == [1, 2, 3])
        // Entry fields match exactly: User:* finds only the wildcard rule.
        #expect(ids(set, AclBindingFilter(principal: "User:*")) == [3])
        #expect(ids(set, AclBindingFilter(principal: "User:b", host: "10.0.0.1")) == [5])
        #expect(ids(set, AclBindingFilter(operation: .read, permission: .allow)) == [1, 4, 6])
        #expect(ids(set, AclBindingFilter(permission: .deny)) == [3])
        #expect(ids(set, AclBindingFilter(operation: .describe)) == [5])  // no implication in filters
    }

    @Test func deleteByFilters() {
        var set = sample()
        let deleted = set.delete(matching: [
            AclBindingFilter(resourceType: .topic, name: "orders", patternType: .match, principal: "User:a"),
            AclBindingFilter(resourceType: .topic, name: "orders", patternType: .literal),
            AclBindingFilter(resourceType: .group, name: "nope", patternType: .any),
        ])
        #expect(deleted.map { $0.map(\.id) } == [[1, 2], [1], []])
        #expect(set.entries.map(\.id) == [3, 4, 5, 6])
        // Ids are never reused.
        #expect(set.create([AclRule(.allow, "User:z", .read, AclResourcePattern(.topic, "z"))]) == [7])
        // Creating an existing rule is a no-op returning its id.
        #expect(set.create([AclRule(.allow, "User:b", .read, AclResourcePattern(.group, "orders"))]) == [4])
    }

    @Test func wireValidation() {
        func create(_ type: Int8 = 2, _ name: String = "t", _ pattern: Int8 = 3, _ principal: String = "User:a",
                    _ host: String = "*", _ operation: Int8 = 3, _ permission: Int8 = 3) -> Bool {
            if case .success = ApiAclSet.bindingFromWire(resourceType: type, name: name, patternType: pattern,
                                                         principal: principal, host: host, operation: operation,
                                                         permission: permission) { return true }
            return false
        }
        #expect(create())
        #expect(create(4, "kafka-cluster", 3, "User:a", "*", 9, 3))
        #expect(!create(1))  // ANY resource type
        #expect(!create(0))
        #expect(!create(4, "other"))
        #expect(!create(2, ""))
        #expect(!create(2, "t", 1))  // ANY pattern
        #expect(!create(2, "t", 2))  // MATCH pattern
        #expect(!create(2, "t", 3, "alice"))
        #expect(!create(2, "t", 3, "User:a", "host.example"))
        #expect(!create(2, "t", 3, "User:a", "*", 1))  // ANY operation
        #expect(!create(2, "t", 3, "User:a", "*", 3, 1))  // ANY permission
        if case .success = AclBindingFilter.fromWire(resourceType: 1, name: nil, patternType: 2, principal: nil,
                                                     host: nil, operation: 1, permission: 1) {} else {
            Issue.record("ANY/MATCH filter must be accepted")
        }
        if case .success = AclBindingFilter.fromWire(resourceType: 2, name: nil, patternType: 0, principal: nil,
                                                     host: nil, operation: 1, permission: 1) {
            Issue.record("UNKNOWN pattern type must be refused")
        }
    }

    @Test func persistenceRoundTrip() throws {
        var set = sample()
        _ = set.delete(matching: [AclBindingFilter(principal: "User:b", host: "10.0.0.1")])
        set.create([AclRule(.allow, "User:CN=x, O=y", .write, AclResourcePattern(.group, "g h", .prefixed))])
        let text = text(set.serialized())
        #expect(text.hasPrefix("# sluice api acls v1\n@next 8\n@1 allow User:a read topic:orders\n"))
        let loaded = try ApiAclSet.parse(set.serialized()).get()
        #expect(loaded.entries.map(\.id) == set.entries.map(\.id))
        #expect(loaded.entries.map(\.rule) == set.entries.map(\.rule))
        #expect(loaded.nextId == 8)
        guard case .failure(let failure) = ApiAclSet.parse(bytes("@1 allow User:a read topic:t\n@2 allow User:a rd topic:t\n"))
        else {
            Issue.record("bad line must fail")
            return
        }
        #expect(failure.errors.map(\.line) == [2])
    }

    @Test func describeShowsFileAndApiRules() throws {
        var authorizer = try truthAuthorizer()
        authorizer.apiAcls.create([AclRule(.allow, "User:alice", .read, AclResourcePattern(.topic, "orders"))])
        let found = authorizer.describe(AclBindingFilter(resourceType: .topic, name: "orders", patternType: .match,
                                                         principal: "User:alice"))
        #expect(found.map(\.ref) == [.file("truth.acl", line: 3), .api(1)])
    }
}
