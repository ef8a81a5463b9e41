// Tenant files (`policies/*.tenants`), documented in docs/tenants.md:
//
//   tenant team-a
//     member User:team-a-app
//     member User:CN=*.team-a.example.com
//     member claim:tenant=team-a
//     quota  produce-byte-rate 1MiB
//     quota  produce-byte-rate 256KiB for User:team-a-app
//
// A `tenant` line opens a block; the `member` and `quota` lines after it belong to it.
// Tokens as in the ACL files: blanks separate, `#` starts a comment, double quotes group.

/// One file's name and text.
public struct TenantFile: Sendable {
    public var name: String
    public var text: String
    public init(name: String, text: String) {
        self.name = name
        self.text = text
    }
}

/// A problem in a tenant file, with its 1-based line (0: the file as a whole).
public struct TenantError: Error, Equatable, Sendable, CustomStringConvertible {
    public let file: String
    public let line: Int
    public let message: String
    public var description: String { "\(file):\(line): \(message)" }
}

/// Every error of one refused load; the caller keeps the tenants it has.
public struct TenantErrors: Error, Equatable, Sendable, CustomStringConvertible {
    public let errors: [TenantError]
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

extension TenantSet {
    /// The file-name suffix the broker and the CLI read.
    public static let fileSuffix = ".tenants"
    /// Tenant names: lower-case letters, digits and `-`, starting with a letter or digit.
    public static let maxNameLength = 32

    public static func isValidName(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= maxNameLength else { return false }
        for (index, byte) in name.utf8.enumerated() {
            let lower = byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")
            let digit = byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
            if lower || digit { continue }
            if byte == UInt8(ascii: "-") && index > 0 { continue }
            return false
        }
        return true
    }

    /// Parses and validates `files` as one set. `superUsers` (principals from `super` lines and
    /// `super.users`) may not be members. Pure: a failure returns every error found.
    public static func load(files: [TenantFile], superUsers: Set<String> = []) -> Result<TenantSet, TenantErrors> {
        var errors: [TenantError] = []
        var tenants: [Tenant] = []
        var tenantLines: [String: String] = [:]
        // Where each member was declared, to report overlaps between tenants.
        var memberRefs: [(member: TenantMember, tenant: String, ref: String)] = []
        for file in files {
            var current: Int?
            var lineNumber = 0
            func fail(_ message: String) {
                errors.append(TenantError(file: file.name, line: lineNumber, message: message))
            }
            for line in file.text.split(separator: "\n", omittingEmptySubsequences: false) {
                lineNumber += 1
                let ref = "\(file.name):\(lineNumber)"
                let tokens: [String]
                switch PolicyText.tokenize(line) {
                case .failure(let box): fail(box.message); continue
                case .success(let list): tokens = list
                }
                guard let keyword = tokens.first else { continue }
                switch keyword {
                case "tenant":
                    current = nil
                    guard tokens.count == 2 else {
                        fail(tokens.count < 2 ? "'tenant' needs a name" : "unexpected '\(tokens[2])' after the tenant name")
                        continue
                    }
                    let name = tokens[1]
                    guard isValidName(name) else {
                        fail("bad tenant name '\(name)': 1 to \(maxNameLength) characters of a-z, 0-9 and '-', not starting with '-'")
                        continue
                    }
                    if let earlier = tenantLines[name] {
                        fail("duplicate tenant '\(name)' (first at \(earlier))")
                        continue
                    }
                    tenantLines[name] = ref
                    tenants.append(Tenant(name: name, definedAt: ref))
                    current = tenants.count - 1
                case "member":
                    guard let index = current else { fail("'member' outside a tenant block (start one with 'tenant <name>')"); continue }
                    guard tokens.count == 2 else {
                        fail(tokens.count < 2 ? "'member' needs a principal or claim" : "unexpected '\(tokens[2])' after the member")
                        continue
                    }
                    switch parseMember(tokens[1]) {
                    case .failure(let error): fail(error.message)
                    case .success(let member):
                        if tenants[index].members.contains(member) {
                            fail("duplicate member \(member) in tenant '\(tenants[index].name)'")
                            continue
                        }
                        if let clash = memberRefs.first(where: { $0.tenant != tenants[index].name && overlaps($0.member, member) }) {
                            fail("\(member) would be in two tenants: '\(tenants[index].name)' and '\(clash.tenant)' (\(clash.member) at \(clash.ref))")
                            continue
                        }
                        if let superUser = superUsers.sorted().first(where: { member.matches(principal: $0, claims: [:]) }) {
                            fail("super user \(superUser) cannot be in a tenant: operators see every namespace")
                            continue
                        }
                        tenants[index].members.append(member)
                        memberRefs.append((member, tenants[index].name, ref))
                    }
                case "quota":
                    guard let index = current else { fail("'quota' outside a tenant block (start one with 'tenant <name>')"); continue }
                    if let message = applyQuota(tokens, to: &tenants[index]) { fail(message) }
                default:
                    fail("unknown keyword '\(keyword)' (expected tenant, member or quota)")
                }
            }
        }
        if !errors.isEmpty { return .failure(TenantErrors(errors: errors)) }
        return .success(TenantSet(tenants: tenants, fileNames: files.map(\.name),
                                  fingerprint: PolicyFingerprint.of(files.map { ($0.name, $0.text) })))
    }

    /// Reads every `*.tenants` file of `directory` (sorted by name). A directory without any is an
    /// empty set; I/O problems are errors of line 0.
    public static func load(directory: String, superUsers: Set<String> = []) -> Result<TenantSet, TenantErrors> {
        var files: [TenantFile] = []
        do throws(SecurityFileError) {
            for name in try SecurityFiles.list(directory) where name.hasSuffix(fileSuffix) {
                guard let bytes = try SecurityFiles.read(directory + "/" + name) else { continue }
                guard let text = String(validating: bytes, as: UTF8.self) else {
                    return .failure(TenantErrors(errors: [TenantError(file: name, line: 0, message: "not UTF-8")]))
                }
                files.append(TenantFile(name: name, text: text))
            }
        } catch {
            return .failure(TenantErrors(errors: [TenantError(file: error.path, line: 0, message: error.description)]))
        }
        return load(files: files, superUsers: superUsers)
    }

    static func parseMember(_ token: String) -> Result<TenantMember, TenantNameError> {
        if token.hasPrefix("claim:") {
            let body = token.dropFirst("claim:".count)
            guard let equals = body.firstIndex(of: "="), equals != body.startIndex else {
                return .failure(TenantNameError(message: "bad claim member '\(token)': write claim:<name>=<value>"))
            }
            let value = String(body[body.index(after: equals)...])
            guard !value.isEmpty else { return .failure(TenantNameError(message: "bad claim member '\(token)': the value is empty")) }
            return .success(.claim(name: String(body[..<equals]), value: value))
        }
        guard token.hasPrefix("User:"), token.count > "User:".count else {
            return .failure(TenantNameError(message: "bad member '\(token)': expected User:<name>, a User: pattern with '*', or claim:<name>=<value>"))
        }
        if token.contains("*") {
            guard token.dropFirst("User:".count).contains(where: { $0 != "*" }) else {
                return .failure(TenantNameError(message: "member pattern '\(token)' matches every principal; name the members"))
            }
            return .success(.pattern(token))
        }
        return .success(.principal(token))
    }

    static func overlaps(_ a: TenantMember, _ b: TenantMember) -> Bool {
        switch (a, b) {
        case let (.claim(n1, v1), .claim(n2, v2)): return n1 == n2 && v1 == v2
        case (.claim, _), (_, .claim): return false
        case let (.principal(x), other), let (other, .principal(x)): return other.matches(principal: x, claims: [:])
        case let (.pattern(x), .pattern(y)): return TenantGlob.overlap(x, y)
        }
    }

    /// `quota <key> <value> [for <principal>]`; returns an error message or nil.
    static func applyQuota(_ tokens: [String], to tenant: inout Tenant) -> String? {
        guard tokens.count >= 3 else { return "'quota' needs a key and a value: quota <key> <value> [for User:<name>]" }
        let key = tokens[1], text = tokens[2]
        guard Quotas.keys.contains(key) else {
            return "unknown quota '\(key)' (known: \(Quotas.keys.joined(separator: ", ")))"
        }
        var principal: String?
        if tokens.count > 3 {
            guard tokens[3] == "for", tokens.count >= 5 else { return "unexpected '\(tokens[3])' after the quota value" }
            guard tokens.count == 5 else { return "unexpected '\(tokens[5])' after the principal" }
            let who = tokens[4]
            guard who.hasPrefix("User:"), who.count > 5, !who.contains("*") else {
                return "bad principal '\(who)' after 'for': expected User:<name>"
            }
            guard Quotas.principalKeys.contains(key) else {
                return "quota '\(key)' is tenant-wide; it cannot be set for one principal"
            }
            guard tenant.members.contains(where: { $0.matches(principal: who, claims: [:]) }) else {
                return "\(who) is not a member of tenant '\(tenant.name)' (declare its member line first)"
            }
            principal = who
        }
        var quotas = principal.map { tenant.principalQuotas[$0] ?? Quotas() } ?? tenant.quotas
        guard quotas.value(of: key) == nil else {
            return "quota '\(key)' set twice for \(principal ?? "tenant '\(tenant.name)'")"
        }
        switch key {
        case "produce-byte-rate", "fetch-byte-rate", "storage-bytes":
            guard let bytes = parseBytes(text) else {
                return "bad value '\(text)' for \(key): a whole number of bytes, optionally with KiB, MiB, GiB, TiB, KB, MB, GB or TB"
            }
            if key == "produce-byte-rate" { quotas.produceByteRate = bytes }
            else if key == "fetch-byte-rate" { quotas.fetchByteRate = bytes }
            else { quotas.storageBytes = bytes }
        case "connections", "partitions", "topics":
            guard let count = Int64(text), count >= 0 else { return "bad value '\(text)' for \(key): a whole number, 0 or more" }
            if key == "connections" { quotas.connections = count }
            else if key == "partitions" { quotas.partitions = count }
            else { quotas.topics = count }
        default: // request-percentage, connection-creation-rate
            guard text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }), let value = Double(text), value > 0,
                  value.isFinite else {
                return "bad value '\(text)' for \(key): a number above 0"
            }
            if key == "request-percentage" { quotas.requestPercentage = value } else { quotas.connectionCreationRate = value }
        }
        if let principal { tenant.principalQuotas[principal] = quotas } else { tenant.quotas = quotas }
        return nil
    }

    static let byteUnits: [(String, Int64)] = [
        ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("TiB", 1 << 40),
        ("KB", 1_000), ("MB", 1_000_000), ("GB", 1_000_000_000), ("TB", 1_000_000_000_000),
    ]

    /// `1048576`, `1MiB`, `500KB`.
    static func parseBytes(_ text: String) -> Int64? {
        var digits = Substring(text)
        var multiplier: Int64 = 1
        for (suffix, factor) in byteUnits where text.hasSuffix(suffix) {
            digits = text.dropLast(suffix.count)
            multiplier = factor
            break
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int64(digits) else { return nil }
        let (product, overflow) = number.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : product
    }
}
