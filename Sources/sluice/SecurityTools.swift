import Foundation
import Security

/// `sluice audit verify [--dir DATA_DIR | FILE...]`: checks the audit log's hash chain.
enum AuditCommand {
    static func run(_ sub: String, _ options: Options) throws {
        guard sub == "verify" else { throw CLIError("unknown audit subcommand '\(sub)' (verify)") }
        let files: [String]
        if !options.positional.isEmpty {
            files = options.positional
        } else {
            let directory = try options.string("dir") ?? Users.dataDirectory(options)
            files = try AuditVerifier.files(directory: directory, fileName: options.string("file-name") ?? "audit.log")
        }
        let result = try AuditVerifier.verify(files: files)
        print("audit chain intact: \(result.lines) lines in \(result.files.count) file(s)"
              + (result.startsAtGenesis ? ", from the first line ever written"
                 : "; the oldest file continues older, rotated-away files (checked from there on)"))
    }
}

/// `sluice certs init [--dir certs] [--force] [--client NAME]...`: development CA, broker and
/// client certificates (see certs/README.md).
enum CertsCommand {
    static func run(_ sub: String, _ options: Options) throws {
        guard sub == "init" else { throw CLIError("unknown certs subcommand '\(sub)' (init)") }
        let directory = options.string("dir") ?? "certs"
        let clients = options.all("client").isEmpty ? DevCertificates.defaultClients : options.all("client")
        let written = try DevCertificates.create(directory: directory, clients: clients, force: options.has("force"))
        for path in written { print(path) }
    }
}

/// `sluice oauth validate --jwks FILE [--issuer I] [--audience A] [--sub-claim C] [--now-ms T]`:
/// validates the token on standard input as the broker would and prints the principal and expiry
/// (a tool for operators and the interop tests).
enum OAuthCommand {
    static func run(_ sub: String, _ options: Options) throws {
        guard sub == "validate" else { throw CLIError("unknown oauth subcommand '\(sub)' (validate)") }
        let jwks = try options.required("jwks")
        var properties: [String: String] = [:]
        if let issuer = options.string("issuer") { properties["sasl.oauthbearer.expected.issuer"] = issuer }
        if let audience = options.string("audience") { properties["sasl.oauthbearer.expected.audience"] = audience }
        if let claim = options.string("sub-claim") { properties["sasl.oauthbearer.sub.claim.name"] = claim }
        if let skew = options.string("clock-skew-seconds") { properties["sasl.oauthbearer.clock.skew.seconds"] = skew }
        let config = try OAuthBearerConfig(properties: properties)
        let now = Int64(try options.int("now-ms", default: Int(Date().timeIntervalSince1970 * 1000)))
        let store = try JwksStore(url: jwks.hasPrefix("/") || jwks.hasPrefix("file:") ? jwks
                                      : FileManager.default.currentDirectoryPath + "/" + jwks, nowMs: now)
        guard let token = readLine(strippingNewline: true), !token.isEmpty else {
            throw CLIError("give the token on standard input")
        }
        do {
            let valid = try JwtValidator(config: config).validate(token, keys: store.keys(nowMs: now), nowMs: now)
            print("valid principal=\(valid.principal) exp_ms=\(valid.expiresAtMs) alg=\(valid.algorithm.rawValue)"
                  + (valid.scopes.isEmpty ? "" : " scopes=\(valid.scopes.joined(separator: ","))"))
        } catch {
            print("invalid \(error.kind.rawValue): \(error.message)")
            exit(3)
        }
    }
}
