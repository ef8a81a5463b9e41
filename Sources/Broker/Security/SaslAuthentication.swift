import Dispatch
import KafkaProtocol
import Security

/// Where a connection stands when a frame arrives.
enum SaslGate {
    /// Authenticated (or no authentication on this listener): serve as this principal.
    case open(String, [String: [String]])
    /// SASL listener, not authenticated yet: only ApiVersions and the SASL APIs.
    case unauthenticated
    /// KIP-368 session lifetime over: only a re-authentication is accepted.
    case expired
    /// After SaslHandshake v0: the frame is a bare SASL token, not a Kafka request.
    case rawToken
    /// The client certificate maps to no principal: close.
    case rejected
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
    /// Hold the answer back this long (the login throttle's delay for this address).
    var delayMs: Int64 = 0
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
        case SaslMechanisms.oauthBearer:
            guard let oauth else { return nil }
            return OAuthBearerServer(validator: oauth.validator, keys: oauth.keys.keys(nowMs: SystemClock.nowMs()),
                                     clock: { SystemClock.nowMs() })
        default:
            return nil
        }
    }

    /// The principal of a verified client certificate by `ssl.principal.mapping.rules` (DEFAULT
    /// takes the whole RFC 2253 subject, as Kafka does); nil when no rule matches (Kafka then
    /// fails the connection).
    func principal(forCertificateSubject subject: String) -> String? {
        (try? principalMapper.map(subject)).map { "User:" + $0 }
    }
}

extension Broker {
    /// SaslHandshake v0–v1 (KIP-43). Picks the mechanism; v0 switches the connection to bare
    /// tokens, v1 expects SaslAuthenticate. On an authenticated connection this starts a KIP-368
    /// re-authentication, which must use the same mechanism.
    func handleSaslHandshake(_ header: RequestContext, _ r: inout WireReader, _ slot: ResponseSlot)
        throws(DecodeError) -> HandlerOutcome {
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
        // A re-authentication must finish within the authentication timeout, like the first one.
        if session.state.withLock({ $0.reauthenticating }) { slot.armAuthenticationDeadline() }
        return .respond(response)
    }

    /// SaslAuthenticate v0–v2: one client message per request, one server message per response;
    /// v1+ carries the session lifetime (KIP-368).
    func handleSaslAuthenticate(_ header: RequestContext, _ r: inout WireReader, _ slot: ResponseSlot)
        throws(DecodeError) -> HandlerOutcome {
        let request = try SaslAuthenticateRequest(from: &r, version: header.apiVersion)
        guard let session = header.session else { return .close(reason: "no session") }
        let outcome = saslStep(request.authBytes, session: session, api: "SaslAuthenticate")
        var response = SaslAuthenticateResponse()
        response.errorCode = outcome.errorCode
        response.errorMessage = outcome.errorMessage
        response.authBytes = outcome.serverBytes
        response.sessionLifetimeMs = outcome.sessionLifetimeMs
        let answer = ResponseFramer.frame(response, apiKey: header.apiKey, version: header.apiVersion,
                                          correlationId: header.correlationId)
        deliver(outcome, answer, slot)
        return .deferred
    }

    /// A bare token after SaslHandshake v0: answered with the bare server message; a failure
    /// closes the connection without an answer (the raw mode has no way to carry an error).
    func handleRawSaslToken(_ frame: [UInt8], session: ClientSession, slot: ResponseSlot) {
        let outcome = saslStep(frame, session: session, api: "SaslHandshake(v0 token)")
        deliver(outcome, outcome.closeAfterResponse ? nil : outcome.serverBytes, slot)
    }

    /// Sends a SASL answer now or after the login throttle's delay; lifts the pre-authentication
    /// limits once authenticated (before the next frame is read: the answer is what releases it).
    private func deliver(_ outcome: SaslTokenOutcome, _ answer: [UInt8]?, _ slot: ResponseSlot) {
        let send: @Sendable () -> Void = {
            if outcome.authenticated { slot.liftConnectionRestriction() }
            switch (answer, outcome.closeAfterResponse) {
            case (let bytes?, false): slot.complete(bytes)
            case (let bytes?, true): slot.completeThenClose(bytes)
            case (nil, _): slot.closeConnection()
            }
        }
        if outcome.delayMs > 0 {
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(Int(outcome.delayMs)), execute: send)
        } else {
            send()
        }
    }

    /// Feeds one client message to the connection's mechanism and applies the result: the login
    /// throttle per source address, the session's principal and lifetime, the audit line.
    func saslStep(_ message: [UInt8], session: ClientSession, api: String) -> SaslTokenOutcome {
        var outcome = SaslTokenOutcome()
        let now = SystemClock.nowMs()
        let reauthMs = config.int64("connections.max.reauth.ms")
        let address = session.info.peerHost
        var mechanismName = ""
        var failureMessage: String?
        var refusedByThrottle = false
        var claimedUser: String?
        session.state.withLock { s in
            guard var mechanism = s.mechanism else {
                outcome.errorCode = KafkaError.illegalSaslState.rawValue
                outcome.errorMessage = "SaslAuthenticate before SaslHandshake"
                outcome.closeAfterResponse = true
                return
            }
            mechanismName = mechanism.mechanismName
            if !s.exchangeStarted {
                s.exchangeStarted = true
                // Failed logins count per (address, claimed user): one user's failures never
                // lock out the others behind the same address.
                s.claimedUser = s.reauthenticating ? String(s.principal.dropFirst("User:".count))
                    : mechanism.claimedUser(message)
                switch security.loginThrottle.check(address: address, user: s.claimedUser, nowMs: now) {
                case .allow: s.throttleDelayMs = 0
                case .delay(let ms): s.throttleDelayMs = ms
                case .refuse(let retryAfter):
                    s.mechanism = nil
                    s.exchangeStarted = false
                    outcome.errorCode = KafkaError.saslAuthenticationFailed.rawValue
                    outcome.errorMessage = LoginDecision.refuse(retryAfterMs: retryAfter).message
                    outcome.closeAfterResponse = true
                    failureMessage = outcome.errorMessage
                    refusedByThrottle = true
                    return
                }
            }
            claimedUser = s.claimedUser
            let step = mechanism.step(message)
            switch step {
            case .challenge(let bytes):
                s.mechanism = mechanism
                outcome.serverBytes = bytes
                return
            case .success(let user, let final):
                let principal = "User:" + user
                if s.reauthenticating && principal != s.principal {
                    outcome.errorCode = KafkaError.saslAuthenticationFailed.rawValue
                    outcome.errorMessage = "Re-authentication must keep the same principal"
                    outcome.closeAfterResponse = true
                    failureMessage = outcome.errorMessage
                } else {
                    outcome.authenticated = true
                    s.lastMechanism = mechanism.mechanismName
                    s.principal = principal
                    s.claims = (mechanism as? OAuthBearerServer)?.token?.stringClaims ?? [:]
                    s.authenticated = true
                    outcome.serverBytes = final ?? []
                    // KIP-368: the session ends at the earlier of connections.max.reauth.ms (when set)
                    // and the credential's own expiry (an OAuth token's exp) — the latter always,
                    // unlike Kafka, whose default 0 lets a session outlive its token.
                    var lifetime: Int64? = reauthMs > 0 ? reauthMs : nil
                    if let expiry = mechanism.credentialExpiresAtMs { lifetime = min(lifetime ?? .max, max(0, expiry - now)) }
                    if let lifetime {
                        s.sessionExpiryMs = now + lifetime
                        outcome.sessionLifetimeMs = lifetime
                    }
                }
            case .failure(let failure):
                s.failures += 1
                outcome.errorCode = KafkaError.saslAuthenticationFailed.rawValue
                outcome.errorMessage = failure.message
                outcome.serverBytes = failure.serverFinal ?? []
                outcome.closeAfterResponse = true
                failureMessage = failure.message
            }
            // The exchange is over, whatever its outcome.
            outcome.delayMs = s.throttleDelayMs
            s.mechanism = nil
            s.rawTokens = false
            s.reauthenticating = false
            s.exchangeStarted = false
            s.throttleDelayMs = 0
        }
        if outcome.authenticated || failureMessage != nil {
            // A refused attempt is not a new failure: a user who retries during a lockout is not
            // locked out longer for it.
            if failureMessage != nil && !refusedByThrottle
                && outcome.errorCode == KafkaError.saslAuthenticationFailed.rawValue
                && security.loginThrottle.recordFailure(address: address, user: claimedUser, nowMs: now) {
                let config = security.loginThrottle.config
                security.record(AuditEvent(
                    kind: .authentication, principal: claimedUser.map { "User:" + $0 }, client: session.info.peerAddress,
                    listener: session.info.listenerName, api: api, decision: .failure,
                    detail: "login lockout: \(config.refuseAfter) failed logins for this user from \(address) within "
                        + "\(config.windowMs / 1000) s; refused from this address for \(config.lockoutMs / 1000) s "
                        + "(other users are not affected)"))
            }
            security.record(AuditEvent(
                kind: .authentication, principal: outcome.authenticated ? session.principal : nil,
                client: session.info.peerAddress, listener: session.info.listenerName, api: api,
                decision: outcome.authenticated ? .success : .failure,
                detail: mechanismName + (failureMessage.map { ": " + $0 } ?? "")))
        }
        if outcome.authenticated { admitTenantConnection(&outcome, session: session, api: api) }
        return outcome
    }

    /// Tenant connection quotas (count and creation rate) are enforced here, at authentication
    /// success, because only then is the tenant known. An excess connection is answered
    /// SASL_AUTHENTICATION_FAILED with a message naming the limit, then closed (Kafka refuses
    /// excess connections too, KIP-306/402, though before the handshake). A re-authentication
    /// keeps the connection's place.
    private func admitTenantConnection(_ outcome: inout SaslTokenOutcome, session: ClientSession, api: String) {
        let (principal, counted, claims) = session.state.withLock { ($0.principal, $0.countedConnection, $0.claims) }
        guard counted == nil, let tenant = security.tenants.tenant(for: principal, claims: claims) else { return }
        let subject = quotas.subject(of: tenant, principal: principal)
        if let refusal = quotas.admitConnection(subject, now: Int64(SystemClock.monotonicNs() / 1_000_000)) {
            session.state.withLock { s in
                s.authenticated = false
                s.principal = ClientSession.anonymousPrincipal
                s.sessionExpiryMs = nil
            }
            outcome.authenticated = false
            outcome.errorCode = KafkaError.saslAuthenticationFailed.rawValue
            outcome.errorMessage = refusal
            outcome.closeAfterResponse = true
            outcome.sessionLifetimeMs = 0
            security.record(AuditEvent(
                kind: .authentication, principal: principal, client: session.info.peerAddress,
                listener: session.info.listenerName, api: api, decision: .failure, detail: refusal))
        } else {
            session.state.withLock { $0.countedConnection = subject }
        }
    }
}
