import Foundation
import Synchronization

/// A request parked until a condition holds or its deadline passes (Kafka's "delayed operation"):
/// long-poll fetches now, acks=all produce once there are followers.
///
/// `tryComplete` is called from whichever thread appended to a watched partition; `onExpire` from
/// the purgatory's timer thread. The `phase` flag makes sure exactly one of them answers.
public final class DelayedOperation: Sendable {
    let deadline: UInt64  // monotonic nanoseconds
    let watchKeys: [PartitionKey]
    /// idle → checking → (idle | done); a caller arriving during a check marks it dirty so the
    /// checker looks again (no wake-up is lost when data lands mid-check).
    private let phase = Atomic<UInt8>(Phase.idle)
    /// Answers the request if it can (or must, when `forced`); returns whether it answered.
    private let attempt: @Sendable (_ forced: Bool) -> Bool

    enum Phase {
        static let idle: UInt8 = 0
        static let checking: UInt8 = 1
        static let dirty: UInt8 = 2
        static let done: UInt8 = 3
    }

    public init(deadline: UInt64, watchKeys: [PartitionKey], attempt: @escaping @Sendable (_ forced: Bool) -> Bool) {
        self.deadline = deadline
        self.watchKeys = watchKeys
        self.attempt = attempt
    }

    public var isCompleted: Bool { phase.load(ordering: .acquiring) == Phase.done }

    /// Gives the operation a chance to answer; only one thread checks at a time.
    func run(forced: Bool) -> Bool {
        while true {
            let current = phase.load(ordering: .acquiring)
            switch current {
            case Phase.done:
                return true
            case Phase.checking, Phase.dirty:
                if forced {
                    sched_yield()
                    continue
                }
                if current == Phase.dirty { return false }
                if phase.compareExchange(expected: Phase.checking, desired: Phase.dirty,
                                         ordering: .acquiringAndReleasing).exchanged { return false }
                continue
            default:
                guard phase.compareExchange(expected: Phase.idle, desired: Phase.checking,
                                            ordering: .acquiringAndReleasing).exchanged else { continue }
            }
            while true {
                if attempt(forced) {
                    phase.store(Phase.done, ordering: .releasing)
                    return true
                }
                if phase.compareExchange(expected: Phase.checking, desired: Phase.idle,
                                         ordering: .acquiringAndReleasing).exchanged { return false }
                phase.store(Phase.checking, ordering: .releasing)  // was dirty: look again
            }
        }
    }
}

/// Identifies a partition for watch lists without string concatenation on the hot path.
public struct PartitionKey: Hashable, Sendable {
    public let topic: String
    public let partition: Int32
    public init(_ topic: String, _ partition: Int32) {
        self.topic = topic
        self.partition = partition
    }
}

/// Watch lists per partition plus one timer thread for deadlines.
public final class Purgatory: Sendable {
    private struct State {
        var watchers: [PartitionKey: [DelayedOperation]] = [:]
        var timers: [DelayedOperation] = []  // unsorted; scanned on each timer wake (few parked ops)
        var stopped = false
    }

    private let state = Mutex(State())
    private let wakeup = NSCondition()

    public init() {}

    public func start() {
        let t = Thread { [self] in self.timerLoop() }
        t.name = "purgatory-timer"
        t.start()
    }

    public func stop() {
        state.withLock { $0.stopped = true }
        wakeup.lock()
        wakeup.broadcast()
        wakeup.unlock()
    }

    /// Parks `operation` unless it can complete right away.
    public func park(_ operation: DelayedOperation) {
        if operation.run(forced: false) { return }
        state.withLock { s in
            for key in operation.watchKeys { s.watchers[key, default: []].append(operation) }
            s.timers.append(operation)
        }
        // Data may have arrived between the first check and registration: check once more.
        if operation.run(forced: false) { removeCompleted() }
        wakeup.lock()
        wakeup.signal()
        wakeup.unlock()
    }

    /// Called after an append to `key`: gives every operation watching it a chance to complete.
    public func checkWatchers(_ key: PartitionKey) {
        let candidates: [DelayedOperation] = state.withLock { s in
            guard let list = s.watchers[key], !list.isEmpty else { return [] }
            return list
        }
        if candidates.isEmpty { return }
        var anyCompleted = false
        for op in candidates where op.run(forced: false) { anyCompleted = true }
        if anyCompleted { removeCompleted() }
    }

    public var parkedCount: Int { state.withLock { $0.timers.count } }

    private func removeCompleted() {
        state.withLock { s in
            s.timers.removeAll { $0.isCompleted }
            for (key, list) in s.watchers {
                let kept = list.filter { !$0.isCompleted }
                s.watchers[key] = kept.isEmpty ? nil : kept
            }
        }
    }

    private func timerLoop() {
        while true {
            let now = DispatchTime.now().uptimeNanoseconds
            let (expired, next, stopped): ([DelayedOperation], UInt64?, Bool) = state.withLock { s in
                let due = s.timers.filter { $0.deadline <= now || s.stopped }
                let later = s.timers.filter { $0.deadline > now && !$0.isCompleted }.map(\.deadline).min()
                return (due, later, s.stopped)
            }
            for op in expired { _ = op.run(forced: true) }
            if !expired.isEmpty { removeCompleted() }
            if stopped { return }
            wakeup.lock()
            let waitNs = next.map { $0 > now ? $0 - now : 0 } ?? 100_000_000
            _ = wakeup.wait(until: Date(timeIntervalSinceNow: Double(min(waitNs, 100_000_000)) / 1e9))
            wakeup.unlock()
        }
    }
}
