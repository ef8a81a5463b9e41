// Wire primitives against slow reference implementations and hand-written byte vectors, and
// the generated codecs: bytes from the spec decode, re-encode identically, and hostile lengths
// fail before allocating.
import Testing
@testable import KafkaProtocol

@Suite struct WireTests {
    /// Reference unsigned LEB128, written the obvious way.
    static func referenceUVarint(_ v: UInt64) -> [UInt8] {
        var out: [UInt8] = []
        var v = v
        repeat {
            var b = UInt8(v & 0x7F)
            v >>= 7
            if v != 0 { b |= 0x80 }
            out.append(b)
        } while v != 0
        return out
    }

    @Test(arguments: [Int64(0), 1, -1, 63, -64, 64, 300, -300, Int64(Int32.max), Int64(Int32.min), Int64.max, Int64.min])
    func zigzagVarlongMatchesReference(_ value: Int64) throws {
        var w = WireWriter()
        w.writeVarlong(value)
        let zigzag = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        #expect(w.bytes == Self.referenceUVarint(zigzag))
        var r = WireReader(w.bytes)
        #expect(try r.readVarlong() == value)
        #expect(r.isAtEnd)
    }

    @Test func varintRoundTripsAndRejectsOverlong() throws {
        var g = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let v = Int32(truncatingIfNeeded: g.next() as UInt64)
            var w = WireWriter()
            w.writeVarint(v)
            var r = WireReader(w.bytes)
            #expect(try r.readVarint() == v)
        }
        var r = WireReader([0xFF, 0xFF, 0xFF, 0xFF, 0x7F])
        #expect(throws: DecodeError.invalidVarint) { try r.readUnsignedVarint() }
        var truncated = WireReader([0x80])
        #expect(throws: DecodeError.self) { try truncated.readUnsignedVarint() }
    }

    @Test func hostileLengthsFailWithoutAllocating() {
        var r = WireReader([0x7F, 0xFF, 0xFF, 0xFF])  // array count 2^31-1 with no bytes behind it
        #expect(throws: DecodeError.truncated(needed: Int(Int32.max), remaining: 0)) {
            try r.readArrayCount(flexible: false)
        }
        var s = WireReader([0x00, 0x10, 0x41])  // string of 16 bytes, 1 present
        #expect(throws: DecodeError.self) { try s.readString(flexible: false) }
        var n = WireReader([0xFF, 0xFE])
        #expect(throws: DecodeError.negativeLength(-2)) { try n.readNullableString(flexible: false) }
    }

    /// ApiVersions v3 response body written by hand from the spec: error 0, one api, throttle 0,
    /// no tagged fields. This is what old librdkafka must be able to read.
    @Test func apiVersionsV3ResponseBytes() throws {
        var response = ApiVersionsResponse()
        var api = ApiVersionsResponse.ApiVersion()
        api.apiKey = 18
        api.minVersion = 0
        api.maxVersion = 4
        response.apiKeys = [api]
        let expected: [UInt8] = [0x00, 0x00, 0x02, 0x00, 0x12, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]
        #expect(response.encoded(version: 3) == expected)
        #expect(try ApiVersionsResponse(bytes: expected, version: 3) == response)
        // v0: int32 array count, no throttle, no tags.
        #expect(response.encoded(version: 0) == [0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x12, 0x00, 0x00, 0x00, 0x04])
    }

    @Test func unknownTaggedFieldsRoundTrip() throws {
        // ApiVersions v3 request: compact strings "a", "b", then one unknown tag 7 of 2 bytes.
        let bytes: [UInt8] = [0x02, 0x61, 0x02, 0x62, 0x01, 0x07, 0x02, 0xAA, 0xBB]
        let request = try ApiVersionsRequest(bytes: bytes, version: 3)
        #expect(request.clientSoftwareName == "a")
        #expect(request.unknownTaggedFields == [TaggedField(tag: 7, data: [0xAA, 0xBB])])
        #expect(request.encoded(version: 3) == bytes)
    }

    @Test func knownTaggedFieldOnlyWrittenWhenNotDefault() throws {
        var response = ApiVersionsResponse()
        #expect(response.encoded(version: 3).last == 0x00)
        response.finalizedFeaturesEpoch = 5
        let bytes = response.encoded(version: 3)
        let decoded = try ApiVersionsResponse(bytes: bytes, version: 3)
        #expect(decoded.finalizedFeaturesEpoch == 5)
    }

    @Test func uuidPrintsAsKafkaBase64() {
        let id = KafkaUUID(high: 0x0123_4567_89AB_CDEF, low: 0xFEDC_BA98_7654_3210)
        #expect(id.description == "ASNFZ4mrze_-3LqYdlQyEA")
        #expect(KafkaUUID(base64: id.description) == id)
        #expect(KafkaUUID.random() != KafkaUUID.random())
    }
}
