internal import CLZ4

/// LZ4 frame format (magic 0x184D2204) through the LZ4F API.
enum LZ4Frame {
    static func compress(_ input: [UInt8], level: Int?) throws(CompressionError) -> [UInt8] {
        var prefs = LZ4F_preferences_t()
        // Like the Java client: 64 KiB independent blocks, no content size (older Java readers
        // reject frames that carry one).
        prefs.frameInfo.blockSizeID = LZ4F_max64KB
        prefs.frameInfo.blockMode = LZ4F_blockIndependent
        prefs.compressionLevel = Int32(clamping: level ?? 0)
        let bound = LZ4F_compressFrameBound(input.count, &prefs)
        var out = [UInt8](repeating: 0, count: bound)
        let written = input.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                LZ4F_compressFrame(dst.baseAddress, dst.count, src.baseAddress, src.count, &prefs)
            }
        }
        if LZ4F_isError(written) != 0 {
            throw CompressionError("lz4: \(String(cString: LZ4F_getErrorName(written)))")
        }
        out.removeSubrange(written...)
        return out
    }

    static func decompress(_ input: ArraySlice<UInt8>, maxOutputSize: Int) throws(CompressionError) -> [UInt8] {
        var ctx: OpaquePointer?
        let rc = LZ4F_createDecompressionContext(&ctx, UInt32(LZ4F_VERSION))
        guard LZ4F_isError(rc) == 0, let ctx else { throw CompressionError("lz4: cannot create context") }
        defer { LZ4F_freeDecompressionContext(ctx) }
        var out = BoundedOutput(limit: maxOutputSize, initialGuess: input.count &* 4)
        try input.withUnsafeBufferPointer { (src) throws(CompressionError) in
            guard let base = src.baseAddress, src.count > 0 else { throw CompressionError("lz4: empty input") }
            var offset = 0
            // The hint is 0 exactly when a frame has ended; several frames may follow each other.
            var hint = 1
            while offset < src.count || hint != 0 {
                let before = offset
                var produced = 0
                try out.write { (dst, room) throws(CompressionError) -> Int in
                    var dstSize = room
                    var srcSize = src.count - offset
                    hint = LZ4F_decompress(ctx, dst, &dstSize, base + offset, &srcSize, nil)
                    if LZ4F_isError(hint) != 0 {
                        throw CompressionError("lz4: corrupt frame (\(String(cString: LZ4F_getErrorName(hint))))")
                    }
                    offset += srcSize
                    produced = dstSize
                    return dstSize
                }
                // No input left, frame unfinished and nothing more to flush: the frame is cut short.
                if hint != 0 && offset == src.count && offset == before && produced == 0 {
                    throw CompressionError("lz4: truncated frame")
                }
            }
        }
        return out.finish()
    }
}
