/// SCRAM-SHA-256 / SCRAM-SHA-512 server (RFC 5802 §3, §5, §7; RFC 7677; Kafka KIP-84).
///
/// States (RFC 5802 §5 message order):
/// `.awaitingClientFirst` → (client-first, answer server-first) → `.awaitingClientFinal`
/// → (client-final, answer server-final `v=` or `e=`) → `.done`.
/// Any failure also ends in `.done`; a message in `.done` is a protocol violation.
///
/// Scope: no channel binding. The gs2 header must be `n,` or `y,` (client could bind but thinks we
/// cannot, which is true); `p=` is refused with `e=channel-binding-not-supported`. An authzid
/// (`a=`) is accepted only when equal to the user name. `m=` (mandatory extension) is refused;
/// other extensions are ignored except Kafka's `tokenauth=true` (delegation tokens, KIP-48),
/// refused for now. User names are `saslname`s with `=2C`/`=3D` escapes; SASLprep is not applied
/// (Kafka does not either).
///
/// Unknown users go through the same two steps as known ones with a fake salt and keys derived
/// from a server secret (`CredentialStore.fakeCredential`), and fail with the same
/// `e=invalid-proof` as a wrong password.
public struct ScramServer: SaslServerMechanism {
    /// Upper bound for either client message; real ones are well under 1 KiB.
    public static let maxMessageBytes = 4096
    /// Bytes of randomness in our part of the nonce.
    static let nonceRandomBytes = 24

    private struct Exchange {
        var user: String
        var credential: ScramCredential
        var channelBinding: [UInt8]
        var clientFirstBare: Substring
        var serverFirst: String
        var nonce: Substring
    }

    private enum State {
        case awaitingClientFirst
        case awaitingClientFinal(Exchange)
        case done
    }

    public let mechanism: ScramMechanism
    public var mechanismName: String { mechanism.mechanismName }
    private var state = State.awaitingClientFirst
    private let credentials: CredentialStore
    private let fakeSaltSecret: [UInt8]
    private let nonceSuffix: String?

    /// - Parameters:
    ///   - fakeSaltSecret: server secret for the fake credentials of unknown users; keep it stable
    ///     across restarts so an unknown user always sees the same salt.
    ///   - nonceSuffix: tests only — our part of the nonce instead of a random one (printable
    ///     ASCII without `,`).
    public init(mechanism: ScramMechanism, credentials: CredentialStore, fakeSaltSecret: [UInt8],
                nonceSuffix: String? = nil) {
        if let nonceSuffix {
            precondition(!nonceSuffix.isEmpty && nonceSuffix.utf8.allSatisfy(Self.isNonceByte),
                         "injected nonce must be printable ASCII without ','")
        }
        self.mechanism = mechanism
        self.credentials = credentials
        self.fakeSaltSecret = fakeSaltSecret
        self.nonceSuffix = nonceSuffix
    }

    // MARK: Failures (RFC 5802 §7 server-error-value)

    private static func failure(_ kind: SaslFailure.Kind, _ errorValue: String, _ message: String) -> SaslStep {
        .failure(SaslFailure(kind: kind, message: message, serverFinal: Array("e=\(errorValue)".utf8)))
    }

    private static func invalidEncoding(_ why: String) -> SaslStep {
        failure(.malformed, "invalid-encoding", "Invalid SCRAM message: \(why)")
    }

    /// The one failure for a wrong proof and an unknown user.
    static let invalidProof = SaslFailure(kind: .authenticationFailed,
                                          message: "Authentication failed: Invalid user credentials",
                                          serverFinal: Array("e=invalid-proof".utf8))

    // MARK: Steps

    public mutating func step(_ clientMessage: [UInt8]) -> SaslStep {
        let current = state
        state = .done
        switch current {
        case .awaitingClientFirst:
            return clientFirst(clientMessage)
        case .awaitingClientFinal(let exchange):
            return clientFinal(clientMessage, exchange)
        case .done:
            return .failure(SaslFailure(kind: .protocolViolation, message: "SCRAM exchange already complete",
                                        serverFinal: Array("e=other-error".utf8)))
        }
    }

    /// client-first-message = gs2-header client-first-message-bare (RFC 5802 §7).
    public func claimedUser(_ firstMessage: [UInt8]) -> String? {
        // gs2-header "," "n=" saslname "," ... : the name after the header's second comma.
        guard firstMessage.count <= Self.maxMessageBytes,
              let text = String(validating: firstMessage, as: UTF8.self) else { return nil }
        let fields = text.split(separator: ",", maxSplits: 3, omittingEmptySubsequences: false)
        guard fields.count >= 3, fields[2].hasPrefix("n=") else { return nil }
        return Self.decodeSaslName(fields[2].dropFirst(2))
    }

    private mutating func clientFirst(_ bytes: [UInt8]) -> SaslStep {
        guard bytes.count <= Self.maxMessageBytes else { return Self.invalidEncoding("message too long") }
        guard let text = String(validating: bytes, as: UTF8.self) else { return Self.invalidEncoding("not UTF-8") }
        // gs2-cbind-flag
        let flag = text.utf8.first
        if flag == UInt8(ascii: "p") {
            return Self.failure(.unsupported, "channel-binding-not-supported", "Channel binding is not supported")
        }
        guard flag == UInt8(ascii: "n") || flag == UInt8(ascii: "y") else {
            return Self.invalidEncoding("bad gs2 header")
        }
        let afterFlag = text.dropFirst()
        guard afterFlag.first == "," else { return Self.invalidEncoding("bad gs2 header") }
        let afterComma = afterFlag.dropFirst()
        // [authzid] ","
        guard let secondComma = afterComma.firstIndex(of: ",") else { return Self.invalidEncoding("bad gs2 header") }
        let authzidField = afterComma[..<secondComma]
        var authzid: String? = nil
        if !authzidField.isEmpty {
            guard authzidField.hasPrefix("a=") else { return Self.invalidEncoding("bad gs2 header") }
            guard let name = Self.decodeSaslName(authzidField.dropFirst(2)) else {
                return Self.failure(.malformed, "invalid-username-encoding", "Invalid SCRAM authzid")
            }
            authzid = name
        }
        let gs2Header = text[..<afterComma.index(after: secondComma)]
        let bare = afterComma[afterComma.index(after: secondComma)...]
        // client-first-message-bare = [reserved-mext ","] username "," nonce ["," extensions]
        let attributes = bare.split(separator: ",", omittingEmptySubsequences: false)
        guard let first = attributes.first else { return Self.invalidEncoding("empty message") }
        if first.hasPrefix("m=") {
            return Self.failure(.unsupported, "extensions-not-supported", "Mandatory SCRAM extensions not supported")
        }
        guard first.hasPrefix("n=") else { return Self.invalidEncoding("expected n=") }
        guard let user = Self.decodeSaslName(first.dropFirst(2)), !user.isEmpty else {
            return Self.failure(.malformed, "invalid-username-encoding", "Invalid SCRAM user name")
        }
        guard attributes.count >= 2, attributes[1].hasPrefix("r=") else { return Self.invalidEncoding("expected r=") }
        let clientNonce = attributes[1].dropFirst(2)
        guard !clientNonce.isEmpty, clientNonce.utf8.allSatisfy(Self.isNonceByte) else {
            return Self.invalidEncoding("bad nonce")
        }
        for extensionField in attributes.dropFirst(2) {
            guard let equals = extensionField.firstIndex(of: "="),
                  !extensionField[..<equals].isEmpty,
                  extensionField[..<equals].utf8.allSatisfy(Self.isAlphanumeric)
            else { return Self.invalidEncoding("bad extension") }
            let key = extensionField[..<equals]
            let value = extensionField[extensionField.index(after: equals)...]
            if key == "tokenauth" && value.lowercased() == "true" {
                return Self.failure(.unsupported, "extensions-not-supported",
                                    "Delegation token authentication is not supported")
            }
        }
        if let authzid, authzid != user {
            return Self.failure(
                .unsupported, "other-error",
                "Authentication failed: Client requested an authorization id that is different from username")
        }
        // The fake credential is derived for known users too, so this step costs the same either way.
        let fake = CredentialStore.fakeCredential(user: user, mechanism: mechanism, secret: fakeSaltSecret)
        let credential = credentials.credential(user: user, mechanism: mechanism) ?? fake
        let suffix = nonceSuffix ?? Base64.encode(Crypto.randomBytes(Self.nonceRandomBytes))
        let nonce = clientNonce + suffix
        let serverFirst = "r=\(nonce),s=\(Base64.encode(credential.salt)),i=\(credential.iterations)"
        state = .awaitingClientFinal(Exchange(
            user: user, credential: credential, channelBinding: Array(gs2Header.utf8), clientFirstBare: bare,
            serverFirst: serverFirst, nonce: Substring(nonce)))
        return .challenge(Array(serverFirst.utf8))
    }

    /// client-final-message = channel-binding "," nonce ["," extensions] "," proof (RFC 5802 §7).
    private func clientFinal(_ bytes: [UInt8], _ exchange: Exchange) -> SaslStep {
        guard bytes.count <= Self.maxMessageBytes else { return Self.invalidEncoding("message too long") }
        guard let text = String(validating: bytes, as: UTF8.self) else { return Self.invalidEncoding("not UTF-8") }
        let attributes = text.split(separator: ",", omittingEmptySubsequences: false)
        guard attributes.count >= 3, attributes[0].hasPrefix("c="), attributes[1].hasPrefix("r="),
              let proofField = attributes.last, proofField.hasPrefix("p=")
        else { return Self.invalidEncoding("expected c=, r=, ..., p=") }
        guard let binding = Base64.decode(String(attributes[0].dropFirst(2))) else {
            return Self.invalidEncoding("bad channel binding")
        }
        guard binding == exchange.channelBinding else {
            return Self.failure(.malformed, "channel-bindings-dont-match", "Channel binding does not match")
        }
        // RFC 5802 wants the exact nonce. Kafka's broker accepts any nonce that ends with it, and
        // librdkafka before 2.2 (Debian's kcat) sends the client nonce twice; the proof covers the
        // whole message, so accepting the suffix costs nothing.
        guard attributes[1].dropFirst(2).hasSuffix(exchange.nonce) else {
            return Self.failure(.malformed, "other-error", "Invalid SCRAM nonce")
        }
        guard let proof = Base64.decode(String(proofField.dropFirst(2))) else {
            return Self.invalidEncoding("bad proof")
        }
        guard proof.count == mechanism.digestLength else { return .failure(Self.invalidProof) }
        // client-final-message-without-proof: everything before ",p=".
        let withoutProof = text[..<text.index(proofField.startIndex, offsetBy: -1)]
        let authMessage = Array("\(exchange.clientFirstBare),\(exchange.serverFirst),\(withoutProof)".utf8)
        let clientSignature = Crypto.hmac(mechanism, key: exchange.credential.storedKey, data: authMessage)
        var clientKey = proof
        for index in clientKey.indices { clientKey[index] ^= clientSignature[index] }
        let storedKey = Crypto.digest(mechanism, clientKey)
        guard Crypto.constantTimeEquals(storedKey, exchange.credential.storedKey),
              credentials.credential(user: exchange.user, mechanism: mechanism) != nil
        else { return .failure(Self.invalidProof) }
        let serverSignature = Crypto.hmac(mechanism, key: exchange.credential.serverKey, data: authMessage)
        return .success(principal: exchange.user, finalMessage: Array("v=\(Base64.encode(serverSignature))".utf8))
    }

    // MARK: Grammar helpers

    /// printable = %x21-2B / %x2D-7E (RFC 5802 §7): visible ASCII except ",".
    static func isNonceByte(_ byte: UInt8) -> Bool {
        byte >= 0x21 && byte <= 0x7E && byte != UInt8(ascii: ",")
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
    }

    /// saslname: `,` never appears raw, `=` only as `=2C` or `=3D` (RFC 5802 §5.1).
    static func decodeSaslName(_ text: Substring) -> String? {
        var out = ""
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if character == "," { return nil }
            if character == "=" {
                let escape = text[index...].prefix(3)
                if escape == "=2C" {
                    out.append(",")
                } else if escape == "=3D" {
                    out.append("=")
                } else {
                    return nil
                }
                index = text.index(index, offsetBy: 3)
            } else {
                out.append(character)
                index = text.index(after: index)
            }
        }
        return out
    }

    /// The inverse of `decodeSaslName` (for clients and tests).
    public static func encodeSaslName(_ name: String) -> String {
        var out = ""
        for character in name {
            switch character {
            case ",": out += "=2C"
            case "=": out += "=3D"
            default: out.append(character)
            }
        }
        return out
    }
}
