// Tenants: named namespaces sharing one cluster, defined in `policies/*.tenants` (docs/tenants.md).
// This file holds the values; TenantParser.swift reads the files, TenantNamespace.swift maps names.

/// Limits of a tenant (or of one principal inside a tenant). `nil` = no limit.
///
/// Rates are per second over Kafka's sliding windows (the quotas engine decides the window);
/// `requestPercentage` is Kafka's `request_percentage` (100 = one request-handling thread's time).
public struct Quotas: Sendable, Equatable {
    /// Bytes per second a producer may append (`produce-byte-rate`).
    public var produceByteRate: Int64?
    /// Bytes per second a consumer may fetch (`fetch-byte-rate`).
    public var fetchByteRate: Int64?
    /// Percentage of one request-handler thread's time (`request-percentage`).
    public var requestPercentage: Double?
    /// Open connections at once (`connections`).
    public var connections: Int64?
    /// New connections per second (`connection-creation-rate`).
    public var connectionCreationRate: Double?
    /// Partitions over all the tenant's topics (`partitions`; tenant-wide only).
    public var partitions: Int64?
    /// Topics (`topics`; tenant-wide only).
    public var topics: Int64?
    /// Bytes stored in the tenant's partitions (`storage-bytes`; tenant-wide only).
    public var storageBytes: Int64?

    public init() {}

    /// True when no limit is set.
    public var isEmpty: Bool { self == Quotas() }

    /// The keys of the file format, in the order `sluice tenants describe` prints them.
    public static let keys: [String] = [
        "produce-byte-rate", "fetch-byte-rate", "request-percentage", "connections",
        "connection-creation-rate", "partitions", "topics", "storage-bytes",
    ]

    /// Keys that make sense for one principal inside a tenant (rates and connections).
    public static let principalKeys: Set<String> = [
        "produce-byte-rate", "fetch-byte-rate", "request-percentage", "connections", "connection-creation-rate",
    ]

    /// The value set for `key` as text (for printing), nil when unset or unknown.
    public func value(of key: String) -> String? {
        switch key {
        case "produce-byte-rate": return produceByteRate.map(String.init)
        case "fetch-byte-rate": return fetchByteRate.map(String.init)
        case "request-percentage": return requestPercentage.map { TenantText.number($0) }
        case "connections": return connections.map(String.init)
        case "connection-creation-rate": return connectionCreationRate.map { TenantText.number($0) }
        case "partitions": return partitions.map(String.init)
        case "topics": return topics.map(String.init)
        case "storage-bytes": return storageBytes.map(String.init)
        default: return nil
        }
    }
}

/// How a principal becomes a member of a tenant.
public enum TenantMember: Sendable, Hashable, CustomStringConvertible {
    /// Exactly this principal (`User:alice`: a SASL PLAIN/SCRAM user, an OAUTHBEARER subject or
    /// a name mapped from a client certificate).
    case principal(String)
    /// Principals matching a glob (`*` = any run of characters, nothing else is special):
    /// `User:CN=*.team-a.example.com` for certificate principals, `User:team-a-*`.
    case pattern(String)
    /// An OAUTHBEARER token whose claim `name` is the string `value` (or an array holding it).
    case claim(name: String, value: String)

    public var description: String {
        switch self {
        case .principal(let principal): return principal
        case .pattern(let pattern): return pattern
        case .claim(let name, let value): return "claim:\(name)=\(value)"
        }
    }

    /// Whether a session with this principal and these token claims is matched.
    public func matches(principal: String, claims: [String: [String]]) -> Bool {
        switch self {
        case .principal(let exact): return exact == principal
        case .pattern(let glob): return TenantGlob.matches(glob, principal)
        case .claim(let name, let value): return claims[name]?.contains(value) ?? false
        }
    }
}

/// One tenant: its name (the namespace), who belongs to it and its limits.
public struct Tenant: Sendable, Equatable {
    public var name: String
    public var members: [TenantMember]
    /// Tenant-wide limits.
    public var quotas: Quotas
    /// Limits for single principals inside the tenant (`... for User:x`), by principal.
    public var principalQuotas: [String: Quotas]
    /// Where the tenant was defined (`teams.tenants:3`).
    public var definedAt: String

    public init(name: String, members: [TenantMember] = [], quotas: Quotas = Quotas(),
                principalQuotas: [String: Quotas] = [:], definedAt: String = "") {
        self.name = name
        self.members = members
        self.quotas = quotas
        self.principalQuotas = principalQuotas
        self.definedAt = definedAt
    }

    /// The namespace that maps this tenant's names.
    public var namespace: TenantNamespace { TenantNamespace(tenant: name) }

    /// The limits for one principal of the tenant: its own lines, else none (the tenant-wide
    /// limits apply to the tenant as a whole).
    public func quotas(for principal: String) -> Quotas? { principalQuotas[principal] }
}

/// Who a session belongs to.
public enum TenantResolution: Sendable, Equatable {
    /// No tenant: an operator (super user) or a principal outside tenancy.
    case none
    case tenant(Tenant)
    /// Matched by members of several tenants (possible only when a claim of one tenant and a
    /// principal or pattern of another both match): refused.
    case ambiguous([String])
}

/// The validated tenants of the policy directory.
public struct TenantSet: Sendable, Equatable {
    /// In file order.
    public private(set) var tenants: [Tenant]
    private var byName: [String: Int]
    private var byPrincipal: [String: Int]
    /// Tenants with pattern or claim members (checked when no exact principal matched).
    private var scanned: [Int]
    /// Names of the files the set came from.
    public private(set) var fileNames: [String]
    /// `PolicyFingerprint` of the files the set came from.
    public private(set) var fingerprint: String

    public init() { self.init(tenants: [], fileNames: [], fingerprint: PolicyFingerprint.of([])) }

    init(tenants: [Tenant], fileNames: [String], fingerprint: String) {
        self.tenants = tenants
        self.fileNames = fileNames
        self.fingerprint = fingerprint
        byName = [:]
        byPrincipal = [:]
        scanned = []
        for (index, tenant) in tenants.enumerated() {
            byName[tenant.name] = index
            var scan = false
            for member in tenant.members {
                if case .principal(let principal) = member { byPrincipal[principal] = index } else { scan = true }
            }
            if scan { scanned.append(index) }
        }
    }

    public var isEmpty: Bool { tenants.isEmpty }

    public func tenant(named name: String) -> Tenant? { byName[name].map { tenants[$0] } }

    /// The tenant of a session: by exact principal, by pattern, by token claim. Members never
    /// overlap across tenants for principals and patterns (the loader refuses it); a claim of
    /// one tenant and a principal of another can both match, which is `.ambiguous`.
    public func resolve(principal: String, claims: [String: [String]] = [:]) -> TenantResolution {
        var found: Set<Int> = []
        if let index = byPrincipal[principal] { found.insert(index) }
        for index in scanned where !found.contains(index) {
            if tenants[index].members.contains(where: { $0.matches(principal: principal, claims: claims) }) {
                found.insert(index)
            }
        }
        if found.isEmpty { return .none }
        if found.count == 1 { return .tenant(tenants[found.first!]) }
        return .ambiguous(found.sorted().map { tenants[$0].name })
    }

    /// The tenant of a session, nil for no tenant or an ambiguous match.
    public func tenant(for principal: String, claims: [String: [String]] = [:]) -> Tenant? {
        if case .tenant(let tenant) = resolve(principal: principal, claims: claims) { return tenant }
        return nil
    }
}

/// Globs with `*` only.
public enum TenantGlob {
    public static func matches(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern.unicodeScalars), t = Array(text.unicodeScalars)
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count && p[pi] != "*" && p[pi] == t[ti] {
                pi += 1; ti += 1
            } else if pi < p.count && p[pi] == "*" {
                star = pi; mark = ti; pi += 1
            } else if star >= 0 {
                pi = star + 1; mark += 1; ti = mark
            } else {
                return false
            }
        }
        while pi < p.count && p[pi] == "*" { pi += 1 }
        return pi == p.count
    }

    /// Whether some text matches both globs.
    public static func overlap(_ a: String, _ b: String) -> Bool {
        let p = Array(a.unicodeScalars), q = Array(b.unicodeScalars)
        var memo: [Int: Bool] = [:]
        func go(_ i: Int, _ j: Int) -> Bool {
            let key = i * (q.count + 1) + j
            if let known = memo[key] { return known }
            let result: Bool
            if i == p.count && j == q.count {
                result = true
            } else if i < p.count && p[i] == "*" {
                result = go(i + 1, j) || (j < q.count && go(i, j + 1))
            } else if j < q.count && q[j] == "*" {
                result = go(i, j + 1) || (i < p.count && go(i + 1, j))
            } else if i < p.count && j < q.count {
                result = p[i] == q[j] && go(i + 1, j + 1)
            } else {
                result = false
            }
            memo[key] = result
            return result
        }
        return go(0, 0)
    }
}

enum TenantText {
    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}
