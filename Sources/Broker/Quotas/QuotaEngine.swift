// Kafka-style rate quotas, sans-I/O: every call takes `now` (monotonic ms), so tests drive time.
//
// A rate is measured over sampled windows (Kafka's `quota.window.num` samples of
// `quota.window.size.seconds` each, 11 × 1 s by default). Recording adds to the current sample;
// a sample older than the whole window is recycled. The measured rate is the samples' total over
// the elapsed window (Kafka's `Rate` with `SampledStat`), counted as at least one sample length.
//
// Deliberate difference from Kafka: Kafka counts the elapsed window as at least (samples − 1)
// sample lengths, which lets a fresh client burst ten seconds' worth of quota at once; that burst
// stays in one sample, and when the sample expires 11 s later the whole allowance is released
// again, so a greedy client oscillates between bursts and near-silence. With a one-sample minimum
// a fresh client gets at most about one second's worth, the samples fill evenly, and the rate over
// any 10 s stays near the quota.
//
// Throttle time (KIP-13, KIP-124): when the measured rate exceeds the quota,
// `(observed − quota) / quota × window`, i.e. how long the client must stay quiet for the rate over
// the window to fall back to the quota; capped at `maxThrottleMs`.

/// Window shape shared by every sensor. A value.
public struct QuotaWindowConfig: Sendable, Hashable {
    /// Number of samples (`quota.window.num`).
    public var samples: Int
    /// Length of one sample in ms (`quota.window.size.seconds` × 1000).
    public var sampleMs: Int64

    public init(samples: Int = 11, sampleMs: Int64 = 1000) {
        self.samples = max(2, samples)
        self.sampleMs = max(1, sampleMs)
    }

    /// The longest throttle handed out: one full window.
    public var maxThrottleMs: Int64 { Int64(samples) * sampleMs }
}

/// One measured quantity (bytes, or ms of request time) over sampled windows. A value type; the
/// owner serializes access.
public struct RateSensor: Sendable {
    private struct Sample: Sendable {
        var startMs: Int64
        var total: Double
    }

    private var samples: [Sample] = []
    private var current = 0
    public let config: QuotaWindowConfig
    /// Everything ever recorded (for `_total` counters).
    public private(set) var lifetimeTotal: Double = 0

    public init(config: QuotaWindowConfig) { self.config = config }

    public mutating func record(_ value: Double, now: Int64) {
        lifetimeTotal += value
        advance(now)
        samples[current].total += value
    }

    /// Units per second over the sampled window.
    public mutating func rate(now: Int64) -> Double {
        advance(now)
        let windowMs = Int64(config.samples) * config.sampleMs
        var total = 0.0
        var oldest = now
        for sample in samples where now - sample.startMs < windowMs {
            total += sample.total
            oldest = min(oldest, sample.startMs)
        }
        let elapsed = max(now - oldest, config.sampleMs)
        return total * 1000 / Double(max(1, elapsed))
    }

    /// The elapsed window the rate is measured over, in ms (what the throttle formula multiplies by).
    public func windowMs(now: Int64) -> Int64 {
        let windowMs = Int64(config.samples) * config.sampleMs
        var oldest = now
        for sample in samples where now - sample.startMs < windowMs { oldest = min(oldest, sample.startMs) }
        return max(now - oldest, config.sampleMs)
    }

    /// Kafka's throttle: zero within the quota, else `(rate − quota) / quota × window`, capped.
    public mutating func throttleMs(quota: Double, now: Int64) -> Int64 {
        guard quota > 0 else { return 0 }
        let observed = rate(now: now)
        guard observed > quota else { return 0 }
        let ms = (observed - quota) / quota * Double(windowMs(now: now))
        return min(config.maxThrottleMs, Int64(ms.rounded(.up)))
    }

    private mutating func advance(_ now: Int64) {
        if samples.isEmpty {
            samples.append(Sample(startMs: now, total: 0))
            current = 0
            return
        }
        if now - samples[current].startMs < config.sampleMs { return }
        // Start a new sample, recycling the oldest once all slots exist.
        let windowMs = Int64(config.samples) * config.sampleMs
        if samples.count < config.samples {
            samples.append(Sample(startMs: now, total: 0))
            current = samples.count - 1
        } else {
            current = (current + 1) % samples.count
            samples[current] = Sample(startMs: now, total: 0)
        }
        // Samples that fell out of the window count nothing.
        for k in samples.indices where now - samples[k].startMs >= windowMs { samples[k].total = 0 }
    }
}

/// The rate limits one quota entity (a tenant, or a principal inside it) is held to; nil = none.
public struct RateLimits: Sendable, Hashable {
    /// Produce bytes per second (`producer_byte_rate`).
    public var produceBytesPerSecond: Double?
    /// Fetch bytes per second (`consumer_byte_rate`).
    public var fetchBytesPerSecond: Double?
    /// Request handling time as a percentage of one thread (`request_percentage`).
    public var requestPercentage: Double?

    public init(produceBytesPerSecond: Double? = nil, fetchBytesPerSecond: Double? = nil,
                requestPercentage: Double? = nil) {
        self.produceBytesPerSecond = produceBytesPerSecond
        self.fetchBytesPerSecond = fetchBytesPerSecond
        self.requestPercentage = requestPercentage
    }

    public var isEmpty: Bool { produceBytesPerSecond == nil && fetchBytesPerSecond == nil && requestPercentage == nil }
}

/// What a request is charged for.
public enum QuotaKind: Sendable, Hashable, CaseIterable {
    case produce, fetch, requestTime
}

/// Per-entity sensors plus lifetime counters; sans-I/O (the broker wraps it in a Mutex).
public struct QuotaEngine: Sendable {
    public struct Usage: Sendable, Hashable {
        public var bytesIn: Double = 0
        public var bytesOut: Double = 0
        public var requestTimeMs: Double = 0
        public var throttleTimeMs: Double = 0
        public var bytesInRate: Double = 0
        public var bytesOutRate: Double = 0
        public var requestPercentage: Double = 0
    }

    struct Entity: Sendable {
        var produce: RateSensor
        var fetch: RateSensor
        var requestTime: RateSensor
        var throttleTotalMs: Double = 0

        init(_ config: QuotaWindowConfig) {
            produce = RateSensor(config: config)
            fetch = RateSensor(config: config)
            requestTime = RateSensor(config: config)
        }
    }

    public let config: QuotaWindowConfig
    private var entities: [String: Entity] = [:]

    public init(config: QuotaWindowConfig = QuotaWindowConfig()) { self.config = config }

    /// Records `amount` (bytes, or ms for `.requestTime`) against `entity` and returns the throttle
    /// time in ms that `limits` call for (0 within quota). Recording happens whether or not a
    /// limit is set, so usage is visible for unlimited entities too.
    public mutating func record(_ kind: QuotaKind, amount: Double, entity: String, limits: RateLimits,
                                now: Int64) -> Int64 {
        var e = entities[entity] ?? Entity(config)
        let throttle: Int64
        switch kind {
        case .produce:
            e.produce.record(amount, now: now)
            throttle = limits.produceBytesPerSecond.map { e.produce.throttleMs(quota: $0, now: now) } ?? 0
        case .fetch:
            e.fetch.record(amount, now: now)
            throttle = limits.fetchBytesPerSecond.map { e.fetch.throttleMs(quota: $0, now: now) } ?? 0
        case .requestTime:
            e.requestTime.record(amount, now: now)
            // A percentage of one thread: ms per second / 10.
            throttle = limits.requestPercentage.map { e.requestTime.throttleMs(quota: $0 * 10, now: now) } ?? 0
        }
        entities[entity] = e
        return throttle
    }

    /// Adds a throttle that was handed out (for the `throttle_time_ms_total` counter).
    public mutating func noteThrottle(_ ms: Int64, entity: String) {
        guard ms > 0 else { return }
        var e = entities[entity] ?? Entity(config)
        e.throttleTotalMs += Double(ms)
        entities[entity] = e
    }

    public mutating func usage(of entity: String, now: Int64) -> Usage {
        guard var e = entities[entity] else { return Usage() }
        var u = Usage()
        u.bytesIn = e.produce.lifetimeTotal
        u.bytesOut = e.fetch.lifetimeTotal
        u.requestTimeMs = e.requestTime.lifetimeTotal
        u.throttleTimeMs = e.throttleTotalMs
        u.bytesInRate = e.produce.rate(now: now)
        u.bytesOutRate = e.fetch.rate(now: now)
        u.requestPercentage = e.requestTime.rate(now: now) / 10
        entities[entity] = e
        return u
    }

    public var entityNames: [String] { entities.keys.sorted() }
}
