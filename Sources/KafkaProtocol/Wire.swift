// The one reader and writer of Kafka's wire primitives. Generated message codecs, record batches
// and the broker's framing all go through these two types, so bounds checks live in one place.

/// Why a decode failed. Every length is checked against the bytes left *before* anything is
/// allocated, so a hostile length costs nothing.
public enum DecodeError: Error, Equatable, Sendable {
    case truncated(needed: Int, remaining: Int)
    case negativeLength(Int)
    case invalidVarint
    case invalidUTF8
    case unexpectedNull(String)
    case invalidValue(String)
}

/// An unknown tagged field, kept so that a message round-trips byte for byte.
public struct TaggedField: Equatable, Hashable, Sendable {
    public var tag: UInt32
    public var data: [UInt8]
    public init(tag: UInt32, data: [UInt8]) {
        self.tag = tag
        self.data = data
    }
}

/// A Kafka UUID (topic ids, directory ids): 16 bytes, printed as URL-safe base64 without padding.
public struct KafkaUUID: Hashable, Sendable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64
    public static let zero = KafkaUUID(high: 0, low: 0)
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }
    public var isZero: Bool { high == 0 && low == 0 }

    public var bytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(16)
        for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: high >> UInt64(shift))) }
        for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: low >> UInt64(shift))) }
        return out
    }

    public var description: String { Base64URL.encode(bytes) }

    public init?(base64 text: String) {
        guard let raw = Base64URL.decode(text), raw.count == 16 else { return nil }
        var h: UInt64 = 0
        var l: UInt64 = 0
        for i in 0..<8 { h = h << 8 | UInt64(raw[i]) }
        for i in 8..<16 { l = l << 8 | UInt64(raw[i]) }
        self.init(high: h, low: l)
    }

    /// A random version-4 UUID, as Kafka makes topic ids.
    public static func random() -> KafkaUUID {
        var g = SystemRandomNumberGenerator()
        var h = g.next() as UInt64
        var l = g.next() as UInt64
        h = (h & ~0xF000) | 0x4000
        l = (l & ~(0xC000_0000_0000_0000 as UInt64)) | 0x8000_0000_0000_0000
        return KafkaUUID(high: h, low: l)
    }
}

/// URL-safe base64 without padding, the form Kafka prints UUIDs in.
public enum Base64URL {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    public static func encode(_ data: [UInt8]) -> String {
        var out = [UInt8]()
        var i = 0
        while i + 3 <= data.count {
            let n = UInt32(data[i]) << 16 | UInt32(data[i + 1]) << 8 | UInt32(data[i + 2])
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            out.append(alphabet[Int(n >> 6 & 63)])
            out.append(alphabet[Int(n & 63)])
            i += 3
        }
        let rest = data.count - i
        if rest == 1 {
            let n = UInt32(data[i]) << 16
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
        } else if rest == 2 {
            let n = UInt32(data[i]) << 16 | UInt32(data[i + 1]) << 8
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            out.append(alphabet[Int(n >> 6 & 63)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func decode(_ text: String) -> [UInt8]? {
        var values = [UInt8]()
        for c in text.utf8 {
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): values.append(c - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): values.append(c - UInt8(ascii: "a") + 26)
            case UInt8(ascii: "0")...UInt8(ascii: "9"): values.append(c - UInt8(ascii: "0") + 52)
            case UInt8(ascii: "-"), UInt8(ascii: "+"): values.append(62)
            case UInt8(ascii: "_"), UInt8(ascii: "/"): values.append(63)
            case UInt8(ascii: "="): continue
            default: return nil
            }
        }
        var out = [UInt8]()
        var buffer: UInt32 = 0
        var bits = 0
        for v in values {
            buffer = buffer << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
            }
        }
        return out
    }
}

/// Reads Kafka primitives from a byte array. `position` only moves forward; every read checks
/// the remaining length first and throws `DecodeError` instead of trapping.
public struct WireReader {
    public let bytes: [UInt8]
    public private(set) var position: Int
    public let end: Int

    public init(_ bytes: [UInt8], from start: Int = 0, to end: Int? = nil) {
        self.bytes = bytes
        self.position = start
        self.end = end ?? bytes.count
    }

    public var remaining: Int { end - position }
    public var isAtEnd: Bool { position >= end }

    @inline(__always)
    mutating func need(_ n: Int) throws(DecodeError) {
        if n > end - position { throw .truncated(needed: n, remaining: end - position) }
    }

    public mutating func skip(_ n: Int) throws(DecodeError) {
        if n < 0 { throw .negativeLength(n) }
        try need(n)
        position += n
    }

    public mutating func readInt8() throws(DecodeError) -> Int8 {
        try need(1)
        defer { position += 1 }
        return Int8(bitPattern: bytes[position])
    }

    public mutating func readUInt8() throws(DecodeError) -> UInt8 {
        try need(1)
        defer { position += 1 }
        return bytes[position]
    }

    public mutating func readBool() throws(DecodeError) -> Bool { try readInt8() != 0 }

    public mutating func readUInt16() throws(DecodeError) -> UInt16 {
        try need(2)
        let v = UInt16(bytes[position]) << 8 | UInt16(bytes[position + 1])
        position += 2
        return v
    }

    public mutating func readInt16() throws(DecodeError) -> Int16 { Int16(bitPattern: try readUInt16()) }

    public mutating func readUInt32() throws(DecodeError) -> UInt32 {
        try need(4)
        let p = position
        let v = UInt32(bytes[p]) << 24 | UInt32(bytes[p + 1]) << 16 | UInt32(bytes[p + 2]) << 8 | UInt32(bytes[p + 3])
        position += 4
        return v
    }

    public mutating func readInt32() throws(DecodeError) -> Int32 { Int32(bitPattern: try readUInt32()) }

    public mutating func readUInt64() throws(DecodeError) -> UInt64 {
        let h = UInt64(try readUInt32())
        let l = UInt64(try readUInt32())
        return h << 32 | l
    }

    public mutating func readInt64() throws(DecodeError) -> Int64 { Int64(bitPattern: try readUInt64()) }

    public mutating func readFloat64() throws(DecodeError) -> Double { Double(bitPattern: try readUInt64()) }

    public mutating func readUUID() throws(DecodeError) -> KafkaUUID {
        KafkaUUID(high: try readUInt64(), low: try readUInt64())
    }

    /// Unsigned LEB128, at most 5 bytes for 32 bits.
    public mutating func readUnsignedVarint() throws(DecodeError) -> UInt32 {
        var result: UInt32 = 0
        var shift: UInt32 = 0
        while true {
            let b = try readUInt8()
            if shift == 28 && b > 0x0F { throw .invalidVarint }
            result |= UInt32(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
        }
    }

    public mutating func readUnsignedVarlong() throws(DecodeError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try readUInt8()
            if shift == 63 && b > 1 { throw .invalidVarint }
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
        }
    }

    /// Zig-zag signed varint (record fields).
    public mutating func readVarint() throws(DecodeError) -> Int32 {
        let u = try readUnsignedVarint()
        return Int32(bitPattern: (u >> 1) ^ (0 &- (u & 1)))
    }

    public mutating func readVarlong() throws(DecodeError) -> Int64 {
        let u = try readUnsignedVarlong()
        return Int64(bitPattern: (u >> 1) ^ (0 &- (u & 1)))
    }

    /// A length prefix: int16/int32 in classic encoding, uvarint(N+1) in flexible. -1 means null.
    @inline(__always)
    mutating func readLength(flexible: Bool, wide: Bool) throws(DecodeError) -> Int {
        if flexible { return Int(try readUnsignedVarint()) - 1 }
        return wide ? Int(try readInt32()) : Int(try readInt16())
    }

    /// A reader over the next `n` bytes (a tagged field's payload); this reader skips past them.
    public mutating func subReader(_ n: Int) throws(DecodeError) -> WireReader {
        if n < 0 { throw .negativeLength(n) }
        try need(n)
        defer { position += n }
        return WireReader(bytes, from: position, to: position + n)
    }

    public mutating func readRawBytes(_ n: Int) throws(DecodeError) -> [UInt8] {
        if n < 0 { throw .negativeLength(n) }
        try need(n)
        defer { position += n }
        return Array(bytes[position..<(position + n)])
    }

    public mutating func readNullableString(flexible: Bool) throws(DecodeError) -> String? {
        let n = try readLength(flexible: flexible, wide: false)
        if n < 0 {
            if n == -1 { return nil }
            throw .negativeLength(n)
        }
        try need(n)
        defer { position += n }
        return String(decoding: bytes[position..<(position + n)], as: UTF8.self)
    }

    public mutating func readString(flexible: Bool) throws(DecodeError) -> String {
        guard let s = try readNullableString(flexible: flexible) else { throw .unexpectedNull("string") }
        return s
    }

    public mutating func readNullableBytes(flexible: Bool) throws(DecodeError) -> [UInt8]? {
        let n = try readLength(flexible: flexible, wide: true)
        if n < 0 {
            if n == -1 { return nil }
            throw .negativeLength(n)
        }
        return try readRawBytes(n)
    }

    public mutating func readBytes(flexible: Bool) throws(DecodeError) -> [UInt8] {
        guard let b = try readNullableBytes(flexible: flexible) else { throw .unexpectedNull("bytes") }
        return b
    }

    /// An array count; nil for a null array. A count larger than the bytes left is refused before
    /// any element is read, since every element takes at least one byte.
    public mutating func readArrayCount(flexible: Bool) throws(DecodeError) -> Int? {
        let n = try readLength(flexible: flexible, wide: true)
        if n < 0 {
            if n == -1 { return nil }
            throw .negativeLength(n)
        }
        if n > remaining { throw .truncated(needed: n, remaining: remaining) }
        return n
    }

    /// Reads a tagged-field section, calling `known` for each tag; tags it does not consume are
    /// returned as unknown. `known` receives a reader limited to the field's bytes.
    public mutating func readTaggedFields(
        _ known: (UInt32, inout WireReader) throws(DecodeError) -> Bool
    ) throws(DecodeError) -> [TaggedField] {
        let count = try readUnsignedVarint()
        var unknown = [TaggedField]()
        for _ in 0..<count {
            let tag = try readUnsignedVarint()
            let size = Int(try readUnsignedVarint())
            try need(size)
            var sub = WireReader(bytes, from: position, to: position + size)
            if try !known(tag, &sub) {
                unknown.append(TaggedField(tag: tag, data: Array(bytes[position..<(position + size)])))
            }
            position += size
        }
        return unknown
    }
}

/// Appends Kafka primitives to a growable byte array.
public struct WireWriter {
    public var bytes: [UInt8]

    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public var count: Int { bytes.count }

    public mutating func writeInt8(_ v: Int8) { bytes.append(UInt8(bitPattern: v)) }
    public mutating func writeUInt8(_ v: UInt8) { bytes.append(v) }
    public mutating func writeBool(_ v: Bool) { bytes.append(v ? 1 : 0) }

    public mutating func writeUInt16(_ v: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: v >> 8))
        bytes.append(UInt8(truncatingIfNeeded: v))
    }

    public mutating func writeInt16(_ v: Int16) { writeUInt16(UInt16(bitPattern: v)) }

    public mutating func writeUInt32(_ v: UInt32) {
        bytes.append(UInt8(truncatingIfNeeded: v >> 24))
        bytes.append(UInt8(truncatingIfNeeded: v >> 16))
        bytes.append(UInt8(truncatingIfNeeded: v >> 8))
        bytes.append(UInt8(truncatingIfNeeded: v))
    }

    public mutating func writeInt32(_ v: Int32) { writeUInt32(UInt32(bitPattern: v)) }

    public mutating func writeUInt64(_ v: UInt64) {
        writeUInt32(UInt32(truncatingIfNeeded: v >> 32))
        writeUInt32(UInt32(truncatingIfNeeded: v))
    }

    public mutating func writeInt64(_ v: Int64) { writeUInt64(UInt64(bitPattern: v)) }
    public mutating func writeFloat64(_ v: Double) { writeUInt64(v.bitPattern) }

    public mutating func writeUUID(_ v: KafkaUUID) {
        writeUInt64(v.high)
        writeUInt64(v.low)
    }

    public mutating func writeUnsignedVarint(_ v: UInt32) {
        var v = v
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    public mutating func writeUnsignedVarlong(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    public mutating func writeVarint(_ v: Int32) {
        writeUnsignedVarint(UInt32(bitPattern: (v << 1) ^ (v >> 31)))
    }

    public mutating func writeVarlong(_ v: Int64) {
        writeUnsignedVarlong(UInt64(bitPattern: (v << 1) ^ (v >> 63)))
    }

    @inline(__always)
    mutating func writeLength(_ n: Int, flexible: Bool, wide: Bool) {
        if flexible {
            writeUnsignedVarint(UInt32(truncatingIfNeeded: n + 1))
        } else if wide {
            writeInt32(Int32(truncatingIfNeeded: n))
        } else {
            writeInt16(Int16(truncatingIfNeeded: n))
        }
    }

    public mutating func writeRawBytes(_ b: [UInt8]) { bytes.append(contentsOf: b) }
    public mutating func writeRawBytes(_ b: ArraySlice<UInt8>) { bytes.append(contentsOf: b) }

    public mutating func writeString(_ s: String, flexible: Bool) {
        let utf8 = s.utf8
        writeLength(utf8.count, flexible: flexible, wide: false)
        bytes.append(contentsOf: utf8)
    }

    public mutating func writeNullableString(_ s: String?, flexible: Bool) {
        guard let s else { return writeLength(-1, flexible: flexible, wide: false) }
        writeString(s, flexible: flexible)
    }

    public mutating func writeBytes(_ b: [UInt8], flexible: Bool) {
        writeLength(b.count, flexible: flexible, wide: true)
        bytes.append(contentsOf: b)
    }

    public mutating func writeNullableBytes(_ b: [UInt8]?, flexible: Bool) {
        guard let b else { return writeLength(-1, flexible: flexible, wide: true) }
        writeBytes(b, flexible: flexible)
    }

    public mutating func writeArrayCount(_ n: Int?, flexible: Bool) {
        writeLength(n ?? -1, flexible: flexible, wide: true)
    }

    /// Writes a tagged-field section: the known fields the caller encodes (already tag-sorted,
    /// as (tag, payload) pairs) merged with the unknown ones in ascending tag order.
    public mutating func writeTaggedFields(_ known: [TaggedField], unknown: [TaggedField]) {
        if known.isEmpty && unknown.isEmpty {
            bytes.append(0)
            return
        }
        let all = (known + unknown).sorted { $0.tag < $1.tag }
        writeUnsignedVarint(UInt32(all.count))
        for field in all {
            writeUnsignedVarint(field.tag)
            writeUnsignedVarint(UInt32(field.data.count))
            bytes.append(contentsOf: field.data)
        }
    }

    /// Overwrites 4 bytes at `offset` (frame sizes, batch lengths, CRCs written after the fact).
    public mutating func patchInt32(_ v: Int32, at offset: Int) {
        let u = UInt32(bitPattern: v)
        bytes[offset] = UInt8(truncatingIfNeeded: u >> 24)
        bytes[offset + 1] = UInt8(truncatingIfNeeded: u >> 16)
        bytes[offset + 2] = UInt8(truncatingIfNeeded: u >> 8)
        bytes[offset + 3] = UInt8(truncatingIfNeeded: u)
    }
}

/// Every generated request, response and data type conforms to this.
public protocol KafkaMessage: Sendable, Equatable {
    init()
    init(from reader: inout WireReader, version: Int16) throws(DecodeError)
    func encode(to writer: inout WireWriter, version: Int16)
}

/// Requests and responses also know their API key and version windows from the spec.
public protocol KafkaAPIMessage: KafkaMessage {
    static var apiKey: Int16 { get }
    static var specVersions: ClosedRange<Int16> { get }
    /// First flexible version, or nil when the message never is.
    static var flexibleFrom: Int16? { get }
}

extension KafkaAPIMessage {
    public static func isFlexible(_ version: Int16) -> Bool {
        guard let f = flexibleFrom else { return false }
        return version >= f
    }
}

extension KafkaMessage {
    public func encoded(version: Int16) -> [UInt8] {
        var w = WireWriter()
        encode(to: &w, version: version)
        return w.bytes
    }

    public init(bytes: [UInt8], version: Int16) throws(DecodeError) {
        var r = WireReader(bytes)
        try self.init(from: &r, version: version)
    }
}
