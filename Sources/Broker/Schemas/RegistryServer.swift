import HTTPServer

extension BrokerConfig {
    /// A comma-separated listener property as a list (empty when unset).
    public func listeners(of key: String) -> [String] {
        (string(key) ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}

extension BrokerServer {
    /// The HTTP server for `schema.registry.listeners`. `https://` listeners need the TLS
    /// transport, which is not wired yet: `start` refuses them with a clear message.
    static func makeRegistryServer(config: BrokerConfig, broker: Broker) throws -> HTTPServer? {
        guard let service = broker.schemaRegistry else { return nil }
        var addresses: [HTTPListenerAddress] = []
        for text in config.listeners(of: "schema.registry.listeners") {
            switch HTTPListenerAddress.parse(text) {
            case .success(let a): addresses.append(a)
            case .failure(let e): throw ConfigError("schema.registry.listeners: \(e.message)")
            }
        }
        for a in addresses where a.scheme == "https" {
            throw ConfigError("schema.registry.listeners: \(a) needs TLS, which the registry listener does not support yet "
                              + "(use http://)")
        }
        let front = RegistryHTTPFront(service: service, security: broker.security,
                                      basicAuth: config.string("schema.registry.authentication.method") == "BASIC")
        var options = HTTPServerOptions()
        options.name = "registry"
        return HTTPServer(listeners: addresses, options: options) { request, connection in
            front.handle(request, connection)
        }
    }

    /// Bound ports of the registry listeners, in order (empty without a registry).
    public var registryPorts: [Int] { registryHTTP?.boundPorts ?? [] }
}
