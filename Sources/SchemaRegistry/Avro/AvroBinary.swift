// Avro binary encoding (specification, "Binary Encoding"): a validator for payloads from the
// network and an encoder for tests. The validator never allocates in proportion to a length or
// count it reads: lengths are checked against the bytes left before use, and item counts are
// bounded by them too (every item of a type that can take bytes takes at least one).

/// Why a payload is not valid Avro binary for a schema.
public struct AvroDecodeError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        case truncated
        case invalidVarint
        case intOutOfRange
        case invalidBoolean
        case negativeLength
        case lengthBeyondPayload
        case countBeyondPayload
        case invalidBlockCount
        case blockSizeMismatch
        case invalidUTF8
        case unionIndexOutOfRange
        case enumIndexOutOfRange
        case tooDeep
        case trailingBytes
    }

    public let kind: Kind
    /// Byte offset from the start of the payload where the offending item starts.
    public let offset: Int
    /// Where in the value: `.field`, `[index]`, `["map key"]`; empty at the top.
    public let path: String
    public let message: String

    public var description: String {
        "\(message) at byte \(offset)\(path.isEmpty ? "" : " (value \(path))")"
    }

    func under(_ prefix: String) -> AvroDecodeError {
        AvroDecodeError(kind: kind, offset: offset, path: prefix + path, message: message)
    }
}

/// Why a value cannot be encoded with a schema (test encoder).
public struct AvroEncodeError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// Avro binary encoding.
public enum AvroBinary {
    /// Nesting deeper than this (records, arrays, maps, unions) is refused rather than recursed.
    public static let defaultMaxDepth = 128

    /// Checks that `bytes` is exactly one value of `schema` in Avro binary encoding.
    public static func validate(_ bytes: ArraySlice<UInt8>, schema: AvroSchema,
                                maxDepth: Int = defaultMaxDepth) throws(AvroDecodeError) {
        var reader = AvroBinaryValidator(bytes: bytes, schema: schema, maxDepth: maxDepth)
        try reader.value(schema.type, depth: 0)
        if reader.position < bytes.endIndex {
            throw reader.error(.trailingBytes, at: reader.position,
                               "\(bytes.endIndex - reader.position) bytes left after the value")
        }
    }

    /// Encodes a JSON value: primitives, records and maps as in field defaults (bytes and fixed
    /// as strings of code points 0-255); a union value either in Avro's JSON encoding
    /// (`{"branch": value}`, `null`) or bare, taking the first branch it fits.
    public static func encode(_ value: JSONValue, schema: AvroSchema) throws(AvroEncodeError) -> [UInt8] {
        var encoder = AvroBinaryEncoder(schema: schema)
        try encoder.encode(value, schema.type, at: "")
        return encoder.out
    }
}

struct AvroBinaryValidator {
    let bytes: ArraySlice<UInt8>
    let schema: AvroSchema
    let maxDepth: Int
    var position: Int
    /// Whether a named type always encodes to zero bytes, computed once per name.
    var zeroSizedCache: [String: Bool] = [:]

    init(bytes: ArraySlice<UInt8>, schema: AvroSchema, maxDepth: Int) {
        self.bytes = bytes
        self.schema = schema
        self.maxDepth = maxDepth
        position = bytes.startIndex
    }

    var remaining: Int { bytes.endIndex - position }

    func error(_ kind: AvroDecodeError.Kind, at index: Int, _ message: String) -> AvroDecodeError {
        AvroDecodeError(kind: kind, offset: index - bytes.startIndex, path: "", message: message)
    }

    mutating func long() throws(AvroDecodeError) -> Int64 {
        let start = position
        var raw: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < bytes.endIndex else { throw error(.truncated, at: start, "truncated varint") }
            let b = bytes[position]
            position += 1
            // The tenth byte may only carry the 64th bit.
            if shift == 63 && b > 1 { throw error(.invalidVarint, at: start, "varint does not fit in 64 bits") }
            raw |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { break }
            shift += 7
        }
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    mutating func int() throws(AvroDecodeError) -> Int32 {
        let start = position
        let v = try long()
        // Java readers refuse int varints over 5 bytes even when the value would fit.
        guard position - start <= 5 else { throw error(.invalidVarint, at: start, "int varint longer than 5 bytes") }
        guard let i = Int32(exactly: v) else { throw error(.intOutOfRange, at: start, "int value \(v) out of 32-bit range") }
        return i
    }

    mutating func skip(_ count: Int, _ what: String) throws(AvroDecodeError) {
        guard count <= remaining else {
            throw error(.truncated, at: position, "\(what) needs \(count) bytes, \(remaining) left")
        }
        position += count
    }

    /// A length prefix, checked against what is left before anything relies on it.
    mutating func length(_ what: String) throws(AvroDecodeError) -> Int {
        let start = position
        let n = try long()
        guard n >= 0 else { throw error(.negativeLength, at: start, "negative \(what) length \(n)") }
        guard n <= Int64(remaining) else {
            throw error(.lengthBeyondPayload, at: start, "\(what) length \(n) exceeds the \(remaining) bytes left")
        }
        return Int(n)
    }

    /// Validates a string and returns where its bytes are.
    @discardableResult
    mutating func string(_ what: String) throws(AvroDecodeError) -> Range<Int> {
        let n = try length(what)
        let start = position
        guard Self.isValidUTF8(bytes, start, start + n) else { throw error(.invalidUTF8, at: start, "\(what) is not valid UTF-8") }
        position += n
        return start..<position
    }

    /// UTF-8 validation without building a String: no overlong forms, no surrogates, nothing past U+10FFFF.
    static func isValidUTF8(_ bytes: ArraySlice<UInt8>, _ start: Int, _ end: Int) -> Bool {
        var i = start
        while i < end {
            let b0 = bytes[i]
            if b0 < 0x80 {
                i += 1
                continue
            }
            let extra: Int
            var scalar: UInt32
            let minimum: UInt32
            if b0 & 0xE0 == 0xC0 {
                extra = 1; scalar = UInt32(b0 & 0x1F); minimum = 0x80
            } else if b0 & 0xF0 == 0xE0 {
                extra = 2; scalar = UInt32(b0 & 0x0F); minimum = 0x800
            } else if b0 & 0xF8 == 0xF0 {
                extra = 3; scalar = UInt32(b0 & 0x07); minimum = 0x10000
            } else {
                return false
            }
            guard end - i > extra else { return false }
            for k in 1...extra {
                let c = bytes[i + k]
                guard c & 0xC0 == 0x80 else { return false }
                scalar = scalar << 6 | UInt32(c & 0x3F)
            }
            guard scalar >= minimum, scalar <= 0x10FFFF, !(0xD800...0xDFFF).contains(scalar) else { return false }
            i += extra + 1
        }
        return true
    }

    /// Types whose every value encodes to no bytes (null, fixed(0), records of such): huge item
    /// counts of them cost nothing to validate, so they are not iterated.
    mutating func isZeroSized(_ type: AvroType) -> Bool {
        switch type {
        case .primitive(.null, _): return true
        case .fixed(let f): return f.size == 0
        case .record(let r):
            if let known = zeroSizedCache[r.name.fullName] { return known }
            zeroSizedCache[r.name.fullName] = false  // a record containing itself is not zero-sized
            let result = r.fields.allSatisfy { field in isZeroSized(field.type) }
            zeroSizedCache[r.name.fullName] = result
            return result
        case .reference(let name):
            if let known = zeroSizedCache[name] { return known }
            return isZeroSized(schema.resolve(type))
        default: return false
        }
    }

    mutating func value(_ type: AvroType, depth: Int) throws(AvroDecodeError) {
        switch type {
        case .reference:
            try value(schema.resolve(type), depth: depth)
        case .primitive(let p, _):
            switch p {
            case .null: break
            case .boolean:
                guard position < bytes.endIndex else { throw error(.truncated, at: position, "missing boolean") }
                guard bytes[position] <= 1 else {
                    throw error(.invalidBoolean, at: position, "boolean byte \(bytes[position]) is neither 0 nor 1")
                }
                position += 1
            case .int: _ = try int()
            case .long: _ = try long()
            case .float: try skip(4, "float")
            case .double: try skip(8, "double")
            case .bytes: _ = try skip(length("bytes"), "bytes")
            case .string: try string("string")
            }
        case .fixed(let f):
            try skip(f.size, "fixed \(f.name)")
        case .enumeration(let e):
            let start = position
            let index = try int()
            guard index >= 0, Int(index) < e.symbols.count else {
                throw error(.enumIndexOutOfRange, at: start, "enum \(e.name) index \(index) outside 0..<\(e.symbols.count)")
            }
        case .union(let branches):
            guard depth < maxDepth else { throw error(.tooDeep, at: position, "nested deeper than \(maxDepth)") }
            let start = position
            let index = try int()
            guard index >= 0, Int(index) < branches.count else {
                throw error(.unionIndexOutOfRange, at: start, "union index \(index) outside 0..<\(branches.count)")
            }
            try value(branches[Int(index)], depth: depth + 1)
        case .record(let r):
            guard depth < maxDepth else { throw error(.tooDeep, at: position, "nested deeper than \(maxDepth)") }
            for field in r.fields {
                do {
                    try value(field.type, depth: depth + 1)
                } catch {
                    throw error.under("." + field.name)
                }
            }
        case .array(let items):
            guard depth < maxDepth else { throw error(.tooDeep, at: position, "nested deeper than \(maxDepth)") }
            let zeroSized = isZeroSized(items)
            try blocks(zeroSizedItems: zeroSized) { (v: inout AvroBinaryValidator, index: Int64) throws(AvroDecodeError) in
                do throws(AvroDecodeError) {
                    try v.value(items, depth: depth + 1)
                } catch {
                    throw error.under("[\(index)]")
                }
            }
        case .map(let values):
            guard depth < maxDepth else { throw error(.tooDeep, at: position, "nested deeper than \(maxDepth)") }
            try blocks(zeroSizedItems: false) { (v: inout AvroBinaryValidator, _: Int64) throws(AvroDecodeError) in
                let keyRange = try v.string("map key")
                do throws(AvroDecodeError) {
                    try v.value(values, depth: depth + 1)
                } catch {
                    // The key is only turned into a String on this error path.
                    var key = ""
                    JSONValue.writeString(String(decoding: v.bytes[keyRange], as: UTF8.self), to: &key)
                    throw error.under("[\(key)]")
                }
            }
        }
    }

    /// The block encoding of arrays and maps: counts, negative counts followed by a byte size,
    /// and a zero count at the end.
    mutating func blocks(zeroSizedItems: Bool,
                         _ item: (inout AvroBinaryValidator, Int64) throws(AvroDecodeError) -> Void) throws(AvroDecodeError) {
        var index: Int64 = 0
        while true {
            let countStart = position
            var count = try long()
            if count == 0 { return }
            var blockEnd: Int?
            if count < 0 {
                guard count != Int64.min else { throw error(.invalidBlockCount, at: countStart, "block count \(count) has no magnitude") }
                count = -count
                let sizeStart = position
                let size = try long()
                guard size >= 0 else { throw error(.negativeLength, at: sizeStart, "negative block size \(size)") }
                guard size <= Int64(remaining) else {
                    throw error(.lengthBeyondPayload, at: sizeStart, "block size \(size) exceeds the \(remaining) bytes left")
                }
                blockEnd = position + Int(size)
            }
            let itemsStart = position
            if !zeroSizedItems {
                guard count <= Int64(remaining) else {
                    throw error(.countBeyondPayload, at: countStart, "block of \(count) items but only \(remaining) bytes left")
                }
                for _ in 0..<count {
                    try item(&self, index)
                    index += 1
                }
            } else {
                index &+= count
            }
            if let blockEnd, position != blockEnd {
                throw error(.blockSizeMismatch, at: countStart,
                            "block declared \(blockEnd - itemsStart) bytes but its items took \(position - itemsStart)")
            }
        }
    }
}

struct AvroBinaryEncoder {
    let schema: AvroSchema
    var out: [UInt8] = []

    init(schema: AvroSchema) { self.schema = schema }

    mutating func long(_ v: Int64) {
        var z = UInt64(bitPattern: (v << 1) ^ (v >> 63))
        while z >= 0x80 {
            out.append(UInt8(z & 0x7F) | 0x80)
            z >>= 7
        }
        out.append(UInt8(z))
    }

    mutating func bytes(_ b: [UInt8]) {
        long(Int64(b.count))
        out += b
    }

    static func fail(_ value: JSONValue, _ expected: String, _ location: String) -> AvroEncodeError {
        AvroEncodeError(message: "\(location.isEmpty ? "value" : location): expected \(expected), got \(value.serialized())")
    }

    mutating func encode(_ value: JSONValue, _ type: AvroType, at location: String) throws(AvroEncodeError) {
        switch type {
        case .reference:
            try encode(value, schema.resolve(type), at: location)
        case .primitive(let p, _):
            switch (p, value) {
            case (.null, .null): break
            case (.boolean, .bool(let b)): out.append(b ? 1 : 0)
            case (.int, .number(let n)):
                guard let i = n.int64Value, Int32(exactly: i) != nil else { throw Self.fail(value, "an int", location) }
                long(i)
            case (.long, .number(let n)):
                guard let i = n.int64Value else { throw Self.fail(value, "a long", location) }
                long(i)
            case (.float, .number(let n)):
                withUnsafeBytes(of: Float(n.doubleValue).bitPattern.littleEndian) { out += $0 }
            case (.double, .number(let n)):
                withUnsafeBytes(of: n.doubleValue.bitPattern.littleEndian) { out += $0 }
            case (.bytes, .string(let s)):
                guard let b = AvroValueChecker.latin1Bytes(s) else { throw Self.fail(value, "code points 0-255", location) }
                bytes(b)
            case (.string, .string(let s)):
                bytes(Array(s.utf8))
            default:
                throw Self.fail(value, p.rawValue, location)
            }
        case .fixed(let f):
            guard case .string(let s) = value, let b = AvroValueChecker.latin1Bytes(s), b.count == f.size else {
                throw Self.fail(value, "\(f.size) bytes for fixed \(f.name)", location)
            }
            out += b
        case .enumeration(let e):
            guard case .string(let s) = value, let index = e.symbols.firstIndex(of: s) else {
                throw Self.fail(value, "a symbol of enum \(e.name)", location)
            }
            long(Int64(index))
        case .array(let items):
            guard case .array(let elements) = value else { throw Self.fail(value, "an array", location) }
            if !elements.isEmpty {
                long(Int64(elements.count))
                for (i, element) in elements.enumerated() { try encode(element, items, at: "\(location)[\(i)]") }
            }
            long(0)
        case .map(let values):
            guard case .object(let object) = value else { throw Self.fail(value, "an object", location) }
            if !object.isEmpty {
                long(Int64(object.count))
                for member in object.members {
                    bytes(Array(member.key.utf8))
                    try encode(member.value, values, at: "\(location)[\"\(member.key)\"]")
                }
            }
            long(0)
        case .record(let r):
            guard case .object(let object) = value else { throw Self.fail(value, "an object for record \(r.name)", location) }
            for field in r.fields {
                guard let v = object[field.name] ?? field.defaultValue else {
                    throw AvroEncodeError(message: "\(location).\(field.name): missing and without default")
                }
                try encode(v, field.type, at: "\(location).\(field.name)")
            }
        case .union(let branches):
            let (index, inner) = try unionBranch(value, branches, location)
            long(Int64(index))
            try encode(inner, branches[index], at: location)
        }
    }

    /// Avro's JSON encoding of unions first (`null`, `{"branch name": value}`), then the first
    /// branch the bare value fits.
    func unionBranch(_ value: JSONValue, _ branches: [AvroType], _ location: String) throws(AvroEncodeError) -> (Int, JSONValue) {
        if case .object(let object) = value, object.count == 1, let member = object.members.first {
            for (i, branch) in branches.enumerated() {
                let key = AvroSchemaParser.unionKey(branch)
                if key == member.key || AvroName(fullName: key).name == member.key { return (i, member.value) }
            }
        }
        let checker = AvroValueChecker(named: schema.namedTypes, unionUsesFirstBranchOnly: false)
        if let i = branches.firstIndex(where: { checker.problem(value, $0, at: "") == nil }) { return (i, value) }
        throw Self.fail(value, "a value of one of the union's branches", location)
    }
}
