import Foundation

// The compiled form of a schema. Built once by `SchemaCompiler`, then only read, which is why the
// classes may be shared across threads.

/// A `$ref`-style link whose target is filled in after the whole document set is compiled.
final class SchemaLink: @unchecked Sendable {
    let uri: String
    /// The reference as written (registry references are matched by it).
    let raw: String
    /// Where the reference appears, as a JSON pointer into its resource.
    let origin: String
    var target: SchemaNode?
    init(uri: String, raw: String, origin: String) {
        self.uri = uri
        self.raw = raw
        self.origin = origin
    }
}

/// A compiled regular expression with its source text.
struct SchemaRegex: @unchecked Sendable {
    let source: String
    let regex: NSRegularExpression

    func matches(_ s: String) -> Bool {
        regex.firstMatch(in: s, options: [], range: NSRange(location: 0, length: (s as NSString).length)) != nil
    }
}

enum Keyword {
    case type([String])
    case enumeration([JSONValue])
    case const(JSONValue)
    case multipleOf(JSONNumber)
    case maximum(JSONNumber, exclusive: Bool)
    case minimum(JSONNumber, exclusive: Bool)
    case maxLength(Int)
    case minLength(Int)
    case pattern(SchemaRegex)
    case maxItems(Int)
    case minItems(Int)
    case uniqueItems
    /// `items` as one schema applied from `start` on (`additionalItems` and 2020-12 `items` too).
    case itemsFrom(SchemaNode, start: Int, keyword: String)
    /// Positional schemas: draft-4..2019-09 array-form `items`, or 2020-12 `prefixItems`.
    case prefixItems([SchemaNode], keyword: String)
    case contains(SchemaNode, min: Int, max: Int?, annotates: Bool)
    case maxProperties(Int)
    case minProperties(Int)
    case required([String])
    case properties([(String, SchemaNode)])
    case patternProperties([(SchemaRegex, SchemaNode)])
    case additionalProperties(SchemaNode, declared: Set<String>, patterns: [SchemaRegex])
    case propertyNames(SchemaNode)
    case dependentRequired([(String, [String])], keyword: String)
    case dependentSchemas([(String, SchemaNode)], keyword: String)
    case allOf([SchemaNode])
    case anyOf([SchemaNode])
    case oneOf([SchemaNode])
    case not(SchemaNode)
    case conditional(if: SchemaNode, then: SchemaNode?, else: SchemaNode?)
    case ref(SchemaLink)
    /// `$dynamicRef` (2020-12): `anchor` is set when the fragment is a plain name.
    case dynamicRef(SchemaLink, anchor: String?)
    case recursiveRef(SchemaLink)
    case unevaluatedItems(SchemaNode)
    case unevaluatedProperties(SchemaNode)
    /// A built-in meta-schema: the instance must itself be a valid schema of the draft.
    case metaschema(JSONSchemaDraft)
}

/// One compiled schema (object or boolean) at a location in a document.
final class SchemaNode: @unchecked Sendable {
    let json: JSONValue
    let draft: JSONSchemaDraft
    /// The base URI of the schema resource this node belongs to.
    let base: String
    var keywords: [Keyword] = []
    var recursiveAnchor = false
    /// Whether keywords need the annotations of adjacent keywords (unevaluated*).
    var needsAnnotations = false

    init(json: JSONValue, draft: JSONSchemaDraft, base: String) {
        self.json = json
        self.draft = draft
        self.base = base
    }

    var booleanValue: Bool? { json.boolValue }
}
