// Parsing Canonical Form and the CRC-64-AVRO fingerprint, per the specification. Working from the
// parsed model gives most transformations for free: primitives are already short ([PRIMITIVES]),
// names already full ([FULLNAMES]), only parsing attributes kept ([STRIP]), strings unescaped
// ([STRINGS]) and sizes integers ([INTEGERS]); writing fixes the order and whitespace.

extension AvroSchema {
    /// The schema's Parsing Canonical Form. A named type is written in full at its first
    /// occurrence (even when defined in a referenced schema) and by full name afterwards.
    public var canonicalForm: String {
        var out = ""
        var written: Set<String> = []
        writeCanonical(type, to: &out, written: &written)
        return out
    }

    /// The 64-bit Rabin fingerprint (CRC-64-AVRO) of the Parsing Canonical Form.
    public var fingerprint: UInt64 { AvroFingerprint.rabin64(Array(canonicalForm.utf8)) }

    private func writeCanonical(_ type: AvroType, to out: inout String, written: inout Set<String>) {
        if let fullName = type.fullName {
            guard written.insert(fullName).inserted else {
                JSONValue.writeString(fullName, to: &out)
                return
            }
        }
        switch resolve(type) {
        case .primitive(let p, _):
            JSONValue.writeString(p.rawValue, to: &out)
        case .record(let r):
            out += "{\"name\":"
            JSONValue.writeString(r.name.fullName, to: &out)
            out += ",\"type\":\"record\",\"fields\":["
            for (i, field) in r.fields.enumerated() {
                if i > 0 { out += "," }
                out += "{\"name\":"
                JSONValue.writeString(field.name, to: &out)
                out += ",\"type\":"
                writeCanonical(field.type, to: &out, written: &written)
                out += "}"
            }
            out += "]}"
        case .enumeration(let e):
            out += "{\"name\":"
            JSONValue.writeString(e.name.fullName, to: &out)
            out += ",\"type\":\"enum\",\"symbols\":["
            for (i, symbol) in e.symbols.enumerated() {
                if i > 0 { out += "," }
                JSONValue.writeString(symbol, to: &out)
            }
            out += "]}"
        case .fixed(let f):
            out += "{\"name\":"
            JSONValue.writeString(f.name.fullName, to: &out)
            out += ",\"type\":\"fixed\",\"size\":\(f.size)}"
        case .array(let items):
            out += "{\"type\":\"array\",\"items\":"
            writeCanonical(items, to: &out, written: &written)
            out += "}"
        case .map(let values):
            out += "{\"type\":\"map\",\"values\":"
            writeCanonical(values, to: &out, written: &written)
            out += "}"
        case .union(let branches):
            out += "["
            for (i, branch) in branches.enumerated() {
                if i > 0 { out += "," }
                writeCanonical(branch, to: &out, written: &written)
            }
            out += "]"
        case .reference(let name):
            // Only reachable for a model built by hand with a dangling reference.
            JSONValue.writeString(name, to: &out)
        }
    }
}

/// The specification's 64-bit Rabin fingerprint ("CRC-64-AVRO").
public enum AvroFingerprint {
    /// The fingerprint of the empty input; also the (reflected) polynomial.
    public static let empty: UInt64 = 0xc15d_213a_a4d7_a795

    static let table: [UInt64] = (0..<256).map { i in
        var fp = UInt64(i)
        for _ in 0..<8 { fp = (fp >> 1) ^ (empty & (0 &- (fp & 1))) }
        return fp
    }

    public static func rabin64(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var fp = empty
        for b in bytes { fp = (fp >> 8) ^ table[Int((fp ^ UInt64(b)) & 0xFF)] }
        return fp
    }
}
