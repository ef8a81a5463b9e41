import Broker
import Foundation
import KafkaClient
import KafkaProtocol

// sluice: the broker and its tools in one executable, with Kafka's CLI conventions
// (`--bootstrap-server`, `--topic`, `--partitions`, `--config k=v`, ...).

let usage = """
    usage: sluice <command> [options]

      serve [--config server.properties] [--override key=value]...
      topics create   --topic T [--partitions N] [--replication-factor R] [--config k=v]... [--if-not-exists]
      topics list
      topics describe [--topic T]
      topics alter    --topic T [--partitions N] [--add-config k=v[,k=v]] [--delete-config k[,k]]
      topics delete   --topic T
      produce  --topic T [--partition P] [--key-separator S] [--header k=v]... [--acks 0|1|all]
               [--compression none|gzip|snappy|lz4|zstd] [--batch-records N]
               [--idempotent [--producer-id P --producer-epoch E --sequence S] [--send-each-batch N]]
                                                           (records are read from stdin, one per line)
      consume  --topic T [--partition P] [--from-beginning | --offset N] [--max-messages N]
               [--print-key] [--print-headers] [--print-offset] [--timeout-ms MS]
      groups list
      groups describe --group G [--state | --members]      (offsets, log end offsets and lag per partition)
      groups delete   --group G
      groups reset-offsets --group G (--topic T[:P,P...] ... | --all-topics)
               (--to-earliest | --to-latest | --to-offset N) [--execute]   (dry run without --execute)
      bench produce --topic T [--num-records N] [--record-size B] [--acks 0|1|all] [--partitions P]
               [--batch-size B] [--compression C] [--in-flight N] [--value-file F]
      bench consume --topic T [--num-records N]
      bench validation --schema-file F --value-file F [--batch-records N]   (CPU cost of schema validation)

      users add|passwd --user U [--password P] [--iterations N]   (password from stdin if not given)
      users list | users delete --user U        (offline, on --data-dir DIR or the config's log.dirs)
      acls lint [--policies DIR] [--super-user User:x]...
      acls explain --principal User:x --operation read --resource topic:NAME [--host IP] [--policies DIR]
               [--data-dir DIR]   (also the API-made rules of that data directory)
               [--allow-everyone-if-no-acl-found]   (as the broker property allow.everyone.if.no.acl.found=true)
      tenants list [--policies DIR]            (the tenants of policies/*.tenants: members, limits)
      tenants describe [--tenant T] [--policies DIR] [--data-dir DIR]   (limits; topics, partitions, bytes on disk)
      tenants usage [--metrics http://127.0.0.1:9404]   (live usage per tenant against its limits, from metrics.listeners)
      audit verify [--dir DATA_DIR | FILE...]    (hash chain of the audit log; names the first broken line)
      certs init [--dir certs] [--force] [--client NAME]...   (development CA, broker and client certificates)
      oauth validate --jwks FILE [--issuer I] [--audience A] [--sub-claim C] [--now-ms T]   (token on stdin)

      schemas register --subject S (--schema TEXT | --schema-file F) [--type AVRO|JSON]
               [--reference name=subject:version]... [--normalize]
      schemas list [--prefix P] [--deleted]
      schemas get (--subject S [--version V|latest] | --id N)
      schemas check --subject S (--schema TEXT | --schema-file F) [--type T] [--version V]  (exit 3: incompatible)
      schemas delete --subject S [--version V] [--permanent]
               (schema commands take --registry URL, default http://127.0.0.1:8081, and --user name:password)

    Client commands take --bootstrap-server host:port (default 127.0.0.1:9092) and, for a secured
    listener, --command-config FILE (security.protocol, sasl.mechanism, sasl.username, sasl.password,
    ssl.ca.location, ssl.certificate.location, ssl.key.location).
    """

/// Command-line options in Kafka's style: `--name value`, repeatable, and bare flags.
struct Options {
    var values: [String: [String]] = [:]
    var flags: Set<String> = []
    var positional: [String] = []

    static let bareFlags: Set<String> = [
        "from-beginning", "print-key", "print-headers", "print-offset", "if-not-exists", "help", "idempotent",
        "state", "members", "all-topics", "to-earliest", "to-latest", "execute", "dry-run", "force",
        "deleted", "permanent", "normalize", "allow-everyone-if-no-acl-found",
    ]

    init(_ args: ArraySlice<String>) throws(CLIError) {
        var i = args.startIndex
        while i < args.endIndex {
            let arg = args[i]
            if arg.hasPrefix("--") {
                var name = String(arg.dropFirst(2))
                if let eq = name.firstIndex(of: "="), !Self.bareFlags.contains(String(name[..<eq])) {
                    let value = String(name[name.index(after: eq)...])
                    name = String(name[..<eq])
                    values[name, default: []].append(value)
                } else if Self.bareFlags.contains(name) {
                    flags.insert(name)
                } else {
                    i += 1
                    guard i < args.endIndex else { throw CLIError("option --\(name) needs a value") }
                    values[name, default: []].append(args[i])
                }
            } else {
                positional.append(arg)
            }
            i += 1
        }
    }

    func string(_ name: String) -> String? { values[name]?.last }
    func all(_ name: String) -> [String] { values[name] ?? [] }
    func has(_ name: String) -> Bool { flags.contains(name) }

    func int(_ name: String, default value: Int) throws(CLIError) -> Int {
        guard let text = string(name) else { return value }
        guard let n = Int(text) else { throw CLIError("--\(name) expects a number, got '\(text)'") }
        return n
    }

    func required(_ name: String) throws(CLIError) -> String {
        guard let v = string(name) else { throw CLIError("missing --\(name)") }
        return v
    }

    var bootstrap: String { string("bootstrap-server") ?? string("broker-list") ?? "127.0.0.1:9092" }

    /// `--command-config FILE`: Kafka client properties for a secured listener (see ClientSecurity).
    func clientSecurity() throws -> ClientSecurity {
        guard let path = string("command-config") else { return ClientSecurity() }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw CLIError("cannot read --command-config \(path)")
        }
        return try ClientSecurity.parse(properties: text, source: path)
    }

    /// A client for the broker these options name.
    func client(clientId: String = "sluice-cli") throws -> KafkaClient {
        try KafkaClient(bootstrap: bootstrap, clientId: clientId, security: clientSecurity())
    }
}

struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("sluice: \(message)\n".utf8))
    exit(1)
}

func run() throws {
    var args = CommandLine.arguments.dropFirst()
    guard let command = args.first else {
        print(usage)
        exit(2)
    }
    args = args.dropFirst()
    // The broker and the CLI's clients alike build a buffer of a megabyte or more per request or
    // fetch; without this each one faulted in fresh pages (`sluice bench consume` ran at a third).
    ProcessMemory.keepFreedMemoryMapped()
    switch command {
    case "serve":
        try Serve.run(try Options(args))
    case "topics":
        guard let sub = args.first else { throw CLIError("topics needs a subcommand (create|list|describe|alter|delete)") }
        try Topics.run(sub, try Options(args.dropFirst()))
    case "groups":
        guard let sub = args.first else { throw CLIError("groups needs a subcommand (list|describe|delete|reset-offsets)") }
        try Groups.run(sub, try Options(args.dropFirst()))
    case "produce":
        try ConsoleProducer.run(try Options(args))
    case "consume":
        try ConsoleConsumer.run(try Options(args))
    case "bench":
        guard let sub = args.first else { throw CLIError("bench needs a subcommand (produce|consume)") }
        try Bench.run(sub, try Options(args.dropFirst()))
    case "users":
        guard let sub = args.first else { throw CLIError("users needs a subcommand (add|list|delete|passwd)") }
        try Users.run(sub, try Options(args.dropFirst()))
    case "acls":
        guard let sub = args.first else { throw CLIError("acls needs a subcommand (lint|explain)") }
        try Acls.run(sub, try Options(args.dropFirst()))
    case "tenants" where args.first == "usage":  // live usage, from the metrics endpoint (TenantUsage.swift)
        try TenantUsageCommand.run(try Options(args.dropFirst()))
    case "tenants":
        guard let sub = args.first else { throw CLIError("tenants needs a subcommand (list|describe|usage)") }
        try TenantsCommand.run(sub, try Options(args.dropFirst()))
    case "schemas":
        guard let sub = args.first else { throw CLIError("schemas needs a subcommand (register|list|get|check|delete)") }
        try Schemas.run(sub, try Options(args.dropFirst()))
    case "audit":
        guard let sub = args.first else { throw CLIError("audit needs a subcommand (verify)") }
        try AuditCommand.run(sub, try Options(args.dropFirst()))
    case "certs":
        guard let sub = args.first else { throw CLIError("certs needs a subcommand (init)") }
        try CertsCommand.run(sub, try Options(args.dropFirst()))
    case "oauth":
        guard let sub = args.first else { throw CLIError("oauth needs a subcommand (validate)") }
        try OAuthCommand.run(sub, try Options(args.dropFirst()))
    case "help", "--help", "-h":
        print(usage)
    default:
        throw CLIError("unknown command '\(command)'\n\(usage)")
    }
}

do {
    try run()
} catch {
    fail("\(error)")
}
