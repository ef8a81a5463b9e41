// X.509 through libcrypto: building and signing development certificates, reading PEM
// certificates, chain verification (X509_verify_cert), host/IP checks and the subject as an
// RFC 2253 string (what `ssl.principal.mapping.rules` is applied to). No certificate logic of our
// own: every field is set and every check made by an OpenSSL call.
internal import COpenSSL

public struct CertificateError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A parsed X.509 certificate (`X509*`). Immutable; `@unchecked Sendable` for the same reason as
/// `AsymmetricKey`.
public final class Certificate: @unchecked Sendable {
    let x509: OpaquePointer

    /// Takes ownership.
    init(x509: OpaquePointer) { self.x509 = x509 }
    deinit { X509_free(x509) }

    /// The first certificate of PEM text.
    public convenience init(pem: String) throws(CertificateError) {
        let bytes = Array(pem.utf8)
        let parsed: OpaquePointer? = bytes.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_X509(bio, nil, nil, nil)
        }
        guard let parsed else {
            ERR_clear_error()
            throw CertificateError("not a PEM certificate OpenSSL can read")
        }
        self.init(x509: parsed)
    }

    /// A DER certificate (e.g. the TLS peer's, from `i2d_X509`).
    public convenience init(der: [UInt8]) throws(CertificateError) {
        let parsed: OpaquePointer? = der.withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            return d2i_X509(nil, &cursor, buffer.count)
        }
        guard let parsed else {
            ERR_clear_error()
            throw CertificateError("not a DER certificate OpenSSL can read")
        }
        self.init(x509: parsed)
    }

    /// The DER encoding.
    public var der: [UInt8] {
        let length = i2d_X509(x509, nil)
        precondition(length > 0, "i2d_X509 failed")
        var out = [UInt8](repeating: 0, count: Int(length))
        _ = out.withUnsafeMutableBufferPointer { buffer in
            var cursor: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
            return i2d_X509(x509, &cursor)
        }
        return out
    }

    public var pem: String {
        guard let bio = BIO_new(BIO_s_mem()) else { fatalError("BIO_new failed (out of memory)") }
        defer { BIO_free(bio) }
        precondition(PEM_write_bio_X509(bio, x509) == 1, "PEM_write_bio_X509 failed")
        return AsymmetricKey.bioText(bio)
    }

    /// The subject as RFC 2253 text (`CN=alice,OU=clients,O=Sluice Dev`), most specific first.
    public var subjectRFC2253: String { Self.rfc2253(X509_get_subject_name(x509)) }
    public var issuerRFC2253: String { Self.rfc2253(X509_get_issuer_name(x509)) }

    static func rfc2253(_ name: OpaquePointer?) -> String {
        guard let bio = BIO_new(BIO_s_mem()) else { fatalError("BIO_new failed (out of memory)") }
        defer { BIO_free(bio) }
        _ = X509_NAME_print_ex(bio, name, 0, sluice_XN_FLAG_RFC2253())
        return AsymmetricKey.bioText(bio)
    }

    /// Whether the certificate is valid for `host` (SAN dNSName, OpenSSL's matching rules).
    public func matches(host: String) -> Bool {
        X509_check_host(x509, host, host.utf8.count, 0, nil) == 1
    }

    /// Whether the certificate has an iPAddress SAN equal to `ip` (IPv4 or IPv6 text).
    public func matches(ip: String) -> Bool {
        X509_check_ip_asc(x509, ip, 0) == 1
    }

    /// Whether `key` is the private key of this certificate's public key.
    public func matches(privateKey key: AsymmetricKey) -> Bool {
        let result = X509_check_private_key(x509, key.pkey) == 1
        ERR_clear_error()
        return result
    }

    public enum Purpose: Sendable {
        case serverAuth, clientAuth, any
    }

    /// Verifies this certificate against `trusted` roots (X509_verify_cert), including the
    /// extended key usage for `purpose` and validity at `atSeconds` (now when nil).
    public func verify(trusted: [Certificate], purpose: Purpose = .any, atSeconds: Int64? = nil) throws(CertificateError) {
        guard let store = X509_STORE_new() else { fatalError("X509_STORE_new failed (out of memory)") }
        defer { X509_STORE_free(store) }
        for root in trusted { X509_STORE_add_cert(store, root.x509) }
        guard let context = X509_STORE_CTX_new() else { fatalError("X509_STORE_CTX_new failed (out of memory)") }
        defer { X509_STORE_CTX_free(context) }
        guard X509_STORE_CTX_init(context, store, x509, nil) == 1 else {
            ERR_clear_error()
            throw CertificateError("cannot set up verification")
        }
        switch purpose {
        case .serverAuth: X509_STORE_CTX_set_purpose(context, X509_PURPOSE_SSL_SERVER)
        case .clientAuth: X509_STORE_CTX_set_purpose(context, X509_PURPOSE_SSL_CLIENT)
        case .any: break
        }
        if let atSeconds { X509_STORE_CTX_set_time(context, 0, time_t(atSeconds)) }
        guard X509_verify_cert(context) == 1 else {
            let code = X509_STORE_CTX_get_error(context)
            ERR_clear_error()
            throw CertificateError("certificate does not verify: \(String(cString: X509_verify_cert_error_string(Int(code))))")
        }
    }

    // MARK: Building

    /// A new certificate for `publicKey`, signed with `signingKey` (SHA-256) by `issuer` (nil for
    /// self-signed). `subject` is in ASN.1 order (most general first: O, OU, CN).
    /// `extensions` are OpenSSL configuration values by NID (`X509V3_EXT_conf_nid`).
    static func issue(subject: [(String, String)], publicKey: AsymmetricKey, signingKey: AsymmetricKey, issuer: Certificate?,
                      validityDays: Int, extensions: [(Int32, String)]) throws(CertificateError) -> Certificate {
        guard let x509 = X509_new() else { fatalError("X509_new failed (out of memory)") }
        let certificate = Certificate(x509: x509)
        func check(_ ok: Bool, _ what: String) throws(CertificateError) {
            guard ok else {
                ERR_clear_error()
                throw CertificateError("cannot build the certificate: \(what)")
            }
        }
        try check(X509_set_version(x509, 2) == 1, "version")
        var serial = Crypto.randomBytes(16)
        serial[0] = serial[0] & 0x7F | 0x40
        let serialBig = serial.withUnsafeBufferPointer { BN_bin2bn($0.baseAddress, Int32($0.count), nil) }
        defer { BN_free(serialBig) }
        try check(BN_to_ASN1_INTEGER(serialBig, X509_get_serialNumber(x509)) != nil, "serial number")
        try check(X509_gmtime_adj(X509_getm_notBefore(x509), -3600) != nil, "notBefore")
        try check(X509_gmtime_adj(X509_getm_notAfter(x509), validityDays * 86400) != nil, "notAfter")
        let name = X509_get_subject_name(x509)
        for (field, value) in subject {
            let bytes = Array(value.utf8)
            let ok = bytes.withUnsafeBufferPointer {
                X509_NAME_add_entry_by_txt(name, field, sluice_MBSTRING_UTF8(), $0.baseAddress, Int32($0.count), -1, 0)
            }
            try check(ok == 1, "subject \(field)")
        }
        try check(X509_set_issuer_name(x509, issuer.map { X509_get_subject_name($0.x509) } ?? name) == 1, "issuer")
        try check(X509_set_pubkey(x509, publicKey.pkey) == 1, "public key")
        var context = X509V3_CTX()
        X509V3_set_ctx(&context, issuer?.x509 ?? x509, x509, nil, nil, 0)
        for (nid, value) in extensions {
            let ext = X509V3_EXT_conf_nid(nil, &context, nid, value)
            try check(ext != nil, "extension \(nid) = \(value)")
            defer { X509_EXTENSION_free(ext) }
            try check(X509_add_ext(x509, ext, -1) == 1, "extension \(nid)")
        }
        try check(X509_sign(x509, signingKey.pkey, EVP_sha256()) > 0, "signature")
        return certificate
    }
}

/// NIDs of the extensions the development certificates use (kept here so callers need no C).
enum CertificateExtension {
    static let basicConstraints = NID_basic_constraints
    static let keyUsage = NID_key_usage
    static let extendedKeyUsage = NID_ext_key_usage
    static let subjectKeyIdentifier = NID_subject_key_identifier
    static let authorityKeyIdentifier = NID_authority_key_identifier
    static let subjectAltName = NID_subject_alt_name
}
