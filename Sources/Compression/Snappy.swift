internal import CSnappy

/// Snappy, raw (one block, as librdkafka writes) or in snappy-java's "xerial" framing:
/// 8-byte magic, int32 version, int32 compatible version, then (int32 length, raw block)*.
enum Snappy {
    static let xerialMagic: [UInt8] = [0x82, 0x53, 0x4E, 0x41, 0x50, 0x50, 0x59, 0x00]
    static let xerialHeaderSize = 16
    /// snappy-java's default block size; Java clients cut their streams at this size.
    static let xerialBlockSize = 32 * 1024

    static func compress(_ input: [UInt8], framing: SnappyFraming) throws(CompressionError) -> [UInt8] {
        switch framing {
        case .raw:
            var out = [UInt8]()
            try input.withUnsafeBufferPointer { (src) throws(CompressionError) in
                try appendBlock(src, to: &out)
            }
            return out
        case .xerial:
            var out = xerialMagic
            out.reserveCapacity(xerialHeaderSize + input.count + input.count / 6 + 64)
            appendInt32(1, to: &out)  // version
            appendInt32(1, to: &out)  // compatible version
            try input.withUnsafeBufferPointer { (src) throws(CompressionError) in
                var offset = 0
                while offset < src.count {
                    let n = min(xerialBlockSize, src.count - offset)
                    let lengthAt = out.count
                    appendInt32(0, to: &out)
                    try appendBlock(UnsafeBufferPointer(rebasing: src[offset..<(offset + n)]), to: &out)
                    let blockLength = UInt32(out.count - lengthAt - 4)
                    for i in 0..<4 { out[lengthAt + i] = UInt8(truncatingIfNeeded: blockLength >> UInt32(24 - 8 * i)) }
                    offset += n
                }
            }
            return out
        }
    }

    static func decompress(_ input: ArraySlice<UInt8>, maxOutputSize: Int) throws(CompressionError) -> [UInt8] {
        try input.withUnsafeBufferPointer { (src) throws(CompressionError) -> [UInt8] in
            var out = [UInt8]()
            if src.count >= xerialMagic.count && src.starts(with: xerialMagic) {
                guard src.count >= xerialHeaderSize else { throw CompressionError("snappy: truncated xerial header") }
                var offset = xerialHeaderSize
                while offset < src.count {
                    guard src.count - offset >= 4 else { throw CompressionError("snappy: truncated xerial block length") }
                    let length = Int(readUInt32(src, at: offset))
                    offset += 4
                    guard length <= src.count - offset else { throw CompressionError("snappy: truncated xerial block") }
                    try appendUncompressed(UnsafeBufferPointer(rebasing: src[offset..<(offset + length)]),
                                           to: &out, maxOutputSize: maxOutputSize)
                    offset += length
                }
            } else {
                try appendUncompressed(src, to: &out, maxOutputSize: maxOutputSize)
            }
            return out
        }
    }

    private static func appendBlock(_ src: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) throws(CompressionError) {
        let start = out.count
        let bound = snappy_max_compressed_length(src.count)
        out.append(contentsOf: [UInt8](repeating: 0, count: bound))
        var written = bound
        let status = out.withUnsafeMutableBufferPointer { dst in
            dst.baseAddress!.advanced(by: start).withMemoryRebound(to: CChar.self, capacity: bound) { d in
                // A zero-length source may have no base address; snappy never reads it then.
                let raw = src.baseAddress.map { UnsafeRawPointer($0) } ?? UnsafeRawPointer(d)
                let s = raw.assumingMemoryBound(to: CChar.self)
                return snappy_compress(s, src.count, d, &written)
            }
        }
        guard status == SNAPPY_OK else { throw CompressionError("snappy_compress failed (\(status.rawValue))") }
        out.removeSubrange((start + written)...)
    }

    private static func appendUncompressed(
        _ block: UnsafeBufferPointer<UInt8>, to out: inout [UInt8], maxOutputSize: Int
    ) throws(CompressionError) {
        guard let base = block.baseAddress, block.count > 0 else { throw CompressionError("snappy: empty block") }
        let s = UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self)
        var length = 0
        guard snappy_uncompressed_length(s, block.count, &length) == SNAPPY_OK else {
            throw CompressionError("snappy: corrupt block header")
        }
        // The length is checked against the limit before anything is allocated for it.
        guard length <= maxOutputSize - out.count else { throw .tooLarge(maxOutputSize) }
        let start = out.count
        out.append(contentsOf: [UInt8](repeating: 0, count: length))
        if length == 0 {
            guard snappy_validate_compressed_buffer(s, block.count) == SNAPPY_OK else {
                throw CompressionError("snappy: corrupt block")
            }
            return
        }
        var produced = length
        let status = out.withUnsafeMutableBufferPointer { dst in
            dst.baseAddress!.advanced(by: start).withMemoryRebound(to: CChar.self, capacity: length) { d in
                snappy_uncompress(s, block.count, d, &produced)
            }
        }
        guard status == SNAPPY_OK, produced == length else { throw CompressionError("snappy: corrupt block") }
    }

    private static func appendInt32(_ v: UInt32, to out: inout [UInt8]) {
        for shift in stride(from: 24, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: v >> UInt32(shift))) }
    }

    private static func readUInt32(_ b: UnsafeBufferPointer<UInt8>, at i: Int) -> UInt32 {
        UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
    }
}
