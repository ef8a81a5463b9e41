// KIP-219 throttling in the reactor: a response completed with a mute goes out at once, then the
// connection is not read from for the mute time; other connections carry on.
import Broker
import Glibc
import Synchronization
import Testing

final class Arrivals: Sendable {
    private let times = Mutex<[Int64]>([])
    func add(_ t: Int64) { times.withLock { $0.append(t) } }
    var all: [Int64] { times.withLock { $0 } }
}

@Suite(.serialized) struct NetMuteTests {
    /// Echo; a frame whose first byte is 1 asks for a 400 ms mute, 2 for a mute without an answer.
    static func mutingEcho(arrivals: Arrivals) -> RecordingHandler {
        RecordingHandler { frame, _, slot in
            arrivals.add(monotonicMs())
            if frame.first == 2 {
                slot.completeWithoutResponse(muteMs: 400)
            } else {
                slot.complete(frame, muteMs: frame.first == 1 ? 400 : 0)
            }
        }
    }

    @Test func mutedConnectionAnswersAtOnceThenIsNotReadUntilTheMuteEnds() throws {
        let arrivals = Arrivals()
        let handler = Self.mutingEcho(arrivals: arrivals)
        let server = try startServer(handler)
        defer { server.shutdown(gracePeriodMs: 0) }
        let client = try NetTestClient(port: server.boundPorts[0])
        let start = monotonicMs()
        try client.sendFrame([1, 0xaa])
        #expect(try client.readFrame() == [1, 0xaa])
        #expect(monotonicMs() - start < 300)  // the throttled response itself is not delayed
        try client.sendFrame([0, 0xbb])  // arrives while muted
        #expect(try client.readFrame() == [0, 0xbb])
        let times = arrivals.all
        #expect(times.count == 2)
        #expect(times[1] - times[0] >= 390, "second frame read \(times[1] - times[0]) ms after the first")
        // Not muted any more: the next request is read at once.
        let t = monotonicMs()
        try client.sendFrame([0, 0xcc])
        #expect(try client.readFrame() == [0, 0xcc])
        #expect(monotonicMs() - t < 300)
    }

    @Test func muteOfOneConnectionDoesNotDelayAnother() throws {
        let arrivals = Arrivals()
        let handler = Self.mutingEcho(arrivals: arrivals)
        let server = try startServer(handler, limits: NetLimits(reactorThreads: 1))
        defer { server.shutdown(gracePeriodMs: 0) }
        let noisy = try NetTestClient(port: server.boundPorts[0])
        let quiet = try NetTestClient(port: server.boundPorts[0])
        try noisy.sendFrame([1])
        #expect(try noisy.readFrame() == [1])
        try noisy.sendFrame([0, 1])  // held back by the mute
        let t = monotonicMs()
        for i in 0..<20 {
            try quiet.sendFrame([0, UInt8(i)])
            #expect(try quiet.readFrame() == [0, UInt8(i)])
        }
        #expect(monotonicMs() - t < 300)
        #expect(try noisy.readFrame() == [0, 1])
    }

    @Test func aLaterMuteExtendsAndFramesAlreadyReadStillAnswer() throws {
        let arrivals = Arrivals()
        let handler = Self.mutingEcho(arrivals: arrivals)
        let server = try startServer(handler)
        defer { server.shutdown(gracePeriodMs: 0) }
        let client = try NetTestClient(port: server.boundPorts[0])
        // Two muting frames and one plain one in a single write: the reactor parses the first,
        // mutes, and holds the rest of the buffer until the mute ends.
        try client.send(framed([1]) + framed([1]) + framed([0]))
        for expected: [UInt8] in [[1], [1], [0]] { #expect(try client.readFrame() == expected) }
        let times = arrivals.all
        #expect(times.count == 3)
        #expect(times[1] - times[0] >= 390)
        #expect(times[2] - times[1] >= 390)
    }

    @Test func muteWithoutAResponseHoldsTheNextRequest() throws {
        let arrivals = Arrivals()
        let handler = Self.mutingEcho(arrivals: arrivals)
        let server = try startServer(handler)
        defer { server.shutdown(gracePeriodMs: 0) }
        let client = try NetTestClient(port: server.boundPorts[0])
        try client.send(framed([2]) + framed([0, 7]))  // like acks=0 produce, then a request
        #expect(try client.readFrame() == [0, 7])
        let times = arrivals.all
        #expect(times.count == 2)
        #expect(times[1] - times[0] >= 390)
    }
}
