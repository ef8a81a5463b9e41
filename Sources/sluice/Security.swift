import Broker
import Foundation
import Security

/// `sluice users add|list|delete|passwd`: SCRAM credentials in the data directory, offline (the
/// broker reads them at start). Only salted keys are stored, for SCRAM-SHA-256 and -512.
enum Users {
    static func run(_ sub: String, _ options: Options) throws {
        let directory = try dataDirectory(options)
        var store = try CredentialStore.load(dataDirectory: directory)
        switch sub {
        case "list":
            for user in store.userNames {
                let mechanisms = (store.describe(user: user) ?? [])
                    .map { "\($0.mechanism.rawValue) (\($0.iterations) iterations)" }
                print("\(user)\t\(mechanisms.joined(separator: ", "))")
            }
            return
        case "add", "passwd":
            let user = try options.required("user")
            let exists = store.describe(user: user) != nil
            if sub == "add" && exists { throw CLIError("user \(user) already exists (use passwd)") }
            if sub == "passwd" && !exists { throw CLIError("no user \(user)") }
            let password = try options.string("password") ?? readPassword()
            try store.setPasswordForAllMechanisms(user: user, password: password,
                                                  iterations: try options.int("iterations", default: 8192))
        case "delete":
            let user = try options.required("user")
            guard store.deleteUser(user) else { throw CLIError("no user \(user)") }
        default:
            throw CLIError("unknown users subcommand '\(sub)' (add|list|delete|passwd)")
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try store.save(dataDirectory: directory)
        print("Updated credentials in \(directory).")
    }

    /// The password from the first line of standard input (so it never shows in `ps`).
    static func readPassword() throws(CLIError) -> String {
        guard let line = readLine(strippingNewline: true), !line.isEmpty else {
            throw CLIError("give --password or the password on standard input")
        }
        return line
    }

    /// `--data-dir`, else `log.dirs`/`log.dir` from `--config`, else the default ./data.
    static func dataDirectory(_ options: Options) throws -> String {
        if let directory = options.string("data-dir") { return directory }
        var config = BrokerConfig()
        if let path = options.string("config") {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw CLIError("cannot read config file \(path)")
            }
            config = try BrokerConfig.parse(properties: text, source: path)
        }
        return config.logDirectory
    }
}

/// `sluice acls lint|explain`: checks the policy files and tells which rule decides a request.
enum Acls {
    static func run(_ sub: String, _ options: Options) throws {
        let directory = options.string("policies") ?? "policies"
        let policy: PolicySet
        switch PolicySet.load(directory: directory) {
        case .success(let loaded): policy = loaded
        case .failure(let errors): throw CLIError("policy errors:\n\(errors.description)")
        }
        let superUsers = Set(options.all("super-user"))
        switch sub {
        case "lint":
            var tenants = TenantSet()
            switch TenantSet.load(directory: directory, superUsers: superUsers.union(policy.superUserRefs.keys)) {
            case .success(let loaded): tenants = loaded
            case .failure(let errors): throw CLIError("tenant errors:\n\(errors.description)")
            }
            let findings = policy.lint(superUsers: superUsers, tenants: tenants)
            for finding in findings { print(finding.description) }
            print("\(directory): \(policy.rules.count) rules, \(findings.count) findings")
        case "explain":
            let principal = try options.required("principal")
            guard let operation = AclOperation(name: try options.required("operation")) else {
                throw CLIError("unknown operation '\(options.string("operation") ?? "")'")
            }
            let text = try options.required("resource")
            let resource: AclResource
            if text == "cluster" {
                resource = .cluster
            } else {
                guard let colon = text.firstIndex(of: ":"),
                      let type = AclResourceType(name: String(text[..<colon])) else {
                    throw CLIError("--resource must look like topic:NAME, group:NAME, transactional-id:NAME or cluster")
                }
                resource = AclResource(type, String(text[text.index(after: colon)...]))
            }
            // With --data-dir, the API-made rules (CreateAcls) in that data directory count too.
            var apiAcls = ApiAclSet()
            if let dataDirectory = options.string("data-dir") {
                switch ApiAclSet.load(dataDirectory: dataDirectory) {
                case .success(let loaded): apiAcls = loaded
                case .failure(let errors): throw CLIError("API rules in \(dataDirectory):\n\(errors.description)")
                }
            }
            let authorizer = Authorizer(policy: policy, apiAcls: apiAcls, superUsers: superUsers,
                                        allowEveryoneIfNoAclFound: options.has("allow-everyone-if-no-acl-found"))
            print(authorizer.explain(principal: principal, operation: operation, resource: resource,
                                     host: options.string("host") ?? "*").description)
        default:
            throw CLIError("unknown acls subcommand '\(sub)' (lint|explain)")
        }
    }
}
