// The Confluent Schema Registry REST API as a pure function: a request and the current state in,
// an answer (and the `_schemas` records to write before giving it) out. The caller serializes
// calls, writes the records, applies them to the state, then sends the answer.

/// What a request asks to do, for authorization.
public enum RegistryOperation: String, Sendable, Hashable {
    case read = "Read", write = "Write", delete = "Delete", describeConfigs = "DescribeConfigs", alterConfigs = "AlterConfigs"
}

/// What it is done to: one subject, or the registry-wide settings.
public enum RegistryResource: Sendable, Hashable {
    case subject(String)
    case global
}

public struct RegistryRequest: Sendable {
    public var method: String
    /// Percent-decoded path segments (`["subjects", "orders-value", "versions"]`).
    public var path: [String]
    public var query: [(name: String, value: String)]
    public var contentType: String?
    public var body: [UInt8]

    public init(method: String, path: [String], query: [(name: String, value: String)] = [],
                contentType: String? = nil, body: [UInt8] = []) {
        self.method = method
        self.path = path
        self.query = query
        self.contentType = contentType
        self.body = body
    }
}

public struct RegistryResponse: Sendable, Equatable {
    public var status: Int
    /// JSON text.
    public var body: String
    public init(status: Int, body: String) {
        self.status = status
        self.body = body
    }
    public init(_ error: RegistryError) {
        self.init(status: error.status, body: error.body)
    }
    public static func ok(_ value: JSONValue) -> RegistryResponse { RegistryResponse(status: 200, body: value.serialized()) }
}

public enum RegistryOutcome: Sendable {
    /// Answer now; nothing changes.
    case reply(RegistryResponse)
    /// Write these records (in order), apply them, then answer.
    case write([RegistryRecord], RegistryResponse)

    public var response: RegistryResponse {
        switch self {
        case .reply(let r), .write(_, let r): r
        }
    }
}

public typealias RegistryAuthorizer = (RegistryOperation, RegistryResource) -> Bool

public enum RegistryAPI {
    /// Content types a request body may have (absent is accepted too).
    public static let acceptedContentTypes: Set<String> = [
        "application/vnd.schemaregistry.v1+json", "application/vnd.schemaregistry+json", "application/json",
        "application/octet-stream",
    ]
    public static let responseContentType = "application/vnd.schemaregistry.v1+json"

    public static func handle(_ request: RegistryRequest, state: RegistryState,
                              authorize: @escaping RegistryAuthorizer = { _, _ in true }) -> RegistryOutcome {
        var ctx = Context(request: request, state: state, authorize: authorize)
        do {
            return try ctx.route()
        } catch {
            return .reply(RegistryResponse(error))
        }
    }
}

private func num(_ n: Int) -> JSONValue { .number(JSONNumber(Int64(n))) }
private func obj(_ pairs: [(String, JSONValue)]) -> JSONValue { .object(JSONObject(pairs)) }

/// The body of a register / lookup / compatibility request.
struct SchemaSubmission {
    var schemaType: SchemaType
    var schema: String
    var references: [SchemaReference]
    var id: Int?
    var version: Int?
}

private struct Context {
    let request: RegistryRequest
    let state: RegistryState
    let authorize: RegistryAuthorizer

    init(request: RegistryRequest, state: RegistryState, authorize: @escaping RegistryAuthorizer) {
        self.request = request
        self.state = state
        self.authorize = authorize
    }

    // MARK: Routing

    mutating func route() throws(RegistryError) -> RegistryOutcome {
        let p = request.path
        let m = request.method == "HEAD" ? "GET" : request.method
        func methods(_ allowed: String...) throws(RegistryError) {
            guard allowed.contains(m) else { throw .methodNotAllowed(request.method) }
        }
        if ["POST", "PUT"].contains(m), let type = request.contentType {
            let base = type.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
            guard RegistryAPI.acceptedContentTypes.contains(base) else { throw .unsupportedMediaType(type) }
        }
        switch (p.first, p.count) {
        case (nil, 0):
            try methods("GET")
            return .reply(.ok(obj([])))
        case ("subjects", 1):
            try methods("GET")
            return .reply(try listSubjects())
        case ("subjects", 2):
            try methods("POST", "DELETE")
            return m == "POST" ? .reply(try lookup(p[1])) : try deleteSubject(p[1])
        case ("subjects", 3) where p[2] == "versions":
            try methods("GET", "POST")
            return m == "GET" ? .reply(try listVersions(p[1])) : try register(p[1])
        case ("subjects", 4) where p[2] == "versions":
            try methods("GET", "DELETE")
            return m == "GET" ? .reply(try getVersion(p[1], p[3], raw: false)) : try deleteVersion(p[1], p[3])
        case ("subjects", 5) where p[2] == "versions" && p[4] == "schema":
            try methods("GET")
            return .reply(try getVersion(p[1], p[3], raw: true))
        case ("subjects", 5) where p[2] == "versions" && p[4] == "referencedby":
            try methods("GET")
            return .reply(try referencedBy(p[1], p[3]))
        case ("schemas", 2) where p[1] == "types":
            try methods("GET")
            return .reply(.ok(.array([.string("JSON"), .string("AVRO")])))
        case ("schemas", 3) where p[1] == "ids", ("schemas", 4) where p[1] == "ids":
            try methods("GET")
            return .reply(try schemaById(p[2], detail: p.count == 4 ? p[3] : nil))
        case ("config", 1), ("config", 2):
            try methods("GET", "PUT", "DELETE")
            return try config(p.count == 2 ? p[1] : nil, method: m)
        case ("mode", 1), ("mode", 2):
            try methods("GET", "PUT", "DELETE")
            if p.count == 1 && m == "DELETE" { throw .methodNotAllowed(request.method) }
            return try mode(p.count == 2 ? p[1] : nil, method: m)
        case ("compatibility", 4) where p[1] == "subjects" && p[3] == "versions":
            try methods("POST")
            return .reply(try compatibility(p[2], version: nil))
        case ("compatibility", 5) where p[1] == "subjects" && p[3] == "versions":
            try methods("POST")
            return .reply(try compatibility(p[2], version: p[4]))
        case ("contexts", 1):
            try methods("GET")
            return .reply(.ok(.array([.string(".")])))
        default:
            throw .notFound("/" + p.joined(separator: "/"))
        }
    }

    // MARK: Parameters

    func query(_ name: String) -> String? { request.query.last { $0.name == name }?.value }

    func flag(_ name: String) throws(RegistryError) -> Bool {
        guard let v = query(name) else { return false }
        switch v.lowercased() {
        case "true": return true
        case "false", "": return false
        default: throw .badRequest("query parameter '\(name)' must be true or false, not '\(v)'")
        }
    }

    func require(_ op: RegistryOperation, _ resource: RegistryResource) throws(RegistryError) {
        guard authorize(op, resource) else {
            switch resource {
            case .subject(let s): throw .forbidden("User is denied operation \(op.rawValue) on subject '\(s)'")
            case .global: throw .forbidden("User is denied operation \(op.rawValue) on the registry configuration")
            }
        }
    }

    /// `latest`, -1 (latest) or 1...Int32.max; nil means latest.
    func parseVersion(_ text: String) throws(RegistryError) -> Int? {
        if text == "latest" || text == "-1" { return nil }
        guard let v = Int(text), v >= 1, v <= Int(Int32.max) else { throw .invalidVersion(text) }
        return v
    }

    func bodyJSON() throws(RegistryError) -> JSONObject {
        let value: JSONValue
        do {
            value = try JSONParser().parse(request.body)
        } catch {
            throw .badRequest("request body is not JSON: \(error.description)")
        }
        guard let o = value.objectValue else { throw .unprocessable("request body must be a JSON object") }
        return o
    }

    func submission() throws(RegistryError) -> SchemaSubmission {
        let o = try bodyJSON()
        guard let schemaValue = o["schema"] else { throw .unprocessable("request body has no 'schema' field") }
        guard let text = schemaValue.stringValue else { throw .unprocessable("'schema' must be a string") }
        var type = SchemaType.avro
        if let t = o["schemaType"], !t.isNull {
            guard let name = t.stringValue, let known = SchemaType(rawValue: name.uppercased()) else {
                throw .invalidSchema("Invalid schema type '\(o["schemaType"]!.serialized())'; supported types are AVRO and JSON")
            }
            type = known
        }
        var refs: [SchemaReference] = []
        if let r = o["references"], !r.isNull {
            guard let items = r.arrayValue else { throw .unprocessable("'references' must be an array") }
            for item in items {
                guard let name = item["name"]?.stringValue, let subject = item["subject"]?.stringValue,
                      let v = item["version"]?.numberValue?.int64Value else {
                    throw .unprocessable("each reference needs a string 'name', a string 'subject' and an integer 'version'")
                }
                refs.append(SchemaReference(name: name, subject: subject, version: Int(v)))
            }
        }
        func optionalInt(_ key: String) throws(RegistryError) -> Int? {
            guard let v = o[key], !v.isNull else { return nil }
            guard let n = v.numberValue?.int64Value, n >= -1, n <= Int64(Int32.max) else {
                throw .unprocessable("'\(key)' must be an integer")
            }
            return n <= 0 ? nil : Int(n)
        }
        return SchemaSubmission(schemaType: type, schema: text, references: refs, id: try optionalInt("id"),
                                version: try optionalInt("version"))
    }

    // MARK: Schemas

    /// Parses a submission; the compact text to store and the parsed form.
    func parse(_ s: SchemaSubmission) throws(RegistryError) -> (text: String, parsed: ParsedSchema) {
        switch state.parse(s.schemaType, s.schema, references: s.references) {
        case .failure(let e): throw e
        case .success(let parsed):
            let compact = (try? JSONParser.parse(s.schema))?.serialized() ?? s.schema
            return (compact, parsed)
        }
    }

    /// Whether a stored schema is the submitted one: same type and references, and the same
    /// compact text (or, with `normalize`, the same canonical form).
    func sameSchema(_ stored: StoredSchema, _ type: SchemaType, _ text: String, _ parsed: ParsedSchema,
                    _ refs: [SchemaReference], normalize: Bool) -> Bool {
        guard stored.schemaType == type, stored.references == refs else { return false }
        if stored.schema == text { return true }
        guard normalize, let other = stored.parsed else { return false }
        switch (parsed, other) {
        case (.avro(let a), .avro(let b)): return a.canonicalForm == b.canonicalForm
        case (.json(let a), .json(let b)): return a.json == b.json
        default: return false
        }
    }

    func compatibilityProblems(level: CompatibilityLevel, new: ParsedSchema, against versions: [SubjectVersion]) -> [String] {
        guard level != .none, !versions.isEmpty else { return [] }
        var avro: [AvroSchema] = []
        var json: [JSONSchemaDocument] = []
        var problems: [String] = []
        for v in versions {
            switch state.schemas[v.id]?.parsed {
            case .avro(let a)?: avro.append(a)
            case .json(let d)?: json.append(d)
            case nil: problems.append("version \(v.version) can no longer be parsed")
            }
        }
        switch new {
        case .avro(let a):
            if !json.isEmpty { problems.append("schema type differs from earlier versions (JSON, now AVRO)") }
            return problems + AvroCompatibility.check(level: level, new: a, existing: avro)
        case .json(let d):
            if !avro.isEmpty { problems.append("schema type differs from earlier versions (AVRO, now JSON)") }
            return problems + JSONSchemaCompatibility.check(level: level.rawValue, new: d, existing: json)
        }
    }

    func versionJSON(_ subject: String, _ v: SubjectVersion) -> JSONValue {
        let stored = state.schemas[v.id]
        var pairs: [(String, JSONValue)] = [("subject", .string(subject)), ("version", num(v.version)), ("id", num(v.id))]
        if let stored {
            if stored.schemaType != .avro { pairs.append(("schemaType", .string(stored.schemaType.rawValue))) }
            if !stored.references.isEmpty { pairs.append(("references", .array(stored.references.map(\.json)))) }
            pairs.append(("schema", .string(stored.schema)))
        }
        return obj(pairs)
    }

    func checkWritable(_ subject: String?) throws(RegistryError) {
        let mode = state.mode(for: subject)
        if mode == .readonly || mode == .readonlyOverride {
            throw .notPermitted(subject.map { "Subject \($0) is in read-only mode" } ?? "The registry is in read-only mode")
        }
    }

    mutating func register(_ subject: String) throws(RegistryError) -> RegistryOutcome {
        try require(.write, .subject(subject))
        try checkWritable(subject)
        let normalize = try flag("normalize")
        let s = try submission()
        let mode = state.mode(for: subject)
        if (s.id != nil || s.version != nil) && mode != .import {
            throw .notPermitted("Subject \(subject) is not in import mode; an explicit id or version is only accepted in IMPORT mode")
        }
        let (text, parsed) = try parse(s)
        let all = state.subjects[subject] ?? []
        let live = all.filter { !$0.deleted }
        // Idempotent: a schema already registered under this subject answers with its id.
        for v in live.reversed() {
            if let stored = state.schemas[v.id], sameSchema(stored, s.schemaType, text, parsed, s.references, normalize: normalize),
               s.id == nil || s.id == v.id {
                return .reply(.ok(obj([("id", num(v.id)), ("version", num(v.version))])))
            }
        }
        if mode != .import {
            let level = state.level(for: subject)
            let targets = level.isTransitive ? live : Array(live.suffix(1))
            let problems = compatibilityProblems(level: level, new: parsed, against: targets)
            if !problems.isEmpty { throw .incompatible(subject, problems) }
        }
        let id: Int
        if let explicit = s.id {
            if let existing = state.schemas[explicit],
               !sameSchema(existing, s.schemaType, text, parsed, s.references, normalize: true) {
                throw .notPermitted("Overwrite new schema with id \(explicit) is not permitted.")
            }
            id = explicit
        } else if let same = state.schemas.values.sorted(by: { $0.id < $1.id })
            .first(where: { sameSchema($0, s.schemaType, text, parsed, s.references, normalize: normalize) }) {
            id = same.id
        } else {
            id = state.maxId + 1
        }
        let version: Int
        if let explicit = s.version {
            if all.contains(where: { $0.version == explicit }) {
                throw .notPermitted("Version \(explicit) of subject \(subject) already exists")
            }
            version = explicit
        } else {
            version = (all.map(\.version).max() ?? 0) + 1
        }
        let storedText = state.schemas[id]?.schema ?? text
        let record = SchemaVersionRecord(subject: subject, version: version, id: id, schemaType: s.schemaType,
                                         schema: storedText, references: s.references)
        return .write([.schema(record)], .ok(obj([("id", num(id)), ("version", num(version))])))
    }

    func lookup(_ subject: String) throws(RegistryError) -> RegistryResponse {
        try require(.read, .subject(subject))
        let deleted = try flag("deleted")
        let normalize = try flag("normalize")
        let candidates = (state.subjects[subject] ?? []).filter { deleted || !$0.deleted }
        guard !candidates.isEmpty else { throw .subjectNotFound(subject) }
        let s = try submission()
        let (text, parsed) = try parse(s)
        for v in candidates.reversed() {
            if let stored = state.schemas[v.id], sameSchema(stored, s.schemaType, text, parsed, s.references, normalize: normalize) {
                return .ok(versionJSON(subject, v))
            }
        }
        throw .schemaNotFound()
    }

    func listSubjects() throws(RegistryError) -> RegistryResponse {
        let deleted = try flag("deleted")
        let deletedOnlyCamel = try flag("deletedOnly")
        let deletedOnly = try flag("deleted_only") || deletedOnlyCamel
        let prefix = query("subjectPrefix") ?? query("subject") ?? ""
        var names: [String] = []
        for (subject, versions) in state.subjects where subject.hasPrefix(prefix) {
            let hasLive = versions.contains { !$0.deleted }
            let include = deletedOnly ? !hasLive : (hasLive || deleted)
            if include && authorize(.read, .subject(subject)) { names.append(subject) }
        }
        return .ok(.array(paginate(names.sorted()).map { .string($0) }))
    }

    func paginate<T>(_ items: [T]) -> [T] {
        let offset = max(0, Int(query("offset") ?? "") ?? 0)
        let limit = Int(query("limit") ?? "") ?? -1
        let rest = Array(items.dropFirst(offset))
        return limit >= 0 ? Array(rest.prefix(limit)) : rest
    }

    func listVersions(_ subject: String) throws(RegistryError) -> RegistryResponse {
        try require(.read, .subject(subject))
        let deleted = try flag("deleted")
        let deletedOnlyCamel = try flag("deletedOnly")
        let deletedOnly = try flag("deleted_only") || deletedOnlyCamel
        let all = state.subjects[subject] ?? []
        let chosen = all.filter { deletedOnly ? $0.deleted : (deleted || !$0.deleted) }
        if chosen.isEmpty && (deletedOnly ? all.isEmpty : !all.contains { deleted || !$0.deleted }) {
            throw .subjectNotFound(subject)
        }
        return .ok(.array(paginate(chosen).map { num($0.version) }))
    }

    /// The version a path names, honouring `deleted`.
    func resolve(_ subject: String, _ text: String, includeDeleted: Bool) throws(RegistryError) -> SubjectVersion {
        let requested = try parseVersion(text)
        let all = state.subjects[subject] ?? []
        let visible = all.filter { includeDeleted || !$0.deleted }
        guard !visible.isEmpty else { throw .subjectNotFound(subject) }
        if let requested {
            guard let v = visible.first(where: { $0.version == requested }) else { throw .versionNotFound(requested) }
            return v
        }
        return visible.last!
    }

    func getVersion(_ subject: String, _ text: String, raw: Bool) throws(RegistryError) -> RegistryResponse {
        try require(.read, .subject(subject))
        let v = try resolve(subject, text, includeDeleted: try flag("deleted"))
        guard let stored = state.schemas[v.id] else { throw .schemaNotFound() }
        return raw ? RegistryResponse(status: 200, body: stored.schema) : .ok(versionJSON(subject, v))
    }

    func referencedBy(_ subject: String, _ text: String) throws(RegistryError) -> RegistryResponse {
        try require(.read, .subject(subject))
        let v = try resolve(subject, text, includeDeleted: true)
        return .ok(.array(state.referencedBy(subject: subject, version: v.version).map { num($0) }))
    }

    mutating func deleteVersion(_ subject: String, _ text: String) throws(RegistryError) -> RegistryOutcome {
        try require(.delete, .subject(subject))
        try checkWritable(subject)
        let permanent = try flag("permanent")
        let v = try resolve(subject, text, includeDeleted: permanent)
        guard let stored = state.schemas[v.id] else { throw .schemaNotFound() }
        if permanent {
            guard v.deleted else { throw .versionNotSoftDeleted(subject, v.version) }
            return .write([.schemaTombstone(subject: subject, version: v.version)], .ok(num(v.version)))
        }
        let users = state.referencedBy(subject: subject, version: v.version)
        if !users.isEmpty {
            throw .referenceExists("One or more references exist to the schema {subject=\(subject),version=\(v.version)}: ids \(users)")
        }
        let record = SchemaVersionRecord(subject: subject, version: v.version, id: v.id, schemaType: stored.schemaType,
                                         schema: stored.schema, references: stored.references, deleted: true)
        return .write([.schema(record)], .ok(num(v.version)))
    }

    mutating func deleteSubject(_ subject: String) throws(RegistryError) -> RegistryOutcome {
        try require(.delete, .subject(subject))
        try checkWritable(subject)
        let permanent = try flag("permanent")
        let all = state.subjects[subject] ?? []
        guard !all.isEmpty else { throw .subjectNotFound(subject) }
        let live = all.filter { !$0.deleted }
        if permanent {
            guard live.isEmpty else { throw .subjectNotSoftDeleted(subject) }
            var records: [RegistryRecord] = all.map { .schemaTombstone(subject: subject, version: $0.version) }
            if state.subjectLevels[subject] != nil { records.append(.config(subject: subject, level: nil)) }
            if state.subjectModes[subject] != nil { records.append(.mode(subject: subject, mode: nil)) }
            return .write(records, .ok(.array(all.map { num($0.version) })))
        }
        guard !live.isEmpty else { throw .subjectSoftDeleted(subject) }
        for v in live {
            let users = state.referencedBy(subject: subject, version: v.version)
            if !users.isEmpty {
                throw .referenceExists("One or more references exist to the schema {subject=\(subject),version=\(v.version)}: ids \(users)")
            }
        }
        return .write([.deleteSubject(subject: subject, version: all.last!.version)], .ok(.array(live.map { num($0.version) })))
    }

    func schemaById(_ idText: String, detail: String?) throws(RegistryError) -> RegistryResponse {
        guard let id = Int(idText), id >= 0 else { throw .schemaNotFound("Schema \(idText) not found") }
        guard let stored = state.schemas[id] else { throw .schemaNotFound("Schema \(id) not found") }
        let deleted = try flag("deleted")
        var uses: [(String, SubjectVersion)] = []
        for (subject, versions) in state.subjects {
            for v in versions where v.id == id && (deleted || !v.deleted) { uses.append((subject, v)) }
        }
        uses.sort { ($0.0, $0.1.version) < ($1.0, $1.1.version) }
        let everyUse = state.subjects.filter { $0.value.contains { $0.id == id } }.keys
        guard everyUse.contains(where: { authorize(.read, .subject($0)) }) else {
            throw .forbidden("User is denied operation Read on the subjects of schema \(id)")
        }
        switch detail {
        case nil:
            var pairs: [(String, JSONValue)] = []
            if stored.schemaType != .avro { pairs.append(("schemaType", .string(stored.schemaType.rawValue))) }
            if !stored.references.isEmpty { pairs.append(("references", .array(stored.references.map(\.json)))) }
            pairs.append(("schema", .string(stored.schema)))
            return .ok(obj(pairs))
        case "schema":
            return RegistryResponse(status: 200, body: stored.schema)
        case "versions":
            // Only the uses the caller may read (another tenant's subject may share the id).
            let uses = uses.filter { authorize(.read, .subject($0.0)) }
            return .ok(.array(uses.map { obj([("subject", .string($0.0)), ("version", num($0.1.version))]) }))
        case "subjects":
            var seen: [String] = []
            for (s, _) in uses where !seen.contains(s) && authorize(.read, .subject(s)) { seen.append(s) }
            return .ok(.array(seen.map { .string($0) }))
        default:
            throw .notFound("/schemas/ids/\(idText)/\(detail!)")
        }
    }

    // MARK: Config and mode

    func settingValue(_ o: JSONObject, keys: [String]) throws(RegistryError) -> String {
        for k in keys {
            if let v = o[k] {
                guard let s = v.stringValue else { throw .unprocessable("'\(k)' must be a string") }
                return s
            }
        }
        throw .unprocessable("request body needs a '\(keys[0])' field")
    }

    mutating func config(_ subject: String?, method: String) throws(RegistryError) -> RegistryOutcome {
        let resource: RegistryResource = subject.map { .subject($0) } ?? .global
        switch method {
        case "GET":
            try require(.describeConfigs, resource)
            if let subject {
                if let level = state.subjectLevels[subject] {
                    return .reply(.ok(obj([("compatibilityLevel", .string(level.rawValue))])))
                }
                guard try flag("defaultToGlobal") else { throw .subjectLevelConfigNotFound(subject) }
            }
            return .reply(.ok(obj([("compatibilityLevel", .string(state.level(for: nil).rawValue))])))
        case "PUT":
            try require(.alterConfigs, resource)
            try checkWritable(subject)
            let text = try settingValue(try bodyJSON(), keys: ["compatibility", "compatibilityLevel"])
            guard let level = CompatibilityLevel(rawValue: text.uppercased()) else { throw .invalidCompatibility(text) }
            return .write([.config(subject: subject, level: level)], .ok(obj([("compatibility", .string(level.rawValue))])))
        default:
            try require(.alterConfigs, resource)
            try checkWritable(subject)
            if let subject, state.subjects[subject] == nil, state.subjectLevels[subject] == nil {
                throw .subjectNotFound(subject)
            }
            let old = state.level(for: subject)
            return .write([.config(subject: subject, level: nil)], .ok(obj([("compatibilityLevel", .string(old.rawValue))])))
        }
    }

    mutating func mode(_ subject: String?, method: String) throws(RegistryError) -> RegistryOutcome {
        let resource: RegistryResource = subject.map { .subject($0) } ?? .global
        switch method {
        case "GET":
            try require(.describeConfigs, resource)
            if let subject {
                if let m = state.subjectModes[subject] { return .reply(.ok(obj([("mode", .string(m.rawValue))]))) }
                guard try flag("defaultToGlobal") else { throw .subjectLevelModeNotFound(subject) }
            }
            return .reply(.ok(obj([("mode", .string(state.mode(for: nil).rawValue))])))
        case "PUT":
            try require(.alterConfigs, resource)
            let text = try settingValue(try bodyJSON(), keys: ["mode"])
            guard let mode = RegistryMode(rawValue: text.uppercased()) else { throw .invalidMode(text) }
            if mode == .import, !(try flag("force")) {
                let occupied = subject.map { state.isLive($0) } ?? state.subjects.keys.contains { state.isLive($0) }
                if occupied {
                    throw .notPermitted("Cannot import since found existing subjects\(subject.map { " ('\($0)')" } ?? ""); use force=true to override")
                }
            }
            return .write([.mode(subject: subject, mode: mode)], .ok(obj([("mode", .string(mode.rawValue))])))
        default:
            try require(.alterConfigs, resource)
            let old = state.mode(for: subject)
            return .write([.mode(subject: subject, mode: nil)], .ok(obj([("mode", .string(old.rawValue))])))
        }
    }

    // MARK: Compatibility

    func compatibility(_ subject: String, version: String?) throws(RegistryError) -> RegistryResponse {
        try require(.read, .subject(subject))
        let verbose = try flag("verbose")
        let s = try submission()
        let (_, parsed) = try parse(s)
        let level = state.level(for: subject)
        let live = state.liveVersions(subject)
        let targets: [SubjectVersion]
        if let version {
            let requested = try parseVersion(version)
            if live.isEmpty {
                if requested == nil { return .ok(obj([("is_compatible", .bool(true))])) }
                throw .subjectNotFound(subject)
            }
            if let requested {
                guard let v = live.first(where: { $0.version == requested }) else { throw .versionNotFound(requested) }
                targets = [v]
            } else {
                targets = [live.last!]
            }
        } else {
            targets = level.isTransitive ? live : Array(live.suffix(1))
        }
        let problems = compatibilityProblems(level: level, new: parsed, against: targets)
        var pairs: [(String, JSONValue)] = [("is_compatible", .bool(problems.isEmpty))]
        if verbose { pairs.append(("messages", .array(problems.map { .string($0) }))) }
        return .ok(obj(pairs))
    }
}
