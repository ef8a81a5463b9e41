// The sans-I/O quota engine, driven by an injected clock.
import Broker
import Foundation
import Glibc
import Testing

@Suite struct QuotaEngineTests {
    @Test func rateOfAFreshSensorIsSpreadOverOneSample() {
        var sensor = RateSensor(config: QuotaWindowConfig(samples: 11, sampleMs: 1000))
        sensor.record(10_000, now: 0)
        // 10 000 bytes over the minimum elapsed window of one sample: 10 000 B/s, not 10 000/0.
        #expect(sensor.rate(now: 0) == 10_000)
        #expect(sensor.rate(now: 4000) == 2500)
    }

    @Test func steadyRateIsMeasured() {
        var sensor = RateSensor(config: QuotaWindowConfig(samples: 11, sampleMs: 1000))
        var now: Int64 = 0
        while now < 30_000 {  // 5 000 B/s for 30 s, recorded every 100 ms
            sensor.record(500, now: now)
            now += 100
        }
        let rate = sensor.rate(now: now)
        #expect(abs(rate - 5000) / 5000 < 0.06)
    }

    @Test func oldSamplesFallOutOfTheWindow() {
        var sensor = RateSensor(config: QuotaWindowConfig(samples: 3, sampleMs: 1000))
        sensor.record(9000, now: 0)
        #expect(sensor.rate(now: 500) > 0)
        #expect(sensor.rate(now: 10_000) == 0)
    }

    @Test func throttleFollowsKafkasFormulaAndIsCapped() {
        var sensor = RateSensor(config: QuotaWindowConfig(samples: 11, sampleMs: 1000))
        sensor.record(2_000, now: 0)
        sensor.record(18_000, now: 9000)
        // Observed 20 000 B over 10 s against a 1 000 B/s quota: (2000-1000)/1000 × 10 s = 10 s.
        #expect(sensor.throttleMs(quota: 1000, now: 10_000) == 10_000)
        #expect(sensor.throttleMs(quota: 4000, now: 10_000) == 0)
        sensor.record(1_000_000, now: 10_000)
        #expect(sensor.throttleMs(quota: 1000, now: 10_000) == 11_000)  // capped at one full window
    }

    @Test func clientThatWaitsOutItsThrottleIsHeldAtTheQuota() {
        // A client that always has data and obeys throttle_time_ms (as librdkafka does).
        var engine = QuotaEngine()
        let limits = RateLimits(produceBytesPerSecond: 100_000)
        var now: Int64 = 0
        var sent = 0.0
        while now < 60_000 {
            let throttle = engine.record(.produce, amount: 64_000, entity: "a", limits: limits, now: now)
            sent += 64_000
            now += max(5, throttle)
        }
        let rate = sent / 60
        #expect(abs(rate - 100_000) / 100_000 < 0.15, "rate \(rate)")
    }

    @Test func greedyClientStaysNearTheQuotaOverEveryTenSeconds() {
        // No burst-then-silence cycle: after the first seconds, every 10 s span is near the quota.
        var engine = QuotaEngine()
        let limits = RateLimits(produceBytesPerSecond: 300_000)
        var now: Int64 = 0
        var sends: [(Int64, Double)] = []
        while now < 60_000 {
            let throttle = engine.record(.produce, amount: 65_536, entity: "g", limits: limits, now: now)
            sends.append((now, 65_536))
            now += max(2, throttle)  // a client far faster than its quota
        }
        for start in stride(from: Int64(3000), through: 50_000, by: 1000) {
            let bytes = sends.filter { $0.0 >= start && $0.0 < start + 10_000 }.reduce(0) { $0 + $1.1 }
            #expect(abs(bytes / 10 - 300_000) / 300_000 < 0.1, "\(start): \(bytes / 10) B/s")
        }
    }

    @Test func entitiesAreIndependent() {
        var engine = QuotaEngine()
        let limits = RateLimits(produceBytesPerSecond: 1000)
        #expect(engine.record(.produce, amount: 1_000_000, entity: "noisy", limits: limits, now: 0) > 0)
        #expect(engine.record(.produce, amount: 500, entity: "quiet", limits: limits, now: 0) == 0)
        #expect(engine.record(.fetch, amount: 1_000_000, entity: "noisy", limits: limits, now: 0) == 0)  // no fetch quota
        engine.noteThrottle(250, entity: "noisy")
        let usage = engine.usage(of: "noisy", now: 0)
        #expect(usage.bytesIn == 1_000_000)
        #expect(usage.bytesOut == 1_000_000)
        #expect(usage.throttleTimeMs == 250)
        #expect(engine.entityNames == ["noisy", "quiet"])
    }

    @Test func requestPercentageIsMsPerSecondOverTen() {
        var engine = QuotaEngine()
        let limits = RateLimits(requestPercentage: 10)  // 100 ms of handling per second
        var now: Int64 = 0
        var throttled = false
        while now < 20_000 {
            if engine.record(.requestTime, amount: 50, entity: "t", limits: limits, now: now) > 0 { throttled = true }
            now += 250  // 200 ms per second: twice the quota
        }
        #expect(throttled)
        let usage = engine.usage(of: "t", now: now)
        #expect(abs(usage.requestPercentage - 20) < 2.5, "\(usage.requestPercentage)")
    }
}

@Suite struct BrokerQuotasTests {
    static func subject(_ tenant: String, _ limits: TenantLimits) -> QuotaSubject {
        QuotaSubject(tenant: tenant, principal: "User:\(tenant)-app", tenantLimits: limits)
    }

    @Test func connectionCountAndCreationRateAreEnforcedPerTenant() {
        let quotas = BrokerQuotas(directory: nil)
        let a = Self.subject("a", TenantLimits(maxConnections: 2))
        #expect(quotas.admitConnection(a, now: 0) == nil)
        #expect(quotas.admitConnection(a, now: 0) == nil)
        #expect(quotas.admitConnection(a, now: 0)?.contains("connection limit (2)") == true)
        #expect(quotas.admitConnection(Self.subject("b", TenantLimits(maxConnections: 2)), now: 0) == nil)
        quotas.connectionClosed(a)
        #expect(quotas.openConnections(ofTenant: "a") == 1)
        #expect(quotas.admitConnection(a, now: 0) == nil)
        // 10 new connections per second: a burst beyond one second's worth is refused.
        let c = Self.subject("c", TenantLimits(connectionCreationRate: 10))
        var refused = 0
        for _ in 0..<150 where quotas.admitConnection(c, now: 0) != nil { refused += 1 }
        #expect(refused == 140)
        // A principal's own limit inside a tenant without one.
        var p = Self.subject("d", TenantLimits())
        p.principalMaxConnections = 1
        #expect(quotas.admitConnection(p, now: 0) == nil)
        #expect(quotas.admitConnection(p, now: 0)?.contains("principal User:d-app of tenant d has reached its connection limit (1)") == true)
        var other = p
        other.principal = "User:d-other"
        #expect(quotas.admitConnection(other, now: 0) == nil)
        #expect(quotas.openConnections(ofTenant: "d") == 2)
    }

    @Test func principalRatesAddToTheTenantsAndTheLargerThrottleWins() {
        let quotas = BrokerQuotas(directory: nil)
        var s = Self.subject("t", TenantLimits(rates: RateLimits(produceBytesPerSecond: 1_000_000)))
        s.principalRates = RateLimits(produceBytesPerSecond: 1000)
        #expect(quotas.charge(.produce, amount: 3_000, subject: s, now: 0) == 2_000)
        #expect(quotas.usage(ofTenant: "t", now: 0).throttleTimeMs == 2_000)
    }

    @Test func operatorOverridesPersistAndWinOverTheFiles() throws {
        let dir = makeTemporaryDirectory("quota")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let quotas = BrokerQuotas(directory: dir)
        quotas.setResolver { Self.subject("t", TenantLimits(rates: RateLimits(produceBytesPerSecond: 100)))
            .with(principal: $0) }
        #expect(quotas.subject(for: "User:x")?.tenantLimits.rates.produceBytesPerSecond == 100)
        try quotas.alter(tenant: "t", changes: ["producer_byte_rate": 5000, "consumer_byte_rate": 7])
        #expect(quotas.subject(for: "User:x")?.tenantLimits.rates.produceBytesPerSecond == 5000)
        let reopened = BrokerQuotas(directory: dir)
        #expect(reopened.overrides(ofTenant: "t") == ["producer_byte_rate": 5000, "consumer_byte_rate": 7])
        try reopened.alter(tenant: "t", changes: ["producer_byte_rate": nil, "consumer_byte_rate": nil])
        #expect(BrokerQuotas(directory: dir).allOverrides.isEmpty)
    }
}

extension QuotaSubject {
    func with(principal: String) -> QuotaSubject {
        var s = self
        s.principal = principal
        return s
    }
}
