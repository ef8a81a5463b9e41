import Foundation
import HTTPServer

/// `sluice tenants usage [--metrics http://127.0.0.1:9404]`: live usage of every tenant against
/// its limits, read from the broker's Prometheus endpoint (`metrics.listeners`, docs/quotas.md).
enum TenantUsageCommand {
    static func run(_ o: Options) throws {
        let base = (o.string("metrics") ?? "http://127.0.0.1:9404").trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        let reply: HTTPClient.Reply
        do {
            reply = try HTTPClient.send("GET", url: base + "/metrics")
        } catch {
            throw CLIError("cannot read \(base)/metrics: \(error)")
        }
        guard reply.status == 200 else { throw CLIError("\(base)/metrics answered \(reply.status)") }
        let samples = parse(reply.text)
        let tenants = Set(samples.keys.map(\.tenant)).sorted()
        if tenants.isEmpty {
            print("no tenants")
            return
        }
        func value(_ tenant: String, _ name: String) -> Double? { samples[Key(tenant: tenant, name: name)] }
        func pair(_ tenant: String, _ used: String, _ limit: String, bytes: Bool = false) -> String {
            let u = value(tenant, used).map { bytes ? Self.bytes($0) : Self.count($0) } ?? "-"
            let l = value(tenant, limit).map { bytes ? Self.bytes($0) : Self.count($0) } ?? "∞"
            return "\(u)/\(l)"
        }
        let header = ["TENANT", "IN/s (quota)", "OUT/s (quota)", "REQ% (quota)", "STORAGE", "PARTITIONS", "TOPICS",
                      "CONNECTIONS", "THROTTLED"]
        var rows = [header]
        for t in tenants {
            rows.append([
                t,
                pair(t, "sluice_tenant_bytes_in_rate", "sluice_tenant_quota_producer_byte_rate", bytes: true),
                pair(t, "sluice_tenant_bytes_out_rate", "sluice_tenant_quota_consumer_byte_rate", bytes: true),
                pair(t, "sluice_tenant_request_percentage", "sluice_tenant_quota_request_percentage"),
                pair(t, "sluice_tenant_storage_bytes", "sluice_tenant_quota_storage_bytes", bytes: true),
                pair(t, "sluice_tenant_partitions", "sluice_tenant_quota_partitions"),
                pair(t, "sluice_tenant_topics", "sluice_tenant_quota_topics"),
                pair(t, "sluice_tenant_connections", "sluice_tenant_quota_connections"),
                (value(t, "sluice_tenant_throttle_time_ms_total").map { Self.count($0) } ?? "0") + " ms",
            ])
        }
        let widths = header.indices.map { c in rows.map { $0[c].count }.max() ?? 0 }
        for row in rows {
            print(row.enumerated().map { c, cell in cell.padding(toLength: widths[c], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces))
        }
    }

    struct Key: Hashable {
        let tenant: String
        let name: String
    }

    /// `name{tenant="x"} value` lines of the exposition format (escapes in the label undone).
    static func parse(_ text: String) -> [Key: Double] {
        var out: [Key: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let open = line.firstIndex(of: "{"), let close = line.lastIndex(of: "}"),
                  let value = Double(line[line.index(after: close)...].trimmingCharacters(in: .whitespaces)) else { continue }
            let labels = line[line.index(after: open)..<close]
            guard labels.hasPrefix("tenant=\""), labels.hasSuffix("\"") else { continue }
            let raw = labels.dropFirst("tenant=\"".count).dropLast()
            let tenant = raw.replacingOccurrences(of: "\\\"", with: "\"").replacingOccurrences(of: "\\\\", with: "\\")
            out[Key(tenant: tenant, name: String(line[..<open]))] = value
        }
        return out
    }

    static func count(_ v: Double) -> String { v == v.rounded() ? String(Int64(v)) : String(format: "%.1f", v) }

    static func bytes(_ v: Double) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var x = v
        var i = 0
        while x >= 1024 && i < units.count - 1 {
            x /= 1024
            i += 1
        }
        return i == 0 ? "\(Int64(x))B" : String(format: "%.1f%@", x, units[i])
    }
}
