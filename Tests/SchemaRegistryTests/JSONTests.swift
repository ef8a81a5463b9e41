// The JSON parser: RFC 8259 acceptance and rejection, member order and number text preserved,
// positions in errors, and the nesting limit.
import Testing
@testable import SchemaRegistry

@Suite struct JSONTests {
    @Test func keepsOrderAndNumberText() throws {
        let v = try JSONParser.parse(#"{"b": 1.0, "a": [true, null, "x\u00e9\n"], "n": 12345678901234567890}"#)
        #expect(v.objectValue?.keys == ["b", "a", "n"])
        #expect(v["b"]?.numberValue?.literal == "1.0")
        #expect(v["b"]?.numberValue == JSONNumber(Int64(1)))
        #expect(v["b"]?.numberValue?.isInteger == true)
        #expect(v["n"]?.numberValue?.literal == "12345678901234567890")
        #expect(v["a"]?.arrayValue?[2].stringValue == "xé\n")
        #expect(v.serialized() == #"{"b":1.0,"a":[true,null,"xé\n"],"n":12345678901234567890}"#)
    }

    @Test func objectEqualityIgnoresOrder() throws {
        #expect(try JSONParser.parse(#"{"a":1,"b":2}"#) == JSONParser.parse(#"{"b":2,"a":1.0}"#))
        #expect(try JSONParser.parse("[1,2]") != JSONParser.parse("[2,1]"))
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\" 1}", "01", "1.", "-", "\"\\x\"", "tru", "[1] 2", "\"\u{01}\"",
                      "\"\\ud800\"", "{\"a\":1,}"])
    func rejectsInvalid(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(text) }
    }

    @Test func errorsCarryPositionsAndDepthIsBounded() {
        do {
            _ = try JSONParser.parse("{\n  \"a\": [1,\n  2 x]\n}")
            Issue.record("expected an error")
        } catch {
            #expect(error.line == 3)
        }
        #expect(throws: JSONParseError.self) { try JSONParser.parse(String(repeating: "[", count: 10_000)) }
        var strict = JSONParser()
        strict.rejectDuplicateKeys = true
        #expect(throws: JSONParseError.self) { try strict.parse(Array(#"{"a":1,"a":2}"#.utf8)) }
    }
}
