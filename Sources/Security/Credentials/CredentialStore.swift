// The SCRAM credential store (KIP-84, KIP-554): per user and per hash function, only the salt,
// the iteration count, StoredKey and ServerKey (RFC 5802 §3) — never a password. PLAIN verifies a
// password by re-deriving StoredKey from these (see `verifyPassword`).

/// One SCRAM credential: what RFC 5802 §3 calls the server's stored authentication information.
public struct ScramCredential: Equatable, Sendable {
    public var salt: [UInt8]
    public var storedKey: [UInt8]
    public var serverKey: [UInt8]
    public var iterations: Int

    public init(salt: [UInt8], storedKey: [UInt8], serverKey: [UInt8], iterations: Int) {
        self.salt = salt
        self.storedKey = storedKey
        self.serverKey = serverKey
        self.iterations = iterations
    }
}

/// Why a credential change was refused. `kafkaErrorCode` is the code the
/// AlterUserScramCredentials handler answers with.
public enum CredentialError: Error, Equatable, Sendable {
    /// Fewer than `CredentialStore.minIterations` or more than `maxIterations` iterations.
    case iterationsOutOfRange(Int)
    /// Empty user name, empty salt or empty salted password.
    case unacceptable(String)
    /// Kafka's UNKNOWN (0) or any mechanism we do not know.
    case unsupportedMechanism
    /// Deletion of a credential that does not exist.
    case notFound(user: String, mechanism: ScramMechanism)
    /// The same user appears more than once in one AlterUserScramCredentials request.
    case duplicateUser(String)

    /// UNACCEPTABLE_CREDENTIAL 93, UNSUPPORTED_SASL_MECHANISM 33, RESOURCE_NOT_FOUND 91,
    /// DUPLICATE_RESOURCE 92.
    public var kafkaErrorCode: Int16 {
        switch self {
        case .iterationsOutOfRange, .unacceptable: 93
        case .unsupportedMechanism: 33
        case .notFound: 91
        case .duplicateUser: 92
        }
    }

    /// A message safe to return to an authorized administrator (no key material).
    public var message: String {
        switch self {
        case .iterationsOutOfRange(let count):
            "Iterations \(count) out of range [\(CredentialStore.minIterations), \(CredentialStore.maxIterations)]"
        case .unacceptable(let why): why
        case .unsupportedMechanism: "Unknown SCRAM mechanism"
        case .notFound(let user, let mechanism):
            "Attempt to delete a user credential that does not exist: \(user) \(mechanism.mechanismName)"
        case .duplicateUser(let user): "A user credential cannot be altered twice in the same request: \(user)"
        }
    }
}

/// Users and their SCRAM credentials. A value type: the broker keeps the current store behind a
/// lock and hands copies (copy-on-write, so cheap) to the SASL mechanisms of each connection.
///
/// Invariant: every stored credential has `minIterations...maxIterations` iterations, a non-empty
/// salt and keys of the mechanism's digest length.
public struct CredentialStore: Equatable, Sendable {
    /// RFC 7677 §4 asks for at least 4096; so does Kafka.
    public static let minIterations = 4096
    /// Kafka's upper bound for SCRAM iterations.
    public static let maxIterations = 16384
    /// Length of salts we generate ourselves.
    public static let saltLength = 32

    private var users: [String: [ScramMechanism: ScramCredential]] = [:]

    public init() {}

    /// Names of all users with at least one credential, sorted.
    public var userNames: [String] { users.keys.sorted() }

    /// The credential of `user` for `mechanism`, if any.
    public func credential(user: String, mechanism: ScramMechanism) -> ScramCredential? {
        users[user]?[mechanism]
    }

    /// The mechanisms and iteration counts of `user` (DescribeUserScramCredentials), sorted by
    /// mechanism; nil when the user has no credential.
    public func describe(user: String) -> [(mechanism: ScramMechanism, iterations: Int)]? {
        guard let entry = users[user], !entry.isEmpty else { return nil }
        return ScramMechanism.allCases.compactMap { mechanism in
            entry[mechanism].map { (mechanism, $0.iterations) }
        }
    }

    // MARK: Key derivation

    /// SaltedPassword = Hi(password, salt, iterations) (RFC 5802 §3), via PKCS5_PBKDF2_HMAC.
    /// Passwords are used as given (UTF-8 bytes); SASLprep is not applied (nor does Kafka).
    public static func hashPassword(mechanism: ScramMechanism, password: String, salt: [UInt8],
                                    iterations: Int) -> [UInt8] {
        Crypto.pbkdf2(mechanism, password: Array(password.utf8), salt: salt, iterations: iterations)
    }

    /// StoredKey and ServerKey from SaltedPassword (RFC 5802 §3).
    public static func credential(mechanism: ScramMechanism, saltedPassword: [UInt8], salt: [UInt8],
                                  iterations: Int) -> ScramCredential {
        let clientKey = Crypto.hmac(mechanism, key: saltedPassword, data: Array("Client Key".utf8))
        let serverKey = Crypto.hmac(mechanism, key: saltedPassword, data: Array("Server Key".utf8))
        return ScramCredential(salt: salt, storedKey: Crypto.digest(mechanism, clientKey), serverKey: serverKey,
                               iterations: iterations)
    }

    /// A fresh random salt from OpenSSL.
    public static func randomSalt() -> [UInt8] { Crypto.randomBytes(saltLength) }

    // MARK: Changes

    /// Sets (or replaces) `user`'s credential for `mechanism` from a password, with a fresh salt.
    public mutating func setPassword(user: String, mechanism: ScramMechanism, password: String,
                                     iterations: Int = CredentialStore.minIterations) throws(CredentialError) {
        guard !password.isEmpty else { throw .unacceptable("Password must not be empty") }
        try checkIterations(iterations)
        let salt = Self.randomSalt()
        let salted = Self.hashPassword(mechanism: mechanism, password: password, salt: salt, iterations: iterations)
        try upsert(user: user, mechanism: mechanism, iterations: iterations, salt: salt, saltedPassword: salted)
    }

    /// Sets `user`'s credentials for every mechanism from one password (`sluice users add`).
    public mutating func setPasswordForAllMechanisms(user: String, password: String,
                                                     iterations: Int = CredentialStore.minIterations)
        throws(CredentialError)
    {
        var copy = self
        for mechanism in ScramMechanism.allCases {
            try copy.setPassword(user: user, mechanism: mechanism, password: password, iterations: iterations)
        }
        self = copy
    }

    /// AlterUserScramCredentials upsertion: the client sends the salt and SaltedPassword; we keep
    /// only the derived keys.
    public mutating func upsert(user: String, mechanism: ScramMechanism, iterations: Int, salt: [UInt8],
                                saltedPassword: [UInt8]) throws(CredentialError) {
        guard !user.isEmpty else { throw .unacceptable("Username must not be empty") }
        try checkIterations(iterations)
        guard !salt.isEmpty else { throw .unacceptable("Salt must not be empty") }
        guard !saltedPassword.isEmpty else { throw .unacceptable("Salted password must not be empty") }
        let credential = Self.credential(mechanism: mechanism, saltedPassword: saltedPassword, salt: salt,
                                         iterations: iterations)
        users[user, default: [:]][mechanism] = credential
    }

    /// Puts a credential in place as it is (file load, replication). Validated like `upsert`.
    public mutating func install(user: String, mechanism: ScramMechanism,
                                 credential: ScramCredential) throws(CredentialError) {
        guard !user.isEmpty else { throw .unacceptable("Username must not be empty") }
        try checkIterations(credential.iterations)
        guard !credential.salt.isEmpty else { throw .unacceptable("Salt must not be empty") }
        guard credential.storedKey.count == mechanism.digestLength,
              credential.serverKey.count == mechanism.digestLength
        else { throw .unacceptable("Key length does not match \(mechanism.mechanismName)") }
        users[user, default: [:]][mechanism] = credential
    }

    /// AlterUserScramCredentials deletion of one mechanism's credential.
    public mutating func delete(user: String, mechanism: ScramMechanism) throws(CredentialError) {
        guard users[user]?[mechanism] != nil else { throw .notFound(user: user, mechanism: mechanism) }
        users[user]![mechanism] = nil
        if users[user]!.isEmpty { users[user] = nil }
    }

    /// Removes every credential of `user`; false when there was none (`sluice users delete`).
    @discardableResult
    public mutating func deleteUser(_ user: String) -> Bool {
        users.removeValue(forKey: user) != nil
    }

    private func checkIterations(_ iterations: Int) throws(CredentialError) {
        guard iterations >= Self.minIterations, iterations <= Self.maxIterations else {
            throw .iterationsOutOfRange(iterations)
        }
    }

    // MARK: AlterUserScramCredentials as a batch

    /// One deletion of an AlterUserScramCredentials request.
    public struct Deletion: Sendable {
        public var user: String
        public var mechanismType: Int8
        public init(user: String, mechanismType: Int8) {
            self.user = user
            self.mechanismType = mechanismType
        }
    }

    /// One upsertion of an AlterUserScramCredentials request.
    public struct Upsertion: Sendable {
        public var user: String
        public var mechanismType: Int8
        public var iterations: Int
        public var salt: [UInt8]
        public var saltedPassword: [UInt8]
        public init(user: String, mechanismType: Int8, iterations: Int, salt: [UInt8], saltedPassword: [UInt8]) {
            self.user = user
            self.mechanismType = mechanismType
            self.iterations = iterations
            self.salt = salt
            self.saltedPassword = saltedPassword
        }
    }

    /// Applies an AlterUserScramCredentials request with Kafka's per-user semantics: a user named
    /// more than once (in deletions and upsertions together) gets DUPLICATE_RESOURCE and none of
    /// its changes apply; otherwise each user's changes apply or fail on their own. Returns one
    /// result per distinct user, in first-appearance order.
    public mutating func alter(deletions: [Deletion], upsertions: [Upsertion])
        -> [(user: String, error: CredentialError?)]
    {
        var order: [String] = []
        var counts: [String: Int] = [:]
        for name in deletions.map(\.user) + upsertions.map(\.user) {
            if counts[name] == nil { order.append(name) }
            counts[name, default: 0] += 1
        }
        var errors: [String: CredentialError] = [:]
        for name in order where counts[name]! > 1 { errors[name] = .duplicateUser(name) }
        for deletion in deletions where errors[deletion.user] == nil {
            do throws(CredentialError) {
                guard let mechanism = ScramMechanism(kafkaType: deletion.mechanismType) else {
                    throw .unsupportedMechanism
                }
                guard !deletion.user.isEmpty else { throw .unacceptable("Username must not be empty") }
                try delete(user: deletion.user, mechanism: mechanism)
            } catch {
                errors[deletion.user] = error
            }
        }
        for upsertion in upsertions where errors[upsertion.user] == nil {
            do throws(CredentialError) {
                guard let mechanism = ScramMechanism(kafkaType: upsertion.mechanismType) else {
                    throw .unsupportedMechanism
                }
                try upsert(user: upsertion.user, mechanism: mechanism, iterations: upsertion.iterations,
                           salt: upsertion.salt, saltedPassword: upsertion.saltedPassword)
            } catch {
                errors[upsertion.user] = error
            }
        }
        return order.map { ($0, errors[$0]) }
    }

    // MARK: Verification (PLAIN)

    /// Whether `password` matches `user`'s credential (SCRAM-SHA-256 preferred, else SHA-512):
    /// SaltedPassword is recomputed with the stored salt and iterations and the derived StoredKey
    /// compared in constant time. An unknown user costs the same PBKDF2 work against a fake salt,
    /// so timing does not reveal whether the user exists.
    public func verifyPassword(user: String, password: String, fakeSaltSecret: [UInt8]) -> Bool {
        let mechanism: ScramMechanism
        let credential: ScramCredential
        let known: Bool
        if let stored = users[user]?[.sha256] {
            (mechanism, credential, known) = (.sha256, stored, true)
        } else if let stored = users[user]?[.sha512] {
            (mechanism, credential, known) = (.sha512, stored, true)
        } else {
            mechanism = .sha256
            credential = Self.fakeCredential(user: user, mechanism: mechanism, secret: fakeSaltSecret)
            known = false
        }
        let salted = Self.hashPassword(mechanism: mechanism, password: password, salt: credential.salt,
                                       iterations: credential.iterations)
        let derived = Self.credential(mechanism: mechanism, saltedPassword: salted, salt: credential.salt,
                                      iterations: credential.iterations)
        let matches = Crypto.constantTimeEquals(derived.storedKey, credential.storedKey)
        return matches && known
    }

    /// The credential presented for a user that does not exist: salt and keys derived by HMAC of
    /// a server secret and the name, so repeated attempts see the same salt (as for a real user)
    /// and the iteration count is the default one.
    static func fakeCredential(user: String, mechanism: ScramMechanism, secret: [UInt8]) -> ScramCredential {
        let name = Array(user.utf8)
        let salt = Array(Crypto.hmac(.sha256, key: secret, data: Array("salt\0\(mechanism.rawValue)\0".utf8) + name)
            .prefix(saltLength))
        let storedKey = Crypto.hmac(mechanism, key: secret, data: Array("stored\0".utf8) + name)
        let serverKey = Crypto.hmac(mechanism, key: secret, data: Array("server\0".utf8) + name)
        return ScramCredential(salt: salt, storedKey: storedKey, serverKey: serverKey, iterations: minIterations)
    }
}
