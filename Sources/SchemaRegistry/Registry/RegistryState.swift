// The registry's state: what replaying `_schemas` yields. It changes only through `apply`, both
// when replaying at start and after a live write, so a restarted registry is the one that ran.

/// A schema parsed and ready for compatibility checks and payload validation.
public enum ParsedSchema: Sendable {
    case avro(AvroSchema)
    case json(JSONSchemaDocument)

    /// The name the record-name strategies use: an Avro record's (or other named type's) full
    /// name, a JSON Schema's `title`.
    public var recordName: String? {
        switch self {
        case .avro(let s): s.type.fullName
        case .json(let d): d.json["title"]?.stringValue
        }
    }
}

/// A schema by id: the text as registered the first time, its type and references.
public struct StoredSchema: Sendable {
    public let id: Int
    public let schemaType: SchemaType
    public let schema: String
    public let references: [SchemaReference]
    /// Nil when the text no longer parses (a reference was removed) or the type is not supported.
    public let parsed: ParsedSchema?
}

public struct SubjectVersion: Sendable, Hashable {
    public let version: Int
    public let id: Int
    public var deleted: Bool
}

public struct RegistryState: Sendable {
    /// Subject → its versions, oldest first.
    public private(set) var subjects: [String: [SubjectVersion]] = [:]
    public private(set) var schemas: [Int: StoredSchema] = [:]
    public private(set) var globalLevel: CompatibilityLevel?
    public private(set) var subjectLevels: [String: CompatibilityLevel] = [:]
    public private(set) var globalMode: RegistryMode?
    public private(set) var subjectModes: [String: RegistryMode] = [:]
    /// The highest id ever applied.
    public private(set) var maxId = 0
    /// Compatibility when neither the subject nor the registry sets one.
    public let defaultLevel: CompatibilityLevel
    /// How a JSON schema without `$schema` is read. Draft 7 by default, as Confluent's registry
    /// reads it, so a schema that registers there (`"items": [...]` as a tuple) registers here.
    public let jsonSchemaDefaultDraft: JSONSchemaDraft

    public init(defaultLevel: CompatibilityLevel = .backward, jsonSchemaDefaultDraft: JSONSchemaDraft = .draft7) {
        self.defaultLevel = defaultLevel
        self.jsonSchemaDefaultDraft = jsonSchemaDefaultDraft
    }

    public mutating func apply(_ record: RegistryRecord) {
        switch record {
        case .schema(let r):
            maxId = max(maxId, r.id)
            if schemas[r.id] == nil {
                let parsed = try? parse(r.schemaType, r.schema, references: r.references).get()
                schemas[r.id] = StoredSchema(id: r.id, schemaType: r.schemaType, schema: r.schema,
                                             references: r.references, parsed: parsed)
            }
            var versions = subjects[r.subject] ?? []
            let entry = SubjectVersion(version: r.version, id: r.id, deleted: r.deleted)
            if let i = versions.firstIndex(where: { $0.version == r.version }) {
                versions[i] = entry
            } else {
                versions.append(entry)
                versions.sort { $0.version < $1.version }
            }
            subjects[r.subject] = versions
        case .schemaTombstone(let subject, let version):
            guard var versions = subjects[subject], let i = versions.firstIndex(where: { $0.version == version }) else { return }
            let id = versions[i].id
            versions.remove(at: i)
            subjects[subject] = versions.isEmpty ? nil : versions
            if !subjects.values.contains(where: { $0.contains { $0.id == id } }) { schemas[id] = nil }
        case .config(let subject, let level):
            if let subject { subjectLevels[subject] = level } else { globalLevel = level }
        case .mode(let subject, let mode):
            if let subject { subjectModes[subject] = mode } else { globalMode = mode }
        case .deleteSubject(let subject, let version):
            guard var versions = subjects[subject] else { return }
            for i in versions.indices where versions[i].version <= version { versions[i].deleted = true }
            subjects[subject] = versions
        case .noop:
            break
        }
    }

    // MARK: Queries

    public func level(for subject: String?) -> CompatibilityLevel {
        subject.flatMap { subjectLevels[$0] } ?? globalLevel ?? defaultLevel
    }

    public func mode(for subject: String?) -> RegistryMode {
        subject.flatMap { subjectModes[$0] } ?? globalMode ?? .readwrite
    }

    public func liveVersions(_ subject: String) -> [SubjectVersion] {
        (subjects[subject] ?? []).filter { !$0.deleted }
    }

    /// Whether the subject has a version that is not soft-deleted.
    public func isLive(_ subject: String) -> Bool { !liveVersions(subject).isEmpty }

    /// Ids of schemas that reference `subject` at `version`.
    public func referencedBy(subject: String, version: Int) -> [Int] {
        var ids: Set<Int> = []
        for (subj, versions) in subjects {
            for v in versions where !v.deleted {
                if let s = schemas[v.id], s.references.contains(where: { $0.subject == subject && $0.version == version }) {
                    _ = subj
                    ids.insert(v.id)
                }
            }
        }
        return ids.sorted()
    }

    /// Parses schema text with its references resolved against this state.
    public func parse(_ type: SchemaType, _ text: String, references: [SchemaReference])
        -> Result<ParsedSchema, RegistryError> {
        var depth = 0
        return parse(type, text, references: references, depth: &depth)
    }

    private func parse(_ type: SchemaType, _ text: String, references: [SchemaReference], depth: inout Int)
        -> Result<ParsedSchema, RegistryError> {
        depth += 1
        guard depth < 64 else { return .failure(.invalidSchema("references nest too deeply")) }
        var resolved: [String: ParsedSchema] = [:]
        for ref in references {
            guard let v = subjects[ref.subject]?.first(where: { $0.version == ref.version }),
                  let stored = schemas[v.id] else {
                return .failure(.invalidSchema("reference '\(ref.name)' names subject '\(ref.subject)' version \(ref.version), which does not exist"))
            }
            guard stored.schemaType == type else {
                return .failure(.invalidSchema("reference '\(ref.name)' is a \(stored.schemaType.rawValue) schema, not \(type.rawValue)"))
            }
            switch parse(stored.schemaType, stored.schema, references: stored.references, depth: &depth) {
            case .success(let p): resolved[ref.name] = p
            case .failure(let e): return .failure(e)
            }
        }
        switch type {
        case .avro:
            var refs: [String: AvroSchema] = [:]
            for (name, p) in resolved { if case .avro(let a) = p { refs[name] = a } }
            do {
                return .success(.avro(try AvroSchema.parse(text, references: refs)))
            } catch {
                return .failure(.invalidSchema("Invalid schema: \(error.description)"))
            }
        case .json:
            var refs: [String: JSONSchemaDocument] = [:]
            for (name, p) in resolved { if case .json(let d) = p { refs[name] = d } }
            do {
                return .success(.json(try JSONSchemaDocument.parse(text, references: refs,
                                                                   options: JSONSchemaOptions(defaultDraft: jsonSchemaDefaultDraft))))
            } catch {
                return .failure(.invalidSchema("Invalid schema: \(error.description)"))
            }
        case .protobuf:
            return .failure(.invalidSchema("schema type PROTOBUF is not supported by this registry"))
        }
    }

    /// What the broker's produce path needs, built once per change.
    public func snapshot() -> RegistrySnapshot {
        var byId: [Int32: RegistrySnapshot.Entry] = [:]
        for (id, s) in schemas {
            guard let id32 = Int32(exactly: id) else { continue }
            byId[id32] = RegistrySnapshot.Entry(schemaType: s.schemaType, parsed: s.parsed,
                                                recordName: s.parsed?.recordName, liveSubjects: [])
        }
        for (subject, versions) in subjects {
            for v in versions where !v.deleted {
                if let id32 = Int32(exactly: v.id) { byId[id32]?.liveSubjects.insert(subject) }
            }
        }
        return RegistrySnapshot(byId: byId)
    }
}

/// An immutable view of the registry for record validation: by schema id, the parsed schema
/// and the subjects it is registered under (soft-deleted versions excluded).
public final class RegistrySnapshot: Sendable {
    public struct Entry: Sendable {
        public let schemaType: SchemaType
        public let parsed: ParsedSchema?
        public let recordName: String?
        public var liveSubjects: Set<String>
    }

    public let byId: [Int32: Entry]

    public init(byId: [Int32: Entry] = [:]) {
        self.byId = byId
    }
}
