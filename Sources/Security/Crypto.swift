// The only door to OpenSSL's primitives in this module. Nothing here implements a hash, a MAC, a
// key derivation or a random generator: each function forwards to libcrypto (OpenSSL 3) and checks
// its return code. Keeping the calls in one file keeps `COpenSSL` an implementation detail
// (`internal import`) and makes the set of primitives we rely on reviewable at a glance.
internal import COpenSSL

/// The hash function of a SCRAM mechanism (RFC 5802 §2.2 "H", "HMAC", "Hi").
///
/// Persisted (credential file, by `mechanismName`): never rename the mechanism names.
public enum ScramMechanism: String, CaseIterable, Sendable, Hashable {
    case sha256 = "SCRAM-SHA-256"
    case sha512 = "SCRAM-SHA-512"

    /// The SASL mechanism name (RFC 7677, KIP-84).
    public var mechanismName: String { rawValue }

    /// Kafka's `ScramMechanism` code in DescribeUserScramCredentials/AlterUserScramCredentials.
    public var kafkaType: Int8 {
        switch self {
        case .sha256: 1
        case .sha512: 2
        }
    }

    /// The inverse of `kafkaType` (0 is Kafka's UNKNOWN).
    public init?(kafkaType: Int8) {
        switch kafkaType {
        case 1: self = .sha256
        case 2: self = .sha512
        default: return nil
        }
    }

    /// Output length of H in bytes.
    public var digestLength: Int {
        switch self {
        case .sha256: 32
        case .sha512: 64
        }
    }

    fileprivate var evp: OpaquePointer {
        // EVP_sha256/EVP_sha512 return static method tables; they never fail.
        switch self {
        case .sha256: EVP_sha256()
        case .sha512: EVP_sha512()
        }
    }
}

/// Thin, checked wrappers over libcrypto. Failures of these calls mean memory exhaustion or a
/// broken OpenSSL installation, not bad input, so they stop the process (STYLE item 9).
enum Crypto {
    /// H(data).
    static func digest(_ mechanism: ScramMechanism, _ data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: mechanism.digestLength)
        var length: UInt32 = 0
        let ok = data.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { output in
                EVP_Digest(input.baseAddress, input.count, output.baseAddress, &length, mechanism.evp, nil)
            }
        }
        precondition(ok == 1, "EVP_Digest failed")
        precondition(Int(length) == mechanism.digestLength, "EVP_Digest returned an unexpected length")
        return out
    }

    /// HMAC(key, data) with H.
    static func hmac(_ mechanism: ScramMechanism, key: [UInt8], data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: mechanism.digestLength)
        var length: UInt32 = 0
        // A zero-length key still needs a non-null pointer for OpenSSL.
        let keyStorage = key.isEmpty ? [UInt8(0)] : key
        let result = keyStorage.withUnsafeBufferPointer { keyBuffer in
            data.withUnsafeBufferPointer { dataBuffer in
                out.withUnsafeMutableBufferPointer { output in
                    HMAC(mechanism.evp, keyBuffer.baseAddress, Int32(key.count), dataBuffer.baseAddress, dataBuffer.count,
                         output.baseAddress, &length)
                }
            }
        }
        precondition(result != nil, "HMAC failed")
        precondition(Int(length) == mechanism.digestLength, "HMAC returned an unexpected length")
        return out
    }

    /// Hi(password, salt, iterations) = PBKDF2 with HMAC-H, output length = digest length
    /// (RFC 5802 §2.2).
    static func pbkdf2(_ mechanism: ScramMechanism, password: [UInt8], salt: [UInt8], iterations: Int) -> [UInt8] {
        precondition(iterations > 0 && iterations <= Int(Int32.max), "iteration count out of range")
        var out = [UInt8](repeating: 0, count: mechanism.digestLength)
        let ok = password.withUnsafeBufferPointer { passwordBuffer in
            salt.withUnsafeBufferPointer { saltBuffer in
                out.withUnsafeMutableBufferPointer { output in
                    passwordBuffer.withMemoryRebound(to: CChar.self) { passwordChars in
                        PKCS5_PBKDF2_HMAC(passwordChars.baseAddress, Int32(passwordChars.count),
                                          saltBuffer.baseAddress, Int32(saltBuffer.count), Int32(iterations),
                                          mechanism.evp, Int32(output.count), output.baseAddress)
                    }
                }
            }
        }
        precondition(ok == 1, "PKCS5_PBKDF2_HMAC failed")
        return out
    }

    /// `count` bytes from OpenSSL's CSPRNG.
    static func randomBytes(_ count: Int) -> [UInt8] {
        precondition(count >= 0, "negative random byte count")
        var out = [UInt8](repeating: 0, count: count)
        let ok = out.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32($0.count)) }
        precondition(ok == 1, "RAND_bytes failed")
        return out
    }

    /// Constant-time equality (time depends on the length only, never on where bytes differ).
    static func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        if lhs.isEmpty { return true }
        return lhs.withUnsafeBufferPointer { left in
            rhs.withUnsafeBufferPointer { right in
                CRYPTO_memcmp(left.baseAddress, right.baseAddress, left.count) == 0
            }
        }
    }
}
