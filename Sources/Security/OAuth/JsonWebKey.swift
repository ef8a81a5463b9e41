// JSON Web Keys (RFC 7517) and the JWS algorithms we verify (RFC 7518 §3). Only asymmetric
// signature keys are accepted: RSA (`n`, `e`) and EC P-256/P-384 (`crv`, `x`, `y`). Symmetric
// (`oct`) keys are never usable, so an HMAC algorithm can never be verified with a public key's
// bytes as its secret (the algorithm-confusion attack).

/// A JWS signature algorithm we verify. `none` and the HMAC family (`HS*`) are deliberately absent.
public enum JwsAlgorithm: String, Sendable, Hashable, CaseIterable {
    case rs256 = "RS256", rs384 = "RS384", rs512 = "RS512"
    case ps256 = "PS256", ps384 = "PS384", ps512 = "PS512"
    case es256 = "ES256", es384 = "ES384"

    /// The OpenSSL signature scheme behind the algorithm.
    public var scheme: SignatureScheme {
        switch self {
        case .rs256: .rsaPKCS1(.sha256)
        case .rs384: .rsaPKCS1(.sha384)
        case .rs512: .rsaPKCS1(.sha512)
        case .ps256: .rsaPSS(.sha256)
        case .ps384: .rsaPSS(.sha384)
        case .ps512: .rsaPSS(.sha512)
        case .es256: .ecdsaRaw(.sha256, .p256)
        case .es384: .ecdsaRaw(.sha384, .p384)
        }
    }
}

/// One usable verification key of a key set.
public struct JsonWebKey: Sendable {
    /// `kid`, when the JWK has one.
    public let keyId: String?
    /// `alg`, when the JWK restricts itself to one algorithm.
    public let algorithm: JwsAlgorithm?
    /// `use` as written (absent or `sig` for usable keys).
    public let use: String?
    public let key: AsymmetricKey

    public init(keyId: String?, algorithm: JwsAlgorithm?, use: String?, key: AsymmetricKey) {
        self.keyId = keyId
        self.algorithm = algorithm
        self.use = use
        self.key = key
    }

    /// The public JWK as JSON (for tools and tests): `kty`, key parameters, `kid`/`alg`/`use`.
    public var json: String {
        var members: [String] = []
        switch key.publicParameters {
        case let .rsa(modulus, exponent):
            members += ["\"kty\":\"RSA\"", "\"n\":\(Json.quote(Base64URL.encode(modulus)))",
                        "\"e\":\(Json.quote(Base64URL.encode(exponent)))"]
        case let .ec(curve, x, y):
            members += ["\"kty\":\"EC\"", "\"crv\":\(Json.quote(curve.rawValue))",
                        "\"x\":\(Json.quote(Base64URL.encode(x)))", "\"y\":\(Json.quote(Base64URL.encode(y)))"]
        }
        if let keyId { members.append("\"kid\":\(Json.quote(keyId))") }
        if let algorithm { members.append("\"alg\":\(Json.quote(algorithm.rawValue))") }
        if let use { members.append("\"use\":\(Json.quote(use))") }
        return "{" + members.joined(separator: ",") + "}"
    }
}

/// Why a JWK set was refused as a whole.
public struct JwksError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A JWK set (RFC 7517 §5): the usable signature keys, plus one line per key that was skipped
/// and why (encryption keys, unsupported types or curves, malformed parameters).
public struct JsonWebKeySet: Sendable {
    public let keys: [JsonWebKey]
    public let skipped: [String]

    public init(keys: [JsonWebKey], skipped: [String] = []) {
        self.keys = keys
        self.skipped = skipped
    }

    /// Largest JWKS document accepted.
    public static let maxBytes = 1 << 20

    /// JSON of the whole set (`{"keys":[...]}`).
    public var json: String { "{\"keys\":[" + keys.map(\.json).joined(separator: ",") + "]}" }

    /// Parses a JWK set document. Refused as a whole: invalid JSON, no `keys` array, a key that
    /// carries private parameters (a JWKS file must be public), two keys with the same `kid`, and
    /// a set without any usable key. Individual keys that cannot be used are listed in `skipped`.
    public static func parse(_ bytes: [UInt8]) throws(JwksError) -> JsonWebKeySet {
        guard bytes.count <= maxBytes else { throw JwksError("JWKS document larger than \(maxBytes) bytes") }
        let document: JsonValue
        do { document = try Json.parse(bytes) } catch { throw JwksError("JWKS is not valid JSON: \(error)") }
        guard case .array(let entries)? = document["keys"] else {
            throw JwksError("JWKS must be an object with a \"keys\" array")
        }
        var keys: [JsonWebKey] = []
        var skipped: [String] = []
        var keyIds = Set<String>()
        for (index, entry) in entries.enumerated() {
            guard let members = entry.members else { throw JwksError("key \(index) is not a JSON object") }
            let kidValue = entry["kid"]
            if let kidValue, kidValue.stringValue == nil { throw JwksError("key \(index): \"kid\" must be a string") }
            let kid = kidValue?.stringValue
            let label = kid.map { "key \(index) (kid \(Json.quote($0)))" } ?? "key \(index)"
            for privateName in ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] where members.contains(where: { $0.0 == privateName }) {
                throw JwksError("\(label) contains private or secret key material (\"\(privateName)\"); a JWKS file must hold public keys only")
            }
            if let kid {
                guard keyIds.insert(kid).inserted else { throw JwksError("\(label): kid used by more than one key") }
            }
            switch parseKey(entry, keyId: kid) {
            case .success(let key): keys.append(key)
            case .failure(let reason): skipped.append("\(label) skipped: \(reason.message)")
            }
        }
        guard !keys.isEmpty else {
            throw JwksError("JWKS has no usable signature key" + (skipped.isEmpty ? "" : " (" + skipped.joined(separator: "; ") + ")"))
        }
        return JsonWebKeySet(keys: keys, skipped: skipped)
    }

    private static func parseKey(_ entry: JsonValue, keyId: String?) -> Result<JsonWebKey, JwksError> {
        func string(_ name: String) -> Result<String?, JwksError> {
            guard let value = entry[name] else { return .success(nil) }
            guard let text = value.stringValue else { return .failure(JwksError("\"\(name)\" must be a string")) }
            return .success(text)
        }
        func bytes(_ name: String) -> Result<[UInt8], JwksError> {
            guard let text = entry[name]?.stringValue else { return .failure(JwksError("\"\(name)\" missing or not a string")) }
            guard let decoded = Base64URL.decode(text) else { return .failure(JwksError("\"\(name)\" is not base64url")) }
            return .success(decoded)
        }
        do {
            guard let kty = try string("kty").get() else { return .failure(JwksError("no \"kty\"")) }
            let use = try string("use").get()
            if let use, use != "sig" { return .failure(JwksError("\"use\" is \(Json.quote(use)), not \"sig\"")) }
            if let ops = entry["key_ops"] {
                guard case .array(let list) = ops, list.allSatisfy({ $0.stringValue != nil }) else {
                    return .failure(JwksError("\"key_ops\" must be an array of strings"))
                }
                guard list.contains(.string("verify")) else { return .failure(JwksError("\"key_ops\" does not include \"verify\"")) }
            }
            var algorithm: JwsAlgorithm?
            if let alg = try string("alg").get() {
                guard let known = JwsAlgorithm(rawValue: alg) else {
                    return .failure(JwksError("\"alg\" \(Json.quote(alg)) is not an accepted signature algorithm"))
                }
                algorithm = known
            }
            let key: AsymmetricKey
            switch kty {
            case "RSA":
                if let algorithm, case .ecdsaRaw = algorithm.scheme { return .failure(JwksError("\"alg\" \(algorithm.rawValue) does not fit an RSA key")) }
                key = try AsymmetricKey.rsaPublicKey(modulus: bytes("n").get(), exponent: bytes("e").get())
            case "EC":
                guard let crvName = try string("crv").get() else { return .failure(JwksError("no \"crv\"")) }
                guard let curve = EllipticCurve(rawValue: crvName) else {
                    return .failure(JwksError("curve \(Json.quote(crvName)) is not supported (P-256, P-384)"))
                }
                if let algorithm, algorithm.scheme != .ecdsaRaw(algorithm.scheme.digest, curve) {
                    return .failure(JwksError("\"alg\" \(algorithm.rawValue) does not fit a \(curve.rawValue) key"))
                }
                key = try AsymmetricKey.ecPublicKey(curve: curve, x: bytes("x").get(), y: bytes("y").get())
            default:
                return .failure(JwksError("kty \(Json.quote(kty)) is not accepted (only RSA and EC signature keys)"))
            }
            return .success(JsonWebKey(keyId: keyId, algorithm: algorithm, use: use, key: key))
        } catch let error as JwksError {
            return .failure(error)
        } catch let error as KeyError {
            return .failure(JwksError(error.reason))
        } catch {
            return .failure(JwksError("\(error)"))
        }
    }
}
