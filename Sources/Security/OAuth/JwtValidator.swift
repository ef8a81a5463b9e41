// JWT access-token validation as Kafka's broker does it for OAUTHBEARER (KIP-768): a JWS in
// compact serialization (RFC 7515 §7.1), signature checked through OpenSSL against a JWK set,
// then the claims (RFC 7519 §4.1): `exp` required, `nbf` and `iat` optional (`iat` can be made
// required, as Kafka does), a bounded clock skew, `iss` and `aud` when configured, the principal
// from a configured claim and the scopes from another.
//
// Order of checks: shape → header → key selection → signature → claims. Nothing in the claims is
// looked at before the signature verified, and no error message repeats token contents other
// than the header's `alg` and `kid`.

/// Settings, named after Kafka's broker properties.
public struct OAuthBearerConfig: Sendable, Equatable {
    /// `sasl.oauthbearer.expected.issuer`: when set, `iss` must equal it.
    public var expectedIssuer: String?
    /// `sasl.oauthbearer.expected.audience` (comma-separated list): when not empty, `aud` must
    /// contain at least one of these.
    public var expectedAudiences: [String]
    /// `sasl.oauthbearer.sub.claim.name` (default `sub`): the claim holding the principal name.
    public var subjectClaimName: String
    /// `sasl.oauthbearer.scope.claim.name` (default `scope`).
    public var scopeClaimName: String
    /// `sasl.oauthbearer.clock.skew.seconds` (default 30): tolerance for `exp`, `nbf`, `iat`.
    public var clockSkewSeconds: Int
    /// Kafka's broker validator requires `iat`; off by default here (RFC 7519 makes it optional).
    public var requireIssuedAt: Bool
    /// Longest token accepted, in bytes.
    public var maxTokenBytes: Int

    public static let maxClockSkewSeconds = 600

    public init(expectedIssuer: String? = nil, expectedAudiences: [String] = [], subjectClaimName: String = "sub",
                scopeClaimName: String = "scope", clockSkewSeconds: Int = 30, requireIssuedAt: Bool = false,
                maxTokenBytes: Int = 64 << 10) {
        self.expectedIssuer = expectedIssuer
        self.expectedAudiences = expectedAudiences
        self.subjectClaimName = subjectClaimName
        self.scopeClaimName = scopeClaimName
        self.clockSkewSeconds = clockSkewSeconds
        self.requireIssuedAt = requireIssuedAt
        self.maxTokenBytes = maxTokenBytes
    }

    /// Reads the `sasl.oauthbearer.*` properties Kafka defines (others are ignored). Errors name
    /// the property.
    public init(properties: [String: String]) throws(OAuthConfigError) {
        self.init()
        if let issuer = properties["sasl.oauthbearer.expected.issuer"], !issuer.isEmpty { expectedIssuer = issuer }
        if let audiences = properties["sasl.oauthbearer.expected.audience"] {
            expectedAudiences = audiences.split(separator: ",").map { String($0.trimmingBlanks) }.filter { !$0.isEmpty }
        }
        if let name = properties["sasl.oauthbearer.sub.claim.name"] {
            guard !name.trimmingBlanks.isEmpty else { throw OAuthConfigError("sasl.oauthbearer.sub.claim.name must not be empty") }
            subjectClaimName = String(name.trimmingBlanks)
        }
        if let name = properties["sasl.oauthbearer.scope.claim.name"] {
            guard !name.trimmingBlanks.isEmpty else { throw OAuthConfigError("sasl.oauthbearer.scope.claim.name must not be empty") }
            scopeClaimName = String(name.trimmingBlanks)
        }
        if let skew = properties["sasl.oauthbearer.clock.skew.seconds"] {
            guard let value = Int(skew), value >= 0, value <= Self.maxClockSkewSeconds else {
                throw OAuthConfigError("sasl.oauthbearer.clock.skew.seconds must be a number from 0 to \(Self.maxClockSkewSeconds)")
            }
            clockSkewSeconds = value
        }
    }
}

public struct OAuthConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Why a token was refused. `message` is safe for logs and for the client: it never contains
/// the token or claim values.
public struct TokenError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: String, Equatable, Sendable {
        case malformed, unsupportedAlgorithm, unknownKey, badSignature
        case expired, notYetValid, issuedInFuture, missingClaim, invalidClaim, wrongIssuer, wrongAudience
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

/// What a valid token says.
public struct ValidatedToken: Sendable, Equatable {
    /// The principal name (the configured claim, trimmed).
    public let principal: String
    /// `exp` in milliseconds since the epoch: the end of the session lifetime (KIP-368).
    public let expiresAtMs: Int64
    public let notBeforeMs: Int64?
    public let issuedAtMs: Int64?
    public let issuer: String?
    public let audiences: [String]
    /// The scope claim, split on spaces (a string) or as listed (an array).
    public let scopes: [String]
    public let algorithm: JwsAlgorithm
    public let keyId: String?
    /// The token's top-level claims whose value is a string or an array of strings (tenant
    /// membership by claim, `member claim:<name>=<value>` in `policies/*.tenants`).
    public var stringClaims: [String: [String]] = [:]
}

/// A JWS in compact serialization, decoded but not verified.
struct CompactJws {
    let header: JsonValue
    let payload: [UInt8]
    let signingInput: [UInt8]
    let signature: [UInt8]

    static func parse(_ token: [UInt8]) throws(TokenError) -> CompactJws {
        let parts = token.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 3 else {
            throw TokenError(.malformed, parts.count == 5 ? "token is a JWE (encrypted), not a signed JWS"
                : "token must have three dot-separated parts, found \(parts.count)")
        }
        let names = ["header", "payload", "signature"]
        var decoded: [[UInt8]] = []
        for (index, part) in parts.enumerated() {
            guard !part.isEmpty else { throw TokenError(.malformed, "token \(names[index]) is empty") }
            guard let bytes = Base64URL.decode(part) else { throw TokenError(.malformed, "token \(names[index]) is not base64url") }
            decoded.append(bytes)
        }
        let header: JsonValue
        do { header = try Json.parse(decoded[0]) } catch {
            throw TokenError(.malformed, "token header is not valid JSON: \(error)")
        }
        guard header.members != nil else { throw TokenError(.malformed, "token header is not a JSON object") }
        let signingInput = Array(token[token.startIndex..<parts[1].endIndex])
        return CompactJws(header: header, payload: decoded[1], signingInput: signingInput, signature: decoded[2])
    }
}

/// Validates access tokens against a key set. A value; use from any thread.
public struct JwtValidator: Sendable {
    public let config: OAuthBearerConfig

    public init(config: OAuthBearerConfig = OAuthBearerConfig()) {
        self.config = config
    }

    /// Checks `token` (compact JWS) against `keys` at `nowMs` (milliseconds since the epoch).
    public func validate(_ token: String, keys: JsonWebKeySet, nowMs: Int64) throws(TokenError) -> ValidatedToken {
        let bytes = Array(token.utf8)
        guard bytes.count <= config.maxTokenBytes else {
            throw TokenError(.malformed, "token longer than \(config.maxTokenBytes) bytes")
        }
        let jws = try CompactJws.parse(bytes)
        let (algorithm, keyId) = try checkHeader(jws.header)
        let key = try selectKey(keys, algorithm: algorithm, keyId: keyId)
        guard key.key.verify(algorithm.scheme, message: jws.signingInput, signature: jws.signature) else {
            throw TokenError(.badSignature, "token signature does not verify with key \(describe(keyId))")
        }
        let claims: JsonValue
        do { claims = try Json.parse(jws.payload) } catch {
            throw TokenError(.malformed, "token claims are not valid JSON: \(error)")
        }
        guard claims.members != nil else { throw TokenError(.malformed, "token claims are not a JSON object") }
        return try checkClaims(claims, algorithm: algorithm, keyId: keyId, nowMs: nowMs)
    }

    private func describe(_ keyId: String?) -> String { keyId.map { "kid \(Json.quote($0))" } ?? "(no kid)" }

    private func checkHeader(_ header: JsonValue) throws(TokenError) -> (JwsAlgorithm, String?) {
        guard let algValue = header["alg"] else { throw TokenError(.malformed, "token header has no \"alg\"") }
        guard let alg = algValue.stringValue else { throw TokenError(.malformed, "token header \"alg\" is not a string") }
        guard let algorithm = JwsAlgorithm(rawValue: alg) else {
            if alg.lowercased() == "none" { throw TokenError(.unsupportedAlgorithm, "unsigned tokens (alg \"none\") are refused") }
            if alg.hasPrefix("HS") {
                throw TokenError(.unsupportedAlgorithm, "HMAC algorithm \(Json.quote(alg)) is refused: only asymmetric signatures are accepted")
            }
            throw TokenError(.unsupportedAlgorithm, "algorithm \(Json.quote(String(alg.prefix(16)))) is not accepted")
        }
        // RFC 7515 §4.1.11: extensions we do not understand must make the token invalid.
        if header["crit"] != nil { throw TokenError(.malformed, "token header has \"crit\" extensions, none of which are supported") }
        if header["enc"] != nil { throw TokenError(.malformed, "token is a JWE (encrypted), not a signed JWS") }
        var keyId: String?
        if let kidValue = header["kid"] {
            guard let kid = kidValue.stringValue else { throw TokenError(.malformed, "token header \"kid\" is not a string") }
            guard kid.utf8.count <= 256 else { throw TokenError(.malformed, "token header \"kid\" is longer than 256 bytes") }
            keyId = kid
        }
        // Keys carried in the token itself (`jwk`, `jku`, `x5c`, `x5u`) are ignored: only the
        // configured key set is trusted.
        return (algorithm, keyId)
    }

    private func selectKey(_ keys: JsonWebKeySet, algorithm: JwsAlgorithm, keyId: String?) throws(TokenError) -> JsonWebKey {
        let key: JsonWebKey
        if let keyId {
            guard let found = keys.keys.first(where: { $0.keyId == keyId }) else {
                throw TokenError(.unknownKey, "no key with kid \(Json.quote(keyId)) in the key set")
            }
            key = found
        } else {
            guard keys.keys.count == 1 else {
                throw TokenError(.unknownKey, "token has no \"kid\" and the key set holds \(keys.keys.count) keys")
            }
            key = keys.keys[0]
        }
        if let required = key.algorithm, required != algorithm {
            throw TokenError(.unsupportedAlgorithm,
                             "token algorithm \(algorithm.rawValue) differs from \(required.rawValue) required by key \(describe(key.keyId))")
        }
        guard key.key.accepts(algorithm.scheme) else {
            throw TokenError(.unsupportedAlgorithm, "token algorithm \(algorithm.rawValue) does not fit key \(describe(key.keyId))")
        }
        return key
    }

    /// A NumericDate claim (RFC 7519 §2) in milliseconds.
    private func date(_ claims: JsonValue, _ name: String) throws(TokenError) -> Int64? {
        guard let value = claims[name] else { return nil }
        guard case .number(_, let seconds) = value else { throw TokenError(.invalidClaim, "claim \"\(name)\" is not a number") }
        guard seconds >= 0, seconds <= 253_402_300_799 else { throw TokenError(.invalidClaim, "claim \"\(name)\" is out of range") }
        return Int64((seconds * 1000).rounded(.down))
    }

    private func checkClaims(_ claims: JsonValue, algorithm: JwsAlgorithm, keyId: String?,
                             nowMs: Int64) throws(TokenError) -> ValidatedToken {
        let skewMs = Int64(config.clockSkewSeconds) * 1000
        guard let expiresAtMs = try date(claims, "exp") else { throw TokenError(.missingClaim, "token has no \"exp\" claim") }
        guard nowMs < expiresAtMs + skewMs else { throw TokenError(.expired, "token expired") }
        let notBeforeMs = try date(claims, "nbf")
        if let notBeforeMs, nowMs + skewMs < notBeforeMs { throw TokenError(.notYetValid, "token is not valid yet (nbf)") }
        let issuedAtMs = try date(claims, "iat")
        if issuedAtMs == nil && config.requireIssuedAt { throw TokenError(.missingClaim, "token has no \"iat\" claim") }
        if let issuedAtMs, nowMs + skewMs < issuedAtMs { throw TokenError(.issuedInFuture, "token issued in the future (iat)") }

        var issuer: String?
        if let value = claims["iss"] {
            guard let text = value.stringValue else { throw TokenError(.invalidClaim, "claim \"iss\" is not a string") }
            issuer = text
        }
        if let expected = config.expectedIssuer {
            guard let issuer else { throw TokenError(.missingClaim, "token has no \"iss\" claim") }
            guard issuer == expected else { throw TokenError(.wrongIssuer, "token issuer is not the expected issuer") }
        }

        var audiences: [String] = []
        switch claims["aud"] {
        case nil: break
        case .string(let one)?: audiences = [one]
        case .array(let list)?:
            for item in list {
                guard let text = item.stringValue else { throw TokenError(.invalidClaim, "claim \"aud\" holds a non-string") }
                audiences.append(text)
            }
        default: throw TokenError(.invalidClaim, "claim \"aud\" is neither a string nor an array of strings")
        }
        if !config.expectedAudiences.isEmpty {
            guard claims["aud"] != nil else { throw TokenError(.missingClaim, "token has no \"aud\" claim") }
            guard audiences.contains(where: config.expectedAudiences.contains) else {
                throw TokenError(.wrongAudience, "token audience does not include an expected audience")
            }
        }

        let subjectName = config.subjectClaimName
        guard let subjectValue = claims[subjectName] else {
            throw TokenError(.missingClaim, "token has no \(Json.quote(subjectName)) claim for the principal")
        }
        guard let subject = subjectValue.stringValue else {
            throw TokenError(.invalidClaim, "principal claim \(Json.quote(subjectName)) is not a string")
        }
        let principal = String(subject.trimmingBlanks)
        guard !principal.isEmpty else { throw TokenError(.invalidClaim, "principal claim \(Json.quote(subjectName)) is empty") }

        var scopes: [String] = []
        switch claims[config.scopeClaimName] {
        case nil: break
        case .string(let text)?: scopes = text.split(separator: " ").map(String.init)
        case .array(let list)?:
            for item in list {
                guard let text = item.stringValue, !text.trimmingBlanks.isEmpty else {
                    throw TokenError(.invalidClaim, "scope claim \(Json.quote(config.scopeClaimName)) holds an empty or non-string entry")
                }
                scopes.append(String(text.trimmingBlanks))
            }
        default:
            throw TokenError(.invalidClaim, "scope claim \(Json.quote(config.scopeClaimName)) is neither a string nor an array")
        }
        guard Set(scopes).count == scopes.count else {
            throw TokenError(.invalidClaim, "scope claim \(Json.quote(config.scopeClaimName)) repeats a scope")
        }
        var stringClaims: [String: [String]] = [:]
        for (name, value) in claims.members ?? [] {
            switch value {
            case .string(let text): stringClaims[name] = [text]
            case .array(let list):
                let texts = list.compactMap(\.stringValue)
                if texts.count == list.count { stringClaims[name] = texts }
            default: break
            }
        }
        return ValidatedToken(principal: principal, expiresAtMs: expiresAtMs, notBeforeMs: notBeforeMs, issuedAtMs: issuedAtMs,
                              issuer: issuer, audiences: audiences, scopes: scopes, algorithm: algorithm, keyId: keyId,
                              stringClaims: stringClaims)
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces, tabs, CR and LF.
    var trimmingBlanks: Substring {
        let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        let text = self[...]
        guard let first = text.firstIndex(where: { !isBlank($0) }), let last = text.lastIndex(where: { !isBlank($0) }) else {
            return Substring("")
        }
        return Substring(text[first...last])
    }
}
