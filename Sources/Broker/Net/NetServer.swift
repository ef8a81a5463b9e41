// The Kafka-framing TCP server: listeners, an acceptor thread and reactor threads.
import Glibc
import Synchronization

/// An event-driven server for size-prefixed frames. Its methods may be called from any thread;
/// connection work happens on the reactor threads it starts (see `FrameHandler`).
public final class NetServer: Sendable {
    private enum Phase { case idle, running, stopped }

    private struct State {
        var phase = Phase.idle
        var ports: [Int] = []
        var reactors: [NetReactor] = []
        var reactorThreads: [pthread_t] = []
        var acceptor: NetAcceptor?
        var acceptorThread: pthread_t?
    }

    public let listeners: [ListenerAddress]
    public let limits: NetLimits
    /// Kafka's connection limits (`max.connections`, per address, creation rates).
    public let admission: ConnectionAdmission
    private let handler: any FrameHandler
    private let state = Mutex(State())

    public init(listeners: [ListenerAddress], limits: NetLimits = NetLimits(),
                admission: ConnectionAdmission = ConnectionAdmission(), handler: any FrameHandler) {
        self.listeners = listeners
        self.admission = admission
        var limits = limits
        limits.reactorThreads = max(1, limits.reactorThreads)
        limits.maxInFlightPerConnection = max(1, limits.maxInFlightPerConnection)
        self.limits = limits
        self.handler = handler
    }

    deinit {
        shutdown(gracePeriodMs: 0)
    }

    /// Binds every listener (SO_REUSEADDR), then starts the reactor and acceptor threads.
    /// Throws if any listener cannot be opened; nothing is left running then.
    public func start() throws(NetError) {
        try state.withLock { (s: inout State) throws(NetError) in
            guard s.phase == .idle else { throw NetError.invalidState("a NetServer starts at most once") }
            var opened: [NetListener] = []
            var reactors: [NetReactor] = []
            var threads: [pthread_t] = []
            do throws(NetError) {
                for address in listeners { opened.append(try NetListener.open(address, limits: limits)) }
                for i in 0..<limits.reactorThreads {
                    reactors.append(try NetReactor(index: i, limits: limits, handler: handler, admission: admission))
                }
                let acceptor = try NetAcceptor(listeners: opened, reactors: reactors, admission: admission)
                for reactor in reactors {
                    threads.append(try NetSys.spawnThread(name: "sluice-net-\(reactor.index)") { reactor.run() })
                }
                s.acceptorThread = try NetSys.spawnThread(name: "sluice-accept") { acceptor.run() }
                s.acceptor = acceptor
            } catch {
                // The acceptor thread never ran, so the listeners are still ours to close.
                for listener in opened { NetSys.closeQuietly(listener.fd) }
                let now = NetSys.monotonicMs()
                for reactor in reactors { reactor.post(.drain(deadlineMs: now)) }
                for thread in threads { NetSys.join(thread) }
                throw error
            }
            s.reactorThreads = threads
            s.ports = opened.map(\.port)
            s.reactors = reactors
            s.phase = .running
        }
    }

    /// The ports actually bound, in listener order (useful with port 0). Empty before `start`.
    public var boundPorts: [Int] { state.withLock { $0.ports } }

    /// Sets a per-connection frame limit (e.g. the small pre-authentication limit). Applies to frames
    /// whose size prefix has not been read yet; immediate when called on the connection's reactor
    /// thread (as from `connectionOpened` or `handleFrame`).
    public func setMaxFrameBytes(_ bytes: Int, for connection: ConnectionInfo) {
        guard let reactors = state.withLock({ $0.phase == .running ? $0.reactors : nil }) else { return }
        let reactor = reactors[NetAcceptor.reactorIndex(for: connection.id, reactorCount: reactors.count)]
        if reactor.isCurrentThread {
            reactor.applyMaxFrameBytes(bytes, connection: connection.id)
        } else {
            reactor.post(.maxFrameBytes(connection: connection.id, bytes: bytes))
        }
    }

    /// Stops accepting and reading, waits up to `gracePeriodMs` for in-flight requests to complete
    /// and their responses to flush, closes every connection and joins all threads. Later calls do
    /// nothing. Called on a reactor thread, it returns without waiting for that one reactor.
    public func shutdown(gracePeriodMs: Int64) {
        let taken = state.withLock { s -> State? in
            defer { s.phase = .stopped }
            guard s.phase == .running else { return nil }
            let copy = s
            s.reactors = []
            s.reactorThreads = []
            s.acceptor = nil
            s.acceptorThread = nil
            return copy
        }
        guard let s = taken else { return }
        let me = pthread_self()
        s.acceptor?.stop()
        if let thread = s.acceptorThread { NetSys.join(thread) }
        let deadline = NetSys.monotonicMs() + max(0, gracePeriodMs)
        for reactor in s.reactors { reactor.post(.drain(deadlineMs: deadline)) }
        for thread in s.reactorThreads where pthread_equal(thread, me) == 0 { NetSys.join(thread) }
    }
}

/// Process-wide termination signal handling for `sluice serve`. Call `blockTerminationSignals` on
/// the main thread before any other thread starts (threads inherit the mask), then park the main
/// thread in `waitForTermination`.
public enum SignalWaiter {
    private static func terminationSet() -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGTERM)
        sigaddset(&set, SIGINT)
        return set
    }

    public static func blockTerminationSignals() {
        var set = terminationSet()
        _ = pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Blocks until SIGTERM or SIGINT arrives and returns its number.
    public static func waitForTermination() -> Int32 {
        var set = terminationSet()
        var received: Int32 = 0
        while true {
            if sigwait(&set, &received) == 0 { return received }
        }
    }
}
