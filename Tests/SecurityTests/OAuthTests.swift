// OAUTHBEARER: base64url, JWK sets, JWS verification through OpenSSL, JWT claims (KIP-768
// semantics), the JWKS file store and the RFC 7628 server exchange.
// Method: RSA and EC keys generated at test time, tokens signed by the test (OAuthTestSupport).
import Foundation
import Testing
@testable import Security

@Suite struct Base64URLTests {
    @Test func roundTripAndStrictness() {
        for length in 0..<20 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 * 37 + 11) }
            #expect(Base64URL.decode(Base64URL.encode(bytes)) == bytes)
        }
        #expect(Base64URL.encode(bytes("\u{FB}\u{FF}")) == "w7vDvw")
        #expect(Base64URL.decode("w7vDvw") == bytes("\u{FB}\u{FF}"))
        #expect(Base64URL.decode("w7vDvw==") == nil)   // padding refused
        #expect(Base64URL.decode("w7+Dvw") == nil)     // standard alphabet refused
        #expect(Base64URL.decode("w7vD vw") == nil)    // whitespace
        #expect(Base64URL.decode("abcde") == nil)      // length 1 mod 4
        #expect(Base64URL.decode("QR") == nil)         // non-zero trailing bits ("QQ" is canonical)
        #expect(Base64URL.decode("QQ") == [0x41])
    }
}

@Suite struct JsonTests {
    @Test func parsesAndRefuses() throws {
        let value = try Json.parse(bytes(#" {"a":[1,-2.5e3,true,null],"b":"x\u00e9\n\ud83d\ude00"} "#))
        #expect(value["b"] == .string("x\u{e9}\n\u{1F600}"))
        for bad in [#"{"a":1,"a":2}"#, "{", "[1,]", "01", "\"\u{01}\"", #""\ud800""#, "{} x", "1e999"] {
            #expect(throws: JsonError.self) { try Json.parse(bytes(bad)) }
        }
        let deep = String(repeating: "[", count: 40) + String(repeating: "]", count: 40)
        #expect(throws: JsonError.self) { try Json.parse(bytes(deep)) }
        #expect(Json.quote("a\"\\\n\u{1}\u{2028}") == #""a\"\\\n\u0001\u2028""#)
    }
}

@Suite struct JwksTests {
    @Test func parsesRsaAndEcKeysAndRoundTrips() throws {
        let set = JsonWebKeySet(keys: [TestSigner.rsa.jwk, TestSigner.ec.jwk, TestSigner.ec384.jwk])
        let parsed = try JsonWebKeySet.parse(bytes(set.json))
        #expect(parsed.keys.map(\.keyId) == ["rsa-1", "ec-1", "ec-384"])
        #expect(parsed.keys[0].key.publicParameters == TestSigner.rsa.key.publicParameters)
        #expect(parsed.keys[1].key.kind == .ec(.p256))
        #expect(parsed.keys[2].key.kind == .ec(.p384))
        #expect(parsed.skipped.isEmpty)
    }

    @Test func skipsUnusableKeys() throws {
        let ec = TestSigner.ec.jwk.json.dropLast()
        let text = """
            {"keys":[\(TestSigner.rsa.jwk.json),
              {"kty":"oct","kid":"h"},
              {"kty":"RSA","kid":"enc","use":"enc","n":"AQAB","e":"AQAB"},
              {"kty":"EC","kid":"k1","crv":"secp256k1","x":"AA","y":"AA"},
              {"kty":"RSA","kid":"small","n":"\(Base64URL.encode([UInt8](repeating: 0xC3, count: 128)))","e":"AQAB"},
              {"kty":"EC","kid":"offcurve","crv":"P-256","x":"\(Base64URL.encode([UInt8](repeating: 1, count: 32)))","y":"\(Base64URL.encode([UInt8](repeating: 2, count: 32)))"},
              \(ec.replacingOccurrences(of: "\"kid\":\"ec-1\"", with: "\"kid\":\"ec-rs\"")),"alg":"RS256"}]}
            """
        let set = try JsonWebKeySet.parse(bytes(text))
        #expect(set.keys.map(\.keyId) == ["rsa-1"])
        #expect(set.skipped.count == 6)
        #expect(set.skipped.contains { $0.contains("\"small\"") && $0.contains("at least 2048") })
        #expect(set.skipped.contains { $0.contains("\"offcurve\"") && $0.contains("not on curve") })
        #expect(set.skipped.contains { $0.contains("\"h\"") && $0.contains("oct") })
    }

    @Test func refusesBrokenSets() {
        let cases: [(String, String)] = [
            ("[]", "\"keys\" array"),
            ("{\"keys\":[]}", "no usable"),
            ("{\"keys\":[\(TestSigner.rsa.jwk.json),\(TestSigner.rsa.jwk.json)]}", "more than one key"),
            ("{\"keys\":[{\"kty\":\"EC\",\"d\":\"AA\"}]}", "private"),
            ("{\"keys\":[{\"kty\":\"oct\",\"k\":\"AA\"}]}", "secret"),
            ("{\"keys\":", "not valid JSON"),
        ]
        for (text, fragment) in cases {
            do {
                _ = try JsonWebKeySet.parse(bytes(text))
                Issue.record("accepted \(text)")
            } catch {
                #expect(error.message.contains(fragment), "\(error.message)")
            }
        }
    }
}

@Suite struct JwtValidationTests {
    let keys = JsonWebKeySet(keys: [TestSigner.rsa.jwk, TestSigner.ec.jwk, TestSigner.ec384.jwk])
    let validator = JwtValidator(config: OAuthBearerConfig(expectedIssuer: "https://idp.test", expectedAudiences: ["other", "sluice"]))

    func refusal(_ token: String, at now: Int64 = nowMs, validator: JwtValidator? = nil, keys: JsonWebKeySet? = nil) -> TokenError? {
        do {
            _ = try (validator ?? self.validator).validate(token, keys: keys ?? self.keys, nowMs: now)
            return nil
        } catch {
            return error
        }
    }

    @Test func validRS256AndES256AndES384() throws {
        for signer in [TestSigner.rsa, TestSigner.ec, TestSigner.ec384] {
            let token = try validator.validate(signer.token(claims(extra: "\"scope\":\"read write\"")), keys: keys, nowMs: nowMs)
            #expect(token.principal == "alice")
            #expect(token.expiresAtMs == (nowSeconds + 600) * 1000)
            #expect(token.scopes == ["read", "write"])
            #expect(token.audiences == ["sluice"])
            #expect(token.algorithm == signer.algorithm)
        }
    }

    /// RFC 7515 Appendix A.3: the ES256 example (JWK, header, payload with CRLFs, r || s).
    @Test func rfc7515AppendixA3() throws {
        let jwks = try JsonWebKeySet.parse(bytes("""
            {"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",\
            "y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}
            """))
        let token = "eyJhbGciOiJFUzI1NiJ9"
            + ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
            + ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q"
        let rfc = JwtValidator(config: OAuthBearerConfig(subjectClaimName: "iss"))
        let result = try rfc.validate(token, keys: jwks, nowMs: 1_300_819_300_000)
        #expect(result.principal == "joe" && result.expiresAtMs == 1_300_819_380_000 && result.algorithm == .es256)
        #expect(refusal(token, at: 1_300_819_410_000, validator: rfc, keys: jwks)?.kind == .expired)
        let flipped = String(token.dropLast()) + "A"
        #expect(refusal(flipped, at: 1_300_819_300_000, validator: rfc, keys: jwks)?.kind == .badSignature)
    }

    @Test func validPS256AndRS512() throws {
        for algorithm in [JwsAlgorithm.ps256, .rs384, .rs512, .ps512] {
            let token = try validator.validate(TestSigner.rsa.with(algorithm: algorithm).token(claims()), keys: keys, nowMs: nowMs)
            #expect(token.algorithm == algorithm)
        }
    }

    @Test func timeClaimsAndSkew() {
        let expiring = TestSigner.ec.token(claims(exp: nowSeconds))
        #expect(refusal(expiring, at: nowMs + 29_999) == nil)                    // inside the 30 s skew
        #expect(refusal(expiring, at: nowMs + 30_000)?.kind == .expired)         // skew exhausted
        #expect(refusal(TestSigner.ec.token(claims(exp: nowSeconds - 3600)))?.kind == .expired)
        let later = TestSigner.ec.token(claims(nbf: nowSeconds + 60))
        #expect(refusal(later)?.kind == .notYetValid)
        #expect(refusal(later, at: nowMs + 30_000) == nil)
        #expect(refusal(TestSigner.ec.token(claims(iat: nowSeconds + 120)))?.kind == .issuedInFuture)
        #expect(refusal(TestSigner.ec.token(claims(exp: nil)))?.kind == .missingClaim)
        #expect(refusal(TestSigner.ec.token(claims(exp: nil, extra: "\"exp\":\"soon\"")))?.kind == .invalidClaim)
        let strict = JwtValidator(config: OAuthBearerConfig(clockSkewSeconds: 0, requireIssuedAt: true))
        #expect(refusal(expiring, at: nowMs, validator: strict)?.kind == .expired)
        #expect(refusal(TestSigner.ec.token(claims(iat: nil)), validator: strict)?.kind == .missingClaim)
        #expect(refusal(TestSigner.ec.token(claims(exp: nowSeconds + 1, iat: nowSeconds)), at: nowMs + 999, validator: strict) == nil)
    }

    @Test func issuerAndAudience() {
        #expect(refusal(TestSigner.rsa.token(claims(iss: "https://evil.test")))?.kind == .wrongIssuer)
        #expect(refusal(TestSigner.rsa.token(claims(iss: nil)))?.kind == .missingClaim)
        #expect(refusal(TestSigner.rsa.token(claims(aud: "\"billing\"")))?.kind == .wrongAudience)
        #expect(refusal(TestSigner.rsa.token(claims(aud: "[\"a\",\"b\"]")))?.kind == .wrongAudience)
        #expect(refusal(TestSigner.rsa.token(claims(aud: "[\"a\",\"sluice\"]"))) == nil)
        #expect(refusal(TestSigner.rsa.token(claims(aud: nil)))?.kind == .missingClaim)
        #expect(refusal(TestSigner.rsa.token(claims(aud: "[1]")))?.kind == .invalidClaim)
        let open = JwtValidator()
        #expect(refusal(TestSigner.rsa.token(claims(iss: "x", aud: nil)), validator: open) == nil)
    }

    @Test func principalAndScopeClaims() throws {
        let custom = JwtValidator(config: OAuthBearerConfig(subjectClaimName: "client_id", scopeClaimName: "scp"))
        let token = TestSigner.rsa.token(claims(extra: "\"client_id\":\"  svc-billing \",\"scp\":[\"a\",\"b\"]"))
        let result = try custom.validate(token, keys: keys, nowMs: nowMs)
        #expect(result.principal == "svc-billing")
        #expect(result.scopes == ["a", "b"])
        #expect(refusal(TestSigner.rsa.token(claims()), validator: custom)?.kind == .missingClaim)
        #expect(refusal(TestSigner.rsa.token(claims(sub: "  ")))?.kind == .invalidClaim)
        #expect(refusal(TestSigner.rsa.token(claims(extra: "\"scope\":[\"a\",\"a\"]")))?.kind == .invalidClaim)
        #expect(refusal(TestSigner.rsa.token(claims(extra: "\"scope\":5")))?.kind == .invalidClaim)
    }

    @Test func untrustedAndUnknownKeys() {
        #expect(refusal(TestSigner.stranger.token(claims()))?.kind == .badSignature)
        let unknown = TestSigner(key: TestSigner.rsa.key, keyId: "rotated-away", algorithm: .rs256)
        #expect(refusal(unknown.token(claims()))?.kind == .unknownKey)
        let noKid = TestSigner(key: TestSigner.rsa.key, keyId: nil, algorithm: .rs256)
        #expect(refusal(noKid.token(claims()))?.message == "token has no \"kid\" and the key set holds 3 keys")
        // Without a kid, a set of one key is used.
        #expect(refusal(noKid.token(claims()), keys: JsonWebKeySet(keys: [TestSigner.rsa.jwk])) == nil)
        // A kid is compared whole: a long kid never matches a key whose kid is its prefix.
        let longKid = String(repeating: "k", count: 300)
        let prefixKeys = JsonWebKeySet(keys: [JsonWebKey(keyId: String(longKid.prefix(256)), algorithm: nil, use: nil, key: TestSigner.rsa.key)])
        #expect(refusal(TestSigner(key: TestSigner.rsa.key, keyId: longKid, algorithm: .rs256).token(claims()), keys: prefixKeys)?.kind == .malformed)
    }

    @Test func algorithmNoneAndConfusion() {
        let unsigned = Base64URL.encode("{\"alg\":\"none\",\"kid\":\"rsa-1\"}") + "." + Base64URL.encode(claims()) + "."
        #expect(refusal(unsigned)?.kind == .malformed)     // empty signature part
        let unsignedWithJunk = Base64URL.encode("{\"alg\":\"none\",\"kid\":\"rsa-1\"}") + "." + Base64URL.encode(claims()) + ".AAAA"
        #expect(refusal(unsignedWithJunk)?.kind == .unsupportedAlgorithm)
        #expect(refusal(unsignedWithJunk)?.message.contains("none") == true)

        // HS256 "signed" with the RSA public key's PEM as the HMAC secret.
        let input = Base64URL.encode("{\"alg\":\"HS256\",\"kid\":\"rsa-1\"}") + "." + Base64URL.encode(claims())
        let mac = Crypto.hmac(.sha256, key: bytes(TestSigner.rsa.key.publicKeyPEM()), data: bytes(input))
        let confused = input + "." + Base64URL.encode(mac)
        #expect(refusal(confused)?.kind == .unsupportedAlgorithm)
        #expect(refusal(confused)?.message.contains("HMAC") == true)

        // An EC algorithm on the RSA key, an RSA algorithm on the EC key, ES384 on a P-256 key.
        #expect(refusal(TestSigner(key: TestSigner.ec.key, keyId: "rsa-1", algorithm: .es256).token(claims()))?.kind == .unsupportedAlgorithm)
        #expect(refusal(TestSigner(key: TestSigner.rsa.key, keyId: "ec-1", algorithm: .rs256).token(claims()))?.kind == .unsupportedAlgorithm)
        #expect(refusal(TestSigner(key: TestSigner.ec384.key, keyId: "ec-1", algorithm: .es384).token(claims()))?.kind == .unsupportedAlgorithm)
        // The JWK's own alg restricts the key.
        let pinned = JsonWebKeySet(keys: [JsonWebKey(keyId: "rsa-1", algorithm: .ps256, use: nil, key: TestSigner.rsa.key)])
        #expect(refusal(TestSigner.rsa.token(claims()), keys: pinned)?.kind == .unsupportedAlgorithm)
        #expect(refusal(TestSigner.rsa.with(algorithm: .ps256).token(claims()), keys: pinned) == nil)
        // An embedded jwk header is never trusted.
        let embedded = TestSigner.stranger.token(claims(), header: "{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"jwk\":\(TestSigner.stranger.jwk.json)}")
        #expect(refusal(embedded)?.kind == .badSignature)
        #expect(refusal(TestSigner.rsa.token(claims(), header: "{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"crit\":[\"exp\"]}"))?.kind == .malformed)
    }

    @Test func tamperingAndMalformedTokens() {
        let token = TestSigner.ec.token(claims())
        let parts = token.split(separator: ".").map(String.init)
        let tampered = parts[0] + "." + Base64URL.encode(claims(sub: "admin")) + "." + parts[2]
        #expect(refusal(tampered)?.kind == .badSignature)
        var signature = Base64URL.decode(parts[2])!
        signature[5] ^= 1
        #expect(refusal(parts[0] + "." + parts[1] + "." + Base64URL.encode(signature))?.kind == .badSignature)
        #expect(refusal(parts[0] + "." + parts[1] + "." + Base64URL.encode(Array(signature.prefix(63))))?.kind == .badSignature)
        // RSA signature of the wrong length.
        let rsaParts = TestSigner.rsa.token(claims()).split(separator: ".").map(String.init)
        #expect(refusal(rsaParts[0] + "." + rsaParts[1] + "." + Base64URL.encode([UInt8](repeating: 7, count: 255)))?.kind == .badSignature)

        let malformed = [
            "", "abc", "a.b", "a.b.c.d", "a.b.c.d.e",
            parts[0] + "=." + parts[1] + "." + parts[2],                     // padding
            parts[0] + "." + parts[1] + "+." + parts[2],                     // standard alphabet
            Base64URL.encode("not json") + "." + parts[1] + "." + parts[2],
            Base64URL.encode("[1]") + "." + parts[1] + "." + parts[2],
            Base64URL.encode("{\"alg\":\"ES256\",\"alg\":\"none\"}") + "." + parts[1] + "." + parts[2],
            Base64URL.encode("{\"kid\":\"ec-1\"}") + "." + parts[1] + "." + parts[2],
        ]
        for text in malformed {
            #expect(refusal(text)?.kind == .malformed, "\(text)")
        }
        // Claims that are not JSON, signed properly: refused after the signature check.
        #expect(refusal(TestSigner.ec.token("not json"))?.kind == .malformed)
        #expect(refusal(String(repeating: "a", count: 70_000))?.kind == .malformed)
    }

    @Test func errorsNeverEchoTheToken() {
        let token = TestSigner.stranger.token(claims(sub: "secret-subject"))
        let message = refusal(token)?.message ?? ""
        #expect(!message.contains("secret-subject"))
        #expect(!message.contains(String(token.prefix(20))))
    }

    @Test func configFromKafkaProperties() throws {
        let config = try OAuthBearerConfig(properties: [
            "sasl.oauthbearer.expected.issuer": "https://idp",
            "sasl.oauthbearer.expected.audience": "a, b ,",
            "sasl.oauthbearer.sub.claim.name": "azp",
            "sasl.oauthbearer.clock.skew.seconds": "5",
        ])
        #expect(config == OAuthBearerConfig(expectedIssuer: "https://idp", expectedAudiences: ["a", "b"],
                                            subjectClaimName: "azp", clockSkewSeconds: 5))
        #expect(throws: OAuthConfigError.self) { try OAuthBearerConfig(properties: ["sasl.oauthbearer.clock.skew.seconds": "-1"]) }
        #expect(throws: OAuthConfigError.self) { try OAuthBearerConfig(properties: ["sasl.oauthbearer.sub.claim.name": " "]) }
    }
}

@Suite struct JwksStoreTests {
    @Test func reloadsReplacedFileAndKeepsOldKeysOnError() throws {
        let directory = temporaryDirectory()
        defer { removeDirectory(directory) }
        let path = directory + "/jwks.json"
        writeText(path, JsonWebKeySet(keys: [TestSigner.rsa.jwk]).json)
        let store = try JwksStore(url: "file://" + path, nowMs: nowMs, checkIntervalMs: 1000)
        let validator = JwtValidator()
        #expect(throws: Never.self) { try validator.validate(TestSigner.rsa.token(claims()), keys: store.keys(nowMs: nowMs), nowMs: nowMs) }
        #expect(throws: TokenError.self) { try validator.validate(TestSigner.ec.token(claims()), keys: store.keys(nowMs: nowMs), nowMs: nowMs) }

        // Replaced at run time (rename over the old file, as an operator's tooling would).
        writeText(path + ".new", JsonWebKeySet(keys: [TestSigner.ec.jwk]).json)
        rename(path + ".new", path)
        // Not checked again before the interval passed.
        #expect(store.keys(nowMs: nowMs + 500).keys.map(\.keyId) == ["rsa-1"])
        #expect(store.keys(nowMs: nowMs + 1000).keys.map(\.keyId) == ["ec-1"])
        #expect(throws: Never.self) { try validator.validate(TestSigner.ec.token(claims()), keys: store.keys(nowMs: nowMs + 1000), nowMs: nowMs) }

        // A broken file keeps the previous keys and says why.
        writeText(path, "{\"keys\":[")
        let status = store.refresh(nowMs: nowMs + 2000)
        #expect(status.keyIds == ["ec-1"])
        #expect(status.lastError?.contains("not valid JSON") == true)
        #expect(status.lastError?.contains("previous keys stay in force") == true)
        #expect(store.keys(nowMs: nowMs + 3000).keys.map(\.keyId) == ["ec-1"])
        // Deleted: still the previous keys.
        unlink(path)
        #expect(store.refresh(nowMs: nowMs + 4000).lastError?.contains("no such file") == true)
        // Fixed: loaded, error cleared.
        writeText(path, JsonWebKeySet(keys: [TestSigner.rsa.jwk, TestSigner.ec.jwk]).json)
        let fixed = store.refresh(nowMs: nowMs + 5000)
        #expect(fixed.keyIds == ["rsa-1", "ec-1"] && fixed.lastError == nil)
    }

    @Test func urlsAndFirstLoad() {
        #expect((try? JwksStore.path(fromURL: "file:///etc/jwks%20set.json")) == "/etc/jwks set.json")
        #expect((try? JwksStore.path(fromURL: "file://localhost/x")) == "/x")
        #expect(throws: JwksError.self) { try JwksStore.path(fromURL: "https://idp/jwks") }
        #expect(throws: JwksError.self) { try JwksStore.path(fromURL: "file://relative") }
        #expect(throws: JwksError.self) { try JwksStore(url: "file:///nonexistent/jwks.json", nowMs: 0) }
    }
}

@Suite struct OAuthBearerServerTests {
    let keys = JsonWebKeySet(keys: [TestSigner.rsa.jwk, TestSigner.ec.jwk])

    func server(_ config: OAuthBearerConfig = OAuthBearerConfig(expectedAudiences: ["sluice"])) -> OAuthBearerServer {
        OAuthBearerServer(validator: JwtValidator(config: config), keys: keys, clock: { nowMs })
    }

    func message(_ token: String, authzid: String? = nil, extensions: String = "") -> [UInt8] {
        bytes("n,\(authzid.map { "a=\($0)" } ?? ""),\u{1}auth=Bearer \(token)\u{1}\(extensions)\u{1}")
    }

    @Test func successCarriesPrincipalExpiryAndExtensions() {
        var server = server()
        let step = server.step(message(TestSigner.ec.token(claims()), authzid: "alice", extensions: "traceId=abc 1\u{1}"))
        #expect(step == .success(principal: "alice", finalMessage: nil))
        #expect(server.credentialExpiresAtMs == (nowSeconds + 600) * 1000)
        #expect(server.extensions == ["traceId": "abc 1"])
        #expect(server.token?.principal == "alice")
        let generic: any SaslServerMechanism = server
        #expect(generic.credentialExpiresAtMs == (nowSeconds + 600) * 1000)
        #expect(server.step([1]) == .failure(SaslFailure(kind: .protocolViolation, message: "OAUTHBEARER exchange already complete")))
        var plain: any SaslServerMechanism = PlainServer(credentials: store([]), fakeSaltSecret: testSecret)
        _ = plain.step(bytes("\0a\0b"))
        #expect(plain.credentialExpiresAtMs == nil)
    }

    @Test func invalidTokenGetsJsonErrorThenFailsOnKvsep() {
        var server = server()
        let first = server.step(message(TestSigner.stranger.token(claims())))
        #expect(first == .challenge(bytes("{\"status\":\"invalid_token\"}")))
        #expect(server.tokenError?.kind == .badSignature)
        guard case .failure(let failure) = server.step([0x01]) else { Issue.record("expected failure"); return }
        #expect(failure.kind == .authenticationFailed)
        #expect(failure.message.hasPrefix("Authentication failed: invalid token"))
        #expect(server.credentialExpiresAtMs == nil)

        var other = OAuthBearerServer(validator: JwtValidator(), keys: keys, clock: { nowMs }, errorScope: "kafka",
                                      openidConfiguration: "https://idp/.well-known/openid-configuration")
        #expect(other.step(message(TestSigner.ec.token(claims(exp: nowSeconds - 100)))) == .challenge(bytes(
            "{\"status\":\"invalid_token\",\"scope\":\"kafka\",\"openid-configuration\":\"https://idp/.well-known/openid-configuration\"}")))
        guard case .failure(let violation) = other.step(message(TestSigner.ec.token(claims()))) else { Issue.record("expected failure"); return }
        #expect(violation.kind == .protocolViolation)
    }

    @Test func expiredWrongAudienceAndNoneAllChallenge() {
        let tokens = [
            TestSigner.ec.token(claims(exp: nowSeconds - 100)),
            TestSigner.ec.token(claims(aud: "\"other\"")),
            Base64URL.encode("{\"alg\":\"none\"}") + "." + Base64URL.encode(claims()) + ".AA",
        ]
        for token in tokens {
            var server = server()
            #expect(server.step(message(token)) == .challenge(bytes("{\"status\":\"invalid_token\"}")))
        }
    }

    @Test func authzidMustMatchPrincipal() {
        var server = server()
        guard case .failure(let failure) = server.step(message(TestSigner.ec.token(claims()), authzid: "bob")) else {
            Issue.record("expected failure"); return
        }
        #expect(failure.kind == .unsupported)
        var escaped = self.server()
        #expect(escaped.step(message(TestSigner.ec.token(claims(sub: "a,b=c")), authzid: "a=2Cb=3Dc"))
                == .success(principal: "a,b=c", finalMessage: nil))
    }

    @Test func grammarErrors() {
        let token = TestSigner.ec.token(claims())
        let cases: [(String, String)] = [
            ("", "too short"),
            ("\u{1}", "too short"),
            ("\u{1}\u{1}", "GS2 header"),
            ("y,,\u{1}auth=Bearer \(token)\u{1}\u{1}", "channel binding"),
            ("p=tls-unique,,\u{1}auth=Bearer \(token)\u{1}\u{1}", "channel binding"),
            ("n,\u{1}auth=Bearer \(token)\u{1}\u{1}", "GS2 header"),
            ("n,,auth=Bearer \(token)\u{1}\u{1}", "%x01 after the GS2 header"),
            ("n,,\u{1}auth=Bearer \(token)\u{1}", "final %x01"),
            ("n,,\u{1}auth=Bearer \(token)\u{1}\u{1}x", "after the final"),
            ("n,,\u{1}auth=Bearer \(token)", "not terminated"),
            ("n,,\u{1}\u{1}", "'auth' not specified"),
            ("n,,\u{1}auth=Basic \(token)\u{1}\u{1}", "Bearer"),
            ("n,,\u{1}auth=Bearer\u{1}\u{1}", "'auth' format"),
            ("n,,\u{1}auth=Bearer a+b/c=\u{1}\u{1}", "'auth' format"),
            ("n,,\u{1}auth=Bearer \(token)\u{1}auth=Bearer \(token)\u{1}\u{1}", "twice"),
            ("n,,\u{1}auth=Bearer \(token)\u{1}k1=v\u{1}\u{1}", "invalid key"),
            ("n,,\u{1}auth=Bearer \(token)\u{1}novalue\u{1}\u{1}", "without '='"),
            ("n,,\u{1}auth=Bearer \(token)\u{1}k=\u{1}\u{1}", "invalid value"),
            ("n,a=al=ice,\u{1}auth=Bearer \(token)\u{1}\u{1}", "invalid authzid"),
            ("n,a=alice\u{1}auth=Bearer \(token)\u{1}\u{1}", "unterminated authzid"),
        ]
        for (text, fragment) in cases {
            var server = server()
            guard case .failure(let failure) = server.step(bytes(text)) else {
                Issue.record("accepted \(text.debugDescription)")
                continue
            }
            #expect(failure.kind == .malformed)
            #expect(failure.message.contains(fragment), "\(text.debugDescription): \(failure.message)")
            #expect(!failure.message.contains(token))
        }
        var big = server()
        guard case .failure(let tooLong) = big.step([UInt8](repeating: 0x41, count: OAuthBearerServer.maxMessageBytes + 1)) else {
            Issue.record("expected failure"); return
        }
        #expect(tooLong.message.contains("too long"))
    }
}
