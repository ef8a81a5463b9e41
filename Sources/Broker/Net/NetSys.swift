// Thin wrappers over the Linux calls the network layer needs. Kept free of policy: the reactor and
// acceptor decide what an errno means for a connection.
import CShims
import Glibc

enum NetSys {
    // Linux epoll ABI values, spelled out because Glibc imports them as an enum whose raw type varies.
    static let epollIn: UInt32 = 0x001
    static let epollOut: UInt32 = 0x004
    static let epollErr: UInt32 = 0x008
    static let epollHup: UInt32 = 0x010
    static let epollRdHup: UInt32 = 0x2000
    static let epollEdge: UInt32 = 1 << 31

    static var errnoValue: Int32 { errno }

    static func describe(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "errno \(code)" }
        return String(cString: text)
    }

    /// Milliseconds on the monotonic clock: idle and grace deadlines must not jump with wall time.
    static func monotonicMs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    static func closeQuietly(_ fd: Int32) {
        if fd >= 0 { _ = Glibc.close(fd) }
    }

    static func setInt(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) -> Bool {
        var v = value
        return setsockopt(fd, level, name, &v, socklen_t(MemoryLayout<Int32>.size)) == 0
    }

    static func makeEventFD() -> Int32 {
        eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC))
    }

    /// Adds one to an eventfd; a full counter (EAGAIN) still leaves it readable, so errors are moot.
    static func signal(eventFD fd: Int32) {
        var one: UInt64 = 1
        _ = withUnsafeBytes(of: &one) { Glibc.write(fd, $0.baseAddress, 8) }
    }

    static func drain(eventFD fd: Int32) {
        var value: UInt64 = 0
        _ = withUnsafeMutableBytes(of: &value) { Glibc.read(fd, $0.baseAddress, 8) }
    }

    /// "host:port" for IPv4, "[host]:port" for IPv6, the bare host and the port, from a peer or
    /// local address.
    static func describe(address storage: sockaddr_storage) -> (address: String, host: String, port: Int) {
        var storage = storage
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        let family = Int32(storage.ss_family)
        let port: Int = withUnsafePointer(to: &storage) { raw in
            switch family {
            case AF_INET:
                return raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                    var addr = sin.pointee.sin_addr
                    inet_ntop(AF_INET, &addr, &text, socklen_t(text.count))
                    return Int(UInt16(bigEndian: sin.pointee.sin_port))
                }
            case AF_INET6:
                return raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin6 in
                    var addr = sin6.pointee.sin6_addr
                    inet_ntop(AF_INET6, &addr, &text, socklen_t(text.count))
                    return Int(UInt16(bigEndian: sin6.pointee.sin6_port))
                }
            default:
                return -1
            }
        }
        guard port >= 0 else { return ("unknown", "unknown", 0) }
        let host = text.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return (family == AF_INET6 ? "[\(host)]:\(port)" : "\(host):\(port)", host, port)
    }

    /// Starts a joinable OS thread. Reactors need real threads (they block in epoll_wait), not tasks.
    static func spawnThread(name: String, _ body: @escaping @Sendable () -> Void) throws(NetError) -> pthread_t {
        final class Box: @unchecked Sendable {  // handed to exactly one new thread, then released there
            let name: String
            let body: @Sendable () -> Void
            init(name: String, body: @escaping @Sendable () -> Void) { self.name = name; self.body = body }
        }
        let box = Unmanaged.passRetained(Box(name: name, body: body)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            // Linux limits thread names to 15 bytes; a name only helps debugging, so failure is fine.
            sluice_set_thread_name(String(box.name.prefix(15)))
            box.body()
            return nil
        }, box)
        if rc != 0 {
            Unmanaged<AnyObject>.fromOpaque(box).release()
            throw NetError.system(call: "pthread_create", errno: rc)
        }
        return thread
    }

    static func join(_ thread: pthread_t) {
        _ = pthread_join(thread, nil)
    }
}
