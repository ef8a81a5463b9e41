// SCRAM server (RFC 5802, RFC 7677). Goal: byte-exact agreement with the published SCRAM-SHA-256
// exchange (RFC 7677 §3) and with SHA-512/SHA-256 exchanges computed independently (Python's
// hashlib.pbkdf2_hmac and hmac, run once, values committed below), then one case per refusal.
// Method: drive the state machine message by message with the server nonce injected.
import Testing
@testable import Security

/// RFC 7677 §3: user "user", password "pencil".
private enum RFC7677 {
    static let clientFirst = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
    static let serverNonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
    static let serverFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
    static let clientFinal =
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
    static let serverFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
    static let salt = "W22ZaJ0SNY7soEsUEjb6gQ=="
    /// StoredKey and ServerKey computed with Python for the same password and salt.
    static let storedKey = "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY="
    static let serverKey = "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="
}

/// An exchange computed with Python (hashlib/hmac), user `k=afka,user` (escaped on the wire),
/// password `p@ss w0rd!`, salt bytes 1...24.
struct ScramVector: Sendable, CustomTestStringConvertible {
    let mechanism: ScramMechanism
    let iterations: Int
    let proof: String
    let serverFinal: String
    let storedKey: String
    let serverKey: String
    var testDescription: String { "\(mechanism.mechanismName) i=\(iterations)" }

    static let clientNonce = "fyko+d2lbbFgONRv9qkxdawL"
    static let serverNonce = "3rfcNHYJY1ZVvWVs7j"
    static let salt = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcY"
    static let user = "k=afka,user"
    static let password = "p@ss w0rd!"
}

let scramVectors: [ScramVector] = [
    ScramVector(
        mechanism: .sha512, iterations: 4096,
        proof: "U1EvmzEjdbXZWi1RhI5Yx8NVv8r0KA/9obUWIQpkbyVb/bOHwgnS9rdztk6gSECxtq6QVL09D053vAZMI+dh8A==",
        serverFinal: "v=PEHK/Z2llrcFPq2WEXvJxxwTzljLtrFscyjhJR01Ur3alnRWr8kmsJsXopCTE+ppYC/wCbgEFkLj2Qp2s4R1Hg==",
        storedKey: "dGkVClKZaLAueRCdeX/9CXZpjqjolytOgwubHOFr/0VeP2VsYnoYKYZOiXtnrM0ImaFzJwR0VKKNS03PQXcR0g==",
        serverKey: "rYhpqkxOsMjCDesKp0trUtHnOJl1G4SeUYEFYUNJzcnicln74aICjKyc7w0z7wkthyjcVJK9kNfA88nXMdBfcg=="),
    ScramVector(
        mechanism: .sha256, iterations: 8192,
        proof: "fiCBLOVCFhAmFEpp7zzRdkdjCaI+y5+LOIe2ZKQIOHA=",
        serverFinal: "v=pXtKxaa/qb43Xlk/a2yzChZhcJAtN0ONXtaYIvaKGG0=",
        storedKey: "uVJnlrLPMg9IZBGhk7l8yiST9xik7ray3Cix2MEWcUw=",
        serverKey: "NiXPgGSSzw6aScKD5w2mOPvtL8GjuhxHrjGR1wOwCbI="),
]

private func rfcStore() throws -> CredentialStore {
    var store = CredentialStore()
    let salt = Base64.decode(RFC7677.salt)!
    let salted = CredentialStore.hashPassword(mechanism: .sha256, password: "pencil", salt: salt, iterations: 4096)
    try store.upsert(user: "user", mechanism: .sha256, iterations: 4096, salt: salt, saltedPassword: salted)
    return store
}

@Suite struct ScramTests {
    @Test func rfc7677ExchangeByteForByte() throws {
        let store = try rfcStore()
        let credential = try #require(store.credential(user: "user", mechanism: .sha256))
        #expect(Base64.encode(credential.storedKey) == RFC7677.storedKey)
        #expect(Base64.encode(credential.serverKey) == RFC7677.serverKey)
        var server = ScramServer(mechanism: .sha256, credentials: store, fakeSaltSecret: testSecret,
                                 nonceSuffix: RFC7677.serverNonce)
        #expect(server.step(bytes(RFC7677.clientFirst)) == .challenge(bytes(RFC7677.serverFirst)))
        #expect(server.step(bytes(RFC7677.clientFinal))
                == .success(principal: "user", finalMessage: bytes(RFC7677.serverFinal)))
        // The exchange is over.
        guard case .failure(let failure) = server.step(bytes(RFC7677.clientFinal)) else {
            Issue.record("a third message must fail")
            return
        }
        #expect(failure.kind == .protocolViolation)
    }

    @Test(arguments: scramVectors)
    func independentVectors(_ vector: ScramVector) throws {
        var store = CredentialStore()
        let salt = Base64.decode(ScramVector.salt)!
        let salted = CredentialStore.hashPassword(mechanism: vector.mechanism, password: ScramVector.password,
                                                  salt: salt, iterations: vector.iterations)
        try store.upsert(user: ScramVector.user, mechanism: vector.mechanism, iterations: vector.iterations,
                         salt: salt, saltedPassword: salted)
        let credential = try #require(store.credential(user: ScramVector.user, mechanism: vector.mechanism))
        #expect(Base64.encode(credential.storedKey) == vector.storedKey)
        #expect(Base64.encode(credential.serverKey) == vector.serverKey)
        var server = ScramServer(mechanism: vector.mechanism, credentials: store, fakeSaltSecret: testSecret,
                                 nonceSuffix: ScramVector.serverNonce)
        let nonce = ScramVector.clientNonce + ScramVector.serverNonce
        #expect(server.step(bytes("n,,n=k=3Dafka=2Cuser,r=\(ScramVector.clientNonce)"))
                == .challenge(bytes("r=\(nonce),s=\(ScramVector.salt),i=\(vector.iterations)")))
        #expect(server.step(bytes("c=biws,r=\(nonce),p=\(vector.proof)"))
                == .success(principal: ScramVector.user, finalMessage: bytes(vector.serverFinal)))
    }

    /// Runs a full exchange with the test client; returns the final step.
    private func exchange(store: CredentialStore, mechanism: ScramMechanism = .sha256, user: String,
                          password: String, gs2: String = "n,,", binding: String = "biws") -> (SaslStep, SaslStep) {
        var server = ScramServer(mechanism: mechanism, credentials: store, fakeSaltSecret: testSecret)
        let bare = "n=\(ScramServer.encodeSaslName(user)),r=clientnonce123"
        let first = server.step(bytes(gs2 + bare))
        guard case .challenge(let serverFirst) = first else { return (first, first) }
        let final = clientFinal(mechanism: mechanism, password: password, clientFirstBare: bare,
                                serverFirst: text(serverFirst), channelBinding: binding)
        return (first, server.step(bytes(final)))
    }

    @Test(arguments: ScramMechanism.allCases)
    func randomNonceRoundTrip(_ mechanism: ScramMechanism) {
        let credentials = store([("alice", "alice-secret")])
        let (first, final) = exchange(store: credentials, mechanism: mechanism, user: "alice", password: "alice-secret")
        guard case .challenge(let serverFirst) = first else {
            Issue.record("expected a challenge")
            return
        }
        // Our nonce part comes from RAND_bytes: 24 bytes, Base64 → 32 characters after the client's.
        let nonce = text(serverFirst).split(separator: ",")[0].dropFirst(2)
        #expect(nonce.hasPrefix("clientnonce123") && nonce.count == "clientnonce123".count + 32)
        guard case .success(let principal, let message) = final else {
            Issue.record("expected success, got \(final)")
            return
        }
        #expect(principal == "alice")
        #expect(message.map(text)?.hasPrefix("v=") == true)
    }

    @Test func yFlagAcceptedWithMatchingBinding() {
        let credentials = store([("alice", "pw")])
        let (_, final) = exchange(store: credentials, user: "alice", password: "pw", gs2: "y,,", binding: "eSws")
        guard case .success = final else {
            Issue.record("y,, must be accepted, got \(final)")
            return
        }
        let (_, mismatch) = exchange(store: credentials, user: "alice", password: "pw", gs2: "y,,", binding: "biws")
        #expect(mismatch == .failure(SaslFailure(kind: .malformed, message: "Channel binding does not match",
                                                 serverFinal: bytes("e=channel-bindings-dont-match"))))
    }

    @Test func authzidEqualToUserAccepted() {
        let credentials = store([("alice", "pw")])
        // c= is Base64 of "n,a=alice,".
        let (_, final) = exchange(store: credentials, user: "alice", password: "pw", gs2: "n,a=alice,",
                                  binding: Base64.encode(bytes("n,a=alice,")))
        guard case .success(let principal, _) = final else {
            Issue.record("expected success, got \(final)")
            return
        }
        #expect(principal == "alice")
    }

    @Test func wrongPasswordAndUnknownUserLookAlike() {
        let credentials = store([("alice", "right")])
        let (_, wrong) = exchange(store: credentials, user: "alice", password: "wrong")
        let (unknownFirst, unknown) = exchange(store: credentials, user: "mallory", password: "wrong")
        #expect(wrong == .failure(ScramServer.invalidProof))
        #expect(unknown == wrong)
        #expect(text(ScramServer.invalidProof.serverFinal!) == "e=invalid-proof")
        // The unknown user gets a stable salt of the real length and the default iteration count.
        guard case .challenge(let serverFirst) = unknownFirst else {
            Issue.record("unknown user must get a challenge")
            return
        }
        let fields = text(serverFirst).split(separator: ",")
        #expect(Base64.decode(String(fields[1].dropFirst(2)))?.count == CredentialStore.saltLength)
        #expect(fields[2] == "i=4096")
        let (again, _) = exchange(store: credentials, user: "mallory", password: "x")
        guard case .challenge(let secondFirst) = again else { return }
        #expect(text(secondFirst).split(separator: ",")[1] == fields[1])
    }

    struct Refusal: Sendable, CustomTestStringConvertible {
        let name: String
        let first: String
        let error: String
        var testDescription: String { name }
    }

    static let firstMessageRefusals: [Refusal] = [
        Refusal(name: "channel binding requested", first: "p=tls-unique,,n=user,r=abc",
                error: "e=channel-binding-not-supported"),
        Refusal(name: "bad gs2 flag", first: "x,,n=user,r=abc", error: "e=invalid-encoding"),
        Refusal(name: "missing gs2 comma", first: "n,n=user,r=abc", error: "e=invalid-encoding"),
        Refusal(name: "mandatory extension", first: "n,,m=ext,n=user,r=abc", error: "e=extensions-not-supported"),
        Refusal(name: "bad escape", first: "n,,n=us=41er,r=abc", error: "e=invalid-username-encoding"),
        Refusal(name: "empty user", first: "n,,n=,r=abc", error: "e=invalid-username-encoding"),
        Refusal(name: "missing nonce", first: "n,,n=user", error: "e=invalid-encoding"),
        Refusal(name: "empty nonce", first: "n,,n=user,r=", error: "e=invalid-encoding"),
        Refusal(name: "tokenauth", first: "n,,n=user,r=abc,tokenauth=true", error: "e=extensions-not-supported"),
        Refusal(name: "authzid differs", first: "n,a=bob,n=user,r=abc", error: "e=other-error"),
        Refusal(name: "empty", first: "", error: "e=invalid-encoding"),
    ]

    @Test(arguments: firstMessageRefusals)
    func clientFirstRefusals(_ refusal: Refusal) {
        var server = ScramServer(mechanism: .sha256, credentials: store([("user", "pw")]), fakeSaltSecret: testSecret)
        guard case .failure(let failure) = server.step(bytes(refusal.first)) else {
            Issue.record("expected failure")
            return
        }
        #expect(failure.serverFinal.map(text) == refusal.error)
    }

    @Test func unknownExtensionsIgnoredAndBadUTF8Refused() {
        var server = ScramServer(mechanism: .sha256, credentials: store([("user", "pw")]), fakeSaltSecret: testSecret)
        guard case .challenge = server.step(bytes("n,,n=user,r=abc,tokenauth=false,foo=bar")) else {
            Issue.record("unknown extensions must be ignored")
            return
        }
        var other = ScramServer(mechanism: .sha256, credentials: store([("user", "pw")]), fakeSaltSecret: testSecret)
        guard case .failure(let failure) = other.step([0x6E, 0x2C, 0x2C, 0x6E, 0x3D, 0xFF, 0x2C, 0x72, 0x3D, 0x61]) else {
            Issue.record("bad UTF-8 must fail")
            return
        }
        #expect(failure.serverFinal.map(text) == "e=invalid-encoding")
    }

    @Test func clientFinalRefusals() throws {
        let store = try rfcStore()
        func run(_ final: String) -> SaslStep {
            var server = ScramServer(mechanism: .sha256, credentials: store, fakeSaltSecret: testSecret,
                                     nonceSuffix: RFC7677.serverNonce)
            _ = server.step(bytes(RFC7677.clientFirst))
            return server.step(bytes(final))
        }
        let nonce = "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
        let proof = "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        func error(_ step: SaslStep) -> String? {
            if case .failure(let failure) = step { return failure.serverFinal.map(text) }
            return nil
        }
        #expect(error(run("c=eSws,r=\(nonce),p=\(proof)")) == "e=channel-bindings-dont-match")
        #expect(error(run("c=biws,r=\(nonce)X,p=\(proof)")) == "e=other-error")
        #expect(error(run("c=biws,r=\(nonce),p=AAAA")) == "e=invalid-proof")
        #expect(error(run("c=biws,r=\(nonce),p=!!!!")) == "e=invalid-encoding")
        #expect(error(run("c=biws,r=\(nonce)")) == "e=invalid-encoding")
        #expect(error(run("r=\(nonce),c=biws,p=\(proof)")) == "e=invalid-encoding")
        // A flipped proof bit is an invalid proof, not a crash or a different error.
        var flipped = Base64.decode(proof)!
        flipped[0] ^= 1
        #expect(error(run("c=biws,r=\(nonce),p=\(Base64.encode(flipped))")) == "e=invalid-proof")
        #expect(error(run(String(repeating: "a", count: ScramServer.maxMessageBytes + 1))) == "e=invalid-encoding")
    }

    @Test func saslNameEscaping() {
        #expect(ScramServer.decodeSaslName("a=2Cb=3Dc") == "a,b=c")
        #expect(ScramServer.decodeSaslName("a=2") == nil)
        #expect(ScramServer.decodeSaslName("a,b") == nil)
        #expect(ScramServer.encodeSaslName("a,b=c") == "a=2Cb=3Dc")
    }
}
