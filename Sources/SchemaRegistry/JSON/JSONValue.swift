// A JSON value that keeps what schema work needs and Foundation's JSONSerialization loses: the
// order of object members (Avro's canonical form, error messages) and the exact text of numbers
// (JSON Schema's `multipleOf`, integers beyond 2^53, `1.0` versus `1`).

/// A JSON number kept as its literal text, with exact integer access when it is one.
public struct JSONNumber: Hashable, Sendable, CustomStringConvertible {
    /// The number as written (normalised only by the parser's validation, never reformatted).
    public let literal: String

    public init(literal: String) { self.literal = literal }
    public init(_ value: Int64) { literal = String(value) }
    public init(_ value: Double) {
        literal = value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    public var description: String { literal }
    public var doubleValue: Double { Double(literal) ?? .nan }

    /// The value as an integer when it is mathematically one and fits in Int64 (`2`, `2.0`, `2e0`).
    public var int64Value: Int64? {
        if let i = Int64(literal) { return i }
        let d = doubleValue
        guard d.isFinite, d == d.rounded(), abs(d) < 9.2e18 else { return nil }
        return Int64(d)
    }

    /// Whether the value is mathematically an integer (JSON Schema's "integer" type: `1.0` counts).
    public var isInteger: Bool {
        if Int64(literal) != nil { return true }
        let d = doubleValue
        return d.isFinite && d == d.rounded()
    }

    /// Numeric equality (`1`, `1.0` and `1e0` are the same number), exact for integers.
    public static func == (a: JSONNumber, b: JSONNumber) -> Bool {
        if let x = Int64(a.literal), let y = Int64(b.literal) { return x == y }
        return a.doubleValue == b.doubleValue
    }

    public func hash(into hasher: inout Hasher) {
        if let i = int64Value { hasher.combine(i) } else { hasher.combine(doubleValue) }
    }
}

/// A parsed JSON document. Objects keep member order; duplicate names keep the last value (as most
/// parsers do) but are reported by `JSONParser` when `rejectDuplicateKeys` is set.
public indirect enum JSONValue: Hashable, Sendable, CustomStringConvertible {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    public var description: String { serialized() }

    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    public var boolValue: Bool? { if case .bool(let b) = self { return b }; return nil }
    public var numberValue: JSONNumber? { if case .number(let n) = self { return n }; return nil }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a }; return nil }
    public var objectValue: JSONObject? { if case .object(let o) = self { return o }; return nil }
    public var isNull: Bool { if case .null = self { return true }; return false }

    /// Compact serialization with members in their stored order and numbers as written.
    public func serialized() -> String {
        var out = ""
        write(to: &out)
        return out
    }

    func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += n.literal
        case .string(let s): JSONValue.writeString(s, to: &out)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                item.write(to: &out)
            }
            out += "]"
        case .object(let object):
            out += "{"
            for (i, member) in object.members.enumerated() {
                if i > 0 { out += "," }
                JSONValue.writeString(member.key, to: &out)
                out += ":"
                member.value.write(to: &out)
            }
            out += "}"
        }
    }

    static func writeString(_ s: String, to out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}

/// An ordered JSON object. Equality ignores member order (JSON semantics).
public struct JSONObject: Hashable, Sendable {
    public private(set) var members: [(key: String, value: JSONValue)] = []
    private var index: [String: Int] = [:]

    public init() {}

    public init(_ pairs: [(String, JSONValue)]) {
        for (k, v) in pairs { self[k] = v }
    }

    public var keys: [String] { members.map(\.key) }
    public var count: Int { members.count }
    public var isEmpty: Bool { members.isEmpty }

    public subscript(key: String) -> JSONValue? {
        get { index[key].map { members[$0].value } }
        set {
            if let i = index[key] {
                if let newValue {
                    members[i].value = newValue
                } else {
                    members.remove(at: i)
                    index = [:]
                    for (j, m) in members.enumerated() { index[m.key] = j }
                }
            } else if let newValue {
                index[key] = members.count
                members.append((key, newValue))
            }
        }
    }

    public static func == (a: JSONObject, b: JSONObject) -> Bool {
        guard a.count == b.count else { return false }
        for m in a.members where b[m.key] != m.value { return false }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        // Order-independent: combine per-member hashes commutatively.
        var total = 0
        for m in members {
            var h = Hasher()
            h.combine(m.key)
            h.combine(m.value)
            total ^= h.finalize()
        }
        hasher.combine(count)
        hasher.combine(total)
    }
}

/// Why a document is not JSON, with the 1-based line and column where it went wrong.
public struct JSONParseError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String
    public let line: Int
    public let column: Int
    public var description: String { "line \(line), column \(column): \(message)" }
}

/// A strict RFC 8259 parser over UTF-8 bytes, with a nesting limit so hostile input cannot
/// exhaust the stack.
public struct JSONParser {
    public var maxDepth = 512
    public var rejectDuplicateKeys = false

    public init() {}

    public static func parse(_ text: String) throws(JSONParseError) -> JSONValue {
        try JSONParser().parse(Array(text.utf8))
    }

    public func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONValue {
        var cursor = Cursor(bytes: bytes, maxDepth: maxDepth, rejectDuplicates: rejectDuplicateKeys)
        cursor.skipWhitespace()
        let value = try cursor.value(depth: 0)
        cursor.skipWhitespace()
        if cursor.position < bytes.count { throw cursor.error("unexpected data after the JSON value") }
        return value
    }

    struct Cursor {
        let bytes: [UInt8]
        let maxDepth: Int
        let rejectDuplicates: Bool
        var position = 0

        init(bytes: [UInt8], maxDepth: Int, rejectDuplicates: Bool) {
            self.bytes = bytes
            self.maxDepth = maxDepth
            self.rejectDuplicates = rejectDuplicates
        }

        func error(_ message: String) -> JSONParseError {
            var line = 1
            var column = 1
            for b in bytes[0..<min(position, bytes.count)] {
                if b == 0x0A {
                    line += 1
                    column = 1
                } else if b & 0xC0 != 0x80 {
                    column += 1
                }
            }
            return JSONParseError(message: message, line: line, column: column)
        }

        var peek: UInt8? { position < bytes.count ? bytes[position] : nil }

        mutating func skipWhitespace() {
            while let b = peek, b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D { position += 1 }
        }

        mutating func expect(_ literal: String, _ value: JSONValue) throws(JSONParseError) -> JSONValue {
            for b in literal.utf8 {
                guard peek == b else { throw error("invalid literal") }
                position += 1
            }
            return value
        }

        mutating func value(depth: Int) throws(JSONParseError) -> JSONValue {
            guard depth <= maxDepth else { throw error("nesting deeper than \(maxDepth)") }
            guard let b = peek else { throw error("unexpected end of input") }
            switch b {
            case UInt8(ascii: "{"): return try object(depth: depth)
            case UInt8(ascii: "["): return try array(depth: depth)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): return try expect("true", .bool(true))
            case UInt8(ascii: "f"): return try expect("false", .bool(false))
            case UInt8(ascii: "n"): return try expect("null", .null)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
            default: throw error("unexpected character")
            }
        }

        mutating func object(depth: Int) throws(JSONParseError) -> JSONValue {
            position += 1
            var object = JSONObject()
            skipWhitespace()
            if peek == UInt8(ascii: "}") {
                position += 1
                return .object(object)
            }
            while true {
                skipWhitespace()
                guard peek == UInt8(ascii: "\"") else { throw error("expected a member name") }
                let key = try string()
                skipWhitespace()
                guard peek == UInt8(ascii: ":") else { throw error("expected ':'") }
                position += 1
                skipWhitespace()
                let v = try value(depth: depth + 1)
                if rejectDuplicates && object[key] != nil { throw error("duplicate member \"\(key)\"") }
                object[key] = v
                skipWhitespace()
                guard let b = peek else { throw error("unterminated object") }
                position += 1
                if b == UInt8(ascii: "}") { return .object(object) }
                guard b == UInt8(ascii: ",") else { throw error("expected ',' or '}'") }
            }
        }

        mutating func array(depth: Int) throws(JSONParseError) -> JSONValue {
            position += 1
            var items: [JSONValue] = []
            skipWhitespace()
            if peek == UInt8(ascii: "]") {
                position += 1
                return .array(items)
            }
            while true {
                skipWhitespace()
                items.append(try value(depth: depth + 1))
                skipWhitespace()
                guard let b = peek else { throw error("unterminated array") }
                position += 1
                if b == UInt8(ascii: "]") { return .array(items) }
                guard b == UInt8(ascii: ",") else { throw error("expected ',' or ']'") }
            }
        }

        mutating func number() throws(JSONParseError) -> JSONNumber {
            let start = position
            if peek == UInt8(ascii: "-") { position += 1 }
            guard let first = peek, first >= 0x30 && first <= 0x39 else { throw error("invalid number") }
            if first == 0x30 {
                position += 1
            } else {
                while let d = peek, d >= 0x30 && d <= 0x39 { position += 1 }
            }
            if peek == UInt8(ascii: ".") {
                position += 1
                guard let d = peek, d >= 0x30 && d <= 0x39 else { throw error("invalid fraction") }
                while let d = peek, d >= 0x30 && d <= 0x39 { position += 1 }
            }
            if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
                position += 1
                if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { position += 1 }
                guard let d = peek, d >= 0x30 && d <= 0x39 else { throw error("invalid exponent") }
                while let d = peek, d >= 0x30 && d <= 0x39 { position += 1 }
            }
            return JSONNumber(literal: String(decoding: bytes[start..<position], as: UTF8.self))
        }

        mutating func hex4() throws(JSONParseError) -> UInt32 {
            var v: UInt32 = 0
            for _ in 0..<4 {
                guard let b = peek else { throw error("truncated \\u escape") }
                let digit: UInt32
                switch b {
                case 0x30...0x39: digit = UInt32(b - 0x30)
                case 0x41...0x46: digit = UInt32(b - 0x41 + 10)
                case 0x61...0x66: digit = UInt32(b - 0x61 + 10)
                default: throw error("invalid \\u escape")
                }
                v = v << 4 | digit
                position += 1
            }
            return v
        }

        mutating func string() throws(JSONParseError) -> String {
            position += 1
            var out = [UInt8]()
            while true {
                guard let b = peek else { throw error("unterminated string") }
                position += 1
                switch b {
                case UInt8(ascii: "\""):
                    guard let s = String(validating: out, as: UTF8.self) else { throw error("invalid UTF-8 in string") }
                    return s
                case UInt8(ascii: "\\"):
                    guard let e = peek else { throw error("unterminated escape") }
                    position += 1
                    switch e {
                    case UInt8(ascii: "\""): out.append(0x22)
                    case UInt8(ascii: "\\"): out.append(0x5C)
                    case UInt8(ascii: "/"): out.append(0x2F)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"):
                        var scalar = try hex4()
                        if scalar >= 0xD800 && scalar < 0xDC00 {
                            guard peek == UInt8(ascii: "\\") else { throw error("lone surrogate") }
                            position += 1
                            guard peek == UInt8(ascii: "u") else { throw error("lone surrogate") }
                            position += 1
                            let low = try hex4()
                            guard low >= 0xDC00 && low < 0xE000 else { throw error("invalid surrogate pair") }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        } else if scalar >= 0xDC00 && scalar < 0xE000 {
                            throw error("lone surrogate")
                        }
                        guard let u = Unicode.Scalar(scalar) else { throw error("invalid code point") }
                        out.append(contentsOf: Array(String(Character(u)).utf8))
                    default:
                        throw error("invalid escape")
                    }
                default:
                    if b < 0x20 { throw error("control character in string") }
                    out.append(b)
                }
            }
        }
    }
}
