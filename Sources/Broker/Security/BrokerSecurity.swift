import Foundation
import Security
import Synchronization

/// The broker's security state: the ACL engine snapshot and where its rules come from.
///
/// Threads: `authorize` runs on reactor threads for every checked resource; it copies the current
/// `Authorizer` snapshot under a short lock (a few retains) and evaluates outside it. Policy reloads
/// and API-made rule changes build a new snapshot and swap it in.
public final class BrokerSecurity: Sendable {
    /// False when no authorizer is configured (`authorizer.class.name` empty): every request is
    /// allowed, as in Kafka without an authorizer.
    public let enabled: Bool
    let policyDirectory: String?
    let dataDirectory: String
    private let authorizerState: Mutex<Authorizer>
    /// SCRAM credentials (`<data dir>/scram-credentials`); PLAIN verifies against them too.
    let credentialState: Mutex<CredentialStore>
    /// Secret from which unknown users' fake SCRAM salts derive, stable across restarts
    /// (`<data dir>/sasl-secret`), so probing cannot tell unknown users from known ones.
    let fakeSaltSecret: [UInt8]
    /// `sasl.enabled.mechanisms`, in the configured order (SaslHandshake lists them).
    let enabledMechanisms: [String]

    init(config: BrokerConfig) throws {
        enabled = !(config.string("authorizer.class.name") ?? "").isEmpty
        let superUsers = Set((config.string("super.users") ?? "").split(separator: ";")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        let directory = config.string("acls.policy.dir").flatMap { $0.isEmpty ? nil : $0 }
        policyDirectory = directory
        var policy = PolicySet()
        if enabled, let directory {
            switch PolicySet.load(directory: directory) {
            case .success(let loaded): policy = loaded
            case .failure(let errors): throw ConfigError("acls.policy.dir \(directory):\n\(errors.description)")
            }
        }
        var apiAcls = ApiAclSet()
        if enabled {
            switch ApiAclSet.load(dataDirectory: config.logDirectory) {
            case .success(let loaded): apiAcls = loaded
            case .failure(let errors): throw ConfigError("\(ApiAclSet.fileName):\n\(errors.description)")
            }
        }
        dataDirectory = config.logDirectory
        enabledMechanisms = (config.string("sasl.enabled.mechanisms") ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces).uppercased() }.filter { !$0.isEmpty }
        do {
            credentialState = Mutex(try CredentialStore.load(dataDirectory: config.logDirectory))
        } catch {
            throw ConfigError("\(config.logDirectory)/\(CredentialStore.fileName): \(error.description)")
        }
        fakeSaltSecret = try Self.loadOrCreateSecret(path: config.logDirectory + "/sasl-secret")
        authorizerState = Mutex(Authorizer(policy: policy, apiAcls: apiAcls, superUsers: superUsers,
                                           apiAclsEnabled: config.bool("acls.api.enabled")))
    }

    private static func loadOrCreateSecret(path: String) throws -> [UInt8] {
        if let data = FileManager.default.contents(atPath: path), data.count == 32 { return Array(data) }
        let secret = CredentialStore.randomSalt()
        guard FileManager.default.createFile(atPath: path, contents: Data(secret),
                                             attributes: [.posixPermissions: 0o600]) else {
            throw ConfigError("cannot write \(path)")
        }
        return secret
    }

    /// The current credential snapshot.
    public var credentials: CredentialStore { credentialState.withLock { $0 } }

    /// The current rule snapshot.
    public var authorizer: Authorizer { authorizerState.withLock { $0 } }

    /// Swaps in a new snapshot built from the current one.
    func update(_ change: (inout Authorizer) -> Void) {
        authorizerState.withLock { change(&$0) }
    }

    /// The decision for one operation of one request.
    func authorize(_ context: RequestContext, _ operation: AclOperation, _ resource: AclResource) -> Decision {
        guard enabled else { return Decision(allowed: true, rule: nil, reason: "no authorizer configured") }
        return authorizer.authorize(principal: context.principal, host: context.clientHost,
                                    operation: operation, resource: resource)
    }
}
