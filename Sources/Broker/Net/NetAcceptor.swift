// Listening sockets and the accept loop.
//
// Accepting runs on its own thread rather than inside the reactors: accepts are rare next to reads
// and writes, a dedicated thread gives exact round-robin without the reactors contending on shared
// listening sockets (EPOLLEXCLUSIVE still wakes whichever reactor is idle, not the next in turn),
// and it keeps accept latency independent of how busy any reactor is. It sleeps in epoll_wait.
import CShims
import Glibc
import Synchronization

/// A bound, listening, non-blocking socket.
struct NetListener: Sendable {
    let fd: Int32
    let address: ListenerAddress
    let port: Int

    static func open(_ address: ListenerAddress, limits: NetLimits) throws(NetError) -> NetListener {
        guard (0...65535).contains(address.port) else {
            throw .badAddress(host: address.host, port: address.port, reason: "port out of range")
        }
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var found: UnsafeMutablePointer<addrinfo>?
        let host = address.host.isEmpty ? nil : address.host
        let rc = getaddrinfo(host, String(address.port), &hints, &found)
        guard rc == 0, let info = found else {
            let reason = rc == 0 ? "no address" : String(cString: gai_strerror(rc))
            throw .badAddress(host: address.host, port: address.port, reason: reason)
        }
        defer { freeaddrinfo(found) }
        let fd = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .system(call: "socket", errno: errno) }
        func fail(_ call: String) -> NetError {
            let code = errno
            NetSys.closeQuietly(fd)
            return .system(call: call, errno: code)
        }
        guard NetSys.setInt(fd, SOL_SOCKET, SO_REUSEADDR, 1) else { throw fail("setsockopt(SO_REUSEADDR)") }
        // Set on the listener so accepted sockets inherit them; the receive buffer must be set
        // before the handshake for the window scale to match.
        if limits.socketSendBufferBytes > 0,
           !NetSys.setInt(fd, SOL_SOCKET, SO_SNDBUF, Int32(clamping: limits.socketSendBufferBytes)) {
            throw fail("setsockopt(SO_SNDBUF)")
        }
        if limits.socketReceiveBufferBytes > 0,
           !NetSys.setInt(fd, SOL_SOCKET, SO_RCVBUF, Int32(clamping: limits.socketReceiveBufferBytes)) {
            throw fail("setsockopt(SO_RCVBUF)")
        }
        guard bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else { throw fail("bind") }
        guard listen(fd, SOMAXCONN) == 0 else { throw fail("listen") }
        var bound = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw fail("getsockname") }
        return NetListener(fd: fd, address: address, port: NetSys.describe(address: bound).port)
    }
}

/// Accepts connections and deals them round-robin to the reactors.
/// Owning thread: the acceptor thread; `stop()` may be called from any thread.
final class NetAcceptor: @unchecked Sendable {
    private let listeners: [NetListener]
    private let reactors: [NetReactor]
    private let admission: ConnectionAdmission
    private let epollFD: Int32
    private let stopFD: Int32
    private let stopped = Atomic<Bool>(false)
    private static let stopToken = UInt64.max
    /// Acceptor-thread state (hence `@unchecked Sendable`: other threads only call `stop`): when
    /// each listener may accept again after a connection limit paused it; 0 = not paused.
    private var pausedUntilMs: [Int64]

    init(listeners: [NetListener], reactors: [NetReactor], admission: ConnectionAdmission) throws(NetError) {
        self.listeners = listeners
        self.reactors = reactors
        self.admission = admission
        pausedUntilMs = Array(repeating: 0, count: listeners.count)
        let ep = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard ep >= 0 else { throw .system(call: "epoll_create1", errno: errno) }
        let stop = NetSys.makeEventFD()
        guard stop >= 0 else {
            let code = errno
            NetSys.closeQuietly(ep)
            throw .system(call: "eventfd", errno: code)
        }
        epollFD = ep
        stopFD = stop
        var ok = sluice_epoll_ctl(ep, EPOLL_CTL_ADD, stop, NetSys.epollIn, Self.stopToken) == 0
        for (i, listener) in listeners.enumerated() where ok {
            ok = sluice_epoll_ctl(ep, EPOLL_CTL_ADD, listener.fd, NetSys.epollIn, UInt64(i)) == 0
        }
        if !ok {
            let code = errno
            NetSys.closeQuietly(ep)
            NetSys.closeQuietly(stop)
            throw .system(call: "epoll_ctl", errno: code)
        }
    }

    deinit {
        NetSys.closeQuietly(epollFD)
        NetSys.closeQuietly(stopFD)
    }

    /// Connection ids start at 1; id n goes to reactor (n - 1) mod count, so anyone holding an id
    /// can find the owning reactor without a lookup table.
    static func reactorIndex(for id: UInt64, reactorCount: Int) -> Int {
        Int((id &- 1) % UInt64(reactorCount))
    }

    func stop() {
        if !stopped.exchange(true, ordering: .acquiringAndReleasing) { NetSys.signal(eventFD: stopFD) }
    }

    func run() {
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: 16)
        defer { events.deallocate() }
        var nextID: UInt64 = 1
        loop: while !stopped.load(ordering: .acquiring) {
            var timeout: Int64 = -1
            let now = NetSys.monotonicMs()
            for (i, until) in pausedUntilMs.enumerated() where until > 0 {
                if until <= now {
                    resume(i)
                } else {
                    timeout = timeout < 0 ? until - now : min(timeout, until - now)
                }
            }
            let count = epoll_wait(epollFD, events, 16, Int32(clamping: timeout))
            if count < 0 { continue }  // EINTR
            for i in 0..<Int(count) {
                let token = sluice_epoll_event_data(events + i)
                if token == Self.stopToken { break loop }
                acceptAll(Int(token), nextID: &nextID)
            }
        }
        // Closing the listeners here (not at stop()) keeps the fds valid for the loop above.
        for listener in listeners { NetSys.closeQuietly(listener.fd) }
    }

    /// Leaves a listener's new connections in the backlog for `ms` (a connection limit).
    private func pause(_ index: Int, forMs ms: Int64) {
        pausedUntilMs[index] = NetSys.monotonicMs() + max(1, ms)
        _ = sluice_epoll_ctl(epollFD, EPOLL_CTL_MOD, listeners[index].fd, 0, UInt64(index))
    }

    private func resume(_ index: Int) {
        pausedUntilMs[index] = 0
        _ = sluice_epoll_ctl(epollFD, EPOLL_CTL_MOD, listeners[index].fd, NetSys.epollIn, UInt64(index))
    }

    private func acceptAll(_ index: Int, nextID: inout UInt64) {
        let listener = listeners[index]
        while true {
            let wait = admission.acceptWait(listener: listener.address.name, nowMs: NetSys.monotonicMs())
            if wait > 0 { return pause(index, forMs: wait) }
            var peer = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let fd = withUnsafeMutablePointer(to: &peer) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sluice_accept4(listener.fd, $0, &length, Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue))
                }
            }
            if fd < 0 {
                switch errno {
                case EINTR, ECONNABORTED, EPROTO: continue
                case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                    // Out of descriptors or memory: the listener stays readable, so pause instead
                    // of spinning; pending clients wait in the backlog.
                    usleep(20_000)
                    return
                default: return  // EAGAIN: backlog empty
                }
            }
            _ = NetSys.setInt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
            let id = nextID
            nextID += 1
            let (peerAddress, peerHost, _) = NetSys.describe(address: peer)
            let info = ConnectionInfo(id: id, peerAddress: peerAddress, peerHost: peerHost,
                                      listenerName: listener.address.name, listenerPort: listener.port)
            if admission.admit(info, nowMs: NetSys.monotonicMs()) != nil {
                // Over the per-address limit: closed at once, as Kafka does.
                NetSys.closeQuietly(fd)
                continue
            }
            let reactor = reactors[Self.reactorIndex(for: id, reactorCount: reactors.count)]
            if !reactor.post(.adopt(fd: fd, info: info, tls: listener.address.tls)) {
                NetSys.closeQuietly(fd)
                admission.release(info)
            }
        }
    }
}
