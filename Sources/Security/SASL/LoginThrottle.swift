// Failed-login limiting per source address: a sliding window of failure times. Up to
// `freeFailures` failures in the window cost nothing; each further one delays the next answer
// (doubling from `baseDelayMs` up to `maxDelayMs`); at `refuseAfter` failures the address is
// refused outright for `lockoutMs`. IPv6 addresses count per /64 (one subscriber's allocation),
// IPv4 per address. Memory is bounded: at most `maxAddresses` addresses are tracked, and when a
// new one arrives the one whose last failure is oldest is forgotten.
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
    public var maxAddresses: Int

    public init(windowMs: Int64 = 60_000, freeFailures: Int = 3, baseDelayMs: Int64 = 250, maxDelayMs: Int64 = 5_000,
                refuseAfter: Int = 20, lockoutMs: Int64 = 60_000, maxAddresses: Int = 10_000) {
        precondition(windowMs > 0 && freeFailures >= 0 && refuseAfter > freeFailures && maxAddresses > 0, "login throttle limits out of range")
        self.windowMs = windowMs
        self.freeFailures = freeFailures
        self.baseDelayMs = baseDelayMs
        self.maxDelayMs = maxDelayMs
        self.refuseAfter = refuseAfter
        self.lockoutMs = lockoutMs
        self.maxAddresses = maxAddresses
    }
}

/// What to do with an authentication attempt from an address.
public enum LoginDecision: Equatable, Sendable {
    case allow
    /// Authenticate, but hold the answer back this long (Kafka's
    /// `connection.failed.authentication.delay.ms` idea, growing with the failures).
    case delay(ms: Int64)
    /// Do not authenticate; fail at once with `message`.
    case refuse(retryAfterMs: Int64)

    /// Text for SaslAuthenticate's `error_message` (no credential, no user name).
    public var message: String? {
        switch self {
        case .allow: return nil
        case .delay(let ms): return "Too many failed logins from this address: answers are delayed by \(ms) ms"
        case .refuse(let ms):
            return "Too many failed logins from this address: refused, try again in \((ms + 999) / 1000) s"
        }
    }
}

public struct LoginThrottleCore: Sendable {
    private struct Entry {
        var failures: [Int64] = []   // oldest first, at most refuseAfter
        var lockedUntilMs: Int64 = 0
        var sequence: UInt64 = 0
    }

    public let config: LoginThrottleConfig
    private var entries: [String: Entry] = [:]
    /// (address, sequence) in the order of last failures; stale pairs are skipped lazily.
    private var order: [(String, UInt64)] = []
    private var orderHead = 0
    private var sequence: UInt64 = 0

    public init(config: LoginThrottleConfig = LoginThrottleConfig()) { self.config = config }

    /// Number of addresses currently tracked.
    public var trackedAddresses: Int { entries.count }

    /// The decision for a new attempt from `address` at `nowMs`.
    public mutating func check(address: String, nowMs: Int64) -> LoginDecision {
        let key = Self.key(address)
        guard var entry = entries[key] else { return .allow }
        if entry.lockedUntilMs > nowMs { return .refuse(retryAfterMs: entry.lockedUntilMs - nowMs) }
        entry.failures.removeAll { $0 <= nowMs - config.windowMs }
        entries[key] = entry
        let count = entry.failures.count
        if count >= config.refuseAfter {
            entry.lockedUntilMs = nowMs + config.lockoutMs
            entry.failures.removeAll()
            entries[key] = entry
            return .refuse(retryAfterMs: config.lockoutMs)
        }
        guard count > config.freeFailures else { return .allow }
        let doublings = min(count - config.freeFailures - 1, 30)
        return .delay(ms: min(config.maxDelayMs, config.baseDelayMs << Int64(doublings)))
    }

    /// Records a failed authentication from `address`.
    public mutating func recordFailure(address: String, nowMs: Int64) {
        let key = Self.key(address)
        sequence += 1
        var entry = entries[key] ?? Entry()
        entry.failures.removeAll { $0 <= nowMs - config.windowMs }
        entry.failures.append(nowMs)
        if entry.failures.count > config.refuseAfter { entry.failures.removeFirst(entry.failures.count - config.refuseAfter) }
        entry.sequence = sequence
        entries[key] = entry
        order.append((key, sequence))
        prune(nowMs: nowMs)
    }

    /// Forgets expired addresses and, over the cap, those whose last failure is oldest.
    private mutating func prune(nowMs: Int64) {
        while orderHead < order.count {
            let (key, stamp) = order[orderHead]
            guard let entry = entries[key], entry.sequence == stamp else {
                orderHead += 1   // stale: the address failed again later or was removed
                continue
            }
            let expired = entry.failures.last.map { $0 <= nowMs - config.windowMs } ?? true
            guard entries.count > config.maxAddresses || (expired && entry.lockedUntilMs <= nowMs) else { break }
            entries[key] = nil
            orderHead += 1
        }
        if orderHead > 1024 && orderHead * 2 > order.count {
            order.removeFirst(orderHead)
            orderHead = 0
        }
    }

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

/// The broker-wide throttle, shared by all network threads.
public final class LoginThrottle: Sendable {
    private let core: Mutex<LoginThrottleCore>

    public init(config: LoginThrottleConfig = LoginThrottleConfig()) {
        core = Mutex(LoginThrottleCore(config: config))
    }

    public func check(address: String, nowMs: Int64) -> LoginDecision {
        core.withLock { $0.check(address: address, nowMs: nowMs) }
    }

    public func recordFailure(address: String, nowMs: Int64) {
        core.withLock { $0.recordFailure(address: address, nowMs: nowMs) }
    }

    public var trackedAddresses: Int { core.withLock { $0.trackedAddresses } }
}
