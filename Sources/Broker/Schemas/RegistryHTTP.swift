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
        guard let requestPath = request.pathSegments, let requestQuery = request.queryItems else {
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
        var path = requestPath, query = requestQuery
        let authorizer = security.authorizer
        // Tenancy (docs/tenants.md): a member's subjects live in its namespace; other callers
        // without a tenant that are not super users may not use the reserved form.
        let tenants = security.tenants
        let tenant = principal.flatMap { tenants.tenant(for: $0)?.namespace }
        let reservedRefused = !tenants.isEmpty && tenant == nil
            && !(principal.map(authorizer.isSuperUser) ?? false)
        var body = request.body
        if let tenant {
            Self.mapIntoTenant(tenant, &path, &query, body: &body)
        }
        let registryRequest = RegistryRequest(method: request.method, path: path, query: query,
                                              contentType: request.header("content-type"), body: body)
        let checkACLs = principal != nil && security.enabled
        let response = service.handle(registryRequest) { operation, resource in
            var aclResource: AclResource
            switch resource {
            case .subject(let s):
                if let tenant {
                    guard let local = tenant.localName(s) else { return false }
                    aclResource = .subject(local)
                } else {
                    if reservedRefused && TenantNamespace.isReserved(s) { return false }
                    aclResource = .subject(s)
                }
            case .global: aclResource = .cluster
            }
            guard checkACLs, let principal else { return true }
            return authorizer.authorize(principal: principal, host: connection.remoteHost,
                                        operation: Self.aclOperation(operation), resource: aclResource).allowed
        }
        guard let tenant else { return reply(response) }
        return reply(RegistryResponse(status: response.status, body: tenant.localize(response.body)))
    }

    /// Subjects in the path, the subject filters of the query and the `subject` of each schema
    /// reference in the body into the tenant's namespace; listings are limited to it. (Answers are
    /// mapped back by removing the prefix wherever it appears.)
    static func mapIntoTenant(_ tenant: TenantNamespace, _ path: inout [String], _ query: inout [(name: String, value: String)],
                              body: inout [UInt8]) {
        switch (path.first, path.count) {
        case ("subjects", 2...), ("config", 2), ("mode", 2): path[1] = tenant.prefix + path[1]
        case ("compatibility", 3...) where path[1] == "subjects": path[2] = tenant.prefix + path[2]
        default: break
        }
        var sawPrefix = false
        for i in query.indices where query[i].name == "subjectPrefix" || query[i].name == "subject" {
            query[i].value = tenant.prefix + query[i].value
            sawPrefix = true
        }
        if !sawPrefix && path == ["subjects"] { query.append((name: "subjectPrefix", value: tenant.prefix)) }
        // A body that does not parse is left alone: the registry answers it with its own error.
        if !body.isEmpty, case .object(var members)? = try? JSONParser().parse(body),
           case .array(let references)? = members["references"], !references.isEmpty {
            members["references"] = .array(references.map { reference in
                guard case .object(var fields) = reference, case .string(let subject)? = fields["subject"] else {
                    return reference
                }
                fields["subject"] = .string(tenant.prefix + subject)
                return .object(fields)
            })
            body = Array(JSONValue.object(members).serialized().utf8)
        }
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
