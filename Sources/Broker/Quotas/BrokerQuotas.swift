import Foundation
import Synchronization

/// Every limit one tenant (or one principal inside it) is held to; nil = unlimited. A value.
public struct TenantLimits: Sendable, Hashable {
    public var rates = RateLimits()
    public var maxConnections: Int?
    /// New authenticated connections per second.
    public var connectionCreationRate: Double?
    public var maxPartitions: Int?
    public var maxTopics: Int?
    public var maxStorageBytes: Int64?

    public init(rates: RateLimits = RateLimits(), maxConnections: Int? = nil, connectionCreationRate: Double? = nil,
                maxPartitions: Int? = nil, maxTopics: Int? = nil, maxStorageBytes: Int64? = nil) {
        self.rates = rates
        self.maxConnections = maxConnections
        self.connectionCreationRate = connectionCreationRate
        self.maxPartitions = maxPartitions
        self.maxTopics = maxTopics
        self.maxStorageBytes = maxStorageBytes
    }
}

/// Who a request is charged to: its principal's tenant, with that tenant's current limits and,
/// when the tenant's file sets them, the principal's own rate limits.
public struct QuotaSubject: Sendable, Hashable {
    public var tenant: String
    public var principal: String
    public var tenantLimits: TenantLimits
    public var principalRates: RateLimits?
    /// The principal's own connection limits (`quota connections N for User:x`).
    public var principalMaxConnections: Int?
    public var principalConnectionCreationRate: Double?

    public init(tenant: String, principal: String, tenantLimits: TenantLimits, principalRates: RateLimits? = nil,
                principalMaxConnections: Int? = nil, principalConnectionCreationRate: Double? = nil) {
        self.tenant = tenant
        self.principal = principal
        self.tenantLimits = tenantLimits
        self.principalRates = principalRates
        self.principalMaxConnections = principalMaxConnections
        self.principalConnectionCreationRate = principalConnectionCreationRate
    }

    /// The key the principal's own sensors and counts are kept under.
    var principalKey: String { "\(tenant)\u{0}\(principal)" }
}

/// The broker's quota state: rate sensors per tenant (and per principal), open connections per
/// tenant, and the operator overrides made with AlterClientQuotas (persisted in the data
/// directory, `client-quotas.json`, and taking precedence over the tenant files).
///
/// Threads: called from reactor threads (charging, connections), the purgatory (fetch charging),
/// the metrics HTTP threads (usage); every piece of state sits behind its own Mutex, held briefly.
public final class BrokerQuotas: Sendable {
    public typealias Resolver = @Sendable (_ principal: String) -> QuotaSubject?

    let engine: Mutex<QuotaEngine>
    private let resolver = Mutex<Resolver>({ _ in nil })
    private let connections = Mutex<[String: Int]>([:])
    private let connectionCreation: Mutex<[String: RateSensor]> = Mutex([:])
    let overrides: Mutex<[String: [String: Double]]>
    private let overridesPath: String?
    public let window: QuotaWindowConfig

    /// `directory` nil keeps overrides in memory only (tests).
    public init(window: QuotaWindowConfig = QuotaWindowConfig(), directory: String?) {
        self.window = window
        engine = Mutex(QuotaEngine(config: window))
        overridesPath = directory.map { "\($0)/client-quotas.json" }
        overrides = Mutex(Self.loadOverrides(overridesPath))
    }

    /// Installs how principals map to tenants and limits (the tenant set's current snapshot).
    public func setResolver(_ resolve: @escaping Resolver) { resolver.withLock { $0 = resolve } }

    /// Which tenants exist (with their limits from the files) and which tenant owns a topic
    /// (internal name); installed with the resolver.
    public struct Catalog: Sendable {
        public var tenants: @Sendable () -> [(name: String, limits: TenantLimits)]
        public var tenantOfTopic: @Sendable (String) -> String?
        public init(tenants: @escaping @Sendable () -> [(name: String, limits: TenantLimits)],
                    tenantOfTopic: @escaping @Sendable (String) -> String?) {
            self.tenants = tenants
            self.tenantOfTopic = tenantOfTopic
        }
    }

    private let catalogState = Mutex(Catalog(tenants: { [] }, tenantOfTopic: { _ in nil }))
    public var catalog: Catalog { catalogState.withLock { $0 } }
    public func setCatalog(_ catalog: Catalog) { catalogState.withLock { $0 = catalog } }

    /// Stored bytes per tenant, refreshed by the maintenance thread (≤ 1 s old): what the
    /// storage limit is checked against on produce.
    let storage = Mutex<[String: Int64]>([:])
    public func storedBytes(ofTenant tenant: String) -> Int64 { storage.withLock { $0[tenant, default: 0] } }

    /// The principal's tenant and its limits now, operator overrides applied; nil outside tenants.
    public func subject(for principal: String) -> QuotaSubject? {
        let resolve = resolver.withLock { $0 }
        guard var subject = resolve(principal) else { return nil }
        if let o = overrides.withLock({ $0[subject.tenant] }) { Self.apply(o, to: &subject.tenantLimits) }
        return subject
    }

    // MARK: Rates

    /// Charges `amount` to the subject's tenant (and principal) and returns the throttle time in ms
    /// (the larger of the two; 0 within quota).
    public func charge(_ kind: QuotaKind, amount: Double, subject: QuotaSubject, now: Int64) -> Int64 {
        engine.withLock { e in
            var throttle = e.record(kind, amount: amount, entity: subject.tenant, limits: subject.tenantLimits.rates, now: now)
            if let own = subject.principalRates {
                throttle = max(throttle, e.record(kind, amount: amount, entity: subject.principalKey,
                                                  limits: own, now: now))
            }
            e.noteThrottle(throttle, entity: subject.tenant)
            return throttle
        }
    }

    public func usage(ofTenant tenant: String, now: Int64) -> QuotaEngine.Usage {
        engine.withLock { $0.usage(of: tenant, now: now) }
    }

    // MARK: Connections

    /// Counts a newly authenticated connection of `subject`'s tenant (and principal); a message
    /// naming the limit when the tenant or the principal is at its connection count or over its
    /// creation rate (the connection is then refused and not counted).
    public func admitConnection(_ subject: QuotaSubject, now: Int64) -> String? {
        let limits = subject.tenantLimits
        let who = "principal \(subject.principal) of tenant \(subject.tenant)"
        for (key, rate, name) in [(subject.tenant, limits.connectionCreationRate, "tenant \(subject.tenant)"),
                                  (subject.principalKey, subject.principalConnectionCreationRate, who)] {
            guard let rate else { continue }
            let refused = connectionCreation.withLock { sensors -> Bool in
                var sensor = sensors[key] ?? RateSensor(config: window)
                defer { sensors[key] = sensor }
                // Measured like Kafka's connection creation rate: the new connection counts.
                sensor.record(1, now: now)
                return sensor.rate(now: now) > rate
            }
            if refused { return "\(name) is over its connection creation rate quota (\(Self.number(rate)) per second)" }
        }
        return connections.withLock { open -> String? in
            let current = open[subject.tenant, default: 0]
            if let max = limits.maxConnections, current >= max {
                return "tenant \(subject.tenant) has reached its connection limit (\(max))"
            }
            let own = open[subject.principalKey, default: 0]
            if let max = subject.principalMaxConnections, own >= max {
                return "\(who) has reached its connection limit (\(max))"
            }
            open[subject.tenant] = current + 1
            open[subject.principalKey] = own + 1
            return nil
        }
    }

    /// Releases a connection counted by `admitConnection`.
    public func connectionClosed(_ subject: QuotaSubject) {
        connections.withLock { open in
            for key in [subject.tenant, subject.principalKey] {
                let left = open[key, default: 0] - 1
                open[key] = left > 0 ? left : nil
            }
        }
    }

    public func openConnections(ofTenant tenant: String) -> Int { connections.withLock { $0[tenant, default: 0] } }

    // MARK: Operator overrides (AlterClientQuotas)

    /// Kafka's quota keys this broker maps onto tenant limits.
    public static let keys = ["producer_byte_rate", "consumer_byte_rate", "request_percentage",
                              "connection_creation_rate"]

    public func overrides(ofTenant tenant: String) -> [String: Double] { overrides.withLock { $0[tenant] ?? [:] } }

    public var allOverrides: [String: [String: Double]] { overrides.withLock { $0 } }

    /// Sets (value) or removes (nil) operator overrides and persists them (temp file + rename).
    public func alter(tenant: String, changes: [String: Double?]) throws {
        let snapshot = overrides.withLock { all -> [String: [String: Double]] in
            var own = all[tenant] ?? [:]
            for (key, value) in changes { own[key] = value }
            all[tenant] = own.isEmpty ? nil : own
            return all
        }
        guard let path = overridesPath else { return }
        let data = try JSONSerialization.data(withJSONObject: snapshot, options: [.sortedKeys])
        let temp = path + ".tmp"
        try data.write(to: URL(fileURLWithPath: temp))
        _ = rename(temp, path)
    }

    static func apply(_ o: [String: Double], to limits: inout TenantLimits) {
        if let v = o["producer_byte_rate"] { limits.rates.produceBytesPerSecond = v }
        if let v = o["consumer_byte_rate"] { limits.rates.fetchBytesPerSecond = v }
        if let v = o["request_percentage"] { limits.rates.requestPercentage = v }
        if let v = o["connection_creation_rate"] { limits.connectionCreationRate = v }
    }

    private static func loadOverrides(_ path: String?) -> [String: [String: Double]] {
        guard let path, let data = FileManager.default.contents(atPath: path),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: [String: Any]]
        else { return [:] }
        var result: [String: [String: Double]] = [:]
        for (tenant, values) in object {
            var own: [String: Double] = [:]
            for (key, value) in values { if let n = value as? NSNumber { own[key] = n.doubleValue } }
            if !own.isEmpty { result[tenant] = own }
        }
        return result
    }

    static func number(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v) }
}
