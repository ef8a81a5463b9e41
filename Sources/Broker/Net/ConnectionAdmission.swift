// Kafka's connection limits, applied by the acceptor before a connection costs anything more than a
// socket: `max.connections` (broker-wide and per listener, KIP-308), `max.connections.per.ip` and
// its overrides, and `max.connection.creation.rate` (broker-wide and per listener, KIP-612).
//
// What a refused or held-back peer sees follows Kafka: at the broker-wide or listener count limit,
// and over a creation rate, the acceptor stops accepting on that listener for a while, so new
// connections wait in the kernel's backlog (the client's connect succeeds late or times out); over
// the per-address limit the connection is accepted and closed at once. A flood from one address
// therefore stops at its own limit and leaves every other address's connections alone, as long as
// the broker-wide limits are set above what one address may hold.
import Synchronization

/// The limits, from the broker's properties. Absent values mean no limit.
public struct ConnectionLimitSettings: Sendable, Hashable {
    /// `max.connections`: open connections over all listeners.
    public var maxConnections: Int?
    /// `listener.name.<listener>.max.connections`.
    public var maxConnectionsPerListener: [String: Int] = [:]
    /// `max.connections.per.ip`.
    public var maxConnectionsPerIP: Int?
    /// `max.connections.per.ip.overrides`: `address:count` pairs, addresses as the peer's IP text.
    public var maxConnectionsPerIPOverrides: [String: Int] = [:]
    /// `max.connection.creation.rate`: new connections per second over all listeners.
    public var maxConnectionCreationRate: Double?
    /// `listener.name.<listener>.max.connection.creation.rate`.
    public var maxConnectionCreationRatePerListener: [String: Double] = [:]

    public init() {}

    var isUnlimited: Bool {
        maxConnections == nil && maxConnectionsPerListener.isEmpty && maxConnectionsPerIP == nil
            && maxConnectionsPerIPOverrides.isEmpty && maxConnectionCreationRate == nil
            && maxConnectionCreationRatePerListener.isEmpty
    }

    /// The per-address limit for `host` (an override wins).
    func perIPLimit(_ host: String) -> Int? { maxConnectionsPerIPOverrides[host] ?? maxConnectionsPerIP }
}

/// Why a connection was held back or refused (a metric label).
public enum ConnectionRefusal: String, Sendable, CaseIterable {
    /// Accepted and closed: the peer's address holds `max.connections.per.ip` connections.
    case perIP = "per_ip"
    /// Accepting paused: the broker or the listener holds `max.connections`.
    case maxConnections = "max_connections"
    /// Accepting paused: `max.connection.creation.rate` reached.
    case creationRate = "creation_rate"
}

/// The counting, sans-I/O: the caller passes the time.
struct ConnectionAdmissionCore {
    /// A rate as a token bucket: `rate` tokens a second, at most one second's worth (and at least
    /// one token) saved up, so a burst after a quiet spell is bounded by the rate itself.
    struct Bucket {
        let rate: Double
        var tokens: Double
        var refilledAtMs: Int64

        init(rate: Double, nowMs: Int64) {
            self.rate = rate
            tokens = max(1, rate)
            refilledAtMs = nowMs
        }

        mutating func refill(_ nowMs: Int64) {
            guard nowMs > refilledAtMs else { return }
            tokens = min(max(1, rate), tokens + rate * Double(nowMs - refilledAtMs) / 1000)
            refilledAtMs = nowMs
        }

        /// Milliseconds until one token is there (0: now).
        mutating func wait(_ nowMs: Int64) -> Int64 {
            refill(nowMs)
            return tokens >= 1 ? 0 : Int64(((1 - tokens) / rate * 1000).rounded(.up))
        }
    }

    let settings: ConnectionLimitSettings
    private var open = 0
    private var openPerListener: [String: Int] = [:]
    /// Only addresses with open connections: bounded by the open connections themselves.
    private var openPerIP: [String: Int] = [:]
    private var brokerRate: Bucket?
    private var listenerRates: [String: Bucket] = [:]
    private(set) var refused: [ConnectionRefusal: Int] = [:]

    /// How long accepting on a listener pauses when a count limit is reached: a closed connection
    /// frees a place at any moment, so the acceptor looks again soon.
    static let countLimitPollMs: Int64 = 50

    init(settings: ConnectionLimitSettings, nowMs: Int64) {
        self.settings = settings
        brokerRate = settings.maxConnectionCreationRate.map { Bucket(rate: $0, nowMs: nowMs) }
        for (listener, rate) in settings.maxConnectionCreationRatePerListener {
            listenerRates[listener] = Bucket(rate: rate, nowMs: nowMs)
        }
    }

    var openConnections: Int { open }

    func openConnections(from host: String) -> Int { openPerIP[host] ?? 0 }

    /// 0 when a connection may be accepted on `listener` now; otherwise how many milliseconds to
    /// leave it in the backlog (and why).
    mutating func acceptWait(listener: String, nowMs: Int64) -> (ms: Int64, reason: ConnectionRefusal)? {
        if let limit = settings.maxConnections, open >= limit { return (Self.countLimitPollMs, .maxConnections) }
        if let limit = settings.maxConnectionsPerListener[listener], openPerListener[listener, default: 0] >= limit {
            return (Self.countLimitPollMs, .maxConnections)
        }
        var wait: Int64 = 0
        if var bucket = brokerRate {
            wait = max(wait, bucket.wait(nowMs))
            brokerRate = bucket
        }
        if var bucket = listenerRates[listener] {
            wait = max(wait, bucket.wait(nowMs))
            listenerRates[listener] = bucket
        }
        return wait > 0 ? (wait, .creationRate) : nil
    }

    /// A connection was accepted on `listener` from `host`: it counts against the creation rates;
    /// nil when it may stay open (and now counts), else why it must be closed.
    mutating func admit(listener: String, host: String, nowMs: Int64) -> ConnectionRefusal? {
        if var bucket = brokerRate {
            bucket.refill(nowMs)
            bucket.tokens -= 1
            brokerRate = bucket
        }
        if var bucket = listenerRates[listener] {
            bucket.refill(nowMs)
            bucket.tokens -= 1
            listenerRates[listener] = bucket
        }
        if let limit = settings.perIPLimit(host), openPerIP[host, default: 0] >= limit {
            refused[.perIP, default: 0] += 1
            return .perIP
        }
        open += 1
        openPerListener[listener, default: 0] += 1
        openPerIP[host, default: 0] += 1
        return nil
    }

    /// An admitted connection closed.
    mutating func release(listener: String, host: String) {
        precondition(open > 0, "a connection released that was never admitted")
        open -= 1
        openPerListener[listener, default: 1] -= 1
        if openPerListener[listener] == 0 { openPerListener[listener] = nil }
        let left = openPerIP[host, default: 1] - 1
        openPerIP[host] = left > 0 ? left : nil
    }

    mutating func countHeldBack(_ reason: ConnectionRefusal) { refused[reason, default: 0] += 1 }
}

/// The server-wide holder, shared by the acceptor (admits) and the reactors (release on close).
public final class ConnectionAdmission: Sendable {
    private let core: Mutex<ConnectionAdmissionCore>
    /// False when no limit is set: the acceptor skips every call.
    let limited: Bool

    public init(settings: ConnectionLimitSettings = ConnectionLimitSettings()) {
        limited = !settings.isUnlimited
        core = Mutex(ConnectionAdmissionCore(settings: settings, nowMs: NetSys.monotonicMs()))
    }

    func acceptWait(listener: String, nowMs: Int64) -> Int64 {
        guard limited else { return 0 }
        return core.withLock { core in
            guard let (ms, reason) = core.acceptWait(listener: listener, nowMs: nowMs) else { return 0 }
            core.countHeldBack(reason)
            return ms
        }
    }

    func admit(_ info: ConnectionInfo, nowMs: Int64) -> ConnectionRefusal? {
        guard limited else { return nil }
        return core.withLock { $0.admit(listener: info.listenerName, host: info.peerHost, nowMs: nowMs) }
    }

    func release(_ info: ConnectionInfo) {
        guard limited else { return }
        core.withLock { $0.release(listener: info.listenerName, host: info.peerHost) }
    }

    /// Refused connections (per address) and held-back accepts (count limits, creation rates),
    /// by reason, since start.
    public var refusals: [ConnectionRefusal: Int] { core.withLock { $0.refused } }
}
