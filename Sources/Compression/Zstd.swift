internal import CZstd

/// zstd frames (producers need not record the content size).
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

    /// Decodes in one shot into a buffer that doubles (decoding again each time) up to
    /// maxOutputSize + 1 bytes. One-shot decoding uses the output as its history, so memory follows
    /// the bytes actually produced; streaming would first allocate the window the frame header
    /// declares (up to 128 MiB for a hostile frame of a few bytes, found by fuzzing), whatever the limit.
    /// Frames without a content size work; concatenated frames are decoded one after another.
    static func decompress(_ input: ArraySlice<UInt8>, maxOutputSize: Int) throws(CompressionError) -> [UInt8] {
        guard let dctx = ZSTD_createDCtx() else { throw CompressionError("zstd: cannot create context") }
        defer { ZSTD_freeDCtx(dctx) }
        return try input.withUnsafeBufferPointer { (src) throws(CompressionError) -> [UInt8] in
            guard let base = src.baseAddress, src.count > 0 else { throw CompressionError("zstd: empty input") }
            // One byte over the limit is enough to prove the output too large.
            let capacityMax = maxOutputSize == .max ? maxOutputSize : maxOutputSize + 1
            var capacity = min(capacityMax, max(4096, src.count.multipliedReportingOverflow(by: 4).partialValue))
            // A first frame that records its size is refused at once when over the limit.
            let declared = ZSTD_getFrameContentSize(base, src.count)
            if declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != ZSTD_CONTENTSIZE_ERROR {
                if declared > UInt64(maxOutputSize) { throw .tooLarge(maxOutputSize) }
                capacity = min(capacityMax, max(capacity, Int(declared)))
            }
            while true {
                var out = [UInt8](repeating: 0, count: capacity)
                let written = out.withUnsafeMutableBufferPointer { dst in
                    ZSTD_decompressDCtx(dctx, dst.baseAddress, dst.count, base, src.count)
                }
                if ZSTD_isError(written) == 0 {
                    if written > maxOutputSize { throw .tooLarge(maxOutputSize) }
                    out.removeSubrange(written...)
                    return out
                }
                guard ZSTD_getErrorCode(written) == ZSTD_error_dstSize_tooSmall else {
                    throw CompressionError("zstd: corrupt frame (\(String(cString: ZSTD_getErrorName(written))))")
                }
                if capacity >= capacityMax { throw .tooLarge(maxOutputSize) }
                capacity = capacity > capacityMax / 2 ? capacityMax : capacity * 2
            }
        }
    }
}
