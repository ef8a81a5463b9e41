import Testing
@testable import Compression

/// Vectors made once with tools outside this project (python3's gzip/zlib, the zstd and lz4
/// CLIs), so decoding is checked against independent encoders.
enum ExternalVectors {
    static let message = Array("hello kafka, hello sluice".utf8)
    /// python3: gzip.compress(message, mtime=0)
    static let gzip = "1f8b0800000000000203cb48cdc9c957c84e4ccb4ed451c800738a734a33935301f123e8bb19000000"
    /// Two gzip members back to back ("first-" + "second"), as GZIPInputStream accepts.
    static let gzipTwoMembers =
        "1f8b08000000000002034bcb2c2a2ed1050041064062060000001f8b08000000000002032b4e4dcecf4b010069111fb606000000"
    /// python3: zlib.compress(message); the decoder auto-detects zlib as well as gzip.
    static let zlib = "789ccb48cdc9c957c84e4ccb4ed451c800738a734a3393530176db0938"
    /// zstd CLI from a file: the frame header carries the content size.
    static let zstdWithSize = "28b52ffd2419c9000068656c6c6f206b61666b612c2068656c6c6f20736c7569636550a1b04e"
    /// zstd CLI from a pipe: no content size in the frame.
    static let zstdNoSize = "28b52ffd0458c9000068656c6c6f206b61666b612c2068656c6c6f20736c7569636550a1b04e"
    /// lz4 CLI from a pipe: no content size, content checksum on.
    static let lz4NoSize = "04224d186440a717000000d268656c6c6f206b61666b612c200d0060736c7569636500000000a3909d1e"
    /// lz4 CLI with --content-size.
    static let lz4WithSize =
        "04224d186c4019000000000000006c17000000d268656c6c6f206b61666b612c200d0060736c7569636500000000a3909d1e"
    /// 200,000 bytes of (i % 251): lz4 CLI with -B4 (64 KiB blocks, so 4 blocks), from a pipe.
    static let lz4Pattern = [
        "04224d186440a705020000ffec000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122",
        "232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152",
        "535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182",
        "838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2",
        "b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2",
        "e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafb00ffffffffffffffffffffffffffffffffffffffffffff",
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffec501415161718",
        "05020000ffec191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142",
        "434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172",
        "737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2",
        "a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2",
        "d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fa0001020304050607",
        "08090a0b0c0d0e0f101112131415161718fb00ffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffec502d2e2f303105020000ffec32",
        "333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162",
        "636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192",
        "939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2",
        "c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2",
        "f3f4f5f6f7f8f9fa000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021222324252627",
        "28292a2b2c2d2e2f3031fb00ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffec50464748494a12010000ffec4b4c4d4e4f505152",
        "535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182",
        "838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2",
        "b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2",
        "e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fa000102030405060708090a0b0c0d0e0f1011121314151617",
        "18191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f4041424344454647",
        "48494afb00ffffffffffffffffffffffff3950c7c8c9cacb0000000009293aa7"
    ].joined()
    /// The same pattern through the zstd CLI from a pipe (two 128 KiB zstd blocks, no content size).
    static let zstdPattern = [
        "28b52ffd04582c0800b40f000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021222324",
        "25262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f5051525354",
        "55565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f8081828384",
        "85868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4",
        "b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4",
        "e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fa01007b817f7f6ea44d0000083201003c0d3910027fd22ed4"
    ].joined()
    static let pattern: [UInt8] = (0..<200_000).map { UInt8($0 % 251) }
}

func hex(_ s: String) -> [UInt8] {
    var out = [UInt8]()
    var it = s.utf8.makeIterator()
    func nibble(_ c: UInt8) -> UInt8 { c <= 57 ? c - 48 : (c | 0x20) - 87 }
    while let h = it.next(), let l = it.next() { out.append(nibble(h) << 4 | nibble(l)) }
    return out
}
