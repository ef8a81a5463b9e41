// Asymmetric keys through libcrypto (OpenSSL 3): import of public keys from JWK parameters
// (EVP_PKEY_fromdata), signature verification and creation (EVP_DigestVerify/EVP_DigestSign),
// key generation and PEM encoding. Nothing cryptographic is implemented here: every operation is
// one OpenSSL call; this file only moves bytes between Swift and OpenSSL and checks return codes.
// Failures caused by input (a bad key, a bad signature) clear OpenSSL's per-thread error queue,
// so they cannot leak into the TLS code that later runs on the same thread.
internal import COpenSSL

/// A hash function usable in signatures.
public enum DigestAlgorithm: String, Sendable, Hashable {
    case sha256 = "SHA-256"
    case sha384 = "SHA-384"
    case sha512 = "SHA-512"

    var evp: OpaquePointer {
        switch self {
        case .sha256: EVP_sha256()
        case .sha384: EVP_sha384()
        case .sha512: EVP_sha512()
        }
    }

    var length: Int {
        switch self {
        case .sha256: 32
        case .sha384: 48
        case .sha512: 64
        }
    }
}

/// The NIST curves accepted for EC keys (RFC 7518 §6.2.1.1 names).
public enum EllipticCurve: String, Sendable, Hashable, CaseIterable {
    case p256 = "P-256"
    case p384 = "P-384"

    /// Bytes of one coordinate (and of each of r and s in a JWS signature).
    public var coordinateBytes: Int {
        switch self {
        case .p256: 32
        case .p384: 48
        }
    }

    /// OpenSSL's group name.
    var groupName: String {
        switch self {
        case .p256: "prime256v1"
        case .p384: "secp384r1"
        }
    }
}

/// How a signature is made: the padding or encoding and the hash.
public enum SignatureScheme: Sendable, Hashable {
    /// RSASSA-PKCS1-v1_5.
    case rsaPKCS1(DigestAlgorithm)
    /// RSASSA-PSS with MGF1 over the same hash and a salt as long as the hash (RFC 7518 §3.5).
    case rsaPSS(DigestAlgorithm)
    /// ECDSA with the signature as fixed-size r || s (JWS, RFC 7518 §3.4).
    case ecdsaRaw(DigestAlgorithm, EllipticCurve)
}

/// Why a key could not be built or read.
public struct KeyError: Error, Equatable, Sendable, CustomStringConvertible {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// The public parameters of a key, as a JWK carries them.
public enum PublicKeyParameters: Equatable, Sendable {
    case rsa(modulus: [UInt8], exponent: [UInt8])
    case ec(curve: EllipticCurve, x: [UInt8], y: [UInt8])
}

/// An OpenSSL key (`EVP_PKEY`). Immutable once built; OpenSSL 3 allows concurrent use of one
/// key from many threads as long as each operation has its own context, which every method here
/// creates, hence `@unchecked Sendable`.
public final class AsymmetricKey: @unchecked Sendable {
    public enum Kind: Equatable, Sendable {
        case rsa(bits: Int)
        case ec(EllipticCurve)
    }

    let pkey: OpaquePointer
    public let kind: Kind

    /// Takes ownership of `pkey`.
    private init(pkey: OpaquePointer, kind: Kind) {
        self.pkey = pkey
        self.kind = kind
    }

    deinit { EVP_PKEY_free(pkey) }

    /// Smallest RSA modulus accepted for signatures (RFC 7518 §3.3: 2048 bits or larger).
    public static let minimumRsaBits = 2048
    /// Largest RSA modulus accepted (bounds the verification cost an attacker-supplied key set
    /// could impose).
    public static let maximumRsaBits = 16384

    // MARK: Import

    /// An RSA public key from its modulus and public exponent (big-endian unsigned).
    public static func rsaPublicKey(modulus: [UInt8], exponent: [UInt8]) throws(KeyError) -> AsymmetricKey {
        let n = modulus.drop { $0 == 0 }
        let e = exponent.drop { $0 == 0 }
        guard !n.isEmpty else { throw KeyError("RSA modulus is zero") }
        guard !e.isEmpty, e.count <= 8 else { throw KeyError("RSA exponent is zero or longer than 64 bits") }
        guard e.last! & 1 == 1, !(e.count == 1 && e.first! < 3) else { throw KeyError("RSA exponent must be odd and at least 3") }
        let bits = n.count * 8 - n.first!.leadingZeroBitCount
        guard bits >= minimumRsaBits else { throw KeyError("RSA modulus has \(bits) bits; at least \(minimumRsaBits) are required") }
        guard bits <= maximumRsaBits else { throw KeyError("RSA modulus has \(bits) bits; at most \(maximumRsaBits) are accepted") }
        // The builder keeps pointers to the BIGNUMs until OSSL_PARAM_BLD_to_param: free them after.
        let nBig = bignum(Array(n))
        let eBig = bignum(Array(e))
        defer { BN_free(nBig); BN_free(eBig) }
        let key = try fromData(type: "RSA", refusal: "OpenSSL refused the RSA modulus or exponent") { builder in
            OSSL_PARAM_BLD_push_BN(builder, sluice_PARAM_RSA_N(), nBig) == 1
                && OSSL_PARAM_BLD_push_BN(builder, sluice_PARAM_RSA_E(), eBig) == 1
        }
        return AsymmetricKey(pkey: key, kind: .rsa(bits: bits))
    }

    /// An EC public key from its affine coordinates (each exactly `curve.coordinateBytes` long).
    /// The point must lie on the curve.
    public static func ecPublicKey(curve: EllipticCurve, x: [UInt8], y: [UInt8]) throws(KeyError) -> AsymmetricKey {
        guard x.count == curve.coordinateBytes, y.count == curve.coordinateBytes else {
            throw KeyError("\(curve.rawValue) coordinates must be \(curve.coordinateBytes) bytes each")
        }
        let point = [UInt8(4)] + x + y
        // The builder keeps pointers to the pushed buffers until OSSL_PARAM_BLD_to_param, so
        // they are allocated here and freed after the key is built.
        let group = Array(curve.groupName.utf8CString)
        let groupBuffer = UnsafeMutableBufferPointer<CChar>.allocate(capacity: group.count)
        _ = groupBuffer.initialize(from: group)
        let pointBuffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: point.count)
        _ = pointBuffer.initialize(from: point)
        defer {
            groupBuffer.deallocate()
            pointBuffer.deallocate()
        }
        let key = try fromData(type: "EC", refusal: "the point is not on curve \(curve.rawValue)") { builder in
            OSSL_PARAM_BLD_push_utf8_string(builder, sluice_PARAM_GROUP_NAME(), groupBuffer.baseAddress, 0) == 1
                && OSSL_PARAM_BLD_push_octet_string(builder, sluice_PARAM_PUB_KEY(), pointBuffer.baseAddress, pointBuffer.count) == 1
        }
        // fromdata decodes the point; a full public check makes sure it is on the curve and not
        // the point at infinity.
        let context = EVP_PKEY_CTX_new_from_pkey(nil, key, nil)
        defer { EVP_PKEY_CTX_free(context) }
        guard let context, EVP_PKEY_public_check(context) == 1 else {
            EVP_PKEY_free(key)
            ERR_clear_error()
            throw KeyError("the point is not on curve \(curve.rawValue)")
        }
        return AsymmetricKey(pkey: key, kind: .ec(curve))
    }

    private static func bignum(_ bytes: [UInt8]) -> OpaquePointer {
        let big = bytes.withUnsafeBufferPointer { BN_bin2bn($0.baseAddress, Int32($0.count), nil) }
        guard let big else { fatalError("BN_bin2bn failed (out of memory)") }
        return big
    }

    private static func fromData(type: String, refusal: String, _ push: (OpaquePointer) -> Bool) throws(KeyError) -> OpaquePointer {
        guard let builder = OSSL_PARAM_BLD_new() else { fatalError("OSSL_PARAM_BLD_new failed (out of memory)") }
        defer { OSSL_PARAM_BLD_free(builder) }
        guard push(builder), let params = OSSL_PARAM_BLD_to_param(builder) else {
            ERR_clear_error()
            throw KeyError("cannot build \(type) key parameters")
        }
        defer { OSSL_PARAM_free(params) }
        let context = EVP_PKEY_CTX_new_from_name(nil, type, nil)
        defer { EVP_PKEY_CTX_free(context) }
        var key: OpaquePointer?
        guard let context, EVP_PKEY_fromdata_init(context) == 1,
              EVP_PKEY_fromdata(context, &key, sluice_EVP_PKEY_PUBLIC_KEY(), params) == 1, let key else {
            ERR_clear_error()
            throw KeyError(refusal)
        }
        return key
    }

    // MARK: Generation and PEM

    /// A fresh key pair from OpenSSL's generator.
    public static func generateEC(_ curve: EllipticCurve) -> AsymmetricKey {
        AsymmetricKey(pkey: generate(type: "EC") { context in
            curve.groupName.withCString { EVP_PKEY_CTX_set_group_name(context, $0) } == 1
        }, kind: .ec(curve))
    }

    /// A fresh RSA key pair (exponent 65537).
    public static func generateRSA(bits: Int) -> AsymmetricKey {
        precondition(bits >= 1024 && bits <= maximumRsaBits, "RSA size out of range")
        return AsymmetricKey(pkey: generate(type: "RSA") { context in
            EVP_PKEY_CTX_set_rsa_keygen_bits(context, Int32(bits)) == 1
        }, kind: .rsa(bits: bits))
    }

    private static func generate(type: String, _ configure: (OpaquePointer) -> Bool) -> OpaquePointer {
        let context = EVP_PKEY_CTX_new_from_name(nil, type, nil)
        defer { EVP_PKEY_CTX_free(context) }
        var key: OpaquePointer?
        guard let context, EVP_PKEY_keygen_init(context) == 1, configure(context),
              EVP_PKEY_generate(context, &key) == 1, let key else {
            fatalError("OpenSSL \(type) key generation failed")
        }
        return key
    }

    /// A key pair (or public key) from PEM text: PKCS#8 / traditional private keys, or a
    /// SubjectPublicKeyInfo public key.
    public static func fromPEM(_ pem: String) throws(KeyError) -> AsymmetricKey {
        let bytes = Array(pem.utf8)
        let key: OpaquePointer? = bytes.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return nil }
            defer { BIO_free(bio) }
            if pem.contains("PUBLIC KEY-----") { return PEM_read_bio_PUBKEY(bio, nil, nil, nil) }
            return PEM_read_bio_PrivateKey(bio, nil, nil, nil)
        }
        guard let key else {
            ERR_clear_error()
            throw KeyError("not a PEM key OpenSSL can read")
        }
        return try wrap(key)
    }

    /// Wraps a key OpenSSL produced (takes ownership); only RSA and P-256/P-384 keys.
    static func wrap(_ key: OpaquePointer) throws(KeyError) -> AsymmetricKey {
        if EVP_PKEY_is_a(key, "RSA") == 1 {
            return AsymmetricKey(pkey: key, kind: .rsa(bits: Int(EVP_PKEY_get_bits(key))))
        }
        if EVP_PKEY_is_a(key, "EC") == 1 {
            var name = [CChar](repeating: 0, count: 64)
            var length = 0
            let ok = EVP_PKEY_get_utf8_string_param(key, "group", &name, name.count, &length)
            let group = ok == 1 ? String(decoding: name.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
            if let curve = EllipticCurve.allCases.first(where: { $0.groupName == group }) {
                return AsymmetricKey(pkey: key, kind: .ec(curve))
            }
        }
        EVP_PKEY_free(key)
        ERR_clear_error()
        throw KeyError("only RSA and EC P-256/P-384 keys are supported")
    }

    /// The private key as PKCS#8 PEM (unencrypted).
    public func privateKeyPEM() -> String {
        pem { bio in PEM_write_bio_PrivateKey(bio, pkey, nil, nil, 0, nil, nil) }
    }

    /// The public key as SubjectPublicKeyInfo PEM.
    public func publicKeyPEM() -> String {
        pem { bio in PEM_write_bio_PUBKEY(bio, pkey) }
    }

    private func pem(_ write: (OpaquePointer) -> Int32) -> String {
        guard let bio = BIO_new(BIO_s_mem()) else { fatalError("BIO_new failed (out of memory)") }
        defer { BIO_free(bio) }
        precondition(write(bio) == 1, "PEM encoding failed")
        return Self.bioText(bio)
    }

    static func bioText(_ bio: OpaquePointer) -> String {
        var data: UnsafeMutablePointer<CChar>?
        let length = sluice_BIO_get_mem_data(bio, &data)
        guard let data, length > 0 else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
    }

    /// The public parameters (for a JWK).
    public var publicParameters: PublicKeyParameters {
        switch kind {
        case .rsa:
            return .rsa(modulus: bigParameter("n"), exponent: bigParameter("e"))
        case .ec(let curve):
            var point = [UInt8](repeating: 0, count: 1 + 2 * curve.coordinateBytes)
            var length = 0
            let ok = EVP_PKEY_get_octet_string_param(pkey, "pub", &point, point.count, &length)
            precondition(ok == 1 && length == point.count && point[0] == 4, "cannot read the EC public point")
            let size = curve.coordinateBytes
            return .ec(curve: curve, x: Array(point[1...size]), y: Array(point[(size + 1)...]))
        }
    }

    private func bigParameter(_ name: String) -> [UInt8] {
        var big: OpaquePointer?
        guard EVP_PKEY_get_bn_param(pkey, name, &big) == 1, let big else { fatalError("cannot read RSA parameter \(name)") }
        defer { BN_free(big) }
        var out = [UInt8](repeating: 0, count: Int((BN_num_bits(big) + 7) / 8))
        _ = out.withUnsafeMutableBufferPointer { BN_bn2bin(big, $0.baseAddress) }
        return out
    }

    // MARK: Signatures

    /// Whether `scheme` fits this key (RSA schemes for RSA keys, ECDSA on the key's own curve).
    public func accepts(_ scheme: SignatureScheme) -> Bool {
        switch (scheme, kind) {
        case (.rsaPKCS1, .rsa), (.rsaPSS, .rsa): return true
        case let (.ecdsaRaw(_, curve), .ec(keyCurve)): return curve == keyCurve
        default: return false
        }
    }

    /// Whether `signature` is a valid signature of `message` under `scheme` with this key.
    /// Wrong sizes, a scheme that does not fit the key and malformed signatures are `false`.
    public func verify(_ scheme: SignatureScheme, message: [UInt8], signature: [UInt8]) -> Bool {
        guard accepts(scheme) else { return false }
        var encoded = signature
        if case .ecdsaRaw(_, let curve) = scheme {
            guard let der = Self.rawToDER(signature, curve: curve) else { return false }
            encoded = der
        } else if case .rsa(let bits) = kind, signature.count != (bits + 7) / 8 {
            return false
        }
        guard let context = EVP_MD_CTX_new() else { fatalError("EVP_MD_CTX_new failed (out of memory)") }
        defer { EVP_MD_CTX_free(context) }
        var keyContext: OpaquePointer?
        guard EVP_DigestVerifyInit(context, &keyContext, scheme.digest.evp, nil, pkey) == 1,
              configure(keyContext, scheme) else {
            ERR_clear_error()
            return false
        }
        let result = encoded.withUnsafeBufferPointer { sig in
            message.withUnsafeBufferPointer { data in
                EVP_DigestVerify(context, sig.baseAddress, sig.count, data.baseAddress, data.count)
            }
        }
        if result != 1 { ERR_clear_error() }
        return result == 1
    }

    /// Signs `message` (for tests, token minting and certificates). Needs a private key.
    public func sign(_ scheme: SignatureScheme, message: [UInt8]) throws(KeyError) -> [UInt8] {
        guard accepts(scheme) else { throw KeyError("signature scheme does not fit the key") }
        guard let context = EVP_MD_CTX_new() else { fatalError("EVP_MD_CTX_new failed (out of memory)") }
        defer { EVP_MD_CTX_free(context) }
        var keyContext: OpaquePointer?
        guard EVP_DigestSignInit(context, &keyContext, scheme.digest.evp, nil, pkey) == 1,
              configure(keyContext, scheme) else {
            ERR_clear_error()
            throw KeyError("OpenSSL cannot sign with this key")
        }
        var length = 0
        let sized = message.withUnsafeBufferPointer { EVP_DigestSign(context, nil, &length, $0.baseAddress, $0.count) }
        guard sized == 1 else {
            ERR_clear_error()
            throw KeyError("OpenSSL cannot sign with this key (no private key?)")
        }
        var out = [UInt8](repeating: 0, count: length)
        let ok = out.withUnsafeMutableBufferPointer { sig in
            message.withUnsafeBufferPointer { data in
                EVP_DigestSign(context, sig.baseAddress, &length, data.baseAddress, data.count)
            }
        }
        guard ok == 1 else {
            ERR_clear_error()
            throw KeyError("OpenSSL signing failed")
        }
        out.removeSubrange(length...)
        if case .ecdsaRaw(_, let curve) = scheme {
            guard let raw = Self.derToRaw(out, curve: curve) else { throw KeyError("unexpected ECDSA signature encoding") }
            return raw
        }
        return out
    }

    private func configure(_ keyContext: OpaquePointer?, _ scheme: SignatureScheme) -> Bool {
        guard case .rsaPSS(let digest) = scheme else { return true }
        guard let keyContext else { return false }
        return EVP_PKEY_CTX_set_rsa_padding(keyContext, RSA_PKCS1_PSS_PADDING) == 1
            && EVP_PKEY_CTX_set_rsa_pss_saltlen(keyContext, Int32(digest.length)) == 1
            && EVP_PKEY_CTX_set_rsa_mgf1_md(keyContext, digest.evp) == 1
    }

    /// JWS r || s → DER `ECDSA-Sig-Value` (ECDSA_SIG_set0 + i2d_ECDSA_SIG).
    static func rawToDER(_ raw: [UInt8], curve: EllipticCurve) -> [UInt8]? {
        let size = curve.coordinateBytes
        guard raw.count == 2 * size else { return nil }
        guard let signature = ECDSA_SIG_new() else { fatalError("ECDSA_SIG_new failed (out of memory)") }
        defer { ECDSA_SIG_free(signature) }
        let r = raw.withUnsafeBufferPointer { BN_bin2bn($0.baseAddress, Int32(size), nil) }
        let s = raw.withUnsafeBufferPointer { BN_bin2bn($0.baseAddress! + size, Int32(size), nil) }
        guard let r, let s else { fatalError("BN_bin2bn failed (out of memory)") }
        guard ECDSA_SIG_set0(signature, r, s) == 1 else {
            BN_free(r)
            BN_free(s)
            return nil
        }
        let length = i2d_ECDSA_SIG(signature, nil)
        guard length > 0 else { ERR_clear_error(); return nil }
        var out = [UInt8](repeating: 0, count: Int(length))
        let written = out.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var cursor: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
            return i2d_ECDSA_SIG(signature, &cursor)
        }
        guard written == length else { ERR_clear_error(); return nil }
        return out
    }

    /// DER `ECDSA-Sig-Value` → fixed-size r || s.
    static func derToRaw(_ der: [UInt8], curve: EllipticCurve) -> [UInt8]? {
        let parsed: OpaquePointer? = der.withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            return d2i_ECDSA_SIG(nil, &cursor, buffer.count)
        }
        guard let parsed else { ERR_clear_error(); return nil }
        defer { ECDSA_SIG_free(parsed) }
        let size = curve.coordinateBytes
        var out = [UInt8](repeating: 0, count: 2 * size)
        let ok = out.withUnsafeMutableBufferPointer { buffer in
            BN_bn2binpad(ECDSA_SIG_get0_r(parsed), buffer.baseAddress, Int32(size)) == Int32(size)
                && BN_bn2binpad(ECDSA_SIG_get0_s(parsed), buffer.baseAddress! + size, Int32(size)) == Int32(size)
        }
        return ok ? out : nil
    }
}

extension SignatureScheme {
    var digest: DigestAlgorithm {
        switch self {
        case .rsaPKCS1(let digest), .rsaPSS(let digest), .ecdsaRaw(let digest, _): digest
        }
    }
}

extension Crypto {
    /// SHA-256 of `data` (audit chain).
    static func sha256(_ data: [UInt8]) -> [UInt8] { digest(.sha256, data) }
}
