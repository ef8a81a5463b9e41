// A small blocking HTTP/1.1 server for control-plane endpoints (the schema registry, metrics).
//
// One accept thread polls every listening socket; each accepted connection gets its own thread
// with blocking reads bounded by an idle timeout, at most `maxConnections` at once (beyond that a
// connection is answered 503 and closed). Requests on a connection are handled in order; the
// handler is called on the connection's thread. Simplicity wins over throughput here: a registry
// sees a few requests per second, and clients cache what it answers.
import Foundation
import Glibc
import Synchronization

/// `http://host:port` or `https://host:port` (an empty host or `0.0.0.0` listens everywhere).
public struct HTTPListenerAddress: Sendable, Equatable, CustomStringConvertible {
    public var scheme: String
    public var host: String
    public var port: Int

    public init(scheme: String, host: String, port: Int) {
        self.scheme = scheme
        self.host = host
        self.port = port
    }

    public var description: String { "\(scheme)://\(host.contains(":") ? "[\(host)]" : host):\(port)" }

    public static func parse(_ text: String) -> Result<HTTPListenerAddress, HTTPServerError> {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let sep = trimmed.range(of: "://") else {
            return .failure(HTTPServerError("listener '\(text)' must look like http://host:port or https://host:port"))
        }
        let scheme = trimmed[..<sep.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else {
            return .failure(HTTPServerError("listener '\(text)': scheme must be http or https"))
        }
        var rest = String(trimmed[sep.upperBound...])
        if rest.hasSuffix("/") { rest.removeLast() }
        let host: String
        let portText: Substring
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]"), rest[rest.index(after: close)...].hasPrefix(":") else {
                return .failure(HTTPServerError("listener '\(text)': bad IPv6 address"))
            }
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            portText = rest[rest.index(close, offsetBy: 2)...]
        } else {
            guard let colon = rest.lastIndex(of: ":") else {
                return .failure(HTTPServerError("listener '\(text)' has no port"))
            }
            host = String(rest[..<colon])
            portText = rest[rest.index(after: colon)...]
        }
        guard let port = Int(portText), (0...65535).contains(port) else {
            return .failure(HTTPServerError("listener '\(text)' has an invalid port"))
        }
        return .success(HTTPListenerAddress(scheme: scheme, host: host, port: port))
    }
}

public struct HTTPServerError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

public struct HTTPServerOptions: Sendable {
    public var limits = HTTPLimits()
    /// Connections served at once; more are answered 503 and closed.
    public var maxConnections = 64
    /// A connection that sends nothing for this long is closed.
    public var idleTimeoutMs = 30_000
    /// Thread-name prefix.
    public var name = "http"
    public init() {}
}

/// Who is on the other end of a request.
public struct HTTPConnectionInfo: Sendable {
    public let remoteHost: String
    public let scheme: String
    public let localPort: Int
}

public typealias HTTPHandler = @Sendable (HTTPRequest, HTTPConnectionInfo) -> HTTPResponse

public final class HTTPServer: Sendable {
    public let listeners: [HTTPListenerAddress]
    let options: HTTPServerOptions
    let transports: [String: HTTPTransportFactory]
    let handler: HTTPHandler

    private struct Shared {
        var listenFds: [Int32] = []
        var ports: [Int] = []
        var connections: Set<Int32> = []
        var threads = 0
    }
    private let shared = Mutex(Shared())
    private let stopping = Atomic<Bool>(false)

    /// `transports` maps a scheme to the factory wrapping accepted sockets; `http` defaults to
    /// plain sockets. A listener whose scheme has no factory makes `start` fail.
    public init(listeners: [HTTPListenerAddress], options: HTTPServerOptions = HTTPServerOptions(),
                transports: [String: HTTPTransportFactory] = [:], handler: @escaping HTTPHandler) {
        self.listeners = listeners
        self.options = options
        var t = transports
        if t["http"] == nil { t["http"] = SocketTransport.factory }
        self.transports = t
        self.handler = handler
    }

    /// Ports actually bound, in listener order (useful with port 0).
    public var boundPorts: [Int] { shared.withLock { $0.ports } }

    public func start() throws(HTTPServerError) {
        for l in listeners where transports[l.scheme] == nil {
            throw HTTPServerError("\(l): \(l.scheme) listeners need a TLS transport, which this build does not provide yet")
        }
        var fds: [Int32] = []
        var ports: [Int] = []
        do {
            for l in listeners {
                let (fd, port) = try HTTPServer.listen(l)
                fds.append(fd)
                ports.append(port)
            }
        } catch {
            for fd in fds { Glibc.close(fd) }
            throw error
        }
        shared.withLock {
            $0.listenFds = fds
            $0.ports = ports
            $0.threads += 1
        }
        let listening = fds
        let thread = Thread { [self] in
            acceptLoop(fds: listening)
            shared.withLock { $0.threads -= 1 }
        }
        thread.name = "\(options.name)-accept"
        thread.start()
    }

    /// Stops accepting, closes every connection (in-flight handlers finish), waits for threads.
    public func shutdown() {
        if stopping.exchange(true, ordering: .acquiringAndReleasing) { return }
        let open = shared.withLock { Array($0.connections) }
        for fd in open { Glibc.shutdown(fd, Int32(SHUT_RDWR)) }
        for _ in 0..<5000 {
            if shared.withLock({ $0.threads }) == 0 { break }
            usleep(1000)
        }
        let fds = shared.withLock { s in
            let f = s.listenFds
            s.listenFds = []
            return f
        }
        for fd in fds { Glibc.close(fd) }
    }

    static func listen(_ address: HTTPListenerAddress) throws(HTTPServerError) -> (Int32, Int) {
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var found: UnsafeMutablePointer<addrinfo>?
        let host = address.host.isEmpty ? nil : address.host
        let rc = getaddrinfo(host, String(address.port), &hints, &found)
        guard rc == 0, let info = found else {
            throw HTTPServerError("\(address): \(rc == 0 ? "no address" : String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(found) }
        let fd = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw HTTPServerError("\(address): socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0, Glibc.listen(fd, 128) == 0 else {
            let why = String(cString: strerror(errno))
            Glibc.close(fd)
            throw HTTPServerError("\(address): cannot listen: \(why)")
        }
        var bound = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, describe(bound).port)
    }

    static func describe(_ storage: sockaddr_storage) -> (host: String, port: Int) {
        var s = storage
        var buffer = [CChar](repeating: 0, count: 64)
        if Int32(s.ss_family) == AF_INET6 {
            return withUnsafePointer(to: &s) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { p in
                    var addr = p.pointee.sin6_addr
                    inet_ntop(AF_INET6, &addr, &buffer, socklen_t(buffer.count))
                    return (cText(buffer), Int(UInt16(bigEndian: p.pointee.sin6_port)))
                }
            }
        }
        return withUnsafePointer(to: &s) {
            $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { p in
                var addr = p.pointee.sin_addr
                inet_ntop(AF_INET, &addr, &buffer, socklen_t(buffer.count))
                return (cText(buffer), Int(UInt16(bigEndian: p.pointee.sin_port)))
            }
        }
    }

    static func cText(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private func acceptLoop(fds: [Int32]) {
        var polls = fds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        while !stopping.load(ordering: .acquiring) {
            let n = poll(&polls, nfds_t(polls.count), 100)
            if n <= 0 { continue }
            for i in polls.indices where polls[i].revents != 0 {
                var peer = sockaddr_storage()
                var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
                let client = withUnsafeMutablePointer(to: &peer) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { accept(fds[i], $0, &length) }
                }
                guard client >= 0 else { continue }
                let info = HTTPConnectionInfo(remoteHost: HTTPServer.describe(peer).host,
                                              scheme: listeners[i].scheme, localPort: boundPorts[i])
                admit(client, info: info)
            }
        }
    }

    private func admit(_ fd: Int32, info: HTTPConnectionInfo) {
        var timeout = timeval(tv_sec: options.idleTimeoutMs / 1000, tv_usec: (options.idleTimeoutMs % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let admitted = shared.withLock { s -> Bool in
            guard s.connections.count < options.maxConnections else { return false }
            s.connections.insert(fd)
            s.threads += 1
            return true
        }
        guard admitted else {
            if info.scheme == "http" {
                let busy = HTTPResponse.text(503, "too many connections").serialized(keepAlive: false)
                _ = busy.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            }
            Glibc.close(fd)
            return
        }
        let thread = Thread { [self] in
            serve(fd, info: info)
            shared.withLock {
                $0.connections.remove(fd)
                $0.threads -= 1
            }
            Glibc.close(fd)
        }
        thread.name = "\(options.name)-conn"
        thread.start()
    }

    private func serve(_ fd: Int32, info: HTTPConnectionInfo) {
        guard let factory = transports[info.scheme], let transport = try? factory(fd) else { return }
        defer { transport.close() }
        var parser = HTTPRequestParser(limits: options.limits)
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while !stopping.load(ordering: .acquiring) {
            do {
                while let request = try parser.next() {
                    let response = handler(request, info)
                    let keepAlive = request.keepAlive && !stopping.load(ordering: .acquiring)
                    try transport.write(response.serialized(keepAlive: keepAlive, headOnly: request.method == "HEAD"))
                    if !keepAlive { return }
                }
                if parser.wantsContinue {
                    try transport.write(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
                    parser.continueSent()
                }
            } catch let error as HTTPParseError {
                try? transport.write(HTTPResponse.text(error.status, error.message).serialized(keepAlive: false))
                return
            } catch {
                return
            }
            let n: Int
            do {
                n = try transport.read(into: &chunk)
            } catch {
                return
            }
            if n == 0 {
                if parser.bufferedCount > 0 {
                    try? transport.write(HTTPResponse.text(400, "connection closed mid-request").serialized(keepAlive: false))
                }
                return
            }
            parser.append(chunk[0..<n])
        }
    }
}
