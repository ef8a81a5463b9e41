import Testing
@testable import Compression

/// Deterministic pseudo-random bytes (xorshift), incompressible for every codec.
func noise(_ count: Int, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) -> [UInt8] {
    var x = seed
    var out = [UInt8]()
    out.reserveCapacity(count)
    for _ in 0..<count {
        x ^= x << 13
        x ^= x >> 7
        x ^= x << 17
        out.append(UInt8(truncatingIfNeeded: x))
    }
    return out
}

let compressedCodecs: [CompressionCodec] = [.gzip, .snappy, .lz4, .zstd]
let limit = 64 << 20

@Suite struct CompressionRoundTrip {
    static let inputs: [(String, [UInt8])] = [
        ("empty", []),
        ("small", Array("a small record value".utf8)),
        ("large", (0..<(1 << 20) + 12345).map { UInt8(truncatingIfNeeded: $0 / 7) }),
        ("incompressible", noise((1 << 20) + 777)),
    ]

    @Test(arguments: CompressionCodec.allCases)
    func roundTrip(codec: CompressionCodec) throws {
        for (name, input) in Self.inputs {
            let packed = try Compressor.compress(input, codec: codec)
            let unpacked = try Compressor.decompress(packed[...], codec: codec, maxOutputSize: limit)
            #expect(unpacked == input, "\(codec) \(name)")
            if name == "large" && codec != .none { #expect(packed.count < input.count / 4, "\(codec) compresses") }
        }
    }

    @Test func snappyXerialRoundTrip() throws {
        for (name, input) in Self.inputs {
            let packed = try Compressor.compress(input, codec: .snappy, snappyFraming: .xerial)
            #expect(Array(packed.prefix(8)) == [0x82, 0x53, 0x4E, 0x41, 0x50, 0x50, 0x59, 0x00])
            let unpacked = try Compressor.decompress(packed[...], codec: .snappy, maxOutputSize: limit)
            #expect(unpacked == input, "xerial \(name)")
        }
    }

    @Test func levels() throws {
        let input = Array(repeating: Array("level test ".utf8), count: 500).flatMap { $0 }
        for (codec, level) in [(CompressionCodec.gzip, 1), (.gzip, 9), (.gzip, 0), (.zstd, 1), (.zstd, 19), (.lz4, 9)] {
            let packed = try Compressor.compress(input, codec: codec, level: level)
            #expect(try Compressor.decompress(packed[...], codec: codec, maxOutputSize: limit) == input)
        }
        #expect(throws: CompressionError.self) { try Compressor.compress(input, codec: .gzip, level: 10) }
        #expect(throws: CompressionError.self) { try Compressor.compress(input, codec: .zstd, level: 1000) }
    }

    /// Decoding works on a slice that does not start at index 0 (a batch inside a larger buffer).
    @Test(arguments: compressedCodecs)
    func sliceInput(codec: CompressionCodec) throws {
        let input = Array("slice me".utf8)
        let packed = [0xAA, 0xBB] + (try Compressor.compress(input, codec: codec)) + [0xCC]
        let slice = packed[2..<(packed.count - 1)]
        #expect(try Compressor.decompress(slice, codec: codec, maxOutputSize: 100) == input)
    }

    @Test func lz4MultiBlockOwnEncoder() throws {
        // 64 KiB blocks: 500 KB of input spans several blocks.
        let input = noise(300_000) + ExternalVectors.pattern
        let packed = try Compressor.compress(input, codec: .lz4)
        #expect(try Compressor.decompress(packed[...], codec: .lz4, maxOutputSize: limit) == input)
    }
}

@Suite struct CompressionExternalVectors {
    @Test func gzipFromPython() throws {
        for vector in [ExternalVectors.gzip, ExternalVectors.zlib] {
            #expect(try Compressor.decompress(hex(vector)[...], codec: .gzip, maxOutputSize: 100) == ExternalVectors.message)
        }
        let two = try Compressor.decompress(hex(ExternalVectors.gzipTwoMembers)[...], codec: .gzip, maxOutputSize: 100)
        #expect(two == Array("first-second".utf8))
    }

    @Test func ourGzipIsAGzipStream() throws {
        let packed = try Compressor.compress(ExternalVectors.message, codec: .gzip)
        #expect(Array(packed.prefix(3)) == [0x1F, 0x8B, 0x08])  // gzip magic + deflate
    }

    @Test func zstdFromCLI() throws {
        for vector in [ExternalVectors.zstdWithSize, ExternalVectors.zstdNoSize] {
            #expect(try Compressor.decompress(hex(vector)[...], codec: .zstd, maxOutputSize: 100) == ExternalVectors.message)
        }
        let pattern = try Compressor.decompress(hex(ExternalVectors.zstdPattern)[...], codec: .zstd, maxOutputSize: limit)
        #expect(pattern == ExternalVectors.pattern)
    }

    @Test func lz4FromCLI() throws {
        for vector in [ExternalVectors.lz4NoSize, ExternalVectors.lz4WithSize] {
            #expect(try Compressor.decompress(hex(vector)[...], codec: .lz4, maxOutputSize: 100) == ExternalVectors.message)
        }
        let pattern = try Compressor.decompress(hex(ExternalVectors.lz4Pattern)[...], codec: .lz4, maxOutputSize: limit)
        #expect(pattern == ExternalVectors.pattern)
    }

    /// Raw snappy blocks written by hand from the format description: varint length, then
    /// a literal (tag low bits 00, (len-1) << 2) and a 1-byte-offset copy (tag low bits 01).
    static let blockA: [UInt8] = [12, 0x08, 0x61, 0x62, 0x63, 0x15, 0x03]  // "abc" + copy(offset 3, len 9)
    static let blockB: [UInt8] = [3, 0x08, 0x78, 0x79, 0x7A]  // literal "xyz"

    @Test func snappyRawHandBuilt() throws {
        #expect(try Compressor.decompress(Self.blockA[...], codec: .snappy, maxOutputSize: 100) == Array("abcabcabcabc".utf8))
    }

    @Test func snappyXerialTwoBlocksHandBuilt() throws {
        var framed: [UInt8] = [0x82, 0x53, 0x4E, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]
        framed += [0, 0, 0, UInt8(Self.blockA.count)] + Self.blockA
        framed += [0, 0, 0, UInt8(Self.blockB.count)] + Self.blockB
        let out = try Compressor.decompress(framed[...], codec: .snappy, maxOutputSize: 100)
        #expect(out == Array("abcabcabcabcxyz".utf8))
        // Header only: an empty stream.
        #expect(try Compressor.decompress(framed[0..<16], codec: .snappy, maxOutputSize: 100) == [])
        // Cut inside the second block, or inside its length.
        #expect(throws: CompressionError.self) { try Compressor.decompress(framed.dropLast(), codec: .snappy, maxOutputSize: 100) }
        #expect(throws: CompressionError.self) { try Compressor.decompress(framed[0..<18], codec: .snappy, maxOutputSize: 100) }
        // The limit counts the whole stream, not one block.
        #expect(throws: CompressionError.self) { try Compressor.decompress(framed[...], codec: .snappy, maxOutputSize: 14) }
    }
}

@Suite struct CompressionFailures {
    @Test(arguments: compressedCodecs)
    func truncatedInputThrows(codec: CompressionCodec) throws {
        let input = noise(5000) + Array(repeating: 7, count: 5000)
        for framing in [SnappyFraming.raw, .xerial] where codec == .snappy || framing == .raw {
            let packed = try Compressor.compress(input, codec: codec, snappyFraming: framing)
            for cut in [1, 5, packed.count / 2, packed.count - 1] {
                #expect(throws: CompressionError.self, "\(codec) cut at \(cut)") {
                    try Compressor.decompress(packed[0..<cut], codec: codec, maxOutputSize: limit)
                }
            }
        }
        #expect(throws: CompressionError.self) { try Compressor.decompress([], codec: codec, maxOutputSize: limit) }
    }

    @Test(arguments: compressedCodecs)
    func garbageThrows(codec: CompressionCodec) {
        let garbage: [[UInt8]] = [
            Array(repeating: 0xFF, count: 64),
            [0x1F, 0x8B, 0x08, 0, 0, 0, 0, 0, 0, 3] + Array(repeating: 0xFF, count: 40),
            [0x04, 0x22, 0x4D, 0x18, 0x64, 0x40, 0xA7] + Array(repeating: 0xEE, count: 40),
            [0x28, 0xB5, 0x2F, 0xFD, 0x04, 0x58] + Array(repeating: 0xEE, count: 40),
        ]
        for bytes in garbage {
            #expect(throws: CompressionError.self) {
                try Compressor.decompress(bytes[...], codec: codec, maxOutputSize: limit)
            }
        }
    }

    @Test func corruptedPayloadNeverCrashes() throws {
        // A flipped byte must never crash; gzip (CRC-32 trailer) must refuse it. Our zstd and lz4
        // frames carry no checksum the flipped byte would always hit, and raw snappy has none.
        let input = noise(20_000)
        for codec in compressedCodecs {
            var packed = try Compressor.compress(input, codec: codec)
            packed[packed.count / 2] ^= 0x5A
            let result = Result { () throws(CompressionError) in
                try Compressor.decompress(packed[...], codec: codec, maxOutputSize: limit)
            }
            if codec == .gzip {
                #expect(throws: CompressionError.self) { try result.get() }
            } else if case .success(let out) = result {
                #expect(out != input, "\(codec) decoded a flipped byte to the original")
            }
        }
    }

    @Test(arguments: CompressionCodec.allCases)
    func maxOutputSizeEnforced(codec: CompressionCodec) throws {
        let input = Array(repeating: UInt8(0x41), count: 100_000)
        let packed = try Compressor.compress(input, codec: codec)
        #expect(try Compressor.decompress(packed[...], codec: codec, maxOutputSize: input.count) == input)
        #expect(throws: CompressionError.tooLarge(input.count - 1)) {
            try Compressor.decompress(packed[...], codec: codec, maxOutputSize: input.count - 1)
        }
    }

    @Test(arguments: compressedCodecs)
    func bombRefused(codec: CompressionCodec) throws {
        let bomb = try Compressor.compress(Array(repeating: 0, count: 16 << 20), codec: codec)
        #expect(bomb.count < 1 << 20)
        #expect(throws: CompressionError.tooLarge(1 << 20)) {
            try Compressor.decompress(bomb[...], codec: codec, maxOutputSize: 1 << 20)
        }
    }

    @Test func snappyHugeDeclaredLengthRefusedBeforeAllocation() {
        // varint 0xFFFFFFF0: a block claiming ~4 GiB.
        let block: [UInt8] = [0xF0, 0xFF, 0xFF, 0xFF, 0x0F, 0x00]
        #expect(throws: CompressionError.tooLarge(1000)) {
            try Compressor.decompress(block[...], codec: .snappy, maxOutputSize: 1000)
        }
    }
}
