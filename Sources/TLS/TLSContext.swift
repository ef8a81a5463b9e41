internal import COpenSSL
import Glibc
import Synchronization

/// Why TLS could not be set up or failed. The message comes from OpenSSL's error queue.
public struct TLSError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }

    /// Drains this thread's OpenSSL error queue into one message.
    static func fromQueue(_ what: String) -> TLSError {
        TLSError(what + OpenSSLErrors.drain())
    }
}

enum OpenSSLErrors {
    /// ": reason; reason" from the thread's error queue (empty if none); clears the queue.
    static func drain() -> String {
        var reasons: [String] = []
        var buffer = [CChar](repeating: 0, count: 256)
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            ERR_error_string_n(code, &buffer, buffer.count)
            reasons.append(buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
        }
        return reasons.isEmpty ? "" : ": " + reasons.joined(separator: "; ")
    }
}

/// Whether a TLS server asks for client certificates (Kafka's `ssl.client.auth`).
public enum TLSClientAuth: String, Sendable, Hashable {
    case none, requested, required
}

/// TLS protocol versions we speak. Older ones are never enabled.
public enum TLSVersion: String, Sendable, Hashable, CaseIterable, Comparable {
    case tls12 = "TLSv1.2"
    case tls13 = "TLSv1.3"

    public static func < (a: TLSVersion, b: TLSVersion) -> Bool { a == .tls12 && b == .tls13 }
}

/// What a server context is built from: PEM files (KIP-651's PEM keystore/truststore).
public struct TLSServerSettings: Sendable, Hashable {
    /// PEM file with the certificate chain (leaf first). May also hold the key.
    public var certificateChainPath: String
    /// PEM file with the private key (unencrypted); often the same file as the chain.
    public var privateKeyPath: String
    /// PEM CA certificates that client certificates must chain to.
    public var trustStorePath: String?
    public var clientAuth: TLSClientAuth
    public var versions: Set<TLSVersion>
    /// Cipher names (IANA names like `TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256` or OpenSSL names);
    /// empty keeps our modern defaults.
    public var cipherSuites: [String]

    public init(certificateChainPath: String, privateKeyPath: String, trustStorePath: String? = nil,
                clientAuth: TLSClientAuth = .none, versions: Set<TLSVersion> = [.tls12, .tls13],
                cipherSuites: [String] = []) {
        self.certificateChainPath = certificateChainPath
        self.privateKeyPath = privateKeyPath
        self.trustStorePath = trustStorePath
        self.clientAuth = clientAuth
        self.versions = versions
        self.cipherSuites = cipherSuites
    }

    var files: [String] { [certificateChainPath, privateKeyPath] + (trustStorePath.map { [$0] } ?? []) }
}

/// What a client context is built from (tests and the CLI's client).
public struct TLSClientSettings: Sendable, Hashable {
    /// PEM CA certificates the server's certificate must chain to; nil trusts nothing (then
    /// `verifyPeer` must be false).
    public var trustStorePath: String?
    public var verifyPeer: Bool
    /// Client certificate chain and key for mutual TLS.
    public var certificateChainPath: String?
    public var privateKeyPath: String?
    public var versions: Set<TLSVersion>

    public init(trustStorePath: String?, verifyPeer: Bool = true, certificateChainPath: String? = nil,
                privateKeyPath: String? = nil, versions: Set<TLSVersion> = [.tls12, .tls13]) {
        self.trustStorePath = trustStorePath
        self.verifyPeer = verifyPeer
        self.certificateChainPath = certificateChainPath
        self.privateKeyPath = privateKeyPath
        self.versions = versions
    }
}

/// A configured OpenSSL `SSL_CTX`. Immutable once built, which makes it safe to create
/// connections from on any thread (OpenSSL's contract for a context no longer being configured).
public final class TLSContext: @unchecked Sendable {
    /// TLS 1.2 suites when none are configured: forward-secret AEAD only (TLS 1.3's own
    /// defaults are all AEAD already).
    public static let defaultTLS12Ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
        + "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
        + "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

    /// TLS 1.3 suites when none are configured: OpenSSL's set, AES-128-GCM first (as fast as the
    /// hardware allows and 128-bit secure; OpenSSL's default puts AES-256 first).
    public static let defaultTLS13Suites = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"

    let ctx: OpaquePointer
    public let isServer: Bool

    private init(ctx: OpaquePointer, isServer: Bool) {
        self.ctx = ctx
        self.isServer = isServer
    }

    deinit { SSL_CTX_free(ctx) }

    /// A server context from PEM files. Fails with OpenSSL's reasons when a file is missing,
    /// malformed, or the key does not match the certificate.
    public static func server(_ settings: TLSServerSettings) throws(TLSError) -> TLSContext {
        ERR_clear_error()
        guard let ctx = SSL_CTX_new(TLS_server_method()) else { throw TLSError.fromQueue("SSL_CTX_new") }
        let context = TLSContext(ctx: ctx, isServer: true)
        try context.applyVersions(settings.versions)
        try context.applyCiphers(settings.cipherSuites)
        SSL_CTX_set_options(ctx, sluice_SSL_OP_server_defaults())
        context.applyReadAhead()
        _ = sluice_SSL_CTX_set_session_cache_mode(ctx, Int(SSL_SESS_CACHE_OFF))
        guard SSL_CTX_use_certificate_chain_file(ctx, settings.certificateChainPath) == 1 else {
            throw TLSError.fromQueue("certificate chain \(settings.certificateChainPath)")
        }
        guard SSL_CTX_use_PrivateKey_file(ctx, settings.privateKeyPath, SSL_FILETYPE_PEM) == 1 else {
            throw TLSError.fromQueue("private key \(settings.privateKeyPath)")
        }
        guard SSL_CTX_check_private_key(ctx) == 1 else {
            throw TLSError.fromQueue("private key \(settings.privateKeyPath) does not match the certificate")
        }
        if let trust = settings.trustStorePath {
            guard SSL_CTX_load_verify_locations(ctx, trust, nil) == 1 else {
                throw TLSError.fromQueue("truststore \(trust)")
            }
            if let names = SSL_load_client_CA_file(trust) { SSL_CTX_set_client_CA_list(ctx, names) }
        } else if settings.clientAuth != .none {
            throw TLSError("ssl.client.auth=\(settings.clientAuth.rawValue) needs a truststore (ssl.truststore.location)")
        }
        switch settings.clientAuth {
        case .none: SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nil)
        case .requested: SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nil)
        case .required: SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nil)
        }
        return context
    }

    /// A client context (tests, the CLI).
    public static func client(_ settings: TLSClientSettings) throws(TLSError) -> TLSContext {
        ERR_clear_error()
        guard let ctx = SSL_CTX_new(TLS_client_method()) else { throw TLSError.fromQueue("SSL_CTX_new") }
        let context = TLSContext(ctx: ctx, isServer: false)
        try context.applyVersions(settings.versions)
        context.applyReadAhead()
        if let trust = settings.trustStorePath {
            guard SSL_CTX_load_verify_locations(ctx, trust, nil) == 1 else {
                throw TLSError.fromQueue("truststore \(trust)")
            }
        }
        SSL_CTX_set_verify(ctx, settings.verifyPeer ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nil)
        if let chain = settings.certificateChainPath {
            guard SSL_CTX_use_certificate_chain_file(ctx, chain) == 1 else {
                throw TLSError.fromQueue("certificate chain \(chain)")
            }
            let keyPath = settings.privateKeyPath ?? chain
            guard SSL_CTX_use_PrivateKey_file(ctx, keyPath, SSL_FILETYPE_PEM) == 1,
                  SSL_CTX_check_private_key(ctx) == 1 else {
                throw TLSError.fromQueue("private key \(keyPath)")
            }
        }
        return context
    }

    /// Read whole socket buffers (up to 64 KiB) instead of a record header and then its body:
    /// half the read(2) calls or fewer on a busy connection.
    private func applyReadAhead() {
        sluice_SSL_CTX_set_read_ahead(ctx, 1)
        SSL_CTX_set_default_read_buffer_len(ctx, 64 * 1024)
    }

    private func applyVersions(_ versions: Set<TLSVersion>) throws(TLSError) {
        guard let low = versions.min(), let high = versions.max() else {
            throw TLSError("no TLS protocol version enabled (allowed: TLSv1.2, TLSv1.3)")
        }
        let code = { (v: TLSVersion) in v == .tls12 ? sluice_TLS1_2_VERSION() : sluice_TLS1_3_VERSION() }
        guard sluice_SSL_CTX_set_min_proto_version(ctx, code(low)) == 1,
              sluice_SSL_CTX_set_max_proto_version(ctx, code(high)) == 1 else {
            throw TLSError.fromQueue("TLS protocol versions")
        }
    }

    /// Splits configured names into TLS 1.3 suites and TLS 1.2 ciphers; IANA names of TLS 1.2
    /// suites (as Kafka's `ssl.cipher.suites` uses) are translated to OpenSSL's names.
    private func applyCiphers(_ names: [String]) throws(TLSError) {
        var tls13: [String] = []
        var tls12: [String] = []
        for name in names where !name.isEmpty {
            if ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
                "TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256"].contains(name) {
                tls13.append(name)
            } else if name.hasPrefix("TLS_") {
                let openSSLName = String(cString: OPENSSL_cipher_name(name))
                guard openSSLName != "(NONE)" else { throw TLSError("ssl.cipher.suites: unknown cipher suite \(name)") }
                tls12.append(openSSLName)
            } else {
                tls12.append(name)
            }
        }
        let list12 = names.isEmpty ? Self.defaultTLS12Ciphers : tls12.joined(separator: ":")
        if !list12.isEmpty || names.isEmpty {
            guard SSL_CTX_set_cipher_list(ctx, list12) == 1 else {
                throw TLSError.fromQueue("ssl.cipher.suites (TLS 1.2) '\(list12)'")
            }
        } else {
            // Only TLS 1.3 suites named: TLS 1.2 gets none, so it cannot be negotiated.
            _ = SSL_CTX_set_cipher_list(ctx, "aNULL:!aNULL")
        }
        let suites13 = tls13.isEmpty ? Self.defaultTLS13Suites : tls13.joined(separator: ":")
        do {
            guard SSL_CTX_set_ciphersuites(ctx, suites13) == 1 else {
                throw TLSError.fromQueue("ssl.cipher.suites (TLS 1.3)")
            }
        }
    }
}

/// A server context that follows its files: `reloadIfChanged` (called periodically) rebuilds it
/// when a certificate, key or truststore file changed, so renewed certificates apply without a
/// restart. Existing connections keep the context they started with.
public final class ReloadingTLSContext: Sendable {
    public let settings: TLSServerSettings
    private struct State {
        var context: TLSContext
        var stamps: [FileStamp]
        var lastError: String?
    }
    private let state: Mutex<State>

    struct FileStamp: Equatable {
        var inode: UInt64
        var size: Int64
        var mtimeNs: Int64

        static func of(_ path: String) -> FileStamp? {
            var st = stat()
            guard stat(path, &st) == 0 else { return nil }
            return FileStamp(inode: UInt64(st.st_ino), size: Int64(st.st_size),
                             mtimeNs: Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec))
        }
    }

    public init(_ settings: TLSServerSettings) throws(TLSError) {
        self.settings = settings
        let stamps = settings.files.map { FileStamp.of($0) ?? FileStamp(inode: 0, size: -1, mtimeNs: 0) }
        state = Mutex(State(context: try TLSContext.server(settings), stamps: stamps))
    }

    /// The context new connections use.
    public var current: TLSContext { state.withLock { $0.context } }

    /// Rebuilds the context if any file changed. Returns nil when nothing changed or the reload
    /// worked, else why the new files were refused (the old context stays in force; the same
    /// failure is reported once).
    public func reloadIfChanged() -> (reloaded: Bool, error: String?) {
        let stamps = settings.files.map { FileStamp.of($0) ?? FileStamp(inode: 0, size: -1, mtimeNs: 0) }
        let unchanged = state.withLock { $0.stamps == stamps }
        if unchanged { return (false, nil) }
        do {
            let context = try TLSContext.server(settings)
            state.withLock {
                $0.context = context
                $0.stamps = stamps
                $0.lastError = nil
            }
            return (true, nil)
        } catch {
            let message = error.description
            let isNew = state.withLock { s -> Bool in
                defer { s.stamps = stamps; s.lastError = message }
                return s.lastError != message
            }
            return (false, isNew ? message : nil)
        }
    }
}
