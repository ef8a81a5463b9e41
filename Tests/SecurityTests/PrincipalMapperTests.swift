// ssl.principal.mapping.rules (KIP-371): the examples of Kafka's documentation and the cases its
// own mapper accepts, refuses and splits, plus our parse-time errors with columns.
import Testing
@testable import Security

@Suite struct PrincipalMapperTests {
    func names(_ text: String) throws -> String {
        "[" + (try PrincipalMapper(rules: text).rules.map(\.description).joined(separator: ", ")) + "]"
    }

    @Test func documentedExample() throws {
        // Kafka's security documentation: service users by CN, others as cn@ou in lower case.
        let mapper = try PrincipalMapper(rules: """
            RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/,RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L,\
            RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/L,DEFAULT
            """)
        #expect(try mapper.map("CN=serviceuser,OU=ServiceUsers,O=Unknown,L=Unknown,ST=Unknown,C=Unknown") == "serviceuser")
        #expect(try mapper.map("CN=adminUser,OU=Admin,O=Unknown,L=Unknown,ST=Unknown,C=Unknown") == "adminuser@admin")
        #expect(try mapper.map("CN=alice,OU=clients,O=Sluice Dev") == "alice")
        #expect(try mapper.map("O=NoCommonName") == "O=NoCommonName")
    }

    @Test func mapping() throws {
        let mapper = try PrincipalMapper(rules: [
            "RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L",
            "RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L",
            "RULE:^cn=(.*?),ou=(.*?),dc=(.*?),dc=(.*?)$/$1@$2/U",
            "RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/U",
            "DEFAULT",
        ].joined(separator: ", "))
        #expect(try mapper.map("CN=Duke,OU=ServiceUsers,O=Org,C=US") == "duke")
        #expect(try mapper.map("CN=Duke,OU=SME,O=mycp,L=Fulton,ST=MD,C=US") == "duke@sme")
        #expect(try mapper.map("cn=duke,ou=sme,dc=mycp,dc=com") == "DUKE@SME")
        #expect(try mapper.map("cN=duke,OU=JavaSoft,O=Sun Microsystems") == "DUKE")
        #expect(try mapper.map("OU=JavaSoft,O=Sun Microsystems,C=US") == "OU=JavaSoft,O=Sun Microsystems,C=US")
    }

    @Test func escapedCommaInCN() throws {
        let mapper = try PrincipalMapper(rules: #"RULE:^CN=((\\, *|\w)+)(,.*|$)/$1/,DEFAULT"#)
        #expect(try mapper.map(#"CN=Tkac\, Adam,OU=ITZ,DC=geodis,DC=cz"#) == #"Tkac\, Adam"#)
    }

    @Test func groupReferencesBeyondTheGroupsStayLiteral() throws {
        let mapper = try PrincipalMapper(rules: "RULE:^CN=([a-z]+),(.*)$/$1-$3-$12-$0/")
        #expect(try mapper.map("CN=bob,O=x") == "bob-$3-bob2-CN=bob,O=x")
    }

    @Test func noRuleApplies() throws {
        let mapper = try PrincipalMapper(rules: "RULE:^CN=(.*)$/$1/")
        #expect(throws: NoMatchingPrincipalRule.self) { try mapper.map("O=x") }
        #expect(throws: NoMatchingPrincipalRule.self) { try PrincipalMapper(rules: "").map("CN=a") }
        #expect(try PrincipalMapper().map("CN=a,O=b") == "CN=a,O=b")
    }

    @Test func validRules() throws {
        for text in ["DEFAULT", "RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/", "RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L, DEFAULT",
                     "RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/", "RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/L",
                     "RULE:^cn=(.?),ou=(.?),dc=(.?),dc=(.?)$/$1@$2/U", "RULE:^CN=([^,ADEFLTU,]+)(,.*|$)/$1/",
                     "RULE:^CN=([^,DEFAULT,]+)(,.*|$)/$1/"] {
            #expect(throws: Never.self) { try PrincipalMapper(rules: text) }
        }
    }

    @Test func invalidRules() {
        for text in ["default", "DEFAUL", "DEFAULT/L", "DEFAULT/U", "RULE:CN=(.*?),OU=ServiceUsers.*/$1",
                     "rule:^CN=(.*?),OU=ServiceUsers.*$/$1/", "RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L/U",
                     "RULE:^CN=(.*?),OU=ServiceUsers.*$/L", "RULE:^CN=(.*?),OU=ServiceUsers.*$/U",
                     "RULE:^CN=(.*?),OU=ServiceUsers.*$/LU"] {
            #expect(throws: PrincipalMappingError.self, "\(text)") { try PrincipalMapper(rules: text) }
        }
    }

    @Test func splitting() throws {
        #expect(try names("") == "[]")
        #expect(try names("DEFAULT") == "[DEFAULT]")
        #expect(try names("RULE://") == "[RULE://]")
        #expect(try names("RULE:/.*/") == "[RULE:/.*/]")
        #expect(try names("RULE:/.*/L") == "[RULE:/.*/L]")
        #expect(try names("RULE://,DEFAULT") == "[RULE://, DEFAULT]")
        #expect(try names("  RULE:// ,  DEFAULT  ") == "[RULE://, DEFAULT]")
        #expect(try names("  RULE:   /     / ,  DEFAULT  ") == "[RULE:   /     /, DEFAULT]")
        #expect(try names("  RULE:  /     /U   ,DEFAULT  ") == "[RULE:  /     /U, DEFAULT]")
        #expect(try names("  RULE:([A-Z]*)/$1/U   ,RULE:([a-z]+)/$1/,   DEFAULT  ") == "[RULE:([A-Z]*)/$1/U, RULE:([a-z]+)/$1/, DEFAULT]")
        #expect(try names(",   , , ,      , , ,   ") == "[]")
        #expect(try names(",,RULE://,,,DEFAULT,,") == "[RULE://, DEFAULT]")
        #expect(try names(",  , RULE: /   /    ,,,   DEFAULT, ,   ") == "[RULE: /   /, DEFAULT]")
        #expect(try names(#"RULE:\/\\\(\)\n\t/\/\//"#) == #"[RULE:\/\\\(\)\n\t/\/\//]"#)
        #expect(try names(#"RULE:\**\/+/*/L,RULE:\/*\**/**/"#) == #"[RULE:\**\/+/*/L, RULE:\/*\**/**/]"#)
        #expect(try names(#"RULE:,RULE:,/,RULE:,\//U,RULE:,/RULE:,/,RULE:,RULE:,/L,RULE:,/L,RULE:, DEFAULT, /DEFAULT/,DEFAULT"#)
                == #"[RULE:,RULE:,/,RULE:,\//U, RULE:,/RULE:,/, RULE:,RULE:,/L,RULE:,/L, RULE:, DEFAULT, /DEFAULT/, DEFAULT]"#)
    }

    @Test func errorsNameColumnAndReason() {
        func error(_ text: String) -> PrincipalMappingError? {
            do { _ = try PrincipalMapper(rules: text); return nil } catch { return error }
        }
        #expect(error("DEFAULT, RULE:^CN=(.*$/$1/")
                == PrincipalMappingError(column: 10, rule: "RULE:^CN=(.*$/$1/", reason: "invalid regular expression"))
        #expect(error("DEFAULT,DEFAULT/L")?.column == 9)
        #expect(error("RULE:a/b/Lx")?.reason.contains("`x`") == true)
        #expect(error("RULE:(a)/$x/")?.reason.contains("group number") == true)
        #expect(error("RULE:a/$1/")?.reason.contains("no groups") == true)
        #expect(error(#"RULE:a/b\/"#) != nil)
        #expect(error("  default")?.description == "ssl.principal.mapping.rules: column 3: invalid rule (expected DEFAULT or RULE:pattern/replacement/[L|U]) in rule `default`")
    }
}
