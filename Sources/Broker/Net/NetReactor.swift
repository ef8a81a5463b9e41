// One event loop thread: an epoll set in edge-triggered mode, the connections it owns, and an inbox
// through which other threads hand it new sockets, slot completions and commands.
import CShims
import Glibc
import Synchronization
import TLS

enum NetInboxItem: Sendable {
    case adopt(fd: Int32, info: ConnectionInfo, tls: ReloadingTLSContext?)
    case completion(connection: UInt64, sequence: UInt64, outcome: NetOutcome)
    case maxFrameBytes(connection: UInt64, bytes: Int)
    case liftRestriction(connection: UInt64)
    case armAuthenticationDeadline(connection: UInt64)
    case drain(deadlineMs: Int64)
}

/// An event loop owning a share of the server's connections.
/// Owning thread: its reactor thread. Other threads only call `post` (Mutex-guarded inbox plus an
/// eventfd wake-up) and `isCurrentThread`; all other state is touched by the reactor thread alone,
/// which is what makes the `@unchecked Sendable` sound.
final class NetReactor: @unchecked Sendable {
    private struct Inbox {
        var items: [NetInboxItem] = []
        var wakePending = false  // an eventfd write is outstanding; later posts need not write again
        var closed = false  // the loop has exited; posts are refused
    }

    static let readChunk = 64 * 1024
    static let maxReadsPerTurn = 16  // then yield to other connections (edge-triggered fairness)
    /// The same turn in bytes for TLS, whose reads return one record (often ~1 KiB from librdkafka,
    /// which writes each record value as its own TLS record) rather than a socket's worth.
    static let tlsBytesPerTurn = maxReadsPerTurn * readChunk
    static let maxWriteBatch = 32  // responses per sendmsg
    static let maxEvents = 256
    /// Announced frames up to this size get their whole storage at once; larger ones grow with
    /// the bytes that arrive, so a hostile size prefix cannot reserve memory.
    static let frameFirstAllocation = 1 << 20
    /// A frame with at least this much still to come is read straight into its own storage.
    static let directReadMinimum = 16 * 1024
    private static let wakeToken = UInt64.max

    let index: Int
    private let handler: any FrameHandler
    private let limits: NetLimits
    /// Every connection this reactor closes gives its place back here.
    private let admission: ConnectionAdmission
    private let epollFD: Int32
    private let wakeFD: Int32
    private let inbox = Mutex(Inbox())
    private let threadID = Atomic<UInt>(0)

    // Reactor-thread state.
    private var connections: [UInt64: NetConnection] = [:]
    private var inboxBatch: [NetInboxItem] = []
    private var readQueue: [NetConnection] = []
    private var readBatch: [NetConnection] = []
    private var flushQueue: [NetConnection] = []
    private var flushBatch: [NetConnection] = []
    /// Connections muted by a throttle, resumed by the loop when their time is up.
    private var muted: [NetConnection] = []
    private var selfPosted = false
    private var draining = false
    private var drainDeadlineMs: Int64 = 0
    private var now: Int64 = 0
    private let readBuffer: UnsafeMutableBufferPointer<UInt8>
    private let events: UnsafeMutablePointer<epoll_event>
    private let iovecs: UnsafeMutablePointer<iovec>
    private let prefixes: UnsafeMutablePointer<UInt8>
    /// Where small responses are gathered into one TLS write (OpenSSL cannot gather).
    private let tlsScratch: UnsafeMutableRawBufferPointer
    static let tlsScratchBytes = 64 * 1024

    init(index: Int, limits: NetLimits, handler: any FrameHandler, admission: ConnectionAdmission) throws(NetError) {
        self.index = index
        self.limits = limits
        self.admission = admission
        self.handler = handler
        let ep = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard ep >= 0 else { throw .system(call: "epoll_create1", errno: errno) }
        let wake = NetSys.makeEventFD()
        guard wake >= 0 else {
            let code = errno
            NetSys.closeQuietly(ep)
            throw .system(call: "eventfd", errno: code)
        }
        // Level-triggered: the eventfd stays readable until the loop drains it, so no wake is lost.
        guard sluice_epoll_ctl(ep, EPOLL_CTL_ADD, wake, NetSys.epollIn, Self.wakeToken) == 0 else {
            let code = errno
            NetSys.closeQuietly(ep)
            NetSys.closeQuietly(wake)
            throw .system(call: "epoll_ctl", errno: code)
        }
        epollFD = ep
        wakeFD = wake
        readBuffer = .allocate(capacity: Self.readChunk)
        events = .allocate(capacity: Self.maxEvents)
        iovecs = .allocate(capacity: Self.maxWriteBatch * 2)
        prefixes = .allocate(capacity: Self.maxWriteBatch * 4)
        tlsScratch = .allocate(byteCount: Self.tlsScratchBytes, alignment: 16)
    }

    deinit {
        // Slots keep the reactor alive, so the eventfd stays valid for any late completion's write.
        NetSys.closeQuietly(epollFD)
        NetSys.closeQuietly(wakeFD)
        readBuffer.deallocate()
        events.deallocate()
        iovecs.deallocate()
        prefixes.deallocate()
        tlsScratch.deallocate()
    }

    var isCurrentThread: Bool { threadID.load(ordering: .relaxed) == pthread_self() }

    /// Queues an item for the loop; false if the loop has already exited (the caller cleans up).
    @discardableResult
    func post(_ item: NetInboxItem) -> Bool {
        let onThread = isCurrentThread
        let (accepted, wake) = inbox.withLock { box -> (Bool, Bool) in
            if box.closed { return (false, false) }
            box.items.append(item)
            if onThread || box.wakePending { return (true, false) }
            box.wakePending = true
            return (true, true)
        }
        // The loop drains the inbox before it next blocks, so its own posts need no wake-up.
        if onThread { selfPosted = true }
        if wake { NetSys.signal(eventFD: wakeFD) }
        return accepted
    }

    /// Restores the server's limits on a connection (after authentication); only on the reactor thread.
    func liftRestriction(connection id: UInt64) {
        guard let conn = connections[id] else { return }
        conn.restriction = nil
        conn.authenticationDeadlineMs = 0
        conn.maxFrameBytes = limits.maxRequestBytes
        if conn.readReady || conn.hasStash { queueRead(conn) }
    }

    /// A KIP-368 re-authentication started: it must finish within the authentication timeout;
    /// only on the reactor thread.
    func armAuthenticationDeadline(connection id: UInt64) {
        guard limits.authenticationTimeoutMs > 0, let conn = connections[id] else { return }
        conn.authenticationDeadlineMs = NetSys.monotonicMs() + limits.authenticationTimeoutMs
    }

    /// Applies a per-connection frame limit directly; only on the reactor thread.
    func applyMaxFrameBytes(_ bytes: Int, connection id: UInt64) {
        connections[id]?.maxFrameBytes = max(1, bytes)
    }

    // MARK: - Loop

    func run() {
        threadID.store(pthread_self(), ordering: .relaxed)
        now = NetSys.monotonicMs()
        var sweepEvery: Int64 = limits.idleTimeoutMs > 0 ? min(1000, max(10, limits.idleTimeoutMs / 10)) : 1000
        if limits.authenticationTimeoutMs > 0 { sweepEvery = min(sweepEvery, max(10, limits.authenticationTimeoutMs / 10)) }
        var nextSweep = now + sweepEvery
        while true {
            drainInbox()
            flushQueued()
            serviceReadQueue()
            now = NetSys.monotonicMs()
            if draining {
                if connections.isEmpty { break }
                if now >= drainDeadlineMs {
                    closeAllAtDeadline()
                    break
                }
            }
            if now >= nextSweep {
                reapIdle()
                reapUnauthenticated()
                nextSweep = now + sweepEvery
            }
            resumeMuted()
            var timeout = nextSweep - now
            for conn in muted { timeout = min(timeout, conn.mutedUntilMs - now) }
            if draining { timeout = min(timeout, drainDeadlineMs - now) }
            if selfPosted || !readQueue.isEmpty || !flushQueue.isEmpty { timeout = 0 }
            let count = epoll_wait(epollFD, events, Int32(Self.maxEvents), Int32(clamping: max(0, timeout)))
            now = NetSys.monotonicMs()
            if count < 0 { continue }  // EINTR; nothing else is expected on a valid epoll fd
            for i in 0..<Int(count) {
                handleEvent(token: sluice_epoll_event_data(events + i), flags: sluice_epoll_event_events(events + i))
            }
        }
        let leftovers = inbox.withLock { box -> [NetInboxItem] in
            box.closed = true
            defer { box.items = [] }
            return box.items
        }
        for case .adopt(let fd, let info, _) in leftovers {
            NetSys.closeQuietly(fd)
            admission.release(info)
        }
    }

    private func handleEvent(token: UInt64, flags: UInt32) {
        if token == Self.wakeToken {
            NetSys.drain(eventFD: wakeFD)
            return
        }
        guard let conn = connections[token] else { return }  // closed earlier in this batch
        if flags & (NetSys.epollErr | NetSys.epollHup) != 0 {
            close(conn, graceful: false)
            return
        }
        if flags & NetSys.epollOut != 0 {
            flush(conn)
            if conn.isClosed { return }
            if conn.readWaitsForWritable {
                conn.readWaitsForWritable = false
                conn.readReady = true
                readFrom(conn)
                if conn.isClosed { return }
            }
        }
        if flags & (NetSys.epollIn | NetSys.epollRdHup) != 0 {
            if flags & NetSys.epollRdHup != 0 { conn.peerHalfClosed = true }
            conn.readReady = true
            readFrom(conn)
            if conn.isClosed { return }
            if conn.writeWaitsForReadable {
                conn.writeWaitsForReadable = false
                flush(conn)
            }
        }
    }

    private func drainInbox() {
        inbox.withLock { box in
            swap(&box.items, &inboxBatch)
            box.wakePending = false
        }
        selfPosted = false
        guard !inboxBatch.isEmpty else { return }
        for item in inboxBatch {
            switch item {
            case .adopt(let fd, let info, let tls): adopt(fd: fd, info: info, tls: tls)
            case .completion(let id, let sequence, let outcome): applyCompletion(outcome, sequence: sequence, connection: id)
            case .maxFrameBytes(let id, let bytes): applyMaxFrameBytes(bytes, connection: id)
            case .liftRestriction(let id): liftRestriction(connection: id)
            case .armAuthenticationDeadline(let id): armAuthenticationDeadline(connection: id)
            case .drain(let deadline): beginDrain(deadline)
            }
        }
        inboxBatch.removeAll(keepingCapacity: true)
    }

    private func serviceReadQueue() {
        guard !readQueue.isEmpty else { return }
        swap(&readQueue, &readBatch)
        for conn in readBatch {
            conn.queuedForRead = false
            if !conn.isClosed { readFrom(conn) }
        }
        readBatch.removeAll(keepingCapacity: true)
    }

    private func flushQueued() {
        guard !flushQueue.isEmpty else { return }
        swap(&flushQueue, &flushBatch)
        for conn in flushBatch {
            conn.queuedForFlush = false
            if !conn.isClosed { flush(conn) }
        }
        flushBatch.removeAll(keepingCapacity: true)
    }

    private func queueRead(_ conn: NetConnection) {
        if !conn.queuedForRead {
            conn.queuedForRead = true
            readQueue.append(conn)
        }
    }

    private func queueFlush(_ conn: NetConnection) {
        if !conn.queuedForFlush {
            conn.queuedForFlush = true
            flushQueue.append(conn)
        }
    }

    // MARK: - Connections

    private func adopt(fd: Int32, info: ConnectionInfo, tls: ReloadingTLSContext?) {
        if draining {  // accepted just before shutdown: never announced, so just close
            NetSys.closeQuietly(fd)
            admission.release(info)
            return
        }
        var stream: TLSStream?
        if let tls {
            do {
                stream = try TLSStream(context: tls.current, fd: fd)
            } catch {
                NetSys.closeQuietly(fd)
                admission.release(info)
                return
            }
        }
        let conn = NetConnection(fd: fd, info: info, tls: stream, maxFrameBytes: limits.maxRequestBytes, now: now)
        if limits.authenticationTimeoutMs > 0 { conn.authenticationDeadlineMs = now + limits.authenticationTimeoutMs }
        connections[info.id] = conn
        // Before registration, so it precedes every frame; after `connections` holds the
        // connection, so the handler may already set its frame limit.
        let context = handler.connectionOpened(info)
        conn.context = context
        if let initial = context.initialLimits {
            conn.maxFrameBytes = min(conn.maxFrameBytes, initial.maxFrameBytes)
            conn.restriction = initial
        } else {
            conn.deadlineEndsAtFirstFrame = true
        }
        if conn.isClosed { return }
        let interest = NetSys.epollIn | NetSys.epollRdHup | NetSys.epollEdge
        if sluice_epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, interest, info.id) != 0 {
            close(conn, graceful: false)
        }
    }

    private func close(_ conn: NetConnection, graceful: Bool) {
        guard !conn.isClosed else { return }
        conn.isClosed = true
        connections[conn.info.id] = nil
        if graceful {
            conn.tls?.sendCloseNotify()
            // Send FIN after the flushed responses, and discard unread input: closing with unread
            // bytes makes the kernel send RST, which can destroy responses the peer has not read yet.
            _ = shutdown(conn.fd, Int32(SHUT_WR))
            for _ in 0..<4 where read(conn.fd, readBuffer.baseAddress, readBuffer.count) > 0 {}
        }
        NetSys.closeQuietly(conn.fd)
        admission.release(conn.info)
        conn.dropInput()
        conn.pending.removeAll()
        conn.output.removeAll()
        handler.connectionClosed(conn.context!)
    }

    /// Ends the mutes whose time has come and reads what waited meanwhile.
    private func resumeMuted() {
        guard !muted.isEmpty else { return }
        var k = 0
        while k < muted.count {
            let conn = muted[k]
            if conn.isClosed || conn.mutedUntilMs <= now {
                muted.swapAt(k, muted.count - 1)
                muted.removeLast()
                if conn.isClosed { continue }
                conn.mutedUntilMs = 0
                if (conn.readReady || conn.hasStash) && wantsInput(conn) { queueRead(conn) }
            } else {
                k += 1
            }
        }
    }

    private func mute(_ conn: NetConnection, forMs ms: Int64) {
        let until = now + ms
        guard until > conn.mutedUntilMs else { return }
        if conn.mutedUntilMs == 0 { muted.append(conn) }
        conn.mutedUntilMs = until
    }

    private func wantsInput(_ conn: NetConnection) -> Bool {
        !conn.closeAfterFlush && !draining && conn.mutedUntilMs <= now
            && conn.pending.count < limits.maxInFlightPerConnection
            && conn.pendingOutputBytes <= limits.maxPendingOutputBytes
            && (conn.restriction.map {
                conn.pending.count < $0.maxInFlight && conn.pendingOutputBytes <= $0.maxPendingOutputBytes
            } ?? true)
    }

    private func reapIdle() {
        guard limits.idleTimeoutMs > 0 else { return }
        var idle: [NetConnection] = []
        for conn in connections.values
        where conn.pending.isEmpty && now - conn.lastActivityMs >= limits.idleTimeoutMs {
            idle.append(conn)
        }
        for conn in idle { close(conn, graceful: false) }
    }

    /// Closes the connections past their authentication deadline: still in the TLS handshake,
    /// the SASL exchange or a re-authentication, or (on a listener with neither) before their
    /// first request. Memory and places held by peers that never prove who they are stay bounded.
    private func reapUnauthenticated() {
        guard limits.authenticationTimeoutMs > 0 else { return }
        var late: [NetConnection] = []
        for conn in connections.values where conn.authenticationDeadlineMs > 0 && now >= conn.authenticationDeadlineMs {
            late.append(conn)
        }
        for conn in late {
            handler.authenticationTimedOut(conn.context!)
            close(conn, graceful: false)
        }
    }

    private func beginDrain(_ deadline: Int64) {
        guard !draining else { return }
        draining = true
        drainDeadlineMs = deadline
        for conn in Array(connections.values) {
            conn.dropInput()
            if conn.pending.isEmpty && conn.output.isEmpty {
                close(conn, graceful: true)
            } else if !conn.output.isEmpty {
                queueFlush(conn)
            }
        }
    }

    private func closeAllAtDeadline() {
        for conn in Array(connections.values) {
            if !conn.output.isEmpty { flush(conn) }  // one last non-blocking attempt
            close(conn, graceful: false)
        }
    }

    // MARK: - Input

    private func readFrom(_ conn: NetConnection) {
        if conn.hasStash {
            let stash = conn.stash
            let used = stash.withUnsafeBufferPointer { all in
                consume(conn, UnsafeBufferPointer(rebasing: all[conn.stashStart...]))
            }
            if conn.isClosed { return }
            conn.stashStart += used
            if conn.hasStash { return }  // still held back
            conn.stash = []
            conn.stashStart = 0
        }
        var spent = 0  // reads (plaintext) or bytes (TLS) this turn
        let budget = conn.tls == nil ? Self.maxReadsPerTurn : Self.tlsBytesPerTurn
        while conn.readReady && wantsInput(conn) {
            if spent >= budget {
                queueRead(conn)
                return
            }
            let direct = conn.frameSize - conn.frameFilled >= Self.directReadMinimum
            let n = direct ? readIntoFrame(conn) : transportRead(conn, readBuffer.baseAddress!, readBuffer.count)
            spent += conn.tls == nil ? 1 : max(n, 1)
            if direct && n > 0 {
                if conn.isClosed { return }
                continue
            }
            if n > 0 {
                conn.lastActivityMs = now
                // A short read drained the socket; new bytes raise a new edge. After RDHUP no
                // further edge comes, so then read on until read() reports EOF. Not under TLS:
                // OpenSSL returns a record at a time, so only wantRead says the socket is drained.
                if n < readBuffer.count && !conn.peerHalfClosed && conn.tls == nil { conn.readReady = false }
                let bytes = UnsafeBufferPointer(rebasing: readBuffer[0..<n])
                let used = consume(conn, bytes)
                if conn.isClosed { return }
                if used < n {
                    conn.stash = Array(bytes[used...])
                    conn.stashStart = 0
                    return
                }
            } else if n == 0 {
                conn.readReady = false
                peerFinishedSending(conn)
                return
            } else {
                let code = errno
                if code == EINTR { continue }
                if code == EAGAIN || code == EWOULDBLOCK {
                    conn.readReady = false
                } else {
                    close(conn, graceful: false)
                }
                return
            }
        }
    }

    /// Peer EOF closes at once, as Kafka does: responses to requests still in flight are dropped,
    /// and connectionClosed lets the handler abandon that work early.
    private func peerFinishedSending(_ conn: NetConnection) {
        close(conn, graceful: false)
    }

    /// Parses frames out of `bytes`, dispatching each complete one. Returns how many bytes were
    /// used; fewer than given when a limit holds back the next frame. Closes the connection on a
    /// bad size prefix.
    private func consume(_ conn: NetConnection, _ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var i = 0
        let end = bytes.count
        while i < end {
            if conn.frameSize < 0 {
                if conn.headerBytes == 0 && !wantsInput(conn) { break }
                while conn.headerBytes < 4 && i < end {
                    conn.header = conn.header << 8 | UInt32(bytes[i])
                    conn.headerBytes += 1
                    i += 1
                }
                if conn.headerBytes < 4 { break }
                let size = Int(Int32(bitPattern: conn.header))
                conn.header = 0
                conn.headerBytes = 0
                // Checked before any allocation: a hostile prefix must not reserve memory.
                guard size > 0 && size <= conn.maxFrameBytes else {
                    close(conn, graceful: false)
                    return i
                }
                conn.frameSize = size
                if end - i >= size {  // whole frame at hand: one exact allocation, one copy
                    let frame = Array(UnsafeBufferPointer(rebasing: bytes[i..<(i + size)]))
                    i += size
                    conn.frameSize = -1
                    dispatch(conn, frame)
                    if conn.isClosed { return i }
                    continue
                }
                // Grow with the bytes that actually arrive, so a large announced size costs memory
                // only as the peer sends it.
                conn.frame = Self.frameStorage(min(size, Self.frameFirstAllocation))
                conn.frameFilled = 0
            }
            let take = min(conn.frameSize - conn.frameFilled, end - i)
            reserveFrame(conn, conn.frameFilled + take)
            let filled = conn.frameFilled
            conn.frame.withUnsafeMutableBytes { dest in
                UnsafeMutableRawBufferPointer(rebasing: dest[filled..<(filled + take)])
                    .copyMemory(from: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[i..<(i + take)])))
            }
            conn.frameFilled += take
            i += take
            if dispatchIfComplete(conn) && conn.isClosed { return i }
        }
        return i
    }

    /// Storage for a frame being assembled. Its bytes past `frameFilled` are never read: a frame is
    /// dispatched only once every byte came from the socket, so skipping the zero fill is sound.
    private static func frameStorage(_ count: Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
    }

    /// Makes room for `needed` bytes of the current frame, doubling (capped at the frame size) so
    /// the copies stay linear in the frame size.
    private func reserveFrame(_ conn: NetConnection, _ needed: Int) {
        guard conn.frame.count < needed else { return }
        var grown = Self.frameStorage(min(conn.frameSize, max(needed, conn.frame.count * 2)))
        let filled = conn.frameFilled
        grown.withUnsafeMutableBytes { dest in
            conn.frame.withUnsafeBytes { src in
                UnsafeMutableRawBufferPointer(rebasing: dest[0..<filled]).copyMemory(
                    from: UnsafeRawBufferPointer(rebasing: src[0..<filled]))
            }
        }
        conn.frame = grown
    }

    /// Dispatches the frame being assembled if all of it is there; true if it was.
    private func dispatchIfComplete(_ conn: NetConnection) -> Bool {
        guard conn.frameSize >= 0 && conn.frameFilled == conn.frameSize else { return false }
        let frame = conn.frame
        conn.frame = []
        conn.frameFilled = 0
        conn.frameSize = -1
        dispatch(conn, frame)
        return true
    }

    /// Reads the rest of a large frame straight into its storage, skipping the copy out of the
    /// shared read buffer (produce requests are mostly record bytes). Returns read()'s result.
    private func readIntoFrame(_ conn: NetConnection) -> Int {
        if conn.frameFilled == conn.frame.count { reserveFrame(conn, conn.frameFilled + 1) }
        let filled = conn.frameFilled
        let room = min(conn.frame.count, conn.frameSize) - filled
        let n = conn.frame.withUnsafeMutableBytes { dest in transportRead(conn, dest.baseAddress! + filled, room) }
        if n > 0 {
            conn.lastActivityMs = now
            if n < room && !conn.peerHalfClosed && conn.tls == nil { conn.readReady = false }
            conn.frameFilled += n
            _ = dispatchIfComplete(conn)
        }
        return n
    }

    /// read(2) semantics over the connection's transport: > 0 bytes, 0 at EOF, -1 with errno
    /// (EAGAIN when nothing is ready, EPROTO for a TLS failure). Under TLS, reports the finished
    /// handshake to the handler before any of the connection's bytes are parsed.
    private func transportRead(_ conn: NetConnection, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
        guard let tls = conn.tls else { return read(conn.fd, buffer, count) }
        let result = tls.read(buffer, count)
        if !conn.transportReported && tls.isHandshakeComplete {
            conn.transportReported = true
            handler.transportSecured(conn.context!, TransportSecurity(
                protocolVersion: tls.protocolVersion, cipher: tls.cipher, peerSubject: tls.peerSubject))
        }
        switch result {
        case .bytes(let n): return n
        case .wantRead:
            errno = EAGAIN
            return -1
        case .wantWrite:
            conn.readWaitsForWritable = true
            setWantsWrite(conn, true)
            errno = EAGAIN
            return -1
        case .closed: return 0
        case .failed:
            errno = EPROTO
            return -1
        }
    }

    private func dispatch(_ conn: NetConnection, _ frame: [UInt8]) {
        if conn.deadlineEndsAtFirstFrame {
            conn.deadlineEndsAtFirstFrame = false
            conn.authenticationDeadlineMs = 0
        }
        let sequence = conn.headSequence + UInt64(conn.pending.count)
        conn.pending.append(.waiting)
        let slot = ResponseSlot(reactor: self, connectionID: conn.info.id, sequence: sequence)
        handler.handleFrame(frame, connection: conn.context!, slot: slot)
    }

    // MARK: - Completion and output

    /// Records a slot's outcome and releases every outcome now in order. Only on the reactor thread:
    /// from the inbox, or directly when a handler completes on this thread, so a synchronous handler
    /// grows the output queue (and engages back-pressure) while one read's frames are being parsed.
    /// Safe inside `handleFrame`: `consume` re-checks the connection after every dispatch.
    func applyCompletion(_ outcome: NetOutcome, sequence: UInt64, connection id: UInt64) {
        // Unknown id: the connection closed already. closeAfterFlush: later requests are dropped.
        guard let conn = connections[id], !conn.closeAfterFlush, sequence >= conn.headSequence else { return }
        let offset = sequence - conn.headSequence
        guard offset < UInt64(conn.pending.count) else { return }
        conn.pending[Int(offset)] = .done(outcome)
        while let first = conn.pending.first, case .done(let result) = first {
            conn.pending.removeFirst()
            conn.headSequence += 1
            switch result {
            case .response(let body):
                guard body.count <= Int(Int32.max) - 4 else {  // cannot be framed; a handler bug
                    close(conn, graceful: false)
                    return
                }
                conn.output.append(body)
                conn.pendingOutputBytes += 4 + body.count
            case .responseThenMute(let body, let muteMs):
                guard body.count <= Int(Int32.max) - 4 else {
                    close(conn, graceful: false)
                    return
                }
                conn.output.append(body)
                conn.pendingOutputBytes += 4 + body.count
                mute(conn, forMs: muteMs)
            case .noResponse:
                break
            case .noResponseThenMute(let muteMs):
                mute(conn, forMs: muteMs)
            case .responseThenClose(let body):
                conn.output.append(body)
                conn.pendingOutputBytes += 4 + body.count
                conn.closeAfterFlush = true
                conn.pending.removeAll()
                conn.dropInput()
            case .close:
                conn.closeAfterFlush = true
                conn.pending.removeAll()
                conn.dropInput()
            }
        }
        queueFlush(conn)
    }

    private func flush(_ conn: NetConnection) {
        while !conn.output.isEmpty {
            let (written, attempted) = conn.tls == nil ? writeBatch(conn) : writeTLS(conn, conn.tls!)
            if written > 0 {
                conn.lastActivityMs = now
                advanceOutput(conn, by: written)
                // Plain sockets: a short write means the buffer is full; EPOLLOUT tells when it
                // drains. TLS writes return a record at a time, so only wantWrite means full.
                if written < attempted && conn.tls == nil {
                    setWantsWrite(conn, true)
                    break
                }
            } else {
                let code = errno
                if written < 0 && code == EINTR { continue }
                if written == 0 || code == EAGAIN || code == EWOULDBLOCK {
                    setWantsWrite(conn, true)
                    break
                }
                close(conn, graceful: false)
                return
            }
        }
        if conn.output.isEmpty {
            if conn.wantsWrite { setWantsWrite(conn, false) }
            if conn.closeAfterFlush || (draining && conn.pending.isEmpty) {
                close(conn, graceful: true)
                return
            }
        }
        if (conn.readReady || conn.hasStash) && wantsInput(conn) { queueRead(conn) }
    }

    private func advanceOutput(_ conn: NetConnection, by written: Int) {
        conn.pendingOutputBytes -= written
        var left = written
        while left > 0 {
            let remaining = 4 + conn.output[0].count - conn.outputHeadOffset
            if left >= remaining {
                left -= remaining
                conn.output.removeFirst()
                conn.outputHeadOffset = 0
            } else {
                conn.outputHeadOffset += left
                left = 0
            }
        }
    }

    private func setWantsWrite(_ conn: NetConnection, _ on: Bool) {
        guard conn.wantsWrite != on else { return }
        conn.wantsWrite = on
        var interest = NetSys.epollIn | NetSys.epollRdHup | NetSys.epollEdge
        if on { interest |= NetSys.epollOut }
        if sluice_epoll_ctl(epollFD, EPOLL_CTL_MOD, conn.fd, interest, conn.info.id) != 0 {
            close(conn, graceful: false)
        }
    }

    /// One sendmsg over up to `maxWriteBatch` queued responses, prefixes included, without copying
    /// bodies. Returns (sendmsg result, bytes offered).
    private func writeBatch(_ conn: NetConnection) -> (Int, Int) {
        let count = min(conn.output.count, Self.maxWriteBatch)
        for k in 0..<count {
            let size = UInt32(conn.output[k].count)
            prefixes[4 * k] = UInt8(truncatingIfNeeded: size >> 24)
            prefixes[4 * k + 1] = UInt8(truncatingIfNeeded: size >> 16)
            prefixes[4 * k + 2] = UInt8(truncatingIfNeeded: size >> 8)
            prefixes[4 * k + 3] = UInt8(truncatingIfNeeded: size)
        }
        return gather(conn, index: 0, count: count, iovCount: 0, offered: 0)
    }

    /// One TLS write: a large response body straight from its storage once its size prefix is
    /// out, otherwise prefixes and bodies gathered into the scratch buffer. The choice depends only
    /// on the queue's head, so a retry after wantWrite offers the same leading bytes, as OpenSSL
    /// requires. Returns (bytes written or -1 with errno, bytes offered).
    private func writeTLS(_ conn: NetConnection, _ tls: TLSStream) -> (Int, Int) {
        let skip = conn.outputHeadOffset
        if skip >= 4 && conn.output[0].count - (skip - 4) >= Self.tlsScratchBytes / 2 {
            let result = conn.output[0].withUnsafeBytes { body in
                tls.write(body.baseAddress! + (skip - 4), body.count - (skip - 4))
            }
            return tlsWriteOutcome(conn, result, offered: conn.output[0].count - (skip - 4))
        }
        var filled = 0
        var index = 0
        var offset = skip
        while index < conn.output.count && filled < tlsScratch.count {
            let size = UInt32(conn.output[index].count)
            if offset < 4 {
                let take = min(4 - offset, tlsScratch.count - filled)
                // Big-endian size prefix byte `offset + k` (no per-response allocation).
                for k in 0..<take { tlsScratch[filled + k] = UInt8(truncatingIfNeeded: size >> (8 * (3 - (offset + k)))) }
                filled += take
                offset += take
                if offset < 4 { break }
            }
            let bodyStart = offset - 4
            let take = conn.output[index].withUnsafeBytes { body -> Int in
                let take = min(body.count - bodyStart, tlsScratch.count - filled)
                if take > 0 {
                    UnsafeMutableRawBufferPointer(rebasing: tlsScratch[filled..<(filled + take)])
                        .copyMemory(from: UnsafeRawBufferPointer(rebasing: body[bodyStart..<(bodyStart + take)]))
                }
                return take
            }
            filled += take
            if bodyStart + take < conn.output[index].count { break }
            index += 1
            offset = 0
        }
        return tlsWriteOutcome(conn, tls.write(tlsScratch.baseAddress!, filled), offered: filled)
    }

    private func tlsWriteOutcome(_ conn: NetConnection, _ result: TLSStream.IOResult, offered: Int) -> (Int, Int) {
        switch result {
        case .bytes(let n): return (n, offered)
        case .wantWrite:
            errno = EAGAIN
            return (-1, offered)
        case .wantRead:
            conn.writeWaitsForReadable = true
            errno = EAGAIN
            return (-1, offered)
        case .closed, .failed:
            errno = EPIPE
            return (-1, offered)
        }
    }

    /// Pins each body's storage for the duration of the call by nesting (depth <= maxWriteBatch).
    private func gather(_ conn: NetConnection, index: Int, count: Int, iovCount: Int, offered: Int) -> (Int, Int) {
        if index == count {
            var message = msghdr()
            message.msg_iov = iovecs
            message.msg_iovlen = iovCount
            let sent = sendmsg(conn.fd, &message, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
            return (sent, offered)
        }
        return conn.output[index].withUnsafeBytes { body -> (Int, Int) in
            var slots = iovCount
            var offered = offered
            let skip = index == 0 ? conn.outputHeadOffset : 0
            if skip < 4 {
                iovecs[slots] = iovec(iov_base: UnsafeMutableRawPointer(prefixes + 4 * index + skip), iov_len: 4 - skip)
                slots += 1
                offered += 4 - skip
            }
            let bodySkip = max(0, skip - 4)
            if body.count > bodySkip, let base = body.baseAddress {
                iovecs[slots] = iovec(iov_base: UnsafeMutableRawPointer(mutating: base + bodySkip), iov_len: body.count - bodySkip)
                slots += 1
                offered += body.count - bodySkip
            }
            return gather(conn, index: index + 1, count: count, iovCount: slots, offered: offered)
        }
    }
}
