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
    private let authorizerState: Mutex<Authorizer>

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
        authorizerState = Mutex(Authorizer(policy: policy, apiAcls: apiAcls, superUsers: superUsers,
                                           apiAclsEnabled: config.bool("acls.api.enabled")))
    }

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
