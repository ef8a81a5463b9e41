// The credential file in the data directory. A line format, one credential per line, so a change
// to one user is a one-line diff and the file can be inspected with standard tools:
//
//   # sluice scram credentials v1
//   <user> <mechanism> <iterations> <salt> <stored-key> <server-key>
//
// `user` is percent-encoded (bytes outside `!`..`~`, and `%`, become `%XX`), the three byte fields
// are Base64. Lines are sorted by user then mechanism, so saving is deterministic.

extension CredentialStore {
    /// File name of the store inside the data directory.
    public static let fileName = "scram-credentials"
    static let header = "# sluice scram credentials v1"

    /// The file contents for this store.
    public func serialized() -> [UInt8] {
        var text = Self.header + "\n"
        for user in userNames {
            for mechanism in ScramMechanism.allCases {
                guard let credential = credential(user: user, mechanism: mechanism) else { continue }
                text += "\(Self.percentEncode(user)) \(mechanism.mechanismName) \(credential.iterations) "
                text += "\(Base64.encode(credential.salt)) \(Base64.encode(credential.storedKey)) "
                text += "\(Base64.encode(credential.serverKey))\n"
            }
        }
        return Array(text.utf8)
    }

    /// Parses file contents; errors name the 1-based line.
    public static func parse(_ bytes: [UInt8]) -> Result<CredentialStore, CredentialFileError> {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            return .failure(CredentialFileError(line: 0, reason: "not UTF-8"))
        }
        var store = CredentialStore()
        var lineNumber = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(separator: " ", omittingEmptySubsequences: false)
            guard fields.count == 6 else {
                return .failure(CredentialFileError(line: lineNumber, reason: "expected 6 fields, found \(fields.count)"))
            }
            guard let user = percentDecode(fields[0]) else {
                return .failure(CredentialFileError(line: lineNumber, reason: "bad user name encoding"))
            }
            guard let mechanism = ScramMechanism(rawValue: String(fields[1])) else {
                return .failure(CredentialFileError(line: lineNumber, reason: "unknown mechanism \(fields[1])"))
            }
            guard let iterations = Int(fields[2]),
                  let salt = Base64.decode(String(fields[3])),
                  let storedKey = Base64.decode(String(fields[4])),
                  let serverKey = Base64.decode(String(fields[5]))
            else { return .failure(CredentialFileError(line: lineNumber, reason: "bad number or Base64 field")) }
            guard store.credential(user: user, mechanism: mechanism) == nil else {
                return .failure(CredentialFileError(line: lineNumber, reason: "duplicate credential"))
            }
            let credential = ScramCredential(salt: salt, storedKey: storedKey, serverKey: serverKey,
                                             iterations: iterations)
            do throws(CredentialError) {
                try store.install(user: user, mechanism: mechanism, credential: credential)
            } catch {
                return .failure(CredentialFileError(line: lineNumber, reason: error.message))
            }
        }
        return .success(store)
    }

    /// Loads `<dataDirectory>/scram-credentials`; a missing file is an empty store.
    public static func load(dataDirectory: String) throws(CredentialFileError) -> CredentialStore {
        let path = dataDirectory + "/" + fileName
        let bytes: [UInt8]?
        do throws(SecurityFileError) {
            bytes = try SecurityFiles.read(path)
        } catch {
            throw CredentialFileError(line: 0, reason: error.description)
        }
        guard let bytes else { return CredentialStore() }
        switch parse(bytes) {
        case .success(let store): return store
        case .failure(let error): throw error
        }
    }

    /// Writes the store atomically (temp + fsync + rename + directory fsync), mode 0600.
    public func save(dataDirectory: String) throws(SecurityFileError) {
        try SecurityFiles.writeAtomically(dataDirectory + "/" + Self.fileName, serialized())
    }

    static func percentEncode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            if byte > 0x20 && byte < 0x7F && byte != UInt8(ascii: "%") {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                let hex = Array("0123456789ABCDEF".utf8)
                out += "%" + String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 15)]], as: UTF8.self)
            }
        }
        return out
    }

    static func percentDecode(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next(), let low = iterator.next(),
                      let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
                else { return nil }
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        guard !bytes.isEmpty else { return nil }
        return String(validating: bytes, as: UTF8.self)
    }
}

/// A credential file that could not be read or parsed; `line` is 1-based (0: the whole file).
public struct CredentialFileError: Error, Equatable, Sendable, CustomStringConvertible {
    public let line: Int
    public let reason: String
    public var description: String { line > 0 ? "line \(line): \(reason)" : reason }
}
