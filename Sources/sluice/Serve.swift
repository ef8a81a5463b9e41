import Broker
import Foundation

/// `sluice serve`: with no arguments, one node on 127.0.0.1:9092 with data in ./data.
enum Serve {
    /// Unbuffered status lines, so a supervisor sees them at once.
    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static func run(_ options: Options) throws {
        var config = BrokerConfig()
        if let path = options.string("config") {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw CLIError("cannot read config file \(path)")
            }
            config = try BrokerConfig.parse(properties: text, source: path)
        }
        try config.apply(overrides: options.all("override"))
        SignalWaiter.blockTerminationSignals()
        let server = try BrokerServer(config: config)
        try server.start()
        let endpoints = zip(config.listenerSpecs, server.boundPorts).map { "\($0.name)://\($0.host):\($1)" }
        say("sluice: serving \(endpoints.joined(separator: ", ")) with data in \(config.logDirectory) "
            + "(cluster \(server.broker.metadata.clusterId))")
        let registry = config.listeners(of: "schema.registry.listeners")
        if !registry.isEmpty {
            let bound = zip(registry, server.registryPorts).map { text, port in
                text.hasSuffix(":0") ? String(text.dropLast(1)) + String(port) : text
            }
            say("sluice: schema registry at \(bound.joined(separator: ", "))")
        }
        let signal = SignalWaiter.waitForTermination()
        say("sluice: signal \(signal), shutting down")
        server.shutdown()
        say("sluice: stopped")
    }
}
