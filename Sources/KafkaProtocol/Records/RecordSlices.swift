internal import Compression

/// Where one record's key and value are, in a buffer that is valid only during the callback
/// that receives it (no copies, no reference counting per record).
public struct RecordSlice {
    /// Position of the record in its batch (0-based), as ProduceResponse `batch_index` counts.
    public var index: Int
    public var buffer: UnsafeBufferPointer<UInt8>
    /// Nil for a null key / value.
    public var key: Range<Int>?
    public var value: Range<Int>?
}

extension RecordBatches {
    /// Calls `body` for each record of the batch at `batchStart` (decompressing once when the
    /// batch is compressed) until it returns false. For checks that look at keys and values
    /// without building `Record`s; the batch is assumed already validated (CRC is not rechecked).
    public static func forEachRecord(in bytes: [UInt8], batchStart: Int, maxDecompressedSize: Int,
                                     _ body: (RecordSlice) -> Bool) throws(BatchValidationError) {
        let header = try completeHeader(bytes, at: batchStart, batchIndex: 0)
        let count = Int(header.recordsCount)
        let start = batchStart + RecordBatchHeader.size
        let end = batchStart + header.totalSize
        guard let codec = CompressionCodec(rawValue: header.compressionCodec) else {
            throw BatchValidationError(code: BatchValidationError.corruptMessage,
                                       message: "unknown compression codec \(header.compressionCodec)")
        }
        if codec == .none {
            try walk(bytes, from: start, to: end, count: count, body)
            return
        }
        let plain: [UInt8]
        do {
            plain = try Compressor.decompress(bytes[start..<end], codec: codec, maxOutputSize: maxDecompressedSize)
        } catch {
            throw BatchValidationError(code: BatchValidationError.corruptMessage, message: "\(codec): \(error)")
        }
        try walk(plain, from: 0, to: plain.count, count: count, body)
    }

    /// A light walk: per record only the declared length, the key and the value are read; the
    /// timestamp and offset varints are skipped and the headers jumped over (the batch was
    /// validated record by record before, so this only needs to stay in bounds).
    private static func walk(_ bytes: [UInt8], from start: Int, to end: Int, count: Int,
                             _ body: (RecordSlice) -> Bool) throws(BatchValidationError) {
        let failure: BatchValidationError? = bytes.withUnsafeBufferPointer { buf in
            var cursor = RecordCursor(buf, from: start, to: end)
            for index in 0..<count {
                do {
                    let declared = Int(try cursor.varint())
                    guard declared >= 6, declared <= cursor.remaining else { throw RecordWalkError.truncated }
                    let recordEnd = cursor.position + declared
                    var inner = RecordCursor(buf, from: cursor.position, to: recordEnd)
                    try inner.skip(1)  // attributes
                    try inner.skipVarint()  // timestamp delta
                    try inner.skipVarint()  // offset delta
                    let key = try inner.lengthPrefixed(nullable: true, what: "key")
                    let value = try inner.lengthPrefixed(nullable: true, what: "value")
                    cursor.position = recordEnd
                    let slice = RecordSlice(index: index, buffer: buf,
                                            key: key.length < 0 ? nil : key.start..<(key.start + key.length),
                                            value: value.length < 0 ? nil : value.start..<(value.start + value.length))
                    if !body(slice) { return nil }
                } catch {
                    return BatchValidationError(code: BatchValidationError.invalidRecord,
                                                message: "record \(index): \(error)", recordIndex: index)
                }
            }
            return nil
        }
        if let failure { throw failure }
    }
}

extension RecordCursor {
    /// Skips one varint or varlong (at most 10 bytes).
    @inline(__always)
    mutating func skipVarint() throws(RecordWalkError) {
        for _ in 0..<10 where try byte() & 0x80 == 0 { return }
        throw .invalidVarint
    }
}
