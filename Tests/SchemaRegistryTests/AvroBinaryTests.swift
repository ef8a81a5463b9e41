// Binary encoding per the specification: the spec's own examples byte for byte, round trips
// through the test encoder, and one case per kind of malformed payload the validator must refuse.
import Testing
@testable import SchemaRegistry

private func hex(_ s: String) -> [UInt8] {
    var out: [UInt8] = []
    var chars = Array(s.filter { !$0.isWhitespace })
    while chars.count >= 2 {
        out.append(UInt8(String(chars[0..<2]), radix: 16)!)
        chars.removeFirst(2)
    }
    return out
}

private func schema(_ text: String) throws -> AvroSchema { try AvroSchema.parse(text) }
private func json(_ text: String) throws -> JSONValue { try JSONParser.parse(text) }

struct BinaryRejection: Sendable, CustomTestStringConvertible {
    let name: String
    let schema: String
    let bytes: String
    let kind: AvroDecodeError.Kind
    var testDescription: String { name }
}

private let person = #"{"type":"record","name":"test","fields":[{"name":"a","type":"long"},{"name":"b","type":"string"}]}"#
private let longList = #"{"type":"record","name":"LongList","fields":[{"name":"value","type":"long"},{"name":"next","type":["null","LongList"]}]}"#

let binaryRejections: [BinaryRejection] = [
    .init(name: "empty input for int", schema: #""int""#, bytes: "", kind: .truncated),
    .init(name: "unterminated varint", schema: #""long""#, bytes: "80 80", kind: .truncated),
    .init(name: "varint longer than 10 bytes", schema: #""long""#, bytes: "80 80 80 80 80 80 80 80 80 80 01", kind: .invalidVarint),
    .init(name: "varint overflows 64 bits", schema: #""long""#, bytes: "ff ff ff ff ff ff ff ff ff 7f", kind: .invalidVarint),
    .init(name: "int out of 32-bit range", schema: #""int""#, bytes: "80 80 80 80 10", kind: .intOutOfRange),
    .init(name: "boolean byte 2", schema: #""boolean""#, bytes: "02", kind: .invalidBoolean),
    .init(name: "truncated float", schema: #""float""#, bytes: "00 00 80", kind: .truncated),
    .init(name: "truncated double", schema: #""double""#, bytes: "00 00 00 00 00 00 f0", kind: .truncated),
    .init(name: "negative bytes length", schema: #""bytes""#, bytes: "01", kind: .negativeLength),
    .init(name: "bytes length beyond payload", schema: #""bytes""#, bytes: "08 61 62", kind: .lengthBeyondPayload),
    .init(name: "hostile string length", schema: #""string""#, bytes: "fe ff ff ff ff ff ff ff ff 01", kind: .lengthBeyondPayload),
    .init(name: "invalid UTF-8 in string", schema: #""string""#, bytes: "04 c3 28", kind: .invalidUTF8),
    .init(name: "overlong UTF-8", schema: #""string""#, bytes: "04 c0 af", kind: .invalidUTF8),
    .init(name: "UTF-8 surrogate", schema: #""string""#, bytes: "06 ed a0 80", kind: .invalidUTF8),
    .init(name: "truncated UTF-8 sequence", schema: #""string""#, bytes: "04 61 e2", kind: .invalidUTF8),
    .init(name: "union index out of range", schema: #"["null","string"]"#, bytes: "04", kind: .unionIndexOutOfRange),
    .init(name: "negative union index", schema: #"["null","string"]"#, bytes: "01", kind: .unionIndexOutOfRange),
    .init(name: "enum index out of range", schema: #"{"type":"enum","name":"E","symbols":["A","B"]}"#, bytes: "04", kind: .enumIndexOutOfRange),
    .init(name: "negative enum index", schema: #"{"type":"enum","name":"E","symbols":["A","B"]}"#, bytes: "03", kind: .enumIndexOutOfRange),
    .init(name: "truncated fixed", schema: #"{"type":"fixed","name":"F","size":4}"#, bytes: "01 02 03", kind: .truncated),
    .init(name: "array missing terminator", schema: #"{"type":"array","items":"long"}"#, bytes: "04 06 36", kind: .truncated),
    .init(name: "hostile array count", schema: #"{"type":"array","items":"long"}"#, bytes: "fe ff ff ff ff ff ff ff ff 01 00", kind: .countBeyondPayload),
    .init(name: "hostile map count", schema: #"{"type":"map","values":"null"}"#, bytes: "fe ff ff ff 0f 00", kind: .countBeyondPayload),
    .init(name: "block size disagrees with items", schema: #"{"type":"array","items":"long"}"#, bytes: "03 06 06 36 00", kind: .blockSizeMismatch),
    .init(name: "negative block size", schema: #"{"type":"array","items":"long"}"#, bytes: "03 01 06 36 00", kind: .negativeLength),
    .init(name: "block size beyond payload", schema: #"{"type":"array","items":"long"}"#, bytes: "03 40 06 36 00", kind: .lengthBeyondPayload),
    .init(name: "minimum long as block count", schema: #"{"type":"array","items":"long"}"#, bytes: "ff ff ff ff ff ff ff ff ff 01", kind: .invalidBlockCount),
    .init(name: "trailing bytes", schema: #""int""#, bytes: "02 00", kind: .trailingBytes),
    .init(name: "record field truncated", schema: person, bytes: "36 06 66 6f", kind: .lengthBeyondPayload),
    .init(name: "map key not UTF-8", schema: #"{"type":"map","values":"int"}"#, bytes: "02 02 ff 02 00", kind: .invalidUTF8),
]

@Suite struct AvroBinaryTests {
    @Test func specExamples() throws {
        // Zig-zag table from the specification.
        for (value, bytes) in [(0, "00"), (-1, "01"), (1, "02"), (-2, "03"), (2, "04"), (-64, "7f"), (64, "80 01")] {
            #expect(try AvroBinary.encode(.number(JSONNumber(Int64(value))), schema: schema(#""long""#)) == hex(bytes))
            try AvroBinary.validate(hex(bytes)[...], schema: schema(#""int""#))
        }
        #expect(try AvroBinary.encode(.string("foo"), schema: schema(#""string""#)) == hex("06 66 6f 6f"))
        #expect(try AvroBinary.encode(json(#"{"a":27,"b":"foo"}"#), schema: schema(person)) == hex("36 06 66 6f 6f"))
        #expect(try AvroBinary.encode(json("[3,27]"), schema: schema(#"{"type":"array","items":"long"}"#)) == hex("04 06 36 00"))
        #expect(try AvroBinary.encode(.null, schema: schema(#"["null","string"]"#)) == hex("00"))
        #expect(try AvroBinary.encode(json(#"{"string":"a"}"#), schema: schema(#"["null","string"]"#)) == hex("02 02 61"))
        #expect(try AvroBinary.encode(.string("a"), schema: schema(#"["null","string"]"#)) == hex("02 02 61"))
        #expect(try AvroBinary.encode(.string("D"), schema: schema(#"{"type":"enum","name":"Foo","symbols":["A","B","C","D"]}"#)) == hex("06"))
        try AvroBinary.validate(hex("36 06 66 6f 6f")[...], schema: schema(person))
        try AvroBinary.validate(hex("04 06 36 00")[...], schema: schema(#"{"type":"array","items":"long"}"#))
        try AvroBinary.validate(hex("02 02 61")[...], schema: schema(#"["null","string"]"#))
    }

    @Test func primitiveEncodings() throws {
        #expect(try AvroBinary.encode(.bool(true), schema: schema(#""boolean""#)) == [1])
        #expect(try AvroBinary.encode(json("1.0"), schema: schema(#""float""#)) == hex("00 00 80 3f"))
        #expect(try AvroBinary.encode(json("1.0"), schema: schema(#""double""#)) == hex("00 00 00 00 00 00 f0 3f"))
        #expect(try AvroBinary.encode(.string("\u{ff}\u{0}"), schema: schema(#""bytes""#)) == hex("04 ff 00"))
        #expect(try AvroBinary.encode(.string("ab"), schema: schema(#"{"type":"fixed","name":"F","size":2}"#)) == hex("61 62"))
        #expect(try AvroBinary.encode(json("-9223372036854775808"), schema: schema(#""long""#)) == hex("ff ff ff ff ff ff ff ff ff 01"))
        #expect(try AvroBinary.encode(json("2147483647"), schema: schema(#""int""#)) == hex("fe ff ff ff 0f"))
    }

    @Test func roundTrips() throws {
        let cases: [(String, String)] = [
            (longList, #"{"value":1,"next":{"LongList":{"value":-2,"next":null}}}"#),
            (longList, #"{"value":1,"next":{"value":2,"next":{"value":3,"next":null}}}"#),
            (#"{"type":"map","values":{"type":"array","items":["null","double","string"]}}"#, #"{"x":[null,1.5,"s"],"y":[]}"#),
            (#"{"type":"record","name":"R","fields":[{"name":"f","type":{"type":"fixed","name":"F","size":3}},{"name":"e","type":{"type":"enum","name":"E","symbols":["A","B"]}},{"name":"m","type":{"type":"map","values":"F"}},{"name":"d","type":{"type":"int","logicalType":"date"}}]}"#,
             #"{"f":"abc","e":"B","m":{"k":"xyz"},"d":19000}"#),
            (#"{"type":"array","items":"null"}"#, "[null,null,null]"),
            (#"{"type":"record","name":"Empty","fields":[]}"#, "{}"),
            (#"["int","string",{"type":"record","name":"P","fields":[{"name":"x","type":"int"}]}]"#, #"{"P":{"x":5}}"#),
            (#"["int","string",{"type":"record","name":"P","fields":[{"name":"x","type":"int"}]}]"#, "7"),
            (#"{"type":"record","name":"D","fields":[{"name":"x","type":"int","default":4}]}"#, "{}"),
        ]
        for (schemaText, valueText) in cases {
            let s = try schema(schemaText)
            let bytes = try AvroBinary.encode(json(valueText), schema: s)
            try AvroBinary.validate(bytes[...], schema: s)
            // Every strict prefix is refused: nothing in these values is optional at the end.
            if !bytes.isEmpty {
                #expect(throws: AvroDecodeError.self) { try AvroBinary.validate(bytes.dropLast(), schema: s) }
            }
        }
    }

    @Test func negativeBlockCountsWithByteSizes() throws {
        // Two items as a block of count -2 and byte size 2, then the terminating zero.
        try AvroBinary.validate(hex("03 04 06 36 00")[...], schema: schema(#"{"type":"array","items":"long"}"#))
        // Map: one entry in a sized block, then a plain block, then the end.
        try AvroBinary.validate(hex("01 06 02 61 02 02 02 62 04 00")[...], schema: schema(#"{"type":"map","values":"int"}"#))
        // Several blocks in a row.
        try AvroBinary.validate(hex("02 02 02 04 00")[...], schema: schema(#"{"type":"array","items":"int"}"#))
    }

    @Test func zeroSizedItemsDoNotLoopOnHostileCounts() throws {
        // 2^62 null items occupy no bytes: the validator accepts without iterating.
        try AvroBinary.validate(hex("80 80 80 80 80 80 80 80 80 01 00")[...], schema: schema(#"{"type":"array","items":"null"}"#))
    }

    @Test func sliceOffsetsAreHonoured() throws {
        let buffer: [UInt8] = [0xAA, 0xBB, 0x02, 0x02, 0x61, 0xCC]
        let s = try schema(#"["null","string"]"#)
        try AvroBinary.validate(buffer[2..<5], schema: s)
        do {
            try AvroBinary.validate(buffer[2..<6], schema: s)
            Issue.record("accepted trailing byte")
        } catch {
            #expect(error.kind == .trailingBytes && error.offset == 3)
        }
    }

    @Test func errorsSayWhere() throws {
        let s = try schema(#"{"type":"record","name":"R","fields":[{"name":"id","type":"long"},{"name":"tags","type":{"type":"array","items":"string"}}]}"#)
        do {
            try AvroBinary.validate(hex("02 04 02 61 04 c3 28 00")[...], schema: s)
            Issue.record("accepted invalid UTF-8")
        } catch {
            #expect(error.kind == .invalidUTF8)
            #expect(error.path == ".tags[1]")
            #expect(error.offset == 5)
            #expect(error.description.contains(".tags[1]"))
        }
    }

    @Test func mapValueErrorsNameTheKey() throws {
        let s = try schema(#"{"type":"map","values":"boolean"}"#)
        do {
            try AvroBinary.validate(hex("04 02 61 01 04 62 22 07")[...], schema: s)
            Issue.record("accepted")
        } catch {
            #expect(error.kind == .invalidBoolean && error.path == #"["b\""]"# && error.offset == 7)
        }
    }

    @Test func deepNestingIsBounded() throws {
        // A linked list nested far deeper than the limit: refused, not a stack overflow.
        var bytes: [UInt8] = []
        for _ in 0..<100_000 { bytes += [0x02, 0x02] }
        bytes += [0x02, 0x00]
        let s = try schema(longList)
        do {
            try AvroBinary.validate(bytes[...], schema: s)
            Issue.record("accepted")
        } catch {
            #expect(error.kind == .tooDeep)
        }
    }

    @Test(arguments: binaryRejections)
    func rejects(_ c: BinaryRejection) throws {
        let s = try schema(c.schema)
        do {
            try AvroBinary.validate(hex(c.bytes)[...], schema: s)
            Issue.record("accepted")
        } catch {
            #expect(error.kind == c.kind, "\(error)")
        }
    }

    @Test func encoderRefusesValuesThatDoNotFit() throws {
        #expect(throws: AvroEncodeError.self) { try AvroBinary.encode(.string("x"), schema: schema(#""int""#)) }
        #expect(throws: AvroEncodeError.self) { try AvroBinary.encode(json("2147483648"), schema: schema(#""int""#)) }
        #expect(throws: AvroEncodeError.self) { try AvroBinary.encode(.string("abc"), schema: schema(#"{"type":"fixed","name":"F","size":2}"#)) }
        #expect(throws: AvroEncodeError.self) { try AvroBinary.encode(.string("Z"), schema: schema(#"{"type":"enum","name":"E","symbols":["A"]}"#)) }
        #expect(throws: AvroEncodeError.self) { try AvroBinary.encode(json("{}"), schema: schema(person)) }
        #expect(throws: AvroEncodeError.self) { try AvroBinary.encode(.bool(true), schema: schema(#"["null","string"]"#)) }
    }
}
