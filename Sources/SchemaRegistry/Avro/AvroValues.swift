// JSON values checked against Avro types, in the form the specification uses for field defaults
// (bytes and fixed as strings of code points 0-255, records and maps as objects). The parser uses
// it for defaults; the test encoder uses it to pick union branches.

struct AvroValueChecker {
    let named: [String: AvroType]
    /// Defaults of union fields must match the union's first branch; encoded values may match any.
    let unionUsesFirstBranchOnly: Bool

    struct Problem {
        /// Where inside the value: `.field`, `[3]`, `["key"]`; empty at the top.
        let location: String
        let message: String
    }

    static func kind(of value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    /// Bytes of a string whose code points are all 0-255, as defaults of bytes and fixed are written.
    static func latin1Bytes(_ s: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(s.unicodeScalars.count)
        for scalar in s.unicodeScalars {
            guard scalar.value <= 0xFF else { return nil }
            out.append(UInt8(scalar.value))
        }
        return out
    }

    /// Bytes and fixed take strings of code points 0-255.
    private static func takesLatin1String(_ type: AvroType) -> Bool {
        switch type {
        case .primitive(.bytes, _), .fixed: true
        default: false
        }
    }

    func problem(_ value: JSONValue, _ type: AvroType, at location: String) -> Problem? {
        func fail(_ expected: String) -> Problem {
            var got = Self.kind(of: value)
            switch value {
            case .number(let n) where n.literal.count <= 40: got = n.literal
            case .string(let s) where Self.latin1Bytes(s) == nil && Self.takesLatin1String(type): got = "a string with code points above 255"
            default: break
            }
            return Problem(location: location, message: "expected \(expected), got \(got)")
        }
        switch type {
        case .reference(let name):
            guard let definition = named[name] else { return Problem(location: location, message: "unknown type '\(name)'") }
            return problem(value, definition, at: location)
        case .primitive(let p, _):
            switch (p, value) {
            case (.null, .null), (.boolean, .bool), (.string, .string), (.float, .number), (.double, .number):
                return nil
            case (.int, .number(let n)):
                guard let i = Int64(n.literal), i >= Int64(Int32.min), i <= Int64(Int32.max) else { return fail("an int") }
                return nil
            case (.long, .number(let n)):
                return Int64(n.literal) == nil ? fail("a long") : nil
            case (.bytes, .string(let s)):
                return Self.latin1Bytes(s) == nil ? fail("a string of code points 0-255") : nil
            case (.null, _): return fail("null")
            case (.boolean, _): return fail("a boolean")
            case (.int, _): return fail("an int")
            case (.long, _): return fail("a long")
            case (.float, _): return fail("a float")
            case (.double, _): return fail("a double")
            case (.bytes, _): return fail("a string of code points 0-255")
            case (.string, _): return fail("a string")
            }
        case .fixed(let f):
            guard case .string(let s) = value, let bytes = Self.latin1Bytes(s) else {
                return fail("a string of code points 0-255 for fixed \(f.name)")
            }
            guard bytes.count == f.size else {
                return Problem(location: location, message: "expected \(f.size) bytes for fixed \(f.name), got \(bytes.count)")
            }
            return nil
        case .enumeration(let e):
            guard case .string(let s) = value else { return fail("a symbol of enum \(e.name)") }
            return e.symbols.contains(s) ? nil : Problem(location: location, message: "'\(s)' is not a symbol of enum \(e.name)")
        case .array(let items):
            guard case .array(let elements) = value else { return fail("an array") }
            for (i, element) in elements.enumerated() {
                if let p = problem(element, items, at: "\(location)[\(i)]") { return p }
            }
            return nil
        case .map(let values):
            guard case .object(let object) = value else { return fail("an object (map)") }
            for member in object.members {
                var key = ""
                JSONValue.writeString(member.key, to: &key)
                if let p = problem(member.value, values, at: "\(location)[\(key)]") { return p }
            }
            return nil
        case .record(let r):
            guard case .object(let object) = value else { return fail("an object (record \(r.name))") }
            for field in r.fields {
                if let fieldValue = object[field.name] {
                    if let p = problem(fieldValue, field.type, at: "\(location).\(field.name)") { return p }
                } else if field.defaultValue == nil {
                    return Problem(location: location, message: "field '\(field.name)' of \(r.name) is missing and has no default")
                }
            }
            return nil
        case .union(let branches):
            if unionUsesFirstBranchOnly {
                guard let first = branches.first else { return Problem(location: location, message: "an empty union has no values") }
                guard let p = problem(value, first, at: location) else { return nil }
                return Problem(location: p.location,
                               message: "union default must match its first branch (\(AvroSchemaParser.unionKey(first))): \(p.message)")
            }
            if branches.contains(where: { problem(value, $0, at: location) == nil }) { return nil }
            return fail("a value of one of the union's branches")
        }
    }
}
