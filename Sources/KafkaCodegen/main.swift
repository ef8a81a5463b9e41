// KafkaCodegen: turns Kafka's JSON message definitions into Swift codecs.
//
// Usage: KafkaCodegen <messages-dir> <output-dir> [<test-support-dir>]
// (test support: see TestSupport.swift; by default Tests/KafkaProtocolTests/Generated beside
// the standard output directory)
//
// One Swift struct per message covering every version in the spec (as franz-go's kmsg does), with
// nested structs for the JSON's inline and common structs. Decoders and encoders are straight-line
// `if version >= N` code, which keeps the type checker fast. Only facts (names, types, versions,
// defaults, tags) are taken from the specs; their prose is not copied.
import Foundation

/// Messages the broker and our client use. Growing this list is how a new API gets codecs.
let generatedMessages: [String] = [
    "RequestHeader", "ResponseHeader",
    "ProduceRequest", "ProduceResponse",
    "FetchRequest", "FetchResponse",
    "ListOffsetsRequest", "ListOffsetsResponse",
    "MetadataRequest", "MetadataResponse",
    "OffsetCommitRequest", "OffsetCommitResponse",
    "OffsetFetchRequest", "OffsetFetchResponse",
    "FindCoordinatorRequest", "FindCoordinatorResponse",
    "JoinGroupRequest", "JoinGroupResponse",
    "HeartbeatRequest", "HeartbeatResponse",
    "LeaveGroupRequest", "LeaveGroupResponse",
    "SyncGroupRequest", "SyncGroupResponse",
    "DescribeGroupsRequest", "DescribeGroupsResponse",
    "ListGroupsRequest", "ListGroupsResponse",
    "SaslHandshakeRequest", "SaslHandshakeResponse",
    "ApiVersionsRequest", "ApiVersionsResponse",
    "CreateTopicsRequest", "CreateTopicsResponse",
    "DeleteTopicsRequest", "DeleteTopicsResponse",
    "DeleteRecordsRequest", "DeleteRecordsResponse",
    "InitProducerIdRequest", "InitProducerIdResponse",
    "OffsetForLeaderEpochRequest", "OffsetForLeaderEpochResponse",
    "AddPartitionsToTxnRequest", "AddPartitionsToTxnResponse",
    "AddOffsetsToTxnRequest", "AddOffsetsToTxnResponse",
    "EndTxnRequest", "EndTxnResponse",
    "WriteTxnMarkersRequest", "WriteTxnMarkersResponse",
    "TxnOffsetCommitRequest", "TxnOffsetCommitResponse",
    "DescribeAclsRequest", "DescribeAclsResponse",
    "CreateAclsRequest", "CreateAclsResponse",
    "DeleteAclsRequest", "DeleteAclsResponse",
    "DescribeConfigsRequest", "DescribeConfigsResponse",
    "AlterConfigsRequest", "AlterConfigsResponse",
    "DescribeLogDirsRequest", "DescribeLogDirsResponse",
    "SaslAuthenticateRequest", "SaslAuthenticateResponse",
    "CreatePartitionsRequest", "CreatePartitionsResponse",
    "DeleteGroupsRequest", "DeleteGroupsResponse",
    "IncrementalAlterConfigsRequest", "IncrementalAlterConfigsResponse",
    "OffsetDeleteRequest", "OffsetDeleteResponse",
    "DescribeClientQuotasRequest", "DescribeClientQuotasResponse",
    "AlterClientQuotasRequest", "AlterClientQuotasResponse",
    "DescribeUserScramCredentialsRequest", "DescribeUserScramCredentialsResponse",
    "AlterUserScramCredentialsRequest", "AlterUserScramCredentialsResponse",
    "DescribeClusterRequest", "DescribeClusterResponse",
    "DescribeProducersRequest", "DescribeProducersResponse",
    "DescribeTransactionsRequest", "DescribeTransactionsResponse",
    "ListTransactionsRequest", "ListTransactionsResponse",
    "ConsumerProtocolSubscription", "ConsumerProtocolAssignment",
    // KRaft's quorum RPCs and the control records of the metadata log and its snapshots.
    "VoteRequest", "VoteResponse",
    "BeginQuorumEpochRequest", "BeginQuorumEpochResponse",
    "EndQuorumEpochRequest", "EndQuorumEpochResponse",
    "DescribeQuorumRequest", "DescribeQuorumResponse",
    "FetchSnapshotRequest", "FetchSnapshotResponse",
    "LeaderChangeMessage", "SnapshotHeaderRecord", "SnapshotFooterRecord",
]

// MARK: - Spec model

struct VersionRange {
    var low: Int
    var high: Int?  // nil = open-ended
    static let none = VersionRange(low: Int.max, high: nil)

    init(low: Int, high: Int?) {
        self.low = low
        self.high = high
    }

    init(_ text: String) {
        if text == "none" {
            self = .none
        } else if text.hasSuffix("+") {
            self.init(low: Int(text.dropLast())!, high: nil)
        } else if let dash = text.firstIndex(of: "-") {
            self.init(low: Int(text[..<dash])!, high: Int(text[text.index(after: dash)...])!)
        } else {
            let v = Int(text)!
            self.init(low: v, high: v)
        }
    }

    var isNone: Bool { low == Int.max }

    /// A Swift condition on `version` that is true inside this range, restricted to `within`.
    func condition(within outer: VersionRange) -> String? {
        if isNone { return "false" }
        let lowNeeded = low > outer.low
        let highNeeded: Bool
        if let h = high {
            if let oh = outer.high { highNeeded = h < oh } else { highNeeded = true }
        } else {
            highNeeded = false
        }
        switch (lowNeeded, highNeeded) {
        case (false, false): return nil
        case (true, false): return "version >= \(low)"
        case (false, true): return "version <= \(high!)"
        case (true, true): return low == high! ? "version == \(low)" : "(\(low)...\(high!)).contains(version)"
        }
    }

    func contains(_ v: Int) -> Bool { v >= low && (high == nil || v <= high!) }
}

struct Field {
    var name: String
    var type: String
    var versions: VersionRange
    var nullableVersions: VersionRange
    var taggedVersions: VersionRange?
    var tag: Int?
    var defaultValue: String?
    var flexibleOverride: VersionRange?
    var fields: [Field]

    var isArray: Bool { type.hasPrefix("[]") }
    var elementType: String { isArray ? String(type.dropFirst(2)) : type }
    var isStructType: Bool { elementType.first!.isUppercase }
    var isNullable: Bool { !nullableVersions.isNone }
}

struct StructDef {
    var name: String
    var fields: [Field]
}

struct Message {
    var name: String
    var kind: String
    var apiKey: Int?
    var validVersions: VersionRange
    var flexibleVersions: VersionRange
    var fields: [Field]
    var commonStructs: [StructDef]
}

func parseField(_ object: [String: Any]) -> Field {
    // A tagged-only field (the internal records have some) may omit `versions`; Kafka's generator
    // then takes its tagged versions as its versions.
    let versions = VersionRange((object["versions"] as? String) ?? (object["taggedVersions"] as! String))
    return Field(
        name: object["name"] as! String,
        type: object["type"] as! String,
        versions: versions,
        nullableVersions: (object["nullableVersions"] as? String).map(VersionRange.init) ?? .none,
        taggedVersions: (object["taggedVersions"] as? String).map(VersionRange.init),
        // RegisterBrokerRecord and friends spell some tags as strings ("tag": "0").
        tag: (object["tag"] as? Int) ?? (object["tag"] as? String).flatMap { Int($0) },
        defaultValue: (object["default"] as? String) ?? (object["default"].map { "\($0)" }),
        flexibleOverride: (object["flexibleVersions"] as? String).map(VersionRange.init),
        fields: (object["fields"] as? [[String: Any]] ?? []).map(parseField)
    )
}

/// Drops whole-line `//` comments; a `//` inside a string on a data line is left alone.
func stripComments(_ text: String) -> String {
    text.split(separator: "\n", omittingEmptySubsequences: false)
        .filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("//") }
        .joined(separator: "\n")
}

func loadMessage(_ path: String) throws -> Message {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    let json = try JSONSerialization.jsonObject(with: Data(stripComments(text).utf8)) as! [String: Any]
    return Message(
        name: json["name"] as! String,
        kind: json["type"] as! String,
        apiKey: json["apiKey"] as? Int,
        validVersions: VersionRange(json["validVersions"] as! String),
        flexibleVersions: VersionRange(json["flexibleVersions"] as? String ?? "none"),
        fields: (json["fields"] as! [[String: Any]]).map(parseField),
        commonStructs: (json["commonStructs"] as? [[String: Any]] ?? []).map {
            StructDef(name: $0["name"] as! String, fields: ($0["fields"] as! [[String: Any]]).map(parseField))
        }
    )
}

// MARK: - Swift emission

let swiftKeywords: Set<String> = ["default", "protocol", "internal", "operator", "repeat", "return", "class", "struct",
                                  "self", "is", "as", "in", "where", "case", "switch", "init", "extension", "func",
                                  "let", "var", "import", "public", "private", "static", "enum", "subscript"]

func propertyName(_ name: String) -> String {
    let lowered = name.prefix(1).lowercased() + name.dropFirst()
    return swiftKeywords.contains(lowered) ? "`\(lowered)`" : lowered
}

func primitiveSwiftType(_ t: String) -> String {
    switch t {
    case "bool": return "Bool"
    case "int8": return "Int8"
    case "int16": return "Int16"
    case "int32": return "Int32"
    case "int64": return "Int64"
    case "uint16": return "UInt16"
    case "uint32": return "UInt32"
    case "float64": return "Double"
    case "uuid": return "KafkaUUID"
    case "string": return "String"
    case "bytes", "records": return "[UInt8]"
    default: return t  // a struct name
    }
}

func swiftType(_ f: Field) -> String {
    let base = f.isArray ? "[\(primitiveSwiftType(f.elementType))]" : primitiveSwiftType(f.type)
    return f.isNullable ? "\(base)?" : base
}

func parseInteger(_ text: String) -> String {
    if text.lowercased().hasPrefix("0x") { return text }
    if text.hasPrefix("-0x") { return text }
    return text
}

func defaultExpression(_ f: Field) -> String {
    if let d = f.defaultValue {
        if d == "null" { return "nil" }
        switch f.type {
        case "bool": return d.lowercased() == "true" ? "true" : "false"
        case "string": return "\"\(d)\""
        case "int8", "int16", "int32", "int64", "uint16", "uint32": return parseInteger(d)
        case "float64": return d
        default: break
        }
    }
    if f.isArray { return "[]" }
    switch f.type {
    case "bool": return "false"
    case "int8", "int16", "int32", "int64", "uint16", "uint32", "float64": return "0"
    case "uuid": return ".zero"
    case "string": return "\"\""
    case "bytes", "records": return "[]"
    default: return "\(f.type)()"
    }
}

final class Emitter {
    var lines: [String] = []
    var indent = 0
    func line(_ s: String = "") { lines.append(s.isEmpty ? "" : String(repeating: "    ", count: indent) + s) }
    func block(_ header: String, _ body: () -> Void) {
        line(header + " {")
        indent += 1
        body()
        indent -= 1
        line("}")
    }
}

struct Generator {
    let message: Message
    let e = Emitter()

    var flexibleFrom: Int? { message.flexibleVersions.isNone ? nil : message.flexibleVersions.low }

    /// Whether a string/bytes/array field is compact-encoded: the message's flexible versions
    /// unless the field overrides them (RequestHeader's ClientId is always int16-length).
    func flexibleExpression(_ f: Field) -> String {
        if let o = f.flexibleOverride {
            if o.isNone { return "false" }
            return "version >= \(o.low)"
        }
        return flexibleFrom == nil ? "false" : "flexible"
    }

    func readPrimitive(_ type: String, nullable: Bool, flex: String) -> String {
        switch type {
        case "bool": return "try r.readBool()"
        case "int8": return "try r.readInt8()"
        case "int16": return "try r.readInt16()"
        case "int32": return "try r.readInt32()"
        case "int64": return "try r.readInt64()"
        case "uint16": return "try r.readUInt16()"
        case "uint32": return "try r.readUInt32()"
        case "float64": return "try r.readFloat64()"
        case "uuid": return "try r.readUUID()"
        case "string": return nullable ? "try r.readNullableString(flexible: \(flex))" : "try r.readString(flexible: \(flex))"
        case "bytes", "records":
            return nullable ? "try r.readNullableBytes(flexible: \(flex))" : "try r.readBytes(flexible: \(flex))"
        default: return "try \(type)(from: &r, version: version)"
        }
    }

    func writePrimitive(_ type: String, value: String, nullable: Bool, flex: String) -> String {
        switch type {
        case "bool": return "w.writeBool(\(value))"
        case "int8": return "w.writeInt8(\(value))"
        case "int16": return "w.writeInt16(\(value))"
        case "int32": return "w.writeInt32(\(value))"
        case "int64": return "w.writeInt64(\(value))"
        case "uint16": return "w.writeUInt16(\(value))"
        case "uint32": return "w.writeUInt32(\(value))"
        case "float64": return "w.writeFloat64(\(value))"
        case "uuid": return "w.writeUUID(\(value))"
        case "string":
            return nullable ? "w.writeNullableString(\(value), flexible: \(flex))" : "w.writeString(\(value), flexible: \(flex))"
        case "bytes", "records":
            return nullable ? "w.writeNullableBytes(\(value), flexible: \(flex))" : "w.writeBytes(\(value), flexible: \(flex))"
        default: return "\(value).encode(to: &w, version: version)"
        }
    }

    /// Emits the statements that decode field `f` from reader `r` into `target`.
    func emitDecode(_ f: Field, target: String, nullableCondition: String?) {
        let flex = flexibleExpression(f)
        // `nullableHere` is a Swift expression (or constant) saying whether null is legal now.
        let nullableHere: String = f.isNullable ? (nullableCondition ?? "true") : "false"
        if f.isArray {
            let element = primitiveSwiftType(f.elementType)
            e.line("if let n = try r.readArrayCount(flexible: \(flex)) {")
            e.indent += 1
            e.line("var items = [\(element)]()")
            e.line("items.reserveCapacity(n)")
            e.line("for _ in 0..<n { items.append(\(readPrimitive(f.elementType, nullable: false, flex: flex))) }")
            e.line("\(target) = items")
            e.indent -= 1
            if f.isNullable {
                e.line("} else if \(nullableHere) {")
                e.line("    \(target) = nil")
                e.line("} else {")
            } else {
                e.line("} else {")
            }
            e.line("    throw .unexpectedNull(\"\(f.name)\")")
            e.line("}")
        } else if f.isStructType {
            if f.isNullable {
                e.line("if try r.readInt8() < 0 {")
                e.line("    if !(\(nullableHere)) { throw .unexpectedNull(\"\(f.name)\") }")
                e.line("    \(target) = nil")
                e.line("} else {")
                e.line("    \(target) = \(readPrimitive(f.type, nullable: false, flex: flex))")
                e.line("}")
            } else {
                e.line("\(target) = \(readPrimitive(f.type, nullable: false, flex: flex))")
            }
        } else if f.isNullable {
            e.line("\(target) = \(readPrimitive(f.type, nullable: true, flex: flex))")
            if nullableCondition != nil {
                e.line("if \(target) == nil && !(\(nullableHere)) { throw .unexpectedNull(\"\(f.name)\") }")
            }
        } else {
            e.line("\(target) = \(readPrimitive(f.type, nullable: false, flex: flex))")
        }
    }

    /// Emits the statements that encode `value` (field `f`) into writer `w`.
    func emitEncode(_ f: Field, value: String) {
        let flex = flexibleExpression(f)
        if f.isArray {
            let write = writePrimitive(f.elementType, value: "item", nullable: false, flex: flex)
            if f.isNullable {
                e.line("if let items = \(value) {")
                e.line("    w.writeArrayCount(items.count, flexible: \(flex))")
                e.line("    for item in items { \(write) }")
                e.line("} else {")
                e.line("    w.writeArrayCount(nil, flexible: \(flex))")
                e.line("}")
            } else {
                e.line("w.writeArrayCount(\(value).count, flexible: \(flex))")
                e.line("for item in \(value) { \(write) }")
            }
        } else if f.isStructType {
            if f.isNullable {
                e.line("if let item = \(value) {")
                e.line("    w.writeInt8(1)")
                e.line("    item.encode(to: &w, version: version)")
                e.line("} else {")
                e.line("    w.writeInt8(-1)")
                e.line("}")
            } else {
                e.line("\(value).encode(to: &w, version: version)")
            }
        } else {
            e.line(writePrimitive(f.type, value: value, nullable: f.isNullable, flex: flex))
        }
    }

    func emitStruct(name: String, fields: [Field], versions: VersionRange, isTop: Bool) {
        var conformances = "KafkaMessage"
        if isTop && message.apiKey != nil { conformances = "KafkaAPIMessage" }
        e.block("public struct \(name): \(conformances)") {
            if isTop {
                if let key = message.apiKey { e.line("public static let apiKey: Int16 = \(key)") }
                e.line("public static let specVersions: ClosedRange<Int16> = \(versions.low)...\(versions.high!)")
                e.line("public static let flexibleFrom: Int16? = \(flexibleFrom.map(String.init) ?? "nil")")
                e.line()
            }
            for f in fields {
                e.line("public var \(propertyName(f.name)): \(swiftType(f)) = \(defaultExpression(f))")
            }
            e.line("/// Tagged fields this codec does not know, kept so the message round-trips.")
            e.line("public var unknownTaggedFields: [TaggedField] = []")
            e.line()
            e.line("public init() {}")
            e.line()
            emitDecoder(fields: fields, versions: versions)
            e.line()
            emitEncoder(fields: fields, versions: versions)
            // Every nested struct (inline at any depth, and the common structs) is declared once,
            // directly inside the message type, as Kafka's Java generator flattens them.
            guard isTop else { return }
            var nested: [(String, [Field])] = []
            var seen = Set<String>()
            func collect(_ fields: [Field]) {
                for f in fields where f.isStructType && !f.fields.isEmpty {
                    if seen.insert(f.elementType).inserted { nested.append((f.elementType, f.fields)) }
                    collect(f.fields)
                }
            }
            collect(fields)
            for s in message.commonStructs where seen.insert(s.name).inserted {
                nested.append((s.name, s.fields))
                collect(s.fields)
            }
            for (nestedName, nestedFields) in nested {
                e.line()
                emitStruct(name: nestedName, fields: nestedFields, versions: versions, isTop: false)
            }
        }
    }

    func emitDecoder(fields: [Field], versions: VersionRange) {
        let untagged = fields.filter { $0.tag == nil }
        let tagged = fields.filter { $0.tag != nil }.sorted { $0.tag! < $1.tag! }
        e.block("public init(from r: inout WireReader, version: Int16) throws(DecodeError)") {
            if let from = flexibleFrom { e.line("let flexible = version >= \(from)") }
            for f in untagged {
                let target = "self.\(propertyName(f.name))"
                let nullableCondition = f.isNullable ? f.nullableVersions.condition(within: f.versions) : nil
                if let cond = f.versions.condition(within: versions) {
                    e.block("if \(cond)") { emitDecode(f, target: target, nullableCondition: nullableCondition) }
                } else {
                    emitDecode(f, target: target, nullableCondition: nullableCondition)
                }
            }
            guard flexibleFrom != nil else { return }
            e.block("if flexible") {
                e.line("let count = try r.readUnsignedVarint()")
                e.block("for _ in 0..<count") {
                    e.line("let tag = try r.readUnsignedVarint()")
                    e.line("let size = Int(try r.readUnsignedVarint())")
                    if tagged.isEmpty {
                        e.line("unknownTaggedFields.append(TaggedField(tag: tag, data: try r.readRawBytes(size)))")
                    } else {
                        e.line("var sub = try r.subReader(size)")
                        e.block("switch tag") {
                            for f in tagged {
                                let cond = f.taggedVersions!.condition(within: versions)
                                e.line("case \(f.tag!)\(cond.map { " where \($0)" } ?? ""):")
                                e.indent += 1
                                e.block("do") {
                                    e.line("var r = sub")
                                    emitDecode(f, target: "self.\(propertyName(f.name))", nullableCondition: nil)
                                    e.line("sub = r")
                                }
                                e.indent -= 1
                            }
                            e.line("default:")
                            e.line("    unknownTaggedFields.append(TaggedField(tag: tag, data: try sub.readRawBytes(size)))")
                        }
                    }
                }
            }
        }
    }

    func emitEncoder(fields: [Field], versions: VersionRange) {
        let untagged = fields.filter { $0.tag == nil }
        let tagged = fields.filter { $0.tag != nil }.sorted { $0.tag! < $1.tag! }
        e.block("public func encode(to w: inout WireWriter, version: Int16)") {
            if let from = flexibleFrom { e.line("let flexible = version >= \(from)") }
            for f in untagged {
                let value = "self.\(propertyName(f.name))"
                if let cond = f.versions.condition(within: versions) {
                    e.block("if \(cond)") { emitEncode(f, value: value) }
                } else {
                    emitEncode(f, value: value)
                }
            }
            guard flexibleFrom != nil else { return }
            e.block("if flexible") {
                if tagged.isEmpty {
                    e.line("w.writeTaggedFields([], unknown: unknownTaggedFields)")
                } else {
                    e.line("var known = [TaggedField]()")
                    for f in tagged {
                        var conds = ["self.\(propertyName(f.name)) != \(defaultExpression(f))"]
                        if let c = f.taggedVersions!.condition(within: versions) { conds.insert(c, at: 0) }
                        e.block("if \(conds.joined(separator: " && "))") {
                            e.line("var w = WireWriter()")
                            emitEncode(f, value: "self.\(propertyName(f.name))")
                            e.line("known.append(TaggedField(tag: \(f.tag!), data: w.bytes))")
                        }
                    }
                    e.line("w.writeTaggedFields(known, unknown: unknownTaggedFields)")
                }
            }
        }
    }

    func generate(source: String) -> String {
        e.line("// GENERATED by KafkaCodegen from \(source) — DO NOT EDIT.")
        e.line("// Regenerate with `make codegen`.")
        e.line()
        emitStruct(name: message.name, fields: message.fields, versions: message.validVersions, isTop: true)
        return e.lines.joined(separator: "\n") + "\n"
    }
}

// MARK: - API key table

func apiKeyTable(_ all: [Message]) -> String {
    var lines = ["// GENERATED by KafkaCodegen — DO NOT EDIT.", "// Regenerate with `make codegen`.", ""]
    lines.append("/// Every API key in the specs, with its spec version window and first flexible version.")
    lines.append("public enum ApiKey: Int16, Sendable, CaseIterable, CustomStringConvertible {")
    let requests = all.filter { $0.kind == "request" }.sorted { $0.apiKey! < $1.apiKey! }
    for m in requests {
        let name = String(m.name.dropLast("Request".count))
        lines.append("    case \(propertyName(name)) = \(m.apiKey!)")
    }
    lines.append("")
    lines.append("    public var description: String {")
    lines.append("        switch self {")
    for m in requests {
        let name = String(m.name.dropLast("Request".count))
        lines.append("        case .\(propertyName(name)): return \"\(name)\"")
    }
    lines.append("        }")
    lines.append("    }")
    lines.append("")
    lines.append("    /// Versions the spec defines (the top one may be unstable upstream).")
    lines.append("    public var specVersions: ClosedRange<Int16> {")
    lines.append("        switch self {")
    for m in requests {
        let name = String(m.name.dropLast("Request".count))
        lines.append("        case .\(propertyName(name)): return \(m.validVersions.low)...\(m.validVersions.high!)")
    }
    lines.append("        }")
    lines.append("    }")
    lines.append("")
    lines.append("    /// First flexible version (KIP-482), or nil when the API never is.")
    lines.append("    public var flexibleFrom: Int16? {")
    lines.append("        switch self {")
    for m in requests {
        let name = String(m.name.dropLast("Request".count))
        let flex = m.flexibleVersions.isNone ? "nil" : String(m.flexibleVersions.low)
        lines.append("        case .\(propertyName(name)): return \(flex)")
    }
    lines.append("        }")
    lines.append("    }")
    lines.append("}")
    return lines.joined(separator: "\n") + "\n"
}

// MARK: - Main

/// Creates `directory` if needed and removes the Swift files in it, so a message dropped from a
/// list does not linger as a stale generated file.
func clearGeneratedSwift(in directory: String) throws {
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    for old in try FileManager.default.contentsOfDirectory(atPath: directory) where old.hasSuffix(".swift") {
        try FileManager.default.removeItem(atPath: "\(directory)/\(old)")
    }
}

let arguments = CommandLine.arguments
guard arguments.count == 3 || arguments.count == 4 else {
    FileHandle.standardError.write(Data("usage: KafkaCodegen <messages-dir> <output-dir> [<test-support-dir>]\n".utf8))
    exit(2)
}
let inputDirectory = arguments[1]
let outputDirectory = arguments[2]

do {
    try clearGeneratedSwift(in: outputDirectory)
    for name in generatedMessages {
        let message = try loadMessage("\(inputDirectory)/\(name).json")
        let text = Generator(message: message).generate(source: "\(name).json")
        try text.write(toFile: "\(outputDirectory)/\(name).swift", atomically: true, encoding: .utf8)
    }
    var all: [Message] = []
    for file in try FileManager.default.contentsOfDirectory(atPath: inputDirectory).sorted() where file.hasSuffix("Request.json") {
        all.append(try loadMessage("\(inputDirectory)/\(file)"))
    }
    try apiKeyTable(all).write(toFile: "\(outputDirectory)/ApiKey.swift", atomically: true, encoding: .utf8)
    try writeTestSupport(messagesDirectory: inputDirectory, codecDirectory: outputDirectory,
                         testSupportDirectory: arguments.count == 4 ? arguments[3] : defaultTestSupportDirectory(for: outputDirectory))
    try generateInternalRecords(messagesDirectory: inputDirectory, outputDirectory: outputDirectory)
    try generateMetadataRecords(messagesDirectory: inputDirectory, outputDirectory: outputDirectory)
    print("generated \(generatedMessages.count) messages into \(outputDirectory)")
} catch {
    FileHandle.standardError.write(Data("KafkaCodegen: \(error)\n".utf8))
    exit(1)
}
