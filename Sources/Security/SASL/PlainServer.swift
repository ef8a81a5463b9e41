/// PLAIN server (RFC 4616): one client message `[authzid] NUL authcid NUL passwd`, verified
/// against the SCRAM credentials (no plaintext password is stored anywhere).
///
/// States: `.awaitingMessage` → `.done` after the first message, whatever its outcome.
/// Refused: a message over `maxMessageBytes`, anything but exactly two NULs, a field that is not
/// UTF-8 or longer than 255 bytes (RFC 4616 §2), an empty authcid or password, and an authzid that
/// is neither empty nor equal to the authcid (as Kafka does).
public struct PlainServer: SaslServerMechanism {
    public let mechanismName = SaslMechanisms.plain
    /// RFC 4616 §2 caps each field at 255 octets.
    public static let maxFieldBytes = 255
    public static let maxMessageBytes = 3 * maxFieldBytes + 2

    private enum State {
        case awaitingMessage
        case done
    }

    private var state = State.awaitingMessage
    private let credentials: CredentialStore
    private let fakeSaltSecret: [UInt8]

    /// `fakeSaltSecret` is the server secret from which fake credentials of unknown users derive
    /// (see `CredentialStore.verifyPassword`).
    public init(credentials: CredentialStore, fakeSaltSecret: [UInt8]) {
        self.credentials = credentials
        self.fakeSaltSecret = fakeSaltSecret
    }

    static let authenticationFailed = SaslFailure(
        kind: .authenticationFailed, message: "Authentication failed: Invalid username or password")

    private static func malformed(_ why: String) -> SaslFailure {
        SaslFailure(kind: .malformed, message: "Invalid PLAIN message: \(why)")
    }

    public func claimedUser(_ firstMessage: [UInt8]) -> String? {
        guard firstMessage.count <= Self.maxMessageBytes else { return nil }
        let fields = firstMessage.split(separator: 0, maxSplits: 3, omittingEmptySubsequences: false)
        guard fields.count == 3, fields[1].count <= Self.maxFieldBytes else { return nil }
        return String(validating: fields[1], as: UTF8.self)
    }

    public mutating func step(_ clientMessage: [UInt8]) -> SaslStep {
        guard case .awaitingMessage = state else {
            return .failure(SaslFailure(kind: .protocolViolation, message: "PLAIN exchange already complete"))
        }
        state = .done
        guard clientMessage.count <= Self.maxMessageBytes else { return .failure(Self.malformed("too long")) }
        let fields = clientMessage.split(separator: 0, maxSplits: 3, omittingEmptySubsequences: false)
        guard fields.count == 3 else { return .failure(Self.malformed("expected authzid NUL authcid NUL passwd")) }
        var decoded: [String] = []
        for field in fields {
            guard field.count <= Self.maxFieldBytes else { return .failure(Self.malformed("field too long")) }
            guard let text = String(validating: field, as: UTF8.self) else {
                return .failure(Self.malformed("not UTF-8"))
            }
            decoded.append(text)
        }
        let (authzid, authcid, password) = (decoded[0], decoded[1], decoded[2])
        guard !authcid.isEmpty else { return .failure(Self.malformed("empty username")) }
        guard !password.isEmpty else { return .failure(Self.malformed("empty password")) }
        guard authzid.isEmpty || authzid == authcid else {
            return .failure(SaslFailure(
                kind: .unsupported,
                message: "Authentication failed: Client requested an authorization id that is different from username"))
        }
        guard credentials.verifyPassword(user: authcid, password: password, fakeSaltSecret: fakeSaltSecret) else {
            return .failure(Self.authenticationFailed)
        }
        return .success(principal: authcid, finalMessage: nil)
    }
}
