import KafkaProtocol
import Security

/// One request as a handler sees it: the parsed header plus who sent it (the connection's
/// authenticated principal, the client's address and the listener it came in on).
public struct RequestContext: Sendable {
    public var apiKey: Int16
    public var apiVersion: Int16
    public var correlationId: Int32
    public var clientId: String
    /// `User:<name>`; `User:ANONYMOUS` on listeners without authentication.
    public var principal: String = ClientSession.anonymousPrincipal
    /// The client's IP address (no port), as ACL host rules see it.
    public var clientHost: String = ""
    /// The listener the request arrived on (Metadata advertises that listener's endpoint).
    public var listenerName: String = ""
    /// The caller's tenant namespace (docs/tenants.md); nil for operators and principals outside
    /// tenancy. Handlers map names through `names` (TenantScope).
    public var tenant: TenantNamespace?
    /// Tenants are defined on this broker: names in the reserved internal form are refused to
    /// callers with no tenant that are not super users.
    public var tenancy = false
    /// The connection's session (SASL handlers change it); nil in tests that call handlers directly.
    var session: ClientSession?
    /// The request frame's size (size prefix excluded): what a produce is charged to its quota.
    var requestBytes = 0
    /// The tenant (and limits) this request is charged to; nil outside tenants and for operators.
    var quotaSubject: QuotaSubject?
}

/// What a handler decided. Responses are encoded by the dispatcher, which knows the header rules.
public enum HandlerOutcome {
    /// Answer now with this body.
    case respond(any KafkaAPIMessage)
    /// Produce with acks=0: nothing goes back, the next response may go out.
    case noResponse
    /// The handler parked the request (delayed fetch); it completes the slot itself later.
    case deferred
    /// Close the connection (Kafka's answer to requests it cannot or will not parse).
    case close(reason: String)
    /// Answer, then close (a failed authentication).
    case respondThenClose(any KafkaAPIMessage)
}

/// Frames a response body: correlation id, the header's tagged section when the response version
/// is flexible (except ApiVersions, whose response header is always v0), then the body.
public enum ResponseFramer {
    public static func frame(_ body: any KafkaAPIMessage, apiKey: Int16, version: Int16, correlationId: Int32,
                             capacityHint: Int = 256) -> [UInt8] {
        var w = WireWriter(capacity: capacityHint)
        w.writeInt32(correlationId)
        if usesFlexibleHeader(apiKey: apiKey, version: version) { w.writeUInt8(0) }
        body.encode(to: &w, version: version)
        return w.bytes
    }

    public static func usesFlexibleHeader(apiKey: Int16, version: Int16) -> Bool {
        guard apiKey != ApiKey.apiVersions.rawValue, let key = ApiKey(rawValue: apiKey),
              let flexibleFrom = key.flexibleFrom else { return false }
        return version >= flexibleFrom
    }
}

/// Request header decoding: v2 (with a tagged section) for flexible request versions, else v1.
/// The ClientId is int16-length encoded in both.
public enum RequestHeaderDecoder {
    public static func decode(_ r: inout WireReader) throws(DecodeError) -> RequestContext {
        let apiKey = try r.readInt16()
        let apiVersion = try r.readInt16()
        let correlationId = try r.readInt32()
        let clientId = try r.readNullableString(flexible: false) ?? ""
        var info = RequestContext(apiKey: apiKey, apiVersion: apiVersion, correlationId: correlationId,
                                     clientId: clientId)
        if let key = ApiKey(rawValue: apiKey), let flexibleFrom = key.flexibleFrom, apiVersion >= flexibleFrom {
            _ = try r.readTaggedFields { (_, _) throws(DecodeError) in false }
        }
        info.clientId = clientId
        return info
    }
}
