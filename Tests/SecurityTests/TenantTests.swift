// Tenant files and tenant namespaces: the parser's line-numbered errors (one case per kind of
// mistake), what valid files mean (members, patterns, claims, quotas), lookups, the demo file,
// and the name mapping's guarantees against forging (separator in names, another tenant's name
// as a prefix, very long names, unicode group ids).
import Testing
@testable import Security

struct TenantErrorCase: Sendable, CustomTestStringConvertible {
    let name: String
    let text: String
    let line: Int
    let fragment: String
    var testDescription: String { name }
}

let tenantErrorCases: [TenantErrorCase] = [
    TenantErrorCase(name: "unknown keyword", text: "tenant a\n  members User:x", line: 2, fragment: "unknown keyword 'members'"),
    TenantErrorCase(name: "member before tenant", text: "# c\nmember User:x", line: 2, fragment: "outside a tenant block"),
    TenantErrorCase(name: "bad tenant name (upper case)", text: "tenant TeamA", line: 1, fragment: "bad tenant name 'TeamA'"),
    TenantErrorCase(name: "bad tenant name (dot)", text: "tenant a.b", line: 1, fragment: "bad tenant name"),
    TenantErrorCase(name: "tenant name too long", text: "tenant " + String(repeating: "a", count: 33), line: 1,
                    fragment: "bad tenant name"),
    TenantErrorCase(name: "tenant without name", text: "tenant", line: 1, fragment: "needs a name"),
    TenantErrorCase(name: "duplicate tenant", text: "tenant a\ntenant b\n\ntenant a", line: 4,
                    fragment: "duplicate tenant 'a' (first at t.tenants:1)"),
    TenantErrorCase(name: "bad member", text: "tenant a\nmember alice", line: 2, fragment: "bad member 'alice'"),
    TenantErrorCase(name: "member pattern matching everyone", text: "tenant a\nmember User:*", line: 2,
                    fragment: "matches every principal"),
    TenantErrorCase(name: "bad claim", text: "tenant a\nmember claim:tenant", line: 2, fragment: "bad claim member"),
    TenantErrorCase(name: "duplicate member", text: "tenant a\nmember User:x\nmember User:x", line: 3,
                    fragment: "duplicate member User:x"),
    TenantErrorCase(name: "principal in two tenants", text: "tenant a\nmember User:x\ntenant b\nmember User:x", line: 4,
                    fragment: "would be in two tenants: 'b' and 'a'"),
    TenantErrorCase(name: "principal inside another tenant's pattern",
                    text: "tenant a\nmember User:CN=*.a.example\ntenant b\nmember User:CN=db.a.example", line: 4,
                    fragment: "would be in two tenants"),
    TenantErrorCase(name: "overlapping patterns", text: "tenant a\nmember User:app-*\ntenant b\nmember User:*-b", line: 4,
                    fragment: "would be in two tenants"),
    TenantErrorCase(name: "claim in two tenants", text: "tenant a\nmember claim:t=x\ntenant b\nmember claim:t=x", line: 4,
                    fragment: "would be in two tenants"),
    TenantErrorCase(name: "super user as member", text: "tenant a\nmember User:admin", line: 2,
                    fragment: "super user User:admin cannot be in a tenant"),
    TenantErrorCase(name: "super user matched by a pattern", text: "tenant a\nmember User:adm*", line: 2,
                    fragment: "super user User:admin"),
    TenantErrorCase(name: "unknown quota", text: "tenant a\nquota bytes-in 5", line: 2, fragment: "unknown quota 'bytes-in'"),
    TenantErrorCase(name: "bad byte value", text: "tenant a\nquota produce-byte-rate 5Mb", line: 2, fragment: "bad value '5Mb'"),
    TenantErrorCase(name: "negative count", text: "tenant a\nquota topics -1", line: 2, fragment: "bad value '-1' for topics"),
    TenantErrorCase(name: "zero percentage", text: "tenant a\nquota request-percentage 0", line: 2, fragment: "a number above 0"),
    TenantErrorCase(name: "quota twice", text: "tenant a\nquota topics 1\nquota topics 2", line: 3, fragment: "set twice"),
    TenantErrorCase(name: "principal quota for a non-member", text: "tenant a\nquota connections 3 for User:x", line: 2,
                    fragment: "not a member of tenant 'a'"),
    TenantErrorCase(name: "tenant-wide quota per principal",
                    text: "tenant a\nmember User:x\nquota storage-bytes 3 for User:x", line: 3, fragment: "is tenant-wide"),
    TenantErrorCase(name: "tokens left over", text: "tenant a\nquota topics 3 please", line: 2, fragment: "unexpected 'please'"),
    TenantErrorCase(name: "unterminated quote", text: "tenant a\nmember \"User:x", line: 2, fragment: "unterminated quote"),
]

@Test(arguments: tenantErrorCases)
func tenantFileErrorsNameTheLine(_ c: TenantErrorCase) throws {
    let result = TenantSet.load(files: [TenantFile(name: "t.tenants", text: c.text)], superUsers: ["User:admin"])
    guard case .failure(let errors) = result else { Issue.record("loaded: \(c.text)"); return }
    #expect(errors.errors.count == 1)
    let error = try #require(errors.errors.first)
    #expect(error.line == c.line)
    #expect(error.message.contains(c.fragment), "\(error)")
    #expect(error.description.hasPrefix("t.tenants:\(c.line): "))
}

@Test func everyErrorOfEveryFileIsReported() {
    let result = TenantSet.load(files: [TenantFile(name: "1.tenants", text: "tenant a\nmember User:x\nbogus"),
                                        TenantFile(name: "2.tenants", text: "tenant a\ntenant b\nmember User:x")])
    guard case .failure(let errors) = result else { Issue.record("loaded"); return }
    #expect(errors.errors.map(\.description) == [
        "1.tenants:3: unknown keyword 'bogus' (expected tenant, member or quota)",
        "2.tenants:1: duplicate tenant 'a' (first at 1.tenants:1)",
        "2.tenants:3: User:x would be in two tenants: 'b' and 'a' (User:x at 1.tenants:2)",
    ])
}

@Test func validFileMeansMembersAndQuotas() throws {
    let text = """
    # comment
    tenant team-a
      member User:team-a-app          # trailing comment
      member "User:CN=*.team-a.example.com"
      member claim:tenant=team-a
      quota produce-byte-rate 1MiB
      quota fetch-byte-rate 500KB
      quota request-percentage 12.5
      quota connections 10
      quota connection-creation-rate 2.5
      quota partitions 6
      quota topics 3
      quota storage-bytes 2GiB
      quota produce-byte-rate 1024 for User:team-a-app
    """
    let set = try TenantSet.load(files: [TenantFile(name: "x.tenants", text: text)]).get()
    let tenant = try #require(set.tenant(named: "team-a"))
    #expect(tenant.members == [.principal("User:team-a-app"), .pattern("User:CN=*.team-a.example.com"),
                               .claim(name: "tenant", value: "team-a")])
    var expected = Quotas()
    expected.produceByteRate = 1 << 20
    expected.fetchByteRate = 500_000
    expected.requestPercentage = 12.5
    expected.connections = 10
    expected.connectionCreationRate = 2.5
    expected.partitions = 6
    expected.topics = 3
    expected.storageBytes = 2 << 30
    #expect(tenant.quotas == expected)
    #expect(tenant.quotas(for: "User:team-a-app")?.produceByteRate == 1024)
    #expect(tenant.quotas(for: "User:other") == nil)
    #expect(tenant.definedAt == "x.tenants:2")

    #expect(set.tenant(for: "User:team-a-app")?.name == "team-a")
    #expect(set.tenant(for: "User:CN=db.team-a.example.com")?.name == "team-a")
    #expect(set.tenant(for: "User:bob", claims: ["tenant": ["x", "team-a"]])?.name == "team-a")
    #expect(set.tenant(for: "User:bob", claims: ["tenant": ["team-b"]]) == nil)
    #expect(set.tenant(for: "User:team-a-appx") == nil)
}

@Test func claimOfOneTenantAndPrincipalOfAnotherIsAmbiguous() throws {
    let set = try TenantSet.load(files: [TenantFile(name: "t.tenants", text:
        "tenant a\nmember User:x\ntenant b\nmember claim:tenant=b")]).get()
    #expect(set.resolve(principal: "User:x", claims: ["tenant": ["b"]]) == .ambiguous(["a", "b"]))
    #expect(set.tenant(for: "User:x", claims: ["tenant": ["b"]]) == nil)
    #expect(set.resolve(principal: "User:y", claims: ["tenant": ["b"]]) == .tenant(set.tenant(named: "b")!))
}

@Test func globs() {
    #expect(TenantGlob.matches("User:a*b", "User:ab"))
    #expect(TenantGlob.matches("User:a*b", "User:axxb"))
    #expect(!TenantGlob.matches("User:a*b", "User:axxbc"))
    #expect(TenantGlob.overlap("User:a*", "User:*b"))
    #expect(!TenantGlob.overlap("User:a*", "User:b*"))
    #expect(!TenantGlob.overlap("User:*.a.example", "User:*.b.example"))
    #expect(TenantGlob.overlap("User:x*y*z", "User:*yz"))
}

@Test func demoTenantsLoadWithTheDemoPolicy() throws {
    let directory = String(#filePath.split(separator: "/").dropLast(3).joined(separator: "/"))
    let policy = try PolicySet.load(directory: "/" + directory + "/policies").get()
    let set = try TenantSet.load(directory: "/" + directory + "/policies",
                                 superUsers: Set(policy.superUserRefs.keys)).get()
    #expect(set.tenants.map(\.name) == ["team-a", "team-b"])
    #expect(set.tenant(for: "User:team-b-app")?.name == "team-b")
    #expect(set.tenant(for: "User:admin") == nil)
}

// MARK: Name mapping

@Test func namesMapIntoTheNamespaceAndBack() throws {
    let a = TenantNamespace(tenant: "team-a")
    let internalName = try a.internalTopic("orders").get()
    #expect(internalName == "__tenant.team-a.orders")
    #expect(a.localName(internalName) == "orders")
    #expect(TenantNamespace.tenant(ofInternal: internalName) == "team-a")
    #expect(a.localName("orders") == nil)
    #expect(a.localName("__tenant.team-b.orders") == nil)
    #expect(a.localize("Topic __tenant.team-a.orders is gone") == "Topic orders is gone")
}

@Test func noNameATenantSendsReachesAnotherNamespace() throws {
    let a = TenantNamespace(tenant: "team-a")
    let b = TenantNamespace(tenant: "team-b")
    // The separator, the reserved prefix, the other tenant's name as a prefix, another tenant
    // whose name extends this one's: all stay in team-a's namespace.
    for attempt in ["__tenant.team-b.orders", "team-b.orders", ".team-b.orders", "-b.orders", "..", "__tenant.",
                    "team-a.orders", "x"] {
        if case .success(let mapped) = a.internalTopic(attempt) {
            #expect(a.owns(mapped))
            #expect(!b.owns(mapped))
            #expect(TenantNamespace.tenant(ofInternal: mapped) == "team-a")
            #expect(a.localName(mapped) == attempt)
        }
        let group = try a.internalName(attempt).get()
        #expect(!b.owns(group) && TenantNamespace.tenant(ofInternal: group) == "team-a")
    }
    // A tenant named as another's prefix ("team" vs "team-a") cannot read team-a's names.
    let team = TenantNamespace(tenant: "team")
    #expect(!team.owns(try a.internalTopic("orders").get()))
    #expect(team.localName("__tenant.team-a.orders") == nil)
    #expect(!a.owns(try team.internalTopic("-a.orders").get()))
    #expect(TenantNamespace.tenant(ofInternal: try team.internalTopic("-a.orders").get()) == "team")
}

@Test func separatorInALocalNameCannotForgeATenantBoundary() throws {
    // "team" + local "a.orders" would read "__tenant.team.a.orders": owned by "team", not by "team-a"
    // or a tenant "team.a" (a dot is not allowed in tenant names).
    let team = TenantNamespace(tenant: "team")
    let mapped = try team.internalTopic("a.orders").get()
    #expect(TenantNamespace.tenant(ofInternal: mapped) == "team")
    #expect(!TenantNamespace(tenant: "team-a").owns(mapped))
    #expect(!TenantSet.isValidName("team.a"))
}

@Test func invalidOrTooLongNamesAreRefusedInTheTenantsTerms() {
    let a = TenantNamespace(tenant: "team-a")
    let limit = a.maxLocalTopicLength
    #expect(limit == 249 - "__tenant.team-a.".count)
    #expect((try? a.internalTopic(String(repeating: "x", count: limit)).get())?.utf8.count == 249)
    guard case .failure(let error) = a.internalTopic(String(repeating: "x", count: limit + 1)) else {
        Issue.record("accepted"); return
    }
    #expect(error.message.contains("longer than \(limit) characters"))
    #expect(!error.message.contains("__tenant"))
    for bad in ["", ".", "..", "a b", "ü", "a/b"] {
        guard case .failure(let problem) = a.internalTopic(bad) else { Issue.record("accepted '\(bad)'"); continue }
        #expect(!problem.message.contains("__tenant"))
    }
}

@Test func combiningMarksAfterThePrefixStayInTheNamespace() throws {
    // "\u{301}" fuses with the prefix's final "." into one Character; bytes keep them apart.
    let a = TenantNamespace(tenant: "team-a")
    let local = "\u{301}group"
    let mapped = try a.internalName(local).get()
    #expect(a.owns(mapped))
    #expect(a.localName(mapped) == local)
    #expect(TenantNamespace.isReserved(mapped) && TenantNamespace.tenant(ofInternal: mapped) == "team-a")
    #expect(a.localize("Group '\(mapped)' is empty") == "Group '\(local)' is empty")
    #expect(!a.localize("Group '\(mapped)' is empty").utf8.starts(with: "__tenant".utf8))
}

@Test func unicodeAndLongGroupIds() throws {
    let a = TenantNamespace(tenant: "team-a")
    let unicode = "gröup-🚀-__tenant.team-b.x"
    let mapped = try a.internalName(unicode).get()
    #expect(a.localName(mapped) == unicode)
    #expect(TenantNamespace.tenant(ofInternal: mapped) == "team-a")
    let longest = String(repeating: "g", count: Int(Int16.max) - a.prefix.utf8.count)
    #expect((try? a.internalName(longest).get()) != nil)
    guard case .failure(let error) = a.internalName(longest + "g") else { Issue.record("accepted"); return }
    #expect(!error.message.contains("__tenant"))
    // Empty names are names too: the tenant's own "", never another's.
    #expect(a.localName(try a.internalName("").get()) == "")
}
