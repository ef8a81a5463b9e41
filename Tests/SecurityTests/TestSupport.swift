// Small helpers shared by the Security tests: byte/text conversion, a fixed server secret, and a
// test-side SCRAM client built on the module's primitives (used only where no published vector
// exists: `y` gs2 flag, authzid, wrong passwords).
@testable import Security

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

let testSecret = bytes("fake-salt-secret-for-tests")

/// Computes a client-final message for the given exchange (RFC 5802 §3).
func clientFinal(mechanism: ScramMechanism, password: String, clientFirstBare: String, serverFirst: String,
                 channelBinding: String = "biws") -> String {
    let fields = serverFirst.split(separator: ",")
    let nonce = String(fields[0].dropFirst(2))
    let salt = Base64.decode(String(fields[1].dropFirst(2)))!
    let iterations = Int(fields[2].dropFirst(2))!
    let salted = CredentialStore.hashPassword(mechanism: mechanism, password: password, salt: salt,
                                              iterations: iterations)
    let clientKey = Crypto.hmac(mechanism, key: salted, data: bytes("Client Key"))
    let storedKey = Crypto.digest(mechanism, clientKey)
    let withoutProof = "c=\(channelBinding),r=\(nonce)"
    let authMessage = bytes("\(clientFirstBare),\(serverFirst),\(withoutProof)")
    let signature = Crypto.hmac(mechanism, key: storedKey, data: authMessage)
    let proof = zip(clientKey, signature).map { $0 ^ $1 }
    return "\(withoutProof),p=\(Base64.encode(proof))"
}

/// A store with `user` whose credentials for every mechanism derive from `password`.
func store(_ users: [(String, String)], iterations: Int = 4096) -> CredentialStore {
    var result = CredentialStore()
    for (user, password) in users {
        try! result.setPasswordForAllMechanisms(user: user, password: password, iterations: iterations)
    }
    return result
}
