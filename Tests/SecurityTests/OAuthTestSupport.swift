// Test-side JWT minting: keys generated through the module's OpenSSL wrappers at test time, tokens
// built by hand (header and claims JSON, base64url, signature), so every vector is fresh and
// nothing is copied from elsewhere.
import Foundation
@testable import Security

struct TestSigner {
    let key: AsymmetricKey
    let keyId: String?
    let algorithm: JwsAlgorithm

    static let rsa = TestSigner(key: AsymmetricKey.generateRSA(bits: 2048), keyId: "rsa-1", algorithm: .rs256)
    static let ec = TestSigner(key: AsymmetricKey.generateEC(.p256), keyId: "ec-1", algorithm: .es256)
    static let ec384 = TestSigner(key: AsymmetricKey.generateEC(.p384), keyId: "ec-384", algorithm: .es384)
    /// Not in the key set.
    static let stranger = TestSigner(key: AsymmetricKey.generateRSA(bits: 2048), keyId: "rsa-1", algorithm: .rs256)

    func with(algorithm: JwsAlgorithm) -> TestSigner { TestSigner(key: key, keyId: keyId, algorithm: algorithm) }

    var jwk: JsonWebKey { JsonWebKey(keyId: keyId, algorithm: nil, use: "sig", key: key) }

    /// A compact JWS over `claims` (JSON text) with header `alg`/`kid` (or `header` verbatim).
    func token(_ claims: String, header: String? = nil) -> String {
        let headerText = header ?? "{\"alg\":\"\(algorithm.rawValue)\",\"typ\":\"JWT\"" + (keyId.map { ",\"kid\":\"\($0)\"" } ?? "") + "}"
        let input = Base64URL.encode(headerText) + "." + Base64URL.encode(claims)
        let signature = try! key.sign(algorithm.scheme, message: Array(input.utf8))
        return input + "." + Base64URL.encode(signature)
    }
}

let nowSeconds: Int64 = 1_800_000_000
let nowMs = nowSeconds * 1000

func claims(sub: String = "alice", exp: Int64? = nowSeconds + 600, nbf: Int64? = nil, iat: Int64? = nowSeconds - 10,
            iss: String? = "https://idp.test", aud: String? = "\"sluice\"", extra: String = "") -> String {
    var members: [String] = ["\"sub\":\"\(sub)\""]
    if let exp { members.append("\"exp\":\(exp)") }
    if let nbf { members.append("\"nbf\":\(nbf)") }
    if let iat { members.append("\"iat\":\(iat)") }
    if let iss { members.append("\"iss\":\"\(iss)\"") }
    if let aud { members.append("\"aud\":\(aud)") }
    if !extra.isEmpty { members.append(extra) }
    return "{" + members.joined(separator: ",") + "}"
}

func temporaryDirectory() -> String {
    let path = NSTemporaryDirectory() + "sluice-sec-" + UUID().uuidString
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func removeDirectory(_ path: String) { try? FileManager.default.removeItem(atPath: path) }

func writeText(_ path: String, _ text: String) {
    _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
}

func readText(_ path: String) -> String {
    (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
}
