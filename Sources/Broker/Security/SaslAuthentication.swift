import KafkaProtocol
import Security

/// Where a connection stands when a frame arrives.
enum SaslGate {
    /// Authenticated (or no authentication on this listener): serve as this principal.
    case open(String)
    /// SASL listener, not authenticated yet: only ApiVersions and the SASL APIs.
    case unauthenticated
    /// KIP-368 session lifetime over: only a re-authentication is accepted.
    case expired
    /// After SaslHandshake v0: the frame is a bare SASL token, not a Kafka request.
    case rawToken
}

/// The outcome of one SASL token, shared by SaslAuthenticate and the raw-token mode.
struct SaslTokenOutcome {
    var errorCode: Int16 = 0
    var errorMessage: String?
    var serverBytes: [UInt8] = []
    var sessionLifetimeMs: Int64 = 0
    /// The exchange failed: answer, then close the connection.
    var closeAfterResponse = false
    /// The exchange succeeded with this message.
    var authenticated = false
}

extension BrokerSecurity {
    /// A fresh server mechanism for `name`, if it is enabled (`sasl.enabled.mechanisms`).
    func makeMechanism(_ name: String) -> (any SaslServerMechanism)? {
        guard enabledMechanisms.contains(name) else { return nil }
        switch name {
        case SaslMechanisms.plain:
            return PlainServer(credentials: credentials, fakeSaltSecret: fakeSaltSecret)
        case ScramMechanism.sha256.mechanismName:
            return ScramServer(mechanism: .sha256, credentials: credentials, fakeSaltSecret: fakeSaltSecret)
        case ScramMechanism.sha512.mechanismName:
            return ScramServer(mechanism: .sha512, credentials: credentials, fakeSaltSecret: fakeSaltSecret)
        default:
            return nil
        }
    }

    /// The principal of a verified client certificate (`ssl.principal.mapping.rules`; DEFAULT
    /// takes the whole RFC 2253 subject, as Kafka does).
    func principal(forCertificateSubject subject: String) -> String {
        "User:" + subject
    }
}

extension Broker {
    /// SaslHandshake v0–v1 (KIP-43). Picks the mechanism; v0 switches the connection to bare
    /// tokens, v1 expects SaslAuthenticate. On an authenticated connection this starts a KIP-368
    /// re-authentication, which must use the same mechanism.
    func handleSaslHandshake(_ header: RequestContext, _ r: inout WireReader) throws(DecodeError) -> HandlerOutcome {
        let request = try SaslHandshakeRequest(from: &r, version: header.apiVersion)
        var response = SaslHandshakeResponse()
        response.mechanisms = security.enabledMechanisms
        guard let session = header.session, session.securityProtocol.usesSASL else {
            response.errorCode = KafkaError.illegalSaslState.rawValue
            return .respond(response)
        }
        let mechanism = security.makeMechanism(request.mechanism)
        let verdict = session.state.withLock { s -> KafkaError? in
            if s.mechanism != nil { return .illegalSaslState }  // a handshake already in progress
            guard let mechanism else { return .unsupportedSaslMechanism }
            if s.authenticated {
                guard header.apiVersion >= 1, s.lastMechanism == request.mechanism else { return .illegalSaslState }
                s.reauthenticating = true
            }
            s.mechanism = mechanism
            s.rawTokens = header.apiVersion == 0
            return nil
        }
        if let error = verdict {
            response.errorCode = error.rawValue
            return .respondThenClose(response)
        }
        return .respond(response)
    }

    /// SaslAuthenticate v0–v2: one client message per request, one server message per response;
    /// v1+ carries the session lifetime (KIP-368).
    func handleSaslAuthenticate(_ header: RequestContext, _ r: inout WireReader, _ slot: ResponseSlot)
        throws(DecodeError) -> HandlerOutcome {
        let request = try SaslAuthenticateRequest(from: &r, version: header.apiVersion)
        guard let session = header.session else { return .close(reason: "no session") }
        let outcome = saslStep(request.authBytes, session: session, slot: slot)
        var response = SaslAuthenticateResponse()
        response.errorCode = outcome.errorCode
        response.errorMessage = outcome.errorMessage
        response.authBytes = outcome.serverBytes
        response.sessionLifetimeMs = outcome.sessionLifetimeMs
        return outcome.closeAfterResponse ? .respondThenClose(response) : .respond(response)
    }

    /// A bare token after SaslHandshake v0: answered with the bare server message; a failure
    /// closes the connection without an answer (the raw mode has no way to carry an error).
    func handleRawSaslToken(_ frame: [UInt8], session: ClientSession, slot: ResponseSlot) {
        let outcome = saslStep(frame, session: session, slot: slot)
        if outcome.closeAfterResponse { return slot.closeConnection() }
        slot.complete(outcome.serverBytes)
    }

    /// Feeds one client message to the connection's mechanism and applies the result.
    func saslStep(_ message: [UInt8], session: ClientSession, slot: ResponseSlot) -> SaslTokenOutcome {
        var outcome = SaslTokenOutcome()
        let now = SystemClock.nowMs()
        let reauthMs = config.int64("connections.max.reauth.ms")
        session.state.withLock { s in
            guard var mechanism = s.mechanism else {
                outcome.errorCode = KafkaError.illegalSaslState.rawValue
                outcome.errorMessage = "SaslAuthenticate before SaslHandshake"
                outcome.closeAfterResponse = true
                return
            }
            let step = mechanism.step(message)
            switch step {
            case .challenge(let bytes):
                s.mechanism = mechanism
                outcome.serverBytes = bytes
            case .success(let user, let final):
                let principal = "User:" + user
                s.mechanism = nil
                s.rawTokens = false
                if s.reauthenticating && principal != s.principal {
                    outcome.errorCode = KafkaError.saslAuthenticationFailed.rawValue
                    outcome.errorMessage = "Re-authentication must keep the same principal"
                    outcome.closeAfterResponse = true
                    return
                }
                outcome.authenticated = true
                s.lastMechanism = mechanism.mechanismName
                s.principal = principal
                s.authenticated = true
                s.reauthenticating = false
                outcome.serverBytes = final ?? []
                if reauthMs > 0 {
                    s.sessionExpiryMs = now + reauthMs
                    outcome.sessionLifetimeMs = reauthMs
                }
            case .failure(let failure):
                s.mechanism = nil
                s.failures += 1
                outcome.errorCode = KafkaError.saslAuthenticationFailed.rawValue
                outcome.errorMessage = failure.message
                outcome.serverBytes = failure.serverFinal ?? []
                outcome.closeAfterResponse = true
            }
        }
        if outcome.authenticated {
            // The server's limits apply from the next frame on.
            slot.liftConnectionRestriction()
        }
        return outcome
    }
}
