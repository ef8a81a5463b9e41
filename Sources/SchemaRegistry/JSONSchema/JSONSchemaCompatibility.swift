// Compatibility between JSON Schemas by the content-model rules the Confluent registry applies:
// a reader schema is compatible with a writer schema when every document the writer accepts is
// one the reader accepts, judged structurally keyword by keyword (open content models accept
// unknown properties, closed ones — additionalProperties false — do not, partially open ones
// accept what their additionalProperties / patternProperties schema accepts).

/// Checks a new JSON Schema against earlier versions of a subject.
public enum JSONSchemaCompatibility {
    /// Checks `new` against `existing` (oldest first) at `level`, one of NONE, BACKWARD,
    /// BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE. Returns one
    /// message per incompatible change (empty: compatible).
    public static func check(level: String, new: JSONSchemaDocument, existing: [JSONSchemaDocument]) -> [String] {
        let backward: Bool, forward: Bool, transitive: Bool
        switch level.uppercased() {
        case "NONE": return []
        case "BACKWARD": (backward, forward, transitive) = (true, false, false)
        case "BACKWARD_TRANSITIVE": (backward, forward, transitive) = (true, false, true)
        case "FORWARD": (backward, forward, transitive) = (false, true, false)
        case "FORWARD_TRANSITIVE": (backward, forward, transitive) = (false, true, true)
        case "FULL": (backward, forward, transitive) = (true, true, false)
        case "FULL_TRANSITIVE": (backward, forward, transitive) = (true, true, true)
        default: return ["unknown compatibility level \"\(level)\""]
        }
        var out: [String] = []
        let targets = transitive ? Array(existing.enumerated()) : existing.indices.last.map { [($0, existing[$0])] } ?? []
        for (i, old) in targets {
            let suffix = "old schema version \(i + 1), compatibility \(level.uppercased())"
            if backward {
                for d in differences(writer: old, reader: new) where !d.compatible {
                    out.append("\(d.type) at '\(d.path)': \(d.detail) (reader: new schema, writer: \(suffix))")
                }
            }
            if forward {
                for d in differences(writer: new, reader: old) where !d.compatible {
                    out.append("\(d.type) at '\(d.path)': \(d.detail) (reader: \(suffix), writer: new schema)")
                }
            }
        }
        return out
    }

    /// Every difference found reading data written with `writer` using `reader`, compatible or not.
    public static func differences(writer: JSONSchemaDocument, reader: JSONSchemaDocument) -> [JSONSchemaDifference] {
        var c = Comparer(writerDoc: writer, readerDoc: reader)
        c.compare(Side(doc: writer, value: writer.json, base: writer.root.base, draft: writer.draft),
                  Side(doc: reader, value: reader.json, base: reader.root.base, draft: reader.draft), path: "#")
        return c.diffs
    }
}

/// One change between a writer and a reader schema, named after the rule it falls under.
public struct JSONSchemaDifference: Sendable, Equatable, CustomStringConvertible {
    /// Rule name, e.g. PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL.
    public let type: String
    /// Location in the reader schema, as a JSON Pointer fragment ("#/properties/a").
    public let path: String
    public let compatible: Bool
    public let detail: String
    public var description: String { "\(type) at '\(path)'\(compatible ? "" : " (incompatible)"): \(detail)" }
}

/// A schema position on one side of a comparison, with what is needed to follow its `$ref`s.
struct Side {
    let doc: JSONSchemaDocument
    let value: JSONValue
    let base: String
    let draft: JSONSchemaDraft

    var object: JSONObject? { value.objectValue }
    subscript(_ k: String) -> JSONValue? { value[k] }

    /// Whether the schema accepts everything (true, or an object with no constraint keywords).
    var acceptsAll: Bool {
        if let b = value.boolValue { return b }
        guard let o = object else { return false }
        return o.keys.allSatisfy { Side.annotationKeywords.contains($0) }
    }

    var rejectsAll: Bool { value.boolValue == false }

    static let annotationKeywords: Set<String> = ["$schema", "$id", "id", "title", "description", "default", "examples",
                                                  "$comment", "definitions", "$defs", "format", "readOnly", "writeOnly",
                                                  "deprecated", "$anchor", "$dynamicAnchor", "$recursiveAnchor", "$vocabulary"]

    func child(_ v: JSONValue) -> Side {
        var b = base
        let idKey = draft == .draft4 ? "id" : "$id"
        if let id = v[idKey]?.stringValue, !id.hasPrefix("#") { b = id.resolvedURI(against: base).splitFragment.0 }
        let d = v["$schema"]?.stringValue.flatMap { JSONSchemaDraft(metaschemaURI: $0) } ?? draft
        return Side(doc: doc, value: v, base: b, draft: d)
    }

    /// The schema a `$ref` names, looked up in the document's compiled index (read-only).
    func resolve(_ ref: String) -> (Side, String)? {
        let uri = ref.resolvedURI(against: base)
        let (u, fragment) = uri.splitFragment
        let frag = JSONPointer.percentDecode(fragment ?? "")
        let set = doc.set
        let node: SchemaNode?
        if frag.isEmpty { node = set.resources[u] ?? set.locations[u + "#"] }
        else if frag.hasPrefix("/") {
            if let n = set.locations[u + "#" + frag] { node = n }
            else if let root = set.resources[u], let v = root.json.at(pointer: frag) {
                return (Side(doc: doc, value: v, base: u, draft: root.draft), uri)
            } else { node = nil }
        } else { node = set.anchors[u + "#" + frag] }
        guard let node else { return nil }
        if node.keywords.count == 1, case .metaschema = node.keywords[0] { return nil }
        return (Side(doc: doc, value: node.json, base: node.base, draft: node.draft), uri)
    }
}

struct Comparer {
    let writerDoc: JSONSchemaDocument
    let readerDoc: JSONSchemaDocument
    var diffs: [JSONSchemaDifference] = []
    /// Pairs of `$ref` targets already being compared: recursive schemas compare once.
    var visiting: Set<String> = []

    mutating func add(_ type: String, _ path: String, _ compatible: Bool, _ detail: String) {
        diffs.append(JSONSchemaDifference(type: type, path: path, compatible: compatible, detail: detail))
    }

    /// Follows `$ref` when it is the only constraint (siblings of `$ref` are ignored up to draft 7).
    func deref(_ s: Side) -> (Side, String?) {
        var cur = s
        var key: String?
        for _ in 0..<32 {
            guard let ref = cur["$ref"]?.stringValue else { break }
            let onlyRef = cur.draft <= .draft7 || (cur.object?.keys.allSatisfy { $0 == "$ref" || Side.annotationKeywords.contains($0) } ?? true)
            guard onlyRef, let (t, uri) = cur.resolve(ref) else { break }
            cur = t
            key = uri
        }
        return (cur, key)
    }

    mutating func compare(_ w0: Side, _ r0: Side, path: String) {
        let (w, wk) = deref(w0)
        let (r, rk) = deref(r0)
        if wk != nil || rk != nil {
            let key = (wk ?? "?") + "|" + (rk ?? "?") + "|" + path.split(separator: "/").suffix(1).joined()
            if visiting.contains(key) { return }
            visiting.insert(key)
            defer { visiting.remove(key) }
            compareResolved(w, r, path: path)
        } else {
            compareResolved(w, r, path: path)
        }
    }

    private mutating func compareResolved(_ w: Side, _ r: Side, path: String) {
        if r.acceptsAll || w.rejectsAll { return }
        if r.rejectsAll {
            add("SCHEMA_NARROWED_TO_FALSE", path, false, "the reader accepts nothing here, the writer does")
            return
        }
        // A remaining `$ref` with siblings (2019-09+): compare as the conjunction it is.
        if r["$ref"] != nil, let (t, _) = r.resolve(r["$ref"]!.stringValue ?? "") {
            compare(w, t, path: path + "/$ref")
        }
        if compareCombined(w, r, path: path) { return }
        compareTypes(w, r, path: path)
        compareEnum(w, r, path: path)
        if accepts(w, "number") || accepts(w, "integer") { compareNumbers(w, r, path: path) }
        if accepts(w, "string") { compareStrings(w, r, path: path) }
        if accepts(w, "array") { compareArrays(w, r, path: path) }
        if accepts(w, "object") { compareObjects(w, r, path: path) }
        if let rn = r["not"] {
            if let wn = w["not"] {
                // not A ⊆ not B exactly when B ⊆ A: the direction flips.
                compare(r.child(rn), w.child(wn), path: path + "/not")
            } else {
                add("NOT_TYPE_ADDED", path + "/not", false, "the reader adds a \"not\" the writer does not have")
            }
        }
    }

    // MARK: Combined schemas

    /// Returns true when combinators decided the comparison (so per-keyword rules are skipped).
    private mutating func compareCombined(_ w: Side, _ r: Side, path: String) -> Bool {
        func branches(_ s: Side, _ k: String) -> [Side]? { s[k]?.arrayValue?.map { s.child($0) } }
        let sumKeys = ["oneOf", "anyOf"]
        let wSum = sumKeys.first { w[$0] != nil }, rSum = sumKeys.first { r[$0] != nil }
        if let rk = rSum, let rb = branches(r, rk) {
            if let wk = wSum, let wb = branches(w, wk) {
                if wk != rk && !(wk == "oneOf" && rk == "anyOf") {
                    add("COMBINED_TYPE_CHANGED", path, false, "\(wk) became \(rk)")
                    return true
                }
                // Every writer branch must be read by some reader branch.
                for (i, b) in wb.enumerated() where !rb.contains(where: { isCompatible(b, $0, path) }) {
                    add("SUM_TYPE_NARROWED", path + "/\(rk)/\(i)", false, "no \(rk) branch of the reader accepts writer branch \(i)")
                }
                if rb.count > wb.count { add("SUM_TYPE_EXTENDED", path + "/\(rk)", true, "the reader adds \(rb.count - wb.count) branch(es)") }
                return true
            }
            if !rb.contains(where: { isCompatible(w, $0, path) }) {
                add("SUM_TYPE_NARROWED", path + "/\(rk)", false, "no \(rk) branch of the reader accepts the writer's schema")
            } else {
                add("SUM_TYPE_EXTENDED", path + "/\(rk)", true, "a single schema became one branch of \(rk)")
            }
            return true
        }
        if let wk = wSum, let wb = branches(w, wk) {
            // The reader is a single schema: it must accept every writer branch.
            for (i, b) in wb.enumerated() {
                compare(b, r, path: path + "/\(wk)/\(i)")
            }
            return true
        }
        if let rb = branches(r, "allOf") {
            let wb = branches(w, "allOf") ?? [w]
            // Each reader conjunct must hold for everything the writer accepts.
            for (i, b) in rb.enumerated() where !wb.contains(where: { isCompatible($0, b, path) }) {
                if w["allOf"] != nil {
                    add("PRODUCT_TYPE_EXTENDED", path + "/allOf/\(i)", false, "reader allOf branch \(i) is not implied by the writer")
                } else {
                    compare(w, b, path: path + "/allOf/\(i)")
                }
            }
            if let wa = w["allOf"]?.arrayValue, wa.count > rb.count {
                add("PRODUCT_TYPE_NARROWED", path + "/allOf", true, "the reader drops \(wa.count - rb.count) allOf branch(es)")
            }
            return r.object?.keys.allSatisfy { $0 == "allOf" || Side.annotationKeywords.contains($0) } ?? true
        }
        if let wb = branches(w, "allOf") {
            // Writer data satisfies every conjunct: enough that one of them alone is compatible.
            if wb.contains(where: { isCompatible($0, r, path) }) { return true }
            let merged = wb.count == 1 ? wb[0] : w.withoutKeywords(["allOf"])
            compare(merged, r, path: path)
            return true
        }
        return false
    }

    /// Whether reading `w`-data with `r` raises no incompatibility (differences are discarded).
    private mutating func isCompatible(_ w: Side, _ r: Side, _ path: String) -> Bool {
        var probe = Comparer(writerDoc: writerDoc, readerDoc: readerDoc, diffs: [], visiting: visiting)
        probe.compare(w, r, path: path)
        return !probe.diffs.contains { !$0.compatible }
    }

    // MARK: Types and enums

    static let allTypes: Set<String> = ["null", "boolean", "number", "integer", "string", "array", "object"]

    private func types(_ s: Side) -> Set<String>? {
        switch s["type"] {
        case .string(let t)?: return [t]
        case .array(let a)?: return Set(a.compactMap(\.stringValue))
        default: return nil
        }
    }

    private func accepts(_ s: Side, _ t: String) -> Bool {
        guard let ts = types(s) else { return true }
        return ts.contains(t) || (t == "integer" && ts.contains("number"))
    }

    private mutating func compareTypes(_ w: Side, _ r: Side, path: String) {
        guard let rt = types(r) else {
            if types(w) != nil { add("TYPE_EXTENDED", path + "/type", true, "the reader accepts every type") }
            return
        }
        let wt = types(w) ?? Self.allTypes
        // "number" in the reader also reads integers.
        let missing = wt.filter { !(rt.contains($0) || ($0 == "integer" && rt.contains("number"))) }
        if missing.isEmpty {
            if wt != rt { add("TYPE_EXTENDED", path + "/type", true, "types widened from \(wt.sorted()) to \(rt.sorted())") }
            return
        }
        let overlap = wt.contains { rt.contains($0) } || (wt.contains("number") && rt.contains("integer"))
        add(overlap ? "TYPE_NARROWED" : "TYPE_CHANGED", path + "/type", false,
            "the writer allows \(missing.sorted().joined(separator: ", ")), the reader does not (reader types \(rt.sorted()))")
    }

    private func enumValues(_ s: Side) -> [JSONValue]? {
        if let e = s["enum"]?.arrayValue { return e }
        if let c = s["const"], s.draft >= .draft6 { return [c] }
        return nil
    }

    private mutating func compareEnum(_ w: Side, _ r: Side, path: String) {
        guard let re = enumValues(r) else {
            if enumValues(w) != nil { add("ENUM_ARRAY_REMOVED", path + "/enum", true, "the reader drops the enumeration") }
            return
        }
        guard let we = enumValues(w) else {
            add("ENUM_ARRAY_ADDED", path + "/enum", false, "the reader restricts values to an enumeration the writer did not have")
            return
        }
        let removed = we.filter { v in !re.contains { $0.isIdentical(to: v) } }
        if removed.isEmpty {
            if re.count > we.count { add("ENUM_ARRAY_EXTENDED", path + "/enum", true, "values added to the enumeration") }
            return
        }
        let added = re.contains { v in !we.contains { $0.isIdentical(to: v) } }
        add(added ? "ENUM_ARRAY_CHANGED" : "ENUM_ARRAY_NARROWED", path + "/enum", false,
            "writer values \(removed.map { $0.serialized() }.joined(separator: ", ")) are not in the reader's enumeration")
    }

    // MARK: Numbers and strings

    /// The effective bound (value, exclusive) from maximum/exclusiveMaximum in either draft form.
    private func bound(_ s: Side, upper: Bool) -> (JSONNumber, Bool, String)? {
        let plain = upper ? "maximum" : "minimum", excl = upper ? "exclusiveMaximum" : "exclusiveMinimum"
        var best: (JSONNumber, Bool, String)?
        if let m = s[plain]?.numberValue {
            best = (m, s[excl]?.boolValue == true, s[excl]?.boolValue == true ? excl : plain)
        }
        if let e = s[excl]?.numberValue {
            if let b = best {
                let c = e.compare(b.0)
                if upper ? c <= 0 : c >= 0 { best = (e, true, excl) }
            } else {
                best = (e, true, excl)
            }
        }
        return best
    }

    private mutating func compareNumbers(_ w: Side, _ r: Side, path: String) {
        for upper in [true, false] {
            guard let rb = bound(r, upper: upper) else { continue }
            let name = upper ? "MAXIMUM" : "MINIMUM"
            guard let wb = bound(w, upper: upper) else {
                add("\(name)_ADDED", path + "/" + rb.2, false, "the reader adds \(rb.2) \(rb.0)")
                continue
            }
            let c = wb.0.compare(rb.0)
            // The writer's range must lie inside the reader's.
            let inside = upper ? (c < 0 || (c == 0 && (wb.1 || !rb.1))) : (c > 0 || (c == 0 && (wb.1 || !rb.1)))
            if !inside {
                add(upper ? "MAXIMUM_DECREASED" : "MINIMUM_INCREASED", path + "/" + rb.2, false,
                    "\(rb.2) \(rb.0) in the reader excludes values up to \(wb.2) \(wb.0) the writer allows")
            } else if c != 0 {
                add(upper ? "MAXIMUM_INCREASED" : "MINIMUM_DECREASED", path + "/" + rb.2, true, "bound loosened")
            }
        }
        if let rm = r["multipleOf"]?.numberValue {
            if let wm = w["multipleOf"]?.numberValue {
                if !wm.isMultiple(of: rm) {
                    add(rm.isMultiple(of: wm) ? "MULTIPLE_OF_EXPANDED" : "MULTIPLE_OF_CHANGED", path + "/multipleOf", false,
                        "multiples of \(wm) are not all multiples of \(rm)")
                } else if wm != rm {
                    add("MULTIPLE_OF_REDUCED", path + "/multipleOf", true, "multipleOf \(wm) became \(rm)")
                }
            } else if !(rm.literal == "1" && types(w) == ["integer"]) {
                add("MULTIPLE_OF_ADDED", path + "/multipleOf", false, "the reader adds multipleOf \(rm)")
            }
        }
    }

    private mutating func compareCount(_ w: Side, _ r: Side, path: String, keyword: String, name: String, isMax: Bool) {
        guard let rv = r[keyword]?.numberValue?.int64Value else { return }
        guard let wv = w[keyword]?.numberValue?.int64Value else {
            if isMax || rv > 0 { add("\(name)_ADDED", path + "/" + keyword, false, "the reader adds \(keyword) \(rv)") }
            return
        }
        if isMax ? wv > rv : wv < rv {
            add("\(name)_\(isMax ? "DECREASED" : "INCREASED")", path + "/" + keyword, false, "\(keyword) \(wv) became \(rv)")
        } else if wv != rv {
            add("\(name)_\(isMax ? "INCREASED" : "DECREASED")", path + "/" + keyword, true, "\(keyword) \(wv) became \(rv)")
        }
    }

    private mutating func compareStrings(_ w: Side, _ r: Side, path: String) {
        compareCount(w, r, path: path, keyword: "maxLength", name: "MAX_LENGTH", isMax: true)
        compareCount(w, r, path: path, keyword: "minLength", name: "MIN_LENGTH", isMax: false)
        if let rp = r["pattern"]?.stringValue {
            if let wp = w["pattern"]?.stringValue {
                if wp != rp { add("PATTERN_CHANGED", path + "/pattern", false, "pattern /\(wp)/ became /\(rp)/") }
            } else {
                add("PATTERN_ADDED", path + "/pattern", false, "the reader adds pattern /\(rp)/")
            }
        } else if w["pattern"] != nil {
            add("PATTERN_REMOVED", path + "/pattern", true, "the reader drops the pattern")
        }
    }

    // MARK: Arrays

    /// Items as positional schemas plus the schema for the rest (nil: anything), per draft.
    private func itemModel(_ s: Side) -> (prefix: [Side], prefixKey: String, rest: Side?, restKey: String) {
        if s.draft >= .draft2020_12 {
            let p = s["prefixItems"]?.arrayValue?.map { s.child($0) } ?? []
            return (p, "prefixItems", s["items"].map { s.child($0) }, "items")
        }
        if case .array(let a)? = s["items"] {
            return (a.map { s.child($0) }, "items", s["additionalItems"].map { s.child($0) }, "additionalItems")
        }
        return ([], "items", s["items"].map { s.child($0) }, "items")
    }

    private mutating func compareArrays(_ w: Side, _ r: Side, path: String) {
        compareCount(w, r, path: path, keyword: "maxItems", name: "MAX_ITEMS", isMax: true)
        compareCount(w, r, path: path, keyword: "minItems", name: "MIN_ITEMS", isMax: false)
        if r["uniqueItems"]?.boolValue == true && w["uniqueItems"]?.boolValue != true {
            add("UNIQUE_ITEMS_ADDED", path + "/uniqueItems", false, "the reader requires unique items")
        }
        let wm = itemModel(w), rm = itemModel(r)
        let wOpen = wm.rest.map { $0.acceptsAll } ?? true
        for i in 0..<max(wm.prefix.count, rm.prefix.count) {
            let ws = i < wm.prefix.count ? wm.prefix[i] : wm.rest
            let rs = i < rm.prefix.count ? rm.prefix[i] : rm.rest
            let rpath = path + "/" + (i < rm.prefix.count ? "\(rm.prefixKey)/\(i)" : rm.restKey)
            guard let rs else {
                // The reader's open tail reads the item the writer's tuple named.
                add("ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL", path + "/" + rm.restKey, true,
                    "item \(i) removed; the reader's open content model accepts it")
                continue
            }
            if let ws, ws.rejectsAll {
                if i < rm.prefix.count {
                    add("ITEM_ADDED_TO_CLOSED_CONTENT_MODEL", rpath, true, "the writer's closed tuple never writes item \(i)")
                }
                continue
            }
            if i >= wm.prefix.count && wOpen && i < rm.prefix.count {
                if !rs.acceptsAll {
                    add("ITEM_ADDED_TO_OPEN_CONTENT_MODEL", rpath, false, "the reader constrains item \(i), which the writer left open")
                }
                continue
            }
            if rs.rejectsAll {
                add("ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL", rpath, false, "the writer may write item \(i), the reader allows no item there")
                continue
            }
            compare(ws ?? Side(doc: w.doc, value: .bool(true), base: w.base, draft: w.draft), rs, path: rpath)
        }
        // Items beyond every positional schema.
        if let rr = rm.rest, !(wm.rest?.rejectsAll ?? false) {
            let restPath = path + "/" + rm.restKey
            if rr.rejectsAll {
                add("ADDITIONAL_ITEMS_NARROWED", restPath, false,
                    "the reader allows no items beyond \(rm.prefix.count), the writer does")
            } else if let wr = wm.rest {
                compare(wr, rr, path: restPath)
            } else if !rr.acceptsAll {
                add("ADDITIONAL_ITEMS_ADDED", restPath, false, "the reader constrains items the writer left open")
            }
        }
        if let rc = r["contains"] {
            if let wc = w["contains"] { compare(w.child(wc), r.child(rc), path: path + "/contains") }
            else { add("CONTAINS_ADDED", path + "/contains", false, "the reader adds a contains constraint") }
        }
    }

    // MARK: Objects

    private mutating func compareObjects(_ w: Side, _ r: Side, path: String) {
        compareCount(w, r, path: path, keyword: "maxProperties", name: "MAX_PROPERTIES", isMax: true)
        compareCount(w, r, path: path, keyword: "minProperties", name: "MIN_PROPERTIES", isMax: false)
        let wp = w["properties"]?.objectValue ?? JSONObject(), rp = r["properties"]?.objectValue ?? JSONObject()
        let wpat = patterns(w), rpat = patterns(r)
        let wAdd = w["additionalProperties"].map { w.child($0) }, rAdd = r["additionalProperties"].map { r.child($0) }
        let wReq = Set(w["required"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        let rReq = Set(r["required"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        var reportedRequired = Set<String>()

        for m in wp.members {
            let ppath = path + "/properties/" + JSONPointer.escape(m.key)
            let ws = w.child(m.value)
            if let rv = rp[m.key] {
                compare(ws, r.child(rv), path: ppath)
                continue
            }
            // Removed in the reader: what does the reader do with it now?
            if let (_, rs) = rpat.first(where: { $0.0.matches(m.key) }) {
                let ok = isCompatible(ws, rs, ppath)
                add(ok ? "PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL" : "PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
                    ppath, ok, "property \"\(m.key)\" is now read through patternProperties")
            } else if let ra = rAdd, !ra.acceptsAll {
                if ra.rejectsAll {
                    let ok = ws.rejectsAll
                    add(ok ? "PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL" : "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL",
                        ppath, ok, "the writer may write \"\(m.key)\"; the reader's closed content model rejects it")
                } else {
                    let ok = isCompatible(ws, ra, ppath)
                    add(ok ? "PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL" : "PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
                        ppath, ok, "property \"\(m.key)\" is now read through additionalProperties")
                }
            } else {
                add("PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL", ppath, true, "property \"\(m.key)\" removed; the reader's open content model accepts it")
            }
        }
        for m in rp.members where wp[m.key] == nil {
            let ppath = path + "/properties/" + JSONPointer.escape(m.key)
            let rs = r.child(m.value)
            // Added in the reader: what could the writer have written under this name?
            if let (_, ws) = wpat.first(where: { $0.0.matches(m.key) }) {
                let ok = isCompatible(ws, rs, ppath)
                add(ok ? "PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL" : "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
                    ppath, ok, "the writer's patternProperties may already write \"\(m.key)\"")
            } else if let wa = wAdd, !wa.acceptsAll {
                if wa.rejectsAll {
                    if rReq.contains(m.key) && !wReq.contains(m.key) {
                        reportedRequired.insert(m.key)
                        let hasDefault = rs["default"] != nil
                        add(hasDefault ? "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL" : "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL",
                            ppath, hasDefault, "the reader requires \"\(m.key)\", which the writer's closed model never writes")
                    } else {
                        add("OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL", ppath, true, "the writer's closed model never writes \"\(m.key)\"")
                    }
                } else {
                    let ok = isCompatible(wa, rs, ppath)
                    add(ok ? "PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL" : "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
                        ppath, ok, "the writer's additionalProperties may already write \"\(m.key)\"")
                }
            } else if rs.acceptsAll {
                add("PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL", ppath, true, "property \"\(m.key)\" accepts anything")
            } else {
                add("PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL", ppath, false,
                    "the writer's open content model may already have written \"\(m.key)\" with any value")
            }
        }

        // Required.
        for name in rReq.subtracting(wReq).sorted() where !reportedRequired.contains(name) {
            let hasDefault = rp[name]?["default"] != nil
            add(hasDefault ? "REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED" : "REQUIRED_ATTRIBUTE_ADDED", path + "/required", hasDefault,
                "the reader requires \"\(name)\", the writer does not")
        }
        for name in wReq.subtracting(rReq).sorted() {
            add("REQUIRED_ATTRIBUTE_REMOVED", path + "/required", true, "\"\(name)\" is no longer required")
        }

        // The content model itself.
        let wKind = contentModel(wAdd), rKind = contentModel(rAdd)
        switch (wKind, rKind) {
        case (_, .open), (.closed, _): break
        case (.open, _):
            add("ADDITIONAL_PROPERTIES_ADDED", path + "/additionalProperties", false,
                "the reader restricts additional properties, the writer's open model allows any")
        case (.partial, .closed):
            add("ADDITIONAL_PROPERTIES_NARROWED", path + "/additionalProperties", false,
                "the reader closes the content model the writer left partially open")
        case (.partial, .partial):
            compare(wAdd!, rAdd!, path: path + "/additionalProperties")
        }
        if wKind != .open && rKind == .open && wAdd != nil {
            add("ADDITIONAL_PROPERTIES_REMOVED", path + "/additionalProperties", true, "the reader opens the content model")
        }

        // Pattern properties.
        for (re, rs) in rpat {
            let ppath = path + "/patternProperties/" + JSONPointer.escape(re.source)
            if let (_, ws) = wpat.first(where: { $0.0.source == re.source }) {
                compare(ws, rs, path: ppath)
            } else if wKind == .open && !rs.acceptsAll {
                add("PATTERN_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL", ppath, false,
                    "the writer's open content model may already have written matching properties")
            }
        }
        for (we, ws) in wpat where !rpat.contains(where: { $0.0.source == we.source }) {
            if rKind == .closed && !ws.rejectsAll {
                add("PATTERN_PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL", path + "/patternProperties/" + JSONPointer.escape(we.source),
                    false, "the reader's closed content model rejects properties the writer's pattern allowed")
            }
        }
        if let rn = r["propertyNames"] {
            if let wn = w["propertyNames"] { compare(w.child(wn), r.child(rn), path: path + "/propertyNames") }
            else { add("PROPERTY_NAMES_ADDED", path + "/propertyNames", false, "the reader restricts property names") }
        }
        compareDependencies(w, r, path: path)
    }

    private enum ContentModel { case open, closed, partial }

    private func contentModel(_ ap: Side?) -> ContentModel {
        guard let ap else { return .open }
        if ap.rejectsAll { return .closed }
        return ap.acceptsAll ? .open : .partial
    }

    private func patterns(_ s: Side) -> [(SchemaRegex, Side)] {
        guard let pp = s["patternProperties"]?.objectValue else { return [] }
        return pp.members.compactMap { m in s.doc.set.makeRegex(m.key).map { ($0, s.child(m.value)) } }
    }

    private func dependencies(_ s: Side) -> (required: [String: Set<String>], schemas: [String: Side]) {
        var req: [String: Set<String>] = [:]
        var schemas: [String: Side] = [:]
        for key in ["dependencies", "dependentRequired", "dependentSchemas"] {
            for m in s[key]?.objectValue?.members ?? [] {
                if let a = m.value.arrayValue { req[m.key, default: []].formUnion(a.compactMap(\.stringValue)) }
                else { schemas[m.key] = s.child(m.value) }
            }
        }
        return (req, schemas)
    }

    private mutating func compareDependencies(_ w: Side, _ r: Side, path: String) {
        let wd = dependencies(w), rd = dependencies(r)
        for (k, rv) in rd.required.sorted(by: { $0.key < $1.key }) {
            let wv = wd.required[k] ?? []
            let extra = rv.subtracting(wv)
            if !extra.isEmpty {
                add(wd.required[k] == nil ? "DEPENDENCY_ARRAY_ADDED" : "DEPENDENCY_ARRAY_EXTENDED", path + "/dependencies/" + JSONPointer.escape(k),
                    false, "\"\(k)\" now also requires \(extra.sorted().joined(separator: ", "))")
            }
        }
        for (k, rs) in rd.schemas.sorted(by: { $0.key < $1.key }) {
            let dpath = path + "/dependencies/" + JSONPointer.escape(k)
            if let ws = wd.schemas[k] { compare(ws, rs, path: dpath) }
            else if !rs.acceptsAll { add("DEPENDENCY_SCHEMA_ADDED", dpath, false, "the reader adds a dependent schema for \"\(k)\"") }
        }
    }
}

extension Side {
    func withoutKeywords(_ keys: [String]) -> Side {
        guard var o = object else { return self }
        for k in keys { o[k] = nil }
        return Side(doc: doc, value: .object(o), base: base, draft: draft)
    }
}
