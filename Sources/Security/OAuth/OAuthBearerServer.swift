/// OAUTHBEARER server (RFC 7628, Kafka KIP-255/KIP-342/KIP-768).
///
/// Client initial response (RFC 7628 §3.1, as Kafka's client sends it):
/// `n,[a=authzid],` %x01 `auth=Bearer <token>` %x01 `[key=value` %x01`]*` %x01.
///
/// States: `.awaitingInitial` → success (empty server message), or, when the token is refused,
/// the RFC 7628 §3.2.2 JSON error as a challenge → `.awaitingErrorAck`; the client must then send
/// a single %x01 and the exchange fails (Kafka's behaviour). Grammar errors fail at once, like
/// Kafka's `SaslException`s. Any message after the end is a protocol violation.
///
/// Grammar (mirrors Kafka's `OAuthBearerClientInitialResponse`): only the `n` GS2 flag (no channel
/// binding); authzid is a `saslname` with `=2C`/`=3D` escapes and, when present, must equal the
/// token's principal; keys are `[A-Za-z]+`, values `[\x21-\x7E \t\r\n]+`, no key twice; `auth`
/// is required, its scheme is `Bearer` (any case) and the token `[-_.A-Za-z0-9]+`. Other keys are
/// SASL extensions (KIP-342), all accepted and exposed in `extensions`.
public struct OAuthBearerServer: SaslServerMechanism {
    public static let mechanism = SaslMechanisms.oauthBearer
    public var mechanismName: String { Self.mechanism }
    /// Largest client message accepted.
    public static let maxMessageBytes = 72 << 10

    private enum State {
        case awaitingInitial
        case awaitingErrorAck(String)
        case done
    }

    private var state = State.awaitingInitial
    private let validator: JwtValidator
    private let keys: JsonWebKeySet
    private let clock: @Sendable () -> Int64
    private let errorScope: String?
    private let openidConfiguration: String?

    /// The validated token after a success (principal, expiry, scopes).
    public private(set) var token: ValidatedToken?
    /// SASL extensions the client sent (KIP-342), after a success or a refused token.
    public private(set) var extensions: [String: String] = [:]
    /// Why the last token was refused (for the broker's log and audit; safe to show).
    public private(set) var tokenError: TokenError?

    /// - Parameters:
    ///   - keys: the key set in force (`JwksStore.keys(nowMs:)`).
    ///   - clock: milliseconds since the epoch, read once per validated token.
    ///   - errorScope, openidConfiguration: optional members of the RFC 7628 error message.
    public init(validator: JwtValidator, keys: JsonWebKeySet, clock: @escaping @Sendable () -> Int64,
                errorScope: String? = nil, openidConfiguration: String? = nil) {
        self.validator = validator
        self.keys = keys
        self.clock = clock
        self.errorScope = errorScope
        self.openidConfiguration = openidConfiguration
    }

    /// The end of the credential's lifetime (the token's `exp`) once authenticated.
    public var credentialExpiresAtMs: Int64? { token?.expiresAtMs }

    /// RFC 7628 §3.2.2 error JSON.
    static func errorJSON(status: String, scope: String?, openidConfiguration: String?) -> String {
        var text = "{\"status\":\(Json.quote(status))"
        if let scope { text += ",\"scope\":\(Json.quote(scope))" }
        if let openidConfiguration { text += ",\"openid-configuration\":\(Json.quote(openidConfiguration))" }
        return text + "}"
    }

    private static func malformed(_ why: String) -> SaslStep {
        .failure(SaslFailure(kind: .malformed, message: "Invalid OAUTHBEARER client first message: \(why)"))
    }

    public func claimedUser(_ firstMessage: [UInt8]) -> String? {
        guard case .success(let parsed) = InitialResponse.parse(firstMessage),
              let jws = try? CompactJws.parse(Array(parsed.token.utf8)),
              let claims = try? Json.parse(jws.payload),
              let subject = claims[validator.config.subjectClaimName]?.stringValue
        else { return nil }
        return subject
    }

    public mutating func step(_ clientMessage: [UInt8]) -> SaslStep {
        switch state {
        case .done:
            return .failure(SaslFailure(kind: .protocolViolation, message: "OAUTHBEARER exchange already complete"))
        case .awaitingErrorAck(let reason):
            state = .done
            guard clientMessage == [0x01] else {
                return .failure(SaslFailure(kind: .protocolViolation,
                                            message: "OAUTHBEARER: expected %x01 after the server's error message"))
            }
            return .failure(SaslFailure(kind: .authenticationFailed, message: "Authentication failed: invalid token: \(reason)"))
        case .awaitingInitial:
            return initial(clientMessage)
        }
    }

    private mutating func initial(_ message: [UInt8]) -> SaslStep {
        state = .done
        let parsed: InitialResponse
        switch InitialResponse.parse(message) {
        case .success(let value): parsed = value
        case .failure(let error): return Self.malformed(error.message)
        }
        extensions = parsed.extensions
        let validated: ValidatedToken
        do {
            validated = try validator.validate(parsed.token, keys: keys, nowMs: clock())
        } catch {
            tokenError = error
            state = .awaitingErrorAck(error.message)
            let json = Self.errorJSON(status: "invalid_token", scope: errorScope, openidConfiguration: openidConfiguration)
            return .challenge(Array(json.utf8))
        }
        if let authzid = parsed.authzid, authzid != validated.principal {
            return .failure(SaslFailure(
                kind: .unsupported,
                message: "Authentication failed: Client requested an authorization id that is different from the token's principal name"))
        }
        token = validated
        return .success(principal: validated.principal, finalMessage: nil)
    }
}

/// The parsed client initial response.
struct InitialResponse: Equatable {
    var authzid: String?
    var token: String
    var extensions: [String: String]

    struct ParseError: Error, Equatable { let message: String }

    static func parse(_ message: [UInt8]) -> Result<InitialResponse, ParseError> {
        func fail(_ why: String) -> Result<InitialResponse, ParseError> { .failure(ParseError(message: why)) }
        guard message.count <= OAuthBearerServer.maxMessageBytes else { return fail("message too long") }
        guard message.count >= 2 else { return fail("message too short") }
        if message[0] == UInt8(ascii: "y") || message[0] == UInt8(ascii: "p") {
            return fail("channel binding flag must be 'n'")
        }
        guard message[0] == UInt8(ascii: "n"), message[1] == UInt8(ascii: ",") else {
            return fail("must start with the GS2 header 'n,'")
        }
        var index = 2
        var authzid: String?
        if message.count - index >= 2, message[index] == UInt8(ascii: "a"), message[index + 1] == UInt8(ascii: "=") {
            index += 2
            guard let comma = message[index...].firstIndex(of: UInt8(ascii: ",")) else { return fail("unterminated authzid") }
            guard let name = decodeSaslName(message[index..<comma]) else { return fail("invalid authzid") }
            authzid = name
            index = comma
        }
        guard index < message.count, message[index] == UInt8(ascii: ",") else { return fail("malformed GS2 header") }
        index += 1
        guard index < message.count, message[index] == 0x01 else { return fail("expected %x01 after the GS2 header") }
        index += 1
        // kvpairs, each terminated by %x01, then a final %x01 that ends the message.
        var pairs: [String: String] = [:]
        while true {
            guard index < message.count else { return fail("missing final %x01") }
            if message[index] == 0x01 {
                guard index + 1 == message.count else { return fail("data after the final %x01") }
                break
            }
            guard let end = message[index...].firstIndex(of: 0x01) else { return fail("key/value pair not terminated by %x01") }
            let pair = message[index..<end]
            guard let equals = pair.firstIndex(of: UInt8(ascii: "=")) else { return fail("key/value pair without '='") }
            let key = pair[pair.startIndex..<equals]
            let value = pair[(equals + 1)...]
            guard !key.isEmpty, key.allSatisfy(isAlpha) else { return fail("invalid key") }
            guard !value.isEmpty, value.allSatisfy(isValueByte) else { return fail("invalid value for key '\(String(decoding: key, as: UTF8.self))'") }
            let keyText = String(decoding: key, as: UTF8.self)
            guard pairs[keyText] == nil else { return fail("key '\(keyText)' given twice") }
            pairs[keyText] = String(decoding: value, as: UTF8.self)
            index = end + 1
        }
        guard let auth = pairs.removeValue(forKey: "auth") else { return fail("'auth' not specified") }
        let authBytes = Array(auth.utf8)
        guard let space = authBytes.firstIndex(of: UInt8(ascii: " ")) else { return fail("invalid 'auth' format") }
        let scheme = authBytes[..<space]
        var tokenStart = space
        while tokenStart < authBytes.count, authBytes[tokenStart] == UInt8(ascii: " ") { tokenStart += 1 }
        let token = authBytes[tokenStart...]
        guard !scheme.isEmpty, scheme.allSatisfy(isWordByte), !token.isEmpty, token.allSatisfy(isTokenByte) else {
            return fail("invalid 'auth' format")
        }
        guard String(decoding: scheme, as: UTF8.self).lowercased() == "bearer" else { return fail("scheme must be Bearer") }
        return .success(InitialResponse(authzid: authzid, token: String(decoding: token, as: UTF8.self), extensions: pairs))
    }

    private static func isAlpha(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }

    private static func isWordByte(_ byte: UInt8) -> Bool {
        isAlpha(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
    }

    private static func isTokenByte(_ byte: UInt8) -> Bool {
        isWordByte(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
    }

    private static func isValueByte(_ byte: UInt8) -> Bool {
        (0x21...0x7E).contains(byte) || byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A
    }

    /// RFC 5801 saslname: UTF-8 without ',' and '=' except the escapes =2C and =3D.
    private static func decodeSaslName(_ bytes: ArraySlice<UInt8>) -> String? {
        guard !bytes.isEmpty else { return nil }
        var out: [UInt8] = []
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "=") {
                guard bytes.endIndex - index >= 3 else { return nil }
                let escape = String(decoding: bytes[(index + 1)...(index + 2)], as: UTF8.self)
                switch escape {
                case "2C": out.append(UInt8(ascii: ","))
                case "3D": out.append(UInt8(ascii: "="))
                default: return nil
                }
                index += 3
            } else {
                guard byte != 0 && byte != 0x01 else { return nil }
                out.append(byte)
                index += 1
            }
        }
        return String(validating: out, as: UTF8.self)
    }
}
