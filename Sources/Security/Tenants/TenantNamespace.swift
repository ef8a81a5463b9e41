/// A tenant's namespace: how the names its clients send (topics, group ids, transactional ids,
/// ACL resource names, schema subjects) become internal names and back.
///
/// Internal form: `__tenant.<tenant>.<local name>`. Tenant names are `[a-z0-9-]`, so the first `.`
/// after `__tenant.` ends the tenant name whatever the local name holds; the broker always adds
/// the prefix to a tenant member's names, so no name a member sends can reach another namespace
/// (`__tenant.team-b.orders` sent by team-a is team-a's `__tenant.team-a.__tenant.team-b.orders`).
/// Principals outside tenancy that are not super users may not use names in the reserved form at
/// all (`isReserved`); super users address internal names directly.
public struct TenantNamespace: Sendable, Hashable {
    public static let reservedPrefix = "__tenant."
    /// Kafka's longest topic name.
    public static let maxTopicLength = 249
    /// The longest string of Kafka's wire format (int16 length).
    public static let maxStringBytes = Int(Int16.max)

    public let tenant: String
    /// `__tenant.<tenant>.`
    public let prefix: String

    public init(tenant: String) {
        self.tenant = tenant
        prefix = Self.reservedPrefix + tenant + "."
    }

    /// Whether `name` is in the reserved internal form (tenant-less principals may not use it).
    public static func isReserved(_ name: String) -> Bool { name.utf8.starts(with: reservedPrefix.utf8) }

    /// The tenant an internal name belongs to, nil for names outside every namespace.
    public static func tenant(ofInternal name: String) -> String? {
        guard isReserved(name) else { return nil }
        let rest = name.utf8.dropFirst(reservedPrefix.utf8.count)
        guard let dot = rest.firstIndex(of: UInt8(ascii: ".")) else { return nil }
        return String(rest[..<dot])
    }

    /// The longest local topic name this tenant may use.
    public var maxLocalTopicLength: Int { Self.maxTopicLength - prefix.utf8.count }

    /// A topic name of the tenant in internal form, or why it is not a valid topic name (in the
    /// tenant's terms: the message never shows the prefix).
    public func internalTopic(_ local: String) -> Result<String, TenantNameError> {
        if let problem = Self.topicNameProblem(local, maxLength: maxLocalTopicLength) {
            return .failure(TenantNameError(message: problem))
        }
        return .success(prefix + local)
    }

    /// A group id, transactional id or subject of the tenant in internal form (any characters;
    /// only the wire format's length limit applies).
    public func internalName(_ local: String, kind: String = "group id") -> Result<String, TenantNameError> {
        guard local.utf8.count + prefix.utf8.count <= Self.maxStringBytes else {
            return .failure(TenantNameError(message:
                "\(kind) is too long: at most \(Self.maxStringBytes - prefix.utf8.count) bytes on this cluster"))
        }
        return .success(prefix + local)
    }

    // Names are compared as UTF-8 bytes, never as Characters: a local name starting with a
    // combining mark would otherwise fuse with the prefix's final "." into one Character.

    /// Whether an internal name is in this namespace.
    public func owns(_ internalName: String) -> Bool { internalName.utf8.starts(with: prefix.utf8) }

    /// The local name of one of this namespace's internal names; nil for any other name.
    public func localName(_ internalName: String) -> String? {
        guard owns(internalName) else { return nil }
        return String(decoding: internalName.utf8.dropFirst(prefix.utf8.count), as: UTF8.self)
    }

    /// A message for the tenant: the namespace prefix removed wherever it appears.
    public func localize(_ message: String) -> String {
        let text = Array(message.utf8), needle = Array(prefix.utf8)
        guard text.count >= needle.count else { return message }
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        var i = 0
        var found = false
        while i < text.count {
            if text[i] == needle[0], i + needle.count <= text.count, text[i..<(i + needle.count)].elementsEqual(needle) {
                i += needle.count
                found = true
            } else {
                out.append(text[i])
                i += 1
            }
        }
        return found ? String(decoding: out, as: UTF8.self) : message
    }

    /// Kafka's topic-name rules (`Topic.validate`), nil when `name` is valid.
    public static func topicNameProblem(_ name: String, maxLength: Int = maxTopicLength) -> String? {
        if name.isEmpty { return "Topic name is illegal, it can't be empty" }
        if name == "." || name == ".." { return "Topic name cannot be \".\" or \"..\"" }
        if name.utf8.count > maxLength {
            return "Topic name is illegal, it can't be longer than \(maxLength) characters, topic name: \(name)"
        }
        let legal = name.utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
        if !legal {
            return "Topic name \"\(name)\" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'"
        }
        return nil
    }
}

/// A name a tenant sent that cannot be mapped; `message` is in the tenant's terms.
public struct TenantNameError: Error, Equatable, Sendable {
    public let message: String
}
