// Output for tests and fuzzing, next to the codecs:
//
// * `MessageTypes.swift` (into the codec directory): a switch from API key to the generated
//   request and response types, so golden-byte tests and fuzz targets can decode any frame
//   without hand-kept tables that drift from `generatedMessages`.
// * `Arbitrary.swift` (into the test-support directory): `arbitrary(_:version:)` for every
//   generated type and nested struct, filling exactly the fields the version carries, and the
//   list of round-trip cases the property test walks.
import Foundation

/// Swift source for `v` lying in `range`; "true"/"false" when the answer does not depend on it.
func versionTest(_ range: VersionRange) -> String {
    if range.isNone { return "false" }
    switch (range.low > 0, range.high) {
    case (false, nil): return "true"
    case (true, nil): return "version >= \(range.low)"
    case (false, let h?): return "version <= \(h)"
    case (true, let h?): return range.low == h ? "version == \(h)" : "(\(range.low)...\(h)).contains(version)"
    }
}

/// Every nested struct of a message with its fields, in the order the codec generator declares them.
func nestedStructs(of message: Message) -> [(name: String, fields: [Field])] {
    var nested: [(name: String, fields: [Field])] = []
    var seen = Set<String>()
    func collect(_ fields: [Field]) {
        for f in fields where f.isStructType && !f.fields.isEmpty {
            if seen.insert(f.elementType).inserted { nested.append((f.elementType, f.fields)) }
            collect(f.fields)
        }
    }
    collect(message.fields)
    for s in message.commonStructs where seen.insert(s.name).inserted {
        nested.append((s.name, s.fields))
        collect(s.fields)
    }
    return nested
}

struct ArbitraryEmitter {
    let message: Message
    let e = Emitter()

    /// A random value of one element of `f` (no nulls: the caller decides about those).
    func value(_ type: String) -> String {
        switch type {
        case "bool": return "g.bool()"
        case "int8", "int16", "int32", "int64", "uint16", "uint32": return "g.integer()"
        case "float64": return "g.double()"
        case "uuid": return "g.uuid()"
        case "string": return "g.string()"
        case "bytes", "records": return "g.bytes()"
        default: return "\(message.name).\(type).arbitrary(&g, version: version)"
        }
    }

    func emitField(_ f: Field) {
        let target = "x.\(propertyName(f.name))"
        var conditions = [versionTest(f.versions)]
        if let tagged = f.taggedVersions {
            // Tagged fields exist only in flexible versions inside both ranges, and are left at
            // their default half the time so the "omit when default" path is exercised too.
            conditions += [versionTest(tagged), "flexible", "g.bool()"]
        }
        if conditions.contains("false") { return }
        conditions.removeAll { $0 == "true" }
        // Null where the spec allows it in this version; the test is left out when the nullable
        // range covers every version the field exists in.
        let coversField = f.nullableVersions.low <= f.versions.low
            && (f.nullableVersions.high == nil || (f.versions.high.map { $0 <= f.nullableVersions.high! } ?? false))
        let nullable = !f.isNullable ? "false" : coversField ? "true" : versionTest(f.nullableVersions)
        var item = f.isArray ? "g.array { g in \(value(f.elementType)) }" : value(f.type)
        if nullable != "false" {
            let when = nullable == "true" ? "g.oneIn(5)" : "\(nullable) && g.oneIn(5)"
            item = "\(when) ? nil : \(item)"
        }
        if conditions.isEmpty {
            e.line("\(target) = \(item)")
        } else {
            e.line("if \(conditions.joined(separator: " && ")) { \(target) = \(item) }")
        }
    }

    func emitExtension(typeName: String, fields: [Field], top: Bool) {
        let conformance = top ? "ArbitraryMessage" : "Arbitrary"
        e.block("extension \(typeName): \(conformance)") {
            e.block("static func arbitrary(_ g: inout SeededGenerator, version: Int16) -> Self") {
                let flexible = message.flexibleVersions.isNone ? nil : "version >= \(message.flexibleVersions.low)"
                let start = e.lines.count
                if let flexible { e.line("let flexible = \(flexible)") }
                for f in fields { emitField(f) }
                if flexible != nil { e.line("if flexible { x.unknownTaggedFields = g.unknownTaggedFields() }") }
                // A struct with nothing to fill in this spec would leave `var x` unmutated (a warning).
                if e.lines.count == start {
                    e.line("return Self()")
                } else {
                    e.lines.insert(String(repeating: "    ", count: e.indent) + "var x = Self()", at: start)
                    e.line("return x")
                }
            }
        }
    }

    func generate() -> String {
        emitExtension(typeName: message.name, fields: message.fields, top: true)
        for s in nestedStructs(of: message) {
            e.line()
            emitExtension(typeName: "\(message.name).\(s.name)", fields: s.fields, top: false)
        }
        return e.lines.joined(separator: "\n") + "\n"
    }
}

/// The test target's `Arbitrary.swift`.
func arbitrarySource(_ messages: [Message]) -> String {
    var parts = [
        "// GENERATED by KafkaCodegen — DO NOT EDIT.",
        "// Regenerate with `make codegen`. Random values for the property round-trip tests.",
        "import KafkaProtocol",
        "",
    ]
    for m in messages { parts.append(ArbitraryEmitter(message: m).generate()) }
    parts.append("")
    parts.append("/// One case per generated message type, for the parameterized round-trip test.")
    parts.append("let generatedRoundTripCases: [RoundTripCase] = [")
    for m in messages {
        parts.append("    RoundTripCase(\(m.name).self),")
    }
    parts.append("]")
    return parts.joined(separator: "\n") + "\n"
}

/// The codec module's `MessageTypes.swift`: API key to generated request/response type.
func messageTypesSource(_ messages: [Message]) -> String {
    let requests = messages.filter { $0.kind == "request" && $0.apiKey != nil }.sorted { $0.apiKey! < $1.apiKey! }
    let responses = messages.filter { $0.kind == "response" && $0.apiKey != nil }.sorted { $0.apiKey! < $1.apiKey! }
    var lines = [
        "// GENERATED by KafkaCodegen — DO NOT EDIT.",
        "// Regenerate with `make codegen`.",
        "",
        "/// The request and response types the generator emitted, by API key (golden-byte tests,",
        "/// fuzzing, anything that must decode a frame of any API).",
        "public enum GeneratedMessages {",
    ]
    func table(_ name: String, _ list: [Message], _ what: String) {
        lines.append("    /// The generated \(what) type for `apiKey`, or nil when none was generated.")
        lines.append("    public static func \(name)(apiKey: Int16) -> (any KafkaAPIMessage.Type)? {")
        lines.append("        switch apiKey {")
        for m in list { lines.append("        case \(m.apiKey!): return \(m.name).self") }
        lines.append("        default: return nil")
        lines.append("        }")
        lines.append("    }")
    }
    table("requestType", requests, "request")
    lines.append("")
    table("responseType", responses, "response")
    lines.append("")
    lines.append("    /// Every API key with a generated request type, ascending.")
    lines.append("    public static let requestApiKeys: [Int16] = [\(requests.map { String($0.apiKey!) }.joined(separator: ", "))]")
    lines.append("}")
    return lines.joined(separator: "\n") + "\n"
}

/// Writes both files; `testSupportDirectory` nil skips the test target's file.
func writeTestSupport(messagesDirectory: String, codecDirectory: String, testSupportDirectory: String?) throws {
    let messages = try generatedMessages.map { try loadMessage("\(messagesDirectory)/\($0).json") }
    try messageTypesSource(messages).write(toFile: "\(codecDirectory)/MessageTypes.swift", atomically: true, encoding: .utf8)
    guard let directory = testSupportDirectory else { return }
    // The metadata records get random values and round-trip cases too (they are not requests, so
    // the API key table above leaves them out).
    let metadataDirectory = metadataRecordsDirectory(messagesDirectory: messagesDirectory)
    let records = try metadataRecordTypes.map { try loadMessage("\(metadataDirectory)/\($0).json") }
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    try arbitrarySource(messages + records).write(toFile: "\(directory)/Arbitrary.swift", atomically: true, encoding: .utf8)
}

/// Where test support goes when not given: the test target mirroring the codec directory, but
/// only for the standard layout, so a scratch output directory never writes into the tree.
func defaultTestSupportDirectory(for codecDirectory: String) -> String? {
    let standard = "Sources/KafkaProtocol/Generated"
    var trimmed = codecDirectory
    while trimmed.hasSuffix("/") { trimmed.removeLast() }
    guard trimmed.hasSuffix(standard) else { return nil }
    return String(trimmed.dropLast(standard.count)) + "Tests/KafkaProtocolTests/Generated"
}
