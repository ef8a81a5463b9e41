import KafkaProtocol
import Security
import Synchronization

/// Something the audit log should keep. Built only when an event happens (denials, changes),
/// never on the allowed fast path.
public enum SecurityAuditEvent: Sendable {
    /// One authorization decision: every denial, and allows when `auditsAllows` is on.
    case authorization(AuditedRequest, operation: AclOperation, resource: AclResource, decision: Decision)
    /// CreateAcls/DeleteAcls changed the API-made rule set (ids as in `acls-api`).
    case aclsChanged(AuditedRequest, created: [(id: Int, rule: AclRule)], deleted: [(id: Int, rule: AclRule)])
    /// AlterUserScramCredentials changed one user's credentials (no key material).
    case credentialsChanged(AuditedRequest, user: String, upserted: [ScramMechanism], deleted: [ScramMechanism])
    /// The policy files or the offline credential file were reloaded (`error` nil) or refused.
    case reloaded(file: String, error: String?)
}

/// Who asked: the parts of a `RequestContext` an audit line needs.
public struct AuditedRequest: Sendable {
    public var principal: String
    public var clientHost: String
    public var listenerName: String
    public var apiKey: Int16
    public var apiVersion: Int16
    public var correlationId: Int32
    public var clientId: String

    init(_ context: RequestContext) {
        principal = context.principal
        clientHost = context.clientHost
        listenerName = context.listenerName
        apiKey = context.apiKey
        apiVersion = context.apiVersion
        correlationId = context.correlationId
        clientId = context.clientId
    }

    /// Kafka's API name (`Produce`, `CreateAcls`, ...), or the key number.
    public var apiName: String { ApiKey(rawValue: apiKey).map { "\($0)" } ?? "api-\(apiKey)" }
}

/// The audit hook's state: counters (metrics, tests) and the sink the audit writer plugs into.
final class SecurityAuditHook: Sendable {
    let denials = Atomic<Int>(0)
    let allowsRecorded = Atomic<Int>(0)
    let aclChanges = Atomic<Int>(0)
    let credentialChanges = Atomic<Int>(0)
    /// Off until allow auditing is configured: then `RequestAccess` offers allows too, and
    /// `allowFilter` picks the resources whose allows are recorded.
    let auditAllows = Atomic<Bool>(false)
    let allowFilter = Mutex<(@Sendable (AclResource) -> Bool)?>(nil)
    let sink = Mutex<(@Sendable (SecurityAuditEvent) -> Void)?>(nil)

    func emit(_ event: SecurityAuditEvent) {
        let sink = self.sink.withLock { $0 }
        sink?(event)
    }
}

extension BrokerSecurity {
    /// Connects the audit writer: every event below is handed to `sink` (on the thread that
    /// caused it; keep it short or queue).
    public func setAuditSink(_ sink: (@Sendable (SecurityAuditEvent) -> Void)?) {
        audit.sink.withLock { $0 = sink }
    }

    /// Records allowed decisions on the resources `filter` accepts (denials are always recorded);
    /// nil switches allow auditing off. Checked with one atomic load while off.
    public func setAuditAllows(_ filter: (@Sendable (AclResource) -> Bool)?) {
        audit.allowFilter.withLock { $0 = filter }
        audit.auditAllows.store(filter != nil, ordering: .relaxed)
    }

    /// Whether some allowed decisions are recorded as well as denials.
    var auditsAllows: Bool { audit.auditAllows.load(ordering: .relaxed) }

    /// The single path of every recorded authorization decision (all denials; allows when
    /// configured for the resource).
    func record(_ context: RequestContext, _ operation: AclOperation, _ resource: AclResource,
                _ decision: Decision) {
        if decision.allowed {
            guard audit.allowFilter.withLock({ $0 })?(resource) == true else { return }
            audit.allowsRecorded.add(1, ordering: .relaxed)
        } else {
            audit.denials.add(1, ordering: .relaxed)
        }
        audit.emit(.authorization(AuditedRequest(context), operation: operation, resource: resource,
                                  decision: decision))
    }

    /// Every change to the API-made ACLs goes through here.
    func recordAclChange(_ context: RequestContext, created: [(id: Int, rule: AclRule)],
                         deleted: [(id: Int, rule: AclRule)]) {
        audit.aclChanges.add(1, ordering: .relaxed)
        audit.emit(.aclsChanged(AuditedRequest(context), created: created, deleted: deleted))
    }

    /// Every credential change made through the API goes through here.
    func recordCredentialChange(_ context: RequestContext, user: String, upserted: [ScramMechanism],
                                deleted: [ScramMechanism]) {
        audit.credentialChanges.add(1, ordering: .relaxed)
        audit.emit(.credentialsChanged(AuditedRequest(context), user: user, upserted: upserted, deleted: deleted))
    }

    /// Counters for tests and metrics.
    var deniedCount: Int { audit.denials.load(ordering: .relaxed) }
}
