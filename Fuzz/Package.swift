// swift-tools-version: 6.1
// libFuzzer targets for Sluice's parsers. Build and run through `make fuzz` (root Makefile):
//   swift build -c debug -Xswiftc -sanitize=fuzzer,address --package-path Fuzz
// The entry points live in FuzzEntryPoints so the root package's tests can replay
// Fuzz/FailCases without the sanitizer (Tests/KafkaProtocolTests links the same file).
import Foundation
import PackageDescription

// A path dependency's identity is its directory name, which differs between worktrees.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
let rootIdentity = root.lastPathComponent

let settings: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "SluiceFuzz",
    dependencies: [.package(path: "..")],
    targets: [
        .target(name: "FuzzEntryPoints",
                dependencies: [.product(name: "KafkaProtocol", package: rootIdentity),
                               .product(name: "Compression", package: rootIdentity)],
                swiftSettings: settings),
        .target(name: "CFuzzerDriver"),
        .executableTarget(name: "FuzzRequestDecode", dependencies: ["FuzzEntryPoints", "CFuzzerDriver"], swiftSettings: settings),
        .executableTarget(name: "FuzzRecordBatches", dependencies: ["FuzzEntryPoints", "CFuzzerDriver"], swiftSettings: settings),
        .executableTarget(name: "FuzzDecompress", dependencies: ["FuzzEntryPoints", "CFuzzerDriver"], swiftSettings: settings),
    ]
)
