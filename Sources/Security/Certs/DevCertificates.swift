// `sluice certs init`: a development CA, a broker certificate and client certificates, all EC
// P-256 keys and SHA-256 signatures made by OpenSSL. For development and tests only: the CA key
// sits next to the certificates.

public enum DevCertificates {
    /// Demo users that get a client certificate when none are named.
    public static let defaultClients = ["alice", "bob"]
    public static let caValidityDays = 3650
    /// 825 days: the longest validity clients such as macOS accept for a server certificate.
    public static let leafValidityDays = 825

    /// Writes `ca.pem`, `ca-key.pem`, `broker.pem`, `broker-key.pem`, `broker-keystore.pem` (the
    /// key and chain in one file, KIP-651's PEM keystore) and
    /// `client-<name>.pem`/`client-<name>-key.pem` into `directory` (created when missing). Keys
    /// get mode 0600, certificates 0644. Refuses to overwrite existing files unless `force`.
    /// Returns the paths written.
    @discardableResult
    public static func create(directory: String, clients: [String] = defaultClients, force: Bool = false,
                              brokerHosts: [String] = ["localhost"], brokerIPs: [String] = ["127.0.0.1", "::1"])
        throws(CertificateError) -> [String] {
        for client in clients {
            guard !client.isEmpty, client.utf8.allSatisfy({ isNameByte($0) }) else {
                throw CertificateError("client name \(Json.quote(client)) must use letters, digits, '.', '_' or '-'")
            }
        }
        guard Set(clients).count == clients.count else { throw CertificateError("a client name is given twice") }
        let names = ["ca.pem", "ca-key.pem", "broker.pem", "broker-key.pem", "broker-keystore.pem"]
            + clients.flatMap { ["client-\($0).pem", "client-\($0)-key.pem"] }
        if !force {
            let existing = names.filter { (try? SecurityFiles.read(directory + "/" + $0)) != nil }
            guard existing.isEmpty else {
                throw CertificateError("\(directory) already holds \(existing.joined(separator: ", ")); use --force to replace")
            }
        }
        do {
            try SecurityFiles.makeDirectory(directory)
        } catch {
            throw CertificateError(error.description)
        }

        let caKey = AsymmetricKey.generateEC(.p256)
        let ca = try Certificate.issue(
            subject: [("O", "Sluice Dev"), ("CN", "Sluice Development CA")], publicKey: caKey, signingKey: caKey, issuer: nil,
            validityDays: caValidityDays,
            extensions: [(CertificateExtension.basicConstraints, "critical,CA:TRUE,pathlen:0"),
                         (CertificateExtension.keyUsage, "critical,keyCertSign,cRLSign"),
                         (CertificateExtension.subjectKeyIdentifier, "hash")])
        var outputs: [(String, String, Bool)] = [("ca.pem", ca.pem, false), ("ca-key.pem", caKey.privateKeyPEM(), true)]

        let sans = (brokerHosts.map { "DNS:" + $0 } + brokerIPs.map { "IP:" + $0 }).joined(separator: ",")
        let brokerKey = AsymmetricKey.generateEC(.p256)
        let broker = try Certificate.issue(
            subject: [("O", "Sluice Dev"), ("OU", "brokers"), ("CN", brokerHosts.first ?? "localhost")],
            publicKey: brokerKey, signingKey: caKey, issuer: ca, validityDays: leafValidityDays,
            extensions: leafExtensions(usage: "serverAuth") + [(CertificateExtension.subjectAltName, sans)])
        outputs += [("broker.pem", broker.pem + ca.pem, false), ("broker-key.pem", brokerKey.privateKeyPEM(), true),
                    // KIP-651's PEM keystore, what `ssl.keystore.location` points at: the key, then the chain.
                    ("broker-keystore.pem", brokerKey.privateKeyPEM() + broker.pem + ca.pem, true)]

        for client in clients {
            let key = AsymmetricKey.generateEC(.p256)
            let certificate = try Certificate.issue(
                subject: [("O", "Sluice Dev"), ("OU", "clients"), ("CN", client)],
                publicKey: key, signingKey: caKey, issuer: ca, validityDays: leafValidityDays,
                extensions: leafExtensions(usage: "clientAuth"))
            outputs += [("client-\(client).pem", certificate.pem, false), ("client-\(client)-key.pem", key.privateKeyPEM(), true)]
        }
        var written: [String] = []
        for (name, text, secret) in outputs {
            let path = directory + "/" + name
            do {
                try SecurityFiles.writeAtomically(path, Array(text.utf8), mode: secret ? 0o600 : 0o644)
            } catch {
                throw CertificateError(error.description)
            }
            written.append(path)
        }
        return written
    }

    private static func leafExtensions(usage: String) -> [(Int32, String)] {
        [(CertificateExtension.basicConstraints, "critical,CA:FALSE"),
         (CertificateExtension.keyUsage, "critical,digitalSignature"),
         (CertificateExtension.extendedKeyUsage, usage),
         (CertificateExtension.subjectKeyIdentifier, "hash"),
         (CertificateExtension.authorityKeyIdentifier, "keyid:always")]
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
            || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
    }
}
