import Foundation
import Glibc
import Security
import Synchronization
import Testing
import TLS

@testable import Broker

/// The reactor over TLS: handshake reported before the first frame, responses larger than the
/// scratch buffer (direct writes), a reader slower than the writer (wantWrite and EPOLLOUT), a
/// client certificate's subject, and refusals.
@Suite(.serialized) struct TLSNetTests {
    static let certs: String = {
        let dir = makeTemporaryDirectory("tls")
        _ = try? DevCertificates.create(directory: dir, clients: ["alice"])
        let key = (try? String(contentsOfFile: dir + "/broker-key.pem", encoding: .utf8)) ?? ""
        let chain = (try? String(contentsOfFile: dir + "/broker.pem", encoding: .utf8)) ?? ""
        _ = FileManager.default.createFile(atPath: dir + "/keystore.pem", contents: Data((key + chain).utf8))
        return dir
    }()

    final class Recorder: FrameHandler {
        final class Context: ConnectionContext {
            let info: ConnectionInfo
            init(_ info: ConnectionInfo) { self.info = info }
        }
        let secured = Mutex<[TransportSecurity]>([])
        let framesBeforeSecured = Atomic<Int>(0)
        let responseSize: Int

        init(responseSize: Int) { self.responseSize = responseSize }

        func connectionOpened(_ connection: ConnectionInfo) -> any ConnectionContext { Context(connection) }
        func transportSecured(_ connection: any ConnectionContext, _ security: TransportSecurity) {
            secured.withLock { $0.append(security) }
        }
        func handleFrame(_ frame: [UInt8], connection: any ConnectionContext, slot: ResponseSlot) {
            if secured.withLock({ $0.isEmpty }) { framesBeforeSecured.add(1, ordering: .relaxed) }
            // Echo the frame, padded to responseSize with a recognizable pattern.
            var body = frame
            while body.count < responseSize { body.append(UInt8(truncatingIfNeeded: body.count)) }
            slot.complete(body)
        }
        func connectionClosed(_ connection: any ConnectionContext) {}
    }

    func start(_ handler: Recorder, clientAuth: TLSClientAuth = .none) throws -> NetServer {
        let settings = TLSServerSettings(certificateChainPath: Self.certs + "/keystore.pem",
                                         privateKeyPath: Self.certs + "/keystore.pem",
                                         trustStorePath: Self.certs + "/ca.pem", clientAuth: clientAuth)
        let tls = try ReloadingTLSContext(settings)
        let server = NetServer(listeners: [ListenerAddress(name: "SSL", host: "127.0.0.1", port: 0, tls: tls)],
                               handler: handler)
        try server.start()
        return server
    }

    /// A blocking TLS client on a plain socket.
    final class Client {
        let fd: Int32
        let stream: TLSStream

        init(port: Int, certificate: String? = nil, receiveBufferBytes: Int32? = nil) throws {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            self.fd = fd
            if var size = receiveBufferBytes {
                setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            }
            var tv = timeval(tv_sec: 10, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = in_port_t(UInt16(port).bigEndian)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            let rc = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard rc == 0 else { throw TLSError("connect failed") }
            let context = try TLSContext.client(TLSClientSettings(
                trustStorePath: TLSNetTests.certs + "/ca.pem",
                certificateChainPath: certificate.map { TLSNetTests.certs + "/client-\($0).pem" },
                privateKeyPath: certificate.map { TLSNetTests.certs + "/client-\($0)-key.pem" }))
            stream = try TLSStream(context: context, fd: fd, serverName: "localhost")
            if case .failed(let why) = stream.handshake() { throw TLSError(why) }
        }

        deinit { close(fd) }

        func sendFrame(_ body: [UInt8]) throws {
            let n = UInt32(body.count)
            let bytes = [UInt8(n >> 24), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)] + body
            var offset = 0
            while offset < bytes.count {
                switch bytes.withUnsafeBytes({ stream.write($0.baseAddress! + offset, $0.count - offset) }) {
                case .bytes(let k): offset += k
                case .wantRead, .wantWrite: continue
                case .closed, .failed: throw TLSError("write failed")
                }
            }
        }

        func read(_ count: Int) throws -> [UInt8] {
            var out = [UInt8](repeating: 0, count: count)
            var filled = 0
            while filled < count {
                switch out.withUnsafeMutableBytes({ stream.read($0.baseAddress! + filled, count - filled) }) {
                case .bytes(let k): filled += k
                case .wantRead, .wantWrite: throw TLSError("timed out")
                case .closed: throw TLSError("closed")
                case .failed(let why): throw TLSError(why)
                }
            }
            return out
        }

        func readFrame() throws -> [UInt8] {
            let prefix = try read(4)
            let size = Int(prefix[0]) << 24 | Int(prefix[1]) << 16 | Int(prefix[2]) << 8 | Int(prefix[3])
            return try read(size)
        }
    }

    @Test func smallAndLargeResponsesOverTLS() throws {
        for size in [16, 100_000, 3_000_000] {
            let handler = Recorder(responseSize: size)
            let server = try start(handler)
            defer { server.shutdown(gracePeriodMs: 0) }
            let client = try Client(port: server.boundPorts[0])
            for round in 0..<3 {
                try client.sendFrame([UInt8(round), 1, 2, 3])
                let body = try client.readFrame()
                #expect(body.count == max(size, 4))
                #expect(Array(body.prefix(4)) == [UInt8(round), 1, 2, 3])
                if body.count > 4 { #expect(body[body.count - 1] == UInt8(truncatingIfNeeded: body.count - 1)) }
            }
            #expect(handler.framesBeforeSecured.load(ordering: .relaxed) == 0)
            let secured = handler.secured.withLock { $0 }
            #expect(secured.count == 1 && secured[0].protocolVersion == "TLSv1.3" && secured[0].peerSubject == nil)
        }
    }

    @Test func framesSentAsManySmallRecordsArriveWhole() throws {
        // librdkafka writes each record value as its own TLS record: a 2 MiB frame in 1 KiB
        // records (a read turn spans many of them), then a small frame right behind it.
        let handler = Recorder(responseSize: 0)
        let server = try start(handler)
        defer { server.shutdown(gracePeriodMs: 0) }
        let client = try Client(port: server.boundPorts[0])
        let big = (0..<(2 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 11) }
        let size = UInt32(big.count)
        var wire = [UInt8(size >> 24), UInt8(size >> 16 & 0xff), UInt8(size >> 8 & 0xff), UInt8(size & 0xff)] + big
        wire += [0, 0, 0, 3, 7, 8, 9]
        var offset = 0
        while offset < wire.count {
            let piece = min(1024, wire.count - offset)
            switch wire.withUnsafeBytes({ client.stream.write($0.baseAddress! + offset, piece) }) {
            case .bytes(let k): offset += k
            case .wantRead, .wantWrite: continue
            case .closed, .failed: throw TLSError("write failed")
            }
        }
        #expect(try client.readFrame() == big)
        #expect(try client.readFrame() == [7, 8, 9])
    }

    @Test func slowReaderGetsEveryByteInOrder() throws {
        // 8 pipelined 1 MiB responses to a client with a small receive buffer that reads late:
        // the server's TLS writes hit wantWrite and resume on EPOLLOUT.
        let handler = Recorder(responseSize: 1 << 20)
        let server = try start(handler)
        defer { server.shutdown(gracePeriodMs: 0) }
        let client = try Client(port: server.boundPorts[0], receiveBufferBytes: 16 * 1024)
        for i in 0..<8 { try client.sendFrame([UInt8(i), 9, 9, 9]) }
        usleep(300_000)
        for i in 0..<8 {
            let body = try client.readFrame()
            #expect(body.count == 1 << 20 && body[0] == UInt8(i))
        }
    }

    @Test func clientCertificateSubjectIsReported() throws {
        let handler = Recorder(responseSize: 4)
        let server = try start(handler, clientAuth: .required)
        defer { server.shutdown(gracePeriodMs: 0) }
        let client = try Client(port: server.boundPorts[0], certificate: "alice")
        try client.sendFrame([1, 2, 3, 4])
        _ = try client.readFrame()
        let subject = handler.secured.withLock { $0.first?.peerSubject }
        #expect(subject?.hasPrefix("CN=alice") == true)
        // Without a certificate, `required` fails the handshake (TLS 1.3 reports it on first read).
        let anonymous = try? Client(port: server.boundPorts[0])
        if let anonymous {
            try? anonymous.sendFrame([1, 2, 3, 4])
            #expect(throws: (any Error).self) { try anonymous.readFrame() }
        }
    }

    @Test func plaintextToTheTLSPortIsClosed() throws {
        let handler = Recorder(responseSize: 4)
        let server = try start(handler)
        defer { server.shutdown(gracePeriodMs: 0) }
        let plain = try NetTestClient(port: server.boundPorts[0])
        try plain.sendFrame([0, 18, 0, 0, 0, 0, 0, 1, 0, 0])
        #expect(plain.waitForClose())
        #expect(handler.secured.withLock { $0.isEmpty })
    }

    @Test func certificateReloadKeepsTheOldContextOnBadFiles() throws {
        let dir = makeTemporaryDirectory("tls-reload")
        let keystore = dir + "/keystore.pem"
        try FileManager.default.copyItem(atPath: Self.certs + "/keystore.pem", toPath: keystore)
        let reloading = try ReloadingTLSContext(TLSServerSettings(certificateChainPath: keystore, privateKeyPath: keystore))
        let first = reloading.current
        let unchanged = reloading.reloadIfChanged()
        #expect(!unchanged.reloaded && unchanged.error == nil)
        try "not a certificate".write(toFile: keystore, atomically: true, encoding: .utf8)
        let broken = reloading.reloadIfChanged()
        #expect(broken.reloaded == false && broken.error != nil)
        #expect(reloading.current === first)
        #expect(reloading.reloadIfChanged().error == nil)  // the same failure is reported once
        try FileManager.default.removeItem(atPath: keystore)
        try FileManager.default.copyItem(atPath: Self.certs + "/keystore.pem", toPath: keystore)
        let fixed = reloading.reloadIfChanged()
        #expect(fixed.reloaded && fixed.error == nil)
        #expect(reloading.current !== first)
    }
}
