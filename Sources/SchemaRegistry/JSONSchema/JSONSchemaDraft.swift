/// A JSON Schema specification version, chosen per document by `$schema`.
public enum JSONSchemaDraft: String, Sendable, CaseIterable, Comparable {
    case draft4 = "draft4"
    case draft6 = "draft6"
    case draft7 = "draft7"
    case draft2019_09 = "draft2019-09"
    case draft2020_12 = "draft2020-12"

    /// The canonical meta-schema URI (what `$schema` names).
    public var metaschemaURI: String {
        switch self {
        case .draft4: return "http://json-schema.org/draft-04/schema"
        case .draft6: return "http://json-schema.org/draft-06/schema"
        case .draft7: return "http://json-schema.org/draft-07/schema"
        case .draft2019_09: return "https://json-schema.org/draft/2019-09/schema"
        case .draft2020_12: return "https://json-schema.org/draft/2020-12/schema"
        }
    }

    /// The draft a `$schema` value names; http/https and a trailing empty fragment are tolerated.
    public init?(metaschemaURI: String) {
        var s = metaschemaURI
        if s.hasSuffix("#") { s.removeLast() }
        if s.hasPrefix("https://") { s = "http://" + s.dropFirst(8) }
        switch s {
        case "http://json-schema.org/draft-04/schema": self = .draft4
        case "http://json-schema.org/draft-06/schema": self = .draft6
        case "http://json-schema.org/draft-07/schema": self = .draft7
        case "http://json-schema.org/draft/2019-09/schema": self = .draft2019_09
        case "http://json-schema.org/draft/2020-12/schema": self = .draft2020_12
        default: return nil
        }
    }

    /// The spelling of Confluent's `json.schema.spec.version` setting (`draft_7`, `draft_2020_12`).
    public var specVersionName: String {
        switch self {
        case .draft4: return "draft_4"
        case .draft6: return "draft_6"
        case .draft7: return "draft_7"
        case .draft2019_09: return "draft_2019_09"
        case .draft2020_12: return "draft_2020_12"
        }
    }

    /// The draft a `json.schema.spec.version`-style name names, in any case.
    public init?(specVersionName: String) {
        guard let draft = Self.allCases.first(where: { $0.specVersionName == specVersionName.lowercased() }) else { return nil }
        self = draft
    }

    var rank: Int {
        switch self {
        case .draft4: return 4
        case .draft6: return 6
        case .draft7: return 7
        case .draft2019_09: return 2019
        case .draft2020_12: return 2020
        }
    }

    public static func < (a: JSONSchemaDraft, b: JSONSchemaDraft) -> Bool { a.rank < b.rank }

    /// The URIs under which this draft's meta-schema (and, for 2019-09+, its vocabulary
    /// meta-schemas) can be referenced; all resolve to the built-in schema checker.
    var builtinURIs: [String] {
        switch self {
        case .draft4, .draft6, .draft7:
            let s = metaschemaURI
            return [s, "https" + s.dropFirst(4)]
        case .draft2019_09, .draft2020_12:
            let root = String(metaschemaURI.dropLast("schema".count))
            var out = [metaschemaURI]
            for v in ["core", "applicator", "validation", "meta-data", "format", "format-annotation",
                      "format-assertion", "content", "unevaluated"] {
                out.append(root + "meta/" + v)
            }
            return out
        }
    }
}
