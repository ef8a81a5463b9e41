// Network server behaviour over real sockets on 127.0.0.1 ephemeral ports. Every read has a
// timeout, so a broken server fails a test instead of hanging the run.
import Broker
import Dispatch
import Glibc
import Synchronization
import Testing

@Suite(.serialized) struct NetTests {
    @Test func echoRoundTripAndConnectionEvents() throws {
        let handler = RecordingHandler.echo()
        let server = try startServer(handler)
        defer { server.shutdown(gracePeriodMs: 0) }
        let port = try #require(server.boundPorts.first)
        #expect(port > 0)
        do {
            let client = try NetTestClient(port: port)
            try client.sendFrame(Array("hello".utf8))
            #expect(try client.readFrame() == Array("hello".utf8))
            let info = try #require(handler.record.withLock { $0.opened.first })
            #expect(info.listenerName == "PLAINTEXT")
            #expect(info.listenerPort == port)
            #expect(info.peerAddress.hasPrefix("127.0.0.1:"))
        }
        #expect(waitUntil { handler.closedCount == 1 })
        #expect(handler.openedCount == 1)
    }

    @Test func pipelinedResponsesKeepRequestOrderWhenCompletedRandomlyFromOtherThreads() throws {
        let count = 200
        let store = SlotStore()
        let handler = RecordingHandler { frame, _, slot in
            store.add(slot, frame)
            guard store.count == count else { return }
            let parked = store.takeAll().shuffled()
            onOtherThread {
                DispatchQueue.concurrentPerform(iterations: parked.count) { i in
                    parked[i].0.complete(parked[i].1 + [0xEE])
                }
            }
        }
        let server = try startServer(handler, limits: NetLimits(maxInFlightPerConnection: count))
        defer { server.shutdown(gracePeriodMs: 0) }
        let client = try NetTestClient(port: server.boundPorts[0])
        try client.send((0..<count).flatMap { framed(indexedBody($0, padding: $0 % 7)) })
        for i in 0..<count {
            let response = try #require(try client.readFrame())
            #expect(readBigEndian32(response) == i)
            #expect(response.count == 4 + i % 7 + 1)
        }
    }

    @Test func reverseCompletionWithMissingResponsesKeepsOrder() throws {
        let count = 20
        let store = SlotStore()
        let handler = RecordingHandler { frame, _, slot in
            if readBigEndian32(frame) == 99 { return slot.complete(frame) }
            store.add(slot, frame)
            if store.count == count {
                let parked = store.takeAll()
                onOtherThread {
                    for (slot, frame) in parked.reversed() {
                        if readBigEndian32(frame) % 2 == 0 { slot.complete(frame) } else { slot.completeWithoutResponse() }
                    }
                }
            }
        }
        let server = try startServer(handler)
        defer { server.shutdown(gracePeriodMs: 0) }
        let client = try NetTestClient(port: server.boundPorts[0])
        try client.send((0..<count).flatMap { framed(indexedBody($0)) })
        for i in stride(from: 0, to: count, by: 2) {
            #expect(try client.readFrame().map { readBigEndian32($0) } == i)
        }
        try client.sendFrame(indexedBody(99))  // ordering moved past the unanswered ones
        #expect(try client.readFrame().map { readBigEndian32($0) } == 99)
    }

    @Test func closeConnectionClosesAfterEarlierResponsesFlush() throws {
        let handler = RecordingHandler { frame, _, slot in
            switch readBigEndian32(frame) {
            case 0: onOtherThread { usleep(100_000); slot.complete(frame) }  // earlier, and slow
            case 1: slot.closeConnection()
            default: slot.complete(frame)  // after the close: must never be sent
            }
        }
        let server = try startServer(handler)
        defer { server.shutdown(gracePeriodMs: 0) }
        let client = try NetTestClient(port: server.boundPorts[0])
        try client.send((0..<3).flatMap { framed(indexedBody($0)) })
        #expect(try client.readFrame().map { readBigEndian32($0) } == 0)
        #expect(try client.readFrame() == nil)
        #expect(waitUntil { handler.closedCount == 1 })
    }

    @Test func frameSplitByteByByteIsReassembled() throws {
        let server = try startServer(RecordingHandler.echo())
        defer { server.shutdown(gracePeriodMs: 0) }
        let client = try NetTestClient(port: server.boundPorts[0])
        let body = indexedBody(7, padding: 300)
        for byte in framed(body) {
            try client.send([byte])
            usleep(200)
        }
        #expect(try client.readFrame() == body)
        // Uneven chunks straddling frame boundaries.
        let stream = (0..<5).flatMap { framed(indexedBody($0, padding: 50 * $0)) }
        var offset = 0
        var chunk = 1
        while offset < stream.count {
            let end = min(stream.count, offset + chunk)
            try client.send(Array(stream[offset..<end]))
            offset = end
            chunk = chunk * 3 % 97 + 1
            usleep(300)
        }
        for i in 0..<5 { #expect(try client.readFrame() == indexedBody(i, padding: 50 * i)) }
    }

    @Test func severalFramesInOneWriteAreAllDispatched() throws {
        let handler = RecordingHandler.echo()
        let server = try startServer(handler)
        defer { server.shutdown(gracePeriodMs: 0) }
        let client = try NetTestClient(port: server.boundPorts[0])
        try client.send((0..<50).flatMap { framed(indexedBody($0, padding: 3)) })
        for i in 0..<50 { #expect(try client.readFrame() == indexedBody(i, padding: 3)) }
        #expect(handler.frames == 50)
    }

    @Test func largeFrameRoundTripsThroughPartialReadsAndWrites() throws {
        let server = try startServer(RecordingHandler.echo(), limits: NetLimits(socketSendBufferBytes: 64 * 1024))
        defer { server.shutdown(gracePeriodMs: 0) }
        let client = try NetTestClient(port: server.boundPorts[0])
        let body = (0..<(4 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
        let sent = Atomic<Bool>(false)
        // Send from another thread: the echo comes back while the request is still going out.
        onOtherThread {
            try? client.sendFrame(body)
            sent.store(true, ordering: .releasing)
        }
        #expect(try client.readFrame() == body)
        #expect(waitUntil { sent.load(ordering: .acquiring) })
    }

    @Test func eachListenerReportsItsOwnNameAndPort() throws {
        let handler = RecordingHandler.echo()
        let server = NetServer(listeners: [ListenerAddress(name: "A", host: "127.0.0.1", port: 0),
                                           ListenerAddress(name: "B", host: "", port: 0)],
                               limits: NetLimits(reactorThreads: 3), handler: handler)
        try server.start()
        defer { server.shutdown(gracePeriodMs: 0) }
        let ports = server.boundPorts
        #expect(ports.count == 2 && ports[0] != ports[1])
        for port in ports {
            let client = try NetTestClient(port: port)
            try client.sendFrame([1])
            #expect(try client.readFrame() == [1])
        }
        let seen = handler.record.withLock { $0.opened.map { "\($0.listenerName):\($0.listenerPort)" } }
        #expect(seen == ["A:\(ports[0])", "B:\(ports[1])"])
    }

    @Test func badSizePrefixesCloseOnlyTheirConnection() throws {
        let handler = RecordingHandler.echo()
        let server = try startServer(handler, limits: NetLimits(maxRequestBytes: 1024))
        defer { server.shutdown(gracePeriodMs: 0) }
        let port = server.boundPorts[0]
        let good = try NetTestClient(port: port)
        for prefix in [bigEndian32(1025), bigEndian32(-1), bigEndian32(Int(Int32.min)), bigEndian32(0)] {
            let bad = try NetTestClient(port: port)
            try bad.send(prefix + [1, 2, 3])
            #expect(bad.waitForClose())
        }
        try good.sendFrame([UInt8](repeating: 9, count: 1024))  // exactly at the limit
        #expect(try good.readFrame() == [UInt8](repeating: 9, count: 1024))
        #expect(handler.frames == 1)
        #expect(waitUntil { handler.closedCount == 4 })
    }

    @Test func perConnectionFrameLimitApplies() throws {
        let serverBox = Mutex<NetServer?>(nil)
        let handler = RecordingHandler(onOpen: { info in
            serverBox.withLock { $0 }?.setMaxFrameBytes(64, for: info)
        }, onFrame: { frame, _, slot in slot.complete(frame) })
        let server = try startServer(handler)
        serverBox.withLock { $0 = server }
        defer { server.shutdown(gracePeriodMs: 0); serverBox.withLock { $0 = nil } }
        let port = server.boundPorts[0]
        let small = try NetTestClient(port: port)
        try small.sendFrame([UInt8](repeating: 1, count: 64))
        #expect(try small.readFrame()?.count == 64)
        let big = try NetTestClient(port: port)
        try big.sendFrame([UInt8](repeating: 1, count: 65))
        #expect(big.waitForClose())
    }

    @Test func garbageThenPeerCloseIsHandledAndLateCompletionsIgnored() throws {
        let store = SlotStore()
        let handler = RecordingHandler { frame, _, slot in store.add(slot, frame) }
        let server = try startServer(handler)
        defer { server.shutdown(gracePeriodMs: 0) }
        let port = server.boundPorts[0]
        do {
            let client = try NetTestClient(port: port)
            try client.send(framed([1, 2, 3]) + bigEndian32(100) + [0xDE, 0xAD, 0xBE, 0xEF])  // one frame, then a torso
        }
        #expect(waitUntil { handler.closedCount == 1 })
        #expect(handler.frames == 1)
        for (slot, frame) in store.takeAll() { slot.complete(frame) }  // after close: ignored
        do {
            let client = try NetTestClient(port: port)
            try client.send((0..<64).map { UInt8(truncatingIfNeeded: $0 &* 151 &+ 77) })  // random-looking
            client.shutdownWrite()
            #expect(client.waitForClose())
        }
        #expect(waitUntil { handler.closedCount == 2 })
        store.takeAll().forEach { $0.0.complete($0.1) }
        #expect(waitUntil { handler.openedCount == 2 })
    }

    @Test func peerCloseWithRequestsInFlightClosesAtOnce() throws {
        let store = SlotStore()
        let handler = RecordingHandler { frame, _, slot in store.add(slot, frame) }
        let server = try startServer(handler)
        defer { server.shutdown(gracePeriodMs: 0) }
        let client = try NetTestClient(port: server.boundPorts[0])
        try client.send((0..<3).flatMap { framed(indexedBody($0)) })
        client.shutdownWrite()  // Kafka has no half-close: EOF ends the connection
        #expect(client.waitForClose())
        #expect(handler.frames == 3)
        #expect(waitUntil { handler.closedCount == 1 })
        store.takeAll().forEach { $0.0.complete($0.1) }
    }

    @Test func droppedSlotClosesItsConnection() throws {
        let handler = RecordingHandler { _, _, _ in }  // never completes, never keeps the slot
        let server = try startServer(handler)
        defer { server.shutdown(gracePeriodMs: 0) }
        let client = try NetTestClient(port: server.boundPorts[0])
        try client.sendFrame([1])
        #expect(client.waitForClose())
    }

    @Test func idleConnectionsAreReapedButNotWhileAwaitingAResponse() throws {
        let store = SlotStore()
        let handler = RecordingHandler { frame, _, slot in store.add(slot, frame) }
        let server = try startServer(handler, limits: NetLimits(idleTimeoutMs: 150))
        defer { server.shutdown(gracePeriodMs: 0) }
        let port = server.boundPorts[0]
        let started = monotonicMs()
        let idle = try NetTestClient(port: port)
        let busy = try NetTestClient(port: port)
        try busy.sendFrame([42])
        #expect(idle.waitForClose())
        #expect(monotonicMs() - started >= 140)
        usleep(200_000)  // busy is past the idle timeout but has a request in flight
        #expect(handler.closedCount == 1)
        store.takeAll().forEach { $0.0.complete($0.1) }
        #expect(try busy.readFrame() == [42])
        #expect(busy.waitForClose())  // then idle again, and reaped
    }

    @Test func inFlightLimitStopsReadingUntilResponsesComplete() throws {
        let count = 40
        let store = SlotStore()
        let handler = RecordingHandler { frame, _, slot in store.add(slot, frame) }
        let server = try startServer(handler, limits: NetLimits(maxInFlightPerConnection: 4))
        defer { server.shutdown(gracePeriodMs: 0) }
        let client = try NetTestClient(port: server.boundPorts[0])
        try client.send((0..<count).flatMap { framed(indexedBody($0)) })
        #expect(waitUntil { handler.frames == 4 })
        usleep(100_000)
        #expect(handler.frames == 4)
        let done = Atomic<Bool>(false)
        onOtherThread {
            while !done.load(ordering: .relaxed) {
                for (slot, frame) in store.takeAll().reversed() { slot.complete(frame) }
                usleep(1000)
            }
        }
        defer { done.store(true, ordering: .relaxed) }
        for i in 0..<count { #expect(try client.readFrame().map { readBigEndian32($0) } == i) }
    }

    @Test func slowReaderBackPressureBoundsServerWork() throws {
        let count = 400
        let responseSize = 64 * 1024
        let handler = RecordingHandler { frame, _, slot in
            slot.complete(frame + [UInt8](repeating: 0xAB, count: responseSize - frame.count))
        }
        let limits = NetLimits(maxInFlightPerConnection: 1000, maxPendingOutputBytes: 128 * 1024,
                               socketSendBufferBytes: 32 * 1024)
        let server = try startServer(handler, limits: limits)
        defer { server.shutdown(gracePeriodMs: 0) }
        let client = try NetTestClient(port: server.boundPorts[0], receiveBufferBytes: 32 * 1024)
        try client.send((0..<count).flatMap { framed(indexedBody($0)) })
        usleep(300_000)  // the client reads nothing meanwhile
        let handledWhileStalled = handler.frames
        #expect(handledWhileStalled > 0)
        #expect(handledWhileStalled < 16, "server kept reading: \(handledWhileStalled) requests handled")
        for i in 0..<count {
            let response = try #require(try client.readFrame())
            #expect(response.count == responseSize)
            #expect(readBigEndian32(response) == i)
        }
        #expect(handler.frames == count)
    }

    @Test func gracefulShutdownFinishesInFlightRequestThenCloses() throws {
        let handler = RecordingHandler { frame, _, slot in onOtherThread { usleep(300_000); slot.complete(frame) } }
        let server = try startServer(handler)
        let port = server.boundPorts[0]
        let client = try NetTestClient(port: port)
        let idle = try NetTestClient(port: port)
        try client.sendFrame([7, 7])
        #expect(waitUntil { handler.frames == 1 && handler.openedCount == 2 })
        let started = monotonicMs()
        server.shutdown(gracePeriodMs: 5000)
        let took = monotonicMs() - started
        #expect(took >= 200 && took < 4000, "shutdown took \(took) ms")
        #expect(try client.readFrame() == [7, 7])
        #expect(try client.readFrame() == nil)
        #expect(idle.waitForClose())
        #expect(handler.closedCount == 2)
        #expect(throws: NetTestError.self) { _ = try NetTestClient(port: port) }
        server.shutdown(gracePeriodMs: 5000)  // second call: no-op
        #expect(handler.closedCount == 2)
    }

    @Test func shutdownGracePeriodBoundsAStuckRequest() throws {
        let store = SlotStore()
        let handler = RecordingHandler { frame, _, slot in store.add(slot, frame) }
        let server = try startServer(handler)
        let client = try NetTestClient(port: server.boundPorts[0])
        try client.sendFrame([1])
        #expect(waitUntil { handler.frames == 1 })
        let started = monotonicMs()
        server.shutdown(gracePeriodMs: 150)
        let took = monotonicMs() - started
        #expect(took >= 140 && took < 3000, "shutdown took \(took) ms")
        #expect(client.waitForClose())
        store.takeAll().forEach { $0.0.complete($0.1) }  // after shutdown: ignored
        #expect(handler.closedCount == 1)
    }

    @Test func twoHundredConcurrentConnections() throws {
        let handler = RecordingHandler.echo()
        let server = try startServer(handler)
        defer { server.shutdown(gracePeriodMs: 0) }
        let port = server.boundPorts[0]
        let clients = try (0..<200).map { _ in try NetTestClient(port: port) }
        for (i, client) in clients.enumerated() { try client.sendFrame(indexedBody(i, padding: i)) }
        for (i, client) in clients.enumerated() { #expect(try client.readFrame() == indexedBody(i, padding: i)) }
        let ids = Set(handler.record.withLock { $0.opened.map(\.id) })
        #expect(ids.count == 200)
    }

    @Test func startRejectsABusyPortAndASecondStart() throws {
        let first = try startServer(RecordingHandler.echo())
        defer { first.shutdown(gracePeriodMs: 0) }
        #expect(throws: NetError.self) { try first.start() }
        let clash = NetServer(listeners: [ListenerAddress(name: "x", host: "127.0.0.1", port: first.boundPorts[0])],
                              handler: RecordingHandler.echo())
        #expect(throws: NetError.self) { try clash.start() }
        #expect(clash.boundPorts.isEmpty)
    }

    @Test func signalWaiterReturnsTheTerminationSignal() {
        SignalWaiter.blockTerminationSignals()
        pthread_kill(pthread_self(), SIGINT)  // directed at this thread, where it is blocked
        #expect(SignalWaiter.waitForTermination() == SIGINT)
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGTERM)
        sigaddset(&set, SIGINT)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }
}
