import Foundation
import HTTPServer
import SchemaRegistry
import Security

/// The schema registry's HTTP front: authentication (`schema.registry.authentication.method`),
/// translation between HTTP and `RegistryRequest`, and Subject ACLs through the broker's
/// authorizer.
struct RegistryHTTPFront: Sendable {
    let service: SchemaRegistryService
    let security: BrokerSecurity
    /// HTTP Basic against the SCRAM credential store.
    let basicAuth: Bool
    /// Bearer tokens (with authentication on), when `sasl.oauthbearer.jwks.endpoint.url` is set.
    let bearer: BearerValidation?
    static let realm = "sluice-schema-registry"

    func handle(_ request: HTTPRequest, _ connection: HTTPConnectionInfo) -> HTTPResponse {
        guard let path = request.pathSegments, let query = request.queryItems else {
            return reply(RegistryResponse(.badRequest("malformed percent-encoding in the request target")))
        }
        var principal: String?
        if basicAuth {
            switch authenticate(request.header("authorization")) {
            case .success(let p): principal = p
            case .failure(let error):
                var r = reply(RegistryResponse(error))
                r.headers.append(("WWW-Authenticate", "Basic realm=\"\(Self.realm)\""))
                return r
            }
        }
        let registryRequest = RegistryRequest(method: request.method, path: path, query: query,
                                              contentType: request.header("content-type"), body: request.body)
        let authorizer = security.authorizer
        let checkACLs = principal != nil && security.enabled
        let response = service.handle(registryRequest) { operation, resource in
            guard checkACLs, let principal else { return true }
            let aclResource: AclResource
            switch resource {
            case .subject(let s): aclResource = .subject(s)
            case .global: aclResource = .cluster
            }
            return authorizer.authorize(principal: principal, host: connection.remoteHost,
                                        operation: Self.aclOperation(operation), resource: aclResource).allowed
        }
        return reply(response)
    }

    static func aclOperation(_ op: RegistryOperation) -> AclOperation {
        switch op {
        case .read: .read
        case .write: .write
        case .delete: .delete
        case .describeConfigs: .describeConfigs
        case .alterConfigs: .alterConfigs
        }
    }

    /// The principal (`User:<name>`) of a valid `Authorization: Basic` (or `Bearer`) header.
    func authenticate(_ header: String?) -> Result<String, RegistryError> {
        guard let header else { return .failure(.unauthenticated) }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2 else { return .failure(.unauthenticated) }
        switch parts[0].lowercased() {
        case "basic":
            guard let data = Data(base64Encoded: String(parts[1]).trimmingCharacters(in: .whitespaces)),
                  let text = String(data: data, encoding: .utf8), let colon = text.firstIndex(of: ":") else {
                return .failure(.unauthenticated)
            }
            let user = String(text[..<colon])
            let password = String(text[text.index(after: colon)...])
            guard !user.isEmpty,
                  security.credentials.verifyPassword(user: user, password: password, fakeSaltSecret: security.fakeSaltSecret)
            else { return .failure(.unauthenticated) }
            return .success("User:" + user)
        case "bearer":
            guard let bearer else {
                return .failure(RegistryError(status: 401, code: 40101,
                                              message: "Bearer tokens need sasl.oauthbearer.jwks.endpoint.url on the broker; use Basic"))
            }
            switch bearer.principal(String(parts[1]).trimmingCharacters(in: .whitespaces)) {
            case .success(let p): return .success(p)
            case .failure(let why): return .failure(RegistryError(status: 401, code: 40101, message: "Unauthorized: \(why)"))
            }
        default:
            return .failure(.unauthenticated)
        }
    }

    func reply(_ r: RegistryResponse) -> HTTPResponse {
        HTTPResponse(status: r.status, headers: [("Content-Type", RegistryAPI.responseContentType)], body: Array(r.body.utf8))
    }
}
