import Security

// How the tenant files' `Quotas` (Sources/Security/Tenants) become the quota engine's limits.

extension TenantLimits {
    public init(_ q: Quotas) {
        self.init(rates: RateLimits(q), maxConnections: q.connections.map { Int(clamping: $0) },
                  connectionCreationRate: q.connectionCreationRate, maxPartitions: q.partitions.map { Int(clamping: $0) },
                  maxTopics: q.topics.map { Int(clamping: $0) }, maxStorageBytes: q.storageBytes)
    }
}

extension RateLimits {
    public init(_ q: Quotas) {
        self.init(produceBytesPerSecond: q.produceByteRate.map(Double.init), fetchBytesPerSecond: q.fetchByteRate.map(Double.init),
                  requestPercentage: q.requestPercentage)
    }
}

extension QuotaSubject {
    /// `principal` as a member of `tenant`: the tenant-wide limits, plus the principal's own rate
    /// limits when the file sets some (`quota ... for User:x`).
    public init(tenant: Tenant, principal: String) {
        let own = tenant.quotas(for: principal)
        self.init(tenant: tenant.name, principal: principal, tenantLimits: TenantLimits(tenant.quotas),
                  principalRates: own.map { RateLimits($0) }.flatMap { $0.isEmpty ? nil : $0 },
                  principalMaxConnections: own?.connections.map { Int(clamping: $0) },
                  principalConnectionCreationRate: own?.connectionCreationRate)
    }
}

extension BrokerQuotas {
    /// `principal` as a member of `tenant`, with the operator overrides applied.
    public func subject(of tenant: Tenant, principal: String) -> QuotaSubject {
        var subject = QuotaSubject(tenant: tenant, principal: principal)
        let own = overrides(ofTenant: tenant.name)
        if !own.isEmpty { Self.apply(own, to: &subject.tenantLimits) }
        return subject
    }

    /// Reads tenants from `current` (the hot-reloaded snapshot) from now on: principal → tenant
    /// and limits, which tenants exist, and which tenant owns an internal topic name.
    public func follow(_ current: @escaping @Sendable () -> TenantSet) {
        setResolver { principal in
            current().tenant(for: principal).map { QuotaSubject(tenant: $0, principal: principal) }
        }
        setCatalog(Catalog(
            tenants: { current().tenants.map { (name: $0.name, limits: TenantLimits($0.quotas)) } },
            tenantOfTopic: { TenantNamespace.tenant(ofInternal: $0) }))
    }
}
