/// Why a schema document was refused.
public enum JSONSchemaError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The text is not JSON.
    case invalidJSON(String)
    /// `$schema` names no draft this module knows (nor a known custom meta-schema).
    case unknownDraft(String)
    /// Keywords with the wrong value types or otherwise malformed: one "path: reason" per problem.
    case invalidSchema([String])
    /// `$ref`s that resolve neither inside the document nor to a supplied reference.
    case unresolvedReferences([String])

    public var description: String {
        switch self {
        case .invalidJSON(let m): return "invalid JSON: \(m)"
        case .unknownDraft(let s): return "unknown $schema \"\(s)\""
        case .invalidSchema(let ps): return "invalid schema: " + ps.joined(separator: "; ")
        case .unresolvedReferences(let rs): return "unresolved references: " + rs.joined(separator: "; ")
        }
    }
}

/// How documents are read.
public struct JSONSchemaOptions: Sendable {
    /// The draft for documents without `$schema`.
    public var defaultDraft: JSONSchemaDraft = .draft2020_12
    /// Check the document against its draft's rules and require every `$ref` to resolve. Off only
    /// for fragments of a larger set (test-suite remotes, say) whose references come later.
    public var strict = true
    /// Translate ECMA-262 regex classes (`\d`, `\w`, `$`) to their ECMA meaning.
    public var ecmaRegex = true
    /// The base URI of a document without `$id` (also the base that reference names resolve against).
    public var defaultBaseURI = "urn:sluice:schema"

    public init(defaultDraft: JSONSchemaDraft = .draft2020_12, strict: Bool = true) {
        self.defaultDraft = defaultDraft
        self.strict = strict
    }
}

/// A parsed, checked and compiled JSON Schema, ready to validate instances. Immutable and
/// shareable between threads.
public struct JSONSchemaDocument: Sendable {
    /// The schema as written.
    public let json: JSONValue
    /// The draft in force at the root.
    public let draft: JSONSchemaDraft
    /// The documents this one may reference, by the name they were supplied under.
    public let references: [String: JSONSchemaDocument]
    let set: SchemaSet
    let root: SchemaNode

    /// Parses `text` as a schema. `references` are other documents its `$ref`s may name, keyed by
    /// their URI (or, as in the Confluent registry, by the reference name used in `$ref`).
    public static func parse(_ text: String, references: [String: JSONSchemaDocument] = [:],
                             options: JSONSchemaOptions = JSONSchemaOptions()) throws(JSONSchemaError) -> JSONSchemaDocument {
        let json: JSONValue
        do {
            json = try JSONParser.parse(text)
        } catch {
            throw .invalidJSON(error.description)
        }
        return try JSONSchemaDocument(json: json, references: references, options: options)
    }

    /// Builds a document from an already parsed value.
    public init(json: JSONValue, references: [String: JSONSchemaDocument] = [:],
                options: JSONSchemaOptions = JSONSchemaOptions()) throws(JSONSchemaError) {
        let set = SchemaSet(defaultDraft: options.defaultDraft, ecmaRegex: options.ecmaRegex)
        // Every document reachable through references, flattened; the nearest supplier wins.
        var pending = Array(references)
        var seen = Set<String>()
        while let (name, doc) = pending.popLast() {
            guard seen.insert(name).inserted else { continue }
            set.documentsByName[name] = doc.json
            let key = name.resolvedURI(against: options.defaultBaseURI).splitFragment.0
            if set.documents[key] == nil { set.documents[key] = doc.json }
            if let id = (doc.json["$id"] ?? doc.json["id"])?.stringValue {
                let idKey = id.resolvedURI(against: key).splitFragment.0
                if set.documents[idKey] == nil { set.documents[idKey] = doc.json }
            }
            pending.append(contentsOf: doc.references)
        }

        var draft = options.defaultDraft
        if let s = json["$schema"] {
            guard let uri = s.stringValue else { throw .invalidSchema(["/$schema: must be a string"]) }
            guard let (d, _) = set.metaschemaInfo(uri) else { throw .unknownDraft(uri) }
            draft = d
        }
        if options.strict {
            var checker = SchemaChecker(draft: draft, checkRegex: true)
            checker.check(json, at: "")
            if !checker.problems.isEmpty {
                throw .invalidSchema(checker.problems.map { ($0.0.isEmpty ? "/" : $0.0) + ": " + $0.1 })
            }
        }
        let root = set.compileDocument(json, uri: options.defaultBaseURI, draft: draft)
        set.resolveLinks()
        set.anyNeedsAnnotations = set.links.isEmpty ? root.needsAnnotations : true
        if options.strict {
            let unresolved = set.links.filter { $0.target == nil }.map { "\($0.origin)/$ref: \"\($0.raw)\"" }
            if !unresolved.isEmpty { throw .unresolvedReferences(unresolved) }
            if !set.problems.isEmpty { throw .invalidSchema(set.problems.map { "\($0.0): \($0.1)" }) }
        }
        self.json = json
        self.draft = draft
        self.references = references
        self.set = set
        self.root = root
    }

    /// Validates `instance`; an empty list means it is valid.
    public func validate(_ instance: JSONValue) -> [JSONSchemaValidationError] {
        var ev = SchemaEvaluator(set: set)
        var errors: [JSONSchemaValidationError] = []
        var ann = Annotations()
        _ = ev.evaluate(root, instance, ipath: "", spath: "", errors: &errors, annotations: &ann)
        return errors
    }

    /// Whether `instance` is valid (faster than `validate`: stops at the first failure).
    public func isValid(_ instance: JSONValue) -> Bool {
        var ev = SchemaEvaluator(set: set)
        ev.collect = false
        var errors: [JSONSchemaValidationError] = []
        var ann = Annotations()
        return ev.evaluate(root, instance, ipath: "", spath: "", errors: &errors, annotations: &ann)
    }
}
