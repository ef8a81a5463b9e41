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
    /// The tenants of `policies/*.tenants` (docs/tenants.md); empty without a policy directory.
    private let tenantState: Mutex<TenantSet>
    /// `super.users` (the policy files' `super` lines are in the authorizer's policy).
    let configSuperUsers: Set<String>
    /// SCRAM credentials (`<data dir>/scram-credentials`); PLAIN verifies against them too.
    let credentialState: Mutex<CredentialStore>
    /// Secret from which unknown users' fake SCRAM salts derive, stable across restarts
    /// (`<data dir>/sasl-secret`), so probing cannot tell unknown users from known ones.
    let fakeSaltSecret: [UInt8]
    /// Hot-reload bookkeeping; its lock also serializes writers of the security files.
    let watch: Mutex<SecurityWatch>
    /// The audit hook's counters and sink (`record`, `recordAclChange`, `recordCredentialChange`).
    let auditHook = SecurityAuditHook()
    /// `sasl.enabled.mechanisms`, in the configured order (SaslHandshake lists them).
    let enabledMechanisms: [String]
    /// `ssl.principal.mapping.rules` (KIP-371) for client certificates.
    let principalMapper: PrincipalMapper
    /// OAUTHBEARER: token checks and the JWKS file (only when the mechanism is enabled).
    let oauth: (validator: JwtValidator, keys: JwksStore)?
    /// Failed logins per (source address, user): answers slow down, then that user is refused from
    /// that address a while; past a high per-address level every login from it is delayed.
    let loginThrottle: LoginThrottle
    /// Connections closed for missing the authentication deadline, reported per address and minute.
    let authenticationTimeoutReports = OncePerAddress()
    /// One JSON line per authentication outcome, denial, chosen allow and security change.
    let audit: AuditLog?
    /// Which allowed decisions are audited (`audit.log.allow.resources`).
    let auditAllows: AuditAllowFilter
    private let auditFailed = Atomic<Bool>(false)
    /// Principals already reported as matched by several tenants (reported once each).
    private let ambiguousReported = Mutex<Set<String>>([])

    init(config: BrokerConfig) throws {
        enabled = !(config.string("authorizer.class.name") ?? "").isEmpty
        let superUsers = Set((config.string("super.users") ?? "").split(separator: ";")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        let directory = config.string("acls.policy.dir").flatMap { $0.isEmpty ? nil : $0 }
        policyDirectory = directory
        var watchState = SecurityWatch()
        var policy = PolicySet()
        if enabled, let directory {
            watchState.policyStamps = Self.stamps(ofPolicyDirectory: directory)
            switch PolicySet.load(directory: directory) {
            case .success(let loaded): policy = loaded
            case .failure(let errors): throw ConfigError("acls.policy.dir \(directory):\n\(errors.description)")
            }
        }
        var tenants = TenantSet()
        if let directory {
            watchState.tenantStamps = Self.stamps(ofPolicyDirectory: directory, suffix: TenantSet.fileSuffix)
            switch TenantSet.load(directory: directory, superUsers: superUsers.union(policy.superUserRefs.keys)) {
            case .success(let loaded): tenants = loaded
            case .failure(let errors): throw ConfigError("acls.policy.dir \(directory):\n\(errors.description)")
            }
        }
        tenantState = Mutex(tenants)
        configSuperUsers = superUsers
        var apiAcls = ApiAclSet()
        if enabled {
            switch ApiAclSet.load(dataDirectory: config.logDirectory) {
            case .success(let loaded): apiAcls = loaded
            case .failure(let errors): throw ConfigError("\(ApiAclSet.fileName):\n\(errors.description)")
            }
        }
        dataDirectory = config.logDirectory
        watchState.credentialStamp = .some(FileStamp.of(config.logDirectory + "/" + CredentialStore.fileName,
                                                        name: CredentialStore.fileName))
        watch = Mutex(watchState)
        enabledMechanisms = (config.string("sasl.enabled.mechanisms") ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces).uppercased() }.filter { !$0.isEmpty }
        do {
            credentialState = Mutex(try CredentialStore.load(dataDirectory: config.logDirectory))
        } catch {
            throw ConfigError("\(config.logDirectory)/\(CredentialStore.fileName): \(error.description)")
        }
        fakeSaltSecret = try Self.loadOrCreateSecret(path: config.logDirectory + "/sasl-secret")
        let free = config.int("sasl.login.failures.free")
        let refuseAfter = config.int("sasl.login.failures.refuse")
        guard refuseAfter > free else {
            throw ConfigError("sasl.login.failures.refuse (\(refuseAfter)) must be above sasl.login.failures.free (\(free))")
        }
        loginThrottle = LoginThrottle(config: LoginThrottleConfig(
            freeFailures: free, baseDelayMs: config.int64("connection.failed.authentication.delay.ms"),
            refuseAfter: refuseAfter, lockoutMs: config.int64("sasl.login.lockout.ms"),
            addressDelayAfter: config.int("sasl.login.failures.address.delay")))
        do {
            principalMapper = try PrincipalMapper(rules: config.string("ssl.principal.mapping.rules"))
        } catch {
            throw ConfigError(error.description)
        }
        if enabledMechanisms.contains(SaslMechanisms.oauthBearer) {
            guard let url = config.string("sasl.oauthbearer.jwks.endpoint.url"), !url.isEmpty else {
                throw ConfigError("OAUTHBEARER is enabled but sasl.oauthbearer.jwks.endpoint.url is not set (a file:// URL of a JWKS)")
            }
            var properties: [String: String] = [:]
            for key in ["sasl.oauthbearer.expected.issuer", "sasl.oauthbearer.expected.audience",
                        "sasl.oauthbearer.sub.claim.name", "sasl.oauthbearer.scope.claim.name",
                        "sasl.oauthbearer.clock.skew.seconds"] {
                if let value = config.string(key) { properties[key] = value }
            }
            do {
                let validator = JwtValidator(config: try OAuthBearerConfig(properties: properties))
                oauth = (validator, try JwksStore(url: url, nowMs: SystemClock.nowMs()))
            } catch {
                throw ConfigError("OAUTHBEARER: \(error)")
            }
        } else {
            oauth = nil
        }
        do {
            auditAllows = try AuditAllowFilter(config.string("audit.log.allow.resources") ?? "")
            if config.bool("audit.log.enable") {
                let directory = config.string("audit.log.dir").flatMap { $0.isEmpty ? nil : $0 }
                    ?? config.logDirectory + "/audit"
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                audit = try AuditLog(config: AuditLogConfig(
                    directory: directory, maxBytes: config.int("audit.log.max.bytes"),
                    maxFiles: config.int("audit.log.max.files"),
                    syncIntervalMs: config.int64("audit.log.sync.interval.ms")), nowMs: SystemClock.nowMs())
            } else {
                audit = nil
            }
        } catch let error as AuditError {
            throw ConfigError("audit log: \(error.description)")
        }
        authorizerState = Mutex(Authorizer(policy: policy, apiAcls: apiAcls, superUsers: superUsers,
                                           apiAclsEnabled: config.bool("acls.api.enabled"),
                                           allowEveryoneIfNoAclFound: config.bool("allow.everyone.if.no.acl.found")))
        auditHook.auditAllows.store(auditAllows != (try? AuditAllowFilter()), ordering: .relaxed)
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

    /// Appends one audit line. A failing audit log is reported once on stderr and the broker keeps
    /// serving (an operator choice we document; failing closed would let a full disk stop the cluster).
    func record(_ event: AuditEvent) {
        guard let audit else { return }
        do {
            try audit.record(event, nowMs: SystemClock.nowMs())
        } catch {
            if !auditFailed.exchange(true, ordering: .relaxed) {
                BrokerLog.shared.error("audit", "audit log write failed: \(error.description)")
            }
        }
    }

    /// Periodic work from the maintenance thread: the audit log's fdatasync.
    func tick(now: Int64) {
        try? audit?.sync(nowMs: now)
    }

    func close() {
        try? audit?.close()
    }

    /// The current credential snapshot.
    public var credentials: CredentialStore { credentialState.withLock { $0 } }

    /// The current rule snapshot.
    public var authorizer: Authorizer { authorizerState.withLock { $0 } }

    /// A session matched by members of several tenants is refused; said once per principal.
    func reportAmbiguousTenant(_ principal: String, _ tenants: [String]) {
        let first = ambiguousReported.withLock { $0.insert(principal).inserted }
        if first {
            BrokerLog.shared.warn("tenants", "\(principal) is matched by members of several tenants (\(tenants.joined(separator: ", "))): its connections are closed; fix the *.tenants files")
        }
    }

    /// The current tenants.
    public var tenants: TenantSet { tenantState.withLock { $0 } }

    func replaceTenants(_ tenants: TenantSet) { tenantState.withLock { $0 = tenants } }

    /// The tenant (with its current `Quotas`) a request was resolved to; nil for operators and
    /// principals outside tenancy. For the quota engine: limits changed in the files are seen by
    /// the next request.
    func tenant(for context: RequestContext) -> Tenant? {
        context.tenant.flatMap { tenants.tenant(named: $0.tenant) }
    }

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
