/// An error answer of the REST API: HTTP status, Confluent's `error_code` and a message.
public struct RegistryError: Error, Sendable, Equatable, CustomStringConvertible {
    public let status: Int
    public let code: Int
    public let message: String

    public init(status: Int, code: Int, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public var description: String { "\(status) \(code): \(message)" }

    /// `{"error_code": ..., "message": ...}`
    public var body: String {
        JSONValue.object(JSONObject([("error_code", .number(JSONNumber(Int64(code)))), ("message", .string(message))]))
            .serialized()
    }

    public static func subjectNotFound(_ s: String) -> RegistryError { .init(status: 404, code: 40401, message: "Subject '\(s)' not found.") }
    public static func versionNotFound(_ v: Int) -> RegistryError { .init(status: 404, code: 40402, message: "Version \(v) not found.") }
    public static func schemaNotFound(_ detail: String = "Schema not found") -> RegistryError {
        .init(status: 404, code: 40403, message: detail)
    }
    public static func subjectSoftDeleted(_ s: String) -> RegistryError {
        .init(status: 404, code: 40404, message: "Subject '\(s)' was soft deleted. Set permanent=true to delete permanently")
    }
    public static func subjectNotSoftDeleted(_ s: String) -> RegistryError {
        .init(status: 404, code: 40405, message: "Subject '\(s)' was not deleted first before being permanently deleted")
    }
    public static func versionSoftDeleted(_ s: String, _ v: Int) -> RegistryError {
        .init(status: 404, code: 40406, message: "Subject '\(s)' Version \(v) was soft deleted. Set permanent=true to delete permanently")
    }
    public static func versionNotSoftDeleted(_ s: String, _ v: Int) -> RegistryError {
        .init(status: 404, code: 40407, message: "Subject '\(s)' Version \(v) was not deleted first before being permanently deleted")
    }
    public static func subjectLevelConfigNotFound(_ s: String) -> RegistryError {
        .init(status: 404, code: 40408, message: "Subject '\(s)' does not have subject-level compatibility configured")
    }
    public static func subjectLevelModeNotFound(_ s: String) -> RegistryError {
        .init(status: 404, code: 40409, message: "Subject '\(s)' does not have subject-level mode configured")
    }
    public static func incompatible(_ subject: String, _ messages: [String]) -> RegistryError {
        .init(status: 409, code: 409, message: "Schema being registered is incompatible with an earlier schema for subject \"\(subject)\", details: [\(messages.joined(separator: "; "))]")
    }
    public static func invalidSchema(_ m: String) -> RegistryError { .init(status: 422, code: 42201, message: m) }
    public static func invalidVersion(_ text: String) -> RegistryError {
        .init(status: 422, code: 42202, message: "The specified version '\(text)' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\"")
    }
    public static func invalidCompatibility(_ text: String) -> RegistryError {
        .init(status: 422, code: 42203, message: "Invalid compatibility level '\(text)'. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive")
    }
    public static func invalidMode(_ text: String) -> RegistryError {
        .init(status: 422, code: 42204, message: "Invalid mode '\(text)'. Valid values are READWRITE, READONLY, READONLY_OVERRIDE and IMPORT")
    }
    public static func notPermitted(_ m: String) -> RegistryError { .init(status: 422, code: 42205, message: m) }
    public static func referenceExists(_ m: String) -> RegistryError { .init(status: 422, code: 42206, message: m) }
    public static func storeError(_ m: String) -> RegistryError { .init(status: 500, code: 50001, message: "Error while storing: \(m)") }
    public static func badRequest(_ m: String) -> RegistryError { .init(status: 400, code: 400, message: m) }
    public static func unprocessable(_ m: String) -> RegistryError { .init(status: 422, code: 422, message: m) }
    public static func notFound(_ path: String) -> RegistryError { .init(status: 404, code: 404, message: "HTTP 404 Not Found: \(path)") }
    public static func methodNotAllowed(_ method: String) -> RegistryError {
        .init(status: 405, code: 405, message: "HTTP 405 Method Not Allowed: \(method)")
    }
    public static func unsupportedMediaType(_ type: String) -> RegistryError {
        .init(status: 415, code: 415, message: "HTTP 415 Unsupported Media Type: \(type)")
    }
    public static let unauthenticated = RegistryError(status: 401, code: 40101, message: "Unauthorized: missing or invalid credentials")
    public static func forbidden(_ m: String) -> RegistryError { .init(status: 403, code: 40301, message: m) }
}
