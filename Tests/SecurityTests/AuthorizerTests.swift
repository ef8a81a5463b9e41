// The ACL engine's truth table: one policy, many questions, each answer checked against Kafka's
// authorizer semantics (implications, DENY beats ALLOW, wildcard principal and resource, PREFIXED,
// hosts, super users, default deny), including which rule decided.
// Method: a policy text parsed once; each case is (principal, host, operation, resource) → allowed
// and the deciding line.
import Testing
@testable import Security

let truthPolicyText = """
    # truth-table policy
    super User:admin
    allow User:alice read topic:orders
    allow User:alice write topic:team-a. prefixed
    deny  User:alice write topic:team-a.secret
    allow User:*     describe topic:public
    allow User:bob   all group:bob- prefixed
    allow User:carol alter-configs topic:cfg
    allow User:dave  read topic:* from 10.0.0.1
    deny  User:*     read topic:blocked
    allow User:erin  all topic:blocked
    allow User:frank idempotent-write cluster
    allow User:frank write transactional-id:tx- prefixed
    deny  User:frank all topic:danger
    allow User:frank all topic:danger
    allow User:gina  delete topic:old
    allow User:gina  create cluster
    deny  User:gina  describe topic:old
    allow User:hank  read subject:orders-value
    allow User:ivan  read topic:a prefixed
    deny  User:ivan  read topic:ab prefixed
    allow User:*     read group:shared
    deny  User:judy  read group:shared from 192.168.1.9
    """

struct AuthCase: Sendable, CustomTestStringConvertible {
    let principal: String
    let host: String
    let operation: AclOperation
    let resource: AclResource
    let allowed: Bool
    /// Deciding line of truth.acl; nil for super users and default deny.
    let line: Int?
    var testDescription: String {
        "\(principal)@\(host) \(operation.name) \(resource) -> \(allowed ? "allow" : "deny") \(line.map(String.init) ?? "-")"
    }

    init(_ principal: String, _ operation: AclOperation, _ resource: AclResource, _ allowed: Bool, _ line: Int?,
         host: String = "10.0.0.5") {
        self.principal = "User:" + principal
        self.host = host
        self.operation = operation
        self.resource = resource
        self.allowed = allowed
        self.line = line
    }
}

let authCases: [AuthCase] = [
    // Literal allow and the Describe implication of Read.
    AuthCase("alice", .read, .topic("orders"), true, 3),
    AuthCase("alice", .describe, .topic("orders"), true, 3),
    AuthCase("alice", .write, .topic("orders"), false, nil),
    AuthCase("alice", .delete, .topic("orders"), false, nil),
    AuthCase("alice", .read, .topic("orders2"), false, nil),
    AuthCase("alice", .describeConfigs, .topic("orders"), false, nil),
    // Prefixed allow, and a literal DENY beating it.
    AuthCase("alice", .write, .topic("team-a.x"), true, 4),
    AuthCase("alice", .describe, .topic("team-a.x"), true, 4),
    AuthCase("alice", .write, .topic("team-a.secret"), false, 5),
    AuthCase("alice", .describe, .topic("team-a.secret"), true, 4),  // DENY Write does not deny Describe
    AuthCase("alice", .write, .topic("team-a"), false, nil),  // the prefix includes the dot
    AuthCase("alice", .write, .topic("team-b.x"), false, nil),
    // Wildcard principal.
    AuthCase("zed", .describe, .topic("public"), true, 6),
    AuthCase("alice", .describe, .topic("public"), true, 6),
    AuthCase("zed", .read, .topic("public"), false, nil),
    // All on a prefixed group.
    AuthCase("bob", .read, .group("bob-1"), true, 7),
    AuthCase("bob", .delete, .group("bob-1"), true, 7),
    AuthCase("bob", .describe, .group("bob-"), true, 7),
    AuthCase("bob", .read, .group("bo"), false, nil),
    AuthCase("bob", .read, .topic("bob-1"), false, nil),  // other resource type
    // AlterConfigs implies DescribeConfigs, not Describe.
    AuthCase("carol", .alterConfigs, .topic("cfg"), true, 8),
    AuthCase("carol", .describeConfigs, .topic("cfg"), true, 8),
    AuthCase("carol", .describe, .topic("cfg"), false, nil),
    // Host-restricted rule on the wildcard resource.
    AuthCase("dave", .read, .topic("anything"), true, 9, host: "10.0.0.1"),
    AuthCase("dave", .read, .topic("anything"), false, nil, host: "10.0.0.2"),
    AuthCase("dave", .describe, .topic("x"), true, 9, host: "10.0.0.1"),
    // Wildcard DENY beats a specific ALLOW All.
    AuthCase("erin", .read, .topic("blocked"), false, 10),
    AuthCase("erin", .write, .topic("blocked"), true, 11),
    AuthCase("dave", .read, .topic("blocked"), false, 10, host: "10.0.0.1"),
    // Cluster and transactional ids.
    AuthCase("frank", .idempotentWrite, .cluster, true, 12),
    AuthCase("frank", .clusterAction, .cluster, false, nil),
    AuthCase("frank", .write, .transactionalId("tx-1"), true, 13),
    AuthCase("frank", .describe, .transactionalId("tx-1"), true, 13),
    AuthCase("frank", .write, .transactionalId("other"), false, nil),
    // DENY All beats ALLOW All on the same resource.
    AuthCase("frank", .read, .topic("danger"), false, 14),
    AuthCase("frank", .describe, .topic("danger"), false, 14),
    // DENY Describe does not deny Delete (denials do not imply), but does deny Describe.
    AuthCase("gina", .delete, .topic("old"), true, 16),
    AuthCase("gina", .describe, .topic("old"), false, 18),
    AuthCase("gina", .create, .cluster, true, 17),
    AuthCase("gina", .create, .topic("new"), false, nil),
    // Subject resources for the registry.
    AuthCase("hank", .read, .subject("orders-value"), true, 19),
    AuthCase("hank", .read, .topic("orders-value"), false, nil),
    // Nested prefixes: the longer DENY prefix wins where it applies.
    AuthCase("ivan", .read, .topic("a1"), true, 20),
    AuthCase("ivan", .read, .topic("ab1"), false, 21),
    AuthCase("ivan", .read, .topic("ab"), false, 21),
    // Host-specific DENY for one user of a shared group.
    AuthCase("judy", .read, .group("shared"), true, 22, host: "192.168.1.8"),
    AuthCase("judy", .read, .group("shared"), false, 23, host: "192.168.1.9"),
    AuthCase("kim", .read, .group("shared"), true, 22, host: "192.168.1.9"),
    // Super user: always allowed, even where a DENY for everyone exists.
    AuthCase("admin", .read, .topic("blocked"), true, 2),
    AuthCase("admin", .alterConfigs, .cluster, true, 2),
    AuthCase("admin", .all, .group("anything"), true, 2),
    // No rule at all.
    AuthCase("nobody", .read, .topic("orders"), false, nil),
    AuthCase("nobody", .describe, .cluster, false, nil),
]

func truthAuthorizer(apiEnabled: Bool = true) throws -> Authorizer {
    let policy = try PolicySet.load(files: [PolicyFile(name: "truth.acl", text: truthPolicyText)]).get()
    return Authorizer(policy: policy, apiAclsEnabled: apiEnabled)
}

@Suite struct AuthorizerTests {
    @Test(arguments: authCases)
    func truthTable(_ item: AuthCase) throws {
        let authorizer = try truthAuthorizer()
        let decision = authorizer.authorize(principal: item.principal, host: item.host, operation: item.operation,
                                            resource: item.resource)
        #expect(decision.allowed == item.allowed)
        #expect(decision.rule == item.line.map { RuleRef.file("truth.acl", line: $0) })
        // explain agrees with authorize.
        let explanation = authorizer.explain(principal: item.principal, operation: item.operation,
                                             resource: item.resource, host: item.host)
        #expect(explanation.decision == decision)
    }

    @Test func configuredSuperUsers() throws {
        var authorizer = try truthAuthorizer()
        authorizer.configuredSuperUsers = ["User:ops"]
        let decision = authorizer.authorize(principal: "User:ops", host: "1.2.3.4", operation: .delete,
                                            resource: .topic("x"))
        #expect(decision == Decision(allowed: true, rule: nil, reason: Decision.superUserReason))
    }

    @Test func apiRulesEvaluatedTogetherAndSwitchable() throws {
        var authorizer = try truthAuthorizer()
        let ids = authorizer.apiAcls.create([
            AclRule(.allow, "User:zed", .read, AclResourcePattern(.topic, "api-", .prefixed)),
            AclRule(.deny, "User:alice", .read, AclResourcePattern(.topic, "orders")),
        ])
        #expect(ids == [1, 2])
        #expect(authorizer.authorize(principal: "User:zed", host: "h", operation: .read, resource: .topic("api-1"))
                == Decision(allowed: true, rule: .api(1), reason: Decision.allowedByRuleReason))
        // An API DENY beats a file ALLOW.
        #expect(authorizer.authorize(principal: "User:alice", host: "h", operation: .read, resource: .topic("orders"))
                == Decision(allowed: false, rule: .api(2), reason: Decision.deniedByRuleReason))
        authorizer.apiAclsEnabled = false
        #expect(!authorizer.authorize(principal: "User:zed", host: "h", operation: .read, resource: .topic("api-1")).allowed)
        #expect(authorizer.authorize(principal: "User:alice", host: "h", operation: .read, resource: .topic("orders"))
                .rule == .file("truth.acl", line: 3))
    }
}

/// `allow.everyone.if.no.acl.found=true` with Kafka's semantics (StandardAuthorizer after
/// KAFKA-14435): allowed only where no rule of anyone has a pattern matching the resource.
@Suite struct AllowEveryoneIfNoAclFoundTests {
    static let policyText = """
        super User:admin
        allow User:alice read topic:orders
        deny  User:*     write topic:locked
        allow User:bob   read topic:team-b. prefixed
        allow User:carol describe group:*
        """

    static func authorizer(enabled: Bool = true) throws -> Authorizer {
        let policy = try PolicySet.load(files: [PolicyFile(name: "rollout.acl", text: policyText)]).get()
        return Authorizer(policy: policy, allowEveryoneIfNoAclFound: enabled)
    }

    static let noAcl = Decision(allowed: true, rule: nil, reason: Decision.noAclFoundReason)
    static let defaultDeny = Decision(allowed: false, rule: nil, reason: Decision.noMatchReason)

    @Test func allowsOnlyWhereNoRuleExistsForTheResource() throws {
        let authorizer = try Self.authorizer()
        func decide(_ principal: String, _ operation: AclOperation, _ resource: AclResource) -> Decision {
            authorizer.authorize(principal: principal, host: "10.0.0.7", operation: operation, resource: resource)
        }
        // No rule on the resource: everyone, every operation.
        #expect(decide("User:dave", .read, .topic("payments")) == Self.noAcl)
        #expect(decide("User:dave", .delete, .topic("payments")) == Self.noAcl)
        #expect(decide("User:dave", .describe, .cluster) == Self.noAcl)
        #expect(decide("User:dave", .write, .transactionalId("tx")) == Self.noAcl)
        // A rule for someone else (literal, prefixed or wildcard) keeps default-deny.
        #expect(decide("User:dave", .read, .topic("orders")) == Self.defaultDeny)
        #expect(decide("User:alice", .write, .topic("orders")) == Self.defaultDeny)
        #expect(decide("User:dave", .read, .topic("team-b.events")) == Self.defaultDeny)
        #expect(decide("User:dave", .read, .group("g")) == Self.defaultDeny)
        // A name that only shares part of a prefix is not covered by it.
        #expect(decide("User:dave", .read, .topic("team-c.events")) == Self.noAcl)
        #expect(decide("User:dave", .read, .topic("team-b")) == Self.noAcl)
        // Deny rules still apply, and a rule on the resource for another operation keeps default-deny.
        #expect(decide("User:dave", .write, .topic("locked"))
                == Decision(allowed: false, rule: .file("rollout.acl", line: 3), reason: Decision.deniedByRuleReason))
        #expect(decide("User:dave", .read, .topic("locked")) == Self.defaultDeny)
        // Rules that allow still decide as rules, and super users as super users.
        #expect(decide("User:alice", .read, .topic("orders")).rule == .file("rollout.acl", line: 2))
        #expect(decide("User:admin", .read, .topic("payments")).reason == Decision.superUserReason)
        // Off (Kafka's default): default-deny everywhere.
        let strict = try Self.authorizer(enabled: false)
        #expect(strict.authorize(principal: "User:dave", host: "h", operation: .read, resource: .topic("payments"))
                == Self.defaultDeny)
    }

    @Test func apiRulesCountWhileTheyAreEnabled() throws {
        var authorizer = try Self.authorizer()
        _ = authorizer.apiAcls.create([AclRule(.allow, "User:erin", .write, AclResourcePattern(.topic, "payments"))])
        #expect(authorizer.authorize(principal: "User:dave", host: "h", operation: .read, resource: .topic("payments"))
                == Self.defaultDeny)
        authorizer.apiAclsEnabled = false
        #expect(authorizer.authorize(principal: "User:dave", host: "h", operation: .read, resource: .topic("payments"))
                == Self.noAcl)
    }

    @Test func explainNamesTheReason() throws {
        let authorizer = try Self.authorizer()
        let open = authorizer.explain(principal: "User:dave", operation: .read, resource: .topic("payments"))
        #expect(open.decision == Self.noAcl)
        #expect(open.lines.last == "decision: ALLOWED: no ACL found for topic:payments and allow.everyone.if.no.acl.found=true")
        let closed = authorizer.explain(principal: "User:dave", operation: .read, resource: .topic("orders"))
        #expect(closed.decision == Self.defaultDeny)
        #expect(closed.lines.last?.contains("allow.everyone.if.no.acl.found does not apply") == true)
        let strict = try Self.authorizer(enabled: false)
        #expect(strict.explain(principal: "User:dave", operation: .read, resource: .topic("payments")).lines.last
                == "decision: DENIED: no rule allows it (deny by default)")
    }

    @Test func onlyTheFallbackAllowIsAlwaysAudited() {
        #expect(Self.noAcl.isAllowedWithoutAcl)
        #expect(!Self.defaultDeny.isAllowedWithoutAcl)
        #expect(!Decision(allowed: true, rule: .api(1), reason: Decision.allowedByRuleReason).isAllowedWithoutAcl)
    }
}
