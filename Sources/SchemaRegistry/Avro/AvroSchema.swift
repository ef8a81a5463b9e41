// The Avro schema model. Named types (record, enum, fixed) appear in full where the schema text
// defines them and as `.reference(fullName)` at every later use, so recursive records are finite
// trees; `AvroSchema.namedTypes` maps each full name to its definition.

/// A parsed, validated Avro schema: the root type plus every named type it can refer to
/// (including those brought in through schema references).
public struct AvroSchema: Sendable, Hashable, CustomStringConvertible {
    /// The schema's root type.
    public let type: AvroType
    /// Every named type by full name: those this schema defines and those from its references.
    public let namedTypes: [String: AvroType]

    public init(type: AvroType, namedTypes: [String: AvroType]) {
        self.type = type
        self.namedTypes = namedTypes
    }

    /// The definition behind a reference; other types are returned unchanged.
    public func resolve(_ type: AvroType) -> AvroType {
        if case .reference(let name) = type, let definition = namedTypes[name] { return definition }
        return type
    }

    public var description: String { canonicalForm }
}

/// Primitive Avro types.
public enum AvroPrimitive: String, Sendable, Hashable, CaseIterable {
    case null, boolean, int, long, float, double, bytes, string
}

/// A type inside an Avro schema.
public indirect enum AvroType: Sendable, Hashable {
    case primitive(AvroPrimitive, logicalType: AvroLogicalType? = nil)
    case record(AvroRecord)
    case enumeration(AvroEnum)
    case array(items: AvroType)
    case map(values: AvroType)
    case union([AvroType])
    case fixed(AvroFixed)
    /// A use of a named type defined earlier in the schema or in a referenced schema.
    case reference(String)

    /// The full name when this is a named type or a reference to one.
    public var fullName: String? {
        switch self {
        case .record(let r): r.name.fullName
        case .enumeration(let e): e.name.fullName
        case .fixed(let f): f.name.fullName
        case .reference(let n): n
        default: nil
        }
    }
}

/// The full name of a named type, split into namespace and simple name.
public struct AvroName: Sendable, Hashable, CustomStringConvertible {
    /// The namespace; empty for the null namespace.
    public let namespace: String
    /// The simple (unqualified) name.
    public let name: String

    public init(namespace: String, name: String) {
        self.namespace = namespace
        self.name = name
    }

    /// Splits a full name at its last dot.
    public init(fullName: String) {
        if let dot = fullName.lastIndex(of: ".") {
            namespace = String(fullName[..<dot])
            name = String(fullName[fullName.index(after: dot)...])
        } else {
            namespace = ""
            name = fullName
        }
    }

    public var fullName: String { namespace.isEmpty ? name : namespace + "." + name }
    public var description: String { fullName }
}

/// A record type.
public struct AvroRecord: Sendable, Hashable {
    public let name: AvroName
    /// Alternate full names (aliases given relative to the record's namespace are qualified).
    public let aliases: [String]
    public let doc: String?
    public let fields: [AvroField]

    public init(name: AvroName, aliases: [String] = [], doc: String? = nil, fields: [AvroField]) {
        self.name = name
        self.aliases = aliases
        self.doc = doc
        self.fields = fields
    }
}

/// Sort order of a record field.
public enum AvroSortOrder: String, Sendable, Hashable {
    case ascending, descending, ignore
}

/// A field of a record.
public struct AvroField: Sendable, Hashable {
    public let name: String
    public let type: AvroType
    public let doc: String?
    /// The default as written (already checked against `type`).
    public let defaultValue: JSONValue?
    public let order: AvroSortOrder
    public let aliases: [String]

    public init(name: String, type: AvroType, doc: String? = nil, defaultValue: JSONValue? = nil,
                order: AvroSortOrder = .ascending, aliases: [String] = []) {
        self.name = name
        self.type = type
        self.doc = doc
        self.defaultValue = defaultValue
        self.order = order
        self.aliases = aliases
    }
}

/// An enum type.
public struct AvroEnum: Sendable, Hashable {
    public let name: AvroName
    public let aliases: [String]
    public let doc: String?
    public let symbols: [String]
    /// The symbol a reader uses for writer symbols it does not know.
    public let defaultSymbol: String?

    public init(name: AvroName, aliases: [String] = [], doc: String? = nil, symbols: [String], defaultSymbol: String? = nil) {
        self.name = name
        self.aliases = aliases
        self.doc = doc
        self.symbols = symbols
        self.defaultSymbol = defaultSymbol
    }
}

/// A fixed-size type.
public struct AvroFixed: Sendable, Hashable {
    public let name: AvroName
    public let aliases: [String]
    public let size: Int
    public let logicalType: AvroLogicalType?

    public init(name: AvroName, aliases: [String] = [], size: Int, logicalType: AvroLogicalType? = nil) {
        self.name = name
        self.aliases = aliases
        self.size = size
        self.logicalType = logicalType
    }
}

/// A valid logical type annotation. Unknown or invalid annotations are dropped at parse time, as
/// the specification requires, so they never appear here.
public enum AvroLogicalType: Sendable, Hashable {
    case decimal(precision: Int, scale: Int)
    case bigDecimal
    case uuid
    case date
    case timeMillis
    case timeMicros
    case timestampMillis
    case timestampMicros
    case timestampNanos
    case localTimestampMillis
    case localTimestampMicros
    case localTimestampNanos
    case duration
}

/// Why a schema text is not a valid Avro schema: what is wrong and where, as a JSON pointer into
/// the schema document (`/fields/1/type`).
public struct AvroSchemaError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public let path: String

    public init(_ message: String, path: String) {
        self.message = message
        self.path = path
    }

    public var description: String { path.isEmpty ? message : "\(message) (at \(path))" }
}
