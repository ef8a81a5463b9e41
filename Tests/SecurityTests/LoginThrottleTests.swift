// Failed-login limiter: per (address, user) free failures, growing delays, lockout of that user
// only; the per-address level that delays (never refuses) everyone behind an address; the sliding
// window; per-/64 counting for IPv6; bounded memory with the oldest key evicted.
import Testing
@testable import Security

@Suite struct LoginThrottleTests {
    let config = LoginThrottleConfig(windowMs: 10_000, freeFailures: 2, baseDelayMs: 100, maxDelayMs: 400,
                                     refuseAfter: 6, lockoutMs: 30_000, addressDelayAfter: 50, maxEntries: 3)

    @Test func escalatesFromAllowToDelayToLockoutOfThatUserOnly() {
        var throttle = LoginThrottleCore(config: config)
        var decisions: [LoginDecision] = []
        var lockedAt: [Int] = []
        for attempt in 0..<6 {
            let now = Int64(attempt) * 100
            decisions.append(throttle.check(address: "10.0.0.1:5555", user: "alice", nowMs: now))
            if throttle.recordFailure(address: "10.0.0.1:5555", user: "alice", nowMs: now) { lockedAt.append(attempt) }
        }
        #expect(decisions == [.allow, .allow, .allow, .delay(ms: 100), .delay(ms: 200), .delay(ms: 400)])
        #expect(lockedAt == [5])
        #expect(throttle.check(address: "10.0.0.1", user: "alice", nowMs: 600) == .refuse(retryAfterMs: 29_900))
        #expect(LoginDecision.refuse(retryAfterMs: 20_000).message
                    == "Too many failed logins for this user from this address: refused, try again in 20 s")
        #expect(LoginDecision.delay(ms: 100).message?.contains("delayed by 100 ms") == true)
        // Another user behind the same address logs in at once; alice from elsewhere too.
        #expect(throttle.check(address: "10.0.0.1", user: "bob", nowMs: 700) == .allow)
        #expect(throttle.check(address: "10.0.0.2", user: "alice", nowMs: 700) == .allow)
        // After the lockout the slate is clean.
        #expect(throttle.check(address: "10.0.0.1", user: "alice", nowMs: 30_600) == .allow)
    }

    @Test func anUnknownUserCountsLikeAKnownOne() {
        var a = LoginThrottleCore(config: config)
        var b = LoginThrottleCore(config: config)
        for now in [0, 1, 2, 3] as [Int64] {
            _ = a.recordFailure(address: "10.0.0.1", user: "alice", nowMs: now)
            _ = b.recordFailure(address: "10.0.0.1", user: "no-such-user", nowMs: now)
        }
        #expect(a.check(address: "10.0.0.1", user: "alice", nowMs: 4)
                    == b.check(address: "10.0.0.1", user: "no-such-user", nowMs: 4))
    }

    @Test func manyFailuresFromOneAddressDelayEveryoneButRefuseNoOne() {
        var throttle = LoginThrottleCore(config: LoginThrottleConfig(
            windowMs: 10_000, freeFailures: 2, baseDelayMs: 100, maxDelayMs: 400, refuseAfter: 6, lockoutMs: 30_000,
            addressDelayAfter: 50, maxEntries: 1000))
        // A password-spraying loop: 60 users, one failure each, from one address.
        for index in 0..<49 { _ = throttle.recordFailure(address: "10.0.0.1", user: "u\(index)", nowMs: 0) }
        #expect(throttle.check(address: "10.0.0.1", user: "carol", nowMs: 1) == .allow)
        for index in 49..<60 { _ = throttle.recordFailure(address: "10.0.0.1", user: "u\(index)", nowMs: 0) }
        #expect(throttle.check(address: "10.0.0.1", user: "carol", nowMs: 1) == .delay(ms: 400))
        #expect(throttle.check(address: "10.0.0.9", user: "carol", nowMs: 1) == .allow)
        #expect(throttle.check(address: "10.0.0.1", user: "carol", nowMs: 10_001) == .allow)
    }

    @Test func slidingWindowForgetsOldFailures() {
        var throttle = LoginThrottleCore(config: config)
        for time in [0, 1000, 2000, 3000] as [Int64] { _ = throttle.recordFailure(address: "10.0.0.1", user: "a", nowMs: time) }
        #expect(throttle.check(address: "10.0.0.1", user: "a", nowMs: 3000) == .delay(ms: 200))
        #expect(throttle.check(address: "10.0.0.1", user: "a", nowMs: 10_500) == .delay(ms: 100))   // 0 left the window
        #expect(throttle.check(address: "10.0.0.1", user: "a", nowMs: 11_500) == .allow)            // and 1000
    }

    @Test func ipv6CountsPerSlash64AndMappedIPv4AsIPv4() {
        #expect(LoginThrottleCore.key("[2001:db8:1:2:aaaa::1]:9092") == "2001:db8:1:2::/64")
        #expect(LoginThrottleCore.key("2001:db8:1:2:bbbb::7") == "2001:db8:1:2::/64")
        #expect(LoginThrottleCore.key("::ffff:10.1.2.3") == "10.1.2.3")
        #expect(LoginThrottleCore.key("10.1.2.3:4000") == "10.1.2.3")
        var throttle = LoginThrottleCore(config: config)
        for index in 0..<3 { _ = throttle.recordFailure(address: "[2001:db8::\(index + 1)]:1", user: "a", nowMs: 0) }
        #expect(throttle.check(address: "2001:db8::99", user: "a", nowMs: 1) == .delay(ms: 100))
    }

    @Test func memoryIsBoundedAndOldestEvicted() {
        var throttle = LoginThrottleCore(config: config)
        for index in 0..<3 { _ = throttle.recordFailure(address: "10.0.0.\(index)", user: "a", nowMs: Int64(index)) }
        _ = throttle.recordFailure(address: "10.0.0.0", user: "a", nowMs: 5)     // now the most recent
        _ = throttle.recordFailure(address: "10.0.0.9", user: "a", nowMs: 6)     // evicts 10.0.0.1, the oldest
        #expect(throttle.trackedKeys.users == 3 && throttle.trackedKeys.addresses == 3)
        let shared = LoginThrottle(config: config)
        for index in 0..<10_000 {
            _ = shared.recordFailure(address: "10.0.0.1", user: "spray-\(index)", nowMs: Int64(index))
        }
        #expect(shared.trackedKeys.users == 3 && shared.trackedKeys.addresses == 1)
        // Expired entries go away on their own.
        _ = shared.recordFailure(address: "192.0.2.1", user: "a", nowMs: 100_000)
        #expect(shared.trackedKeys.users == 1)
    }
}
