// Compatibility vectors derived from the Avro specification's "Schema Resolution" section: each
// row is a reader/writer pair and whether the reader can read the writer's data, plus the
// incompatibility kind and path expected when it cannot. Level rows then check how BACKWARD,
// FORWARD, FULL and their transitive forms pick the pairs.
import Testing
@testable import SchemaRegistry

struct ResolutionCase: Sendable, CustomTestStringConvertible {
    let name: String
    let reader: String
    let writer: String
    let compatible: Bool
    var kind: AvroIncompatibility.Kind? = nil
    var path: String? = nil
    var testDescription: String { name }
}

private func rec(_ name: String, _ fields: String, extra: String = "") -> String {
    #"{"type":"record","name":"\#(name)"\#(extra),"fields":[\#(fields)]}"#
}

private let longList = #"{"type":"record","name":"LongList","fields":[{"name":"value","type":"long"},{"name":"next","type":["null","LongList"]}]}"#
private let intList = #"{"type":"record","name":"LongList","fields":[{"name":"value","type":"int"},{"name":"next","type":["null","LongList"]}]}"#
private let tree = #"{"type":"record","name":"Tree","fields":[{"name":"label","type":"string"},{"name":"children","type":{"type":"array","items":"Tree"}}]}"#
private let mutualA = #"{"type":"record","name":"A","fields":[{"name":"b","type":["null",{"type":"record","name":"B","fields":[{"name":"a","type":["null","A"]},{"name":"n","type":"int"}]}]}]}"#
private let mutualALong = #"{"type":"record","name":"A","fields":[{"name":"b","type":["null",{"type":"record","name":"B","fields":[{"name":"a","type":["null","A"]},{"name":"n","type":"long"}]}]}]}"#
private let suit = #"{"type":"enum","name":"Suit","symbols":["SPADES","HEARTS","DIAMONDS","CLUBS"]}"#
private let suit3 = #"{"type":"enum","name":"Suit","symbols":["SPADES","HEARTS","DIAMONDS"]}"#
private let suit3Default = #"{"type":"enum","name":"Suit","symbols":["SPADES","HEARTS","DIAMONDS"],"default":"SPADES"}"#
private let decimal42 = #"{"type":"bytes","logicalType":"decimal","precision":4,"scale":2}"#

let resolutionCases: [ResolutionCase] = [
    // Same primitive types and the promotions the spec lists.
    .init(name: "int reads int", reader: #""int""#, writer: #""int""#, compatible: true),
    .init(name: "null reads null", reader: #""null""#, writer: #""null""#, compatible: true),
    .init(name: "boolean reads boolean", reader: #""boolean""#, writer: #""boolean""#, compatible: true),
    .init(name: "long reads int", reader: #""long""#, writer: #""int""#, compatible: true),
    .init(name: "float reads int", reader: #""float""#, writer: #""int""#, compatible: true),
    .init(name: "double reads int", reader: #""double""#, writer: #""int""#, compatible: true),
    .init(name: "float reads long", reader: #""float""#, writer: #""long""#, compatible: true),
    .init(name: "double reads long", reader: #""double""#, writer: #""long""#, compatible: true),
    .init(name: "double reads float", reader: #""double""#, writer: #""float""#, compatible: true),
    .init(name: "bytes reads string", reader: #""bytes""#, writer: #""string""#, compatible: true),
    .init(name: "string reads bytes", reader: #""string""#, writer: #""bytes""#, compatible: true),
    .init(name: "int cannot read long", reader: #""int""#, writer: #""long""#, compatible: false, kind: .typeMismatch, path: ""),
    .init(name: "int cannot read float", reader: #""int""#, writer: #""float""#, compatible: false, kind: .typeMismatch),
    .init(name: "long cannot read float", reader: #""long""#, writer: #""float""#, compatible: false, kind: .typeMismatch),
    .init(name: "long cannot read double", reader: #""long""#, writer: #""double""#, compatible: false, kind: .typeMismatch),
    .init(name: "float cannot read double", reader: #""float""#, writer: #""double""#, compatible: false, kind: .typeMismatch),
    .init(name: "int cannot read string", reader: #""int""#, writer: #""string""#, compatible: false, kind: .typeMismatch),
    .init(name: "string cannot read int", reader: #""string""#, writer: #""int""#, compatible: false, kind: .typeMismatch),
    .init(name: "boolean cannot read int", reader: #""boolean""#, writer: #""int""#, compatible: false, kind: .typeMismatch),
    .init(name: "null cannot read int", reader: #""null""#, writer: #""int""#, compatible: false, kind: .typeMismatch),
    .init(name: "int cannot read null", reader: #""int""#, writer: #""null""#, compatible: false, kind: .typeMismatch),
    .init(name: "bytes cannot read int", reader: #""bytes""#, writer: #""int""#, compatible: false, kind: .typeMismatch),

    // Logical types are read through their underlying types and their parameters are not
    // compared (Avro Java's SchemaCompatibility, which Confluent's registry uses).
    .init(name: "date reads int", reader: #"{"type":"int","logicalType":"date"}"#, writer: #""int""#, compatible: true),
    .init(name: "int reads date", reader: #""int""#, writer: #"{"type":"int","logicalType":"date"}"#, compatible: true),
    .init(name: "timestamp-millis reads int by promotion", reader: #"{"type":"long","logicalType":"timestamp-millis"}"#, writer: #""int""#, compatible: true),
    .init(name: "uuid reads string", reader: #"{"type":"string","logicalType":"uuid"}"#, writer: #""string""#, compatible: true),
    .init(name: "decimal same precision and scale", reader: decimal42, writer: decimal42, compatible: true),
    .init(name: "decimal precision differs", reader: decimal42, writer: #"{"type":"bytes","logicalType":"decimal","precision":5,"scale":2}"#, compatible: true),
    .init(name: "decimal scale differs", reader: decimal42, writer: #"{"type":"bytes","logicalType":"decimal","precision":4,"scale":3}"#, compatible: true),
    .init(name: "fixed decimal precision differs",
          reader: #"{"type":"fixed","name":"D","size":8,"logicalType":"decimal","precision":10,"scale":2}"#,
          writer: #"{"type":"fixed","name":"D","size":8,"logicalType":"decimal","precision":12,"scale":4}"#, compatible: true),
    .init(name: "bytes reads decimal", reader: #""bytes""#, writer: decimal42, compatible: true),
    .init(name: "invalid decimal is plain bytes", reader: #"{"type":"bytes","logicalType":"decimal","precision":2,"scale":3}"#, writer: decimal42, compatible: true),

    // Records: fields matched by name (or reader alias), defaults fill missing fields.
    .init(name: "identical records", reader: rec("R", #"{"name":"a","type":"int"}"#), writer: rec("R", #"{"name":"a","type":"int"}"#), compatible: true),
    .init(name: "reader adds field with default", reader: rec("R", #"{"name":"a","type":"int"},{"name":"b","type":"string","default":"x"}"#), writer: rec("R", #"{"name":"a","type":"int"}"#), compatible: true),
    .init(name: "reader adds field without default", reader: rec("R", #"{"name":"a","type":"int"},{"name":"b","type":"string"}"#), writer: rec("R", #"{"name":"a","type":"int"}"#), compatible: false, kind: .readerFieldMissingDefaultValue, path: "/fields/1"),
    .init(name: "writer field not in reader is ignored", reader: rec("R", #"{"name":"a","type":"int"}"#), writer: rec("R", #"{"name":"a","type":"int"},{"name":"b","type":"string"}"#), compatible: true),
    .init(name: "fields reordered", reader: rec("R", #"{"name":"b","type":"string"},{"name":"a","type":"int"}"#), writer: rec("R", #"{"name":"a","type":"int"},{"name":"b","type":"string"}"#), compatible: true),
    .init(name: "field promoted int to long", reader: rec("R", #"{"name":"a","type":"long"}"#), writer: rec("R", #"{"name":"a","type":"int"}"#), compatible: true),
    .init(name: "field narrowed long to int", reader: rec("R", #"{"name":"x","type":"string"},{"name":"a","type":"int"}"#), writer: rec("R", #"{"name":"x","type":"string"},{"name":"a","type":"long"}"#), compatible: false, kind: .typeMismatch, path: "/fields/1/type"),
    .init(name: "field renamed with reader alias", reader: rec("R", #"{"name":"b","type":"int","aliases":["a"]}"#), writer: rec("R", #"{"name":"a","type":"int"}"#), compatible: true),
    .init(name: "field renamed without alias or default", reader: rec("R", #"{"name":"b","type":"int"}"#), writer: rec("R", #"{"name":"a","type":"int"}"#), compatible: false, kind: .readerFieldMissingDefaultValue, path: "/fields/0"),
    .init(name: "field renamed without alias but with default", reader: rec("R", #"{"name":"b","type":"int","default":0}"#), writer: rec("R", #"{"name":"a","type":"int"}"#), compatible: true),
    .init(name: "writer field alias does not help", reader: rec("R", #"{"name":"b","type":"int"}"#), writer: rec("R", #"{"name":"a","type":"int","aliases":["b"]}"#), compatible: false, kind: .readerFieldMissingDefaultValue),
    .init(name: "record renamed with reader alias", reader: rec("New", #"{"name":"a","type":"int"}"#, extra: #","aliases":["Old"]"#), writer: rec("Old", #"{"name":"a","type":"int"}"#), compatible: true),
    .init(name: "record renamed without alias", reader: rec("New", #"{"name":"a","type":"int"}"#), writer: rec("Old", #"{"name":"a","type":"int"}"#), compatible: false, kind: .nameMismatch, path: "/name"),
    .init(name: "record namespaces differ, unqualified names match", reader: rec("R", #"{"name":"a","type":"int"}"#, extra: #","namespace":"one""#), writer: rec("R", #"{"name":"a","type":"int"}"#, extra: #","namespace":"two""#), compatible: true),
    .init(name: "record alias as a full name", reader: rec("New", #"{"name":"a","type":"int"}"#, extra: #","namespace":"ns2","aliases":["ns1.Old"]"#), writer: rec("Old", #"{"name":"a","type":"int"}"#, extra: #","namespace":"ns1""#), compatible: true),
    .init(name: "record alias relative to its namespace", reader: rec("New", #"{"name":"a","type":"int"}"#, extra: #","namespace":"ns","aliases":["Old"]"#), writer: rec("Old", #"{"name":"a","type":"int"}"#, extra: #","namespace":"ns""#), compatible: true),
    .init(name: "relative alias does not match another namespace", reader: rec("New", #"{"name":"a","type":"int"}"#, extra: #","namespace":"ns","aliases":["Old"]"#), writer: rec("Old", #"{"name":"a","type":"int"}"#, extra: #","namespace":"other""#), compatible: false, kind: .nameMismatch),
    .init(name: "nested record field missing default", reader: rec("R", #"{"name":"inner","type":{"type":"record","name":"I","fields":[{"name":"x","type":"int"},{"name":"y","type":"int"}]}}"#), writer: rec("R", #"{"name":"inner","type":{"type":"record","name":"I","fields":[{"name":"x","type":"int"}]}}"#), compatible: false, kind: .readerFieldMissingDefaultValue, path: "/fields/0/type/fields/1"),
    .init(name: "nested record promotion", reader: rec("R", #"{"name":"inner","type":{"type":"record","name":"I","fields":[{"name":"x","type":"double"}]}}"#), writer: rec("R", #"{"name":"inner","type":{"type":"record","name":"I","fields":[{"name":"x","type":"float"}]}}"#), compatible: true),
    .init(name: "reader adds optional field defaulting to null", reader: rec("R", #"{"name":"a","type":"int"},{"name":"b","type":["null","string"],"default":null}"#), writer: rec("R", #"{"name":"a","type":"int"}"#), compatible: true),
    .init(name: "reader adds record-typed field with record default", reader: rec("R", #"{"name":"a","type":"int"},{"name":"p","type":{"type":"record","name":"P","fields":[{"name":"x","type":"int"}]},"default":{"x":1}}"#), writer: rec("R", #"{"name":"a","type":"int"}"#), compatible: true),
    .init(name: "empty records", reader: rec("R", ""), writer: rec("R", ""), compatible: true),
    .init(name: "record cannot read map", reader: rec("R", ""), writer: #"{"type":"map","values":"int"}"#, compatible: false, kind: .typeMismatch),
    .init(name: "record cannot read union with null", reader: rec("R", ""), writer: #"["null",\#(rec("R", ""))]"#, compatible: false, kind: .typeMismatch),
    .init(name: "optional record reads record", reader: #"["null",\#(rec("R", ""))]"#, writer: rec("R", ""), compatible: true),
    .init(name: "field becomes optional", reader: rec("R", #"{"name":"a","type":["null","int"]}"#), writer: rec("R", #"{"name":"a","type":"int"}"#), compatible: true),
    .init(name: "field becomes required", reader: rec("R", #"{"name":"a","type":"int"}"#), writer: rec("R", #"{"name":"a","type":["null","int"]}"#), compatible: false, kind: .typeMismatch, path: "/fields/0/type"),
    .init(name: "field type changes to string", reader: rec("R", #"{"name":"a","type":"string"}"#), writer: rec("R", #"{"name":"a","type":"int"}"#), compatible: false, kind: .typeMismatch, path: "/fields/0/type"),
    .init(name: "two missing fields give two reasons", reader: rec("R", #"{"name":"a","type":"int"},{"name":"b","type":"int"}"#), writer: rec("R", ""), compatible: false, kind: .readerFieldMissingDefaultValue, path: "/fields/0"),

    // Enums: writer symbols must exist in the reader unless the reader has a default.
    .init(name: "same enum", reader: suit, writer: suit, compatible: true),
    .init(name: "reader adds symbol", reader: suit, writer: suit3, compatible: true),
    .init(name: "reader lacks writer symbol", reader: suit3, writer: suit, compatible: false, kind: .missingEnumSymbols, path: "/symbols"),
    .init(name: "reader lacks writer symbol but has default", reader: suit3Default, writer: suit, compatible: true),
    .init(name: "symbols reordered", reader: #"{"type":"enum","name":"Suit","symbols":["CLUBS","DIAMONDS","HEARTS","SPADES"]}"#, writer: suit, compatible: true),
    .init(name: "enum name differs", reader: #"{"type":"enum","name":"Colour","symbols":["SPADES","HEARTS","DIAMONDS","CLUBS"]}"#, writer: suit, compatible: false, kind: .nameMismatch),
    .init(name: "enum renamed with alias", reader: #"{"type":"enum","name":"Colour","aliases":["Suit"],"symbols":["SPADES","HEARTS","DIAMONDS","CLUBS"]}"#, writer: suit, compatible: true),
    .init(name: "enum cannot read string", reader: suit, writer: #""string""#, compatible: false, kind: .typeMismatch),
    .init(name: "string cannot read enum", reader: #""string""#, writer: suit, compatible: false, kind: .typeMismatch),
    .init(name: "enum in another namespace, same name", reader: #"{"type":"enum","name":"a.Suit","symbols":["SPADES","HEARTS","DIAMONDS","CLUBS"]}"#, writer: #"{"type":"enum","name":"b.Suit","symbols":["SPADES","HEARTS","DIAMONDS","CLUBS"]}"#, compatible: true),
    .init(name: "enum field loses symbol", reader: rec("R", #"{"name":"s","type":\#(suit3)}"#), writer: rec("R", #"{"name":"s","type":\#(suit)}"#), compatible: false, kind: .missingEnumSymbols, path: "/fields/0/type/symbols"),

    // Arrays and maps resolve their items and values.
    .init(name: "array of int", reader: #"{"type":"array","items":"int"}"#, writer: #"{"type":"array","items":"int"}"#, compatible: true),
    .init(name: "array of long reads array of int", reader: #"{"type":"array","items":"long"}"#, writer: #"{"type":"array","items":"int"}"#, compatible: true),
    .init(name: "array of int cannot read array of long", reader: #"{"type":"array","items":"int"}"#, writer: #"{"type":"array","items":"long"}"#, compatible: false, kind: .typeMismatch, path: "/items"),
    .init(name: "map of long reads map of int", reader: #"{"type":"map","values":"long"}"#, writer: #"{"type":"map","values":"int"}"#, compatible: true),
    .init(name: "map of int cannot read map of long", reader: #"{"type":"map","values":"int"}"#, writer: #"{"type":"map","values":"long"}"#, compatible: false, kind: .typeMismatch, path: "/values"),
    .init(name: "array cannot read map", reader: #"{"type":"array","items":"int"}"#, writer: #"{"type":"map","values":"int"}"#, compatible: false, kind: .typeMismatch),
    .init(name: "map cannot read array", reader: #"{"type":"map","values":"int"}"#, writer: #"{"type":"array","items":"int"}"#, compatible: false, kind: .typeMismatch),
    .init(name: "array of records with new defaulted field", reader: #"{"type":"array","items":\#(rec("R", #"{"name":"a","type":"int"},{"name":"b","type":"int","default":1}"#))}"#, writer: #"{"type":"array","items":\#(rec("R", #"{"name":"a","type":"int"}"#))}"#, compatible: true),
    .init(name: "array of records with new required field", reader: #"{"type":"array","items":\#(rec("R", #"{"name":"a","type":"int"},{"name":"b","type":"int"}"#))}"#, writer: #"{"type":"array","items":\#(rec("R", #"{"name":"a","type":"int"}"#))}"#, compatible: false, kind: .readerFieldMissingDefaultValue, path: "/items/fields/1"),
    .init(name: "map of arrays promotes nested items", reader: #"{"type":"map","values":{"type":"array","items":"long"}}"#, writer: #"{"type":"map","values":{"type":"array","items":"int"}}"#, compatible: true),
    .init(name: "map of enums loses symbol", reader: #"{"type":"map","values":\#(suit3)}"#, writer: #"{"type":"map","values":\#(suit)}"#, compatible: false, kind: .missingEnumSymbols, path: "/values/symbols"),
    .init(name: "array of strings reads array of bytes", reader: #"{"type":"array","items":"string"}"#, writer: #"{"type":"array","items":"bytes"}"#, compatible: true),

    // Fixed: size and (unqualified) name must match.
    .init(name: "same fixed", reader: #"{"type":"fixed","name":"F","size":4}"#, writer: #"{"type":"fixed","name":"F","size":4}"#, compatible: true),
    .init(name: "fixed size differs", reader: #"{"type":"fixed","name":"F","size":4}"#, writer: #"{"type":"fixed","name":"F","size":8}"#, compatible: false, kind: .fixedSizeMismatch, path: "/size"),
    .init(name: "fixed name differs", reader: #"{"type":"fixed","name":"F","size":4}"#, writer: #"{"type":"fixed","name":"G","size":4}"#, compatible: false, kind: .nameMismatch, path: "/name"),
    .init(name: "fixed renamed with alias", reader: #"{"type":"fixed","name":"F","aliases":["G"],"size":4}"#, writer: #"{"type":"fixed","name":"G","size":4}"#, compatible: true),
    .init(name: "fixed cannot read bytes", reader: #"{"type":"fixed","name":"F","size":4}"#, writer: #""bytes""#, compatible: false, kind: .typeMismatch),
    .init(name: "bytes cannot read fixed", reader: #""bytes""#, writer: #"{"type":"fixed","name":"F","size":4}"#, compatible: false, kind: .typeMismatch),
    .init(name: "duration reads plain fixed(12)", reader: #"{"type":"fixed","name":"D","size":12,"logicalType":"duration"}"#, writer: #"{"type":"fixed","name":"D","size":12}"#, compatible: true),
    .init(name: "fixed in another namespace, same name", reader: #"{"type":"fixed","name":"x.F","size":4}"#, writer: #"{"type":"fixed","name":"y.F","size":4}"#, compatible: true),

    // Unions: every writer branch must be readable; a non-union writer must match some reader branch.
    .init(name: "same union", reader: #"["null","string"]"#, writer: #"["null","string"]"#, compatible: true),
    .init(name: "reader union widened", reader: #"["null","string","int"]"#, writer: #"["null","string"]"#, compatible: true),
    .init(name: "reader union narrowed", reader: #"["null"]"#, writer: #"["null","string"]"#, compatible: false, kind: .missingUnionBranch, path: ""),
    .init(name: "union reads its branch type", reader: #"["null","string"]"#, writer: #""string""#, compatible: true),
    .init(name: "union lacks writer type", reader: #"["null","int"]"#, writer: #""string""#, compatible: false, kind: .missingUnionBranch),
    .init(name: "non-union reads union whose branches all promote", reader: #""long""#, writer: #"["int","long"]"#, compatible: true),
    .init(name: "non-union cannot read a union branch", reader: #""string""#, writer: #"["null","string"]"#, compatible: false, kind: .typeMismatch),
    .init(name: "union branch promotion", reader: #"["null","long"]"#, writer: #"["null","int"]"#, compatible: true),
    .init(name: "union reads promotable non-union", reader: #"["null","double"]"#, writer: #""int""#, compatible: true),
    .init(name: "union branches reordered", reader: #"["string","null"]"#, writer: #"["null","string"]"#, compatible: true),
    .init(name: "union of records by name", reader: #"[\#(rec("A", "")),\#(rec("B", ""))]"#, writer: #"[\#(rec("B", ""))]"#, compatible: true),
    .init(name: "union of records missing one", reader: #"[\#(rec("A", ""))]"#, writer: #"[\#(rec("A", "")),\#(rec("B", ""))]"#, compatible: false, kind: .missingUnionBranch),
    .init(name: "single-branch union reads its type", reader: #"["int"]"#, writer: #""int""#, compatible: true),
    .init(name: "type reads single-branch union", reader: #""int""#, writer: #"["int"]"#, compatible: true),
    .init(name: "union bytes reads string", reader: #"["null","bytes"]"#, writer: #""string""#, compatible: true),
    .init(name: "union branch record missing default reports the field", reader: #"["null",\#(rec("R", #"{"name":"a","type":"int"},{"name":"b","type":"int"}"#))]"#, writer: #"["null",\#(rec("R", #"{"name":"a","type":"int"}"#))]"#, compatible: false, kind: .readerFieldMissingDefaultValue, path: "/1/fields/1"),
    .init(name: "union of array and map widening", reader: #"["null",{"type":"array","items":"long"},{"type":"map","values":"long"}]"#, writer: #"[{"type":"map","values":"int"}]"#, compatible: true),
    .init(name: "union of enum to enum with default", reader: #"["null",\#(suit3Default)]"#, writer: #"["null",\#(suit)]"#, compatible: true),

    // Recursive types terminate and still resolve field by field.
    .init(name: "recursive list reads itself", reader: longList, writer: longList, compatible: true),
    .init(name: "recursive list with defaulted field", reader: #"{"type":"record","name":"LongList","fields":[{"name":"value","type":"long"},{"name":"next","type":["null","LongList"]},{"name":"tag","type":"string","default":""}]}"#, writer: longList, compatible: true),
    .init(name: "recursive list with required new field", reader: #"{"type":"record","name":"LongList","fields":[{"name":"value","type":"long"},{"name":"next","type":["null","LongList"]},{"name":"tag","type":"string"}]}"#, writer: longList, compatible: false, kind: .readerFieldMissingDefaultValue, path: "/fields/2"),
    .init(name: "recursive list promotes value", reader: longList, writer: intList, compatible: true),
    .init(name: "recursive list cannot narrow value", reader: intList, writer: longList, compatible: false, kind: .typeMismatch, path: "/fields/0/type"),
    .init(name: "mutually recursive records", reader: mutualALong, writer: mutualA, compatible: true),
    .init(name: "mutually recursive records narrowed", reader: mutualA, writer: mutualALong, compatible: false, kind: .typeMismatch, path: "/fields/0/type/1/fields/1/type"),
    .init(name: "recursive tree through array", reader: tree, writer: tree, compatible: true),

    // Namespaces: inherited and explicit spellings of the same full names resolve alike.
    .init(name: "inherited namespace equals explicit full names",
          reader: #"{"type":"record","name":"R","namespace":"a.b","fields":[{"name":"e","type":{"type":"enum","name":"E","symbols":["X"]}},{"name":"f","type":"E"}]}"#,
          writer: #"{"type":"record","name":"a.b.R","fields":[{"name":"e","type":{"type":"enum","name":"a.b.E","symbols":["X"]}},{"name":"f","type":"a.b.E"}]}"#, compatible: true),
    .init(name: "reused named type resolves at each use",
          reader: #"{"type":"record","name":"R","fields":[{"name":"x","type":{"type":"fixed","name":"F","size":2}},{"name":"y","type":"F"}]}"#,
          writer: #"{"type":"record","name":"R","fields":[{"name":"x","type":{"type":"fixed","name":"F","size":2}},{"name":"y","type":"F"}]}"#, compatible: true),
    .init(name: "reused named type mismatch is found at the reference",
          reader: #"{"type":"record","name":"R","fields":[{"name":"x","type":{"type":"fixed","name":"F","size":2}},{"name":"y","type":"F"}]}"#,
          writer: #"{"type":"record","name":"R","fields":[{"name":"x","type":{"type":"fixed","name":"F","size":2}},{"name":"y","type":{"type":"fixed","name":"G","size":2}}]}"#, compatible: false, kind: .nameMismatch, path: "/fields/1/type/name"),
]

@Suite struct AvroCompatibilityTests {
    @Test(arguments: resolutionCases)
    func resolution(_ c: ResolutionCase) throws {
        let reader = try AvroSchema.parse(c.reader)
        let writer = try AvroSchema.parse(c.writer)
        let found = AvroResolution.incompatibilities(reader: reader, writer: writer)
        #expect(found.isEmpty == c.compatible, "\(found)")
        #expect(AvroResolution.canRead(reader: reader, writer: writer) == c.compatible)
        if let kind = c.kind {
            #expect(found.first?.kind == kind, "\(found)")
        }
        if let path = c.path {
            #expect(found.first?.path == path, "\(found)")
        }
        for i in found { #expect(!i.message.isEmpty) }
    }

    @Test func tableIsLargeEnough() {
        #expect(resolutionCases.count + levelCases.count >= 100)
    }

    @Test func twoMissingFieldsAreBothReported() throws {
        let reader = try AvroSchema.parse(rec("R", #"{"name":"a","type":"int"},{"name":"b","type":"int"}"#))
        let writer = try AvroSchema.parse(rec("R", ""))
        let found = AvroResolution.incompatibilities(reader: reader, writer: writer)
        #expect(found.map(\.path) == ["/fields/0", "/fields/1"])
        #expect(found[1].message.contains("'b'"))
    }

    @Test func missingSymbolsAreNamed() throws {
        let found = AvroResolution.incompatibilities(reader: try AvroSchema.parse(suit3), writer: try AvroSchema.parse(suit))
        #expect(found.count == 1)
        #expect(found[0].message.contains("CLUBS"))
    }

    @Test func hostileFanOutStaysFast() throws {
        // 40 record types, each holding two fields of the next: 2^40 paths unless pairs are memoized.
        func chain(_ leaf: String) -> String {
            var inner = #"{"type":"record","name":"T40","fields":[{"name":"v","type":"\#(leaf)"}]}"#
            for i in stride(from: 39, through: 0, by: -1) {
                inner = #"{"type":"record","name":"T\#(i)","fields":[{"name":"a","type":\#(inner)},{"name":"b","type":"T\#(i + 1)"}]}"#
            }
            return inner
        }
        let s = try AvroSchema.parse(chain("int"))
        #expect(AvroResolution.canRead(reader: s, writer: s))
        let narrowed = try AvroSchema.parse(chain("long"))
        let found = AvroResolution.incompatibilities(reader: s, writer: narrowed)
        #expect(!found.isEmpty && found.count <= AvroResolution.maxReported)
    }
}

// Levels: `existing` is oldest first; BACKWARD means the new schema reads the latest, FORWARD
// the latest reads the new one, FULL both; transitive forms check every earlier version.
struct LevelCase: Sendable, CustomTestStringConvertible {
    let name: String
    let level: CompatibilityLevel
    let new: String
    let existing: [String]
    let compatible: Bool
    var testDescription: String { "\(level.rawValue): \(name)" }
}

private let v1 = rec("R", #"{"name":"f1","type":"int"}"#)
private let v1f2 = rec("R", #"{"name":"f1","type":"int"},{"name":"f2","type":"int"}"#)
private let v2def = rec("R", #"{"name":"f1","type":"int"},{"name":"f2","type":"int","default":0}"#)
private let v2strdef = rec("R", #"{"name":"f1","type":"int"},{"name":"f2","type":"string","default":""}"#)
private let vLong = rec("R", #"{"name":"f1","type":"long"}"#)

let levelCases: [LevelCase] = [
    .init(name: "anything goes", level: .none, new: #""string""#, existing: [#""int""#], compatible: true),
    .init(name: "no earlier versions", level: .fullTransitive, new: v1f2, existing: [], compatible: true),
    .init(name: "add field with default", level: .backward, new: v2def, existing: [v1], compatible: true),
    .init(name: "add field without default", level: .backward, new: v1f2, existing: [v1], compatible: false),
    .init(name: "remove field", level: .backward, new: v1, existing: [v1f2], compatible: true),
    .init(name: "remove field without default", level: .forward, new: v1, existing: [v1f2], compatible: false),
    .init(name: "add field without default", level: .forward, new: v1f2, existing: [v1], compatible: true),
    .init(name: "remove field that had a default", level: .forward, new: v1, existing: [v2def], compatible: true),
    .init(name: "add field with default", level: .full, new: v2def, existing: [v1], compatible: true),
    .init(name: "add field without default", level: .full, new: v1f2, existing: [v1], compatible: false),
    .init(name: "promote int to long", level: .backward, new: vLong, existing: [v1], compatible: true),
    .init(name: "promote int to long", level: .forward, new: vLong, existing: [v1], compatible: false),
    .init(name: "promote int to long", level: .full, new: vLong, existing: [v1], compatible: false),
    .init(name: "narrow long to int", level: .forward, new: v1, existing: [vLong], compatible: true),
    .init(name: "only the latest is checked", level: .backward, new: v1f2, existing: [v1, v2def], compatible: true),
    .init(name: "every version is checked", level: .backwardTransitive, new: v1f2, existing: [v1, v2def], compatible: false),
    .init(name: "only the latest is checked", level: .forward, new: v1, existing: [v1f2, v2def], compatible: true),
    .init(name: "every version is checked", level: .forwardTransitive, new: v1, existing: [v1f2, v2def], compatible: false),
    .init(name: "only the latest is checked", level: .full, new: v2strdef, existing: [v2def, v1], compatible: true),
    .init(name: "every version is checked", level: .fullTransitive, new: v2strdef, existing: [v2def, v1], compatible: false),
    .init(name: "enum gains symbol", level: .backward, new: suit, existing: [suit3], compatible: true),
    .init(name: "enum gains symbol", level: .forward, new: suit, existing: [suit3], compatible: false),
    .init(name: "enum gains symbol, old has default", level: .forward, new: suit, existing: [suit3Default], compatible: true),
    .init(name: "union widened", level: .backward, new: #"["null","string","int"]"#, existing: [#"["null","string"]"#], compatible: true),
    .init(name: "union widened", level: .forward, new: #"["null","string","int"]"#, existing: [#"["null","string"]"#], compatible: false),
    .init(name: "optional field added", level: .fullTransitive, new: rec("R", #"{"name":"f1","type":"int"},{"name":"o","type":["null","string"],"default":null}"#), existing: [v1, v1], compatible: true),
    .init(name: "type changed", level: .none, new: v1, existing: [#""string""#, #""bytes""#], compatible: true),
    .init(name: "recursive list promotes", level: .backwardTransitive, new: longList, existing: [intList, longList], compatible: true),
]

@Suite struct AvroCompatibilityLevelTests {
    @Test(arguments: levelCases)
    func level(_ c: LevelCase) throws {
        let new = try AvroSchema.parse(c.new)
        let existing = try c.existing.map { try AvroSchema.parse($0) }
        let messages = AvroCompatibility.check(level: c.level, new: new, existing: existing)
        #expect(messages.isEmpty == c.compatible, "\(messages)")
    }

    @Test func levelNamesMatchTheRegistry() {
        #expect(CompatibilityLevel(rawValue: "BACKWARD_TRANSITIVE") == .backwardTransitive)
        #expect(CompatibilityLevel.allCases.map(\.rawValue) == ["NONE", "BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD",
                                                                 "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE"])
    }

    @Test func messagesSayWhichVersionAndDirection() throws {
        let messages = AvroCompatibility.check(level: .fullTransitive, new: try AvroSchema.parse(v2strdef),
                                               existing: [try AvroSchema.parse(v2def), try AvroSchema.parse(v1)])
        // Against the oldest only, once in each direction.
        #expect(messages.count == 2)
        #expect(messages.allSatisfy { $0.contains("TYPE_MISMATCH") && $0.contains("/fields/1/type") })
        #expect(messages.allSatisfy { $0.contains("existing[0]") })
        let failures = AvroCompatibility.failures(level: .fullTransitive, new: try AvroSchema.parse(v2strdef),
                                                  existing: [try AvroSchema.parse(v2def), try AvroSchema.parse(v1)])
        #expect(failures.map(\.existingIndex) == [0, 0])
        #expect(failures.map(\.newIsReader) == [true, false])
    }
}
