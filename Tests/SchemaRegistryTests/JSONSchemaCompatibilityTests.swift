// Compatibility vectors derived from the content-model rules: BACKWARD reads old data with the new
// schema, FORWARD the reverse, FULL both; transitive levels check every earlier version.
import Testing
@testable import SchemaRegistry

struct CompatCase: Sendable, CustomTestStringConvertible {
    let name: String
    let level: String
    let existing: [String]
    let new: String
    /// The rule an incompatible result must name; nil when the change is compatible.
    let rule: String?
    var testDescription: String { name }
}

private func c(_ name: String, _ level: String, _ existing: [String], _ new: String, _ rule: String? = nil) -> CompatCase {
    CompatCase(name: name, level: level, existing: existing, new: new, rule: rule)
}

private let openA = #"{"type":"object","properties":{"a":{"type":"string"}}}"#
private let openAB = #"{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"}}}"#
private let closedA = #"{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":false}"#
private let closedAB = #"{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"}},"additionalProperties":false}"#
private func prop(_ schema: String) -> String { #"{"type":"object","properties":{"a":"# + schema + "}}" }

private let closedTuple1 = #"{"type":"array","items":[{"type":"string"}],"additionalItems":false}"#
private let closedTuple2 = #"{"type":"array","items":[{"type":"string"},{"type":"integer"}],"additionalItems":false}"#
private let openTuple1 = #"{"type":"array","items":[{"type":"string"}]}"#
private let openTuple2 = #"{"type":"array","items":[{"type":"string"},{"type":"integer"}]}"#
private func tuple(_ first: String, closed: Bool = true) -> String {
    #"{"type":"array","items":["# + first + #",{"type":"integer"}]"# + (closed ? #","additionalItems":false}"# : "}")
}

/// Draft-7 tuples without `$schema` (parsed as draft 7, as the registry does).
let draft7TupleCases: [CompatCase] = [
    c("item added to closed tuple", "BACKWARD", [closedTuple1], closedTuple2),
    c("item added to closed tuple, forward", "FORWARD", [closedTuple1], closedTuple2, "ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL"),
    c("item removed from closed tuple", "BACKWARD", [closedTuple2], closedTuple1, "ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL"),
    c("item removed from closed tuple, forward", "FORWARD", [closedTuple2], closedTuple1),
    c("item added to open tuple", "BACKWARD", [openTuple1], openTuple2, "ITEM_ADDED_TO_OPEN_CONTENT_MODEL"),
    c("item removed from open tuple", "BACKWARD", [openTuple2], openTuple1),
    c("item removed from open tuple, full", "FULL", [openTuple2], openTuple1, "ITEM_ADDED_TO_OPEN_CONTENT_MODEL"),
    c("open tuple closed", "BACKWARD", [openTuple1], closedTuple1, "ADDITIONAL_ITEMS_NARROWED"),
    c("closed tuple opened", "BACKWARD", [closedTuple1], openTuple1),
    c("tuple item type widened", "BACKWARD", [tuple(#"{"type":"string"}"#)], tuple(#"{"type":["string","null"]}"#)),
    c("tuple item type widened, forward", "FORWARD", [tuple(#"{"type":"string"}"#)], tuple(#"{"type":["string","null"]}"#), "TYPE_NARROWED"),
    c("tuple item type narrowed", "BACKWARD", [tuple(#"{"type":["string","null"]}"#)], tuple(#"{"type":"string"}"#), "TYPE_NARROWED"),
    c("tuple item integer to number", "BACKWARD", [tuple(#"{"type":"integer"}"#)], tuple(#"{"type":"number"}"#)),
    c("tuple item type changed", "FULL", [tuple(#"{"type":"string"}"#)], tuple(#"{"type":"boolean"}"#), "TYPE_CHANGED"),
    c("additionalItems schema narrowed", "BACKWARD",
      [#"{"type":"array","items":[{"type":"string"}],"additionalItems":{"type":["integer","null"]}}"#],
      #"{"type":"array","items":[{"type":"string"}],"additionalItems":{"type":"integer"}}"#, "TYPE_NARROWED"),
    c("tuple closed after an additionalItems schema", "BACKWARD",
      [#"{"type":"array","items":[{"type":"string"}],"additionalItems":{"type":"integer"}}"#], closedTuple2,
      "ADDITIONAL_ITEMS_NARROWED"),
    c("tuple item under additionalItems schema", "BACKWARD",
      [#"{"type":"array","items":[{"type":"string"}],"additionalItems":{"type":"integer"}}"#],
      #"{"type":"array","items":[{"type":"string"},{"type":"integer"}],"additionalItems":{"type":"integer"}}"#),
]

let compatibilityCases: [CompatCase] = [
    // Content models: properties added and removed.
    c("property added to open model", "BACKWARD", [openA], openAB, "PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL"),
    c("property added to open model, forward", "FORWARD", [openA], openAB),
    c("optional property added to closed model", "BACKWARD", [closedA], closedAB),
    c("optional property added to closed model, forward", "FORWARD", [closedA], closedAB, "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL"),
    c("property removed from open model", "BACKWARD", [openAB], openA),
    c("property removed from open model, forward", "FORWARD", [openAB], openA, "PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL"),
    c("property removed from closed model", "BACKWARD", [closedAB], closedA, "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL"),
    c("required property added to closed model", "BACKWARD", [closedA],
      #"{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"}},"required":["b"],"additionalProperties":false}"#,
      "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL"),
    c("required property with default added to closed model", "BACKWARD", [closedA],
      #"{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer","default":0}},"required":["b"],"additionalProperties":false}"#),
    c("property with empty schema added to open model", "BACKWARD", [openA],
      #"{"type":"object","properties":{"a":{"type":"string"},"b":{}}}"#),
    c("property with true schema added to open model", "BACKWARD", [openA],
      #"{"type":"object","properties":{"a":{"type":"string"},"b":true}}"#),
    c("false property removed from closed model", "BACKWARD",
      [#"{"type":"object","properties":{"a":{"type":"string"},"b":false},"additionalProperties":false}"#], closedA),
    c("property added, covered by additionalProperties schema", "BACKWARD",
      [#"{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":{"type":"string"}}"#],
      #"{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"string"}},"additionalProperties":{"type":"string"}}"#),
    c("property added, not covered by additionalProperties schema", "BACKWARD",
      [#"{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":{"type":"string"}}"#],
      #"{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"}},"additionalProperties":{"type":"string"}}"#,
      "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"),
    c("property added, covered by patternProperties", "BACKWARD",
      [#"{"type":"object","patternProperties":{"^x_":{"type":"string"}},"additionalProperties":false}"#],
      #"{"type":"object","properties":{"x_b":{"type":"string"}},"patternProperties":{"^x_":{"type":"string"}},"additionalProperties":false}"#),
    c("property added, not covered by patternProperties", "BACKWARD",
      [#"{"type":"object","patternProperties":{"^x_":{"type":"string"}}}"#],
      #"{"type":"object","properties":{"x_b":{"type":"boolean"}},"patternProperties":{"^x_":{"type":"string"}}}"#,
      "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"),
    c("property removed, covered by additionalProperties", "BACKWARD", [closedAB],
      #"{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":{"type":"integer"}}"#),
    c("property removed, not covered by additionalProperties", "BACKWARD", [openAB],
      #"{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":{"type":"string"}}"#,
      "PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"),
    c("open model closed", "BACKWARD", [openA], closedA, "ADDITIONAL_PROPERTIES_ADDED"),
    c("closed model opened", "BACKWARD", [closedA], openA),
    c("closed model opened, forward", "FORWARD", [closedA], openA, "ADDITIONAL_PROPERTIES_ADDED"),
    c("partially open model closed", "BACKWARD",
      [#"{"type":"object","additionalProperties":{"type":"string"}}"#], #"{"type":"object","additionalProperties":false}"#,
      "ADDITIONAL_PROPERTIES_NARROWED"),
    c("additionalProperties widened", "BACKWARD",
      [#"{"type":"object","additionalProperties":{"type":"integer"}}"#], #"{"type":"object","additionalProperties":{"type":"number"}}"#),
    c("additionalProperties narrowed", "BACKWARD",
      [#"{"type":"object","additionalProperties":{"type":"number"}}"#], #"{"type":"object","additionalProperties":{"type":"integer"}}"#,
      "TYPE_NARROWED"),

    // Required.
    c("required added", "BACKWARD", [openAB],
      #"{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"}},"required":["b"]}"#, "REQUIRED_ATTRIBUTE_ADDED"),
    c("required removed", "BACKWARD",
      [#"{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"}},"required":["b"]}"#], openAB),
    c("required removed, forward", "FORWARD",
      [#"{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"}},"required":["b"]}"#], openAB,
      "REQUIRED_ATTRIBUTE_ADDED"),
    c("required with default added", "BACKWARD", [openAB],
      #"{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer","default":1}},"required":["b"]}"#),

    // Types.
    c("integer widened to number", "BACKWARD", [#"{"type":"integer"}"#], #"{"type":"number"}"#),
    c("number narrowed to integer", "BACKWARD", [#"{"type":"number"}"#], #"{"type":"integer"}"#, "TYPE_NARROWED"),
    c("string changed to integer", "BACKWARD", [#"{"type":"string"}"#], #"{"type":"integer"}"#, "TYPE_CHANGED"),
    c("null added to type", "BACKWARD", [#"{"type":"string"}"#], #"{"type":["string","null"]}"#),
    c("null removed from type", "BACKWARD", [#"{"type":["string","null"]}"#], #"{"type":"string"}"#, "TYPE_NARROWED"),
    c("integer widened to number, forward", "FORWARD", [#"{"type":"integer"}"#], #"{"type":"number"}"#, "TYPE_NARROWED"),
    c("type added where none was", "BACKWARD", [#"{}"#], #"{"type":"string"}"#, "TYPE_NARROWED"),
    c("type removed", "BACKWARD", [#"{"type":"string"}"#], #"{}"#),
    c("nested property type changed", "BACKWARD", [prop(#"{"type":"string"}"#)], prop(#"{"type":"boolean"}"#), "TYPE_CHANGED"),

    // Numeric bounds.
    c("maximum increased", "BACKWARD", [#"{"type":"number","maximum":10}"#], #"{"type":"number","maximum":20}"#),
    c("maximum decreased", "BACKWARD", [#"{"type":"number","maximum":20}"#], #"{"type":"number","maximum":10}"#, "MAXIMUM_DECREASED"),
    c("maximum added", "BACKWARD", [#"{"type":"number"}"#], #"{"type":"number","maximum":10}"#, "MAXIMUM_ADDED"),
    c("maximum removed", "BACKWARD", [#"{"type":"number","maximum":10}"#], #"{"type":"number"}"#),
    c("maximum decreased, forward", "FORWARD", [#"{"type":"number","maximum":20}"#], #"{"type":"number","maximum":10}"#),
    c("minimum increased", "BACKWARD", [#"{"type":"number","minimum":0}"#], #"{"type":"number","minimum":5}"#, "MINIMUM_INCREASED"),
    c("minimum decreased", "BACKWARD", [#"{"type":"number","minimum":5}"#], #"{"type":"number","minimum":0}"#),
    c("exclusiveMaximum relaxed to maximum", "BACKWARD", [#"{"type":"number","exclusiveMaximum":10}"#], #"{"type":"number","maximum":10}"#),
    c("maximum tightened to exclusiveMaximum", "BACKWARD", [#"{"type":"number","maximum":10}"#],
      #"{"type":"number","exclusiveMaximum":10}"#, "MAXIMUM_DECREASED"),
    c("draft-4 exclusive maximum relaxed", "BACKWARD",
      [#"{"$schema":"http://json-schema.org/draft-04/schema#","type":"number","maximum":10,"exclusiveMaximum":true}"#],
      #"{"$schema":"http://json-schema.org/draft-04/schema#","type":"number","maximum":10}"#),
    c("exclusiveMinimum added", "BACKWARD", [#"{"type":"number","minimum":0}"#], #"{"type":"number","exclusiveMinimum":0}"#,
      "MINIMUM_INCREASED"),
    c("multipleOf reduced", "BACKWARD", [#"{"type":"integer","multipleOf":4}"#], #"{"type":"integer","multipleOf":2}"#),
    c("multipleOf expanded", "BACKWARD", [#"{"type":"integer","multipleOf":2}"#], #"{"type":"integer","multipleOf":4}"#,
      "MULTIPLE_OF_EXPANDED"),
    c("multipleOf added", "BACKWARD", [#"{"type":"number"}"#], #"{"type":"number","multipleOf":0.5}"#, "MULTIPLE_OF_ADDED"),

    // String bounds and patterns.
    c("maxLength increased", "BACKWARD", [#"{"type":"string","maxLength":10}"#], #"{"type":"string","maxLength":20}"#),
    c("maxLength decreased", "BACKWARD", [#"{"type":"string","maxLength":20}"#], #"{"type":"string","maxLength":10}"#,
      "MAX_LENGTH_DECREASED"),
    c("maxLength added", "BACKWARD", [#"{"type":"string"}"#], #"{"type":"string","maxLength":5}"#, "MAX_LENGTH_ADDED"),
    c("minLength increased", "BACKWARD", [#"{"type":"string","minLength":1}"#], #"{"type":"string","minLength":3}"#,
      "MIN_LENGTH_INCREASED"),
    c("minLength decreased", "BACKWARD", [#"{"type":"string","minLength":3}"#], #"{"type":"string","minLength":1}"#),
    c("minLength increased, forward", "FORWARD", [#"{"type":"string","minLength":1}"#], #"{"type":"string","minLength":3}"#),
    c("pattern added", "BACKWARD", [#"{"type":"string"}"#], #"{"type":"string","pattern":"^[a-z]+$"}"#, "PATTERN_ADDED"),
    c("pattern removed", "BACKWARD", [#"{"type":"string","pattern":"^[a-z]+$"}"#], #"{"type":"string"}"#),
    c("pattern changed", "BACKWARD", [#"{"type":"string","pattern":"^[a-z]+$"}"#], #"{"type":"string","pattern":"^[a-z0-9]+$"}"#,
      "PATTERN_CHANGED"),
    c("pattern removed, forward", "FORWARD", [#"{"type":"string","pattern":"^a"}"#], #"{"type":"string"}"#, "PATTERN_ADDED"),
    c("string bounds ignored when only numbers are written", "BACKWARD", [#"{"type":"integer"}"#],
      #"{"type":"integer","maxLength":2}"#),

    // Enumerations.
    c("enum extended", "BACKWARD", [#"{"enum":["a","b"]}"#], #"{"enum":["a","b","c"]}"#),
    c("enum narrowed", "BACKWARD", [#"{"enum":["a","b","c"]}"#], #"{"enum":["a","b"]}"#, "ENUM_ARRAY_NARROWED"),
    c("enum changed", "BACKWARD", [#"{"enum":["a","b"]}"#], #"{"enum":["a","c"]}"#, "ENUM_ARRAY_CHANGED"),
    c("enum extended, forward", "FORWARD", [#"{"enum":["a","b"]}"#], #"{"enum":["a","b","c"]}"#, "ENUM_ARRAY_NARROWED"),
    c("enum added", "BACKWARD", [#"{"type":"string"}"#], #"{"type":"string","enum":["a"]}"#, "ENUM_ARRAY_ADDED"),
    c("const widened to enum", "BACKWARD", [#"{"const":"x"}"#], #"{"enum":["x","y"]}"#),

    // Arrays.
    c("items widened", "BACKWARD", [#"{"type":"array","items":{"type":"string"}}"#],
      #"{"type":"array","items":{"type":["string","null"]}}"#),
    c("items type changed", "BACKWARD", [#"{"type":"array","items":{"type":"integer"}}"#],
      #"{"type":"array","items":{"type":"string"}}"#, "TYPE_CHANGED"),
    c("maxItems decreased", "BACKWARD", [#"{"type":"array","maxItems":5}"#], #"{"type":"array","maxItems":3}"#, "MAX_ITEMS_DECREASED"),
    c("minItems decreased", "BACKWARD", [#"{"type":"array","minItems":2}"#], #"{"type":"array","minItems":1}"#),
    c("uniqueItems added", "BACKWARD", [#"{"type":"array"}"#], #"{"type":"array","uniqueItems":true}"#, "UNIQUE_ITEMS_ADDED"),
    c("item added to closed tuple", "BACKWARD", [#"{"type":"array","prefixItems":[{"type":"string"}],"items":false}"#],
      #"{"type":"array","prefixItems":[{"type":"string"},{"type":"integer"}],"items":false}"#),
    c("item added to open tuple", "BACKWARD", [#"{"type":"array","prefixItems":[{"type":"string"}]}"#],
      #"{"type":"array","prefixItems":[{"type":"string"},{"type":"integer"}]}"#, "ITEM_ADDED_TO_OPEN_CONTENT_MODEL"),
    c("item removed from closed tuple", "BACKWARD",
      [#"{"type":"array","prefixItems":[{"type":"string"},{"type":"integer"}],"items":false}"#],
      #"{"type":"array","prefixItems":[{"type":"string"}],"items":false}"#, "ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL"),
    c("draft-7 tuple closed", "BACKWARD",
      [#"{"$schema":"http://json-schema.org/draft-07/schema#","type":"array","items":[{"type":"string"}]}"#],
      #"{"$schema":"http://json-schema.org/draft-07/schema#","type":"array","items":[{"type":"string"}],"additionalItems":false}"#,
      "ADDITIONAL_ITEMS_NARROWED"),

    // Combined schemas.
    c("oneOf branch added", "BACKWARD", [#"{"oneOf":[{"type":"string"},{"type":"integer"}]}"#],
      #"{"oneOf":[{"type":"string"},{"type":"integer"},{"type":"null"}]}"#),
    c("oneOf branch removed", "BACKWARD", [#"{"oneOf":[{"type":"string"},{"type":"integer"},{"type":"null"}]}"#],
      #"{"oneOf":[{"type":"string"},{"type":"integer"}]}"#, "SUM_TYPE_NARROWED"),
    c("anyOf branch removed, forward", "FORWARD", [#"{"anyOf":[{"type":"string"},{"type":"integer"}]}"#],
      #"{"anyOf":[{"type":"string"}]}"#),
    c("single schema becomes oneOf", "BACKWARD", [#"{"type":"string"}"#], #"{"oneOf":[{"type":"string"},{"type":"integer"}]}"#),
    c("anyOf collapsed to one branch", "BACKWARD", [#"{"anyOf":[{"type":"string"},{"type":"integer"}]}"#], #"{"type":"string"}"#,
      "TYPE_CHANGED"),
    c("allOf branch removed", "BACKWARD",
      [#"{"allOf":[{"type":"object"},{"required":["a"]}]}"#], #"{"allOf":[{"type":"object"}]}"#),
    c("allOf branch added", "BACKWARD",
      [#"{"allOf":[{"type":"object"}]}"#], #"{"allOf":[{"type":"object"},{"required":["a"]}]}"#, "PRODUCT_TYPE_EXTENDED"),
    c("anyOf changed to oneOf", "BACKWARD", [#"{"anyOf":[{"type":"string"},{"type":"integer"}]}"#],
      #"{"oneOf":[{"type":"string"},{"type":"integer"}]}"#, "COMBINED_TYPE_CHANGED"),
    c("oneOf relaxed to anyOf", "BACKWARD", [#"{"oneOf":[{"type":"string"},{"type":"integer"}]}"#],
      #"{"anyOf":[{"type":"string"},{"type":"integer"}]}"#),
    c("property removed from open model, partially open reader", "BACKWARD", [openAB],
      #"{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":{"type":"integer"}}"#,
      "ADDITIONAL_PROPERTIES_ADDED"),
    c("not widened", "BACKWARD", [#"{"not":{"type":"string"}}"#], #"{"not":{"type":["string","null"]}}"#, "TYPE_NARROWED"),
    c("not narrowed", "BACKWARD", [#"{"not":{"type":["string","null"]}}"#], #"{"not":{"type":"string"}}"#),

    // References.
    c("$ref target type changed", "BACKWARD",
      [##"{"$defs":{"n":{"type":"string"}},"properties":{"a":{"$ref":"#/$defs/n"}}}"##],
      ##"{"$defs":{"n":{"type":"integer"}},"properties":{"a":{"$ref":"#/$defs/n"}}}"##, "TYPE_CHANGED"),
    c("inline schema moved behind $ref", "BACKWARD", [prop(#"{"type":"string","maxLength":5}"#)],
      ##"{"$defs":{"s":{"type":"string","maxLength":9}},"type":"object","properties":{"a":{"$ref":"#/$defs/s"}}}"##),
    c("recursive schema unchanged", "FULL",
      [##"{"$defs":{"t":{"type":"object","properties":{"kids":{"type":"array","items":{"$ref":"#/$defs/t"}}}}},"$ref":"#/$defs/t"}"##],
      ##"{"$defs":{"t":{"type":"object","properties":{"kids":{"type":"array","items":{"$ref":"#/$defs/t"}}}}},"$ref":"#/$defs/t"}"##),
    c("recursive schema narrowed inside", "BACKWARD",
      [##"{"$defs":{"t":{"type":"object","properties":{"v":{"type":"number"},"kids":{"type":"array","items":{"$ref":"#/$defs/t"}}}}},"$ref":"#/$defs/t"}"##],
      ##"{"$defs":{"t":{"type":"object","properties":{"v":{"type":"integer"},"kids":{"type":"array","items":{"$ref":"#/$defs/t"}}}}},"$ref":"#/$defs/t"}"##,
      "TYPE_NARROWED"),

    // Objects, other keywords.
    c("dependentRequired added", "BACKWARD", [openAB],
      #"{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"}},"dependentRequired":{"a":["b"]}}"#,
      "DEPENDENCY_ARRAY_ADDED"),
    c("draft-7 dependencies removed", "BACKWARD",
      [#"{"$schema":"http://json-schema.org/draft-07/schema#","dependencies":{"a":["b"]}}"#],
      #"{"$schema":"http://json-schema.org/draft-07/schema#"}"#),
    c("propertyNames added", "BACKWARD", [#"{"type":"object"}"#], #"{"type":"object","propertyNames":{"maxLength":3}}"#,
      "PROPERTY_NAMES_ADDED"),
    c("maxProperties decreased", "BACKWARD", [#"{"type":"object","maxProperties":4}"#], #"{"type":"object","maxProperties":2}"#,
      "MAX_PROPERTIES_DECREASED"),
    c("true schema becomes false", "BACKWARD", ["true"], "false", "SCHEMA_NARROWED_TO_FALSE"),
    c("false schema becomes anything", "BACKWARD", ["false"], #"{"type":"string"}"#),

    // Levels.
    c("NONE accepts anything", "NONE", [#"{"type":"string"}"#], #"{"type":"integer"}"#),
    c("BACKWARD checks only the latest", "BACKWARD", [#"{"type":"number"}"#, #"{"type":"integer"}"#], #"{"type":"integer"}"#),
    c("BACKWARD_TRANSITIVE checks all", "BACKWARD_TRANSITIVE", [#"{"type":"number"}"#, #"{"type":"integer"}"#],
      #"{"type":"integer"}"#, "TYPE_NARROWED"),
    c("FORWARD checks only the latest", "FORWARD", [#"{"type":"integer"}"#, #"{"type":"number"}"#], #"{"type":"number"}"#),
    c("FORWARD_TRANSITIVE checks all", "FORWARD_TRANSITIVE", [#"{"type":"integer"}"#, #"{"type":"number"}"#],
      #"{"type":"number"}"#, "TYPE_NARROWED"),
    c("FULL fails on a one-way change", "FULL", [closedA], closedAB, "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL"),
    c("FULL passes an annotation change", "FULL", [#"{"type":"string","title":"x"}"#], #"{"type":"string","title":"y","description":"d"}"#),
    c("FULL_TRANSITIVE identical versions", "FULL_TRANSITIVE", [openA, openA], openA),
    c("FULL_TRANSITIVE fails against the oldest", "FULL_TRANSITIVE", [#"{"type":"string","maxLength":5}"#, #"{"type":"string"}"#],
      #"{"type":"string"}"#, "MAX_LENGTH_ADDED"),
    c("no earlier version", "FULL_TRANSITIVE", [], openA),
]

@Suite struct JSONSchemaCompatibilityTests {
    @Test(arguments: compatibilityCases)
    func compatibility(_ t: CompatCase) throws {
        let existing = try t.existing.map { try JSONSchemaDocument.parse($0) }
        let new = try JSONSchemaDocument.parse(t.new)
        let messages = JSONSchemaCompatibility.check(level: t.level, new: new, existing: existing)
        if let rule = t.rule {
            #expect(messages.contains { $0.hasPrefix(rule + " ") }, "expected \(rule), got \(messages)")
        } else {
            #expect(messages.isEmpty, "expected compatible, got \(messages)")
        }
    }

    @Test func caseCount() { #expect(compatibilityCases.count >= 60) }

    /// Tuples as the registry reads schemas without `$schema` (draft 7, Confluent's default):
    /// `items` as an array, `additionalItems: false` closing the tuple.
    @Test(arguments: draft7TupleCases)
    func draft7Tuples(_ t: CompatCase) throws {
        let options = JSONSchemaOptions(defaultDraft: .draft7)
        let existing = try t.existing.map { try JSONSchemaDocument.parse($0, options: options) }
        let new = try JSONSchemaDocument.parse(t.new, options: options)
        let messages = JSONSchemaCompatibility.check(level: t.level, new: new, existing: existing)
        if let rule = t.rule {
            #expect(messages.contains { $0.hasPrefix(rule + " ") }, "expected \(rule), got \(messages)")
        } else {
            #expect(messages.isEmpty, "expected compatible, got \(messages)")
        }
    }

    @Test func compatibleTupleChangesAreNamed() throws {
        let options = JSONSchemaOptions(defaultDraft: .draft7)
        let added = JSONSchemaCompatibility.differences(writer: try .parse(closedTuple1, options: options),
                                                        reader: try .parse(closedTuple2, options: options))
        #expect(added.map(\.type) == ["ITEM_ADDED_TO_CLOSED_CONTENT_MODEL"] && added.allSatisfy(\.compatible))
        let removed = JSONSchemaCompatibility.differences(writer: try .parse(openTuple2, options: options),
                                                          reader: try .parse(openTuple1, options: options))
        #expect(removed.map(\.type) == ["ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL"] && removed.allSatisfy(\.compatible))
    }

    @Test func unknownLevelIsReported() throws {
        let s = try JSONSchemaDocument.parse("{}")
        #expect(JSONSchemaCompatibility.check(level: "SIDEWAYS", new: s, existing: [s]).count == 1)
    }

    @Test func messagesNamePathRuleAndVersion() throws {
        let m = JSONSchemaCompatibility.check(level: "BACKWARD", new: try .parse(openAB), existing: [try .parse(openA)])
        #expect(m == ["PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL at '#/properties/b': the writer's open content model may already have written \"b\" with any value (reader: new schema, writer: old schema version 1, compatibility BACKWARD)"])
    }
}
