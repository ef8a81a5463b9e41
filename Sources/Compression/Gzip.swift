internal import CZlib

/// gzip via zlib: windowBits 31 writes a gzip wrapper, 47 reads gzip or zlib (auto-detect).
enum Gzip {
    static func compress(_ input: [UInt8], level: Int?) throws(CompressionError) -> [UInt8] {
        let level = level ?? Int(Z_DEFAULT_COMPRESSION)
        guard (-1...9).contains(level) else { throw CompressionError("gzip level \(level) is outside -1...9") }
        guard input.count <= Int(UInt32.max) else { throw CompressionError("gzip input too large") }
        var stream = z_stream()
        var rc = deflateInit2_(&stream, Int32(level), Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY,
                               ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else { throw CompressionError("deflateInit2 failed (\(rc))") }
        defer { deflateEnd(&stream) }
        // deflateBound is exact for a single Z_FINISH call, so one call suffices.
        let bound = Int(deflateBound(&stream, uLong(input.count)))
        var out = [UInt8](repeating: 0, count: bound)
        let written = input.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                stream.next_in = UnsafeMutablePointer(mutating: src.baseAddress)
                stream.avail_in = uInt(src.count)
                stream.next_out = dst.baseAddress
                stream.avail_out = uInt(dst.count)
                rc = deflate(&stream, Z_FINISH)
                return dst.count - Int(stream.avail_out)
            }
        }
        guard rc == Z_STREAM_END else { throw CompressionError("deflate failed (\(rc))") }
        out.removeSubrange(written...)
        return out
    }

    static func decompress(_ input: ArraySlice<UInt8>, maxOutputSize: Int) throws(CompressionError) -> [UInt8] {
        guard input.count <= Int(UInt32.max) else { throw CompressionError("gzip input too large") }
        var stream = z_stream()
        let initRC = inflateInit2_(&stream, 47, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard initRC == Z_OK else { throw CompressionError("inflateInit2 failed (\(initRC))") }
        defer { inflateEnd(&stream) }
        var out = BoundedOutput(limit: maxOutputSize, initialGuess: input.count &* 4)
        try input.withUnsafeBufferPointer { (src) throws(CompressionError) in
            guard let base = src.baseAddress, src.count > 0 else { throw CompressionError("gzip: empty input") }
            stream.next_in = UnsafeMutablePointer(mutating: base)
            stream.avail_in = uInt(src.count)
            while true {
                var rc: Int32 = Z_OK
                try out.write { (dst, room) throws(CompressionError) -> Int in
                    let chunk = min(room, Int(UInt32.max))
                    stream.next_out = dst
                    stream.avail_out = uInt(chunk)
                    rc = inflate(&stream, Z_NO_FLUSH)
                    return chunk - Int(stream.avail_out)
                }
                switch rc {
                case Z_STREAM_END:
                    // Java's GZIPInputStream reads concatenated members and ignores anything else after.
                    let left = Int(stream.avail_in)
                    if left >= 2 && stream.next_in[0] == 0x1F && stream.next_in[1] == 0x8B {
                        guard inflateReset(&stream) == Z_OK else { throw CompressionError("inflateReset failed") }
                        continue
                    }
                    return
                case Z_OK:
                    continue
                case Z_BUF_ERROR:
                    // No progress possible: either the output is full (loop grows it) or input ran out.
                    if stream.avail_in == 0 { throw CompressionError("gzip: truncated stream") }
                    continue
                default:
                    let msg = stream.msg.map { String(cString: $0) } ?? "code \(rc)"
                    throw CompressionError("gzip: corrupt stream (\(msg))")
                }
            }
        }
        return out.finish()
    }
}
