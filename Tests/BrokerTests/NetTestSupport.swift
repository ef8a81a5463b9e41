// Blocking test clients and a configurable handler for the network server tests.
import Broker
import Glibc
import Synchronization

struct NetTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

func bigEndian32(_ value: Int) -> [UInt8] {
    let v = UInt32(truncatingIfNeeded: value)
    return [UInt8(v >> 24 & 0xff), UInt8(v >> 16 & 0xff), UInt8(v >> 8 & 0xff), UInt8(v & 0xff)]
}

func readBigEndian32(_ bytes: [UInt8], at offset: Int = 0) -> Int {
    Int(UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3]))
}

func framed(_ body: [UInt8]) -> [UInt8] { bigEndian32(body.count) + body }

/// A request body carrying its index, so responses can be checked for order.
func indexedBody(_ index: Int, padding: Int = 0) -> [UInt8] {
    bigEndian32(index) + [UInt8](repeating: UInt8(truncatingIfNeeded: index), count: padding)
}

/// Polls `condition` until it holds or `timeoutMs` passes.
func waitUntil(timeoutMs: Int = 5000, _ condition: () -> Bool) -> Bool {
    var waited = 0
    while waited < timeoutMs {
        if condition() { return true }
        usleep(2000)
        waited += 2
    }
    return condition()
}

func monotonicMs() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}

/// Runs `body` on a fresh OS thread, so tests can complete slots away from the reactor.
func onOtherThread(_ body: @escaping @Sendable () -> Void) {
    final class Box: @unchecked Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    var thread = pthread_t()
    let box = Unmanaged.passRetained(Box(body)).toOpaque()
    let rc = pthread_create(&thread, nil, { raw in
        Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue().body()
        return nil
    }, box)
    precondition(rc == 0, "pthread_create failed")
    pthread_detach(thread)
}

/// A blocking TCP client with a receive timeout, so a broken server fails a test instead of hanging it.
final class NetTestClient: Sendable {  // only an fd; send and recv may run on different threads
    let fd: Int32

    init(port: Int, receiveBufferBytes: Int? = nil, timeoutMs: Int = 5000) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw NetTestError("socket: errno \(errno)") }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        if let size = receiveBufferBytes {
            var v = Int32(size)
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, socklen_t(MemoryLayout<Int32>.size))
        }
        var tv = timeval(tv_sec: timeoutMs / 1000, tv_usec: (timeoutMs % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard rc == 0 else {
            let code = errno
            Glibc.close(fd)
            throw NetTestError("connect: errno \(code)")
        }
    }

    deinit { Glibc.close(fd) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw NetTestError("send: errno \(errno)")
            }
            offset += n
        }
    }

    /// Sends without blocking; returns how many bytes the kernel took (0 when its buffers are full).
    func trySend(_ bytes: [UInt8]) -> Int {
        let n = bytes.withUnsafeBytes {
            Glibc.send(fd, $0.baseAddress!, bytes.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
        }
        return max(0, n)
    }

    func sendFrame(_ body: [UInt8]) throws { try send(framed(body)) }

    func shutdownWrite() { _ = Glibc.shutdown(fd, Int32(SHUT_WR)) }

    /// Reads exactly `count` bytes; nil if the stream ends (EOF or reset) first.
    func readExactly(_ count: Int) throws -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: count)
        var have = 0
        while have < count {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + have, count - have, 0) }
            if n == 0 { return nil }
            if n < 0 {
                let code = errno
                if code == EINTR { continue }
                if code == ECONNRESET { return nil }
                throw NetTestError(code == EAGAIN ? "read timed out" : "recv: errno \(code)")
            }
            have += n
        }
        return buffer
    }

    /// The next response body; nil when the server closed the connection.
    func readFrame() throws -> [UInt8]? {
        guard let prefix = try readExactly(4) else { return nil }
        let size = readBigEndian32(prefix)
        if size == 0 { return [] }
        guard let body = try readExactly(size) else { throw NetTestError("stream ended inside a frame") }
        return body
    }

    /// True when the server closes the connection (EOF or reset) before the timeout, ignoring data.
    func waitForClose() -> Bool {
        var sink = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = sink.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n > 0 { continue }
            if n == 0 { return true }
            if errno == EINTR { continue }
            return errno == ECONNRESET
        }
    }
}

/// A handler whose frame behaviour each test supplies; records what the server reported.
final class RecordingHandler: FrameHandler {
    struct Record {
        var opened: [ConnectionInfo] = []
        var closed: [ConnectionInfo] = []
        var frames = 0
    }

    typealias OnFrame = @Sendable ([UInt8], ConnectionInfo, ResponseSlot) -> Void
    private let onFrame: OnFrame
    private let onOpen: @Sendable (ConnectionInfo) -> Void
    let record = Mutex(Record())

    init(onOpen: @escaping @Sendable (ConnectionInfo) -> Void = { _ in }, onFrame: @escaping OnFrame) {
        self.onOpen = onOpen
        self.onFrame = onFrame
    }

    static func echo() -> RecordingHandler { RecordingHandler { frame, _, slot in slot.complete(frame) } }

    final class Context: ConnectionContext {
        let info: ConnectionInfo
        init(_ info: ConnectionInfo) { self.info = info }
    }

    func connectionOpened(_ connection: ConnectionInfo) -> any ConnectionContext {
        record.withLock { $0.opened.append(connection) }
        onOpen(connection)
        return Context(connection)
    }

    func transportSecured(_ connection: any ConnectionContext, _ security: TransportSecurity) {}

    func handleFrame(_ frame: [UInt8], connection: any ConnectionContext, slot: ResponseSlot) {
        record.withLock { $0.frames += 1 }
        onFrame(frame, connection.info, slot)
    }

    func connectionClosed(_ connection: any ConnectionContext) {
        record.withLock { $0.closed.append(connection.info) }
    }

    var frames: Int { record.withLock { $0.frames } }
    var openedCount: Int { record.withLock { $0.opened.count } }
    var closedCount: Int { record.withLock { $0.closed.count } }
}

/// Slots parked by a handler until the test releases them.
final class SlotStore: Sendable {
    private let slots = Mutex<[(ResponseSlot, [UInt8])]>([])

    func add(_ slot: ResponseSlot, _ frame: [UInt8]) { slots.withLock { $0.append((slot, frame)) } }
    var count: Int { slots.withLock { $0.count } }
    func takeAll() -> [(ResponseSlot, [UInt8])] { slots.withLock { s in defer { s = [] }; return s } }
}

func startServer(_ handler: RecordingHandler, limits: NetLimits = NetLimits()) throws -> NetServer {
    let server = NetServer(listeners: [ListenerAddress(name: "PLAINTEXT", host: "127.0.0.1", port: 0)],
                           limits: limits, handler: handler)
    try server.start()
    return server
}
