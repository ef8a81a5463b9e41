import Foundation
import HTTPServer
import SchemaRegistry

/// `sluice schemas register|list|get|check|delete` against the registry's REST API
/// (`--registry URL`, default http://127.0.0.1:8081; `--user name:password` for Basic auth).
enum Schemas {
    static func run(_ sub: String, _ o: Options) throws {
        let base = (o.string("registry") ?? "http://127.0.0.1:8081").trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        switch sub {
        case "register":
            let subject = try o.required("subject")
            let q = o.has("normalize") ? "?normalize=true" : ""
            print(try call(o, "POST", base + "/subjects/\(escape(subject))/versions" + q, body: try submission(o)))
        case "list":
            var q: [String] = []
            if let p = o.string("prefix") { q.append("subjectPrefix=\(escape(p))") }
            if o.has("deleted") { q.append("deleted=true") }
            let text = try call(o, "GET", base + "/subjects" + (q.isEmpty ? "" : "?" + q.joined(separator: "&")))
            for s in (try? JSONParser.parse(text))?.arrayValue ?? [] { print(s.stringValue ?? s.serialized()) }
        case "get":
            if let id = o.string("id") {
                print(try call(o, "GET", base + "/schemas/ids/\(escape(id))"))
            } else {
                let subject = try o.required("subject")
                let version = o.string("version") ?? "latest"
                print(try call(o, "GET", base + "/subjects/\(escape(subject))/versions/\(escape(version))"))
            }
        case "check":
            let subject = try o.required("subject")
            let path = o.string("version").map { "/versions/\(escape($0))" } ?? "/versions"
            let text = try call(o, "POST", base + "/compatibility/subjects/\(escape(subject))" + path + "?verbose=true",
                                body: try submission(o))
            print(text)
            if (try? JSONParser.parse(text))?["is_compatible"] == .bool(false) { exit(3) }
        case "delete":
            let subject = try o.required("subject")
            let q = o.has("permanent") ? "?permanent=true" : ""
            let path = o.string("version").map { "/subjects/\(escape(subject))/versions/\(escape($0))" }
                ?? "/subjects/\(escape(subject))"
            print(try call(o, "DELETE", base + path + q))
        default:
            throw CLIError("unknown schemas subcommand '\(sub)' (register|list|get|check|delete)")
        }
    }

    static func escape(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? s
    }

    /// The request body from `--schema TEXT` or `--schema-file F`, `--type` and `--reference name=subject:version`.
    static func submission(_ o: Options) throws -> [UInt8] {
        let text: String
        if let inline = o.string("schema") {
            text = inline
        } else if let file = o.string("schema-file") {
            guard let t = try? String(contentsOfFile: file, encoding: .utf8) else { throw CLIError("cannot read \(file)") }
            text = t
        } else {
            throw CLIError("missing --schema TEXT or --schema-file FILE")
        }
        var body = JSONObject([("schema", .string(text)), ("schemaType", .string((o.string("type") ?? "AVRO").uppercased()))])
        var refs: [JSONValue] = []
        for r in o.all("reference") {
            let parts = r.split(separator: "=", maxSplits: 1)
            let target = parts.count == 2 ? parts[1].split(separator: ":") : []
            guard target.count == 2, let version = Int64(target[1]) else {
                throw CLIError("--reference expects name=subject:version, got '\(r)'")
            }
            refs.append(.object(JSONObject([("name", .string(String(parts[0]))), ("subject", .string(String(target[0]))),
                                            ("version", .number(JSONNumber(version)))])))
        }
        if !refs.isEmpty { body["references"] = .array(refs) }
        return Array(JSONValue.object(body).serialized().utf8)
    }

    /// Sends a request; the response body on 2xx, else an error with the registry's message.
    static func call(_ o: Options, _ method: String, _ url: String, body: [UInt8]? = nil) throws -> String {
        var headers: [(String, String)] = [("Accept", RegistryAPI.responseContentType)]
        if body != nil { headers.append(("Content-Type", RegistryAPI.responseContentType)) }
        if let user = o.string("user") {
            headers.append(("Authorization", "Basic " + Data(user.utf8).base64EncodedString()))
        }
        let reply = try HTTPClient.send(method, url: url, headers: headers, body: body)
        guard (200..<300).contains(reply.status) else {
            let json = try? JSONParser.parse(reply.text)
            let code = json?["error_code"]?.serialized() ?? "-"
            let message = json?["message"]?.stringValue ?? reply.text
            throw CLIError("registry answered \(reply.status) (error_code \(code)): \(message)")
        }
        return reply.text
    }
}
