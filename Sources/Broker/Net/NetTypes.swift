import TLS

// Public vocabulary of the network layer: limits, addresses, connection identity, the handler
// contract and errors.

/// Network limits, named after the Kafka broker settings they mirror. Immutable; read by every thread.
public struct NetLimits: Sendable, Hashable {
    /// `socket.request.max.bytes`: the largest request frame accepted (size prefix excluded).
    public var maxRequestBytes: Int
    /// `connections.max.idle.ms`: a connection with no traffic and nothing in flight this long is closed.
    public var idleTimeoutMs: Int64
    /// `num.network.threads`: reactor threads, each owning a share of the connections.
    public var reactorThreads: Int
    /// Requests dispatched but not yet answered on one connection; reading stops at this many.
    public var maxInFlightPerConnection: Int
    /// Unsent response bytes on one connection above which reading stops (a slow reader's brake).
    public var maxPendingOutputBytes: Int
    /// `socket.send.buffer.bytes`; -1 keeps the OS default.
    public var socketSendBufferBytes: Int
    /// `socket.receive.buffer.bytes`; -1 keeps the OS default.
    public var socketReceiveBufferBytes: Int
    /// `connections.authentication.timeout.ms`: a connection must have authenticated (TLS
    /// handshake and SASL where its listener has them; on a listener with neither, sent its first
    /// request) this long after it was accepted, and a KIP-368 re-authentication must finish this
    /// long after it started, or the connection is closed. 0: no deadline.
    public var authenticationTimeoutMs: Int64

    public init(
        maxRequestBytes: Int = 104_857_600,
        idleTimeoutMs: Int64 = 600_000,
        reactorThreads: Int = 2,
        maxInFlightPerConnection: Int = 64,
        maxPendingOutputBytes: Int = 8 * 1024 * 1024,
        socketSendBufferBytes: Int = -1,
        socketReceiveBufferBytes: Int = -1,
        authenticationTimeoutMs: Int64 = 10_000
    ) {
        self.authenticationTimeoutMs = authenticationTimeoutMs
        self.maxRequestBytes = maxRequestBytes
        self.idleTimeoutMs = idleTimeoutMs
        self.reactorThreads = reactorThreads
        self.maxInFlightPerConnection = maxInFlightPerConnection
        self.maxPendingOutputBytes = maxPendingOutputBytes
        self.socketSendBufferBytes = socketSendBufferBytes
        self.socketReceiveBufferBytes = socketReceiveBufferBytes
    }
}

/// One listening endpoint, e.g. `PLAINTEXT://0.0.0.0:9092`. Port 0 asks the OS for a free port; an
/// empty host means every interface. A value; usable on any thread.
public struct ListenerAddress: Sendable {
    public var name: String
    public var host: String
    public var port: Int
    /// Set on SSL and SASL_SSL listeners: every accepted connection speaks TLS first.
    public var tls: ReloadingTLSContext?

    public init(name: String, host: String, port: Int, tls: ReloadingTLSContext? = nil) {
        self.name = name
        self.host = host
        self.port = port
        self.tls = tls
    }
}

/// Identity of one accepted connection. Ids are unique for the server's lifetime and never reused.
/// A value, created on the acceptor thread; usable on any thread.
public struct ConnectionInfo: Sendable, Hashable, CustomStringConvertible {
    public let id: UInt64
    /// "ip:port" or "[ipv6]:port" of the client.
    public let peerAddress: String
    /// The client's IP address alone ("10.0.0.7", "::1").
    public let peerHost: String
    public let listenerName: String
    public let listenerPort: Int

    public init(id: UInt64, peerAddress: String, peerHost: String, listenerName: String, listenerPort: Int) {
        self.id = id
        self.peerAddress = peerAddress
        self.peerHost = peerHost
        self.listenerName = listenerName
        self.listenerPort = listenerPort
    }

    public var description: String { "conn#\(id) \(peerAddress) via \(listenerName):\(listenerPort)" }
}

/// The handler's own state for one connection (the broker's session: who is authenticated).
/// Created by `connectionOpened`, then handed back with every event of that connection.
public protocol ConnectionContext: AnyObject, Sendable {
    var info: ConnectionInfo { get }
    /// Tighter limits from the first frame on (the pre-authentication ones); nil keeps the server's.
    var initialLimits: ConnectionLimits? { get }
}

extension ConnectionContext {
    public var initialLimits: ConnectionLimits? { nil }
}

/// Per-connection limits tighter than the server's `NetLimits`, e.g. before authentication, so a
/// peer that has not proven who it is can make the broker hold only a little memory.
public struct ConnectionLimits: Sendable, Hashable {
    /// Largest frame accepted (size prefix excluded).
    public var maxFrameBytes: Int
    /// Unsent response bytes above which reading stops.
    public var maxPendingOutputBytes: Int
    /// Requests in flight above which reading stops.
    public var maxInFlight: Int

    public init(maxFrameBytes: Int, maxPendingOutputBytes: Int, maxInFlight: Int) {
        self.maxFrameBytes = maxFrameBytes
        self.maxPendingOutputBytes = maxPendingOutputBytes
        self.maxInFlight = maxInFlight
    }
}

/// What the TLS handshake established, reported once before the first frame of a TLS connection.
public struct TransportSecurity: Sendable, Hashable {
    /// The negotiated protocol, e.g. "TLSv1.3".
    public var protocolVersion: String
    public var cipher: String
    /// The verified client certificate's subject as an RFC 2253 distinguished name, if one was sent.
    public var peerSubject: String?

    public init(protocolVersion: String, cipher: String, peerSubject: String?) {
        self.protocolVersion = protocolVersion
        self.cipher = cipher
        self.peerSubject = peerSubject
    }
}

/// Receives connection events. Every method is called on the connection's reactor thread, so
/// implementations must return quickly and hand slow work to other threads.
public protocol FrameHandler: AnyObject, Sendable {
    /// Called once, before any frame of the connection.
    func connectionOpened(_ connection: ConnectionInfo) -> any ConnectionContext
    /// Called once on TLS listeners, when the handshake completed and before any frame.
    func transportSecured(_ connection: any ConnectionContext, _ security: TransportSecurity)
    /// Called in arrival order for each complete frame (the 4-byte size prefix removed). Exactly one
    /// of the slot's completion methods must eventually be called, from any thread.
    func handleFrame(_ frame: [UInt8], connection: any ConnectionContext, slot: ResponseSlot)
    /// Called exactly once, after the socket is closed; later slot completions are ignored.
    func connectionClosed(_ connection: any ConnectionContext)
    /// Called just before a connection is closed for missing its authentication deadline
    /// (`NetLimits.authenticationTimeoutMs`); `connectionClosed` follows.
    func authenticationTimedOut(_ connection: any ConnectionContext)
}

extension FrameHandler {
    public func authenticationTimedOut(_ connection: any ConnectionContext) {}
}

/// Why the server could not start. A value; usable on any thread.
public enum NetError: Error, Sendable, Equatable, CustomStringConvertible {
    case system(call: String, errno: Int32)
    case badAddress(host: String, port: Int, reason: String)
    case invalidState(String)

    public var description: String {
        switch self {
        case .system(let call, let code): return "\(call) failed: \(NetSys.describe(code))"
        case .badAddress(let host, let port, let reason): return "cannot listen on \(host):\(port): \(reason)"
        case .invalidState(let what): return what
        }
    }
}
