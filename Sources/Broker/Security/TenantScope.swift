import Security

/// The one place where names cross the tenant boundary (docs/tenants.md). Each handler maps the
/// names of its request in with `topic`/`group`/`transactionalId`, and the names and messages of
/// its answer out with `local`/`message`; listings keep only `visible` names. For a caller with
/// no tenant (operators and principals outside tenancy) every function is the identity, so the
/// broker without tenants pays one nil check per name.
struct TenantScope: Sendable {
    let namespace: TenantNamespace?

    init(_ context: RequestContext) { namespace = context.tenant }

    /// A topic name the client sent, as stored. Never fails: an invalid local name maps to a name
    /// no topic has (CreateTopics validates with `newTopic`).
    func topic(_ name: String) -> String {
        guard let namespace else { return name }
        return namespace.prefix + name
    }

    func topic(_ name: String?) -> String? { name.map(topic) }

    /// A group id, transactional id or subject the client sent, as stored. The empty id stays
    /// empty: the broker refuses it everywhere (INVALID_GROUP_ID or not authorized), so it holds
    /// nothing any tenant could share. An id too long to carry its prefix on the wire becomes the
    /// empty id too (refused, as not authorized for a tenant member).
    func group(_ name: String) -> String {
        guard let namespace, !name.isEmpty else { return name }
        guard case .success(let internalName) = namespace.internalName(name) else { return "" }
        return internalName
    }

    func group(_ name: String?) -> String? { name.map(group) }

    /// A topic to create: Kafka's rules on the local name, with the limit left after the prefix.
    func newTopic(_ name: String) -> Result<String, TenantNameError> {
        guard let namespace else { return .success(name) }
        return namespace.internalTopic(name)
    }

    /// An internal name in an answer, as the client knows it.
    func local(_ name: String) -> String {
        guard let namespace else { return name }
        return namespace.localName(name) ?? name
    }

    func local(_ name: String?) -> String? { name.map(local) }

    /// Whether an internal name may appear in this caller's answers at all.
    func visible(_ name: String) -> Bool { namespace?.owns(name) ?? true }

    /// A message for the client, without the namespace prefix.
    func message(_ text: String?) -> String? {
        guard let namespace, let text else { return text }
        return namespace.localize(text)
    }

    /// Whether the internal topic name should be flagged internal (`__` topics other than tenant ones).
    static func isInternalTopic(_ name: String) -> Bool {
        name.hasPrefix("__") && !TenantNamespace.isReserved(name)
    }
}

extension RequestContext {
    var names: TenantScope { TenantScope(self) }
}
