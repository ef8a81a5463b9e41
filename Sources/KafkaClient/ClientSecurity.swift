import Foundation
import Properties
import Security
import TLS

/// How the client reaches a secured listener, from Kafka client properties (librdkafka's names,
/// plus Java's `ssl.truststore.location` for a PEM truststore and `sasl.jaas.config`'s
/// username/password): `security.protocol`, `sasl.mechanism`, `sasl.username`, `sasl.password`,
/// `ssl.ca.location`, `ssl.certificate.location`, `ssl.key.location`.
public struct ClientSecurity: Sendable {
    public var protocolName = "PLAINTEXT"
    public var mechanism = "PLAIN"
    public var username: String?
    public var password: String?
    public var caFile: String?
    public var certificateFile: String?
    public var keyFile: String?

    public init() {}

    public var usesTLS: Bool { protocolName == "SSL" || protocolName == "SASL_SSL" }
    public var usesSASL: Bool { protocolName == "SASL_PLAINTEXT" || protocolName == "SASL_SSL" }

    /// Parses Java-properties text (line continuations and escapes included, so a multi-line
    /// `sasl.jaas.config` works); unknown keys are ignored (the file may serve other tools too).
    public static func parse(properties text: String, source: String) throws(ClientError) -> ClientSecurity {
        var security = ClientSecurity()
        let properties: [JavaProperty]
        do { properties = try JavaProperties.parse(text) } catch { throw .unsupported(error.located(in: source)) }
        for property in properties {
            let value = property.value.trimmingCharacters(in: .whitespaces)
            switch property.key {
            case "security.protocol":
                guard ["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"].contains(value.uppercased()) else {
                    throw .unsupported("\(source):\(property.line): unknown security.protocol \(value)")
                }
                security.protocolName = value.uppercased()
            case "sasl.mechanism", "sasl.mechanisms": security.mechanism = value.uppercased()
            case "sasl.username": security.username = value
            case "sasl.password": security.password = value
            case "ssl.ca.location", "ssl.truststore.location": security.caFile = value
            case "ssl.certificate.location": security.certificateFile = value
            case "ssl.key.location": security.keyFile = value
            case "sasl.jaas.config":
                security.username = jaasOption("username", in: value) ?? security.username
                security.password = jaasOption("password", in: value) ?? security.password
            default: continue
            }
        }
        return security
    }

    static func jaasOption(_ name: String, in text: String) -> String? {
        guard let range = text.range(of: name + "=\"") else { return nil }
        let rest = text[range.upperBound...]
        guard let end = rest.firstIndex(of: "\"") else { return nil }
        return String(rest[..<end])
    }

    func tlsContext() throws(ClientError) -> TLSContext {
        do {
            return try TLSContext.client(TLSClientSettings(
                trustStorePath: caFile, verifyPeer: caFile != nil, certificateChainPath: certificateFile,
                privateKeyPath: keyFile))
        } catch {
            throw .connect("TLS: \(error.description)")
        }
    }
}
