import Foundation
import HTTPServer
import Synchronization
import TLS

/// A running node: the broker, its network server and the maintenance thread (flush.ms,
/// retention). `sluice serve` and the tests start nodes through this type.
public final class BrokerServer: Sendable {
    public let broker: Broker
    public let net: NetServer
    /// The schema registry's HTTP listeners (nil without `schema.registry.listeners`).
    public let registryHTTP: HTTPServer?
    /// The Prometheus endpoint (nil without `metrics.listeners`).
    public let metricsHTTP: HTTPServer?
    /// The server context of the SSL/SASL_SSL listeners (one for all), reloaded when its files change.
    let tls: ReloadingTLSContext?
    private let stopping = Atomic<Bool>(false)

    public init(config: BrokerConfig) throws {
        broker = try Broker(config: config)
        let limits = NetLimits(
            maxRequestBytes: config.int("socket.request.max.bytes"),
            idleTimeoutMs: config.int64("connections.max.idle.ms"),
            reactorThreads: config.int("num.network.threads"),
            socketSendBufferBytes: config.int("socket.send.buffer.bytes"),
            socketReceiveBufferBytes: config.int("socket.receive.buffer.bytes"),
            authenticationTimeoutMs: config.int64("connections.authentication.timeout.ms"))
        let protocols = config.listenerSpecs.map { config.securityProtocol(ofListener: $0.name) }
        let tls = protocols.contains(where: \.usesTLS) ? try ReloadingTLSContext(Self.tlsSettings(config)) : nil
        self.tls = tls
        let listeners = zip(config.listenerSpecs, protocols).map { spec, proto in
            ListenerAddress(name: spec.name, host: spec.host.isEmpty ? "0.0.0.0" : spec.host, port: spec.port,
                            tls: proto.usesTLS ? tls : nil)
        }
        net = NetServer(listeners: listeners, limits: limits, admission: broker.connectionAdmission, handler: broker)
        registryHTTP = try BrokerServer.makeRegistryServer(config: config, broker: broker, tls: tls)
        metricsHTTP = try BrokerServer.makeMetricsServer(config: config, broker: broker)
    }

    /// Bound ports of the metrics listeners, in order (empty without them).
    public var metricsPorts: [Int] { metricsHTTP?.boundPorts ?? [] }

    /// Kafka's PEM settings (KIP-651): `ssl.keystore.location` holds the private key and the
    /// certificate chain, `ssl.truststore.location` the CA certificates for client certificates.
    static func tlsSettings(_ config: BrokerConfig) throws(ConfigError) -> TLSServerSettings {
        guard let keystore = config.string("ssl.keystore.location"), !keystore.isEmpty else {
            throw ConfigError("an SSL or SASL_SSL listener needs ssl.keystore.location (a PEM file with the key and certificate chain)")
        }
        let versions = Set((config.string("ssl.enabled.protocols") ?? "").split(separator: ",")
            .compactMap { TLSVersion(rawValue: $0.trimmingCharacters(in: .whitespaces)) })
        let ciphers = (config.string("ssl.cipher.suites") ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return TLSServerSettings(
            certificateChainPath: keystore, privateKeyPath: keystore,
            trustStorePath: config.string("ssl.truststore.location").flatMap { $0.isEmpty ? nil : $0 },
            clientAuth: TLSClientAuth(rawValue: config.string("ssl.client.auth") ?? "none") ?? .none,
            versions: versions, cipherSuites: ciphers)
    }

    /// Binds the listeners and starts serving.
    public func start() throws {
        try net.start()
        try registryHTTP?.start()
        try metricsHTTP?.start()
        for (listener, port) in zip(net.listeners, net.boundPorts) {
            if listener.port == 0 { broker.setBoundPort(port, listener: listener.name) }
            let proto = broker.config.securityProtocol(ofListener: listener.name)
            BrokerLog.shared.info("net", "listening on \(listener.name)://\(listener.host):\(port) (\(proto.rawValue))")
        }
        for port in registryPorts { BrokerLog.shared.info("net", "schema registry listening on port \(port)") }
        for port in metricsPorts { BrokerLog.shared.info("net", "metrics listening on port \(port)") }
        let intervalMs = max(10, min(broker.config.int64("log.flush.scheduler.interval.ms"), 1000))
        let thread = Thread { [self] in
            var lastTrimNs = SystemClock.monotonicNs()
            while !stopping.load(ordering: .acquiring) {
                broker.tick()
                if SystemClock.monotonicNs() - lastTrimNs >= 1_000_000_000 {
                    ProcessMemory.releaseFreeMemory()
                    lastTrimNs = SystemClock.monotonicNs()
                }
                if let tls, case (let reloaded, let error) = tls.reloadIfChanged() {
                    if reloaded { BrokerLog.shared.info("tls", "TLS certificates reloaded") }
                    if let error {
                        BrokerLog.shared.warn("tls", "TLS files changed but were refused, keeping the old ones: \(error)")
                    }
                }
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
        metricsHTTP?.shutdown()
        net.shutdown(gracePeriodMs: broker.config.int64("shutdown.grace.ms"))
        broker.shutdown()
    }
}
