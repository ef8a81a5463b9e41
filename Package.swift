// swift-tools-version: 6.1
// Sluice: a Kafka-protocol broker. No third-party Swift packages: only the toolchain and
// Debian's C libraries through system-library targets.
import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .unsafeFlags(["-warnings-as-errors"]),
]

let package = Package(
    name: "Sluice",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "sluice", targets: ["sluice"]),
        .executable(name: "KafkaCodegen", targets: ["KafkaCodegen"]),
        // For the fuzz package (Fuzz/), which depends on this one by path.
        .library(name: "KafkaProtocol", targets: ["KafkaProtocol"]),
        .library(name: "Compression", targets: ["Compression"]),
    ],
    targets: [
        // C shims: epoll/eventfd/timerfd/sendfile headers Glibc does not expose, and CRC-32C with SSE4.2.
        .target(name: "CShims", path: "Sources/CShims"),
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL", pkgConfig: "openssl",
                       providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CZstd", path: "Sources/CZstd", pkgConfig: "libzstd",
                       providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CLZ4", path: "Sources/CLZ4", pkgConfig: "liblz4",
                       providers: [.apt(["liblz4-dev"])]),
        .systemLibrary(name: "CSnappy", path: "Sources/CSnappy",
                       providers: [.apt(["libsnappy-dev"])]),
        .target(name: "Compression", dependencies: ["CZlib", "CZstd", "CLZ4", "CSnappy"],
                exclude: ["README.md"], swiftSettings: strict),
        .target(name: "KafkaProtocol", dependencies: ["CShims", "Compression"],
                exclude: ["README.md"], swiftSettings: strict),
        .target(name: "LogStore", dependencies: ["KafkaProtocol", "Compression", "CShims"],
                exclude: ["README.md"], swiftSettings: strict),
        // Java-properties text (server.properties, client --command-config files).
        .target(name: "Properties", swiftSettings: strict),
        .target(name: "KafkaClient", dependencies: ["KafkaProtocol", "Properties", "Security", "TLS"],
                exclude: ["README.md"], swiftSettings: strict),
        // OpenSSL TLS on non-blocking sockets: contexts from PEM files, one stream per connection.
        .target(name: "TLS", dependencies: ["COpenSSL"], exclude: ["README.md"], swiftSettings: strict),
        .target(name: "Broker", dependencies: ["KafkaProtocol", "LogStore", "CShims", "Properties", "Security", "TLS", "SchemaRegistry", "HTTPServer"],
                exclude: ["README.md"], swiftSettings: strict),
        // Pure (sans-I/O): KRaft's metadata records framed for the metadata log, replayed into an
        // immutable image, and the controller's decisions (placement, fencing, ISR) as functions of it.
        .target(name: "ClusterMetadata", dependencies: ["KafkaProtocol"], exclude: ["README.md"], swiftSettings: strict),
        // Pure KRaft state machine (roles, epochs, pre-vote, fetch-based replication, snapshots):
        // events and `now` in, effects out.
        .target(name: "Raft", exclude: ["README.md"], swiftSettings: strict),
        // Pure transaction coordinator (KIP-98 state machine over `__transaction_state`): requests,
        // appends' outcomes, marker acknowledgements and `now` in, effects out.
        .target(name: "TransactionCoordinator", dependencies: ["KafkaProtocol"], exclude: ["README.md"],
                swiftSettings: strict),
        // The Raft core's I/O edge: its messages on Kafka's wire (quorum RPCs, record batches) and its
        // durable state (quorum-state file, the __cluster_metadata-0 log, snapshot checkpoints).
        .target(name: "Quorum", dependencies: ["Raft", "KafkaProtocol", "LogStore"], exclude: ["README.md"], swiftSettings: strict),
        .target(name: "SchemaRegistry", exclude: ["README.md"], swiftSettings: strict),
        // A small blocking HTTP/1.1 server (schema registry, metrics) with a transport seam for TLS.
        .target(name: "HTTPServer", exclude: ["README.md"], swiftSettings: strict),
        // SASL mechanisms, credential store, ACL engine and policy files (sans-I/O apart from file load/save).
        .target(name: "Security", dependencies: ["COpenSSL"], exclude: ["README.md"], swiftSettings: strict),
        .executableTarget(name: "sluice", dependencies: ["Broker", "KafkaClient", "KafkaProtocol", "Compression", "Security", "HTTPServer", "SchemaRegistry"], swiftSettings: strict),
        .executableTarget(name: "KafkaCodegen", swiftSettings: strict),
        // Golden/ holds hex vectors the tests read through #filePath, so they are not resources.
        // FuzzEntryPoints.swift is a link to Fuzz/'s entry points (replaying Fuzz/FailCases), which
        // use Compression directly.
        .testTarget(name: "KafkaProtocolTests", dependencies: ["KafkaProtocol", "Compression"], exclude: ["Golden"],
                    swiftSettings: strict),
        .testTarget(name: "CompressionTests", dependencies: ["Compression"], swiftSettings: strict),
        .testTarget(name: "LogStoreTests", dependencies: ["LogStore"], swiftSettings: strict),
        .testTarget(name: "ClusterMetadataTests", dependencies: ["ClusterMetadata", "KafkaProtocol"], swiftSettings: strict),
        .testTarget(name: "SchemaRegistryTests", dependencies: ["SchemaRegistry"], swiftSettings: strict),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer"], swiftSettings: strict),
        .testTarget(name: "SecurityTests", dependencies: ["Security"], swiftSettings: strict),
        .testTarget(name: "RaftTests", dependencies: ["Raft"], swiftSettings: strict),
        .testTarget(name: "TransactionCoordinatorTests", dependencies: ["TransactionCoordinator", "KafkaProtocol"],
                    swiftSettings: strict),
        .testTarget(name: "QuorumTests", dependencies: ["Quorum", "Raft", "KafkaProtocol", "LogStore"], swiftSettings: strict),
        .testTarget(name: "BrokerTests", dependencies: ["Broker", "KafkaClient", "Properties", "Security", "TLS", "SchemaRegistry", "HTTPServer", "Compression"], swiftSettings: strict),
    ]
)
