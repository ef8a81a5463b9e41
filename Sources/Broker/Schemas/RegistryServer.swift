import Foundation
import Glibc
import HTTPServer
import Security
import TLS

extension BrokerConfig {
    /// A comma-separated listener property as a list (empty when unset).
    public func listeners(of key: String) -> [String] {
        (string(key) ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}

extension BrokerServer {
    /// The HTTP server for `schema.registry.listeners`. `https://` listeners use the broker's TLS
    /// settings (`ssl.keystore.location`, `ssl.truststore.location`, `ssl.client.auth`, ...), the
    /// same context the SSL listeners use when there are any.
    static func makeRegistryServer(config: BrokerConfig, broker: Broker, tls: ReloadingTLSContext?) throws -> HTTPServer? {
        guard let service = broker.schemaRegistry else { return nil }
        var addresses: [HTTPListenerAddress] = []
        for text in config.listeners(of: "schema.registry.listeners") {
            switch HTTPListenerAddress.parse(text) {
            case .success(let a): addresses.append(a)
            case .failure(let e): throw ConfigError("schema.registry.listeners: \(e.message)")
            }
        }
        var options = HTTPServerOptions()
        options.name = "registry"
        options.limits.maxBodyBytes = 4 << 20  // schemas are small; 64 connections × 4 MiB bounds memory
        var transports: [String: HTTPTransportFactory] = [:]
        if addresses.contains(where: { $0.scheme == "https" }) {
            let context: ReloadingTLSContext
            do {
                context = try tls ?? ReloadingTLSContext(tlsSettings(config))
            } catch {
                throw ConfigError("schema.registry.listeners: https needs the broker's TLS settings: \(error)")
            }
            let timeoutMs = options.idleTimeoutMs
            transports["https"] = TLSHTTPTransport.factory(context, timeoutMs: timeoutMs)
        }
        var bearer: BearerValidation?
        if let shared = broker.security.oauth {
            // OAUTHBEARER is on for the Kafka listeners: the same key store and validator.
            bearer = BearerValidation(keys: shared.keys, validator: shared.validator)
        } else if let url = config.string("sasl.oauthbearer.jwks.endpoint.url"), !url.isEmpty {
            var properties: [String: String] = [:]
            for key in ["sasl.oauthbearer.expected.issuer", "sasl.oauthbearer.expected.audience", "sasl.oauthbearer.sub.claim.name",
                        "sasl.oauthbearer.scope.claim.name", "sasl.oauthbearer.clock.skew.seconds"] {
                if let v = config.string(key) { properties[key] = v }
            }
            do {
                bearer = BearerValidation(
                    keys: try JwksStore(url: url, nowMs: SystemClock.nowMs()),
                    validator: JwtValidator(config: try OAuthBearerConfig(properties: properties)))
            } catch {
                throw ConfigError("schema.registry: Bearer tokens need a valid sasl.oauthbearer.* setup: \(error)")
            }
        }
        let front = RegistryHTTPFront(service: service, security: broker.security,
                                      basicAuth: config.string("schema.registry.authentication.method") == "BASIC",
                                      bearer: bearer)
        return HTTPServer(listeners: addresses, options: options, transports: transports) { request, connection in
            front.handle(request, connection)
        }
    }

    /// Bound ports of the registry listeners, in order (empty without a registry).
    public var registryPorts: [Int] { registryHTTP?.boundPorts ?? [] }
}

/// Bearer tokens on the registry: the OAUTHBEARER JWT validator against the JWKS file.
struct BearerValidation: Sendable {
    let keys: JwksStore
    let validator: JwtValidator

    /// The principal (`User:<sub>`) of a valid token, or why it is not.
    func principal(_ token: String) -> Result<String, TokenError> {
        let now = SystemClock.nowMs()
        do {
            return .success("User:" + (try validator.validate(token, keys: keys.keys(nowMs: now), nowMs: now)).principal)
        } catch {
            return .failure(error)
        }
    }
}

/// HTTPS for the registry: a `TLSStream` over the accepted socket (made non-blocking), waiting with
/// poll() for the readiness OpenSSL asks for, bounded by the idle timeout.
final class TLSHTTPTransport: HTTPTransport {
    let stream: TLSStream
    let fd: Int32
    let timeoutMs: Int

    /// Transports over the context's current certificates (reloaded files apply to new connections).
    static func factory(_ context: ReloadingTLSContext, timeoutMs: Int) -> HTTPTransportFactory {
        { fd throws(HTTPTransportError) -> any HTTPTransport in
            let transport: TLSHTTPTransport = try TLSHTTPTransport(context: context.current, fd: fd, timeoutMs: timeoutMs)
            return transport
        }
    }

    init(context: TLSContext, fd: Int32, timeoutMs: Int) throws(HTTPTransportError) {
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        self.fd = fd
        self.timeoutMs = timeoutMs
        do {
            stream = try TLSStream(context: context, fd: fd)
        } catch {
            throw HTTPTransportError("TLS: \(error)")
        }
    }

    private func wait(_ events: Int32) throws(HTTPTransportError) {
        var p = pollfd(fd: fd, events: Int16(events), revents: 0)
        while true {
            let n = poll(&p, 1, Int32(timeoutMs))
            if n > 0 { return }
            if n == 0 { throw HTTPTransportError("idle timeout") }
            if errno != EINTR { throw HTTPTransportError("poll failed") }
        }
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(HTTPTransportError) -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        while true {
            switch stream.read(base, buffer.count) {
            case .bytes(let n): return n
            case .wantRead: try wait(POLLIN)
            case .wantWrite: try wait(POLLOUT)
            case .closed: return 0
            case .failed(let message): throw HTTPTransportError(message)
            }
        }
    }

    func write(_ bytes: [UInt8]) throws(HTTPTransportError) {
        var sent = 0
        while sent < bytes.count {
            let result = bytes.withUnsafeBytes { stream.write($0.baseAddress! + sent, bytes.count - sent) }
            switch result {
            case .bytes(let n): sent += n
            case .wantRead: try wait(POLLIN)
            case .wantWrite: try wait(POLLOUT)
            case .closed: throw HTTPTransportError("peer closed")
            case .failed(let message): throw HTTPTransportError(message)
            }
        }
    }

    func close() { stream.sendCloseNotify() }
}
