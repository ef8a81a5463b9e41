import Foundation

// A sans-I/O HTTP/1.1 request parser (RFC 9112): bytes in, complete requests or a precise error
// out. Every size is bounded before anything is buffered beyond it, so a hostile peer costs at
// most the configured limits.

/// Size limits for one request.
public struct HTTPLimits: Sendable, Equatable {
    /// Request line (method, target, version): longer gets 414 URI Too Long.
    public var maxRequestLineBytes = 8 * 1024
    /// Everything from the request line to the blank line: longer gets 431.
    public var maxHeaderBytes = 32 * 1024
    /// Number of header fields: more gets 431.
    public var maxHeaderCount = 100
    /// Body after de-chunking: larger gets 413 Content Too Large.
    public var maxBodyBytes = 16 * 1024 * 1024

    public init() {}
}

/// Why a request cannot be served, with the status to answer before closing the connection.
public struct HTTPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public let status: Int
    public let message: String
    public init(_ status: Int, _ message: String) {
        self.status = status
        self.message = message
    }
    public var description: String { "\(status) \(message)" }
}

/// Feed it bytes with `append`, take requests with `next()`. After an error the connection must
/// be answered with the error's status and closed: the parser does not resynchronize.
public struct HTTPRequestParser: Sendable {
    public let limits: HTTPLimits
    private var buffer: [UInt8] = []

    public init(limits: HTTPLimits = HTTPLimits()) {
        self.limits = limits
    }

    /// Bytes received but not yet part of a returned request.
    public var bufferedCount: Int { buffer.count }

    /// True once per request whose head asked `Expect: 100-continue` and whose body has not fully
    /// arrived: the server then sends `100 Continue` so the client sends the body at once.
    public private(set) var wantsContinue = false
    private var continueAnswered = false

    /// Marks the pending `100 Continue` as sent.
    public mutating func continueSent() {
        wantsContinue = false
        continueAnswered = true
    }

    public mutating func append(_ bytes: some Sequence<UInt8>) {
        buffer.append(contentsOf: bytes)
    }

    /// The next complete request, nil when more bytes are needed.
    public mutating func next() throws(HTTPParseError) -> HTTPRequest? {
        // Leading empty lines before a request line are ignored (RFC 9112 §2.2).
        while buffer.count >= 2 && buffer[0] == 13 && buffer[1] == 10 { buffer.removeFirst(2) }
        guard let lineEnd = HTTPRequestParser.find(crlf, in: buffer, from: 0, limit: limits.maxRequestLineBytes + 2) else {
            if buffer.count > limits.maxRequestLineBytes { throw HTTPParseError(414, "request line longer than \(limits.maxRequestLineBytes) bytes") }
            return nil
        }
        guard let headEnd = HTTPRequestParser.find(crlfcrlf, in: buffer, from: lineEnd, limit: limits.maxHeaderBytes + 4) else {
            if buffer.count > limits.maxHeaderBytes { throw HTTPParseError(431, "request head longer than \(limits.maxHeaderBytes) bytes") }
            return nil
        }
        if headEnd > limits.maxHeaderBytes { throw HTTPParseError(431, "request head longer than \(limits.maxHeaderBytes) bytes") }
        var request = try parseHead(buffer[0..<headEnd], lineEnd: lineEnd)
        let bodyStart = headEnd + 4
        let transferEncoding = request.header("transfer-encoding")
        let contentLengths = request.headers.filter { $0.name == "content-length" }.map(\.value)
        if let te = transferEncoding {
            let codings = te.lowercased().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard codings == ["chunked"] else {
                throw HTTPParseError(501, "Transfer-Encoding '\(te)' is not supported (only chunked)")
            }
            guard contentLengths.isEmpty else {
                throw HTTPParseError(400, "both Transfer-Encoding and Content-Length present")
            }
            guard let (body, end) = try decodeChunked(from: bodyStart) else {
                if !continueAnswered, request.header("expect")?.lowercased() == "100-continue" { wantsContinue = true }
                return nil
            }
            request.body = body
            buffer.removeFirst(end)
            continueAnswered = false
            wantsContinue = false
            return request
        }
        var length = 0
        if !contentLengths.isEmpty {
            let distinct = Set(contentLengths.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } })
            guard distinct.count == 1, let text = distinct.first, !text.isEmpty, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
                  text.utf8.count <= 12, let n = Int(text) else {
                throw HTTPParseError(400, "invalid Content-Length '\(contentLengths.joined(separator: ", "))'")
            }
            guard n <= limits.maxBodyBytes else {
                throw HTTPParseError(413, "body of \(n) bytes exceeds the limit of \(limits.maxBodyBytes)")
            }
            length = n
        } else if ["POST", "PUT", "PATCH"].contains(request.method) {
            throw HTTPParseError(411, "\(request.method) needs a Content-Length or chunked body")
        }
        guard buffer.count - bodyStart >= length else {
            if !continueAnswered, request.header("expect")?.lowercased() == "100-continue" { wantsContinue = true }
            return nil
        }
        request.body = Array(buffer[bodyStart..<(bodyStart + length)])
        buffer.removeFirst(bodyStart + length)
        continueAnswered = false
        wantsContinue = false
        return request
    }

    private let crlf: [UInt8] = [13, 10]
    private let crlfcrlf: [UInt8] = [13, 10, 13, 10]

    /// Index of `needle` in `haystack` at or after `from`, looking no further than `limit` bytes.
    static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int, limit: Int) -> Int? {
        let last = min(haystack.count, limit) - needle.count
        guard last >= from else { return nil }
        var i = from
        while i <= last {
            if haystack[i] == needle[0] {
                var j = 1
                while j < needle.count && haystack[i + j] == needle[j] { j += 1 }
                if j == needle.count { return i }
            }
            i += 1
        }
        return nil
    }

    private func parseHead(_ head: ArraySlice<UInt8>, lineEnd: Int) throws(HTTPParseError) -> HTTPRequest {
        let start = head.startIndex
        if lineEnd - start > limits.maxRequestLineBytes {
            throw HTTPParseError(414, "request line longer than \(limits.maxRequestLineBytes) bytes")
        }
        guard let line = String(validating: head[start..<lineEnd], as: UTF8.self) else {
            throw HTTPParseError(400, "request line is not UTF-8")
        }
        let parts = line.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw HTTPParseError(400, "malformed request line")
        }
        let method = String(parts[0])
        guard method.utf8.allSatisfy({ isTokenByte($0) }) else { throw HTTPParseError(400, "malformed method") }
        let target = String(parts[1])
        guard target.hasPrefix("/") || target == "*", target.utf8.allSatisfy({ $0 > 32 && $0 < 127 }) else {
            throw HTTPParseError(400, "malformed request target")
        }
        let version = String(parts[2])
        guard version == "HTTP/1.1" || version == "HTTP/1.0" else {
            if version.hasPrefix("HTTP/") { throw HTTPParseError(505, "\(version) is not supported") }
            throw HTTPParseError(400, "malformed HTTP version")
        }
        var headers: [(name: String, value: String)] = []
        var pos = lineEnd + 2
        let end = head.endIndex
        while pos < end {
            let next = HTTPRequestParser.find(crlf, in: Array(head[pos..<end]) + crlf, from: 0, limit: Int.max)! + pos
            let field = head[pos..<next]
            pos = next + 2
            guard let colon = field.firstIndex(of: UInt8(ascii: ":")), colon > field.startIndex else {
                throw HTTPParseError(400, "malformed header line")
            }
            let nameBytes = field[field.startIndex..<colon]
            guard nameBytes.allSatisfy({ isTokenByte($0) }) else {
                throw HTTPParseError(400, "malformed header name (whitespace before ':' or invalid character)")
            }
            guard let value = String(validating: field[(colon + 1)...], as: UTF8.self),
                  !value.utf8.contains(where: { $0 < 32 && $0 != 9 || $0 == 127 }) else {
                throw HTTPParseError(400, "malformed header value")
            }
            headers.append((String(decoding: nameBytes, as: UTF8.self).lowercased(),
                            value.trimmingCharacters(in: [" ", "\t"])))
            if headers.count > limits.maxHeaderCount {
                throw HTTPParseError(431, "more than \(limits.maxHeaderCount) header fields")
            }
        }
        if version == "HTTP/1.1" && !headers.contains(where: { $0.name == "host" }) {
            throw HTTPParseError(400, "HTTP/1.1 request without Host header")
        }
        var request = HTTPRequest(method: method, target: target, version: version)
        request.headers = headers
        return request
    }

    /// De-chunks a body starting at `from`; nil when incomplete. Chunk extensions are skipped,
    /// trailers are read and dropped.
    private func decodeChunked(from: Int) throws(HTTPParseError) -> ([UInt8], Int)? {
        var body: [UInt8] = []
        var pos = from
        while true {
            guard let lineEnd = HTTPRequestParser.find(crlf, in: buffer, from: pos, limit: pos + 1024) else {
                if buffer.count - pos > 1024 { throw HTTPParseError(400, "chunk size line too long") }
                return nil
            }
            let sizeText = buffer[pos..<lineEnd].prefix { $0 != UInt8(ascii: ";") }
            let trimmed = String(decoding: sizeText, as: UTF8.self).trimmingCharacters(in: [" ", "\t"])
            guard !trimmed.isEmpty, trimmed.count <= 8, let size = Int(trimmed, radix: 16) else {
                throw HTTPParseError(400, "malformed chunk size '\(trimmed)'")
            }
            pos = lineEnd + 2
            if size == 0 {
                // Trailer fields until an empty line.
                while true {
                    guard let end = HTTPRequestParser.find(crlf, in: buffer, from: pos, limit: pos + limits.maxHeaderBytes) else {
                        if buffer.count - pos > limits.maxHeaderBytes { throw HTTPParseError(431, "trailer section too large") }
                        return nil
                    }
                    if end == pos { return (body, pos + 2) }
                    pos = end + 2
                }
            }
            guard body.count + size <= limits.maxBodyBytes else {
                throw HTTPParseError(413, "chunked body exceeds the limit of \(limits.maxBodyBytes) bytes")
            }
            guard buffer.count >= pos + size + 2 else { return nil }
            guard buffer[pos + size] == 13 && buffer[pos + size + 1] == 10 else {
                throw HTTPParseError(400, "chunk not followed by CRLF")
            }
            body.append(contentsOf: buffer[pos..<(pos + size)])
            pos += size + 2
        }
    }

    private func isTokenByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(b)
        }
    }
}
