// Fuzz entry points, shared by the libFuzzer executables (Fuzz/) and the FailCases replay test
// of the root package (Tests/KafkaProtocolTests links this same file).
//
// Invariants every entry point checks (a violation traps, which libFuzzer records as a crash):
// * Hostile bytes never trap: decoders throw or return errors.
// * Nothing allocates more than the input justifies: lengths are checked against the bytes
//   left before allocating; decompression honours its small maxOutputSize. (The fuzzer runs with
//   -malloc_limit_mb to catch a single oversized allocation.)
// * A decoder never reports more bytes consumed than it was given.
// * Re-decoding what a decoder accepted is stable: encode(decode(x)) decodes and re-encodes to
//   the same bytes.
import Compression
import KafkaProtocol

public enum FuzzEntry {
    /// Bytes 0-3 pick the API key and version (mapped into the generated set); the rest is a
    /// request frame without its size: header (v1, or v2 when the version is flexible) and body.
    public static func requestDecode(_ input: [UInt8]) {
        guard input.count >= 4 else { return }
        // A real key/version is used as is (so captured frames make good seeds); anything else
        // is folded into the generated set.
        let keys = GeneratedMessages.requestApiKeys
        let rawKey = UInt16(input[0]) << 8 | UInt16(input[1])
        let rawVersion = UInt16(input[2]) << 8 | UInt16(input[3])
        let key = keys.contains(Int16(bitPattern: rawKey)) ? Int16(bitPattern: rawKey) : keys[Int(rawKey) % keys.count]
        guard let type = GeneratedMessages.requestType(apiKey: key) else { preconditionFailure("no type for key \(key)") }
        let versions = type.specVersions
        let version = versions.contains(Int16(bitPattern: rawVersion))
            ? Int16(bitPattern: rawVersion) : versions.lowerBound + Int16(Int(rawVersion) % versions.count)
        let frame = Array(input[4...])
        let headerVersion: Int16 = type.flexibleFrom.map { version >= $0 } ?? false ? 2 : 1

        var reader = WireReader(frame)
        guard (try? RequestHeader(from: &reader, version: headerVersion)) != nil else { return }
        guard let body = try? type.init(from: &reader, version: version) else { return }
        precondition(reader.position <= frame.count, "consumed past the end")

        let first = body.encoded(version: version)
        var again = WireReader(first)
        guard let reread = try? type.init(from: &again, version: version) else {
            preconditionFailure("\(type) v\(version): re-encoded value does not decode")
        }
        precondition(again.isAtEnd, "\(type) v\(version): re-decode left \(again.remaining) bytes")
        precondition(reread.encoded(version: version) == first, "\(type) v\(version): re-encoding is not stable")
    }

    /// Byte 0: bit 0 fixes up the CRC of the first batch (so the fuzzer gets past it), bit 1
    /// appends as the broker instead of a client. The rest is a `records` field.
    public static func recordBatches(_ input: [UInt8]) {
        guard let flags = input.first else { return }
        var bytes = Array(input.dropFirst())
        if flags & 1 != 0 { fixFirstCRC(&bytes) }
        let maxDecompressed = 1 << 16
        switch RecordBatches.validateForAppend(bytes, maxBatchBytes: 1 << 20, now: 1_700_000_000_000,
                                               maxDecompressedBytes: maxDecompressed,
                                               origin: flags & 2 != 0 ? .broker : .client) {
        case .success(let validated):
            var total = 0
            for batch in validated.batches {
                precondition(batch.start == total, "batches not contiguous")
                total += batch.totalSize
            }
            precondition(total <= bytes.count, "validated batches exceed the input")
        case .failure:
            break
        }
        // Records of every complete batch, with and without the CRC check.
        for (start, _) in RecordBatches.batches(in: bytes) {
            for verify in [true, false] {
                if let records = try? RecordBatches.records(in: bytes, batchStart: start,
                                                            maxDecompressedSize: maxDecompressed, verifyCRC: verify) {
                    precondition(records.count <= max(bytes.count, maxDecompressed), "more records than bytes")
                }
            }
        }
    }

    /// Byte 0 picks the codec, byte 1 the output limit (0-1020 bytes); the rest is compressed data.
    public static func decompress(_ input: [UInt8]) {
        guard input.count >= 2 else { return }
        let codecs = CompressionCodec.allCases
        let codec = codecs[Int(input[0]) % codecs.count]
        let limit = Int(input[1]) * 4
        guard let plain = try? Compressor.decompress(input[2...], codec: codec, maxOutputSize: limit) else { return }
        precondition(plain.count <= limit, "\(codec): \(plain.count) bytes out, limit \(limit)")
        // What came out must survive our own compressor and come back identical.
        guard let packed = try? Compressor.compress(plain, codec: codec) else {
            preconditionFailure("\(codec): cannot compress \(plain.count) bytes")
        }
        let back = try? Compressor.decompress(packed[...], codec: codec, maxOutputSize: limit)
        precondition(back == plain, "\(codec): compress/decompress round trip differs")
    }

    /// Writes the CRC-32C the first batch's header should carry, when there is a whole header.
    static func fixFirstCRC(_ bytes: inout [UInt8]) {
        guard bytes.count >= RecordBatchHeader.size else { return }
        let length = Int(Int32(bitPattern: UInt32(bytes[8]) << 24 | UInt32(bytes[9]) << 16
                                         | UInt32(bytes[10]) << 8 | UInt32(bytes[11])))
        let total = length + RecordBatchHeader.logOverhead
        guard length >= 0, total >= RecordBatchHeader.size, total <= bytes.count else { return }
        let crc = RecordBatchHeader.computeCRC(bytes, batchStart: 0, totalSize: total)
        let at = RecordBatchHeader.Field.crc
        for i in 0..<4 { bytes[at + i] = UInt8(truncatingIfNeeded: crc >> (24 - 8 * UInt32(i))) }
    }
}
