public import Compression

/// Builds the bytes of one RecordBatch v2: records are encoded straight into the output buffer
/// behind 61 reserved header bytes, so an uncompressed batch is produced without any copy.
///
/// Record timestamps are stored as deltas from `baseTimestamp`, which defaults to the first
/// record's timestamp (as Kafka's producers do). An empty batch gets count 0, lastOffsetDelta -1
/// and timestamps -1. `build()` hands the buffer over and leaves the builder empty with the
/// same settings, ready for the next batch.
public struct RecordBatchBuilder {
    public var baseOffset: Int64
    public var partitionLeaderEpoch: Int32
    public var codec: CompressionCodec
    public var compressionLevel: Int?
    /// Java clients write xerial framing; every reader accepts it.
    public var snappyFraming: SnappyFraming
    public var timestampType: TimestampType
    public var isTransactional: Bool
    public var isControl: Bool
    public var producerId: Int64
    public var producerEpoch: Int16
    public var baseSequence: Int32
    public private(set) var baseTimestamp: Int64?
    public private(set) var recordCount: Int32 = 0
    public private(set) var maxTimestamp: Int64 = -1
    private var lastOffsetDelta: Int32 = -1
    private let configuredBaseTimestamp: Int64?
    private var estimatedRecordBytes: Int
    /// Empty until the first record or build; then 61 reserved header bytes + encoded records.
    private var writer = WireWriter(capacity: 0)

    public init(
        baseOffset: Int64 = 0, partitionLeaderEpoch: Int32 = -1, codec: CompressionCodec = .none,
        compressionLevel: Int? = nil, snappyFraming: SnappyFraming = .xerial,
        timestampType: TimestampType = .createTime, isTransactional: Bool = false, isControl: Bool = false,
        baseTimestamp: Int64? = nil, producerId: Int64 = -1, producerEpoch: Int16 = -1, baseSequence: Int32 = -1,
        estimatedRecordBytes: Int = 1024
    ) {
        self.baseOffset = baseOffset
        self.partitionLeaderEpoch = partitionLeaderEpoch
        self.codec = codec
        self.compressionLevel = compressionLevel
        self.snappyFraming = snappyFraming
        self.timestampType = timestampType
        self.isTransactional = isTransactional
        self.isControl = isControl
        self.baseTimestamp = baseTimestamp
        configuredBaseTimestamp = baseTimestamp
        self.estimatedRecordBytes = max(0, estimatedRecordBytes)
        self.producerId = producerId
        self.producerEpoch = producerEpoch
        self.baseSequence = baseSequence
    }

    /// Bytes of the batch so far, before compression: what a client weighs against batch.size.
    public var uncompressedSize: Int { max(writer.count, RecordBatchHeader.size) }

    private mutating func reserveHeader() {
        guard writer.count == 0 else { return }
        writer = WireWriter(capacity: RecordBatchHeader.size + estimatedRecordBytes)
        for _ in 0..<RecordBatchHeader.size { writer.writeUInt8(0) }
    }

    /// Appends the next record (offset delta = number of records so far).
    public mutating func append(
        key: [UInt8]?, value: [UInt8]?, headers: [RecordHeader] = [], timestamp: Int64
    ) {
        let base: Int64
        if let b = baseTimestamp { base = b } else { base = timestamp; baseTimestamp = timestamp }
        encode(offsetDelta: recordCount, timestampDelta: timestamp &- base, key: key, value: value,
               headers: headers, attributes: 0)
        if timestamp > maxTimestamp { maxTimestamp = timestamp }
    }

    /// Appends a record with the deltas it carries (copying records between batches, or tests
    /// that need unusual offset deltas). `baseTimestamp` must be set for timestamps to make sense.
    public mutating func append(_ record: Record) {
        if baseTimestamp == nil { baseTimestamp = 0 }
        encode(offsetDelta: record.offsetDelta, timestampDelta: record.timestampDelta, key: record.key,
               value: record.value, headers: record.headers, attributes: record.attributes)
        let timestamp = baseTimestamp! &+ record.timestampDelta
        if timestamp > maxTimestamp { maxTimestamp = timestamp }
    }

    private mutating func encode(
        offsetDelta: Int32, timestampDelta: Int64, key: [UInt8]?, value: [UInt8]?,
        headers: [RecordHeader], attributes: Int8
    ) {
        reserveHeader()
        // The length prefix comes first, so the body size is computed before writing it.
        var body = 1 + Self.varlongSize(timestampDelta) + Self.varintSize(offsetDelta)
        body += Self.bytesFieldSize(key?.count) + Self.bytesFieldSize(value?.count)
        body += Self.varintSize(Int32(headers.count))
        for h in headers { body += Self.bytesFieldSize(h.key.utf8.count) + Self.bytesFieldSize(h.value?.count) }

        writer.writeVarint(Int32(body))
        writer.writeInt8(attributes)
        writer.writeVarlong(timestampDelta)
        writer.writeVarint(offsetDelta)
        writeBytesField(key)
        writeBytesField(value)
        writer.writeVarint(Int32(headers.count))
        for h in headers {
            writer.writeVarint(Int32(h.key.utf8.count))
            writer.bytes.append(contentsOf: h.key.utf8)
            writeBytesField(h.value)
        }
        recordCount += 1
        lastOffsetDelta = offsetDelta
    }

    private mutating func writeBytesField(_ b: [UInt8]?) {
        guard let b else { return writer.writeVarint(-1) }
        writer.writeVarint(Int32(b.count))
        writer.bytes.append(contentsOf: b)
    }

    /// Header, compressed records and CRC-32C: a complete batch ready to send or store.
    /// Leaves the builder empty (same settings) for the next batch.
    public mutating func build() throws(CompressionError) -> [UInt8] {
        reserveHeader()
        var out: [UInt8] = []
        if codec == .none {
            // Taking the buffer out of self keeps it uniquely referenced, so the header is
            // patched in place instead of copying the whole batch.
            swap(&out, &writer.bytes)
        } else {
            let payload = try Compressor.compress(
                Array(writer.bytes[RecordBatchHeader.size...]), codec: codec, level: compressionLevel,
                snappyFraming: snappyFraming)
            out = []
            out.reserveCapacity(RecordBatchHeader.size + payload.count)
            out.append(contentsOf: [UInt8](repeating: 0, count: RecordBatchHeader.size))
            out.append(contentsOf: payload)
        }
        let header = RecordBatchHeader(
            baseOffset: baseOffset, batchLength: Int32(out.count - RecordBatchHeader.logOverhead),
            partitionLeaderEpoch: partitionLeaderEpoch, magic: 2, crc: 0,
            attributes: BatchAttributes.make(codec: codec, timestampType: timestampType,
                                             isTransactional: isTransactional, isControl: isControl),
            lastOffsetDelta: recordCount == 0 ? -1 : lastOffsetDelta,
            baseTimestamp: recordCount == 0 ? -1 : (baseTimestamp ?? -1),
            maxTimestamp: maxTimestamp, producerId: producerId, producerEpoch: producerEpoch,
            baseSequence: baseSequence, recordsCount: recordCount)
        header.write(to: &out, at: 0)
        let crc = RecordBatchHeader.computeCRC(out, batchStart: 0, totalSize: out.count)
        out.putBigEndian(crc, at: RecordBatchHeader.Field.crc)
        writer = WireWriter(capacity: 0)
        recordCount = 0
        maxTimestamp = -1
        lastOffsetDelta = -1
        baseTimestamp = configuredBaseTimestamp
        return out
    }

    static func varintSize(_ v: Int32) -> Int {
        var u = UInt32(bitPattern: (v << 1) ^ (v >> 31))
        var n = 1
        while u >= 0x80 { u >>= 7; n += 1 }
        return n
    }

    static func varlongSize(_ v: Int64) -> Int {
        var u = UInt64(bitPattern: (v << 1) ^ (v >> 63))
        var n = 1
        while u >= 0x80 { u >>= 7; n += 1 }
        return n
    }

    /// A varint length (-1 for null) plus the bytes.
    static func bytesFieldSize(_ count: Int?) -> Int {
        guard let count else { return 1 }
        return varintSize(Int32(count)) + count
    }
}
