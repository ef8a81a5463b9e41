import Foundation
import Glibc

/// A minimal blocking HTTP/1.1 client (one request per connection, `http://` only) for the CLI
/// and tests. Responses must carry Content-Length or end at close.
public enum HTTPClient {
    public struct Reply: Sendable {
        public let status: Int
        public let headers: [(name: String, value: String)]
        public let body: [UInt8]
        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    public static func send(_ method: String, url: String, headers: [(String, String)] = [], body: [UInt8]? = nil,
                            timeoutMs: Int = 30_000) throws(HTTPTransportError) -> Reply {
        guard url.hasPrefix("http://") else { throw HTTPTransportError("only http:// URLs are supported: \(url)") }
        let rest = url.dropFirst("http://".count)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = String(rest[..<slash])
        let path = slash == rest.endIndex ? "/" : String(rest[slash...])
        let parsed = HTTPListenerAddress.parse("http://" + authority)
        guard case .success(let address) = parsed else { throw HTTPTransportError("bad URL \(url)") }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var found: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(address.host, String(address.port), &hints, &found) == 0, let info = found else {
            throw HTTPTransportError("cannot resolve \(address.host)")
        }
        defer { freeaddrinfo(found) }
        let fd = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw HTTPTransportError("socket: \(String(cString: strerror(errno)))") }
        defer { Glibc.close(fd) }
        var timeout = timeval(tv_sec: timeoutMs / 1000, tv_usec: (timeoutMs % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            throw HTTPTransportError("cannot connect to \(authority): \(String(cString: strerror(errno)))")
        }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(authority)\r\nConnection: close\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        if let body { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        let transport = SocketTransport(fd: fd)
        try transport.write(Array(head.utf8) + (body ?? []))
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let n = try transport.read(into: &chunk)
            if n == 0 { break }
            data += chunk[0..<n]
            if let reply = parse(data) { return reply }
        }
        guard let reply = parse(data, atEOF: true) else { throw HTTPTransportError("malformed HTTP response") }
        return reply
    }

    static func parse(_ data: [UInt8], atEOF: Bool = false) -> Reply? {
        guard let end = HTTPRequestParser.find([13, 10, 13, 10], in: data, from: 0, limit: data.count) else { return nil }
        let lines = String(decoding: data[0..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { return nil }
        var headers: [(String, String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append((line[..<colon].lowercased(), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        let bodyStart = end + 4
        if let cl = headers.first(where: { $0.0 == "content-length" }).flatMap({ Int($0.1) }) {
            guard data.count - bodyStart >= cl else { return nil }
            return Reply(status: status, headers: headers, body: Array(data[bodyStart..<(bodyStart + cl)]))
        }
        return atEOF ? Reply(status: status, headers: headers, body: Array(data[bodyStart...])) : nil
    }
}
