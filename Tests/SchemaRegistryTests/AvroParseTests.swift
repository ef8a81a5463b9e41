// Schema declaration rules from the Avro specification: what parses (names and namespaces,
// references, recursion, logical types) and what is refused, with the error text that says what
// and where.
import Testing
@testable import SchemaRegistry

struct ParseFailure: Sendable, CustomTestStringConvertible {
    let schema: String
    let fragment: String
    var path: String? = nil
    var testDescription: String { fragment }
}

private func field(_ type: String, default value: String? = nil) -> String {
    let d = value.map { #","default":\#($0)"# } ?? ""
    return #"{"type":"record","name":"R","fields":[{"name":"f","type":\#(type)\#(d)}]}"#
}

let parseFailures: [ParseFailure] = [
    .init(schema: "{", fragment: "not valid JSON"),
    .init(schema: "42", fragment: "a schema must be a string, an object or an array"),
    .init(schema: #""foo""#, fragment: "unknown type 'foo'"),
    .init(schema: #"{"type":"foo"}"#, fragment: "unknown type 'foo'"),
    .init(schema: #"{"name":"R","fields":[]}"#, fragment: "missing 'type'"),
    .init(schema: #"{"type":7}"#, fragment: "'type' must be"),
    .init(schema: #"{"type":"record","fields":[]}"#, fragment: "missing 'name'"),
    .init(schema: #"{"type":"record","name":"1abc","fields":[]}"#, fragment: "invalid name '1abc'", path: "/name"),
    .init(schema: #"{"type":"record","name":"a-b","fields":[]}"#, fragment: "invalid name 'a-b'"),
    .init(schema: #"{"type":"record","name":"a..b","fields":[]}"#, fragment: "invalid name 'a..b'"),
    .init(schema: #"{"type":"record","name":"R","namespace":"com..x","fields":[]}"#, fragment: "invalid namespace 'com..x'", path: "/namespace"),
    .init(schema: #"{"type":"record","name":"R"}"#, fragment: "missing 'fields'"),
    .init(schema: #"{"type":"record","name":"R","fields":{}}"#, fragment: "'fields' must be an array"),
    .init(schema: #"{"type":"record","name":"R","fields":[{"type":"int"}]}"#, fragment: "missing 'name'", path: "/fields/0"),
    .init(schema: #"{"type":"record","name":"R","fields":[{"name":"a"}]}"#, fragment: "field 'a' of record R: missing 'type'", path: "/fields/0"),
    .init(schema: #"{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"a","type":"long"}]}"#, fragment: "duplicate field 'a' in record R", path: "/fields/1"),
    .init(schema: #"{"type":"record","name":"R","fields":[{"name":"a b","type":"int"}]}"#, fragment: "invalid name 'a b'"),
    .init(schema: #"{"type":"record","name":"R","fields":[{"name":"a","type":"int","order":"sideways"}]}"#, fragment: "invalid order 'sideways'"),
    .init(schema: #"{"type":"record","name":"R","fields":[{"name":"a","type":"int","aliases":"b"}]}"#, fragment: "'aliases' must be an array of strings"),
    .init(schema: #"{"type":"record","name":"R","doc":5,"fields":[]}"#, fragment: "'doc' must be a string"),
    .init(schema: #"{"type":"enum","name":"E"}"#, fragment: "missing 'symbols'"),
    .init(schema: #"{"type":"enum","name":"E","symbols":["A","B","A"]}"#, fragment: "duplicate symbol 'A' in enum E", path: "/symbols/2"),
    .init(schema: #"{"type":"enum","name":"E","symbols":["1A"]}"#, fragment: "invalid symbol '1A'"),
    .init(schema: #"{"type":"enum","name":"E","symbols":["A"],"default":"B"}"#, fragment: "enum default 'B' is not one of the symbols of E"),
    .init(schema: #"{"type":"array"}"#, fragment: "missing 'items'"),
    .init(schema: #"{"type":"map"}"#, fragment: "missing 'values'"),
    .init(schema: #"{"type":"fixed","name":"F"}"#, fragment: "missing 'size'"),
    .init(schema: #"{"type":"fixed","name":"F","size":-1}"#, fragment: "size of fixed F must be a non-negative integer", path: "/size"),
    .init(schema: #"{"type":"fixed","name":"F","size":1.5}"#, fragment: "size of fixed F must be a non-negative integer"),
    .init(schema: #"["null",["int","string"]]"#, fragment: "unions may not immediately contain other unions", path: "/1"),
    .init(schema: #"["int","string","int"]"#, fragment: "union contains more than one 'int'", path: "/2"),
    .init(schema: #"["null",{"type":"array","items":"int"},{"type":"array","items":"long"}]"#, fragment: "union contains more than one 'array'"),
    .init(schema: #"["int",{"type":"int","logicalType":"date"}]"#, fragment: "union contains more than one 'int'"),
    .init(schema: #"[{"type":"fixed","name":"F","size":1},"F"]"#, fragment: "union contains more than one 'F'"),
    .init(schema: #"{"type":"record","name":"R","fields":[{"name":"a","type":{"type":"fixed","name":"R","size":1}}]}"#, fragment: "'R' is already defined", path: "/fields/0/type"),
    .init(schema: #"{"type":"record","name":"int","fields":[]}"#, fragment: "a primitive type name"),
    .init(schema: #"{"type":"record","name":"R","fields":[{"name":"a","type":"Later"},{"name":"b","type":{"type":"fixed","name":"Later","size":1}}]}"#, fragment: "unknown type 'Later'", path: "/fields/0/type"),
    .init(schema: #"["null","Nope"]"#, fragment: "unknown type 'Nope'", path: "/1"),
    .init(schema: #"{"type":"record","name":"ns.R","fields":[{"name":"a","type":{"type":"record","name":"Inner","fields":[{"name":"x","type":"Missing"}]}}]}"#, fragment: "unknown type 'Missing' (as ns.Missing)", path: "/fields/0/type/fields/0/type"),
    // Defaults are checked against their types.
    .init(schema: field(#""int""#, default: #""1""#), fragment: "default for field 'f' of record R: expected an int, got a string", path: "/fields/0/default"),
    .init(schema: field(#""int""#, default: "2147483648"), fragment: "expected an int, got 2147483648"),
    .init(schema: field(#""long""#, default: "1.5"), fragment: "expected a long, got 1.5"),
    .init(schema: field(#""boolean""#, default: #""true""#), fragment: "expected a boolean"),
    .init(schema: field(#""null""#, default: "0"), fragment: "expected null"),
    .init(schema: field(#""float""#, default: #""1.0""#), fragment: "expected a float"),
    .init(schema: field(#""string""#, default: "null"), fragment: "expected a string"),
    .init(schema: field(#"["string","null"]"#, default: "null"), fragment: "union default must match its first branch (string)"),
    .init(schema: field(#""bytes""#, default: #""\u0100""#), fragment: "expected a string of code points 0-255, got a string with code points above 255"),
    .init(schema: field(#"{"type":"fixed","name":"F","size":2}"#, default: #""a""#), fragment: "expected 2 bytes for fixed F, got 1"),
    .init(schema: field(#"{"type":"enum","name":"E","symbols":["A"]}"#, default: #""B""#), fragment: "'B' is not a symbol of enum E"),
    .init(schema: field(#"{"type":"array","items":"int"}"#, default: #"[1,"x"]"#), fragment: "at [1]: expected an int"),
    .init(schema: field(#"{"type":"map","values":"int"}"#, default: #"{"k":true}"#), fragment: "at [\"k\"]: expected an int"),
    .init(schema: field(#"{"type":"record","name":"P","fields":[{"name":"x","type":"int"}]}"#, default: "{}"), fragment: "field 'x' of P is missing and has no default"),
    .init(schema: field(#"{"type":"record","name":"P","fields":[{"name":"x","type":"int"}]}"#, default: #"{"x":"1"}"#), fragment: "at .x: expected an int"),
]

@Suite struct AvroParseTests {
    @Test(arguments: parseFailures)
    func rejects(_ c: ParseFailure) {
        do {
            let s = try AvroSchema.parse(c.schema)
            Issue.record("parsed \(s.canonicalForm)")
        } catch {
            #expect(error.message.contains(c.fragment), "\(error)")
            if let path = c.path { #expect(error.path == path, "\(error)") }
            #expect(error.description.contains(error.message))
        }
    }

    @Test func failureTableIsLargeEnough() { #expect(parseFailures.count >= 30) }

    @Test func specNamespaceExample() throws {
        let s = try AvroSchema.parse(#"""
        {"type":"record","name":"Example","fields":[
          {"name":"inheritNull","type":{"type":"enum","name":"Simple","symbols":["a","b"]}},
          {"name":"explicitNamespace","type":{"type":"fixed","name":"Simple","namespace":"explicit","size":12}},
          {"name":"fullName","type":{"type":"record","name":"a.full.Name","namespace":"ignored","fields":[
            {"name":"inheritNamespace","type":{"type":"enum","name":"Understanding","symbols":["d","e"]}}]}}]}
        """#)
        #expect(Set(s.namedTypes.keys) == ["Example", "Simple", "explicit.Simple", "a.full.Name", "a.full.Understanding"])
        guard case .record(let r) = s.type else { Issue.record("not a record"); return }
        #expect(r.name.fullName == "Example" && r.name.namespace == "")
        #expect(r.fields.map(\.name) == ["inheritNull", "explicitNamespace", "fullName"])
    }

    @Test func namesResolveInTheEnclosingNamespace() throws {
        let s = try AvroSchema.parse(#"{"type":"record","name":"R","namespace":"a.b","fields":[{"name":"e","type":{"type":"enum","name":"E","symbols":["X"]}},{"name":"f","type":"E"},{"name":"g","type":"a.b.E"}]}"#)
        guard case .record(let r) = s.type else { Issue.record("not a record"); return }
        #expect(r.fields[1].type == .reference("a.b.E"))
        #expect(r.fields[2].type == .reference("a.b.E"))
        // A short name not found in the enclosing namespace falls back to the null namespace (as
        // the Java implementation does), so schemas mixing namespaced and plain types still parse.
        let mixed = try AvroSchema.parse(#"{"type":"record","name":"Outer","fields":[{"name":"p","type":{"type":"fixed","name":"Plain","size":1}},{"name":"i","type":{"type":"record","name":"Inner","namespace":"x","fields":[{"name":"q","type":"Plain"}]}}]}"#)
        #expect(mixed.namedTypes["x.Inner"] != nil)
    }

    @Test func namespaceAttributeEmptyMeansNullNamespace() throws {
        let s = try AvroSchema.parse(#"{"type":"record","name":"R","namespace":"a","fields":[{"name":"x","type":{"type":"fixed","name":"F","namespace":"","size":1}}]}"#)
        #expect(s.namedTypes["F"] != nil && s.namedTypes["a.F"] == nil)
    }

    @Test func recursiveRecordParses() throws {
        let s = try AvroSchema.parse(#"{"type":"record","name":"LongList","aliases":["LinkedLongs"],"fields":[{"name":"value","type":"long"},{"name":"next","type":["null","LongList"]}]}"#)
        guard case .record(let r) = s.type else { Issue.record("not a record"); return }
        #expect(r.aliases == ["LinkedLongs"])
        #expect(r.fields[1].type == .union([.primitive(.null), .reference("LongList")]))
    }

    @Test func fieldAttributesAreKept() throws {
        let s = try AvroSchema.parse(#"{"type":"record","name":"R","doc":"d","fields":[{"name":"a","type":"int","doc":"x","default":3,"order":"descending","aliases":["b","c"]}]}"#)
        guard case .record(let r) = s.type else { Issue.record("not a record"); return }
        #expect(r.doc == "d")
        let f = r.fields[0]
        #expect(f.doc == "x" && f.defaultValue == .number(JSONNumber(Int64(3))) && f.order == .descending && f.aliases == ["b", "c"])
    }

    @Test func validDefaults() throws {
        let ok = [
            field(#""bytes""#, default: #""\u00ff\u0000""#),
            field(#"{"type":"fixed","name":"F","size":2}"#, default: #""\u00ffa""#),
            field(#"["null","string"]"#, default: "null"),
            field(#"["string","null"]"#, default: #""s""#),
            field(#""double""#, default: "1e300"),
            field(#""float""#, default: "1"),
            field(#""long""#, default: "-9223372036854775808"),
            field(#"{"type":"map","values":{"type":"array","items":"int"}}"#, default: #"{"a":[1,2],"b":[]}"#),
            field(#"{"type":"record","name":"P","fields":[{"name":"x","type":"int"},{"name":"y","type":"int","default":2}]}"#, default: #"{"x":1}"#),
            #"{"type":"record","name":"L","fields":[{"name":"v","type":"int"},{"name":"next","type":["null","L"],"default":null}]}"#,
        ]
        for text in ok { #expect(throws: Never.self) { try AvroSchema.parse(text) } }
    }

    @Test func logicalTypes() throws {
        func logical(_ text: String) throws -> AvroLogicalType? {
            let s = try AvroSchema.parse(text)
            switch s.type {
            case .primitive(_, let l): return l
            case .fixed(let f): return f.logicalType
            default: return nil
            }
        }
        #expect(try logical(#"{"type":"bytes","logicalType":"decimal","precision":4,"scale":2}"#) == .decimal(precision: 4, scale: 2))
        #expect(try logical(#"{"type":"bytes","logicalType":"decimal","precision":4}"#) == .decimal(precision: 4, scale: 0))
        #expect(try logical(#"{"type":"fixed","name":"D","size":4,"logicalType":"decimal","precision":9}"#) == .decimal(precision: 9, scale: 0))
        #expect(try logical(#"{"type":"string","logicalType":"uuid"}"#) == .uuid)
        #expect(try logical(#"{"type":"int","logicalType":"date"}"#) == .date)
        #expect(try logical(#"{"type":"int","logicalType":"time-millis"}"#) == .timeMillis)
        #expect(try logical(#"{"type":"long","logicalType":"time-micros"}"#) == .timeMicros)
        #expect(try logical(#"{"type":"long","logicalType":"timestamp-millis"}"#) == .timestampMillis)
        #expect(try logical(#"{"type":"long","logicalType":"timestamp-micros"}"#) == .timestampMicros)
        #expect(try logical(#"{"type":"long","logicalType":"local-timestamp-millis"}"#) == .localTimestampMillis)
        #expect(try logical(#"{"type":"long","logicalType":"local-timestamp-micros"}"#) == .localTimestampMicros)
        #expect(try logical(#"{"type":"fixed","name":"Dur","size":12,"logicalType":"duration"}"#) == .duration)
        // Invalid logical types are ignored: the underlying type stands.
        #expect(try logical(#"{"type":"bytes","logicalType":"decimal","precision":2,"scale":3}"#) == nil)
        #expect(try logical(#"{"type":"bytes","logicalType":"decimal","precision":0}"#) == nil)
        #expect(try logical(#"{"type":"bytes","logicalType":"decimal"}"#) == nil)
        #expect(try logical(#"{"type":"bytes","logicalType":"decimal","precision":4,"scale":-1}"#) == nil)
        #expect(try logical(#"{"type":"fixed","name":"D","size":4,"logicalType":"decimal","precision":10}"#) == nil)
        #expect(try logical(#"{"type":"string","logicalType":"decimal","precision":4}"#) == nil)
        #expect(try logical(#"{"type":"long","logicalType":"date"}"#) == nil)
        #expect(try logical(#"{"type":"int","logicalType":"timestamp-millis"}"#) == nil)
        #expect(try logical(#"{"type":"fixed","name":"Dur","size":16,"logicalType":"duration"}"#) == nil)
        #expect(try logical(#"{"type":"string","logicalType":"no-such-type"}"#) == nil)
        #expect(try AvroSchema.parse(#"{"type":"string","logicalType":"no-such-type"}"#).type == .primitive(.string))
    }

    @Test func decimalPrecisionLimitForFixed() throws {
        // floor(log10(2^(8n-1) - 1)): 2 digits for 1 byte, 4 for 2, 9 for 4, 18 for 8, 38 for 16.
        for (size, digits) in [(1, 2), (2, 4), (4, 9), (8, 18), (16, 38)] {
            let ok = try AvroSchema.parse(#"{"type":"fixed","name":"D","size":\#(size),"logicalType":"decimal","precision":\#(digits)}"#)
            let over = try AvroSchema.parse(#"{"type":"fixed","name":"D","size":\#(size),"logicalType":"decimal","precision":\#(digits + 1)}"#)
            guard case .fixed(let a) = ok.type, case .fixed(let b) = over.type else { Issue.record("not fixed"); continue }
            #expect(a.logicalType == .decimal(precision: digits, scale: 0))
            #expect(b.logicalType == nil)
        }
    }

    @Test func referencesResolveNamedTypesFromOtherSchemas() throws {
        let address = try AvroSchema.parse(#"{"type":"record","name":"Address","namespace":"com.acme","fields":[{"name":"street","type":"string"}]}"#)
        let user = try AvroSchema.parse(#"{"type":"record","name":"User","namespace":"com.acme","fields":[{"name":"home","type":"Address"},{"name":"work","type":["null","com.acme.Address"],"default":null}]}"#,
                                        references: ["com.acme.Address": address])
        #expect(user.namedTypes["com.acme.Address"] != nil)
        #expect(user.canonicalForm == #"{"name":"com.acme.User","type":"record","fields":[{"name":"home","type":{"name":"com.acme.Address","type":"record","fields":[{"name":"street","type":"string"}]}},{"name":"work","type":["null","com.acme.Address"]}]}"#)
        // Without the reference the name is unknown.
        #expect(throws: AvroSchemaError.self) {
            try AvroSchema.parse(#"{"type":"record","name":"User","namespace":"com.acme","fields":[{"name":"home","type":"Address"}]}"#)
        }
        // A schema may not redefine a referenced name.
        #expect(throws: AvroSchemaError.self) {
            try AvroSchema.parse(#"{"type":"record","name":"com.acme.Address","fields":[]}"#, references: ["a": address])
        }
    }

    @Test func typeNamesOfComplexKindsMayBeReused() throws {
        let s = try AvroSchema.parse(#"{"type":"record","name":"ns.record","fields":[{"name":"x","type":{"type":"enum","name":"ns.map","symbols":["A"]}},{"name":"y","type":"ns.map"}]}"#)
        #expect(s.namedTypes["ns.map"] != nil)
    }
}
