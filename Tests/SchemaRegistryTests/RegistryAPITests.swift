import Testing
@testable import SchemaRegistry

/// Applies what the API decides, as the broker's shell does (minus the log write).
private struct Harness {
    var state = RegistryState()
    var log: [RegistryRecord] = []

    mutating func call(_ method: String, _ path: String, _ body: String? = nil,
                       authorize: @escaping RegistryAuthorizer = { _, _ in true }) -> (Int, JSONValue?) {
        let parts = path.split(separator: "?", maxSplits: 1)
        let segments = parts[0].split(separator: "/").map { String($0).replacingOccurrences(of: "%2F", with: "/") }
        let query: [(name: String, value: String)] = parts.count > 1 ? parts[1].split(separator: "&").map {
            let kv = $0.split(separator: "=", maxSplits: 1)
            return (String(kv[0]), kv.count > 1 ? String(kv[1]) : "")
        } : []
        let request = RegistryRequest(method: method, path: segments, query: query,
                                      contentType: "application/vnd.schemaregistry.v1+json", body: Array((body ?? "").utf8))
        let outcome = RegistryAPI.handle(request, state: state, authorize: authorize)
        if case .write(let records, _) = outcome {
            for r in records {
                // Every record must survive the codec, as it will survive the log.
                let (k, v) = RegistryRecordCodec.encode(r)
                let decoded = RegistryRecordCodec.decode(key: k, value: v)
                #expect(decoded == r)
                state.apply(r)
                log.append(r)
            }
        }
        let r = outcome.response
        return (r.status, try? JSONParser.parse(r.body))
    }
}

private func body(_ schema: String, type: String? = nil, refs: String? = nil, extra: String = "") -> String {
    var o = JSONObject([("schema", .string(schema))])
    if let type { o["schemaType"] = .string(type) }
    var text = JSONValue.object(o).serialized()
    if let refs { text = String(text.dropLast()) + #","references":"# + refs + "}" }
    if !extra.isEmpty { text = String(text.dropLast()) + "," + extra + "}" }
    return text
}

private let r1 = #"{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}"#
private let r2 = #"{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"b","type":"string","default":""}]}"#
private let r3 = #"{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"c","type":"string"}]}"#

private func code(_ v: JSONValue?) -> Int64? { v?["error_code"]?.numberValue?.int64Value }
private func int(_ v: JSONValue?, _ k: String) -> Int64? { v?[k]?.numberValue?.int64Value }

@Suite struct RegistryAPITests {
    @Test func registerIsIdempotentAndVersionsCount() {
        var h = Harness()
        let (s1, a) = h.call("POST", "subjects/t-value/versions", body(r1))
        #expect(s1 == 200 && int(a, "id") == 1 && int(a, "version") == 1)
        #expect(int(h.call("POST", "subjects/t-value/versions", body(" " + r1 + " ")).1, "id") == 1)
        #expect(h.log.count == 1)
        #expect(int(h.call("POST", "subjects/t-value/versions", body(r2)).1, "id") == 2)
        #expect(int(h.call("POST", "subjects/other/versions", body(r1)).1, "id") == 1)  // same schema, same id
        #expect(h.call("GET", "subjects/t-value/versions").1 == .array([.number(JSONNumber(Int64(1))), .number(JSONNumber(Int64(2)))]))
        let (s, e) = h.call("POST", "subjects/t-value/versions", body(r3))
        #expect(s == 409 && code(e) == 409)
        #expect(h.call("GET", "subjects/t-value/versions/latest").1?["version"] == .number(JSONNumber(Int64(2))))
        #expect(code(h.call("GET", "subjects/nope/versions/1").1) == 40401)
        #expect(code(h.call("GET", "subjects/t-value/versions/9").1) == 40402)
        #expect(code(h.call("GET", "subjects/t-value/versions/0").1) == 42202)
        #expect(code(h.call("GET", "schemas/ids/77").1) == 40403)
        #expect(h.call("POST", "subjects/t-value", body(r1)).1?["version"] == .number(JSONNumber(Int64(1))))
        #expect(code(h.call("POST", "subjects/t-value", body(r3)).1) == 40403)
    }

    @Test func deletesSoftThenPermanent() {
        var h = Harness()
        _ = h.call("POST", "subjects/s/versions", body(r1))
        _ = h.call("POST", "subjects/s/versions", body(r2))
        #expect(code(h.call("DELETE", "subjects/s?permanent=true").1) == 40405)
        #expect(code(h.call("DELETE", "subjects/s/versions/1?permanent=true").1) == 40407)
        #expect(h.call("DELETE", "subjects/s/versions/1").0 == 200)
        #expect(code(h.call("DELETE", "subjects/s/versions/1").1) == 40402)
        #expect(h.call("GET", "subjects/s/versions?deleted=true").1 == .array([.number(JSONNumber(Int64(1))), .number(JSONNumber(Int64(2)))]))
        #expect(h.call("DELETE", "subjects/s").1 == .array([.number(JSONNumber(Int64(2)))]))
        #expect(code(h.call("DELETE", "subjects/s").1) == 40404)
        #expect(h.call("GET", "subjects").1 == .array([]))
        #expect(h.call("GET", "subjects?deleted=true").1 == .array([.string("s")]))
        #expect(h.call("GET", "schemas/ids/1").0 == 200)  // soft-deleted ids still resolve
        #expect(h.call("DELETE", "subjects/s?permanent=true").0 == 200)
        #expect(code(h.call("GET", "schemas/ids/1").1) == 40403)
        // The next registration does not reuse ids.
        #expect(int(h.call("POST", "subjects/s/versions", body(r3)).1, "id") == 3)
    }

    @Test func configModeAndImport() {
        var h = Harness()
        #expect(h.call("GET", "config").1?["compatibilityLevel"] == .string("BACKWARD"))
        #expect(code(h.call("PUT", "config", #"{"compatibility":"bogus"}"#).1) == 42203)
        #expect(h.call("PUT", "config/s", #"{"compatibility":"none"}"#).1?["compatibility"] == .string("NONE"))
        #expect(code(h.call("GET", "config/x").1) == 40408)
        #expect(h.call("GET", "config/x?defaultToGlobal=true").1?["compatibilityLevel"] == .string("BACKWARD"))
        _ = h.call("POST", "subjects/s/versions", body(r1))
        #expect(h.call("POST", "subjects/s/versions", body(r3)).0 == 200)  // NONE
        #expect(code(h.call("PUT", "mode/s", #"{"mode":"nap"}"#).1) == 42204)
        #expect(code(h.call("PUT", "mode/s", #"{"mode":"IMPORT"}"#).1) == 42205)  // live subject, no force
        #expect(h.call("PUT", "mode/s", #"{"mode":"READONLY"}"#).0 == 200)
        #expect(code(h.call("POST", "subjects/s/versions", body(r2)).1) == 42205)
        #expect(code(h.call("DELETE", "subjects/s").1) == 42205)
        #expect(code(h.call("GET", "mode/t").1) == 40409)
        #expect(code(h.call("POST", "subjects/t/versions", body(r1, extra: #""id":50"#)).1) == 42205)  // not IMPORT
        #expect(h.call("PUT", "mode/t", #"{"mode":"IMPORT"}"#).0 == 200)
        #expect(int(h.call("POST", "subjects/t/versions", body(r2, extra: #""id":50,"version":4"#)).1, "id") == 50)
        #expect(code(h.call("POST", "subjects/t/versions", body(r3, extra: #""id":50"#)).1) == 42205)  // id taken by another schema
        #expect(h.state.maxId == 50)
    }

    /// Confluent's registry reads a JSON schema without `$schema` as draft 7: `items` as an array
    /// is a tuple there, and so it is here (`schema.registry.json.schema.spec.version`).
    @Test func jsonSchemaWithoutSchemaKeywordIsDraft7() {
        var h = Harness()
        let pair = #"{"type":"array","items":[{"type":"string"},{"type":"integer"}],"additionalItems":false}"#
        let (status, reply) = h.call("POST", "subjects/pairs-value/versions", body(pair, type: "JSON"))
        #expect(status == 200 && int(reply, "id") == 1, "\(String(describing: reply))")
        guard case .json(let doc)? = h.state.schemas[1]?.parsed else {
            Issue.record("the tuple schema did not parse")
            return
        }
        #expect(doc.draft == .draft7)
        #expect(doc.isValid(.array([.string("a"), .number(JSONNumber(Int64(1)))])))
        #expect(!doc.isValid(.array([.number(JSONNumber(Int64(1))), .string("a")])))
        #expect(!doc.isValid(.array([.string("a"), .number(JSONNumber(Int64(1))), .null])))
        // Adding an item to the closed tuple is backward compatible; removing one is not.
        let triple = #"{"type":"array","items":[{"type":"string"},{"type":"integer"},{"type":"boolean"}],"additionalItems":false}"#
        #expect(h.call("POST", "compatibility/subjects/pairs-value/versions/latest", body(triple, type: "JSON")).1?["is_compatible"] == .bool(true))
        let single = #"{"type":"array","items":[{"type":"string"}],"additionalItems":false}"#
        let verdict = h.call("POST", "compatibility/subjects/pairs-value/versions/latest?verbose=true", body(single, type: "JSON")).1
        #expect(verdict?["is_compatible"] == .bool(false))
        #expect(verdict?["messages"]?.arrayValue?.first?.stringValue?.hasPrefix("ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL") == true)
        // `$schema` still decides when present, and another default can be configured.
        let explicit = #"{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"array","items":[{"type":"string"}]}"#
        #expect(code(h.call("POST", "subjects/other/versions", body(explicit, type: "JSON")).1) == 42201)
        var newer = Harness(state: RegistryState(jsonSchemaDefaultDraft: .draft2020_12))
        #expect(code(newer.call("POST", "subjects/pairs-value/versions", body(pair, type: "JSON")).1) == 42201)
        #expect(JSONSchemaDraft(specVersionName: "DRAFT_2020_12") == .draft2020_12)
        #expect(JSONSchemaDraft(specVersionName: "draft7") == nil)
    }

    @Test func compatibilityEndpointsAndJSONSchema() {
        var h = Harness()
        let open = #"{"type":"object","properties":{"a":{"type":"string"}}}"#
        let narrowed = #"{"type":"object","properties":{"a":{"type":"string","maxLength":3}}}"#
        _ = h.call("POST", "subjects/j/versions", body(open, type: "JSON"))
        #expect(h.call("POST", "compatibility/subjects/j/versions/latest", body(narrowed, type: "JSON")).1?["is_compatible"] == .bool(false))
        let verbose = h.call("POST", "compatibility/subjects/j/versions?verbose=true", body(narrowed, type: "JSON")).1
        #expect(verbose?["messages"]?.arrayValue?.isEmpty == false)
        #expect(h.call("POST", "compatibility/subjects/j/versions/1", body(open, type: "JSON")).1?["is_compatible"] == .bool(true))
        #expect(code(h.call("POST", "compatibility/subjects/nope/versions/1", body(open, type: "JSON")).1) == 40401)
        #expect(h.call("POST", "compatibility/subjects/nope/versions/latest", body(open, type: "JSON")).1?["is_compatible"] == .bool(true))
        // An Avro schema after a JSON one is a type change.
        #expect(h.call("POST", "subjects/j/versions", body(#""string""#)).0 == 409)
        #expect(code(h.call("POST", "subjects/j/versions", body("{", type: "JSON")).1) == 42201)
        #expect(code(h.call("POST", "subjects/j/versions", body("syntax = \"proto3\";", type: "PROTOBUF")).1) == 42201)
        #expect(h.call("POST", "subjects/j/versions", "{oops").0 == 400)
        #expect(h.call("POST", "subjects/j/versions", #"{"schema":5}"#).0 == 422)
    }

    @Test func referencesResolveAndBlockDeletes() {
        var h = Harness()
        _ = h.call("POST", "subjects/addr/versions", body(#"{"type":"object","properties":{"city":{"type":"string"}}}"#, type: "JSON"))
        let person = #"{"type":"object","properties":{"home":{"$ref":"addr.json"}}}"#
        let (s, a) = h.call("POST", "subjects/person/versions",
                            body(person, type: "JSON", refs: #"[{"name":"addr.json","subject":"addr","version":1}]"#))
        #expect(s == 200 && int(a, "id") == 2)
        if case .json(let doc)? = h.state.schemas[2]?.parsed {
            #expect(!doc.isValid(JSONParser.parseOrNull(#"{"home":{"city":5}}"#)))
            #expect(doc.isValid(JSONParser.parseOrNull(#"{"home":{"city":"Oslo"}}"#)))
        } else {
            Issue.record("person did not parse")
        }
        #expect(h.call("GET", "subjects/addr/versions/1/referencedby").1 == .array([.number(JSONNumber(Int64(2)))]))
        #expect(code(h.call("DELETE", "subjects/addr").1) == 42206)
        #expect(code(h.call("POST", "subjects/p2/versions",
                            body(person, type: "JSON", refs: #"[{"name":"addr.json","subject":"addr","version":9}]"#)).1) == 42201)
    }

    @Test func authorizationFiltersAndRefuses() {
        var h = Harness()
        _ = h.call("POST", "subjects/team-a.x/versions", body(r1))
        _ = h.call("POST", "subjects/team-b.x/versions", body(r1))
        let teamA: RegistryAuthorizer = { op, res in
            if case .subject(let s) = res { return s.hasPrefix("team-a.") && op != .delete }
            return false
        }
        #expect(h.call("GET", "subjects", authorize: teamA).1 == .array([.string("team-a.x")]))
        #expect(h.call("POST", "subjects/team-b.x/versions", body(r2), authorize: teamA).0 == 403)
        #expect(h.call("DELETE", "subjects/team-a.x", authorize: teamA).0 == 403)
        #expect(h.call("PUT", "config", #"{"compatibility":"NONE"}"#, authorize: teamA).0 == 403)
        #expect(h.call("GET", "schemas/ids/1", authorize: teamA).0 == 200)
        #expect(h.log.count == 2)
    }

    @Test func replayOfTheLogRebuildsTheSameState() {
        var h = Harness()
        _ = h.call("POST", "subjects/a/versions", body(r1))
        _ = h.call("POST", "subjects/a/versions", body(r2))
        _ = h.call("PUT", "config/a", #"{"compatibility":"FULL"}"#)
        _ = h.call("DELETE", "subjects/a/versions/1")
        _ = h.call("PUT", "mode", #"{"mode":"READONLY"}"#)
        var replayed = RegistryState()
        for r in h.log { replayed.apply(r) }
        #expect(replayed.subjects == h.state.subjects && replayed.subjectLevels == h.state.subjectLevels)
        #expect(replayed.globalMode == .readonly && replayed.maxId == h.state.maxId)
        let snap = replayed.snapshot()
        #expect(snap.byId[2]?.liveSubjects == ["a"] && snap.byId[1]?.liveSubjects == [] && snap.byId[1]?.recordName == "R")
    }

    @Test func confluentRecordShapesDecode() {
        // Records as Confluent's registry writes them to _schemas.
        let key = Array(#"{"keytype":"SCHEMA","subject":"orders-value","version":1,"magic":1}"#.utf8)
        let value = Array(#"{"subject":"orders-value","version":1,"id":3,"schema":"\"string\"","deleted":false}"#.utf8)
        #expect(RegistryRecordCodec.decode(key: key, value: value)
            == .schema(SchemaVersionRecord(subject: "orders-value", version: 1, id: 3, schemaType: .avro, schema: #""string""#)))
        #expect(RegistryRecordCodec.decode(key: key, value: nil) == .schemaTombstone(subject: "orders-value", version: 1))
        #expect(RegistryRecordCodec.decode(key: Array(#"{"keytype":"CONFIG","subject":null,"magic":0}"#.utf8),
                                           value: Array(#"{"compatibilityLevel":"FULL"}"#.utf8)) == .config(subject: nil, level: .full))
        #expect(RegistryRecordCodec.decode(key: Array(#"{"keytype":"NOOP","magic":0}"#.utf8), value: nil) == .noop)
        #expect(RegistryRecordCodec.decode(key: Array("garbage".utf8), value: nil) == nil)
        #expect(RegistryRecordCodec.decode(key: Array(#"{"keytype":"SCHEMA","subject":"s","version":1,"magic":1}"#.utf8),
                                           value: Array(#"{"id":1}"#.utf8)) == nil)
    }
}

extension JSONParser {
    static func parseOrNull(_ text: String) -> JSONValue { (try? parse(text)) ?? .null }
}
