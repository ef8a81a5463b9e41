// Failed-login limiter: free failures, growing delays, refusal and lockout, the sliding window,
// per-/64 counting for IPv6, bounded memory with the oldest address evicted.
import Testing
@testable import Security

@Suite struct LoginThrottleTests {
    let config = LoginThrottleConfig(windowMs: 10_000, freeFailures: 2, baseDelayMs: 100, maxDelayMs: 400,
                                     refuseAfter: 6, lockoutMs: 30_000, maxAddresses: 3)

    @Test func escalatesFromAllowToDelayToRefusal() {
        var throttle = LoginThrottleCore(config: config)
        var decisions: [LoginDecision] = []
        for second in 0..<7 {
            let now = Int64(second) * 100
            decisions.append(throttle.check(address: "10.0.0.1:5555", nowMs: now))
            throttle.recordFailure(address: "10.0.0.1:5555", nowMs: now)
        }
        #expect(decisions == [.allow, .allow, .allow, .delay(ms: 100), .delay(ms: 200), .delay(ms: 400), .refuse(retryAfterMs: 30_000)])
        #expect(throttle.check(address: "10.0.0.1", nowMs: 10_600) == .refuse(retryAfterMs: 20_000))
        #expect(LoginDecision.refuse(retryAfterMs: 20_000).message == "Too many failed logins from this address: refused, try again in 20 s")
        #expect(LoginDecision.delay(ms: 100).message?.contains("delayed by 100 ms") == true)
        // Another address is unaffected; after the lockout the slate is clean.
        #expect(throttle.check(address: "10.0.0.2", nowMs: 700) == .allow)
        #expect(throttle.check(address: "10.0.0.1", nowMs: 30_700) == .allow)
    }

    @Test func slidingWindowForgetsOldFailures() {
        var throttle = LoginThrottleCore(config: config)
        for time in [0, 1000, 2000, 3000] as [Int64] { throttle.recordFailure(address: "10.0.0.1", nowMs: time) }
        #expect(throttle.check(address: "10.0.0.1", nowMs: 3000) == .delay(ms: 200))
        #expect(throttle.check(address: "10.0.0.1", nowMs: 10_500) == .delay(ms: 100))   // the failure at 0 left the window
        #expect(throttle.check(address: "10.0.0.1", nowMs: 11_500) == .allow)            // and the one at 1000
    }

    @Test func ipv6CountsPerSlash64AndMappedIPv4AsIPv4() {
        #expect(LoginThrottleCore.key("[2001:db8:1:2:aaaa::1]:9092") == "2001:db8:1:2::/64")
        #expect(LoginThrottleCore.key("2001:db8:1:2:bbbb::7") == "2001:db8:1:2::/64")
        #expect(LoginThrottleCore.key("::ffff:10.1.2.3") == "10.1.2.3")
        #expect(LoginThrottleCore.key("10.1.2.3:4000") == "10.1.2.3")
        var throttle = LoginThrottleCore(config: config)
        for index in 0..<3 { throttle.recordFailure(address: "[2001:db8::\(index + 1)]:1", nowMs: 0) }
        #expect(throttle.check(address: "2001:db8::99", nowMs: 1) == .delay(ms: 100))
    }

    @Test func memoryIsBoundedAndOldestEvicted() {
        var throttle = LoginThrottleCore(config: config)
        for index in 0..<3 { throttle.recordFailure(address: "10.0.0.\(index)", nowMs: Int64(index)) }
        throttle.recordFailure(address: "10.0.0.0", nowMs: 5)     // 10.0.0.0 is now the most recent
        throttle.recordFailure(address: "10.0.0.9", nowMs: 6)     // evicts 10.0.0.1, the oldest
        #expect(throttle.trackedAddresses == 3)
        let shared = LoginThrottle(config: config)
        for index in 0..<10_000 { shared.recordFailure(address: "10.\(index / 65536).\(index / 256 % 256).\(index % 256)", nowMs: Int64(index)) }
        #expect(shared.trackedAddresses == 3)
        // Expired entries go away on their own.
        shared.recordFailure(address: "192.0.2.1", nowMs: 100_000)
        #expect(shared.trackedAddresses == 1)
    }
}
