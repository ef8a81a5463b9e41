// Small helpers the JSON Schema module needs on top of JSONValue: JSON Pointer, exact number
// comparison and divisibility from the literal text.

extension JSONValue {
    /// The JSON type name as JSON Schema spells it ("integer" is reported as "number").
    var schemaTypeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    /// JSON Schema equality: like `==` (numbers by value, objects unordered) but strings compared by
    /// code points, since Swift's `String ==` treats canonically equivalent strings as equal.
    func isIdentical(to other: JSONValue) -> Bool {
        switch (self, other) {
        case (.string(let a), .string(let b)): return a.unicodeScalars.elementsEqual(b.unicodeScalars)
        case (.array(let a), .array(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.isIdentical(to: $1) }
        case (.object(let a), .object(let b)):
            guard a.count == b.count else { return false }
            return a.members.allSatisfy { m in b[m.key].map { m.value.isIdentical(to: $0) } ?? false }
        default: return self == other
        }
    }

    /// Follows an RFC 6901 pointer (already percent-decoded), nil when a step is missing.
    func at(pointer: String) -> JSONValue? {
        if pointer.isEmpty { return self }
        guard pointer.hasPrefix("/") else { return nil }
        var current = self
        for raw in pointer.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            let token = JSONPointer.unescape(String(raw))
            switch current {
            case .object(let o):
                guard let v = o[token] else { return nil }
                current = v
            case .array(let a):
                // Pointer indices are plain decimal without leading zeros.
                guard let i = Int(token), i >= 0, i < a.count, String(i) == token else { return nil }
                current = a[i]
            default:
                return nil
            }
        }
        return current
    }
}

/// RFC 6901 token escaping and percent-decoding of URI fragments.
enum JSONPointer {
    static func escape(_ token: String) -> String {
        guard token.contains("~") || token.contains("/") else { return token }
        return token.replacingAll("~", with: "~0").replacingAll("/", with: "~1")
    }

    static func unescape(_ token: String) -> String {
        guard token.contains("~") else { return token }
        return token.replacingAll("~1", with: "/").replacingAll("~0", with: "~")
    }

    static func percentDecode(_ s: String) -> String {
        guard s.contains("%") else { return s }
        var bytes: [UInt8] = []
        var utf8 = Array(s.utf8)[...]
        while let b = utf8.first {
            utf8 = utf8.dropFirst()
            if b == UInt8(ascii: "%"), utf8.count >= 2,
               let v = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(v)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(b)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var out = ""
        var rest = Substring(self)
        while let r = rest.range(of: target) {
            out += rest[..<r.lowerBound]
            out += replacement
            rest = rest[r.upperBound...]
        }
        return out + rest
    }
}

extension Substring {
    func range(of target: String) -> Range<Substring.Index>? {
        let t = Array(target)
        guard let first = t.first else { return nil }
        var i = startIndex
        while i < endIndex {
            if self[i] == first {
                var j = i
                var k = 0
                while k < t.count, j < endIndex, self[j] == t[k] {
                    j = index(after: j)
                    k += 1
                }
                if k == t.count { return i..<j }
            }
            i = index(after: i)
        }
        return nil
    }
}

/// A decimal number as sign, integer significand and power of ten, read from literal text.
struct DecimalParts {
    var negative: Bool
    var digits: [UInt8]  // significand digits, no leading zeros ([] for zero)
    var exponent: Int

    init?(_ literal: String) {
        var s = Substring(literal)
        negative = s.hasPrefix("-")
        if negative { s = s.dropFirst() }
        var exp = 0
        if let e = s.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            guard let v = Int(s[s.index(after: e)...].replacingOccurrencesOfPlus()) else { return nil }
            exp = v
            s = s[..<e]
        }
        var ds: [UInt8] = []
        if let dot = s.firstIndex(of: ".") {
            let frac = s[s.index(after: dot)...]
            exp -= frac.count
            s = s[..<dot] + frac
        }
        for c in s.utf8 {
            guard c >= 0x30 && c <= 0x39 else { return nil }
            ds.append(c - 0x30)
        }
        while ds.first == 0 { ds.removeFirst() }
        // Trailing zeros move into the exponent so equal values compare alike.
        while ds.last == 0 {
            ds.removeLast()
            exp += 1
        }
        digits = ds
        exponent = exp
    }

    var isZero: Bool { digits.isEmpty }

    /// The significand scaled by 10^shift as Int64, nil on overflow.
    func scaled(by shift: Int) -> Int64? {
        guard digits.count + shift <= 18 else { return nil }
        var v: Int64 = 0
        for d in digits { v = v * 10 + Int64(d) }
        for _ in 0..<shift { v *= 10 }
        return v
    }
}

extension Substring {
    fileprivate func replacingOccurrencesOfPlus() -> Substring { hasPrefix("+") ? dropFirst() : self }
}

extension JSONNumber {
    /// Three-way comparison, exact for integers and ordinary decimals.
    func compare(_ other: JSONNumber) -> Int {
        if let a = Int64(literal), let b = Int64(other.literal) { return a < b ? -1 : (a == b ? 0 : 1) }
        let a = doubleValue, b = other.doubleValue
        if a < b { return -1 }
        if a > b { return 1 }
        return 0
    }

    /// Whether `self` is an integer multiple of `divisor`, exact when both fit as scaled decimals.
    func isMultiple(of divisor: JSONNumber) -> Bool {
        if let a = DecimalParts(literal), let b = DecimalParts(divisor.literal), !b.isZero {
            if a.isZero { return true }
            let e = Swift.min(a.exponent, b.exponent)
            if let x = a.scaled(by: a.exponent - e), let y = b.scaled(by: b.exponent - e) {
                return x % y == 0
            }
        }
        let q = doubleValue / divisor.doubleValue
        // An overflowing quotient cannot be checked exactly: treat it as not a multiple.
        guard q.isFinite else { return false }
        return q == q.rounded()
    }
}
