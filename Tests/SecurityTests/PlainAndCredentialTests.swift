// PLAIN (RFC 4616) against salted credentials, and the credential store: iteration bounds,
// AlterUserScramCredentials semantics, the file format round trip and its refusals.
// Method: message bytes built by hand; files written to a fresh temporary directory.
import Glibc
import Testing
@testable import Security

private func plain(_ parts: [[UInt8]]) -> [UInt8] {
    var out: [UInt8] = []
    for (index, part) in parts.enumerated() {
        if index > 0 { out.append(0) }
        out += part
    }
    return out
}

@Suite struct PlainTests {
    let credentials = store([("alice", "alice-pw"), ("bob", "bob-pw")])

    private func run(_ message: [UInt8]) -> SaslStep {
        var server = PlainServer(credentials: credentials, fakeSaltSecret: testSecret)
        return server.step(message)
    }

    private func kind(_ step: SaslStep) -> SaslFailure.Kind? {
        if case .failure(let failure) = step { return failure.kind }
        return nil
    }

    @Test func successWithAndWithoutAuthzid() {
        #expect(run(plain([[], bytes("alice"), bytes("alice-pw")])) == .success(principal: "alice", finalMessage: nil))
        #expect(run(plain([bytes("alice"), bytes("alice"), bytes("alice-pw")]))
                == .success(principal: "alice", finalMessage: nil))
    }

    @Test func authzidMismatchRefused() {
        #expect(kind(run(plain([bytes("bob"), bytes("alice"), bytes("alice-pw")]))) == .unsupported)
    }

    @Test func wrongPasswordAndUnknownUserLookAlike() {
        let wrong = run(plain([[], bytes("alice"), bytes("nope")]))
        let unknown = run(plain([[], bytes("mallory"), bytes("nope")]))
        #expect(wrong == .failure(PlainServer.authenticationFailed))
        #expect(unknown == wrong)
        // Another user's password does not work either.
        #expect(run(plain([[], bytes("alice"), bytes("bob-pw")])) == wrong)
    }

    @Test func malformedMessagesRefused() {
        #expect(kind(run(plain([[], bytes("alice"), []]))) == .malformed)  // empty password
        #expect(kind(run(plain([[], [], bytes("pw")]))) == .malformed)  // empty authcid
        #expect(kind(run(bytes("alice"))) == .malformed)  // no NUL
        #expect(kind(run(plain([bytes("alice"), bytes("alice-pw")]))) == .malformed)  // one NUL
        #expect(kind(run(plain([[], bytes("alice"), bytes("alice-pw"), bytes("x")]))) == .malformed)  // three NULs
        #expect(kind(run(plain([[], [0x61, 0xFF], bytes("pw")]))) == .malformed)  // bad UTF-8
        #expect(kind(run(plain([[], bytes("alice"), [0xC3, 0x28]]))) == .malformed)  // bad UTF-8 password
        let long = [UInt8](repeating: 0x61, count: 256)
        #expect(kind(run(plain([[], long, bytes("pw")]))) == .malformed)  // field over 255
        #expect(kind(run([UInt8](repeating: 0x61, count: 10_000))) == .malformed)  // bounded length
    }

    @Test func secondMessageIsAProtocolViolation() {
        var server = PlainServer(credentials: credentials, fakeSaltSecret: testSecret)
        _ = server.step(plain([[], bytes("alice"), bytes("alice-pw")]))
        #expect(kind(server.step(plain([[], bytes("alice"), bytes("alice-pw")]))) == .protocolViolation)
    }

    @Test func plainUsesSha512WhenOnlyThatExists() throws {
        var only512 = CredentialStore()
        try only512.setPassword(user: "carol", mechanism: .sha512, password: "pw512")
        var server = PlainServer(credentials: only512, fakeSaltSecret: testSecret)
        #expect(server.step(plain([[], bytes("carol"), bytes("pw512")])) == .success(principal: "carol", finalMessage: nil))
    }
}

@Suite struct CredentialStoreTests {
    @Test func iterationsBelow4096RefusedAtStoreTime() {
        var store = CredentialStore()
        #expect(throws: CredentialError.iterationsOutOfRange(4095)) {
            try store.setPassword(user: "a", mechanism: .sha256, password: "pw", iterations: 4095)
        }
        #expect(throws: CredentialError.iterationsOutOfRange(1)) {
            try store.upsert(user: "a", mechanism: .sha256, iterations: 1, salt: [1], saltedPassword: [1])
        }
        #expect(throws: CredentialError.iterationsOutOfRange(16385)) {
            try store.upsert(user: "a", mechanism: .sha256, iterations: 16385, salt: [1], saltedPassword: [1])
        }
        #expect(store.userNames.isEmpty)
    }

    @Test func noPlaintextAndKeysMatchPBKDF2() throws {
        var store = CredentialStore()
        try store.setPassword(user: "alice", mechanism: .sha256, password: "pencil")
        let credential = try #require(store.credential(user: "alice", mechanism: .sha256))
        let serialized = text(store.serialized())
        #expect(!serialized.contains("pencil"))
        let salted = CredentialStore.hashPassword(mechanism: .sha256, password: "pencil", salt: credential.salt,
                                                  iterations: credential.iterations)
        #expect(CredentialStore.credential(mechanism: .sha256, saltedPassword: salted, salt: credential.salt,
                                           iterations: credential.iterations) == credential)
        #expect(credential.salt.count == CredentialStore.saltLength)
    }

    @Test func alterSemantics() throws {
        var store = store([("alice", "pw"), ("bob", "pw")])
        let results = store.alter(
            deletions: [
                .init(user: "alice", mechanismType: 2),
                .init(user: "carol", mechanismType: 1),
                .init(user: "dave", mechanismType: 1),
                .init(user: "erin", mechanismType: 0),
            ],
            upsertions: [
                .init(user: "dave", mechanismType: 1, iterations: 4096, salt: [1, 2], saltedPassword: [3, 4]),
                .init(user: "frank", mechanismType: 1, iterations: 8192, salt: [1, 2], saltedPassword: [3, 4]),
                .init(user: "gina", mechanismType: 2, iterations: 100, salt: [1, 2], saltedPassword: [3, 4]),
                .init(user: "hank", mechanismType: 1, iterations: 4096, salt: [], saltedPassword: [3, 4]),
            ])
        let byUser = Dictionary(uniqueKeysWithValues: results.map { ($0.user, $0.error?.kafkaErrorCode ?? 0) })
        #expect(byUser == ["alice": 0, "carol": 91, "dave": 92, "erin": 33, "frank": 0, "gina": 93, "hank": 93])
        #expect(results.map(\.user) == ["alice", "carol", "dave", "erin", "frank", "gina", "hank"])
        #expect(store.describe(user: "alice")?.map(\.mechanism) == [.sha256])
        #expect(store.describe(user: "frank")?.map(\.iterations) == [8192])
        #expect(store.describe(user: "dave") == nil)
        #expect(store.describe(user: "gina") == nil)
        try store.delete(user: "alice", mechanism: .sha256)
        #expect(store.describe(user: "alice") == nil)
        let deletedFirst = store.deleteUser("bob")
        let deletedAgain = store.deleteUser("bob")
        #expect(deletedFirst && !deletedAgain)
        #expect(store.userNames == ["frank"])
    }

    @Test func fileRoundTrip() throws {
        let directory = temporaryDirectory()
        defer { removeDirectory(directory) }
        #expect(try CredentialStore.load(dataDirectory: directory) == CredentialStore())
        var original = store([("alice", "a"), ("CN=svc, O=acme %", "b")])
        try original.setPassword(user: "zed", mechanism: .sha512, password: "z", iterations: 10000)
        try original.save(dataDirectory: directory)
        let loaded = try CredentialStore.load(dataDirectory: directory)
        #expect(loaded == original)
        #expect(loaded.verifyPassword(user: "CN=svc, O=acme %", password: "b", fakeSaltSecret: testSecret))
        #expect(!loaded.verifyPassword(user: "CN=svc, O=acme %", password: "a", fakeSaltSecret: testSecret))
        // Temp file gone, mode 0600.
        var info = stat()
        #expect(stat(directory + "/" + CredentialStore.fileName + ".tmp", &info) != 0)
        #expect(stat(directory + "/" + CredentialStore.fileName, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
    }

    @Test func fileRefusals() {
        func line(_ body: String) -> Int? {
            if case .failure(let error) = CredentialStore.parse(bytes("# sluice scram credentials v1\n" + body)) {
                return error.line
            }
            return nil
        }
        let key32 = Base64.encode([UInt8](repeating: 7, count: 32))
        #expect(line("alice SCRAM-SHA-256 4096 AQI= \(key32) \(key32)\n") == nil)
        #expect(line("alice SCRAM-SHA-256 4096 AQI= \(key32)\n") == 2)  // field count
        #expect(line("alice SCRAM-SHA-1 4096 AQI= \(key32) \(key32)\n") == 2)  // mechanism
        #expect(line("alice SCRAM-SHA-256 1000 AQI= \(key32) \(key32)\n") == 2)  // iterations
        #expect(line("\nalice SCRAM-SHA-512 4096 AQI= \(key32) \(key32)\n") == 3)  // key length
        #expect(line("alice SCRAM-SHA-256 4096 AQI \(key32) \(key32)\n") == 2)  // Base64
        #expect(line("al%ZZ SCRAM-SHA-256 4096 AQI= \(key32) \(key32)\n") == 2)  // percent escape
        let dup = "alice SCRAM-SHA-256 4096 AQI= \(key32) \(key32)\n"
        #expect(line(dup + dup) == 3)  // duplicate
    }

    @Test func base64IsStrict() {
        #expect(Base64.encode(bytes("pencil")) == "cGVuY2ls")
        #expect(Base64.encode(bytes("pe")) == "cGU=")
        #expect(Base64.decode("cGU=") == bytes("pe"))
        #expect(Base64.decode("cGV=") == nil)  // non-zero padding bits
        #expect(Base64.decode("cGU") == nil)
        #expect(Base64.decode("c GU=") == nil)
        #expect(Base64.decode("") == [])
    }
}
