// Parsing Canonical Form ([PRIMITIVES], [FULLNAMES], [STRIP], [ORDER], [STRINGS], [INTEGERS],
// [WHITESPACE]) and the 64-bit Rabin fingerprint, checked against published values and against a
// slow bit-at-a-time implementation written here from the polynomial.
import Testing
@testable import SchemaRegistry

struct CanonicalCase: Sendable, CustomTestStringConvertible {
    let name: String
    let input: String
    let canonical: String
    /// Whether parsing the canonical form gives it back. Not so for a null-namespace type nested
    /// in a namespaced one: the form has no way to say "null namespace", a gap in the spec itself.
    var roundTrips = true
    var testDescription: String { name }
}

let canonicalCases: [CanonicalCase] = [
    .init(name: "primitive name", input: #""int""#, canonical: #""int""#),
    .init(name: "primitive object form", input: #"{"type":"int"}"#, canonical: #""int""#),
    .init(name: "primitive with extra attributes", input: #"{"type":"string","doc":"x","avro.java.string":"String"}"#, canonical: #""string""#),
    .init(name: "logical type stripped", input: #"{"type":"long","logicalType":"timestamp-millis"}"#, canonical: #""long""#),
    .init(name: "decimal stripped", input: #"{"type":"bytes","logicalType":"decimal","precision":4,"scale":2}"#, canonical: #""bytes""#),
    .init(name: "fixed with namespace and aliases", input: #"{"type":"fixed","size":16,"name":"md5","namespace":"x","aliases":["y"]}"#, canonical: #"{"name":"x.md5","type":"fixed","size":16}"#),
    .init(name: "record attributes stripped and ordered",
          input: #"{"fields":[{"type":"int","name":"a","doc":"d","default":1,"order":"ignore","aliases":["z"]}],"doc":"r","type":"record","name":"R","aliases":["Q"]}"#,
          canonical: #"{"name":"R","type":"record","fields":[{"name":"a","type":"int"}]}"#),
    .init(name: "namespace inherited by nested enum",
          input: #"{"type":"record","name":"R","namespace":"a.b","fields":[{"name":"e","type":{"type":"enum","name":"E","symbols":["X","Y"],"default":"X"}}]}"#,
          canonical: #"{"name":"a.b.R","type":"record","fields":[{"name":"e","type":{"name":"a.b.E","type":"enum","symbols":["X","Y"]}}]}"#),
    .init(name: "reference written as full name",
          input: #"{"type":"record","name":"R","namespace":"n","fields":[{"name":"a","type":{"type":"fixed","name":"F","size":1}},{"name":"b","type":"F"}]}"#,
          canonical: #"{"name":"n.R","type":"record","fields":[{"name":"a","type":{"name":"n.F","type":"fixed","size":1}},{"name":"b","type":"n.F"}]}"#),
    .init(name: "array items in short form", input: #"{"type":"array","items":{"type":"long"}}"#, canonical: #"{"type":"array","items":"long"}"#),
    .init(name: "map values", input: #"{"values":"string","type":"map","default":{}}"#, canonical: #"{"type":"map","values":"string"}"#),
    .init(name: "union members", input: #"["null",{"type":"string"},{"type":"array","items":"int"}]"#, canonical: #"["null","string",{"type":"array","items":"int"}]"#),
    .init(name: "escapes replaced by characters", input: #"{"type":"enum","name":"\u0045","symbols":["\u0041","B"]}"#, canonical: #"{"name":"E","type":"enum","symbols":["A","B"]}"#),
    .init(name: "dotted name ignores namespace attribute",
          input: #"{"type":"record","name":"a.full.Name","namespace":"ignored","fields":[{"name":"u","type":{"type":"enum","name":"Understanding","symbols":["d"]}}]}"#,
          canonical: #"{"name":"a.full.Name","type":"record","fields":[{"name":"u","type":{"name":"a.full.Understanding","type":"enum","symbols":["d"]}}]}"#),
    .init(name: "recursive record",
          input: #"{"type":"record","name":"LongList","aliases":["LinkedLongs"],"fields":[{"name":"value","type":"long"},{"name":"next","type":["null","LongList"]}]}"#,
          canonical: #"{"name":"LongList","type":"record","fields":[{"name":"value","type":"long"},{"name":"next","type":["null","LongList"]}]}"#),
    .init(name: "whitespace removed",
          input: "{\n  \"type\" : \"record\",\n  \"name\" : \"R\",\n  \"fields\" : [ { \"name\" : \"a\", \"type\" : \"int\" } ]\n}",
          canonical: #"{"name":"R","type":"record","fields":[{"name":"a","type":"int"}]}"#),
    .init(name: "size written without fraction", input: #"{"type":"fixed","name":"F","size":16.0}"#, canonical: #"{"name":"F","type":"fixed","size":16}"#),
    .init(name: "explicit namespace on nested type",
          input: #"{"type":"record","name":"R","namespace":"a","fields":[{"name":"x","type":{"type":"record","name":"S","namespace":"b","fields":[{"name":"y","type":{"type":"fixed","name":"T","size":2}}]}},{"name":"z","type":"b.T"}]}"#,
          canonical: #"{"name":"a.R","type":"record","fields":[{"name":"x","type":{"name":"b.S","type":"record","fields":[{"name":"y","type":{"name":"b.T","type":"fixed","size":2}}]}},{"name":"z","type":"b.T"}]}"#),
    .init(name: "null-namespace type inside a namespace",
          input: #"{"type":"record","name":"R","namespace":"a","fields":[{"name":"x","type":{"type":"fixed","name":"F","namespace":"","size":1}}]}"#,
          canonical: #"{"name":"a.R","type":"record","fields":[{"name":"x","type":{"name":"F","type":"fixed","size":1}}]}"#,
          roundTrips: false),
    .init(name: "doc with escapes dropped", input: #"{"type":"record","name":"R","doc":"\u00e9t\u00e9","fields":[]}"#, canonical: #"{"name":"R","type":"record","fields":[]}"#),
]

/// CRC-64-AVRO one bit at a time from the polynomial (the spec's EMPTY constant doubles as the
/// reflected polynomial), independent of the table-driven code under test.
func slowRabin(_ bytes: [UInt8]) -> UInt64 {
    let poly: UInt64 = 0xc15d_213a_a4d7_a795
    var fp = poly
    for byte in bytes {
        fp ^= UInt64(byte)
        for _ in 0..<8 { fp = (fp & 1) == 1 ? (fp >> 1) ^ poly : fp >> 1 }
    }
    return fp
}

@Suite struct AvroCanonicalFormTests {
    @Test(arguments: canonicalCases)
    func canonical(_ c: CanonicalCase) throws {
        let s = try AvroSchema.parse(c.input)
        #expect(s.canonicalForm == c.canonical)
        // The canonical form is itself a schema with the same canonical form.
        if c.roundTrips { #expect(try AvroSchema.parse(s.canonicalForm).canonicalForm == c.canonical) }
    }

    @Test func publishedFingerprints() throws {
        // Values published with the Avro project's canonical-form test data (signed in the original).
        let known: [(String, Int64)] = [
            (#""null""#, 7195948357588979594),
            (#""boolean""#, -6970731678124411036),
            (#""int""#, 8247732601305521295),
            (#""long""#, -3434872931120570953),
            (#""float""#, 5583340709985441680),
            (#""string""#, -8142146995180207161),
            (#"{"name":"foo","type":"fixed","size":15}"#, 1756455273707447556),
            (#"{"name":"foo","type":"record","fields":[{"name":"f1","type":"boolean"}]}"#, 7843277075252814651),
            (#"{"name":"foo","type":"record","fields":[]}"#, -4824392279771201922),
            (#"["int","boolean"]"#, 5392556393470105090),
            (#"{"name":"PigValue","type":"record","fields":[{"name":"value","type":["null","int","long","PigValue"]}]}"#, -1759257747318642341),
        ]
        for (text, value) in known {
            let s = try AvroSchema.parse(text)
            #expect(s.canonicalForm == text)
            #expect(s.fingerprint == UInt64(bitPattern: value), "\(text)")
            #expect(AvroFingerprint.rabin64(Array(text.utf8)) == slowRabin(Array(text.utf8)))
        }
    }

    @Test func fingerprintAgreesWithSlowImplementation() throws {
        #expect(AvroFingerprint.rabin64([]) == 0xc15d_213a_a4d7_a795)
        for c in canonicalCases {
            let s = try AvroSchema.parse(c.input)
            #expect(s.fingerprint == slowRabin(Array(c.canonical.utf8)))
        }
        var bytes: [UInt8] = []
        for i in 0..<300 { bytes.append(UInt8(truncatingIfNeeded: i &* 7 &+ 3)) }
        #expect(AvroFingerprint.rabin64(bytes) == slowRabin(bytes))
    }

    @Test func sameCanonicalFormSameFingerprint() throws {
        let a = try AvroSchema.parse(#"{"type":"record","name":"R","namespace":"n","doc":"one","fields":[{"name":"a","type":{"type":"int"}}]}"#)
        let b = try AvroSchema.parse(#"{"name":"n.R","type":"record","fields":[{"name":"a","type":"int","doc":"two"}]}"#)
        let c = try AvroSchema.parse(#"{"name":"n.R","type":"record","fields":[{"name":"a","type":"long"}]}"#)
        #expect(a.canonicalForm == b.canonicalForm && a.fingerprint == b.fingerprint)
        #expect(a.fingerprint != c.fingerprint)
    }
}
