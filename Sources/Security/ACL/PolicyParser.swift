// Policy files (`policies/*.acl`): one rule per line, documented in docs/policies.md.
//
//   super User:admin
//   allow User:alice read,describe topic:orders- prefixed from *
//   deny  User:*     write           topic:payments from 10.0.0.5
//   allow User:app   idempotent-write cluster
//
// Tokens are separated by blanks; `#` starts a comment; a double-quoted part (`topic:"a b"`,
// `"User:CN=x, O=y"`) may hold blanks, `#` and `\"`/`\\` escapes.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A problem in a policy file, with its 1-based line (0: the file as a whole).
public struct PolicyError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: String, Equatable, Sendable {
        case syntax
        case unknownPermission
        case badPrincipal
        case unknownOperation
        case badResource
        case badHost
        case duplicateRule
        case io
    }

    public let file: String
    public let line: Int
    public let kind: Kind
    public let message: String

    public var description: String { "\(file):\(line): \(message)" }
}

/// All errors of one failed load; the caller keeps its previous policy.
public struct PolicyErrors: Error, Equatable, Sendable, CustomStringConvertible {
    public let errors: [PolicyError]
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

/// One policy file's name (as shown in rule references) and contents.
public struct PolicyFile: Sendable {
    public var name: String
    public var text: String
    public init(name: String, text: String) {
        self.name = name
        self.text = text
    }
}

/// What one line says: nothing, a super user, or rules (one per operation).
enum PolicyLine: Equatable {
    case blank
    case superUser(String)
    case rules([AclRule])
}

/// Spelling helpers shared by the parser and the printers.
enum PolicyText {
    /// Quotes a token that would not survive tokenizing as is.
    static func quoteIfNeeded(_ text: String) -> String {
        let plain = !text.isEmpty && text.unicodeScalars.allSatisfy { scalar in
            scalar.value > 0x20 && scalar != "\"" && scalar != "#" && scalar != "\\" && scalar.value != 0x7F
        }
        if plain { return text }
        var out = "\""
        for character in text {
            if character == "\"" || character == "\\" { out.append("\\") }
            out.append(character)
        }
        return out + "\""
    }

    /// Splits a line into tokens, honouring quotes, stopping at `#` outside quotes.
    static func tokenize(_ line: Substring) -> Result<[String], PolicyErrorBox> {
        var tokens: [String] = []
        var current = ""
        var inToken = false
        var quoted = false
        var iterator = line.makeIterator()
        while let character = iterator.next() {
            if quoted {
                if character == "\\" {
                    guard let escaped = iterator.next() else { return .failure(PolicyErrorBox(.syntax, "unterminated quote")) }
                    current.append(escaped)
                } else if character == "\"" {
                    quoted = false
                } else {
                    current.append(character)
                }
            } else if character == "\"" {
                quoted = true
                inToken = true
            } else if character == "#" {
                break
            } else if character == " " || character == "\t" || character == "\r" {
                if inToken { tokens.append(current) }
                current = ""
                inToken = false
            } else {
                current.append(character)
                inToken = true
            }
        }
        if quoted { return .failure(PolicyErrorBox(.syntax, "unterminated quote")) }
        if inToken { tokens.append(current) }
        return .success(tokens)
    }

    /// `*` or one IPv4/IPv6 address in its textual form.
    static func isValidHost(_ host: String) -> Bool {
        if host == "*" { return true }
        var buffer = [UInt8](repeating: 0, count: 16)
        if inet_pton(AF_INET, host, &buffer) == 1 { return true }
        return inet_pton(AF_INET6, host, &buffer) == 1
    }

    /// Kafka's topic-name alphabet `[a-zA-Z0-9._-]`, at most 249 characters.
    static func isLegalTopicName(_ name: String) -> Bool {
        name.utf8.count <= 249 && name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
    }

    static func parsePrincipal(_ token: String) -> String? {
        guard token.hasPrefix("User:"), token.count > 5 else { return nil }
        return token
    }
}

enum PolicyParser {
    typealias LineError = (kind: PolicyError.Kind, message: String)

    /// Parses one line. Rules get `ref` as their origin.
    static func parseLine(_ line: Substring) -> Result<PolicyLine, PolicyErrorBox> {
        let tokens: [String]
        switch PolicyText.tokenize(line) {
        case .success(let list): tokens = list
        case .failure(let error): return .failure(error)
        }
        guard let keyword = tokens.first else { return .success(.blank) }
        switch keyword.lowercased() {
        case "super":
            guard tokens.count == 2 else {
                return .failure(PolicyErrorBox(.syntax, "expected: super User:<name>"))
            }
            guard let principal = PolicyText.parsePrincipal(tokens[1]) else {
                return .failure(PolicyErrorBox(.badPrincipal, "bad principal '\(tokens[1])': expected User:<name>"))
            }
            guard principal != AclRule.wildcardPrincipal else {
                return .failure(PolicyErrorBox(.badPrincipal, "User:* cannot be a super user"))
            }
            return .success(.superUser(principal))
        case "allow", "deny":
            return parseRule(tokens).map { .rules($0) }
        default:
            return .failure(PolicyErrorBox(.unknownPermission,
                                           "unknown keyword '\(keyword)': expected allow, deny or super"))
        }
    }

    /// allow|deny PRINCIPAL OPERATIONS RESOURCE [literal|prefixed] [from HOST]
    private static func parseRule(_ tokens: [String]) -> Result<[AclRule], PolicyErrorBox> {
        let permission: AclPermission = tokens[0].lowercased() == "allow" ? .allow : .deny
        guard tokens.count >= 4 else {
            return .failure(PolicyErrorBox(.syntax,
                "expected: \(permission.name) User:<name> <operations> <resource> [prefixed] [from <host>]"))
        }
        guard let principal = PolicyText.parsePrincipal(tokens[1]) else {
            return .failure(PolicyErrorBox(.badPrincipal, "bad principal '\(tokens[1])': expected User:<name> or User:*"))
        }
        var operations: [AclOperation] = []
        for name in tokens[2].split(separator: ",", omittingEmptySubsequences: false) {
            guard let operation = AclOperation(name: String(name)) else {
                return .failure(PolicyErrorBox(.unknownOperation, "unknown operation '\(name)'"))
            }
            guard !operations.contains(operation) else {
                return .failure(PolicyErrorBox(.unknownOperation, "operation '\(name)' listed twice"))
            }
            operations.append(operation)
        }
        var rest = tokens[4...]
        var patternType = AclPatternType.literal
        if let word = rest.first?.lowercased(), word == "prefixed" || word == "literal" {
            patternType = word == "prefixed" ? .prefixed : .literal
            rest = rest.dropFirst()
        }
        let pattern: AclResourcePattern
        switch parseResource(tokens[3], patternType) {
        case .success(let value): pattern = value
        case .failure(let error): return .failure(error)
        }
        var host = "*"
        if let word = rest.first {
            guard word.lowercased() == "from" else {
                return .failure(PolicyErrorBox(.syntax, "unexpected '\(word)': expected prefixed, literal or from"))
            }
            guard rest.count >= 2 else { return .failure(PolicyErrorBox(.badHost, "missing host after 'from'")) }
            host = rest[rest.startIndex + 1]
            guard PolicyText.isValidHost(host) else {
                return .failure(PolicyErrorBox(.badHost, "bad host '\(host)': expected * or an IP address"))
            }
            rest = rest.dropFirst(2)
        }
        if let extra = rest.first {
            return .failure(PolicyErrorBox(.syntax, "unexpected '\(extra)' at end of rule"))
        }
        return .success(operations.map { AclRule(permission, principal, $0, pattern, host: host) })
    }

    /// `topic:NAME`, `group:NAME`, `transactional-id:NAME`, `subject:NAME`, `cluster`.
    static func parseResource(_ token: String, _ patternType: AclPatternType) -> Result<AclResourcePattern, PolicyErrorBox> {
        if token.lowercased() == "cluster" || token.lowercased() == "cluster:\(clusterResourceName)" {
            guard patternType == .literal else {
                return .failure(PolicyErrorBox(.badResource, "the cluster resource cannot be prefixed"))
            }
            return .success(AclResourcePattern(.cluster, clusterResourceName))
        }
        guard let colon = token.firstIndex(of: ":") else {
            return .failure(PolicyErrorBox(.badResource,
                "bad resource '\(token)': expected topic:, group:, transactional-id:, subject:<name> or cluster"))
        }
        let typeName = String(token[..<colon])
        let name = String(token[token.index(after: colon)...])
        guard let type = AclResourceType(name: typeName) else {
            return .failure(PolicyErrorBox(.badResource, "unknown resource type '\(typeName)'"))
        }
        guard type != .cluster else {
            return .failure(PolicyErrorBox(.badResource, "the cluster resource is named \(clusterResourceName)"))
        }
        guard !name.isEmpty else { return .failure(PolicyErrorBox(.badResource, "empty \(type.name) name")) }
        if type == .topic && name != "*" && !PolicyText.isLegalTopicName(name) {
            return .failure(PolicyErrorBox(.badResource,
                                           "bad topic name '\(name)': topics use [a-zA-Z0-9._-], at most 249"))
        }
        return .success(AclResourcePattern(type, name, patternType))
    }
}

/// An error of one line before file and line are known.
struct PolicyErrorBox: Error {
    let kind: PolicyError.Kind
    let message: String
    init(_ kind: PolicyError.Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }
}

/// A validated set of file rules and super users, indexed for the authorizer.
public struct PolicySet: Sendable {
    /// Every rule in file order (a line with several operations gives several rules).
    public var rules: [AclRule] { index.rules }
    /// Origin of each rule in `rules`.
    public var refs: [RuleRef] { index.refs }
    /// Super users named by `super` lines, with the line that named them.
    public private(set) var superUserRefs: [String: RuleRef]
    /// Names of the files the set came from, in load order.
    public private(set) var fileNames: [String]
    /// `PolicyFingerprint` of the files the set came from.
    public private(set) var fingerprint: String
    let index: RuleIndex

    public init() {
        superUserRefs = [:]
        fileNames = []
        fingerprint = PolicyFingerprint.of([])
        index = RuleIndex(rules: [], refs: [])
    }

    /// Parses and validates `files` as one policy (file order = given order). Pure: a failure
    /// returns every error found, and the caller keeps its current set in force.
    public static func load(files: [PolicyFile]) -> Result<PolicySet, PolicyErrors> {
        var errors: [PolicyError] = []
        var rules: [AclRule] = []
        var refs: [RuleRef] = []
        var seen: [AclRule: RuleRef] = [:]
        var superUsers: [String: RuleRef] = [:]
        for file in files {
            var lineNumber = 0
            for line in file.text.split(separator: "\n", omittingEmptySubsequences: false) {
                lineNumber += 1
                let ref = RuleRef.file(file.name, line: lineNumber)
                switch PolicyParser.parseLine(line) {
                case .failure(let box):
                    errors.append(PolicyError(file: file.name, line: lineNumber, kind: box.kind, message: box.message))
                case .success(.blank):
                    break
                case .success(.superUser(let principal)):
                    if let earlier = superUsers[principal] {
                        errors.append(PolicyError(file: file.name, line: lineNumber, kind: .duplicateRule,
                                                  message: "duplicate super user \(principal) (first at \(earlier))"))
                    } else {
                        superUsers[principal] = ref
                    }
                case .success(.rules(let lineRules)):
                    for rule in lineRules {
                        if let earlier = seen[rule] {
                            errors.append(PolicyError(file: file.name, line: lineNumber, kind: .duplicateRule,
                                                      message: "duplicate rule '\(rule)' (first at \(earlier))"))
                            continue
                        }
                        seen[rule] = ref
                        rules.append(rule)
                        refs.append(ref)
                    }
                }
            }
        }
        if !errors.isEmpty { return .failure(PolicyErrors(errors: errors)) }
        var set = PolicySet(index: RuleIndex(rules: rules, refs: refs), superUserRefs: superUsers)
        set.fileNames = files.map(\.name)
        set.fingerprint = PolicyFingerprint.of(files.map { ($0.name, $0.text) })
        return .success(set)
    }

    private init(index: RuleIndex, superUserRefs: [String: RuleRef]) {
        self.index = index
        self.superUserRefs = superUserRefs
        self.fileNames = []
        self.fingerprint = PolicyFingerprint.of([])
    }

    /// Reads every `*.acl` file of `directory` (sorted by name) and loads them. I/O errors are
    /// reported as `PolicyError`s of kind `.io` with line 0.
    public static func load(directory: String) -> Result<PolicySet, PolicyErrors> {
        var files: [PolicyFile] = []
        do throws(SecurityFileError) {
            for name in try SecurityFiles.list(directory) where name.hasSuffix(".acl") {
                guard let bytes = try SecurityFiles.read(directory + "/" + name) else { continue }
                guard let text = String(validating: bytes, as: UTF8.self) else {
                    return .failure(PolicyErrors(errors: [
                        PolicyError(file: name, line: 0, kind: .io, message: "not UTF-8")]))
                }
                files.append(PolicyFile(name: name, text: text))
            }
        } catch {
            return .failure(PolicyErrors(errors: [
                PolicyError(file: error.path, line: 0, kind: .io, message: error.description)]))
        }
        return load(files: files)
    }
}
