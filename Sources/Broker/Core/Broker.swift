import Foundation
import KafkaProtocol
import LogStore
import Security
import Synchronization

/// One API the broker serves: the versions it accepts, the range it advertises (Produce
/// advertises from v0 for older librdkafka's feature checks) and its handler.
struct ApiSupport: Sendable {
    typealias Handler = @Sendable (Broker, RequestContext, inout WireReader, ResponseSlot) throws(DecodeError)
        -> HandlerOutcome
    let key: ApiKey
    let versions: ClosedRange<Int16>
    let advertisedMin: Int16
    /// Runs on the broker's serial admin queue instead of the reactor thread: admin requests whose
    /// work grows with the partitions they touch (directories, files and fsyncs per partition; 300
    /// partitions took seconds), so they never stall the reactor's other connections.
    let offReactor: Bool
    let handle: Handler

    init(_ key: ApiKey, _ versions: ClosedRange<Int16>, advertisedMin: Int16? = nil, offReactor: Bool = false,
         _ handle: @escaping Handler) {
        self.key = key
        self.versions = versions
        self.advertisedMin = advertisedMin ?? versions.lowerBound
        self.offReactor = offReactor
        self.handle = handle
    }
}

/// The composition root of a single node: metadata, partitions, the delayed-operation purgatory
/// and the request dispatcher that the network layer calls for each frame.
///
/// Threads: `handleFrame` runs on reactor threads (one connection's requests on one thread, in
/// order); parked fetches complete on the thread that appended or on the purgatory timer.
public final class Broker: FrameHandler, Sendable {
    public let config: BrokerConfig
    public let metadata: MetadataStore
    public let replicas: ReplicaManager
    let purgatory = Purgatory()
    /// Where the `ApiSupport.offReactor` APIs run, one at a time.
    let adminQueue = DispatchQueue(label: "sluice-admin")
    let apis: [Int16: ApiSupport]
    let resolverState: Mutex<ConfigResolver>
    let stats = BrokerStats()
    /// Kafka's connection limits (`max.connections`, per address, creation rates), applied by the
    /// network server's acceptor; here for the metrics.
    public let connectionAdmission: ConnectionAdmission
    let producerIds: ProducerIdAllocator
    let groups: GroupCoordinator
    public let security: BrokerSecurity
    /// The schema registry, when `schema.registry.listeners` is set (Sources/Broker/Schemas).
    public let schemaRegistry: SchemaRegistryService?
    /// Per-tenant quotas: rate sensors, connection counts, operator overrides (Sources/Broker/Quotas).
    public let quotas: BrokerQuotas
    /// Overrides the advertised port when listeners bind port 0 (tests).
    let advertisedPorts = Mutex<[String: Int]>([:])
    /// `log.slow.request.threshold.ms` in nanoseconds (0: slow requests are not logged).
    let slowRequestNs: UInt64

    public init(config: BrokerConfig) throws {
        self.config = config
connectionAdmission = ConnectionAdmission(settings: config.connectionLimits)
        BrokerLog.shared.level = LogLevel(name: config.string("log.level") ?? "") ?? .info
        slowRequestNs = UInt64(max(0, config.int64("log.slow.request.threshold.ms"))) * 1_000_000
        let directory = config.logDirectory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        metadata = try MetadataStore(directory: directory, clusterId: config.string("cluster.id"))
        let resolver = ConfigResolver(broker: config, dynamicBroker: metadata.dynamicBrokerConfigs)
        resolverState = Mutex(resolver)
        replicas = try ReplicaManager(directory: directory, metadata: metadata, resolver: resolver)
        producerIds = ProducerIdAllocator(metadata: metadata)
        security = try BrokerSecurity(config: config)
        quotas = BrokerQuotas(window: QuotaWindowConfig(samples: config.int("quota.window.num"),
                                                        sampleMs: Int64(config.int("quota.window.size.seconds")) * 1000),
                              directory: directory)
        quotas.follow { [security] in security.tenants }  // the hot-reloaded snapshot
        var table: [Int16: ApiSupport] = [:]
        for support in Broker.supportedApis { table[support.key.rawValue] = support }
        apis = table
        groups = try GroupCoordinator(config: config, replicas: replicas, purgatory: purgatory)
        schemaRegistry = config.listeners(of: "schema.registry.listeners").isEmpty
            ? nil : try SchemaRegistryService(config: config, replicas: replicas)
        purgatory.start()
        groups.start()
    }

    var resolver: ConfigResolver { resolverState.withLock { $0 } }

    /// Every API this broker serves. ApiVersions answers are derived from this list only.
    /// The lowest versions are those Kafka 3.9 still served (KIP-896 removed them in Kafka 4),
    /// except Produce v0–v2 and Fetch v0–v3, which need message formats v0/v1 (UNSUPPORTED.md).
    static let supportedApis: [ApiSupport] = [
        ApiSupport(.produce, 3...11, advertisedMin: 0) { b, h, r, s throws(DecodeError) in try b.handleProduce(h, &r, s) },
        ApiSupport(.fetch, 4...12) { b, h, r, s throws(DecodeError) in try b.handleFetch(h, &r, s) },
        ApiSupport(.listOffsets, 0...7) { b, h, r, _ throws(DecodeError) in try b.handleListOffsets(h, &r) },
        ApiSupport(.metadata, 0...12) { b, h, r, _ throws(DecodeError) in try b.handleMetadata(h, &r) },
        ApiSupport(.apiVersions, 0...4) { b, h, r, _ throws(DecodeError) in try b.handleApiVersions(h, &r) },
        ApiSupport(.createTopics, 0...7, offReactor: true) { b, h, r, _ throws(DecodeError) in try b.handleCreateTopics(h, &r) },
        ApiSupport(.deleteTopics, 0...6, offReactor: true) { b, h, r, _ throws(DecodeError) in try b.handleDeleteTopics(h, &r) },
        ApiSupport(.initProducerId, 0...5) { b, h, r, _ throws(DecodeError) in try b.handleInitProducerId(h, &r) },
        ApiSupport(.deleteRecords, 0...2, offReactor: true) { b, h, r, _ throws(DecodeError) in try b.handleDeleteRecords(h, &r) },
        ApiSupport(.writeTxnMarkers, 0...1) { b, h, r, _ throws(DecodeError) in try b.handleWriteTxnMarkers(h, &r) },
        ApiSupport(.offsetForLeaderEpoch, 0...4) { b, h, r, _ throws(DecodeError) in
            try b.handleOffsetForLeaderEpoch(h, &r)
        },
        ApiSupport(.describeConfigs, 0...4) { b, h, r, _ throws(DecodeError) in try b.handleDescribeConfigs(h, &r) },
        ApiSupport(.alterConfigs, 0...2) { b, h, r, _ throws(DecodeError) in try b.handleAlterConfigs(h, &r) },
        ApiSupport(.createPartitions, 0...3, offReactor: true) { b, h, r, _ throws(DecodeError) in try b.handleCreatePartitions(h, &r) },
        ApiSupport(.incrementalAlterConfigs, 0...1) { b, h, r, _ throws(DecodeError) in
            try b.handleIncrementalAlterConfigs(h, &r)
        },
        ApiSupport(.offsetCommit, 0...8) { b, h, r, _ throws(DecodeError) in try b.handleOffsetCommit(h, &r) },
        ApiSupport(.offsetFetch, 0...8) { b, h, r, _ throws(DecodeError) in try b.handleOffsetFetch(h, &r) },
        ApiSupport(.findCoordinator, 0...4) { b, h, r, _ throws(DecodeError) in try b.handleFindCoordinator(h, &r) },
        ApiSupport(.joinGroup, 0...7) { b, h, r, s throws(DecodeError) in try b.handleJoinGroup(h, &r, s) },
        ApiSupport(.heartbeat, 0...4) { b, h, r, _ throws(DecodeError) in try b.handleHeartbeat(h, &r) },
        ApiSupport(.leaveGroup, 0...5) { b, h, r, _ throws(DecodeError) in try b.handleLeaveGroup(h, &r) },
        ApiSupport(.syncGroup, 0...5) { b, h, r, s throws(DecodeError) in try b.handleSyncGroup(h, &r, s) },
        ApiSupport(.describeGroups, 0...5) { b, h, r, _ throws(DecodeError) in try b.handleDescribeGroups(h, &r) },
        ApiSupport(.listGroups, 0...5) { b, h, r, _ throws(DecodeError) in try b.handleListGroups(h, &r) },
        ApiSupport(.deleteGroups, 0...2) { b, h, r, _ throws(DecodeError) in try b.handleDeleteGroups(h, &r) },
        ApiSupport(.offsetDelete, 0...0) { b, h, r, _ throws(DecodeError) in try b.handleOffsetDelete(h, &r) },
        ApiSupport(.describeCluster, 0...1) { b, h, r, _ throws(DecodeError) in try b.handleDescribeCluster(h, &r) },
        ApiSupport(.describeAcls, 0...3) { b, h, r, _ throws(DecodeError) in try b.handleDescribeAcls(h, &r) },
        ApiSupport(.createAcls, 0...3) { b, h, r, _ throws(DecodeError) in try b.handleCreateAcls(h, &r) },
        ApiSupport(.deleteAcls, 0...3) { b, h, r, _ throws(DecodeError) in try b.handleDeleteAcls(h, &r) },
        ApiSupport(.describeUserScramCredentials, 0...0) { b, h, r, _ throws(DecodeError) in
            try b.handleDescribeUserScramCredentials(h, &r)
        },
        ApiSupport(.alterUserScramCredentials, 0...0) { b, h, r, _ throws(DecodeError) in
            try b.handleAlterUserScramCredentials(h, &r)
        },
        ApiSupport(.describeClientQuotas, 0...1) { b, h, r, _ throws(DecodeError) in
            try b.handleDescribeClientQuotas(h, &r)
        },
        ApiSupport(.alterClientQuotas, 0...1) { b, h, r, _ throws(DecodeError) in try b.handleAlterClientQuotas(h, &r) },
        ApiSupport(.saslHandshake, 0...1) { b, h, r, s throws(DecodeError) in try b.handleSaslHandshake(h, &r, s) },
        ApiSupport(.saslAuthenticate, 0...2) { b, h, r, s throws(DecodeError) in try b.handleSaslAuthenticate(h, &r, s) },
    ]

    // MARK: FrameHandler

    public func connectionOpened(_ connection: ConnectionInfo) -> any ConnectionContext {
        stats.connectionsOpened.add(1, ordering: .relaxed)
        return ClientSession(info: connection, securityProtocol: config.securityProtocol(ofListener: connection.listenerName),
                             preAuthFrameLimit: config.int("sasl.server.max.receive.size"))
    }

    public func transportSecured(_ connection: any ConnectionContext, _ transport: TransportSecurity) {
        let session = connection as! ClientSession
        session.state.withLock { $0.transport = transport }
        // SSL listeners: a verified client certificate names the principal (SASL listeners take
        // SASL's); without one the peer stays ANONYMOUS, as in Kafka.
        guard session.securityProtocol == .ssl, let subject = transport.peerSubject else { return }
        let principal = security.principal(forCertificateSubject: subject)
        session.state.withLock {
            if let principal { $0.principal = principal } else { $0.rejected = true }
        }
        // A certificate principal that belongs to a tenant counts against its connection quotas,
        // as a SASL login does; an excess connection is closed at its first frame.
        var refusal: String?
        if let principal, let tenant = security.tenants.tenant(for: principal, claims: [:]) {
            let subject = quotas.subject(of: tenant, principal: principal)
            refusal = quotas.admitConnection(subject, now: Int64(SystemClock.monotonicNs() / 1_000_000))
            session.state.withLock { s in
                if refusal == nil { s.countedConnection = subject } else { s.rejected = true }
            }
        }
        security.record(AuditEvent(
            kind: .authentication, principal: principal, client: session.info.peerAddress,
            listener: session.info.listenerName, api: "TLS",
            decision: principal == nil || refusal != nil ? .failure : .success,
            detail: principal == nil ? "no ssl.principal.mapping.rules rule matches the certificate subject"
                : refusal ?? "client certificate, \(transport.protocolVersion)"))
    }

    /// A connection missed `connections.authentication.timeout.ms`: counted, and written to the
    /// audit log at most once per address per minute (with how many there were), so a flood of
    /// stalled connections cannot flood the log.
    public func authenticationTimedOut(_ connection: any ConnectionContext) {
        stats.authenticationTimeouts.add(1, ordering: .relaxed)
        let session = connection as! ClientSession
        let address = session.info.peerHost
        guard let count = security.authenticationTimeoutReports.due(address, nowMs: SystemClock.nowMs()) else { return }
        security.record(AuditEvent(
            kind: .authentication, client: session.info.peerAddress, listener: session.info.listenerName,
            api: "connection", decision: .failure,
            detail: "closed: not authenticated within \(config.int64("connections.authentication.timeout.ms")) ms "
                + "(connections.authentication.timeout.ms); \(count) such connection(s) from \(address) since the last report"))
    }

    public func connectionClosed(_ connection: any ConnectionContext) {
        stats.connectionsClosed.add(1, ordering: .relaxed)
        let session = connection as! ClientSession
        if let counted = session.state.withLock({ $0.countedConnection }) { quotas.connectionClosed(counted) }
    }

    public func handleFrame(_ frame: [UInt8], connection: any ConnectionContext, slot: ResponseSlot) {
        let session = connection as! ClientSession
        let gate = session.state.withLock { s -> SaslGate in
            if s.rejected { return .rejected }
            if s.rawTokens { return .rawToken }
            if !s.authenticated { return .unauthenticated }
            if let expiry = s.sessionExpiryMs, SystemClock.nowMs() >= expiry { return .expired }
            return .open(s.principal, s.claims)
        }
        if case .rawToken = gate { return handleRawSaslToken(frame, session: session, slot: slot) }
        if case .rejected = gate { return slot.closeConnection() }
        var reader = WireReader(frame)
        var header: RequestContext
        do {
            header = try RequestHeaderDecoder.decode(&reader)
        } catch {
            BrokerLog.shared.debug("net", "closing the connection from \(session.info.peerAddress): malformed request header")
            return slot.closeConnection()
        }
        switch gate {
        case .open(let principal, let claims):
            header.principal = principal
            let tenants = security.tenants
            if !tenants.isEmpty {
                header.tenancy = true
                switch tenants.resolve(principal: principal, claims: claims) {
                case .none: break
                case .tenant(let tenant):
                    header.tenant = tenant.namespace
                    header.quotaSubject = quotas.subject(of: tenant, principal: principal)
                case .ambiguous(let names):
                    security.reportAmbiguousTenant(principal, names)
                    return slot.closeConnection()
                }
            }
        case .unauthenticated, .expired:
            // Before (re-)authentication only these are served; Kafka closes on anything else.
            guard header.apiKey == ApiKey.apiVersions.rawValue || header.apiKey == ApiKey.saslHandshake.rawValue
                    || header.apiKey == ApiKey.saslAuthenticate.rawValue else {
                return slot.closeConnection()
            }
            header.principal = session.principal
        case .rawToken, .rejected:
            break
        }
        header.session = session
        header.clientHost = session.info.peerHost
        header.listenerName = session.info.listenerName
        header.requestBytes = frame.count
        stats.requests.add(1, ordering: .relaxed)
        stats.bytesIn.add(frame.count, ordering: .relaxed)
        guard let support = apis[header.apiKey], support.versions.contains(header.apiVersion) else {
            // ApiVersions gets a graceful v0 answer (KIP-511); anything else we do not serve is
            // answered by closing the connection, as Kafka does.
            if header.apiKey == ApiKey.apiVersions.rawValue {
                let body = apiVersionsResponse(errorCode: KafkaError.unsupportedVersion.rawValue)
                return slot.complete(ResponseFramer.frame(body, apiKey: header.apiKey, version: 0,
                                                          correlationId: header.correlationId))
            }
            return slot.closeConnection()
        }
        if support.offReactor {
            // Answers still leave in request order: the slot releases them.
            let position = reader.position
            adminQueue.async { [self, header] in
                var offReactor = WireReader(frame, from: position)
                run(support, header, &offReactor, slot, session)
            }
            return
        }
        run(support, header, &reader, slot, session)
    }

    /// Runs a decoded request's handler and completes its slot with the outcome.
    private func run(_ support: ApiSupport, _ header: RequestContext, _ reader: inout WireReader,
                     _ slot: ResponseSlot, _ session: ClientSession) {
        let outcome: HandlerOutcome
        let started = SystemClock.monotonicNs()
        do {
            outcome = try support.handle(self, header, &reader, slot)
        } catch {
            BrokerLog.shared.debug("net", "closing the connection from \(session.info.peerAddress): malformed "
                                   + "\(support.key) v\(header.apiVersion) request (client id '\(header.clientId)')")
            return slot.closeConnection()
        }
        let elapsedNs = SystemClock.monotonicNs() - started
        if slowRequestNs > 0 && elapsedNs >= slowRequestNs { logSlowRequest(header, support.key, elapsedNs: elapsedNs) }
        // Request-time quota: the handler's time on this thread, charged to the tenant.
        var requestThrottle: Int64 = 0
        if let subject = header.quotaSubject {
            requestThrottle = quotas.charge(.requestTime, amount: Double(elapsedNs) / 1_000_000, subject: subject,
                                            now: Int64(SystemClock.monotonicNs() / 1_000_000))
        }
        switch outcome {
        case .respond(var body):
            // KIP-219: the answer carries throttle_time_ms (the larger of the handler's byte-rate
            // throttle and the request-time one) and the connection is then muted that long.
            var mute = requestThrottle
            if header.quotaSubject != nil, var carrier = body as? any ThrottleTimeCarrying {
                mute = max(mute, Int64(carrier.throttleTimeMs))
                if Int64(carrier.throttleTimeMs) < mute {
                    carrier.throttleTimeMs = Int32(clamping: mute)
                    body = carrier
                }
            }
            let bytes = ResponseFramer.frame(body, apiKey: header.apiKey, version: header.apiVersion,
                                             correlationId: header.correlationId)
            stats.bytesOut.add(bytes.count, ordering: .relaxed)
            slot.complete(bytes, muteMs: mute)
        case .noResponse:
            slot.completeWithoutResponse(muteMs: requestThrottle)
        case .deferred:
            break
        case .close:
            slot.closeConnection()
        case .respondThenClose(let body):
            slot.completeThenClose(ResponseFramer.frame(body, apiKey: header.apiKey, version: header.apiVersion,
                                                        correlationId: header.correlationId))
        }
    }

    /// Completes a deferred request (a parked fetch) from any thread; `muteMs` > 0 throttles the
    /// connection after the answer (KIP-219).
    func complete(_ slot: ResponseSlot, header: RequestContext, body: any KafkaAPIMessage, sizeHint: Int,
                  muteMs: Int64 = 0) {
        let bytes = ResponseFramer.frame(body, apiKey: header.apiKey, version: header.apiVersion,
                                         correlationId: header.correlationId, capacityHint: sizeHint + 256)
        stats.bytesOut.add(bytes.count, ordering: .relaxed)
        slot.complete(bytes, muteMs: muteMs)
    }

    /// The handler's own time (on the reactor thread it stalls that reactor's other connections; a
    /// parked fetch or JoinGroup waiting for its answer is not counted: that wait is the protocol).
    private func logSlowRequest(_ header: RequestContext, _ api: ApiKey, elapsedNs: UInt64) {
        BrokerLog.shared.warn("requests", "slow request: \(api) v\(header.apiVersion) from client id '\(header.clientId)' "
                              + "(\(header.principal), \(header.clientHost)) took \(elapsedNs / 1_000_000) ms "
                              + "(log.slow.request.threshold.ms=\(slowRequestNs / 1_000_000))")
    }

    // MARK: Lifecycle

    /// Sets the port advertised for a listener that was bound to port 0.
    public func setBoundPort(_ port: Int, listener: String) {
        advertisedPorts.withLock { $0[listener] = port }
    }

    /// Advertised endpoint of this node for Metadata/DescribeCluster/FindCoordinator: the one of
    /// the listener the request came in on, as Kafka does, else the first.
    func advertisedEndpoint(for listener: String) -> (host: String, port: Int32) {
        let specs = config.advertisedSpecs
        let spec = specs.first { $0.name == listener } ?? specs.first
            ?? ListenerSpec(name: "PLAINTEXT", host: "127.0.0.1", port: 9092)
        let port = advertisedPorts.withLock { $0[spec.name] } ?? spec.port
        return (spec.host, Int32(port))
    }

    /// Background work: flush.ms and retention; policy and credential hot reload. Called by the
    /// server's maintenance thread.
    public func tick() {
        let now = SystemClock.nowMs()
        replicas.tick(now: now)
        security.tick(now: now)
        security.reload(now: Int64(SystemClock.monotonicNs() / 1_000_000))
        refreshTenantStorage()
    }

    public func shutdown() {
        adminQueue.sync {}  // an admin request still running finishes before the logs close
        groups.stop()
        purgatory.stop()
        replicas.closeAll()
        security.close()
    }
}

/// Counters for metrics and tests.
final class BrokerStats: Sendable {
    let requests = Atomic<Int>(0)
    let connectionsOpened = Atomic<Int>(0)
    let connectionsClosed = Atomic<Int>(0)
    /// Connections closed for missing `connections.authentication.timeout.ms`.
    let authenticationTimeouts = Atomic<Int>(0)
    /// Request frames read and response frames written (size prefixes excluded).
    let bytesIn = Atomic<Int>(0)
    let bytesOut = Atomic<Int>(0)
}

/// Wall-clock and monotonic time in the units Kafka uses.
public enum SystemClock {
    public static func nowMs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    public static func monotonicNs() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
}
