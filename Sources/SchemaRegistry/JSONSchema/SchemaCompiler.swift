import Foundation

/// The compiled schemas of one document and everything it references, indexed by URI.
final class SchemaSet: @unchecked Sendable {
    // Resource roots by absolute URI (no fragment), plain-name anchors as "uri#name", and every
    // compiled subschema as "resourceURI#/json/pointer" for pointer references.
    var resources: [String: SchemaNode] = [:]
    var anchors: [String: SchemaNode] = [:]
    var dynamicAnchors: [String: SchemaNode] = [:]
    var locations: [String: SchemaNode] = [:]
    /// Known documents not compiled until referenced, by absolute URI.
    var documents: [String: JSONValue] = [:]
    /// Known documents by the name they were registered under (registry references).
    var documentsByName: [String: JSONValue] = [:]
    var links: [SchemaLink] = []
    /// Problems found while compiling (bad regular expressions), as (schema path, message).
    var problems: [(String, String)] = []
    let defaultDraft: JSONSchemaDraft
    let ecmaRegex: Bool
    /// Whether any reachable schema uses unevaluated*, so `anyOf` must try every branch.
    var anyNeedsAnnotations = true

    init(defaultDraft: JSONSchemaDraft, ecmaRegex: Bool) {
        self.defaultDraft = defaultDraft
        self.ecmaRegex = ecmaRegex
    }

    // MARK: Documents

    func compileDocument(_ json: JSONValue, uri: String, draft: JSONSchemaDraft) -> SchemaNode {
        let node = compile(json, base: uri, draft: draft, scopes: [(uri, "")], validation: true, isRoot: true)
        if resources[uri] == nil { resources[uri] = node }
        return node
    }

    /// The draft and whether the validation vocabulary applies, for a `$schema` value.
    func metaschemaInfo(_ uri: String) -> (JSONSchemaDraft, Bool)? {
        if let d = JSONSchemaDraft(metaschemaURI: uri) { return (d, true) }
        let key = uri.splitFragment.0
        guard let meta = documents[key] ?? documentsByName[key], case .object(let o) = meta else { return nil }
        let draft = o["$schema"]?.stringValue.flatMap { JSONSchemaDraft(metaschemaURI: $0) } ?? defaultDraft
        guard let vocab = o["$vocabulary"]?.objectValue else { return (draft, true) }
        return (draft, vocab.keys.contains { $0.hasSuffix("/vocab/validation") })
    }

    // MARK: Compiling

    func compile(_ v: JSONValue, base inBase: String, draft inDraft: JSONSchemaDraft,
                 scopes inScopes: [(String, String)], validation inValidation: Bool, isRoot: Bool) -> SchemaNode {
        guard case .object(let o) = v else {
            let node = SchemaNode(json: v, draft: inDraft, base: inBase)
            for (u, p) in inScopes where locations[u + "#" + p] == nil { locations[u + "#" + p] = node }
            return node
        }
        var draft = inDraft
        var validation = inValidation
        let hasID = o[draft == .draft4 ? "id" : "$id"] != nil
        if let s = o["$schema"]?.stringValue, isRoot || hasID, let (d, val) = metaschemaInfo(s) {
            draft = d
            validation = val
        }
        // Up to draft 7 a `$ref` makes every sibling keyword, `$id` included, ignored.
        let legacyRef = draft <= .draft7 && o["$ref"] != nil
        var base = inBase
        var scopes = inScopes
        var legacyAnchor: String?
        if !legacyRef, let id = o[draft == .draft4 ? "id" : "$id"]?.stringValue {
            let (uri, frag) = id.resolvedURI(against: base).splitFragment
            if !id.hasPrefix("#") {
                base = uri
                if !scopes.contains(where: { $0.0 == uri && $0.1.isEmpty }) { scopes.append((uri, "")) }
            }
            if let frag, !frag.isEmpty, draft <= .draft7 { legacyAnchor = frag }
        }
        let node = SchemaNode(json: v, draft: draft, base: base)
        for (u, p) in scopes where locations[u + "#" + p] == nil { locations[u + "#" + p] = node }
        if resources[base] == nil, base != inBase || isRoot { resources[base] = node }
        if let legacyAnchor { anchors[base + "#" + legacyAnchor] = anchors[base + "#" + legacyAnchor] ?? node }

        func sub(_ value: JSONValue, _ tokens: String...) -> SchemaNode {
            var suffix = ""
            for t in tokens { suffix += "/" + JSONPointer.escape(t) }
            return compile(value, base: base, draft: draft, scopes: scopes.map { ($0.0, $0.1 + suffix) },
                           validation: validation, isRoot: false)
        }
        func link(_ ref: String) -> SchemaLink {
            let l = SchemaLink(uri: ref.resolvedURI(against: base), raw: ref,
                               origin: (scopes.first?.1 ?? ""))
            links.append(l)
            return l
        }
        func regex(_ p: String, _ keyword: String) -> SchemaRegex? {
            if let r = makeRegex(p) { return r }
            problems.append(((scopes.first?.1 ?? "") + "/" + keyword, "invalid regular expression \"\(p)\""))
            return nil
        }
        func count(_ k: String) -> Int? {
            guard let n = o[k]?.numberValue, n.isInteger, let i = n.int64Value, i >= 0 else { return nil }
            return Int(clamping: i)
        }

        if legacyRef {
            if let r = o["$ref"]?.stringValue { node.keywords = [.ref(link(r))] }
            return node
        }
        let d = draft
        if d >= .draft2019_09, let a = o["$anchor"]?.stringValue {
            anchors[base + "#" + a] = anchors[base + "#" + a] ?? node
        }
        if d >= .draft2020_12, let a = o["$dynamicAnchor"]?.stringValue {
            anchors[base + "#" + a] = anchors[base + "#" + a] ?? node
            dynamicAnchors[base + "#" + a] = dynamicAnchors[base + "#" + a] ?? node
        }
        if d == .draft2019_09, o["$recursiveAnchor"]?.boolValue == true { node.recursiveAnchor = true }

        var kw: [Keyword] = []
        var late: [Keyword] = []
        if let r = o["$ref"]?.stringValue { kw.append(.ref(link(r))) }
        if d == .draft2019_09, let r = o["$recursiveRef"]?.stringValue { kw.append(.recursiveRef(link(r))) }
        if d >= .draft2020_12, let r = o["$dynamicRef"]?.stringValue {
            let frag = r.splitFragment.1
            let anchor = frag.flatMap { $0.isEmpty || $0.hasPrefix("/") ? nil : $0 }
            kw.append(.dynamicRef(link(r), anchor: anchor))
        }
        for (defsKey, applies) in [("definitions", d <= .draft7), ("$defs", d >= .draft2019_09)] where applies {
            if let defs = o[defsKey]?.objectValue {
                for m in defs.members { _ = sub(m.value, defsKey, m.key) }
            }
        }

        if validation {
            switch o["type"] {
            case .string(let t)?: kw.append(.type([t]))
            case .array(let ts)?: kw.append(.type(ts.compactMap(\.stringValue)))
            default: break
            }
            if let e = o["enum"]?.arrayValue { kw.append(.enumeration(e)) }
            if d >= .draft6, let c = o["const"] { kw.append(.const(c)) }
            if let m = o["multipleOf"]?.numberValue { kw.append(.multipleOf(m)) }
            if d == .draft4 {
                if let m = o["maximum"]?.numberValue {
                    kw.append(.maximum(m, exclusive: o["exclusiveMaximum"]?.boolValue == true))
                }
                if let m = o["minimum"]?.numberValue {
                    kw.append(.minimum(m, exclusive: o["exclusiveMinimum"]?.boolValue == true))
                }
            } else {
                if let m = o["maximum"]?.numberValue { kw.append(.maximum(m, exclusive: false)) }
                if let m = o["minimum"]?.numberValue { kw.append(.minimum(m, exclusive: false)) }
                if let m = o["exclusiveMaximum"]?.numberValue { kw.append(.maximum(m, exclusive: true)) }
                if let m = o["exclusiveMinimum"]?.numberValue { kw.append(.minimum(m, exclusive: true)) }
            }
            if let n = count("maxLength") { kw.append(.maxLength(n)) }
            if let n = count("minLength") { kw.append(.minLength(n)) }
            if let p = o["pattern"]?.stringValue, let r = regex(p, "pattern") { kw.append(.pattern(r)) }
            if let n = count("maxItems") { kw.append(.maxItems(n)) }
            if let n = count("minItems") { kw.append(.minItems(n)) }
            if o["uniqueItems"]?.boolValue == true { kw.append(.uniqueItems) }
            if let n = count("maxProperties") { kw.append(.maxProperties(n)) }
            if let n = count("minProperties") { kw.append(.minProperties(n)) }
            if let r = o["required"]?.arrayValue { kw.append(.required(r.compactMap(\.stringValue))) }
            if d >= .draft2019_09, let dr = o["dependentRequired"]?.objectValue {
                kw.append(.dependentRequired(dr.members.map { ($0.key, $0.value.arrayValue?.compactMap(\.stringValue) ?? []) },
                                             keyword: "dependentRequired"))
            }
        }

        // Arrays.
        if d >= .draft2020_12 {
            var prefix = 0
            if let p = o["prefixItems"]?.arrayValue {
                prefix = p.count
                kw.append(.prefixItems(p.enumerated().map { sub($0.element, "prefixItems", String($0.offset)) },
                                       keyword: "prefixItems"))
            }
            if let i = o["items"] { kw.append(.itemsFrom(sub(i, "items"), start: prefix, keyword: "items")) }
        } else if let items = o["items"] {
            if case .array(let arr) = items {
                kw.append(.prefixItems(arr.enumerated().map { sub($0.element, "items", String($0.offset)) },
                                       keyword: "items"))
                if let ai = o["additionalItems"] {
                    kw.append(.itemsFrom(sub(ai, "additionalItems"), start: arr.count, keyword: "additionalItems"))
                }
            } else {
                kw.append(.itemsFrom(sub(items, "items"), start: 0, keyword: "items"))
            }
        }
        if d >= .draft6, let c = o["contains"] {
            let useCounts = d >= .draft2019_09 && validation
            kw.append(.contains(sub(c, "contains"), min: useCounts ? count("minContains") ?? 1 : 1,
                                max: useCounts ? count("maxContains") : nil, annotates: d >= .draft2020_12))
        }

        // Objects.
        var declared = Set<String>()
        var patterns: [SchemaRegex] = []
        if let props = o["properties"]?.objectValue {
            kw.append(.properties(props.members.map { ($0.key, sub($0.value, "properties", $0.key)) }))
            declared = Set(props.keys)
        }
        if let pp = o["patternProperties"]?.objectValue {
            var list: [(SchemaRegex, SchemaNode)] = []
            for m in pp.members {
                let s = sub(m.value, "patternProperties", m.key)
                if let r = regex(m.key, "patternProperties") {
                    list.append((r, s))
                    patterns.append(r)
                }
            }
            kw.append(.patternProperties(list))
        }
        if let ap = o["additionalProperties"] {
            kw.append(.additionalProperties(sub(ap, "additionalProperties"), declared: declared, patterns: patterns))
        }
        if d >= .draft6, let pn = o["propertyNames"] { kw.append(.propertyNames(sub(pn, "propertyNames"))) }
        if d <= .draft7, let deps = o["dependencies"]?.objectValue {
            var req: [(String, [String])] = []
            var schemas: [(String, SchemaNode)] = []
            for m in deps.members {
                if let arr = m.value.arrayValue {
                    req.append((m.key, arr.compactMap(\.stringValue)))
                } else {
                    schemas.append((m.key, sub(m.value, "dependencies", m.key)))
                }
            }
            if !req.isEmpty { kw.append(.dependentRequired(req, keyword: "dependencies")) }
            if !schemas.isEmpty { kw.append(.dependentSchemas(schemas, keyword: "dependencies")) }
        }
        if d >= .draft2019_09, let ds = o["dependentSchemas"]?.objectValue {
            kw.append(.dependentSchemas(ds.members.map { ($0.key, sub($0.value, "dependentSchemas", $0.key)) },
                                        keyword: "dependentSchemas"))
        }

        // Combinators.
        if let a = o["allOf"]?.arrayValue { kw.append(.allOf(a.enumerated().map { sub($0.element, "allOf", String($0.offset)) })) }
        if let a = o["anyOf"]?.arrayValue { kw.append(.anyOf(a.enumerated().map { sub($0.element, "anyOf", String($0.offset)) })) }
        if let a = o["oneOf"]?.arrayValue { kw.append(.oneOf(a.enumerated().map { sub($0.element, "oneOf", String($0.offset)) })) }
        if let n = o["not"] { kw.append(.not(sub(n, "not"))) }
        if d >= .draft7 {
            // then/else are compiled even without `if`: an `$id` inside them still names a resource.
            let thenNode = o["then"].map { sub($0, "then") }
            let elseNode = o["else"].map { sub($0, "else") }
            if let i = o["if"] { kw.append(.conditional(if: sub(i, "if"), then: thenNode, else: elseNode)) }
        }
        if d >= .draft2019_09 {
            // Evaluated last: they depend on the annotations of every other keyword here.
            if let u = o["unevaluatedItems"] { late.append(.unevaluatedItems(sub(u, "unevaluatedItems"))) }
            if let u = o["unevaluatedProperties"] { late.append(.unevaluatedProperties(sub(u, "unevaluatedProperties"))) }
        }
        node.needsAnnotations = !late.isEmpty
        node.keywords = kw + late
        return node
    }

    func makeRegex(_ pattern: String) -> SchemaRegex? {
        let translated = ecmaRegex ? ECMARegex.translate(pattern) : pattern
        guard let r = try? NSRegularExpression(pattern: translated, options: []) else { return nil }
        return SchemaRegex(source: pattern, regex: r)
    }

    // MARK: Resolution

    /// Resolves every link, compiling referenced documents as they are reached.
    func resolveLinks() {
        var i = 0
        while i < links.count {
            let l = links[i]
            if l.target == nil { l.target = resolve(l.uri, raw: l.raw) }
            i += 1
        }
    }

    func resolve(_ uri: String, raw: String) -> SchemaNode? {
        let (u, fragment) = uri.splitFragment
        let frag = JSONPointer.percentDecode(fragment ?? "")
        load(u, raw: raw.splitFragment.0)
        if frag.isEmpty { return resources[u] ?? locations[u + "#"] }
        if frag.hasPrefix("/") {
            if let n = locations[u + "#" + frag] { return n }
            // A pointer to a place not compiled as a schema (an unknown keyword, say).
            guard let root = resources[u], let v = root.json.at(pointer: frag) else { return nil }
            let n = compile(v, base: u, draft: root.draft, scopes: [(u, frag)], validation: true, isRoot: false)
            return n
        }
        return anchors[u + "#" + frag]
    }

    /// Makes sure the resource `uri` is compiled if it is a known document or a meta-schema.
    func load(_ uri: String, raw: String) {
        guard resources[uri] == nil else { return }
        if let doc = documents[uri] {
            _ = compileDocument(doc, uri: uri, draft: defaultDraft)
            return
        }
        for draft in JSONSchemaDraft.allCases where draft.builtinURIs.contains(uri) {
            let node = SchemaNode(json: .object(JSONObject()), draft: draft, base: uri)
            node.keywords = [.metaschema(draft)]
            resources[uri] = node
            return
        }
        // Registry references are named by the text of the `$ref`, or by a file name.
        let lastSegment = String(uri.split(separator: "/").last ?? "")
        if let doc = documentsByName[raw] ?? documentsByName[lastSegment], !raw.isEmpty {
            _ = compileDocument(doc, uri: uri, draft: defaultDraft)
        }
    }
}

/// Translation of ECMA-262 regular expression classes that ICU reads differently.
enum ECMARegex {
    static func translate(_ p: String) -> String {
        var out = ""
        var inClass = false
        var it = p.makeIterator()
        while let c = it.next() {
            if c == "\\" {
                guard let n = it.next() else { out.append(c); break }
                // ECMA's \d and \w are ASCII-only; ICU's are Unicode-aware.
                switch n {
                case "d": out += inClass ? "0-9" : "[0-9]"
                case "D": out += inClass ? "\\D" : "[^0-9]"
                case "w": out += inClass ? "a-zA-Z0-9_" : "[a-zA-Z0-9_]"
                case "W": out += inClass ? "\\W" : "[^a-zA-Z0-9_]"
                default: out.append(c); out.append(n)
                }
                continue
            }
            if c == "[" && !inClass { inClass = true } else if c == "]" && inClass { inClass = false }
            // ECMA's `$` (without the m flag) matches only at the very end.
            if c == "$" && !inClass { out += "(?!(?s:.))"; continue }
            out.append(c)
        }
        return out
    }
}
