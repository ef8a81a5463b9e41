import Foundation
import HTTPServer
import Synchronization

/// A running node: the broker, its network server and the maintenance thread (flush.ms,
/// retention). `sluice serve` and the tests start nodes through this type.
public final class BrokerServer: Sendable {
    public let broker: Broker
    public let net: NetServer
    /// The schema registry's HTTP listeners (nil without `schema.registry.listeners`).
    public let registryHTTP: HTTPServer?
    private let stopping = Atomic<Bool>(false)

    public init(config: BrokerConfig) throws {
        broker = try Broker(config: config)
        let limits = NetLimits(
            maxRequestBytes: config.int("socket.request.max.bytes"),
            idleTimeoutMs: config.int64("connections.max.idle.ms"),
            reactorThreads: config.int("num.network.threads"),
            socketSendBufferBytes: config.int("socket.send.buffer.bytes"),
            socketReceiveBufferBytes: config.int("socket.receive.buffer.bytes"))
        let listeners = config.listenerSpecs.map {
            ListenerAddress(name: $0.name, host: $0.host.isEmpty ? "0.0.0.0" : $0.host, port: $0.port)
        }
        net = NetServer(listeners: listeners, limits: limits, handler: broker)
        registryHTTP = try BrokerServer.makeRegistryServer(config: config, broker: broker)
    }

    /// Binds the listeners and starts serving.
    public func start() throws {
        try net.start()
        try registryHTTP?.start()
        for (listener, port) in zip(net.listeners, net.boundPorts) where listener.port == 0 {
            broker.setBoundPort(port, listener: listener.name)
        }
        let intervalMs = max(10, min(broker.config.int64("log.flush.scheduler.interval.ms"), 1000))
        let thread = Thread { [self] in
            while !stopping.load(ordering: .acquiring) {
                broker.tick()
                Thread.sleep(forTimeInterval: Double(intervalMs) / 1000)
            }
        }
        thread.name = "maintenance"
        thread.start()
    }

    public var boundPorts: [Int] { net.boundPorts }

    /// Graceful stop: no new connections or requests, in-flight requests finish (up to the grace
    /// period), logs are flushed and closed with a clean-shutdown marker.
    public func shutdown() {
        if stopping.exchange(true, ordering: .acquiringAndReleasing) { return }
        registryHTTP?.shutdown()
        net.shutdown(gracePeriodMs: broker.config.int64("shutdown.grace.ms"))
        broker.shutdown()
    }
}
