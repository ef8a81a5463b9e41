import Broker
import Foundation
import Security

/// `sluice tenants list|describe`: the tenants of the policy files, offline. `describe` adds what
/// each tenant holds in a data directory (topics, partitions, bytes on disk) against its limits.
/// Live rates (bytes in/out per second, throttle time) come from the broker's metrics endpoint,
/// which the quota engine adds; this file only reads files.
enum TenantsCommand {
    static func run(_ sub: String, _ options: Options) throws {
        let directory = options.string("policies") ?? "policies"
        var superUsers = Set(options.all("super-user"))
        if case .success(let policy) = PolicySet.load(directory: directory) { superUsers.formUnion(policy.superUserRefs.keys) }
        let tenants: TenantSet
        switch TenantSet.load(directory: directory, superUsers: superUsers) {
        case .success(let loaded): tenants = loaded
        case .failure(let errors): throw CLIError("tenant file errors:\n\(errors.description)")
        }
        switch sub {
        case "list":
            print(pad(["TENANT", "DEFINED AT", "LIMITS", "MEMBERS"]))
            for tenant in tenants.tenants {
                let limits = Quotas.keys.filter { tenant.quotas.value(of: $0) != nil }.count
                print(pad([tenant.name, tenant.definedAt, String(limits),
                           tenant.members.map(\.description).joined(separator: " ")]))
            }
            print("\(directory): \(tenants.tenants.count) tenants")
        case "describe":
            let usage = try diskUsage(try Users.dataDirectory(options))
            var selected = tenants.tenants
            if let name = options.string("tenant") {
                guard let tenant = tenants.tenant(named: name) else { throw CLIError("no tenant '\(name)' in \(directory)") }
                selected = [tenant]
            }
            for tenant in selected { describe(tenant, usage[tenant.name] ?? [:]) }
        default:
            throw CLIError("tenants: unknown subcommand '\(sub)' (list|describe)")
        }
    }

    /// Per topic of one tenant: partitions and bytes.
    typealias TopicUsage = [String: (partitions: Int, bytes: Int64)]

    static func describe(_ tenant: Tenant, _ topics: TopicUsage) {
        print("tenant \(tenant.name)   (\(tenant.definedAt); namespace \(tenant.namespace.prefix)<name>)")
        for member in tenant.members { print("  member \(member)") }
        let partitions = topics.values.reduce(0) { $0 + $1.partitions }
        let bytes = topics.values.reduce(Int64(0)) { $0 + $1.bytes }
        let used: [String: String] = ["topics": String(topics.count), "partitions": String(partitions),
                                      "storage-bytes": String(bytes)]
        print("  " + pad(["LIMIT", "VALUE", "USED"]))
        for key in Quotas.keys {
            print("  " + pad([key, tenant.quotas.value(of: key) ?? "-", used[key] ?? "(live: metrics endpoint)"]))
        }
        for (principal, quotas) in tenant.principalQuotas.sorted(by: { $0.key < $1.key }) {
            for key in Quotas.keys {
                if let value = quotas.value(of: key) { print("  " + pad(["\(key) for \(principal)", value, ""])) }
            }
        }
        if !topics.isEmpty {
            print("  " + pad(["TOPIC", "PARTITIONS", "BYTES"]))
            for (name, usage) in topics.sorted(by: { $0.key < $1.key }) {
                print("  " + pad([name, String(usage.partitions), String(usage.bytes)]))
            }
        }
    }

    /// Partition directories `<topic>-<n>` of tenant topics in `dataDirectory`, by tenant and
    /// local topic name, with the bytes of their files.
    static func diskUsage(_ dataDirectory: String) throws -> [String: TopicUsage] {
        let files = FileManager.default
        guard let entries = try? files.contentsOfDirectory(atPath: dataDirectory) else {
            throw CLIError("cannot read data directory \(dataDirectory)")
        }
        var result: [String: TopicUsage] = [:]
        for entry in entries {
            guard let tenant = TenantNamespace.tenant(ofInternal: entry), let dash = entry.lastIndex(of: "-"),
                  Int(entry[entry.index(after: dash)...]) != nil else { continue }
            let topic = String(entry[..<dash])
            guard let local = TenantNamespace(tenant: tenant).localName(topic) else { continue }
            var bytes: Int64 = 0
            let path = dataDirectory + "/" + entry
            for file in (try? files.contentsOfDirectory(atPath: path)) ?? [] {
                let size = (try? files.attributesOfItem(atPath: path + "/" + file)[.size] as? NSNumber)?.int64Value
                bytes += size ?? 0
            }
            let current = result[tenant, default: [:]][local] ?? (0, 0)
            result[tenant, default: [:]][local] = (current.partitions + 1, current.bytes + bytes)
        }
        return result
    }

    static func pad(_ columns: [String]) -> String {
        let widths = [28, 18, 10]
        var line = ""
        for (index, column) in columns.enumerated() {
            if index < columns.count - 1 {
                let width = index < widths.count ? widths[index] : 16
                line += column.padding(toLength: max(width, column.count + 2), withPad: " ", startingAt: 0)
            } else {
                line += column
            }
        }
        return line
    }
}
