import Foundation
import KafkaProtocol
import Security
import TLS

/// Why a client call failed.
public enum ClientError: Error, CustomStringConvertible, Sendable {
    case connect(String)
    case io(String)
    case closed
    case decode(DecodeError)
    case unsupported(String)
    case kafka(KafkaError, String)

    public var description: String {
        switch self {
        case .connect(let m): return "cannot connect: \(m)"
        case .io(let m): return "I/O error: \(m)"
        case .closed: return "connection closed by the broker"
        case .decode(let e): return "malformed response: \(e)"
        case .unsupported(let m): return "unsupported: \(m)"
        case .kafka(let code, let m): return m.isEmpty ? "\(code)" : "\(code): \(m)"
        }
    }
}

/// One blocking TCP connection to a broker speaking the Kafka protocol through the same generated
/// codecs as the broker. Requests may be pipelined: `send` several, then `receive` their answers
/// in order. Not thread-safe: one owner at a time.
public final class KafkaConnection {
    private let fd: Int32
    private var readBuffer = [UInt8]()
    /// Bytes before this index in `readBuffer` are consumed; compacted lazily.
    private var readStart = 0
    private var chunk = [UInt8](repeating: 0, count: 256 * 1024)
    private var nextCorrelationId: Int32 = 1
    public let clientId: String
    /// Highest version per API key that both sides support (after `negotiate`).
    public private(set) var versions: [Int16: Int16] = [:]
    private var pending: [(correlationId: Int32, apiKey: Int16, version: Int16)] = []
    /// Set on SSL/SASL_SSL connections: every byte goes through it.
    private var tls: TLSStream?

    public init(host: String, port: Int, clientId: String = "sluice-cli", timeoutSeconds: Int = 30,
                security: ClientSecurity = ClientSecurity()) throws(ClientError) {
        self.clientId = clientId
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var result: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &result)
        guard rc == 0, let first = result else {
            throw .connect("\(host):\(port): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(result) }
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        var socketFd: Int32 = -1
        var lastError: Int32 = 0
        while let info = cursor {
            let s = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            if s >= 0 {
                if connect(s, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 {
                    socketFd = s
                    break
                }
                lastError = errno
                close(s)
            }
            cursor = info.pointee.ai_next
        }
        guard socketFd >= 0 else { throw .connect("\(host):\(port): \(String(cString: strerror(lastError)))") }
        fd = socketFd
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        readBuffer.reserveCapacity(64 * 1024)
        if security.usesTLS {
            do {
                let stream = try TLSStream(context: try security.tlsContext(), fd: fd, serverName: host)
                if case .failed(let why) = stream.handshake() { throw ClientError.connect("TLS handshake with \(host):\(port): \(why)") }
                tls = stream
            } catch let error as ClientError {
                throw error
            } catch {
                throw .connect("TLS: \(error)")
            }
        }
    }

    /// SaslHandshake v1 and SaslAuthenticate rounds (after `negotiate`).
    public func authenticate(_ security: ClientSecurity) throws(ClientError) {
        guard security.usesSASL else { return }
        guard let user = security.username, let password = security.password else {
            throw .unsupported("\(security.protocolName) needs sasl.username and sasl.password")
        }
        var handshake = SaslHandshakeRequest()
        handshake.mechanism = security.mechanism
        let answer: SaslHandshakeResponse = try roundTrip(handshake, version: 1)
        if answer.errorCode != 0 {
            throw .kafka(KafkaError(answer.errorCode), "mechanism \(security.mechanism); the broker offers \(answer.mechanisms.joined(separator: ","))")
        }
        var client: SaslClient
        do { client = try SaslClient(mechanism: security.mechanism, user: user, password: password) } catch {
            throw .unsupported(error.description)
        }
        var message: [UInt8]? = client.start()
        while let outgoing = message {
            var request = SaslAuthenticateRequest()
            request.authBytes = outgoing
            let response: SaslAuthenticateResponse = try roundTrip(request, version: try version(for: SaslAuthenticateRequest.self))
            if response.errorCode != 0 {
                throw .kafka(KafkaError(response.errorCode), response.errorMessage ?? "authentication failed")
            }
            do { message = try client.respond(to: response.authBytes) } catch { throw .io(error.description) }
        }
    }

    deinit { close(fd) }

    /// Parses "host:port" (default port 9092).
    public static func parse(bootstrap: String) -> (host: String, port: Int) {
        let first = bootstrap.split(separator: ",").first.map(String.init) ?? bootstrap
        if let colon = first.lastIndex(of: ":"), let port = Int(first[first.index(after: colon)...]) {
            return (String(first[..<colon]), port)
        }
        return (first, 9092)
    }

    /// Sends ApiVersions and records, per API, the highest version both sides support.
    @discardableResult
    public func negotiate() throws(ClientError) -> ApiVersionsResponse {
        let response: ApiVersionsResponse = try roundTrip(ApiVersionsRequest.make(), version: 3)
        if response.errorCode != 0 { throw .kafka(KafkaError(response.errorCode), "ApiVersions") }
        for api in response.apiKeys {
            guard let key = ApiKey(rawValue: api.apiKey) else { continue }
            let ours = key.specVersions
            let top = min(ours.upperBound, api.maxVersion)
            if top >= max(ours.lowerBound, api.minVersion) { versions[api.apiKey] = top }
        }
        return response
    }

    /// The version to use for `M`: negotiated, else the given fallback.
    public func version<M: KafkaAPIMessage>(for type: M.Type, max cap: Int16? = nil) throws(ClientError) -> Int16 {
        guard let v = versions[M.apiKey] else {
            throw .unsupported("the broker does not serve \(ApiKey(rawValue: M.apiKey)?.description ?? "\(M.apiKey)")")
        }
        return cap.map { min($0, v) } ?? v
    }

    /// Sends a request and waits for its response (any pipelined ones must be received first).
    public func roundTrip<Request: KafkaAPIMessage, Response: KafkaAPIMessage>(
        _ request: Request, version: Int16? = nil
    ) throws(ClientError) -> Response {
        let v: Int16
        if let version { v = version } else { v = try self.version(for: Request.self) }
        try send(request, version: v)
        return try receive()
    }

    /// Writes one request frame. Returns its correlation id.
    @discardableResult
    public func send<Request: KafkaAPIMessage>(_ request: Request, version: Int16, expectResponse: Bool = true)
        throws(ClientError) -> Int32 {
        let correlationId = nextCorrelationId
        nextCorrelationId &+= 1
        var w = WireWriter(capacity: 256)
        w.writeInt32(0)  // size, patched below
        w.writeInt16(Request.apiKey)
        w.writeInt16(version)
        w.writeInt32(correlationId)
        w.writeNullableString(clientId, flexible: false)
        if Request.isFlexible(version) { w.writeUInt8(0) }
        request.encode(to: &w, version: version)
        w.patchInt32(Int32(w.count - 4), at: 0)
        try writeAll(w.bytes)
        if expectResponse { pending.append((correlationId, Request.apiKey, version)) }
        return correlationId
    }

    /// Reads the response to the oldest pipelined request.
    public func receive<Response: KafkaAPIMessage>(_ type: Response.Type = Response.self) throws(ClientError) -> Response {
        guard !pending.isEmpty else { throw .io("no request pending") }
        let expected = pending.removeFirst()
        let frame = try readFrame()
        var r = WireReader(frame)
        do {
            let correlationId = try r.readInt32()
            guard correlationId == expected.correlationId else {
                throw ClientError.io("correlation id \(correlationId), expected \(expected.correlationId)")
            }
            let flexibleHeader = expected.apiKey != ApiKey.apiVersions.rawValue && Response.isFlexible(expected.version)
            if flexibleHeader { _ = try r.readTaggedFields { (_, _) throws(DecodeError) in false } }
            return try Response(from: &r, version: expected.version)
        } catch let e as DecodeError {
            throw .decode(e)
        } catch let e as ClientError {
            throw e
        } catch {
            throw .io("\(error)")
        }
    }

    /// Reads one raw response frame (without the size prefix).
    public func readFrame() throws(ClientError) -> [UInt8] {
        while readBuffer.count - readStart < 4 { try fill() }
        let p = readStart
        let size = Int(UInt32(readBuffer[p]) << 24 | UInt32(readBuffer[p + 1]) << 16 | UInt32(readBuffer[p + 2]) << 8
            | UInt32(readBuffer[p + 3]))
        while readBuffer.count - readStart < 4 + size { try fill() }
        let frame = Array(readBuffer[(readStart + 4)..<(readStart + 4 + size)])
        readStart += 4 + size
        if readStart == readBuffer.count {
            readBuffer.removeAll(keepingCapacity: true)
            readStart = 0
        }
        return frame
    }

    /// Writes raw bytes (tests send malformed frames with this).
    public func writeAll(_ bytes: [UInt8]) throws(ClientError) {
        var offset = 0
        while offset < bytes.count {
            if let tls {
                let result = bytes.withUnsafeBytes { raw in tls.write(raw.baseAddress! + offset, raw.count - offset) }
                switch result {
                case .bytes(let n): offset += n
                case .wantRead, .wantWrite: continue  // blocking socket: only during a renegotiation-like event
                case .closed: throw .closed
                case .failed(let why): throw .io(why)
                }
                continue
            }
            let n = bytes.withUnsafeBytes { raw in
                Glibc.send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(String(cString: strerror(errno)))
            }
            offset += n
        }
    }

    private func fill() throws(ClientError) {
        if readStart > 0 && readStart >= readBuffer.count / 2 {
            readBuffer.removeSubrange(0..<readStart)
            readStart = 0
        }
        if let tls {
            let result = chunk.withUnsafeMutableBytes { raw in tls.read(raw.baseAddress!, raw.count) }
            switch result {
            case .bytes(let n): readBuffer.append(contentsOf: chunk[0..<n])
            case .wantRead, .wantWrite: throw .io("timed out waiting for the broker")
            case .closed: throw .closed
            case .failed(let why): throw .io(why)
            }
            return
        }
        let n = chunk.withUnsafeMutableBytes { raw in recv(fd, raw.baseAddress!, raw.count, 0) }
        if n == 0 { throw .closed }
        if n < 0 {
            if errno == EINTR { return }
            throw .io(String(cString: strerror(errno)))
        }
        readBuffer.append(contentsOf: chunk[0..<n])
    }
}

extension ApiVersionsRequest {
    static func make() -> ApiVersionsRequest {
        var r = ApiVersionsRequest()
        r.clientSoftwareName = "sluice"
        r.clientSoftwareVersion = "0.1"
        return r
    }
}
