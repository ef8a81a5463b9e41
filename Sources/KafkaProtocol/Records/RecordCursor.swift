// A bounds-checked forward cursor over raw bytes for walking records in place: no copies, no
// allocation, errors are payload-light enums so that the hot path stays heap-free.

enum RecordWalkError: Error {
    case truncated
    case invalidVarint
    case invalidLength(String)
    case sizeMismatch(declared: Int, actual: Int)
}

struct RecordCursor {
    let base: UnsafePointer<UInt8>
    var position: Int
    let end: Int

    init(_ buffer: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) {
        // An empty buffer may have no address; nothing is ever read through it then.
        base = buffer.baseAddress ?? UnsafePointer(bitPattern: 1)!
        position = start
        self.end = end
    }

    var remaining: Int { end - position }

    @inline(__always)
    mutating func byte() throws(RecordWalkError) -> UInt8 {
        guard position < end else { throw .truncated }
        defer { position += 1 }
        return base[position]
    }

    @inline(__always)
    mutating func skip(_ n: Int) throws(RecordWalkError) {
        guard n <= end - position else { throw .truncated }
        position += n
    }

    /// Zig-zag varint, at most 5 bytes.
    @inline(__always)
    mutating func varint() throws(RecordWalkError) -> Int32 {
        var u: UInt32 = 0
        var shift: UInt32 = 0
        while true {
            let b = try byte()
            if shift == 28 && b > 0x0F { throw .invalidVarint }
            u |= UInt32(b & 0x7F) << shift
            if b & 0x80 == 0 { break }
            shift += 7
        }
        return Int32(bitPattern: (u >> 1) ^ (0 &- (u & 1)))
    }

    /// Zig-zag varlong, at most 10 bytes.
    @inline(__always)
    mutating func varlong() throws(RecordWalkError) -> Int64 {
        var u: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            if shift == 63 && b > 1 { throw .invalidVarint }
            u |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { break }
            shift += 7
        }
        return Int64(bitPattern: (u >> 1) ^ (0 &- (u & 1)))
    }

    /// A varint length that may be -1 (null) when `nullable`; returns the length (or -1) and
    /// skips the bytes.
    @inline(__always)
    mutating func lengthPrefixed(nullable: Bool, what: StaticString) throws(RecordWalkError) -> (start: Int, length: Int) {
        let n = Int(try varint())
        if n < 0 {
            if n == -1 && nullable { return (position, -1) }
            throw .invalidLength("\(what) length \(n)")
        }
        let start = position
        try skip(n)
        return (start, n)
    }
}

/// Where one record's fields sit in the buffer it was walked in.
struct RecordView {
    var attributes: Int8
    var timestampDelta: Int64
    var offsetDelta: Int32
    var keyStart: Int
    var keyLength: Int  // -1: null
    var valueStart: Int
    var valueLength: Int  // -1: null
    var headersStart: Int
    var headerCount: Int
    var end: Int
}

extension RecordCursor {
    /// Walks one record (RECORDS.md §2) and checks that its declared length matches its content.
    mutating func nextRecord() throws(RecordWalkError) -> RecordView {
        let declared = Int(try varint())
        // The smallest record body: attributes, 3 one-byte varints, two -1 lengths, 0 headers.
        guard declared >= 6 else { throw .invalidLength("record length \(declared)") }
        guard declared <= remaining else { throw .truncated }
        let start = position
        var inner = RecordCursor(base: base, position: start, end: start + declared)
        let attributes = Int8(bitPattern: try inner.byte())
        let timestampDelta = try inner.varlong()
        let offsetDelta = try inner.varint()
        let key = try inner.lengthPrefixed(nullable: true, what: "key")
        let value = try inner.lengthPrefixed(nullable: true, what: "value")
        let headerCount = Int(try inner.varint())
        guard headerCount >= 0 else { throw .invalidLength("header count \(headerCount)") }
        let headersStart = inner.position
        for _ in 0..<headerCount {
            _ = try inner.lengthPrefixed(nullable: false, what: "header key")
            _ = try inner.lengthPrefixed(nullable: true, what: "header value")
        }
        guard inner.position == inner.end else {
            throw .sizeMismatch(declared: declared, actual: inner.position - start)
        }
        position = inner.end
        return RecordView(
            attributes: attributes, timestampDelta: timestampDelta, offsetDelta: offsetDelta,
            keyStart: key.start, keyLength: key.length, valueStart: value.start, valueLength: value.length,
            headersStart: headersStart, headerCount: headerCount, end: inner.end)
    }

    private init(base: UnsafePointer<UInt8>, position: Int, end: Int) {
        self.base = base
        self.position = position
        self.end = end
    }
}

extension RecordWalkError: CustomStringConvertible {
    var description: String {
        switch self {
        case .truncated: return "record extends past the end of the batch"
        case .invalidVarint: return "malformed varint"
        case .invalidLength(let what): return "invalid \(what)"
        case .sizeMismatch(let declared, let actual):
            return "record declares \(declared) bytes but its fields take \(actual)"
        }
    }
}
