/// A subject's compatibility setting, as the Confluent registry names it. Shared by the Avro and
/// JSON Schema checkers: BACKWARD means the new schema can read data written with the latest one,
/// FORWARD that the latest can read the new one's data, FULL both; the transitive forms check every
/// earlier version instead of only the latest.
public enum CompatibilityLevel: String, CaseIterable, Sendable, Codable {
    case none = "NONE"
    case backward = "BACKWARD"
    case backwardTransitive = "BACKWARD_TRANSITIVE"
    case forward = "FORWARD"
    case forwardTransitive = "FORWARD_TRANSITIVE"
    case full = "FULL"
    case fullTransitive = "FULL_TRANSITIVE"

    /// Whether the new schema must be able to read data written with earlier ones.
    public var checksBackward: Bool { [.backward, .backwardTransitive, .full, .fullTransitive].contains(self) }
    /// Whether earlier schemas must be able to read data written with the new one.
    public var checksForward: Bool { [.forward, .forwardTransitive, .full, .fullTransitive].contains(self) }
    /// Whether every earlier version is checked rather than only the latest.
    public var isTransitive: Bool { [.backwardTransitive, .forwardTransitive, .fullTransitive].contains(self) }
}
