// Registration-time checks (the document must itself be a valid schema with resolvable `$ref`s),
// error reporting, options and registry-style references.
import Testing
@testable import SchemaRegistry

@Suite struct JSONSchemaDocumentTests {
    private func refusal(_ text: String) -> JSONSchemaError? {
        do {
            _ = try JSONSchemaDocument.parse(text)
            return nil
        } catch {
            return error
        }
    }

    @Test(arguments: [
        (#"{"type": "strng"}"#, "/type: unknown type \"strng\""),
        (#"{"minLength": -1}"#, "/minLength: minLength must be a non-negative integer, found -1"),
        (#"{"maxItems": 1.5}"#, "/maxItems: maxItems must be a non-negative integer, found 1.5"),
        (#"{"properties": {"a": {"required": "x"}}}"#, "/properties/a/required: must be an array of strings"),
        (#"{"multipleOf": 0}"#, "/multipleOf: multipleOf must be a number greater than 0"),
        (#"{"pattern": "[a-"}"#, "/pattern: \"[a-\" is not a valid regular expression"),
        (#"{"allOf": []}"#, "/allOf: allOf must not be empty"),
        (#"{"items": 3}"#, "/items: a schema must be an object or a boolean, found number"),
        (#"{"$defs": {"x/y": {"type": 1}}}"#, "/$defs/x~1y/type: type must be a type name or an array of them, found 1"),
        (#"{"$schema": "http://json-schema.org/draft-04/schema#", "exclusiveMaximum": 3}"#,
         "/exclusiveMaximum: exclusiveMaximum must be a boolean in draft 4"),
        (#"{"$schema": "http://json-schema.org/draft-04/schema#", "not": true}"#,
         "/not: a schema must be an object in draft 4 (boolean schemas came in draft 6)"),
        (#"{"$anchor": "1bad"}"#, "/$anchor: $anchor \"1bad\" is not a valid anchor name"),
        (#"{"required": ["a", "a"]}"#, "/required/1: \"a\" listed twice"),
    ])
    func invalidSchemasAreRefusedPrecisely(_ text: String, _ expected: String) {
        guard case .invalidSchema(let problems)? = refusal(text) else {
            Issue.record("expected invalidSchema for \(text), got \(String(describing: refusal(text)))")
            return
        }
        #expect(problems.contains(expected), "\(problems)")
    }

    @Test func otherRefusals() {
        #expect(refusal("{") .map { if case .invalidJSON = $0 { true } else { false } } == true)
        #expect(refusal(#"{"$schema": "http://example.com/unknown"}"#) == .unknownDraft("http://example.com/unknown"))
        #expect(refusal(##"{"properties": {"a": {"$ref": "#/$defs/missing"}}}"##)
                == .unresolvedReferences([##"/properties/a/$ref: "#/$defs/missing""##]))
        #expect(refusal(#"{"$ref": "other.json"}"#) == .unresolvedReferences([#"/$ref: "other.json""#]))
    }

    @Test func referencesByRegistryName() throws {
        let customer = try JSONSchemaDocument.parse(
            #"{"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}"#)
        let order = try JSONSchemaDocument.parse(
            #"{"type": "object", "properties": {"customer": {"$ref": "customer.json"}}}"#,
            references: ["customer.json": customer])
        #expect(order.validate(try JSONParser.parse(#"{"customer": {"name": "x"}}"#)).isEmpty)
        let errors = order.validate(try JSONParser.parse(#"{"customer": {}}"#))
        #expect(errors == [JSONSchemaValidationError(instancePath: "/customer", schemaPath: "/properties/customer/$ref/required",
                                                     message: "required property \"name\" is missing")])
        // A reference with its own $id is found by that URI as well.
        let addr = try JSONSchemaDocument.parse(#"{"$id": "https://example.com/address.json", "type": "string"}"#)
        let user = try JSONSchemaDocument.parse(#"{"$id": "https://example.com/user.json", "properties": {"a": {"$ref": "address.json"}}}"#,
                                                references: ["https://example.com/address.json": addr])
        #expect(!user.isValid(try JSONParser.parse(#"{"a": 1}"#)))
    }

    @Test func errorsCarryInstanceAndSchemaPaths() throws {
        let s = try JSONSchemaDocument.parse(#"""
            {"type": "object", "properties": {"tags": {"type": "array", "items": {"type": "string", "maxLength": 3}}},
             "additionalProperties": false}
            """#)
        let errors = s.validate(try JSONParser.parse(#"{"tags": ["ok", "long", 5], "x": 1}"#))
        #expect(errors.map(\.instancePath) == ["/tags/1", "/tags/2", "/x"])
        #expect(errors.map(\.schemaPath) == ["/properties/tags/items/maxLength", "/properties/tags/items/type", "/additionalProperties"])
        #expect(errors[1].message == "expected string, found number")
    }

    @Test func defaultDraftIsConfigurable() throws {
        // Under draft 7 the array form of `items` is positional; under 2020-12 it is not a schema.
        let text = #"{"items": [{"type": "string"}], "additionalItems": false}"#
        let d7 = try JSONSchemaDocument.parse(text, options: JSONSchemaOptions(defaultDraft: .draft7))
        #expect(d7.draft == .draft7)
        #expect(!d7.isValid(try JSONParser.parse(#"["a", "b"]"#)))
        #expect(d7.isValid(try JSONParser.parse(#"["a"]"#)))
        #expect(try JSONSchemaDocument.parse("{}").draft == .draft2020_12)
    }

    @Test func numbersAreExact() throws {
        let s = try JSONSchemaDocument.parse(#"{"multipleOf": 0.01, "maximum": 9007199254740993}"#)
        #expect(s.isValid(try JSONParser.parse("19.99")))
        #expect(!s.isValid(try JSONParser.parse("19.991")))
        #expect(!s.isValid(try JSONParser.parse("9007199254740994")))
        #expect(s.isValid(try JSONParser.parse("9007199254740993")))
        let len = try JSONSchemaDocument.parse(#"{"maxLength": 2}"#)
        #expect(len.isValid(.string("💩💩")))
        #expect(!len.isValid(.string("e\u{301}e")))  // three code points
    }

    @Test func ecmaPatterns() throws {
        let s = try JSONSchemaDocument.parse(#"{"pattern": "^\\d+$"}"#)
        #expect(s.isValid(.string("123")))
        #expect(!s.isValid(.string("١٢٣")))  // Arabic-Indic digits are not ECMA \d
        #expect(!s.isValid(.string("123\n")))  // ECMA $ does not match before a final newline
    }
}
