// Development certificates: the chain verifies with OpenSSL (X509_verify_cert against the CA),
// purposes, SANs, keys match certificates, file modes, refusal to overwrite.
import Foundation
import Testing
@testable import Security

@Suite struct CertificateTests {
    @Test func developmentChainVerifies() throws {
        let directory = temporaryDirectory() + "/certs"
        defer { removeDirectory((directory as NSString).deletingLastPathComponent) }
        let written = try DevCertificates.create(directory: directory, clients: ["alice", "bob", "svc.billing"])
        #expect(written.count == 11)
        // The PEM keystore ssl.keystore.location needs: the broker's key, then its chain.
        let keystore = readText(directory + "/broker-keystore.pem")
        #expect(keystore == readText(directory + "/broker-key.pem") + readText(directory + "/broker.pem"))
        let ca = try Certificate(pem: readText(directory + "/ca.pem"))
        let broker = try Certificate(pem: readText(directory + "/broker.pem"))
        let alice = try Certificate(pem: readText(directory + "/client-alice.pem"))

        try ca.verify(trusted: [ca])
        try broker.verify(trusted: [ca], purpose: .serverAuth)
        try alice.verify(trusted: [ca], purpose: .clientAuth)
        #expect(throws: CertificateError.self) { try broker.verify(trusted: [ca], purpose: .clientAuth) }
        #expect(throws: CertificateError.self) { try alice.verify(trusted: [ca], purpose: .serverAuth) }
        // Another CA does not vouch for them.
        let otherDirectory = temporaryDirectory()
        defer { removeDirectory(otherDirectory) }
        try DevCertificates.create(directory: otherDirectory, clients: [])
        let otherCA = try Certificate(pem: readText(otherDirectory + "/ca.pem"))
        #expect(throws: CertificateError.self) { try broker.verify(trusted: [otherCA], purpose: .serverAuth) }
        // Validity: not before issue (minus an hour), not after 825 days.
        let now = Int64(Date().timeIntervalSince1970)
        #expect(throws: CertificateError.self) { try broker.verify(trusted: [ca], atSeconds: now + 900 * 86400) }
        #expect(throws: CertificateError.self) { try broker.verify(trusted: [ca], atSeconds: now - 2 * 3600) }

        #expect(broker.matches(host: "localhost"))
        #expect(broker.matches(ip: "127.0.0.1"))
        #expect(broker.matches(ip: "::1"))
        #expect(!broker.matches(host: "example.com"))
        #expect(!broker.matches(ip: "10.0.0.1"))

        #expect(alice.subjectRFC2253 == "CN=alice,OU=clients,O=Sluice Dev")
        #expect(try Certificate(der: alice.der).subjectRFC2253 == alice.subjectRFC2253)
        #expect(throws: CertificateError.self) { try Certificate(der: Array(alice.der.dropLast())) }
        #expect(try PrincipalMapper(rules: "RULE:^CN=([^,]+),OU=clients,.*$/$1/L,DEFAULT").map(alice.subjectRFC2253) == "alice")
        #expect(alice.issuerRFC2253 == "CN=Sluice Development CA,O=Sluice Dev")
        #expect(try Certificate(pem: readText(directory + "/client-svc.billing.pem")).subjectRFC2253 == "CN=svc.billing,OU=clients,O=Sluice Dev")

        let brokerKey = try AsymmetricKey.fromPEM(readText(directory + "/broker-key.pem"))
        let aliceKey = try AsymmetricKey.fromPEM(readText(directory + "/client-alice-key.pem"))
        #expect(brokerKey.kind == .ec(.p256))
        #expect(broker.matches(privateKey: brokerKey))
        #expect(alice.matches(privateKey: aliceKey))
        #expect(!broker.matches(privateKey: aliceKey))

        for name in ["ca-key.pem", "broker-key.pem", "client-alice-key.pem"] {
            var info = stat()
            stat(directory + "/" + name, &info)
            #expect(info.st_mode & 0o777 == 0o600, "\(name)")
        }
        // broker.pem carries the chain (leaf then CA) for PEM keystores (KIP-651).
        #expect(readText(directory + "/broker.pem").components(separatedBy: "BEGIN CERTIFICATE").count == 3)
    }

    @Test func refusesToOverwriteWithoutForce() throws {
        let directory = temporaryDirectory()
        defer { removeDirectory(directory) }
        try DevCertificates.create(directory: directory, clients: ["alice"])
        let before = readText(directory + "/ca.pem")
        do {
            try DevCertificates.create(directory: directory, clients: ["alice"])
            Issue.record("overwrote")
        } catch {
            #expect(error.message.contains("--force"))
        }
        try DevCertificates.create(directory: directory, clients: ["alice"], force: true)
        #expect(readText(directory + "/ca.pem") != before)
        #expect(throws: CertificateError.self) { try DevCertificates.create(directory: directory, clients: ["../x"], force: true) }
        #expect(throws: CertificateError.self) { try Certificate(pem: "garbage") }
        #expect(throws: KeyError.self) { try AsymmetricKey.fromPEM("garbage") }
    }
}
