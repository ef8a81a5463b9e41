// Support for the property round-trip tests: a seeded PRNG and the protocols the generated
// `Generated/Arbitrary.swift` conforms every message type and nested struct to.
import KafkaProtocol

/// SplitMix64: tiny, fast, and every seed gives an independent, reproducible stream, so a
/// failing case is replayed from the seed alone.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// True with probability 1/n.
    mutating func oneIn(_ n: UInt64) -> Bool { next() % n == 0 }

    mutating func bool() -> Bool { next() & 1 == 1 }

    /// Any value of the type, but small ones half the time: edge values such as 0 and -1 carry
    /// meaning in Kafka (defaults, "none") and uniform draws would almost never hit them.
    mutating func integer<T: FixedWidthInteger>() -> T {
        if bool() { return T(truncatingIfNeeded: Int64(next() % 5) - 2) }
        return T(truncatingIfNeeded: next())
    }

    /// Finite only: NaN would make `==` fail on a value that did round-trip.
    mutating func double() -> Double {
        let d = Double(bitPattern: next())
        return d.isFinite ? d : Double(Int64(truncatingIfNeeded: next())) / 7
    }

    mutating func uuid() -> KafkaUUID { KafkaUUID(high: next(), low: next()) }

    mutating func count(upTo n: UInt64) -> Int { Int(next() % (n + 1)) }

    /// Printable ASCII, 0-12 characters.
    mutating func string() -> String {
        var s = ""
        for _ in 0..<count(upTo: 12) { s.unicodeScalars.append(Unicode.Scalar(UInt8(32 + next() % 95))) }
        return s
    }

    mutating func bytes() -> [UInt8] { (0..<count(upTo: 20)).map { _ in UInt8(truncatingIfNeeded: next()) } }

    /// 0-3 elements.
    mutating func array<T>(_ make: (inout SeededGenerator) -> T) -> [T] {
        var out = [T]()
        for _ in 0..<count(upTo: 3) { out.append(make(&self)) }
        return out
    }

    /// Usually none; otherwise one or two tags far above any the specs use (so no decoder knows
    /// them in any version), in ascending order as the writer emits them.
    mutating func unknownTaggedFields() -> [TaggedField] {
        guard oneIn(4) else { return [] }
        let first = UInt32(10_000 + next() % 1000)
        var fields = [TaggedField(tag: first, data: bytes())]
        if bool() { fields.append(TaggedField(tag: first + 1 + UInt32(next() % 100), data: bytes())) }
        return fields
    }
}

/// A generated type (nested struct or whole message) that can make a random value of itself
/// holding exactly the fields `version` carries.
protocol Arbitrary: KafkaMessage {
    static func arbitrary(_ g: inout SeededGenerator, version: Int16) -> Self
}

/// A top-level generated message: it also knows the versions its spec defines.
protocol ArbitraryMessage: Arbitrary {
    static var specVersions: ClosedRange<Int16> { get }
}

/// One generated message type as a test argument: its name and a type-erased round trip.
struct RoundTripCase: Sendable, CustomStringConvertible {
    let name: String
    let versions: ClosedRange<Int16>
    /// Encodes a random value for (seed, version), decodes it; returns a failure description or nil.
    let check: @Sendable (UInt64, Int16) -> String?

    init<T: ArbitraryMessage>(_ type: T.Type) {
        name = "\(type)"
        versions = T.specVersions
        check = { seed, version in roundTripFailure(T.self, seed: seed, version: version) }
    }

    var description: String { name }
}

/// nil when `decode(encode(x)) == x` and the decoder consumed exactly the encoded bytes.
func roundTripFailure<T: ArbitraryMessage>(_: T.Type, seed: UInt64, version: Int16) -> String? {
    var g = SeededGenerator(seed: seed)
    let value = T.arbitrary(&g, version: version)
    let bytes = value.encoded(version: version)
    var reader = WireReader(bytes)
    let decoded: T
    do {
        decoded = try T(from: &reader, version: version)
    } catch {
        return "\(T.self) v\(version) seed \(seed): decode failed: \(error)\n  value: \(value)"
    }
    if !reader.isAtEnd {
        return "\(T.self) v\(version) seed \(seed): \(reader.remaining) of \(bytes.count) bytes left unread"
    }
    if decoded != value {
        return "\(T.self) v\(version) seed \(seed): decoded value differs\n  wrote: \(value)\n  read:  \(decoded)"
    }
    return nil
}
