internal import CZstd

/// zstd frames. Decompression streams, since producers need not record the content size.
enum Zstd {
    static func compress(_ input: [UInt8], level: Int?) throws(CompressionError) -> [UInt8] {
        let level = level ?? Int(ZSTD_CLEVEL_DEFAULT)
        guard (Int(ZSTD_minCLevel())...Int(ZSTD_maxCLevel())).contains(level) else {
            throw CompressionError("zstd level \(level) is out of range")
        }
        let bound = ZSTD_compressBound(input.count)
        var out = [UInt8](repeating: 0, count: bound)
        let written = input.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                ZSTD_compress(dst.baseAddress, dst.count, src.baseAddress, src.count, Int32(level))
            }
        }
        if ZSTD_isError(written) != 0 { throw CompressionError("zstd: \(String(cString: ZSTD_getErrorName(written)))") }
        out.removeSubrange(written...)
        return out
    }

    static func decompress(_ input: ArraySlice<UInt8>, maxOutputSize: Int) throws(CompressionError) -> [UInt8] {
        guard let dctx = ZSTD_createDCtx() else { throw CompressionError("zstd: cannot create context") }
        defer { ZSTD_freeDCtx(dctx) }
        var out = BoundedOutput(limit: maxOutputSize, initialGuess: input.count &* 4)
        try input.withUnsafeBufferPointer { (src) throws(CompressionError) in
            guard let base = src.baseAddress, src.count > 0 else { throw CompressionError("zstd: empty input") }
            var inBuf = ZSTD_inBuffer(src: base, size: src.count, pos: 0)
            // 0 once a frame is complete and flushed; concatenated frames are decoded one after another.
            var hint = 1
            while inBuf.pos < inBuf.size || hint != 0 {
                let before = inBuf.pos
                var produced = 0
                try out.write { (dst, room) throws(CompressionError) -> Int in
                    var outBuf = ZSTD_outBuffer(dst: dst, size: room, pos: 0)
                    hint = ZSTD_decompressStream(dctx, &outBuf, &inBuf)
                    if ZSTD_isError(hint) != 0 {
                        throw CompressionError("zstd: corrupt frame (\(String(cString: ZSTD_getErrorName(hint))))")
                    }
                    produced = outBuf.pos
                    return outBuf.pos
                }
                if hint != 0 && inBuf.pos == inBuf.size && inBuf.pos == before && produced == 0 {
                    throw CompressionError("zstd: truncated frame")
                }
            }
        }
        return out.finish()
    }
}
