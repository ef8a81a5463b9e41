// The records of the `_schemas` topic, in the shapes the Confluent registry writes, so a topic
// written by either can be read by the other: a JSON key naming the record type (`keytype`) and a
// JSON value; a null value is a tombstone (a permanent delete, or a removed setting).

/// A schema format the registry knows by name.
public enum SchemaType: String, Sendable, Hashable, CaseIterable {
    case avro = "AVRO"
    case json = "JSON"
    case protobuf = "PROTOBUF"
}

/// A named dependency on another subject's version (Confluent schema references).
public struct SchemaReference: Sendable, Hashable {
    public var name: String
    public var subject: String
    public var version: Int
    public init(name: String, subject: String, version: Int) {
        self.name = name
        self.subject = subject
        self.version = version
    }

    var json: JSONValue {
        .object(JSONObject([("name", .string(name)), ("subject", .string(subject)),
                            ("version", .number(JSONNumber(Int64(version))))]))
    }
}

/// A subject's (or the registry's) mode.
public enum RegistryMode: String, Sendable, Hashable, CaseIterable {
    case readwrite = "READWRITE"
    case readonly = "READONLY"
    case readonlyOverride = "READONLY_OVERRIDE"
    case `import` = "IMPORT"
}

/// One version of one subject as stored.
public struct SchemaVersionRecord: Sendable, Hashable {
    public var subject: String
    public var version: Int
    public var id: Int
    public var schemaType: SchemaType
    public var schema: String
    public var references: [SchemaReference]
    public var deleted: Bool

    public init(subject: String, version: Int, id: Int, schemaType: SchemaType, schema: String,
                references: [SchemaReference] = [], deleted: Bool = false) {
        self.subject = subject
        self.version = version
        self.id = id
        self.schemaType = schemaType
        self.schema = schema
        self.references = references
        self.deleted = deleted
    }
}

/// One record of `_schemas`.
public enum RegistryRecord: Sendable, Hashable {
    /// A version registered (or soft-deleted: `deleted` true).
    case schema(SchemaVersionRecord)
    /// A version permanently deleted (tombstone of its SCHEMA key).
    case schemaTombstone(subject: String, version: Int)
    /// Compatibility level of a subject (nil subject: global); nil level removes the setting.
    case config(subject: String?, level: CompatibilityLevel?)
    /// Mode of a subject (nil subject: global); nil mode removes the setting.
    case mode(subject: String?, mode: RegistryMode?)
    /// Every version of the subject up to `version` soft-deleted.
    case deleteSubject(subject: String, version: Int)
    /// Written by Confluent's leader election; carries nothing.
    case noop
}

/// Encodes and decodes `_schemas` records.
public enum RegistryRecordCodec {
    public static let topic = "_schemas"

    public static func encode(_ record: RegistryRecord) -> (key: [UInt8], value: [UInt8]?) {
        func subjectValue(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }
        func num(_ n: Int) -> JSONValue { .number(JSONNumber(Int64(n))) }
        let key: JSONObject
        var value: JSONValue?
        switch record {
        case .schema(let r):
            key = JSONObject([("keytype", .string("SCHEMA")), ("subject", .string(r.subject)), ("version", num(r.version)),
                              ("magic", num(1))])
            var v = JSONObject([("subject", .string(r.subject)), ("version", num(r.version)), ("id", num(r.id))])
            if r.schemaType != .avro { v["schemaType"] = .string(r.schemaType.rawValue) }
            if !r.references.isEmpty { v["references"] = .array(r.references.map(\.json)) }
            v["schema"] = .string(r.schema)
            v["deleted"] = .bool(r.deleted)
            value = .object(v)
        case .schemaTombstone(let subject, let version):
            key = JSONObject([("keytype", .string("SCHEMA")), ("subject", .string(subject)), ("version", num(version)),
                              ("magic", num(1))])
        case .config(let subject, let level):
            key = JSONObject([("keytype", .string("CONFIG")), ("subject", subjectValue(subject)), ("magic", num(0))])
            value = level.map { .object(JSONObject([("compatibilityLevel", .string($0.rawValue))])) }
        case .mode(let subject, let mode):
            key = JSONObject([("keytype", .string("MODE")), ("subject", subjectValue(subject)), ("magic", num(0))])
            value = mode.map { .object(JSONObject([("mode", .string($0.rawValue))])) }
        case .deleteSubject(let subject, let version):
            key = JSONObject([("keytype", .string("DELETE_SUBJECT")), ("subject", .string(subject)), ("magic", num(0))])
            value = .object(JSONObject([("subject", .string(subject)), ("version", num(version))]))
        case .noop:
            key = JSONObject([("keytype", .string("NOOP")), ("magic", num(0))])
        }
        return (Array(JSONValue.object(key).serialized().utf8), value.map { Array($0.serialized().utf8) })
    }

    /// Decodes one record; nil for record types we do not keep or for garbage (a reader of a
    /// shared topic skips what it cannot read rather than stopping).
    public static func decode(key: [UInt8]?, value: [UInt8]?) -> RegistryRecord? {
        guard let key, let k = try? JSONParser().parse(key), let type = k["keytype"]?.stringValue else { return nil }
        let v: JSONValue?
        if let value {
            guard let parsed = try? JSONParser().parse(value) else { return nil }
            v = parsed
        } else {
            v = nil
        }
        let subject = k["subject"]?.stringValue
        switch type {
        case "SCHEMA":
            guard let subject, let version = k["version"]?.numberValue?.int64Value else { return nil }
            guard let v else { return .schemaTombstone(subject: subject, version: Int(version)) }
            guard let id = v["id"]?.numberValue?.int64Value, let text = v["schema"]?.stringValue else { return nil }
            let typeName = v["schemaType"]?.stringValue ?? "AVRO"
            guard let schemaType = SchemaType(rawValue: typeName) else { return nil }
            var refs: [SchemaReference] = []
            for r in v["references"]?.arrayValue ?? [] {
                guard let name = r["name"]?.stringValue, let s = r["subject"]?.stringValue,
                      let ver = r["version"]?.numberValue?.int64Value else { return nil }
                refs.append(SchemaReference(name: name, subject: s, version: Int(ver)))
            }
            return .schema(SchemaVersionRecord(subject: subject, version: Int(version), id: Int(id), schemaType: schemaType,
                                               schema: text, references: refs, deleted: v["deleted"]?.boolValue ?? false))
        case "CONFIG":
            guard let v else { return .config(subject: subject, level: nil) }
            guard let name = (v["compatibilityLevel"] ?? v["compatibility"])?.stringValue,
                  let level = CompatibilityLevel(rawValue: name) else { return nil }
            return .config(subject: subject, level: level)
        case "MODE":
            guard let v else { return .mode(subject: subject, mode: nil) }
            guard let name = v["mode"]?.stringValue, let mode = RegistryMode(rawValue: name) else { return nil }
            return .mode(subject: subject, mode: mode)
        case "DELETE_SUBJECT":
            guard let subject, let version = v?["version"]?.numberValue?.int64Value else { return nil }
            return .deleteSubject(subject: subject, version: Int(version))
        case "NOOP":
            return .noop
        default:
            return nil
        }
    }
}
