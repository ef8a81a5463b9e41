import KafkaProtocol

/// ApiVersions: v0–v4 (KIP-35, KIP-511). The answer is derived from `Broker.supportedApis`.
/// An unsupported request version gets a v0 answer with UNSUPPORTED_VERSION (handled in
/// `Broker.handleFrame`). v3+ client software names are checked against Kafka's pattern.
/// Features (tagged fields) are left out: older librdkafka (Debian's 2.0.2) mis-reads them.
extension Broker {
    func handleApiVersions(_ header: RequestContext, _ r: inout WireReader) throws(DecodeError) -> HandlerOutcome {
        let request = try ApiVersionsRequest(from: &r, version: header.apiVersion)
        if header.apiVersion >= 3 {
            let valid = Self.isValidSoftwareText(request.clientSoftwareName)
                && Self.isValidSoftwareText(request.clientSoftwareVersion)
            if !valid { return .respond(apiVersionsResponse(errorCode: KafkaError.invalidRequest.rawValue)) }
        }
        return .respond(apiVersionsResponse(errorCode: 0))
    }

    func apiVersionsResponse(errorCode: Int16) -> ApiVersionsResponse {
        var response = ApiVersionsResponse()
        response.errorCode = errorCode
        response.apiKeys = Self.supportedApis.sorted { $0.key.rawValue < $1.key.rawValue }.map { support in
            var v = ApiVersionsResponse.ApiVersion()
            v.apiKey = support.key.rawValue
            v.minVersion = support.advertisedMin
            v.maxVersion = support.versions.upperBound
            return v
        }
        return response
    }

    /// `[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?`
    static func isValidSoftwareText(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, let last = bytes.last else { return false }
        func alnum(_ c: UInt8) -> Bool {
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
        }
        guard alnum(first), alnum(last) else { return false }
        return bytes.allSatisfy { alnum($0) || $0 == 0x2D || $0 == 0x2E }
    }
}
