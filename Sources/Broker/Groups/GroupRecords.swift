import KafkaProtocol

/// Kafka's `__consumer_offsets` record layout: key = int16 version + key struct (the key version
/// is the record type: 0/1 offset commit, 2 group metadata, 3+ KIP-848/share records we skip),
/// value = int16 version + value struct, a null value is a tombstone.
public enum GroupRecordCodec {
    public static let topic = "__consumer_offsets"
    static let offsetKeyVersion: Int16 = 1
    static let groupKeyVersion: Int16 = 2
    /// v3 carries the leader epoch; v1 is the only one with an explicit expire timestamp.
    static let offsetValueVersion: Int16 = 3
    static let groupValueVersion: Int16 = 3

    public static func encode(_ record: GroupRecord) -> (key: [UInt8], value: [UInt8]?) {
        var k = WireWriter(capacity: 64)
        switch record {
        case .offset(let group, let tp, let value):
            k.writeInt16(offsetKeyVersion)
            var key = OffsetCommitKey()
            key.group = group
            key.topic = tp.topic
            key.partition = tp.partition
            key.encode(to: &k, version: offsetKeyVersion)
            guard let value else { return (k.bytes, nil) }
            var v = WireWriter(capacity: 64)
            var body = OffsetCommitValue()
            body.offset = value.offset
            body.leaderEpoch = value.leaderEpoch
            body.metadata = value.metadata
            body.commitTimestamp = value.commitTimestamp
            let version: Int16 = value.expireTimestamp == nil ? offsetValueVersion : 1
            body.expireTimestamp = value.expireTimestamp ?? -1
            v.writeInt16(version)
            body.encode(to: &v, version: version)
            return (k.bytes, v.bytes)
        case .group(let group, let value):
            k.writeInt16(groupKeyVersion)
            var key = GroupMetadataKey()
            key.group = group
            key.encode(to: &k, version: groupKeyVersion)
            guard let value else { return (k.bytes, nil) }
            var v = WireWriter(capacity: 256)
            v.writeInt16(groupValueVersion)
            value.encode(to: &v, version: groupValueVersion)
            return (k.bytes, v.bytes)
        }
    }

    /// Decodes one record; nil for record types this coordinator does not keep (or garbage,
    /// which a reader of someone else's topic must skip rather than trip over).
    public static func decode(key: [UInt8]?, value: [UInt8]?) -> GroupRecord? {
        guard let key else { return nil }
        var r = WireReader(key)
        guard let keyVersion = try? r.readInt16() else { return nil }
        switch keyVersion {
        case 0, 1:
            guard let k = try? OffsetCommitKey(from: &r, version: keyVersion) else { return nil }
            let tp = TopicPartitionID(k.topic, k.partition)
            guard let value else { return .offset(group: k.group, tp, nil) }
            var vr = WireReader(value)
            guard let version = try? vr.readInt16(), (0...OffsetCommitValue.specVersions.upperBound).contains(version),
                  let v = try? OffsetCommitValue(from: &vr, version: version) else { return nil }
            let committed = CommittedOffset(offset: v.offset, leaderEpoch: v.leaderEpoch, metadata: v.metadata,
                                            commitTimestamp: v.commitTimestamp,
                                            expireTimestamp: v.expireTimestamp >= 0 ? v.expireTimestamp : nil)
            return .offset(group: k.group, tp, committed)
        case 2:
            guard let k = try? GroupMetadataKey(from: &r, version: keyVersion) else { return nil }
            guard let value else { return .group(k.group, nil) }
            var vr = WireReader(value)
            guard let version = try? vr.readInt16(), (0...GroupMetadataValue.specVersions.upperBound).contains(version),
                  let v = try? GroupMetadataValue(from: &vr, version: version) else { return nil }
            return .group(k.group, v)
        default:
            return nil
        }
    }

    /// Kafka's placement: abs(Java String.hashCode) mod the partition count, so a group lands in
    /// the partition Kafka's tools expect.
    public static func partition(for groupId: String, partitions: Int32) -> Int32 {
        var h: Int32 = 0
        for unit in groupId.utf16 { h = h &* 31 &+ Int32(unit) }
        return (h & 0x7fff_ffff) % max(partitions, 1)
    }
}
