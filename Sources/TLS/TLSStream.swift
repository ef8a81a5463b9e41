internal import COpenSSL
import Glibc

/// One TLS connection over a non-blocking socket, driven by its owner's event loop.
///
/// Reads and writes go straight between the socket and the caller's buffers (OpenSSL's socket
/// BIO): no intermediate copies beyond OpenSSL's own record buffers. The handshake is driven by
/// the first reads and writes. Not thread-safe: one owner thread (a reactor) uses it.
public final class TLSStream {
    public enum IOResult: Equatable {
        /// This many bytes were read or written (always > 0).
        case bytes(Int)
        /// Call again when the socket is readable.
        case wantRead
        /// Call again (with the same bytes, for writes) when the socket is writable.
        case wantWrite
        /// The peer closed (close_notify or EOF).
        case closed
        /// A protocol or certificate failure; the connection must be closed.
        case failed(String)
    }

    private let ssl: OpaquePointer
    /// Keeps the context alive as long as the connection uses it.
    public let context: TLSContext

    /// Wraps a connected socket. The caller keeps owning `fd` (closes it after this is gone).
    public init(context: TLSContext, fd: Int32, serverName: String? = nil) throws(TLSError) {
        ERR_clear_error()
        guard let ssl = SSL_new(context.ctx) else { throw TLSError.fromQueue("SSL_new") }
        self.ssl = ssl
        self.context = context
        // Whole writes (no SSL_MODE_ENABLE_PARTIAL_WRITE): one SSL_write covers every record of the
        // offered bytes instead of one call per 16 KiB record. After wantWrite the caller offers the
        // same leading bytes again, possibly more, from wherever they now live (moving buffer).
        // Not SSL_MODE_RELEASE_BUFFERS: it frees the record buffers whenever they drain, which is
        // an allocation per read or write at full speed; ~100 KiB per connection is the price.
        _ = sluice_SSL_set_mode(ssl, sluice_SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER())
        guard SSL_set_fd(ssl, fd) == 1 else { throw TLSError.fromQueue("SSL_set_fd") }
        if context.isServer {
            SSL_set_accept_state(ssl)
        } else {
            if let name = serverName {
                var bytes = Array(name.utf8CString)
                _ = bytes.withUnsafeMutableBytes {
                    SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, Int(TLSEXT_NAMETYPE_host_name), $0.baseAddress)
                }
                if name.first?.isNumber != true { _ = SSL_set1_host(ssl, name) }
            }
            SSL_set_connect_state(ssl)
        }
    }

    deinit { SSL_free(ssl) }

    public var isHandshakeComplete: Bool { SSL_is_init_finished(ssl) == 1 }

    /// Drives the handshake without application data (clients use it; servers just read).
    public func handshake() -> IOResult {
        ERR_clear_error()
        let rc = SSL_do_handshake(ssl)
        return rc == 1 ? .bytes(0) : classify(rc)
    }

    /// Decrypts up to `count` bytes into `buffer`.
    public func read(_ buffer: UnsafeMutableRawPointer, _ count: Int) -> IOResult {
        ERR_clear_error()
        let rc = SSL_read(ssl, buffer, Int32(clamping: count))
        return rc > 0 ? .bytes(Int(rc)) : classify(rc)
    }

    /// Encrypts and sends all `count` bytes from `buffer`, or reports `.wantWrite` after sending
    /// part of them; then call again with the same leading bytes (and at least as many).
    public func write(_ buffer: UnsafeRawPointer, _ count: Int) -> IOResult {
        ERR_clear_error()
        let rc = SSL_write(ssl, buffer, Int32(clamping: count))
        return rc > 0 ? .bytes(Int(rc)) : classify(rc)
    }

    /// Sends close_notify if possible; never blocks.
    public func sendCloseNotify() {
        ERR_clear_error()
        if isHandshakeComplete { _ = SSL_shutdown(ssl) }
        ERR_clear_error()
    }

    /// Decrypted bytes OpenSSL holds that the socket will not signal again.
    public var bufferedBytes: Int { Int(SSL_pending(ssl)) }

    private func classify(_ rc: Int32) -> IOResult {
        let code = SSL_get_error(ssl, rc)
        switch code {
        case SSL_ERROR_WANT_READ: return .wantRead
        case SSL_ERROR_WANT_WRITE: return .wantWrite
        case SSL_ERROR_ZERO_RETURN: return .closed
        case SSL_ERROR_SYSCALL:
            let err = errno
            let queued = OpenSSLErrors.drain()
            if err == EAGAIN || err == EWOULDBLOCK { return .wantRead }
            if queued.isEmpty && (err == 0 || err == ECONNRESET || err == EPIPE) { return .closed }
            return .failed("TLS I/O error" + (err != 0 ? ": \(String(cString: strerror(err)))" : "") + queued)
        default:
            let verify = SSL_get_verify_result(ssl)
            var message = "TLS failure" + OpenSSLErrors.drain()
            if verify != X509_V_OK { message += " (certificate: \(String(cString: X509_verify_cert_error_string(verify))))" }
            return .failed(message)
        }
    }

    /// The negotiated protocol (e.g. "TLSv1.3"), after the handshake.
    public var protocolVersion: String { String(cString: SSL_get_version(ssl)) }

    /// The negotiated cipher suite, after the handshake.
    public var cipher: String {
        guard let c = SSL_get_current_cipher(ssl) else { return "" }
        return String(cString: SSL_CIPHER_get_name(c))
    }

    /// The peer certificate's subject as RFC 2253, if the peer sent a certificate that verified.
    public var peerSubject: String? {
        guard let cert = SSL_get1_peer_certificate(ssl) else { return nil }
        defer { X509_free(cert) }
        guard SSL_get_verify_result(ssl) == X509_V_OK else { return nil }
        var buffer = [CChar](repeating: 0, count: 1024)
        let n = sluice_X509_subject_rfc2253(cert, &buffer, Int32(buffer.count))
        guard n >= 0 else { return nil }
        return String(decoding: buffer[0..<Int(n)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
