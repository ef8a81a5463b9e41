// What every SASL server mechanism returns after one client message (KIP-43: each
// SaslAuthenticate request carries one client message, each response one server message).

/// The outcome of feeding one client message to a server mechanism.
public enum SaslStep: Equatable, Sendable {
    /// Send these bytes and wait for the next client message.
    case challenge([UInt8])
    /// Authenticated as `principal` (the user name; the broker's principal builder makes it
    /// `User:<name>`). `finalMessage`, when present, is sent to the client with the success
    /// (SCRAM's server-final `v=` message).
    case success(principal: String, finalMessage: [UInt8]?)
    /// Authentication failed; the exchange is over.
    case failure(SaslFailure)
}

/// A failed exchange. Deliberately coarse: a wrong password and an unknown user produce the
/// same value, so nothing a client sees (bytes, message, kind) tells them apart.
public struct SaslFailure: Error, Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        /// Credentials did not verify (or the user is unknown).
        case authenticationFailed
        /// The client message does not follow the mechanism's grammar.
        case malformed
        /// A feature we refuse: channel binding, `tokenauth`, an authzid other than the authcid.
        case unsupported
        /// A message after the exchange ended.
        case protocolViolation
    }

    public let kind: Kind
    /// Text for SaslAuthenticate's `error_message`: never names credentials nor says whether the
    /// user exists.
    public let message: String
    /// RFC 5802 §7 `server-error` message (`e=...`) for SCRAM; nil for PLAIN.
    public let serverFinal: [UInt8]?

    public init(kind: Kind, message: String, serverFinal: [UInt8]? = nil) {
        self.kind = kind
        self.message = message
        self.serverFinal = serverFinal
    }
}

/// A SASL server mechanism: a state machine fed one client message at a time.
public protocol SaslServerMechanism: Sendable {
    /// The mechanism name as in SaslHandshake (`PLAIN`, `SCRAM-SHA-256`, ...).
    var mechanismName: String { get }
    /// Consumes one client message.
    mutating func step(_ clientMessage: [UInt8]) -> SaslStep
    /// When the credential used expires (ms since the epoch), for mechanisms whose credentials
    /// expire (OAUTHBEARER: the token's `exp`); nil otherwise, and before success. The broker
    /// caps the session lifetime (KIP-368) at this instant. Defaults to nil.
    var credentialExpiresAtMs: Int64? { get }
    /// The user an exchange's first client message claims to be, read without verifying anything
    /// (OAUTHBEARER: the token's unverified subject). Only for counting failed logins per user
    /// (the login throttle); never an identity. nil when the message names none.
    func claimedUser(_ firstMessage: [UInt8]) -> String?
}

extension SaslServerMechanism {
    public var credentialExpiresAtMs: Int64? { nil }
}

/// Names of the mechanisms this module implements, in the order we advertise them.
public enum SaslMechanisms {
    public static let plain = "PLAIN"
    /// RFC 7628; not in `all` until the broker wires it (`OAuthBearerServer`).
    public static let oauthBearer = "OAUTHBEARER"
    public static let all = [plain, ScramMechanism.sha256.mechanismName, ScramMechanism.sha512.mechanismName]
}
