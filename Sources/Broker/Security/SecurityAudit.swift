import KafkaProtocol
import Security
import Synchronization

/// Something the audit log should keep. Built only when an event happens (denials, changes),
/// never on the allowed fast path.
enum SecurityAuditEvent: Sendable {
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
struct AuditedRequest: Sendable {
    var principal: String
    var clientHost: String
    var listenerName: String
    var apiKey: Int16
    var apiVersion: Int16
    var correlationId: Int32
    var clientId: String

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
    var apiName: String { ApiKey(rawValue: apiKey).map { "\($0)" } ?? "api-\(apiKey)" }
}

/// The audit hook's state: counters (metrics, tests) and an extra sink (tests, future consumers);
/// the audit log itself is `BrokerSecurity.audit`.
final class SecurityAuditHook: Sendable {
    let denials = Atomic<Int>(0)
    let allowsRecorded = Atomic<Int>(0)
    let aclChanges = Atomic<Int>(0)
    let credentialChanges = Atomic<Int>(0)
    /// True when `audit.log.allow.resources` names something: then `RequestAccess` offers allowed
    /// decisions too, and the filter picks the resources that get a line. One atomic load while off.
    let auditAllows = Atomic<Bool>(false)
    let sink = Mutex<(@Sendable (SecurityAuditEvent) -> Void)?>(nil)
}

extension SecurityAuditEvent {
    /// The audit log's line for this event.
    var auditEvent: AuditEvent {
        switch self {
        case .authorization(let who, let operation, let resource, let decision):
            // docs/security.md's names: policies/<file>:<line>, api:<n>, super.users, no-acl-found,
            // default-deny.
            let rule: String
            switch decision.rule {
            case .file(let name, let line): rule = "policies/\(name):\(line)"
            case .api(let id): rule = "api:\(id)"
            case nil where decision.reason == Decision.superUserReason: rule = "super.users"
            case nil where decision.isAllowedWithoutAcl: rule = "no-acl-found"
            case nil: rule = "default-deny"
            }
            return AuditEvent(kind: .authorization, principal: who.principal, client: who.clientHost,
                              listener: who.listenerName, api: who.apiName, resource: resource.description,
                              operation: operation.name, decision: decision.allowed ? .allow : .deny, rule: rule)
        case .aclsChanged(let who, let created, let deleted):
            let lines = created.map { "+api:\($0.id) \($0.rule)" } + deleted.map { "-api:\($0.id) \($0.rule)" }
            return AuditEvent(kind: .aclChange, principal: who.principal, client: who.clientHost,
                              listener: who.listenerName, api: who.apiName, resource: "cluster",
                              operation: created.isEmpty ? "delete-acls" : "create-acls", decision: .success,
                              detail: lines.joined(separator: "; "))
        case .credentialsChanged(let who, let user, let upserted, let deleted):
            let parts = upserted.map { "set \($0.mechanismName)" } + deleted.map { "deleted \($0.mechanismName)" }
            return AuditEvent(kind: .credentialChange, principal: who.principal, client: who.clientHost,
                              listener: who.listenerName, api: who.apiName, resource: "user:\(user)",
                              operation: "alter-scram-credentials", decision: .success,
                              detail: parts.joined(separator: ", "))
        case .reloaded(let file, let error):
            return AuditEvent(kind: .policyReload, resource: file, operation: "reload",
                              decision: error == nil ? .success : .failure, detail: error)
        }
    }
}

extension BrokerSecurity {
    /// An extra consumer of every event below besides the audit log (tests); called on the
    /// thread that caused the event.
    func setAuditSink(_ sink: (@Sendable (SecurityAuditEvent) -> Void)?) {
        auditHook.sink.withLock { $0 = sink }
    }

    /// Hands one event to the audit log and the sink.
    func emit(_ event: SecurityAuditEvent) {
        record(event.auditEvent)
        let sink = auditHook.sink.withLock { $0 }
        sink?(event)
    }

    /// Whether some allowed decisions are recorded as well as denials.
    var auditsAllows: Bool { auditHook.auditAllows.load(ordering: .relaxed) }

    /// The single path of every recorded authorization decision: every denial, every allow that
    /// only `allow.everyone.if.no.acl.found` granted, and the allows `audit.log.allow.resources`
    /// selects.
    func record(_ context: RequestContext, _ operation: AclOperation, _ resource: AclResource,
                _ decision: Decision) {
        if decision.allowed {
            guard decision.isAllowedWithoutAcl || auditAllows.records(resource: resource.description) else { return }
            auditHook.allowsRecorded.add(1, ordering: .relaxed)
        } else {
            auditHook.denials.add(1, ordering: .relaxed)
        }
        emit(.authorization(AuditedRequest(context), operation: operation, resource: resource, decision: decision))
    }

    /// Every change to the API-made ACLs goes through here.
    func recordAclChange(_ context: RequestContext, created: [(id: Int, rule: AclRule)],
                         deleted: [(id: Int, rule: AclRule)]) {
        auditHook.aclChanges.add(1, ordering: .relaxed)
        emit(.aclsChanged(AuditedRequest(context), created: created, deleted: deleted))
    }

    /// Every credential change made through the API goes through here.
    func recordCredentialChange(_ context: RequestContext, user: String, upserted: [ScramMechanism],
                                deleted: [ScramMechanism]) {
        auditHook.credentialChanges.add(1, ordering: .relaxed)
        emit(.credentialsChanged(AuditedRequest(context), user: user, upserted: upserted, deleted: deleted))
    }

    /// Counters for tests and metrics.
    var deniedCount: Int { auditHook.denials.load(ordering: .relaxed) }
}

/// Reports about one address at most once per interval, counting what happened in between: for
/// events a peer can cause in bulk (connections that never authenticate), so the audit log gets
/// one line per address and minute, not one per connection. Bounded: at most `maxAddresses` are
/// remembered; when full, the oldest report is forgotten.
final class OncePerAddress: Sendable {
    private struct Entry {
        var lastReportMs: Int64
        var unreported: Int
    }

    private let intervalMs: Int64
    private let maxAddresses: Int
    private let entries = Mutex<[String: Entry]>([:])

    init(intervalMs: Int64 = 60_000, maxAddresses: Int = 4096) {
        self.intervalMs = intervalMs
        self.maxAddresses = maxAddresses
    }

    /// Counts one event from `address`; returns how many to report now (this one included), or
    /// nil when the address was reported less than an interval ago.
    func due(_ address: String, nowMs: Int64) -> Int? {
        entries.withLock { entries in
            if var entry = entries[address] {
                entry.unreported += 1
                guard nowMs - entry.lastReportMs >= intervalMs else {
                    entries[address] = entry
                    return nil
                }
                entries[address] = Entry(lastReportMs: nowMs, unreported: 0)
                return entry.unreported
            }
            if entries.count >= maxAddresses, let oldest = entries.min(by: { $0.value.lastReportMs < $1.value.lastReportMs }) {
                entries[oldest.key] = nil
            }
            entries[address] = Entry(lastReportMs: nowMs, unreported: 0)
            return 1
        }
    }
}
