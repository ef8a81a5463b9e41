import Foundation
import Glibc

/// The byte stream under one HTTP connection: a plain socket, or a TLS session over it. The
/// server only ever calls these, so https is a different factory, not a different server.
public protocol HTTPTransport: AnyObject {
    /// Reads up to `buffer.count` bytes; 0 means the peer closed. Throws on error or idle timeout.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(HTTPTransportError) -> Int
    /// Writes all of `bytes`.
    func write(_ bytes: [UInt8]) throws(HTTPTransportError)
    /// Releases the transport (for TLS: close_notify); the server closes the descriptor afterwards.
    func close()
}

public struct HTTPTransportError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Makes a transport for an accepted, blocking socket (with receive/send timeouts already set).
public typealias HTTPTransportFactory = @Sendable (Int32) throws(HTTPTransportError) -> any HTTPTransport

/// Plain TCP.
public final class SocketTransport: HTTPTransport {
    let fd: Int32

    public init(fd: Int32) { self.fd = fd }

    public static let factory: HTTPTransportFactory = { fd in SocketTransport(fd: fd) }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(HTTPTransportError) -> Int {
        while true {
            let n = Glibc.recv(fd, buffer.baseAddress, buffer.count, 0)
            if n >= 0 { return n }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { throw HTTPTransportError("idle timeout") }
            throw HTTPTransportError("recv: \(String(cString: strerror(errno)))")
        }
    }

    public func write(_ bytes: [UInt8]) throws(HTTPTransportError) {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if n > 0 { sent += n; continue }
            if n < 0 && errno == EINTR { continue }
            throw HTTPTransportError("send: \(n < 0 ? String(cString: strerror(errno)) : "closed")")
        }
    }

    public func close() {}
}

extension HTTPTransport {
    /// Reads into the start of `chunk`.
    func read(into chunk: inout [UInt8]) throws(HTTPTransportError) -> Int {
        let result = chunk.withUnsafeMutableBytes { buf in Result { () throws(HTTPTransportError) -> Int in try read(into: buf) } }
        return try result.get()
    }
}
