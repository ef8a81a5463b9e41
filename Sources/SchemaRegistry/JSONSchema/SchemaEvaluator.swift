/// One reason an instance does not match a schema.
public struct JSONSchemaValidationError: Sendable, Equatable, CustomStringConvertible {
    /// JSON Pointer to the failing part of the instance ("" for the whole instance).
    public let instancePath: String
    /// The keyword path through the schema, `$ref`s included (e.g. "/properties/a/$ref/type").
    public let schemaPath: String
    public let message: String

    public init(instancePath: String, schemaPath: String, message: String) {
        self.instancePath = instancePath
        self.schemaPath = schemaPath
        self.message = message
    }

    public var description: String {
        "\(instancePath.isEmpty ? "/" : instancePath) (\(schemaPath.isEmpty ? "#" : schemaPath)): \(message)"
    }
}

/// What successful evaluation reports for `unevaluatedItems` / `unevaluatedProperties`.
struct Annotations {
    var properties: Set<String> = []
    var allItems = false
    var itemPrefix = 0
    var items: Set<Int> = []

    mutating func merge(_ o: Annotations) {
        properties.formUnion(o.properties)
        allItems = allItems || o.allItems
        itemPrefix = max(itemPrefix, o.itemPrefix)
        items.formUnion(o.items)
    }

    func covers(item i: Int) -> Bool { allItems || i < itemPrefix || items.contains(i) }
}

/// Evaluates compiled schemas, keeping the dynamic scope that `$dynamicRef` and `$recursiveRef` need.
struct SchemaEvaluator {
    let set: SchemaSet
    /// Base URIs of the schema resources entered, outermost first.
    var scope: [String] = []
    var depth = 0
    /// When false, messages are not built (used inside `not`, `anyOf` and other probes).
    var collect = true

    init(set: SchemaSet) { self.set = set }

    typealias Errors = [JSONSchemaValidationError]

    mutating func fail(_ errors: inout Errors, _ ipath: String, _ spath: String, _ message: @autoclosure () -> String) {
        if collect { errors.append(JSONSchemaValidationError(instancePath: ipath, schemaPath: spath, message: message())) }
    }

    /// Runs a probe whose messages are not reported (the caller words its own failure).
    mutating func quietly<T>(_ body: (inout SchemaEvaluator) -> T) -> T {
        let saved = collect
        collect = false
        defer { collect = saved }
        return body(&self)
    }

    mutating func evaluate(_ node: SchemaNode, _ instance: JSONValue, ipath: String, spath: String,
                           errors: inout Errors, annotations: inout Annotations) -> Bool {
        if let b = node.booleanValue {
            if !b { fail(&errors, ipath, spath, "no value is allowed here (schema false)") }
            return b
        }
        depth += 1
        defer { depth -= 1 }
        if depth > 300 {
            fail(&errors, ipath, spath, "schema recursion too deep (a $ref cycle that consumes no input)")
            return false
        }
        let pushed = scope.last != node.base
        if pushed { scope.append(node.base) }
        defer { if pushed { scope.removeLast() } }

        var local = Annotations()
        var valid = true
        for k in node.keywords {
            if !evaluate(k, node, instance, ipath, spath, &errors, &local) {
                valid = false
                // Without annotations to gather, and no messages wanted, the first failure decides.
                if !collect { break }
            }
        }
        if valid { annotations.merge(local) }
        return valid
    }

    mutating func evaluate(_ k: Keyword, _ node: SchemaNode, _ instance: JSONValue, _ ipath: String, _ spath: String,
                           _ errors: inout Errors, _ ann: inout Annotations) -> Bool {
        switch k {
        case .type(let types):
            for t in types where Self.hasType(instance, t, draft: node.draft) { return true }
            fail(&errors, ipath, spath + "/type",
                 "expected \(types.count == 1 ? types[0] : "one of " + types.joined(separator: ", ")), found \(instance.schemaTypeName)")
            return false

        case .enumeration(let values):
            if values.contains(where: { $0.isIdentical(to: instance) }) { return true }
            fail(&errors, ipath, spath + "/enum", "\(Self.short(instance)) is not one of the enumerated values")
            return false

        case .const(let value):
            if value.isIdentical(to: instance) { return true }
            fail(&errors, ipath, spath + "/const", "expected \(Self.short(value)), found \(Self.short(instance))")
            return false

        case .multipleOf(let m):
            guard case .number(let n) = instance else { return true }
            if n.isMultiple(of: m) { return true }
            fail(&errors, ipath, spath + "/multipleOf", "\(n) is not a multiple of \(m)")
            return false

        case .maximum(let m, let exclusive):
            guard case .number(let n) = instance else { return true }
            let c = n.compare(m)
            if c < 0 || (c == 0 && !exclusive) { return true }
            let kw = exclusive && node.draft != .draft4 ? "exclusiveMaximum" : "maximum"
            fail(&errors, ipath, spath + "/" + kw, "\(n) is greater than \(exclusive ? "or equal to " : "")\(m)")
            return false

        case .minimum(let m, let exclusive):
            guard case .number(let n) = instance else { return true }
            let c = n.compare(m)
            if c > 0 || (c == 0 && !exclusive) { return true }
            let kw = exclusive && node.draft != .draft4 ? "exclusiveMinimum" : "minimum"
            fail(&errors, ipath, spath + "/" + kw, "\(n) is less than \(exclusive ? "or equal to " : "")\(m)")
            return false

        case .maxLength(let n):
            guard case .string(let s) = instance else { return true }
            let len = s.unicodeScalars.count
            if len <= n { return true }
            fail(&errors, ipath, spath + "/maxLength", "string of \(len) characters is longer than \(n)")
            return false

        case .minLength(let n):
            guard case .string(let s) = instance else { return true }
            let len = s.unicodeScalars.count
            if len >= n { return true }
            fail(&errors, ipath, spath + "/minLength", "string of \(len) characters is shorter than \(n)")
            return false

        case .pattern(let r):
            guard case .string(let s) = instance else { return true }
            if r.matches(s) { return true }
            fail(&errors, ipath, spath + "/pattern", "\(Self.short(instance)) does not match /\(r.source)/")
            return false

        case .maxItems(let n):
            guard case .array(let a) = instance else { return true }
            if a.count <= n { return true }
            fail(&errors, ipath, spath + "/maxItems", "\(a.count) items, at most \(n) allowed")
            return false

        case .minItems(let n):
            guard case .array(let a) = instance else { return true }
            if a.count >= n { return true }
            fail(&errors, ipath, spath + "/minItems", "\(a.count) items, at least \(n) required")
            return false

        case .uniqueItems:
            guard case .array(let a) = instance, a.count > 1 else { return true }
            for i in 0..<a.count {
                for j in (i + 1)..<a.count where a[i].isIdentical(to: a[j]) {
                    fail(&errors, ipath, spath + "/uniqueItems", "items \(i) and \(j) are equal")
                    return false
                }
            }
            return true

        case .itemsFrom(let schema, let start, let keyword):
            guard case .array(let a) = instance else { return true }
            var ok = true
            var i = start
            while i < a.count {
                var sub = Annotations()
                if !evaluate(schema, a[i], ipath: ipath + "/" + String(i), spath: spath + "/" + keyword,
                             errors: &errors, annotations: &sub) {
                    ok = false
                    if !collect { return false }
                }
                i += 1
            }
            if ok && start < a.count { ann.allItems = true }
            return ok

        case .prefixItems(let schemas, let keyword):
            guard case .array(let a) = instance else { return true }
            var ok = true
            for (i, s) in schemas.enumerated() where i < a.count {
                var sub = Annotations()
                if !evaluate(s, a[i], ipath: ipath + "/" + String(i), spath: spath + "/" + keyword + "/" + String(i),
                             errors: &errors, annotations: &sub) {
                    ok = false
                    if !collect { return false }
                }
            }
            if ok { ann.itemPrefix = max(ann.itemPrefix, min(schemas.count, a.count)) }
            return ok

        case .contains(let schema, let minCount, let maxCount, let annotates):
            guard case .array(let a) = instance else { return true }
            var matched: [Int] = []
            quietly { ev in
                for (i, item) in a.enumerated() {
                    var sub = Annotations()
                    var ignored = Errors()
                    if ev.evaluate(schema, item, ipath: "", spath: "", errors: &ignored, annotations: &sub) { matched.append(i) }
                }
            }
            if matched.count < minCount {
                fail(&errors, ipath, spath + "/contains",
                     "\(matched.count) item(s) match \"contains\", at least \(minCount) required")
                return false
            }
            if let maxCount, matched.count > maxCount {
                fail(&errors, ipath, spath + "/maxContains",
                     "\(matched.count) items match \"contains\", at most \(maxCount) allowed")
                return false
            }
            if annotates { ann.items.formUnion(matched) }
            return true

        case .maxProperties(let n):
            guard case .object(let o) = instance else { return true }
            if o.count <= n { return true }
            fail(&errors, ipath, spath + "/maxProperties", "\(o.count) properties, at most \(n) allowed")
            return false

        case .minProperties(let n):
            guard case .object(let o) = instance else { return true }
            if o.count >= n { return true }
            fail(&errors, ipath, spath + "/minProperties", "\(o.count) properties, at least \(n) required")
            return false

        case .required(let names):
            guard case .object(let o) = instance else { return true }
            var ok = true
            for name in names where o[name] == nil {
                ok = false
                fail(&errors, ipath, spath + "/required", "required property \"\(name)\" is missing")
                if !collect { break }
            }
            return ok

        case .properties(let props):
            guard case .object(let o) = instance else { return true }
            var ok = true
            for (name, schema) in props {
                guard let v = o[name] else { continue }
                var sub = Annotations()
                let escaped = JSONPointer.escape(name)
                if evaluate(schema, v, ipath: ipath + "/" + escaped, spath: spath + "/properties/" + escaped,
                            errors: &errors, annotations: &sub) {
                    ann.properties.insert(name)
                } else {
                    ok = false
                    if !collect { return false }
                }
            }
            return ok

        case .patternProperties(let list):
            guard case .object(let o) = instance else { return true }
            var ok = true
            for m in o.members {
                for (r, schema) in list where r.matches(m.key) {
                    var sub = Annotations()
                    let escaped = JSONPointer.escape(m.key)
                    if evaluate(schema, m.value, ipath: ipath + "/" + escaped,
                                spath: spath + "/patternProperties/" + JSONPointer.escape(r.source),
                                errors: &errors, annotations: &sub) {
                        ann.properties.insert(m.key)
                    } else {
                        ok = false
                        if !collect { return false }
                    }
                }
            }
            return ok

        case .additionalProperties(let schema, let declared, let patterns):
            guard case .object(let o) = instance else { return true }
            var ok = true
            for m in o.members where !declared.contains(m.key) && !patterns.contains(where: { $0.matches(m.key) }) {
                var sub = Annotations()
                let escaped = JSONPointer.escape(m.key)
                if schema.booleanValue == false {
                    fail(&errors, ipath + "/" + escaped, spath + "/additionalProperties",
                         "property \"\(m.key)\" is not allowed (additionalProperties is false)")
                    ok = false
                    if !collect { return false }
                    continue
                }
                if evaluate(schema, m.value, ipath: ipath + "/" + escaped, spath: spath + "/additionalProperties",
                            errors: &errors, annotations: &sub) {
                    ann.properties.insert(m.key)
                } else {
                    ok = false
                    if !collect { return false }
                }
            }
            return ok

        case .propertyNames(let schema):
            guard case .object(let o) = instance else { return true }
            var ok = true
            for key in o.keys {
                var sub = Annotations()
                if !evaluate(schema, .string(key), ipath: ipath + "/" + JSONPointer.escape(key),
                             spath: spath + "/propertyNames", errors: &errors, annotations: &sub) {
                    ok = false
                    if !collect { return false }
                }
            }
            return ok

        case .dependentRequired(let deps, let keyword):
            guard case .object(let o) = instance else { return true }
            var ok = true
            for (name, needed) in deps where o[name] != nil {
                for n in needed where o[n] == nil {
                    ok = false
                    fail(&errors, ipath, spath + "/" + keyword + "/" + JSONPointer.escape(name),
                         "property \"\(n)\" is required when \"\(name)\" is present")
                }
            }
            return ok

        case .dependentSchemas(let deps, let keyword):
            guard case .object(let o) = instance else { return true }
            var ok = true
            for (name, schema) in deps where o[name] != nil {
                if !evaluate(schema, instance, ipath: ipath, spath: spath + "/" + keyword + "/" + JSONPointer.escape(name),
                             errors: &errors, annotations: &ann) {
                    ok = false
                    if !collect { return false }
                }
            }
            return ok

        case .allOf(let list):
            var ok = true
            for (i, s) in list.enumerated() {
                if !evaluate(s, instance, ipath: ipath, spath: spath + "/allOf/" + String(i), errors: &errors, annotations: &ann) {
                    ok = false
                    if !collect { return false }
                }
            }
            return ok

        case .anyOf(let list):
            var any = false
            var inner = Errors()
            for (i, s) in list.enumerated() {
                if evaluate(s, instance, ipath: ipath, spath: spath + "/anyOf/" + String(i), errors: &inner, annotations: &ann) {
                    any = true
                    // Later branches still matter when their annotations are needed.
                    if !node.needsAnnotations && !set.anyNeedsAnnotations { break }
                }
            }
            if any { return true }
            fail(&errors, ipath, spath + "/anyOf", "matches none of the \(list.count) anyOf schemas"
                 + (inner.isEmpty ? "" : " (" + inner.map(\.description).joined(separator: "; ") + ")"))
            return false

        case .oneOf(let list):
            var matches: [Int] = []
            var branchAnn = Annotations()
            quietly { ev in
                for (i, s) in list.enumerated() {
                    var sub = Annotations()
                    var ignored = Errors()
                    if ev.evaluate(s, instance, ipath: ipath, spath: "", errors: &ignored, annotations: &sub) {
                        matches.append(i)
                        branchAnn = sub
                        if matches.count > 1 { break }
                    }
                }
            }
            if matches.count == 1 {
                ann.merge(branchAnn)
                return true
            }
            fail(&errors, ipath, spath + "/oneOf", matches.isEmpty
                 ? "matches none of the \(list.count) oneOf schemas"
                 : "matches oneOf schemas \(matches[0]) and \(matches[1]); exactly one must match")
            return false

        case .not(let schema):
            let ok = quietly { ev in
                var sub = Annotations()
                var ignored = Errors()
                return ev.evaluate(schema, instance, ipath: ipath, spath: "", errors: &ignored, annotations: &sub)
            }
            if !ok { return true }
            fail(&errors, ipath, spath + "/not", "must not match the \"not\" schema")
            return false

        case .conditional(let ifSchema, let thenSchema, let elseSchema):
            var condAnn = Annotations()
            let cond = quietly { ev in
                var ignored = Errors()
                return ev.evaluate(ifSchema, instance, ipath: ipath, spath: "", errors: &ignored, annotations: &condAnn)
            }
            if cond {
                ann.merge(condAnn)
                guard let thenSchema else { return true }
                return evaluate(thenSchema, instance, ipath: ipath, spath: spath + "/then", errors: &errors, annotations: &ann)
            }
            guard let elseSchema else { return true }
            return evaluate(elseSchema, instance, ipath: ipath, spath: spath + "/else", errors: &errors, annotations: &ann)

        case .ref(let link):
            guard let target = link.target else {
                fail(&errors, ipath, spath + "/$ref", "unresolvable reference \"\(link.raw)\"")
                return false
            }
            return evaluate(target, instance, ipath: ipath, spath: spath + "/$ref", errors: &errors, annotations: &ann)

        case .dynamicRef(let link, let anchor):
            guard var target = link.target else {
                fail(&errors, ipath, spath + "/$dynamicRef", "unresolvable reference \"\(link.raw)\"")
                return false
            }
            // Dynamic only when the statically resolved target declares the same dynamic anchor.
            if let anchor, set.dynamicAnchors[target.base + "#" + anchor] === target {
                for base in scope {
                    if let t = set.dynamicAnchors[base + "#" + anchor] {
                        target = t
                        break
                    }
                }
            }
            return evaluate(target, instance, ipath: ipath, spath: spath + "/$dynamicRef", errors: &errors, annotations: &ann)

        case .recursiveRef(let link):
            guard var target = link.target else {
                fail(&errors, ipath, spath + "/$recursiveRef", "unresolvable reference \"\(link.raw)\"")
                return false
            }
            if target.recursiveAnchor {
                for base in scope {
                    if let t = set.resources[base], t.recursiveAnchor {
                        target = t
                        break
                    }
                }
            }
            return evaluate(target, instance, ipath: ipath, spath: spath + "/$recursiveRef", errors: &errors, annotations: &ann)

        case .unevaluatedItems(let schema):
            guard case .array(let a) = instance else { return true }
            var ok = true
            for i in a.indices where !ann.covers(item: i) {
                var sub = Annotations()
                if !evaluate(schema, a[i], ipath: ipath + "/" + String(i), spath: spath + "/unevaluatedItems",
                             errors: &errors, annotations: &sub) {
                    ok = false
                    if !collect { return false }
                }
            }
            if ok { ann.allItems = true }
            return ok

        case .unevaluatedProperties(let schema):
            guard case .object(let o) = instance else { return true }
            var ok = true
            for m in o.members where !ann.properties.contains(m.key) {
                var sub = Annotations()
                let escaped = JSONPointer.escape(m.key)
                if schema.booleanValue == false {
                    fail(&errors, ipath + "/" + escaped, spath + "/unevaluatedProperties",
                         "property \"\(m.key)\" is not allowed (unevaluatedProperties is false)")
                    ok = false
                    if !collect { return false }
                    continue
                }
                if !evaluate(schema, m.value, ipath: ipath + "/" + escaped, spath: spath + "/unevaluatedProperties",
                             errors: &errors, annotations: &sub) {
                    ok = false
                    if !collect { return false }
                }
            }
            if ok { ann.properties.formUnion(o.keys) }
            return ok

        case .metaschema(let draft):
            var checker = SchemaChecker(draft: draft, checkRegex: false)
            checker.check(instance, at: "")
            if checker.problems.isEmpty { return true }
            for p in checker.problems { fail(&errors, ipath + p.0, spath, p.1) }
            return false
        }
    }

    static func hasType(_ v: JSONValue, _ t: String, draft: JSONSchemaDraft) -> Bool {
        switch (t, v) {
        case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object),
             ("number", .number): return true
        case ("integer", .number(let n)):
            // Draft 4 counts only integer literals; later drafts any mathematical integer (1.0).
            if draft == .draft4 { return !n.literal.contains { $0 == "." || $0 == "e" || $0 == "E" } }
            return n.isInteger
        default: return false
        }
    }

    static func short(_ v: JSONValue) -> String {
        let s = v.serialized()
        return s.count > 60 ? String(s.prefix(57)) + "..." : s
    }
}
