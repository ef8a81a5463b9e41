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

    private static func walk(_ bytes: [UInt8], from start: Int, to end: Int, count: Int,
                             _ body: (RecordSlice) -> Bool) throws(BatchValidationError) {
        let failure: BatchValidationError? = bytes.withUnsafeBufferPointer { buf in
            var cursor = RecordCursor(buf, from: start, to: end)
            for index in 0..<count {
                let view: RecordView
                do { view = try cursor.nextRecord() } catch {
                    return BatchValidationError(code: BatchValidationError.invalidRecord,
                                                message: "record \(index): \(error)", recordIndex: index)
                }
                let slice = RecordSlice(
                    index: index, buffer: buf,
                    key: view.keyLength < 0 ? nil : view.keyStart..<(view.keyStart + view.keyLength),
                    value: view.valueLength < 0 ? nil : view.valueStart..<(view.valueStart + view.valueLength))
                if !body(slice) { return nil }
            }
            return nil
        }
        if let failure { throw failure }
    }
}
