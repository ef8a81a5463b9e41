/// The 61-byte header of a RecordBatch v2 (magic 2), read in place from a byte array.
/// Offsets below are from the batch start; see RECORDS.md §1 of the protocol reference.
public struct RecordBatchHeader: Equatable, Sendable {
    public static let size = 61
    /// Bytes before `batchLength` counts: baseOffset (8) + batchLength (4).
    public static let logOverhead = 12

    public enum Field {
        public static let baseOffset = 0
        public static let batchLength = 8
        public static let partitionLeaderEpoch = 12
        public static let magic = 16
        public static let crc = 17
        public static let attributes = 21
        public static let lastOffsetDelta = 23
        public static let baseTimestamp = 27
        public static let maxTimestamp = 35
        public static let producerId = 43
        public static let producerEpoch = 51
        public static let baseSequence = 53
        public static let recordsCount = 57
    }

    public var baseOffset: Int64
    public var batchLength: Int32
    public var partitionLeaderEpoch: Int32
    public var magic: Int8
    public var crc: UInt32
    public var attributes: Int16
    public var lastOffsetDelta: Int32
    public var baseTimestamp: Int64
    public var maxTimestamp: Int64
    public var producerId: Int64
    public var producerEpoch: Int16
    public var baseSequence: Int32
    public var recordsCount: Int32

    /// Total bytes of the batch including the 12-byte offset+length prefix.
    public var totalSize: Int { Int(batchLength) + Self.logOverhead }
    public var lastOffset: Int64 { baseOffset + Int64(lastOffsetDelta) }
    public var compressionCodec: Int { Int(attributes & 0x7) }
    public var isLogAppendTime: Bool { attributes & 0x8 != 0 }
    public var isTransactional: Bool { attributes & 0x10 != 0 }
    public var isControl: Bool { attributes & 0x20 != 0 }
    public var hasDeleteHorizon: Bool { attributes & 0x40 != 0 }

    public init(
        baseOffset: Int64 = 0, batchLength: Int32 = 0, partitionLeaderEpoch: Int32 = -1, magic: Int8 = 2,
        crc: UInt32 = 0, attributes: Int16 = 0, lastOffsetDelta: Int32 = 0, baseTimestamp: Int64 = -1,
        maxTimestamp: Int64 = -1, producerId: Int64 = -1, producerEpoch: Int16 = -1, baseSequence: Int32 = -1,
        recordsCount: Int32 = 0
    ) {
        self.baseOffset = baseOffset
        self.batchLength = batchLength
        self.partitionLeaderEpoch = partitionLeaderEpoch
        self.magic = magic
        self.crc = crc
        self.attributes = attributes
        self.lastOffsetDelta = lastOffsetDelta
        self.baseTimestamp = baseTimestamp
        self.maxTimestamp = maxTimestamp
        self.producerId = producerId
        self.producerEpoch = producerEpoch
        self.baseSequence = baseSequence
        self.recordsCount = recordsCount
    }

    /// Reads the header at `offset`. Only the fixed header is checked for room; whether the whole
    /// batch (`totalSize`) is present is the caller's question.
    public init(from bytes: [UInt8], at offset: Int = 0) throws(DecodeError) {
        var r = WireReader(bytes, from: offset)
        if r.remaining < Self.size { throw .truncated(needed: Self.size, remaining: r.remaining) }
        baseOffset = try r.readInt64()
        batchLength = try r.readInt32()
        partitionLeaderEpoch = try r.readInt32()
        magic = try r.readInt8()
        crc = try r.readUInt32()
        attributes = try r.readInt16()
        lastOffsetDelta = try r.readInt32()
        baseTimestamp = try r.readInt64()
        maxTimestamp = try r.readInt64()
        producerId = try r.readInt64()
        producerEpoch = try r.readInt16()
        baseSequence = try r.readInt32()
        recordsCount = try r.readInt32()
    }

    public func encode(to w: inout WireWriter) {
        w.writeInt64(baseOffset)
        w.writeInt32(batchLength)
        w.writeInt32(partitionLeaderEpoch)
        w.writeInt8(magic)
        w.writeUInt32(crc)
        w.writeInt16(attributes)
        w.writeInt32(lastOffsetDelta)
        w.writeInt64(baseTimestamp)
        w.writeInt64(maxTimestamp)
        w.writeInt64(producerId)
        w.writeInt16(producerEpoch)
        w.writeInt32(baseSequence)
        w.writeInt32(recordsCount)
    }

    /// CRC-32C over attributes..end of batch, as stored at byte 17.
    public static func computeCRC(_ bytes: [UInt8], batchStart: Int, totalSize: Int) -> UInt32 {
        CRC32C.checksum(bytes, from: batchStart + Field.attributes, to: batchStart + totalSize)
    }
}

/// In-place edits of a stored batch. Base offset and leader epoch sit outside the CRC, so the
/// leader can stamp them without touching the checksum.
extension Array where Element == UInt8 {
    public mutating func setBatchBaseOffset(_ value: Int64, batchStart: Int) {
        let u = UInt64(bitPattern: value)
        for i in 0..<8 { self[batchStart + i] = UInt8(truncatingIfNeeded: u >> UInt64(56 - 8 * i)) }
    }

    public mutating func setBatchLeaderEpoch(_ value: Int32, batchStart: Int) {
        let u = UInt32(bitPattern: value)
        let p = batchStart + RecordBatchHeader.Field.partitionLeaderEpoch
        for i in 0..<4 { self[p + i] = UInt8(truncatingIfNeeded: u >> UInt32(24 - 8 * i)) }
    }
}

extension RecordBatchHeader {
    /// Writes the 61 header bytes over `bytes[offset..<offset + 61]`, which must exist.
    public func write(to bytes: inout [UInt8], at offset: Int) {
        precondition(offset >= 0 && offset + Self.size <= bytes.count, "header write out of bounds")
        bytes.putBigEndian(baseOffset, at: offset + Field.baseOffset)
        bytes.putBigEndian(batchLength, at: offset + Field.batchLength)
        bytes.putBigEndian(partitionLeaderEpoch, at: offset + Field.partitionLeaderEpoch)
        bytes.putBigEndian(magic, at: offset + Field.magic)
        bytes.putBigEndian(crc, at: offset + Field.crc)
        bytes.putBigEndian(attributes, at: offset + Field.attributes)
        bytes.putBigEndian(lastOffsetDelta, at: offset + Field.lastOffsetDelta)
        bytes.putBigEndian(baseTimestamp, at: offset + Field.baseTimestamp)
        bytes.putBigEndian(maxTimestamp, at: offset + Field.maxTimestamp)
        bytes.putBigEndian(producerId, at: offset + Field.producerId)
        bytes.putBigEndian(producerEpoch, at: offset + Field.producerEpoch)
        bytes.putBigEndian(baseSequence, at: offset + Field.baseSequence)
        bytes.putBigEndian(recordsCount, at: offset + Field.recordsCount)
    }
}

extension Array where Element == UInt8 {
    /// Stores a big-endian value at `offset` (fields edited in place in a stored batch).
    mutating func putBigEndian<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        let size = MemoryLayout<T>.size
        for i in 0..<size { self[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * (size - 1 - i))) }
    }
}
