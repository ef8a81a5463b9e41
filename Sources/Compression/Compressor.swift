// Kafka's record-batch codecs over Debian's C libraries. The C modules are imported
// `internal` so that nothing of them leaks into this module's public interface.

/// The codec ids of RecordBatch attribute bits 0-2.
public enum CompressionCodec: Int, Sendable, CaseIterable {
    case none = 0, gzip = 1, snappy = 2, lz4 = 3, zstd = 4
}

/// A compression or decompression failure: corrupt or truncated input, an output over the
/// caller's limit, or a refusal from the C library.
public struct CompressionError: Error, Equatable, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// How snappy output is framed. Java clients write the snappy-java ("xerial") stream,
/// librdkafka a single raw block; decompression accepts both regardless of this setting.
public enum SnappyFraming: Sendable {
    case raw, xerial
}

/// One-shot compression and bounded decompression for the codecs of RecordBatch v2.
public enum Compressor {
    /// Compresses `input` as one stream of `codec`. `level` is codec-specific (gzip -1...9,
    /// zstd its own range, lz4 0 = fast, >= 3 high compression); nil picks the codec default.
    public static func compress(
        _ input: [UInt8], codec: CompressionCodec, level: Int? = nil, snappyFraming: SnappyFraming = .raw
    ) throws(CompressionError) -> [UInt8] {
        switch codec {
        case .none: return input
        case .gzip: return try Gzip.compress(input, level: level)
        case .snappy: return try Snappy.compress(input, framing: snappyFraming)
        case .lz4: return try LZ4Frame.compress(input, level: level)
        case .zstd: return try Zstd.compress(input, level: level)
        }
    }

    /// Refuses (throws) when the output would exceed maxOutputSize (decompression bombs).
    public static func decompress(
        _ input: ArraySlice<UInt8>, codec: CompressionCodec, maxOutputSize: Int
    ) throws(CompressionError) -> [UInt8] {
        if maxOutputSize < 0 { throw CompressionError("negative maxOutputSize \(maxOutputSize)") }
        switch codec {
        case .none:
            if input.count > maxOutputSize { throw .tooLarge(maxOutputSize) }
            return Array(input)
        case .gzip: return try Gzip.decompress(input, maxOutputSize: maxOutputSize)
        case .snappy: return try Snappy.decompress(input, maxOutputSize: maxOutputSize)
        case .lz4: return try LZ4Frame.decompress(input, maxOutputSize: maxOutputSize)
        case .zstd: return try Zstd.decompress(input, maxOutputSize: maxOutputSize)
        }
    }
}

extension CompressionError {
    static func tooLarge(_ limit: Int) -> CompressionError {
        CompressionError("decompressed data exceeds the limit of \(limit) bytes")
    }
}

/// A growable output buffer that never holds more than `limit + 1` bytes: the extra byte lets a
/// decoder prove the output is over the limit without decoding the rest of a bomb.
struct BoundedOutput {
    private(set) var bytes: [UInt8]
    private(set) var count = 0
    let limit: Int

    init(limit: Int, initialGuess: Int) {
        self.limit = limit
        bytes = [UInt8](repeating: 0, count: max(1, min(initialGuess, limit &+ 1)))
    }

    /// Room left before the hard cap; grows the storage first if it is full.
    mutating func ensureSpace() throws(CompressionError) {
        if count < bytes.count { return }
        if count > limit { throw .tooLarge(limit) }
        let target = min(max(bytes.count * 2, 4096), limit &+ 1)
        bytes.append(contentsOf: [UInt8](repeating: 0, count: target - bytes.count))
    }

    /// Lets the decoder write into the free tail; `body` returns how many bytes it produced.
    mutating func write(_ body: (UnsafeMutablePointer<UInt8>, Int) throws(CompressionError) -> Int)
        throws(CompressionError)
    {
        try ensureSpace()
        let start = count
        let produced = try bytes.withUnsafeMutableBufferPointer { buf throws(CompressionError) -> Int in
            try body(buf.baseAddress! + start, buf.count - start)
        }
        count += produced
        if count > limit { throw .tooLarge(limit) }
    }

    consuming func finish() -> [UInt8] {
        var out = bytes
        out.removeSubrange(count...)
        return out
    }
}
