import Foundation

/// Checks that a JSON value is a well-formed schema of a draft: the job of the draft's meta-schema,
/// done in code so registration errors can say exactly which keyword is wrong and why.
struct SchemaChecker {
    let draft: JSONSchemaDraft
    /// Also reject patterns that do not compile (the meta-schemas only annotate `format: regex`).
    let checkRegex: Bool
    var problems: [(String, String)] = []

    init(draft: JSONSchemaDraft, checkRegex: Bool) {
        self.draft = draft
        self.checkRegex = checkRegex
    }

    static let simpleTypes: Set<String> = ["array", "boolean", "integer", "null", "number", "object", "string"]

    mutating func problem(_ path: String, _ message: String) { problems.append((path, message)) }

    mutating func check(_ v: JSONValue, at path: String, booleanAllowed: Bool = false) {
        let d = draft
        switch v {
        case .bool:
            if d == .draft4 && !booleanAllowed { problem(path, "a schema must be an object in draft 4 (boolean schemas came in draft 6)") }
            return
        case .object(let o):
            checkObject(o, at: path)
        default:
            problem(path, "a schema must be an object\(d == .draft4 ? "" : " or a boolean"), found \(v.schemaTypeName)")
        }
    }

    private mutating func checkObject(_ o: JSONObject, at path: String) {
        let d = draft
        func at(_ k: String) -> String { path + "/" + JSONPointer.escape(k) }
        for m in o.members {
            let k = m.key, v = m.value, p = at(k)
            switch k {
            // Single subschemas.
            case "additionalProperties", "not", "propertyNames", "contains", "if", "then", "else",
                 "unevaluatedItems", "unevaluatedProperties", "additionalItems":
                // Draft 4 already allowed `false`/`true` for the two "additional" keywords.
                if applies(k) { check(v, at: p, booleanAllowed: k == "additionalProperties" || k == "additionalItems") }
            case "items":
                if case .array(let arr) = v, d < .draft2020_12 {
                    for (i, s) in arr.enumerated() { check(s, at: p + "/\(i)") }
                } else {
                    check(v, at: p)
                }
            // Non-empty arrays of subschemas.
            case "allOf", "anyOf", "oneOf", "prefixItems":
                guard applies(k) else { continue }
                guard let arr = v.arrayValue else { problem(p, "\(k) must be an array of schemas"); continue }
                if arr.isEmpty && k != "prefixItems" { problem(p, "\(k) must not be empty") }
                for (i, s) in arr.enumerated() { check(s, at: p + "/\(i)") }
            // Maps of subschemas.
            case "properties", "patternProperties", "definitions", "$defs", "dependentSchemas":
                guard applies(k) else { continue }
                guard let obj = v.objectValue else { problem(p, "\(k) must be an object of schemas"); continue }
                for mm in obj.members {
                    if k == "patternProperties" { checkPattern(mm.key, at: p + "/" + JSONPointer.escape(mm.key)) }
                    check(mm.value, at: p + "/" + JSONPointer.escape(mm.key))
                }
            case "dependencies":
                guard d <= .draft7 else { continue }
                guard let obj = v.objectValue else { problem(p, "dependencies must be an object"); continue }
                for mm in obj.members {
                    if case .array = mm.value { checkStringArray(mm.value, at: p + "/" + JSONPointer.escape(mm.key), unique: true, nonEmpty: d == .draft4) }
                    else { check(mm.value, at: p + "/" + JSONPointer.escape(mm.key)) }
                }
            case "dependentRequired":
                guard d >= .draft2019_09 else { continue }
                guard let obj = v.objectValue else { problem(p, "dependentRequired must be an object"); continue }
                for mm in obj.members { checkStringArray(mm.value, at: p + "/" + JSONPointer.escape(mm.key), unique: true, nonEmpty: false) }
            // Counts.
            case "maxLength", "minLength", "maxItems", "minItems", "maxProperties", "minProperties",
                 "maxContains", "minContains":
                guard applies(k) else { continue }
                if !(v.numberValue.map { $0.isInteger && $0.doubleValue >= 0 } ?? false) {
                    problem(p, "\(k) must be a non-negative integer, found \(SchemaEvaluator.short(v))")
                }
            case "maximum", "minimum":
                if v.numberValue == nil { problem(p, "\(k) must be a number, found \(SchemaEvaluator.short(v))") }
            case "exclusiveMaximum", "exclusiveMinimum":
                if d == .draft4 {
                    if v.boolValue == nil { problem(p, "\(k) must be a boolean in draft 4") }
                    else if o[k == "exclusiveMaximum" ? "maximum" : "minimum"] == nil {
                        problem(p, "\(k) requires \(k == "exclusiveMaximum" ? "maximum" : "minimum") in draft 4")
                    }
                } else if v.numberValue == nil {
                    problem(p, "\(k) must be a number, found \(SchemaEvaluator.short(v))")
                }
            case "multipleOf":
                if !(v.numberValue.map { $0.doubleValue > 0 } ?? false) { problem(p, "multipleOf must be a number greater than 0") }
            case "type":
                checkType(v, at: p)
            case "enum":
                guard let arr = v.arrayValue else { problem(p, "enum must be an array"); continue }
                if d == .draft4 && arr.isEmpty { problem(p, "enum must not be empty in draft 4") }
            case "required":
                checkStringArray(v, at: p, unique: true, nonEmpty: d == .draft4)
            case "uniqueItems", "$recursiveAnchor", "readOnly", "writeOnly", "deprecated":
                if applies(k), v.boolValue == nil { problem(p, "\(k) must be a boolean") }
            case "pattern":
                guard let s = v.stringValue else { problem(p, "pattern must be a string"); continue }
                checkPattern(s, at: p)
            case "$ref", "$schema", "$dynamicRef", "$recursiveRef", "format", "title", "description", "$comment",
                 "contentMediaType", "contentEncoding":
                if applies(k), v.stringValue == nil { problem(p, "\(k) must be a string") }
            case "$id", "id":
                guard (k == "id") == (d == .draft4) else { continue }
                guard let s = v.stringValue else { problem(p, "\(k) must be a string"); continue }
                if d >= .draft2019_09, let f = s.splitFragment.1, !f.isEmpty {
                    problem(p, "$id must not contain a non-empty fragment (use $anchor)")
                }
            case "$anchor", "$dynamicAnchor":
                guard applies(k) else { continue }
                guard let s = v.stringValue else { problem(p, "\(k) must be a string"); continue }
                if !Self.isAnchorName(s) { problem(p, "\(k) \"\(s)\" is not a valid anchor name") }
            case "$vocabulary":
                guard d >= .draft2019_09 else { continue }
                guard let obj = v.objectValue, obj.members.allSatisfy({ $0.value.boolValue != nil }) else {
                    problem(p, "$vocabulary must be an object of booleans"); continue
                }
            case "examples":
                if d >= .draft6, v.arrayValue == nil { problem(p, "examples must be an array") }
            default:
                continue  // unknown keywords are allowed (annotations)
            }
        }
    }

    /// Whether keyword `k` exists in this draft (keywords from other drafts are just unknown).
    private func applies(_ k: String) -> Bool {
        switch k {
        case "contains", "propertyNames", "examples": return draft >= .draft6
        case "if", "then", "else", "readOnly", "writeOnly", "contentMediaType", "contentEncoding", "$comment":
            return draft >= .draft7
        case "unevaluatedItems", "unevaluatedProperties", "$defs", "dependentSchemas", "maxContains", "minContains",
             "$anchor", "deprecated":
            return draft >= .draft2019_09
        case "$recursiveRef", "$recursiveAnchor": return draft == .draft2019_09
        case "prefixItems", "$dynamicRef", "$dynamicAnchor": return draft >= .draft2020_12
        case "additionalItems": return draft <= .draft2019_09
        default: return true
        }
    }

    private mutating func checkType(_ v: JSONValue, at p: String) {
        switch v {
        case .string(let s):
            if !Self.simpleTypes.contains(s) { problem(p, "unknown type \"\(s)\"") }
        case .array(let arr):
            if arr.isEmpty && draft == .draft4 { problem(p, "type must not be an empty array in draft 4") }
            var seen = Set<String>()
            for (i, t) in arr.enumerated() {
                guard let s = t.stringValue, Self.simpleTypes.contains(s) else {
                    problem(p + "/\(i)", "unknown type \(SchemaEvaluator.short(t))"); continue
                }
                if !seen.insert(s).inserted { problem(p + "/\(i)", "type \"\(s)\" listed twice") }
            }
        default:
            problem(p, "type must be a type name or an array of them, found \(SchemaEvaluator.short(v))")
        }
    }

    private mutating func checkStringArray(_ v: JSONValue, at p: String, unique: Bool, nonEmpty: Bool) {
        guard let arr = v.arrayValue else { problem(p, "must be an array of strings"); return }
        if nonEmpty && arr.isEmpty { problem(p, "must not be empty") }
        var seen = Set<String>()
        for (i, e) in arr.enumerated() {
            guard let s = e.stringValue else { problem(p + "/\(i)", "must be a string"); continue }
            if unique && !seen.insert(s).inserted { problem(p + "/\(i)", "\"\(s)\" listed twice") }
        }
    }

    private mutating func checkPattern(_ s: String, at p: String) {
        guard checkRegex else { return }
        if (try? NSRegularExpression(pattern: ECMARegex.translate(s))) == nil {
            problem(p, "\"\(s)\" is not a valid regular expression")
        }
    }

    static func isAnchorName(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, first.properties.isAlphabetic || first == "_" else { return false }
        return s.unicodeScalars.allSatisfy {
            ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) || "-_.:".unicodeScalars.contains($0)
        }
    }
}
