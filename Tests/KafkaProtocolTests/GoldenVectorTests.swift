// Goal: the generated codecs reproduce, byte for byte, frames real clients sent (and our broker
// answered), for every (API, version, direction) captured.
// Method: `scripts/capture-golden.py` records frames from confluent-kafka (librdkafka 2.12),
// kafka-python, kcat (Debian's librdkafka 2.0.2) and Debian's sarama 1.22 (JoinGroup v1,
// OffsetCommit v1, ListOffsets v0, which Kafka 4 dropped) through a proxy into `Golden/*.hex`. Each
// file is decoded (header by the flexible-version rule, then the body with the generated type),
// must be consumed completely, and must re-encode to the identical bytes.
import Foundation
import Testing
import KafkaProtocol

/// One captured frame (the bytes after the 4-byte size) and what the file name says it is.
struct GoldenVector: Sendable, CustomTestStringConvertible {
    let fileName: String
    let apiKey: Int16
    let version: Int16
    let isRequest: Bool
    let client: String
    let frame: [UInt8]

    var testDescription: String { fileName }

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    /// Snake-case API name (as the capture script writes it) to API key, from the generated types.
    static let apiKeysByName: [String: Int16] = {
        var names = [String: Int16]()
        for key in GeneratedMessages.requestApiKeys {
            guard let type = GeneratedMessages.requestType(apiKey: key) else { continue }
            names[snakeCase(String("\(type)".dropLast("Request".count)))] = key
        }
        return names
    }()

    static func snakeCase(_ name: String) -> String {
        var out = ""
        for (i, c) in name.enumerated() {
            if c.isUppercase && i > 0 { out.append("_") }
            out.append(contentsOf: c.lowercased())
        }
        return out
    }

    /// Every vector on disk; unreadable or misnamed files become vectors that fail, not silence.
    static let all: [GoldenVector] = {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return files.filter { $0.hasSuffix(".hex") }.sorted().map(load)
    }()

    static func load(_ fileName: String) -> GoldenVector {
        // <api>_<request|response>_v<N>_<client>_<k>.hex; the API name itself has underscores.
        let parts = fileName.dropLast(".hex".count).split(separator: "_").map(String.init)
        var apiKey: Int16 = -1
        var version: Int16 = -1
        var isRequest = true
        var client = ""
        if let d = parts.lastIndex(where: { $0 == "request" || $0 == "response" }), d + 1 < parts.count,
           parts[d + 1].hasPrefix("v"), let v = Int16(parts[d + 1].dropFirst()),
           let key = apiKeysByName[parts[..<d].joined(separator: "_")] {
            apiKey = key
            version = v
            isRequest = parts[d] == "request"
            if d + 2 < parts.count { client = parts[d + 2] }
        }
        let text = (try? String(contentsOf: directory.appendingPathComponent(fileName), encoding: .utf8)) ?? ""
        return GoldenVector(fileName: fileName, apiKey: apiKey, version: version, isRequest: isRequest,
                            client: client, frame: hexBytes(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? [])
    }

    static func hexBytes(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(digits.count / 2)
        for i in stride(from: 0, to: digits.count, by: 2) {
            guard let b = UInt8(String(decoding: digits[i...(i + 1)], as: UTF8.self), radix: 16) else { return nil }
            out.append(b)
        }
        return out
    }
}

/// Client bugs seen in captured frames, so the test accepts exactly these and nothing else.
enum GoldenQuirk {
    /// librdkafka 2.12.1 (confluent-kafka) sends its all-topics Metadata v10+ request with the
    /// topic array count as four zero bytes (int32-sized) instead of the one-byte compact null.
    /// A spec reader sees topics = null, AllowAutoTopicCreation = false, no tags, and then 3 bytes
    /// (`01 00 00`: the intended AllowAutoTopicCreation = true, IncludeTopicAuthorizedOperations,
    /// tags). Kafka's reader ignores trailing bytes too, so such clients get no auto-creation here.
    static func allowedTrailingBytes(_ vector: GoldenVector, body: any KafkaAPIMessage) -> Int {
        if vector.client == "librdkafka", vector.isRequest, vector.apiKey == ApiKey.metadata.rawValue,
           vector.version >= 10, let request = body as? MetadataRequest, request.topics == nil {
            return 3
        }
        return 0
    }
}

@Suite struct GoldenVectorTests {
    @Test func vectorsArePresent() {
        #expect(GoldenVector.all.count >= 50, "run scripts/capture-golden.py")
    }

    @Test(arguments: GoldenVector.all)
    func decodeThenEncodeIsIdentity(_ vector: GoldenVector) throws {
        try #require(vector.apiKey >= 0, "file name does not name a generated API and version")
        try #require(!vector.frame.isEmpty, "no hex bytes in the file")
        let type = try #require(vector.isRequest ? GeneratedMessages.requestType(apiKey: vector.apiKey)
                                                 : GeneratedMessages.responseType(apiKey: vector.apiKey))
        #expect(type.specVersions.contains(vector.version))
        let flexible = type.flexibleFrom.map { vector.version >= $0 } ?? false
        var reader = WireReader(vector.frame)
        var writer = WireWriter()
        if vector.isRequest {
            let header = try RequestHeader(from: &reader, version: flexible ? 2 : 1)
            #expect(header.requestApiKey == vector.apiKey)
            #expect(header.requestApiVersion == vector.version)
            header.encode(to: &writer, version: flexible ? 2 : 1)
        } else {
            // ApiVersions answers keep header v0 even when flexible, so old clients can read them.
            let headerVersion: Int16 = flexible && vector.apiKey != ApiKey.apiVersions.rawValue ? 1 : 0
            let header = try ResponseHeader(from: &reader, version: headerVersion)
            header.encode(to: &writer, version: headerVersion)
        }
        let body = try type.init(from: &reader, version: vector.version)
        let trailing = GoldenQuirk.allowedTrailingBytes(vector, body: body)
        #expect(reader.remaining == trailing, "\(reader.remaining) bytes left after the body")
        body.encode(to: &writer, version: vector.version)
        #expect(writer.bytes == Array(vector.frame.dropLast(trailing)), "re-encoded bytes differ at \(firstDifference(writer.bytes, vector.frame))")
    }

    func firstDifference(_ a: [UInt8], _ b: [UInt8]) -> String {
        let i = (0..<min(a.count, b.count)).first { a[$0] != b[$0] } ?? min(a.count, b.count)
        return "byte \(i) (lengths \(a.count) and \(b.count))"
    }
}
