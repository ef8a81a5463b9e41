import CShims

/// CRC-32C (Castagnoli), the checksum of RecordBatch v2 and producer snapshots.
/// Hardware-accelerated in the C shim when the CPU has SSE4.2.
public enum CRC32C {
    public static func checksum(_ bytes: [UInt8], from start: Int = 0, to end: Int? = nil) -> UInt32 {
        let stop = end ?? bytes.count
        precondition(start >= 0 && start <= stop && stop <= bytes.count, "CRC range out of bounds")
        return bytes.withUnsafeBytes { raw in
            sluice_crc32c(0, raw.baseAddress!.advanced(by: start), stop - start)
        }
    }

    public static func checksum(_ raw: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        guard let base = raw.baseAddress else { return crc }
        return sluice_crc32c(crc, base, raw.count)
    }
}
