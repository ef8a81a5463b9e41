import Foundation
import HTTPServer

/// What one tenant uses now, against its limits (metrics endpoint, `sluice tenants usage`,
/// CreateTopics/CreatePartitions checks).
public struct TenantUsage: Sendable {
    public var tenant: String
    public var limits: TenantLimits
    public var topics = 0
    public var partitions = 0
    public var storageBytes: Int64 = 0
    public var connections = 0
    public var rates = QuotaEngine.Usage()
}

extension Broker {
    /// Topics and partitions a tenant owns (from the metadata, by the catalog's topic → tenant map).
    func tenantTopicCounts(_ tenant: String) -> (topics: Int, partitions: Int) {
        let owner = quotas.catalog.tenantOfTopic
        var topics = 0
        var partitions = 0
        for topic in metadata.topics where owner(topic.name) == tenant {
            topics += 1
            partitions += Int(topic.partitionCount)
        }
        return (topics, partitions)
    }

    /// Recomputes every tenant's stored bytes (maintenance thread, each tick).
    func refreshTenantStorage() {
        let owner = quotas.catalog.tenantOfTopic
        var totals: [String: Int64] = [:]
        for topic in metadata.topics {
            guard let tenant = owner(topic.name) else { continue }
            for partition in replicas.partitions(of: topic.name) { totals[tenant, default: 0] += partition.log.sizeInBytes }
        }
        quotas.storage.withLock { $0 = totals }
    }

    /// Usage of every tenant in the catalog, limits with operator overrides applied.
    public func tenantUsage() -> [TenantUsage] {
        let now = Int64(SystemClock.monotonicNs() / 1_000_000)
        let owner = quotas.catalog.tenantOfTopic
        var counts: [String: (Int, Int)] = [:]
        for topic in metadata.topics {
            guard let tenant = owner(topic.name) else { continue }
            let c = counts[tenant] ?? (0, 0)
            counts[tenant] = (c.0 + 1, c.1 + Int(topic.partitionCount))
        }
        return quotas.catalog.tenants().map { entry in
            var limits = entry.limits
            BrokerQuotas.apply(quotas.overrides(ofTenant: entry.name), to: &limits)
            var u = TenantUsage(tenant: entry.name, limits: limits)
            (u.topics, u.partitions) = counts[entry.name] ?? (0, 0)
            u.storageBytes = quotas.storedBytes(ofTenant: entry.name)
            u.connections = quotas.openConnections(ofTenant: entry.name)
            u.rates = quotas.usage(ofTenant: entry.name, now: now)
            return u
        }
    }

    /// Prometheus text exposition format (version 0.0.4): per-tenant counters and gauges, then
    /// broker totals.
    public func prometheusMetrics() -> String {
        var out = ""
        func family(_ name: String, _ type: String, _ help: String, _ samples: [(String, Double)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for (labels, value) in samples { out += "\(name)\(labels) \(Self.promNumber(value))\n" }
        }
        let usage = tenantUsage()
        func perTenant(_ value: (TenantUsage) -> Double?) -> [(String, Double)] {
            usage.compactMap { u in value(u).map { ("{tenant=\"\(Self.promEscape(u.tenant))\"}", $0) } }
        }
        family("sluice_tenant_bytes_in_total", "counter", "Produce request bytes charged to the tenant.", perTenant { $0.rates.bytesIn })
        family("sluice_tenant_bytes_out_total", "counter", "Fetched record bytes charged to the tenant.", perTenant { $0.rates.bytesOut })
        family("sluice_tenant_request_time_ms_total", "counter", "Request handling time charged to the tenant.", perTenant { $0.rates.requestTimeMs })
        family("sluice_tenant_throttle_time_ms_total", "counter", "Throttle time handed to the tenant's clients.", perTenant { $0.rates.throttleTimeMs })
        family("sluice_tenant_bytes_in_rate", "gauge", "Produce bytes per second over the quota window.", perTenant { $0.rates.bytesInRate })
        family("sluice_tenant_bytes_out_rate", "gauge", "Fetch bytes per second over the quota window.", perTenant { $0.rates.bytesOutRate })
        family("sluice_tenant_request_percentage", "gauge", "Request time as a percentage of one thread.", perTenant { $0.rates.requestPercentage })
        family("sluice_tenant_connections", "gauge", "Open authenticated connections.", perTenant { Double($0.connections) })
        family("sluice_tenant_topics", "gauge", "Topics the tenant owns.", perTenant { Double($0.topics) })
        family("sluice_tenant_partitions", "gauge", "Partitions the tenant owns.", perTenant { Double($0.partitions) })
        family("sluice_tenant_storage_bytes", "gauge", "Bytes stored in the tenant's partitions.", perTenant { Double($0.storageBytes) })
        family("sluice_tenant_quota_producer_byte_rate", "gauge", "Produce quota, bytes per second.", perTenant { $0.limits.rates.produceBytesPerSecond })
        family("sluice_tenant_quota_consumer_byte_rate", "gauge", "Fetch quota, bytes per second.", perTenant { $0.limits.rates.fetchBytesPerSecond })
        family("sluice_tenant_quota_request_percentage", "gauge", "Request-time quota, percent of one thread.", perTenant { $0.limits.rates.requestPercentage })
        family("sluice_tenant_quota_connections", "gauge", "Connection limit.", perTenant { $0.limits.maxConnections.map(Double.init) })
        family("sluice_tenant_quota_connection_creation_rate", "gauge", "Connection creation limit per second.", perTenant { $0.limits.connectionCreationRate })
        family("sluice_tenant_quota_topics", "gauge", "Topic limit.", perTenant { $0.limits.maxTopics.map(Double.init) })
        family("sluice_tenant_quota_partitions", "gauge", "Partition limit.", perTenant { $0.limits.maxPartitions.map(Double.init) })
        family("sluice_tenant_quota_storage_bytes", "gauge", "Storage limit in bytes.", perTenant { $0.limits.maxStorageBytes.map(Double.init) })
        let opened = stats.connectionsOpened.load(ordering: .relaxed)
        let closed = stats.connectionsClosed.load(ordering: .relaxed)
        family("sluice_requests_total", "counter", "Requests dispatched.", [("", Double(stats.requests.load(ordering: .relaxed)))])
        family("sluice_connections", "gauge", "Open connections.", [("", Double(opened - closed))])
        family("sluice_connections_opened_total", "counter", "Connections accepted.", [("", Double(opened))])
        family("sluice_bytes_in_total", "counter", "Request bytes read.", [("", Double(stats.bytesIn.load(ordering: .relaxed)))])
        family("sluice_bytes_out_total", "counter", "Response bytes queued (fetch bodies included).",
               [("", Double(stats.bytesOut.load(ordering: .relaxed)))])
        family("sluice_topics", "gauge", "Topics.", [("", Double(metadata.topics.count))])
        // The policy files in force: nodes with different fingerprints loaded different files.
        family("sluice_policy_files_info", "gauge", "SHA-256 of the *.acl and *.tenants files in force (name and text, load order).",
               [("{kind=\"acl\",sha256=\"\(security.authorizer.policy.fingerprint)\"}", 1),
                ("{kind=\"tenants\",sha256=\"\(security.tenants.fingerprint)\"}", 1)])
        let transactions = replicas.transactionSummary()
        family("sluice_transactions_ongoing", "gauge", "Open transactions over all partitions (one per producer and partition).",
               [("", Double(transactions.ongoing))])
        family("sluice_last_stable_offset_lag", "gauge",
               "Sum over partitions of high watermark minus last stable offset: what read_committed consumers cannot read yet.",
               [("", Double(transactions.lastStableOffsetLag))])
        // Hardening (docs/security.md): connection limits, the authentication deadline, failed logins.
        let refusals = connectionAdmission.refusals
        family("sluice_connections_refused_total", "counter",
               "Connections accepted and closed at once: the address held max.connections.per.ip.",
               [("{reason=\"per_ip\"}", Double(refusals[.perIP] ?? 0))])
        family("sluice_connection_accept_pauses_total", "counter",
               "Times accepting on a listener paused (connections wait in the backlog): max.connections or max.connection.creation.rate.",
               [ConnectionRefusal.maxConnections, .creationRate].map { ("{reason=\"\($0.rawValue)\"}", Double(refusals[$0] ?? 0)) })
        family("sluice_authentication_timeouts_total", "counter",
               "Connections closed for not authenticating within connections.authentication.timeout.ms.",
               [("", Double(stats.authenticationTimeouts.load(ordering: .relaxed)))])
        let logins = security.loginThrottle
        family("sluice_login_delayed_total", "counter", "Logins answered late by the failed-login throttle.",
               [("", Double(logins.delayed.load(ordering: .relaxed)))])
        family("sluice_login_refused_total", "counter", "Logins refused: the user is locked out from that address.",
               [("", Double(logins.refused.load(ordering: .relaxed)))])
        family("sluice_login_lockouts_total", "counter", "Lockouts of a user from an address begun.",
               [("", Double(logins.lockouts.load(ordering: .relaxed)))])
        return out
    }

    static func promEscape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    static func promNumber(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v)
    }
}

extension BrokerServer {
    /// The Prometheus endpoint for `metrics.listeners` (http only): `GET /metrics`.
    static func makeMetricsServer(config: BrokerConfig, broker: Broker) throws -> HTTPServer? {
        let texts = config.listeners(of: "metrics.listeners")
        guard !texts.isEmpty else { return nil }
        var addresses: [HTTPListenerAddress] = []
        for text in texts {
            switch HTTPListenerAddress.parse(text) {
            case .success(let a) where a.scheme == "http": addresses.append(a)
            case .success: throw ConfigError("metrics.listeners: only http:// listeners are served (\(text))")
            case .failure(let e): throw ConfigError("metrics.listeners: \(e.message)")
            }
        }
        var options = HTTPServerOptions()
        options.name = "metrics"
        options.maxConnections = 16
        options.limits.maxBodyBytes = 0
        return HTTPServer(listeners: addresses, options: options) { [broker] request, _ in
            guard request.method == "GET" || request.method == "HEAD" else { return .text(405, "GET /metrics\n") }
            guard request.target == "/metrics" || request.target.hasPrefix("/metrics?") else {
                return .text(404, "GET /metrics\n")
            }
            return HTTPResponse(status: 200, headers: [("Content-Type", "text/plain; version=0.0.4; charset=utf-8")],
                                body: Array(broker.prometheusMetrics().utf8))
        }
    }
}
