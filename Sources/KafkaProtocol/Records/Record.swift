public import Compression

/// One record header: a non-null UTF-8 key and an optional value.
public struct RecordHeader: Equatable, Sendable {
    public var key: String
    public var value: [UInt8]?
    public init(key: String, value: [UInt8]?) {
        self.key = key
        self.value = value
    }
}

/// A record as stored inside a v2 batch: offset and timestamp are deltas from the batch's base.
public struct Record: Equatable, Sendable {
    public var offsetDelta: Int32
    public var timestampDelta: Int64
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: [RecordHeader]
    /// Unused by Kafka; always 0 when written.
    public var attributes: Int8

    public init(
        offsetDelta: Int32, timestampDelta: Int64, key: [UInt8]?, value: [UInt8]?,
        headers: [RecordHeader] = [], attributes: Int8 = 0
    ) {
        self.offsetDelta = offsetDelta
        self.timestampDelta = timestampDelta
        self.key = key
        self.value = value
        self.headers = headers
        self.attributes = attributes
    }
}

/// Attribute bit 3 of a batch.
public enum TimestampType: Sendable, Equatable {
    case createTime, logAppendTime
}

/// The attribute bits of a v2 batch (RECORDS.md §1.1).
public enum BatchAttributes {
    public static let codecMask: Int16 = 0x07
    public static let logAppendTime: Int16 = 0x08
    public static let transactional: Int16 = 0x10
    public static let control: Int16 = 0x20
    public static let deleteHorizon: Int16 = 0x40

    public static func make(
        codec: CompressionCodec, timestampType: TimestampType, isTransactional: Bool, isControl: Bool
    ) -> Int16 {
        var a = Int16(codec.rawValue)
        if timestampType == .logAppendTime { a |= logAppendTime }
        if isTransactional { a |= transactional }
        if isControl { a |= control }
        return a
    }
}
