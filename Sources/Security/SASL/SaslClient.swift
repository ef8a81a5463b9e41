/// Client side of PLAIN and SCRAM, for Sluice's own client (the CLI). The broker never uses it;
/// tests use it to check the server against an independent message flow.
public struct SaslClient: Sendable {
    public enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        case unsupportedMechanism(String)
        case badServerMessage(String)
        case serverSignatureMismatch

        public var description: String {
            switch self {
            case .unsupportedMechanism(let m): return "SASL mechanism \(m) is not supported by this client"
            case .badServerMessage(let why): return "unexpected SASL server message: \(why)"
            case .serverSignatureMismatch: return "the server's SCRAM signature does not verify (not the real server?)"
            }
        }
    }

    private enum State {
        case initial
        case scramSentFirst(bare: String, nonce: String)
        case scramSentFinal(serverSignature: [UInt8])
        case done
    }

    public let mechanism: String
    private let user: String
    private let password: String
    private var state = State.initial

    public init(mechanism: String, user: String, password: String) throws(Failure) {
        guard mechanism == SaslMechanisms.plain || ScramMechanism(rawValue: mechanism) != nil else {
            throw .unsupportedMechanism(mechanism)
        }
        self.mechanism = mechanism
        self.user = user
        self.password = password
    }

    /// The first client message.
    public mutating func start() -> [UInt8] {
        if mechanism == SaslMechanisms.plain {
            state = .done
            return [0] + Array(user.utf8) + [0] + Array(password.utf8)
        }
        let nonce = Base64.encode(Crypto.randomBytes(24))
        let bare = "n=\(ScramServer.encodeSaslName(user)),r=\(nonce)"
        state = .scramSentFirst(bare: bare, nonce: nonce)
        return Array("n,,\(bare)".utf8)
    }

    /// The answer to a server message; nil when the exchange is complete on our side.
    public mutating func respond(to serverMessage: [UInt8]) throws(Failure) -> [UInt8]? {
        switch state {
        case .initial, .done:
            return nil
        case .scramSentFirst(let bare, let nonce):
            guard let scram = ScramMechanism(rawValue: mechanism),
                  let text = String(validating: serverMessage, as: UTF8.self) else { throw .badServerMessage("not UTF-8") }
            var fields: [Character: Substring] = [:]
            for part in text.split(separator: ",") where part.count >= 2 && part.dropFirst().first == "=" {
                fields[part.first!] = part.dropFirst(2)
            }
            guard let serverNonce = fields["r"], serverNonce.hasPrefix(nonce), serverNonce.count > nonce.count,
                  let saltText = fields["s"], let salt = Base64.decode(String(saltText)),
                  let iterationText = fields["i"], let iterations = Int(iterationText),
                  iterations >= CredentialStore.minIterations, iterations <= 1_000_000
            else { throw .badServerMessage("bad server-first message") }
            let salted = Crypto.pbkdf2(scram, password: Array(password.utf8), salt: salt, iterations: iterations)
            let clientKey = Crypto.hmac(scram, key: salted, data: Array("Client Key".utf8))
            let storedKey = Crypto.digest(scram, clientKey)
            let serverKey = Crypto.hmac(scram, key: salted, data: Array("Server Key".utf8))
            let withoutProof = "c=biws,r=\(serverNonce)"
            let authMessage = Array("\(bare),\(text),\(withoutProof)".utf8)
            let signature = Crypto.hmac(scram, key: storedKey, data: authMessage)
            var proof = clientKey
            for i in proof.indices { proof[i] ^= signature[i] }
            state = .scramSentFinal(serverSignature: Crypto.hmac(scram, key: serverKey, data: authMessage))
            return Array("\(withoutProof),p=\(Base64.encode(proof))".utf8)
        case .scramSentFinal(let expected):
            state = .done
            guard let text = String(validating: serverMessage, as: UTF8.self), text.hasPrefix("v="),
                  let signature = Base64.decode(String(text.dropFirst(2))) else {
                throw .badServerMessage("bad server-final message")
            }
            guard Crypto.constantTimeEquals(signature, expected) else { throw .serverSignatureMismatch }
            return nil
        }
    }
}
