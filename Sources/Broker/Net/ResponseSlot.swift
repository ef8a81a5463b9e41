import Synchronization

/// What a handler decided for one request; applied in request order by the owning reactor.
enum NetOutcome: Sendable {
    case response([UInt8])
    case noResponse
    case close
    /// Send this response, then close (a failed authentication).
    case responseThenClose([UInt8])
    /// Send this response, then read nothing more from the connection for `muteMs` (KIP-219: a
    /// client over its quota gets `throttle_time_ms` at once and is then not read from).
    case responseThenMute([UInt8], muteMs: Int64)
    /// No response (acks=0 produce), but read nothing more from the connection for `muteMs`.
    case noResponseThenMute(muteMs: Int64)
}

/// The answer place for one request frame. Created on the connection's reactor thread and handed to
/// the handler; completed exactly once from any thread. Extra completions are ignored, and a slot
/// dropped without completion closes its connection (otherwise every later response would wait on
/// it forever).
public final class ResponseSlot: Sendable {
    private let reactor: NetReactor
    /// The connection this slot answers on.
    public let connectionID: UInt64
    let sequence: UInt64
    private let finished = Atomic<Bool>(false)

    init(reactor: NetReactor, connectionID: UInt64, sequence: UInt64) {
        self.reactor = reactor
        self.connectionID = connectionID
        self.sequence = sequence
    }

    /// Sends `response` (the body without the size prefix; the server adds it) once every earlier
    /// request on the connection has been answered.
    public func complete(_ response: [UInt8]) { finish(.response(response)) }

    /// Sends `response` like `complete`, then stops reading the connection for `muteMs` ms,
    /// counted from when the response is released in order (KIP-219 throttling). A later mute
    /// extends an earlier one; 0 or less is a plain `complete`.
    public func complete(_ response: [UInt8], muteMs: Int64) {
        finish(muteMs > 0 ? .responseThenMute(response, muteMs: muteMs) : .response(response))
    }

    /// Answers nothing (acks=0 produce) but lets later responses go out.
    public func completeWithoutResponse() { finish(.noResponse) }

    /// Answers nothing but mutes the connection for `muteMs` (a throttled acks=0 produce: Kafka
    /// has no answer to carry the throttle, so the mute alone slows the client).
    public func completeWithoutResponse(muteMs: Int64) {
        finish(muteMs > 0 ? .noResponseThenMute(muteMs: muteMs) : .noResponse)
    }

    /// Closes the connection once every earlier response is flushed; later requests are dropped.
    public func closeConnection() { finish(.close) }

    /// Sends `response`, then closes the connection once it is flushed; later requests are dropped.
    public func completeThenClose(_ response: [UInt8]) { finish(.responseThenClose(response)) }

    /// Gives the connection the server's limits again (frames whose size prefix is not read yet);
    /// immediate when called on the reactor thread, i.e. from `handleFrame`.
    public func liftConnectionRestriction() {
        if reactor.isCurrentThread {
            reactor.liftRestriction(connection: connectionID)
        } else {
            reactor.post(.liftRestriction(connection: connectionID))
        }
    }

    /// A KIP-368 re-authentication started on this connection: it must succeed within the
    /// server's authentication timeout or the connection is closed.
    public func armAuthenticationDeadline() {
        if reactor.isCurrentThread {
            reactor.armAuthenticationDeadline(connection: connectionID)
        } else {
            reactor.post(.armAuthenticationDeadline(connection: connectionID))
        }
    }

    /// True once one of the completion methods has been called.
    public var isCompleted: Bool { finished.load(ordering: .acquiring) }

    private func finish(_ outcome: NetOutcome) {
        guard finished.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
        else { return }
        deliver(outcome)
    }

    private func deliver(_ outcome: NetOutcome) {
        if reactor.isCurrentThread {
            reactor.applyCompletion(outcome, sequence: sequence, connection: connectionID)
        } else {
            reactor.post(.completion(connection: connectionID, sequence: sequence, outcome: outcome))
        }
    }

    deinit {
        if !finished.load(ordering: .acquiring) { deliver(.close) }
    }
}
