import Security
import Synchronization

/// Kafka's security protocols, named by the listener (or `listener.security.protocol.map`).
public enum SecurityProtocol: String, Sendable, CaseIterable {
    case plaintext = "PLAINTEXT"
    case ssl = "SSL"
    case saslPlaintext = "SASL_PLAINTEXT"
    case saslSsl = "SASL_SSL"

    public var usesTLS: Bool { self == .ssl || self == .saslSsl }
    public var usesSASL: Bool { self == .saslPlaintext || self == .saslSsl }
}

/// The broker's state for one connection: who the peer is and where its SASL exchange stands.
///
/// Threads: every frame of a connection is handled on its reactor thread, in order, so the lock
/// is never contended; it exists because the type must be `Sendable`.
final class ClientSession: ConnectionContext {
    static let anonymousPrincipal = "User:ANONYMOUS"

    struct State {
        /// `User:<name>`; ANONYMOUS until SASL succeeds (or on listeners without SASL).
        var principal = ClientSession.anonymousPrincipal
        /// False on SASL listeners until the exchange succeeded; only ApiVersions, SaslHandshake
        /// and SaslAuthenticate are served before that.
        var authenticated: Bool
        /// The mechanism chosen by SaslHandshake, waiting for SaslAuthenticate (or raw tokens).
        var mechanism: (any SaslServerMechanism)?
        /// SaslHandshake v0 was used: the next frames are bare SASL tokens (KIP-43).
        var rawTokens = false
        /// KIP-368: after this (wall clock ms) only a re-authentication is accepted.
        var sessionExpiryMs: Int64?
        /// Set once re-authenticating: the principal must stay the same.
        var reauthenticating = false
        /// The mechanism of the last successful authentication (re-authentication must reuse it).
        var lastMechanism: String?
        var transport: TransportSecurity?
        /// Failed SASL exchanges on this connection.
        var failures = 0
        /// The current exchange got its first message (the login throttle was consulted).
        var exchangeStarted = false
        /// The user the current exchange's first message claimed (the login throttle's key).
        var claimedUser: String?
        /// The login throttle's delay for the current exchange's final answer.
        var throttleDelayMs: Int64 = 0
        /// A client certificate was presented that no `ssl.principal.mapping.rules` rule maps:
        /// the connection is closed at its first frame.
        var rejected = false
        /// Whose connection counts include this connection (set at authentication).
        var countedConnection: QuotaSubject?
        /// OAUTHBEARER: the validated token's string claims (tenant membership by claim).
        var claims: [String: [String]] = [:]
    }

    let info: ConnectionInfo
    let securityProtocol: SecurityProtocol
    let state: Mutex<State>
    /// On SASL listeners until authentication succeeds: frames up to `sasl.server.max.receive.size`,
    /// one request at a time, little unsent output.
    let initialLimits: ConnectionLimits?

    init(info: ConnectionInfo, securityProtocol: SecurityProtocol, preAuthFrameLimit: Int) {
        self.info = info
        self.securityProtocol = securityProtocol
        state = Mutex(State(authenticated: !securityProtocol.usesSASL))
        initialLimits = securityProtocol.usesSASL
            ? ConnectionLimits(maxFrameBytes: preAuthFrameLimit, maxPendingOutputBytes: 64 * 1024, maxInFlight: 1)
            : nil
    }

    var principal: String { state.withLock { $0.principal } }
}
