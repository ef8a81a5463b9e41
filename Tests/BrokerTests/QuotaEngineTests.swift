// The sans-I/O quota engine, driven by an injected clock.
import Broker
import Testing

@Suite struct QuotaEngineTests {
    @Test func rateOfAFreshSensorIsSpreadOverTheMinimumWindow() {
        var sensor = RateSensor(config: QuotaWindowConfig(samples: 11, sampleMs: 1000))
        sensor.record(10_000, now: 0)
        // 10 000 bytes over the minimum elapsed window of 10 s: 1 000 B/s, not 10 000/0.
        #expect(sensor.rate(now: 0) == 1000)
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
        sensor.record(20_000, now: 0)
        // Observed 2 000 B/s over 10 s against a 1 000 B/s quota: (2000-1000)/1000 × 10 s = 10 s.
        #expect(sensor.throttleMs(quota: 1000, now: 0) == 10_000)
        #expect(sensor.throttleMs(quota: 4000, now: 0) == 0)
        sensor.record(1_000_000, now: 0)
        #expect(sensor.throttleMs(quota: 1000, now: 0) == 11_000)  // capped at one full window
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
