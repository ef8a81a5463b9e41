// base64url without padding (RFC 4648 §5, as RFC 7515 §2 uses it). An encoding, not cryptography.
// Decoding is strict: only the URL-safe alphabet, no padding, no whitespace, a length that is not
// 1 mod 4, and zero trailing bits, so every byte string has exactly one accepted spelling.

enum Base64URL {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    private static let reverse = Base64.reverseTable(alphabet)

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var index = 0
        while index < bytes.count {
            let take = min(3, bytes.count - index)
            var value: UInt32 = 0
            for offset in 0..<3 {
                value <<= 8
                if offset < take { value |= UInt32(bytes[index + offset]) }
            }
            for position in 0...take {
                out.append(alphabet[Int(value >> UInt32(18 - 6 * position) & 63)])
            }
            index += take
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func encode(_ text: String) -> String { encode(Array(text.utf8)) }

    /// The decoded bytes, or nil when `input` is not canonical unpadded base64url.
    static func decode<Input: Collection>(_ input: Input) -> [UInt8]? where Input.Element == UInt8 {
        let bytes = Array(input)
        guard bytes.count % 4 != 1 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 3 / 4)
        var index = 0
        while index < bytes.count {
            let take = min(4, bytes.count - index)
            var value: UInt32 = 0
            for offset in 0..<4 {
                value <<= 6
                if offset < take {
                    let digit = reverse[Int(bytes[index + offset])]
                    guard digit != 0xFF else { return nil }
                    value |= UInt32(digit)
                }
            }
            let produced = take - 1
            for position in 0..<produced { out.append(UInt8(value >> UInt32(16 - 8 * position) & 0xFF)) }
            // The bits after the last whole byte must be zero (canonical form).
            if take == 2 && value & 0xFFFF != 0 { return nil }
            if take == 3 && value & 0xFF != 0 { return nil }
            index += take
        }
        return out
    }

    static func decode(_ text: String) -> [UInt8]? { decode(Array(text.utf8)) }
}
