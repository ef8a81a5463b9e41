// Failed-login limiting, per (source address, user) and per source address, over a sliding window
// of failure times.
//
// Per (address, user): up to `freeFailures` failures in the window cost nothing; each further one
// delays the next answer for that user from that address (doubling from `baseDelayMs` up to
// `maxDelayMs`); at `refuseAfter` failures that user is refused from that address for `lockoutMs`.
// Other users behind the same address (NAT, proxies, CI runners, Kubernetes nodes) are not
// touched by it. Per address: past `addressDelayAfter` failures in the window (all users
// together, a level far above what many honest users behind one address produce) every login
// from the address is answered after `maxDelayMs` — delayed, never refused, so a correct
// credential always gets in. A claimed user that does not exist counts like one that does.
//
// IPv6 addresses count per /64 (one subscriber's allocation), IPv4 per address. Memory is bounded:
// at most `maxEntries` keys of each kind are tracked; a new one pushes out the one whose last
// failure is oldest.
//
// Sans-I/O: time is passed in. `LoginThrottle` is the shared, thread-safe holder;
// `LoginThrottleCore` is the value it guards.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

public struct LoginThrottleConfig: Sendable, Equatable {
    public var windowMs: Int64
    public var freeFailures: Int
    public var baseDelayMs: Int64
    public var maxDelayMs: Int64
    public var refuseAfter: Int
    public var lockoutMs: Int64
    public var addressDelayAfter: Int
    public var maxEntries: Int

    public init(windowMs: Int64 = 60_000, freeFailures: Int = 3, baseDelayMs: Int64 = 250, maxDelayMs: Int64 = 5_000,
                refuseAfter: Int = 20, lockoutMs: Int64 = 60_000, addressDelayAfter: Int = 1_000,
                maxEntries: Int = 10_000) {
        precondition(windowMs > 0 && freeFailures >= 0 && refuseAfter > freeFailures && addressDelayAfter > 0
                        && maxEntries > 0, "login throttle limits out of range")
        self.windowMs = windowMs
        self.freeFailures = freeFailures
        self.baseDelayMs = baseDelayMs
        self.maxDelayMs = maxDelayMs
        self.refuseAfter = refuseAfter
        self.lockoutMs = lockoutMs
        self.addressDelayAfter = addressDelayAfter
        self.maxEntries = maxEntries
    }
}

/// What to do with an authentication attempt.
public enum LoginDecision: Equatable, Sendable {
    case allow
    /// Authenticate, but hold the answer back this long (Kafka's
    /// `connection.failed.authentication.delay.ms` idea, growing with the failures).
    case delay(ms: Int64)
    /// Do not authenticate; fail at once with `message`. Only for the user whose own failures
    /// from this address reached the limit.
    case refuse(retryAfterMs: Int64)

    /// Text for SaslAuthenticate's `error_message` (no credential, no user name).
    public var message: String? {
        switch self {
        case .allow: return nil
        case .delay(let ms): return "Too many failed logins: answers are delayed by \(ms) ms"
        case .refuse(let ms):
            return "Too many failed logins for this user from this address: refused, try again in \((ms + 999) / 1000) s"
        }
    }
}

/// Failure times per key in a sliding window, with an optional lockout per key; bounded in keys.
struct FailureWindows {
    private struct Entry {
        var failures: [Int64] = []   // oldest first, at most `cap`
        var lockedUntilMs: Int64 = 0
        var sequence: UInt64 = 0
    }

    let windowMs: Int64
    let cap: Int
    let maxKeys: Int
    private var entries: [String: Entry] = [:]
    /// (key, sequence) in the order of last failures; stale pairs are skipped lazily.
    private var order: [(String, UInt64)] = []
    private var orderHead = 0
    private var sequence: UInt64 = 0

    init(windowMs: Int64, cap: Int, maxKeys: Int) {
        self.windowMs = windowMs
        self.cap = cap
        self.maxKeys = maxKeys
    }

    var count: Int { entries.count }

    /// Failures of `key` in the window ending at `nowMs`, and until when it is locked (0: not).
    func state(_ key: String, nowMs: Int64) -> (failures: Int, lockedUntilMs: Int64) {
        guard let entry = entries[key] else { return (0, 0) }
        return (entry.failures.count { $0 > nowMs - windowMs }, entry.lockedUntilMs > nowMs ? entry.lockedUntilMs : 0)
    }

    /// Records a failure; returns the failures of `key` now in the window.
    mutating func record(_ key: String, nowMs: Int64) -> Int {
        sequence += 1
        var entry = entries[key] ?? Entry()
        entry.failures.removeAll { $0 <= nowMs - windowMs }
        entry.failures.append(nowMs)
        if entry.failures.count > cap { entry.failures.removeFirst(entry.failures.count - cap) }
        entry.sequence = sequence
        entries[key] = entry
        order.append((key, sequence))
        prune(nowMs: nowMs)
        return entry.failures.count
    }

    /// Locks `key` until `untilMs` and forgets its failures (they are paid for by the lockout).
    mutating func lock(_ key: String, untilMs: Int64) {
        entries[key]?.lockedUntilMs = untilMs
        entries[key]?.failures.removeAll()
    }

    /// Forgets expired keys and, over the cap, those whose last failure is oldest.
    private mutating func prune(nowMs: Int64) {
        while orderHead < order.count {
            let (key, stamp) = order[orderHead]
            guard let entry = entries[key], entry.sequence == stamp else {
                orderHead += 1   // stale: the key failed again later or was removed
                continue
            }
            let expired = entry.failures.last.map { $0 <= nowMs - windowMs } ?? true
            guard entries.count > maxKeys || (expired && entry.lockedUntilMs <= nowMs) else { break }
            entries[key] = nil
            orderHead += 1
        }
        if orderHead > 1024 && orderHead * 2 > order.count {
            order.removeFirst(orderHead)
            orderHead = 0
        }
    }
}

public struct LoginThrottleCore: Sendable {
    public let config: LoginThrottleConfig
    private var perUser: FailureWindows
    private var perAddress: FailureWindows

    public init(config: LoginThrottleConfig = LoginThrottleConfig()) {
        self.config = config
        perUser = FailureWindows(windowMs: config.windowMs, cap: config.refuseAfter, maxKeys: config.maxEntries)
        perAddress = FailureWindows(windowMs: config.windowMs, cap: config.addressDelayAfter, maxKeys: config.maxEntries)
    }

    /// Number of (address, user) keys and addresses currently tracked.
    public var trackedKeys: (users: Int, addresses: Int) { (perUser.count, perAddress.count) }

    /// The decision for a new attempt by `user` (as claimed; nil when the first message names
    /// none) from `address` at `nowMs`.
    public func check(address: String, user: String?, nowMs: Int64) -> LoginDecision {
        let host = Self.key(address)
        let own = perUser.state(Self.userKey(host, user), nowMs: nowMs)
        if own.lockedUntilMs > 0 { return .refuse(retryAfterMs: own.lockedUntilMs - nowMs) }
        var delay: Int64 = 0
        if own.failures > config.freeFailures {
            let doublings = min(own.failures - config.freeFailures - 1, 30)
            delay = min(config.maxDelayMs, config.baseDelayMs << Int64(doublings))
        }
        if perAddress.state(host, nowMs: nowMs).failures >= config.addressDelayAfter { delay = config.maxDelayMs }
        return delay > 0 ? .delay(ms: delay) : .allow
    }

    /// Records a failed authentication of `user` from `address`; true when this failure locked
    /// that user out from that address (for the audit log and metrics).
    public mutating func recordFailure(address: String, user: String?, nowMs: Int64) -> Bool {
        let host = Self.key(address)
        _ = perAddress.record(host, nowMs: nowMs)
        let key = Self.userKey(host, user)
        guard perUser.record(key, nowMs: nowMs) >= config.refuseAfter else { return false }
        perUser.lock(key, untilMs: nowMs + config.lockoutMs)
        return true
    }

    static func userKey(_ host: String, _ user: String?) -> String { host + "\u{0}" + (user ?? "") }

    /// The counting key: IPv4 as is, IPv6 per /64, anything else (host names, `ip:port`) as given
    /// without a trailing port.
    static func key(_ address: String) -> String {
        var host = address
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") {
            host = String(host[host.index(after: host.startIndex)..<close])
        } else if host.filter({ $0 == ":" }).count == 1, let colon = host.firstIndex(of: ":") {
            host = String(host[..<colon])
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 {
            let bytes = withUnsafeBytes(of: v6) { Array($0.prefix(8)) }
            // IPv4-mapped addresses count as the IPv4 address.
            let full = withUnsafeBytes(of: v6) { Array($0) }
            if full[0..<10].allSatisfy({ $0 == 0 }) && full[10] == 0xFF && full[11] == 0xFF {
                return full[12...].map(String.init).joined(separator: ".")
            }
            return stride(from: 0, to: 8, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
                .joined(separator: ":") + "::/64"
        }
        return host
    }
}

/// The broker-wide throttle, shared by all network threads, with counters for metrics.
public final class LoginThrottle: Sendable {
    private let core: Mutex<LoginThrottleCore>
    public let config: LoginThrottleConfig
    /// Logins answered late, refused (a locked-out user), and lockouts begun, since start.
    public let delayed = Atomic<Int>(0)
    public let refused = Atomic<Int>(0)
    public let lockouts = Atomic<Int>(0)

    public init(config: LoginThrottleConfig = LoginThrottleConfig()) {
        self.config = config
        core = Mutex(LoginThrottleCore(config: config))
    }

    public func check(address: String, user: String?, nowMs: Int64) -> LoginDecision {
        let decision = core.withLock { $0.check(address: address, user: user, nowMs: nowMs) }
        switch decision {
        case .allow: break
        case .delay: delayed.add(1, ordering: .relaxed)
        case .refuse: refused.add(1, ordering: .relaxed)
        }
        return decision
    }

    /// True when this failure locked the user out from the address.
    public func recordFailure(address: String, user: String?, nowMs: Int64) -> Bool {
        let locked = core.withLock { $0.recordFailure(address: address, user: user, nowMs: nowMs) }
        if locked { lockouts.add(1, ordering: .relaxed) }
        return locked
    }

    public var trackedKeys: (users: Int, addresses: Int) { core.withLock { $0.trackedKeys } }
}
