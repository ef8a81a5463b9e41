/// A first-in first-out queue over an array with a moving head, so steady-state use does not
/// allocate. Not thread-safe: each lives inside one reactor-owned connection.
struct NetFifo<Element> {
    private var storage: [Element?] = []
    private var head = 0

    var count: Int { storage.count - head }
    var isEmpty: Bool { head == storage.count }

    mutating func append(_ element: Element) { storage.append(element) }

    /// Element `index` places after the head; callers keep `index < count`.
    subscript(index: Int) -> Element {
        get { storage[head + index]! }
        set { storage[head + index] = newValue }
    }

    var first: Element? { isEmpty ? nil : storage[head] }

    @discardableResult
    mutating func removeFirst() -> Element {
        let element = storage[head]!
        storage[head] = nil  // release payloads (response arrays) now, not at compaction
        head += 1
        if head == storage.count {
            storage.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 32 && head * 2 >= storage.count {
            storage.removeFirst(head)
            head = 0
        }
        return element
    }

    mutating func removeAll() {
        storage.removeAll()
        head = 0
    }
}

import TLS

/// State of one accepted socket. Owning thread: its reactor thread, exclusively.
final class NetConnection {
    enum Pending {
        case waiting
        case done(NetOutcome)
    }

    let fd: Int32
    let info: ConnectionInfo
    /// The TLS session on SSL/SASL_SSL listeners; nil on plaintext ones.
    let tls: TLSStream?
    /// `FrameHandler.transportSecured` was called (after the TLS handshake).
    var transportReported = false
    /// A TLS read needs the socket writable (handshake data to send): retry reading on EPOLLOUT.
    var readWaitsForWritable = false
    /// A TLS write needs the socket readable: retry flushing on EPOLLIN.
    var writeWaitsForReadable = false
    /// The handler's state for this connection, handed back with every event; set right after
    /// the connection is registered.
    var context: (any ConnectionContext)?
    var maxFrameBytes: Int
    /// Tighter output and in-flight limits (before authentication); nil uses the server's.
    var restriction: ConnectionLimits?
    var isClosed = false
    var lastActivityMs: Int64
    /// When the connection is closed unless it has authenticated by then (0: no deadline).
    var authenticationDeadlineMs: Int64 = 0
    /// On listeners without SASL the deadline ends with the first complete request (which also
    /// means the TLS handshake, if any, is done); with SASL it ends when authentication succeeds.
    var deadlineEndsAtFirstFrame = false

    // Input: a size prefix being assembled, then the frame body being assembled.
    var header: UInt32 = 0
    var headerBytes = 0
    var frameSize = -1  // -1 while reading the size prefix
    /// Storage of the frame being assembled (its count is what is allocated); `frameFilled` bytes
    /// of it have arrived.
    var frame: [UInt8] = []
    var frameFilled = 0
    /// Bytes already read but not parsed because back-pressure engaged mid-buffer (at most one read).
    var stash: [UInt8] = []
    var stashStart = 0
    /// The socket may hold unread bytes (edge-triggered: set by an event, cleared by EAGAIN).
    var readReady = false
    /// The peer shut its sending side (EPOLLRDHUP), so keep reading until read() returns 0.
    var peerHalfClosed = false
    /// A slot asked to close: flush what precedes it, then close.
    var closeAfterFlush = false
    /// Quota throttling (KIP-219): no input is read before this monotonic ms; 0 = not muted.
    var mutedUntilMs: Int64 = 0

    // Ordering: outcomes of dispatched requests, oldest first; `headSequence` numbers pending[0].
    var pending = NetFifo<Pending>()
    var headSequence: UInt64 = 0

    // Output: response bodies in order; the size prefix is produced at write time.
    var output = NetFifo<[UInt8]>()
    var outputHeadOffset = 0  // bytes of output[0] (prefix included) already written
    var pendingOutputBytes = 0
    var wantsWrite = false

    var queuedForRead = false
    var queuedForFlush = false

    init(fd: Int32, info: ConnectionInfo, tls: TLSStream?, maxFrameBytes: Int, now: Int64) {
        self.fd = fd
        self.info = info
        self.tls = tls
        self.maxFrameBytes = maxFrameBytes
        self.lastActivityMs = now
    }

    var hasStash: Bool { stashStart < stash.count }

    func dropInput() {
        frame = []
        frameFilled = 0
        frameSize = -1
        headerBytes = 0
        header = 0
        stash = []
        stashStart = 0
    }
}
