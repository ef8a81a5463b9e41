// The metadata log's record value format ("ApiMessageAndVersion", KIP-631): an unsigned varint
// frame version (1 today), an unsigned varint record type (the spec's apiKey), an unsigned
// varint record version, then the record in its flexible encoding. The record key is unused.
import KafkaProtocol

/// One metadata record with the version it is (or will be) written at.
public struct MetadataRecordAndVersion: Sendable, Equatable {
    /// The only frame version Kafka writes and reads; 0 was never released.
    public static let frameVersion: UInt32 = 1

    public var record: MetadataRecord
    public var version: Int16

    /// `version` defaults to the newest version the spec defines for the record's type.
    public init(_ record: MetadataRecord, version: Int16? = nil) {
        self.record = record
        self.version = version ?? record.type.specVersions.upperBound
    }

    /// The framed bytes: the value of one record in the metadata log.
    public func encoded() -> [UInt8] {
        var w = WireWriter()
        w.writeUnsignedVarint(Self.frameVersion)
        w.writeUnsignedVarint(UInt32(UInt16(bitPattern: record.type.rawValue)))
        w.writeUnsignedVarint(UInt32(UInt16(bitPattern: version)))
        record.encode(to: &w, version: version)
        return w.bytes
    }

    /// Decodes one framed record; every byte must belong to it.
    public init(decoding bytes: [UInt8]) throws(MetadataFrameError) {
        var r = WireReader(bytes)
        do {
            let frame = try r.readUnsignedVarint()
            guard frame == Self.frameVersion else { throw MetadataFrameError.unknownFrameVersion(frame) }
            let typeNumber = try r.readUnsignedVarint()
            guard typeNumber <= UInt32(Int16.max), let type = MetadataRecordType(rawValue: Int16(typeNumber)) else {
                throw MetadataFrameError.unknownRecordType(typeNumber)
            }
            let versionNumber = try r.readUnsignedVarint()
            guard versionNumber <= UInt32(Int16.max), type.specVersions.contains(Int16(versionNumber)) else {
                throw MetadataFrameError.unsupportedVersion(type, versionNumber)
            }
            let version = Int16(versionNumber)
            let record = try MetadataRecord(type: type, from: &r, version: version)
            guard r.isAtEnd else { throw MetadataFrameError.trailingBytes(type, r.remaining) }
            self.init(record, version: version)
        } catch let error as MetadataFrameError {
            throw error
        } catch let error as DecodeError {
            throw MetadataFrameError.malformed(error)
        } catch {
            throw MetadataFrameError.malformed(.invalidValue("\(error)"))
        }
    }
}

/// Why a metadata log value could not be read as a framed record.
public enum MetadataFrameError: Error, Equatable, Sendable, CustomStringConvertible {
    case unknownFrameVersion(UInt32)
    case unknownRecordType(UInt32)
    case unsupportedVersion(MetadataRecordType, UInt32)
    case trailingBytes(MetadataRecordType, Int)
    case malformed(DecodeError)

    public var description: String {
        switch self {
        case .unknownFrameVersion(let v): return "metadata record frame version \(v) is unknown (only 1 is)"
        case .unknownRecordType(let t): return "metadata record type \(t) is unknown"
        case .unsupportedVersion(let type, let v):
            return "\(type) version \(v) is outside the versions the spec defines (\(type.specVersions))"
        case .trailingBytes(let type, let n): return "\(type): \(n) bytes follow the record in its frame"
        case .malformed(let error): return "metadata record does not decode: \(error)"
        }
    }
}
