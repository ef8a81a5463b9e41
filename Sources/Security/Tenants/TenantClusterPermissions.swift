// What a tenant member can ever do with a permission on the cluster resource (docs/tenants.md,
// "Cluster permissions"). The cluster resource is shared by every tenant, so a rule such as
// `allow User:team-a-admin alter cluster` must not reach past team-a: the broker bounds each use
// of a cluster permission by the tenant (Broker's `RequestAccess.allowsCluster(_:for:)`), and
// `sluice acls lint` warns about rules that grant a member more than these bounds let through.

/// The cluster operations a tenant member can be granted, and what each one reaches.
public enum TenantClusterPermissions {
    /// Operations on the cluster a rule can grant a tenant member. Each is bounded by the tenant:
    /// Create makes topics in its namespace only, Describe lists its own groups, its members'
    /// ACLs and its own SCRAM credentials, Alter changes its members' ACLs and its own SCRAM
    /// credentials, IdempotentWrite gives its producers ids. Everything else on the cluster
    /// (ClusterAction: replication; DescribeConfigs/AlterConfigs: broker configs and client
    /// quotas; Alter for leader elections and reassignments) is never granted to a member,
    /// whatever the rules say.
    public static let grantable: Set<AclOperation> = [.create, .describe, .alter, .idempotentWrite]

    /// The cluster operations an ALLOW of `operation` would grant that a tenant member can never
    /// have (ALL covers all of them; empty for the grantable ones).
    public static func neverGranted(by operation: AclOperation) -> [AclOperation] {
        AclOperation.allCases.filter {
            $0 != .any && operation.allows($0) && !grantable.contains($0)
                && AclResourceType.cluster.applicableOperations.contains($0)
        }
    }

    /// The reason written to the audit log when a member's cluster permission is refused by these
    /// bounds (before any rule is consulted).
    public static let refusedReason = "tenant member: cluster permission outside its tenant"
}
