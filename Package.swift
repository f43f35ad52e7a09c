// swift-tools-version: 6.2
// Expansion Keeper: the keeper daemon, its operator CLI and its libraries.
// Layering (see README "Modules"): a module imports only modules of a lower layer.
//   0  CCurl, CSecp256k1 (system libraries)   EthereumCore (pure values)
//   1  EthereumABI
//   2  EthereumSigning   JSONRPC
//   2  KeeperStore (SQLite via GRDB, PostgreSQL via postgres-nio)
//   3  KeeperCore → KeeperIngest → KeeperPlanning → KeeperSubmission → KeeperOperations (one responsibility each)
//   3  KeeperAPI (the stakers' API and app; reads KeeperStore, needs only KeeperCore)
//   4  expansion-keeper (CLI)
//   -  KeeperBench (benchmarks), KeeperFuzz (libFuzzer, opt-in)
import PackageDescription
import Foundation

let strict: [SwiftSetting] = [.treatAllWarnings(as: .error)]

var targets: [Target] = [
    // Layer 0: C libraries from Debian, wrapped by exactly one Swift module each.
    .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
    .systemLibrary(name: "CSecp256k1", pkgConfig: "libsecp256k1", providers: [.apt(["libsecp256k1-dev"])]),
    .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),

    // Layer 0: pure Ethereum values, no I/O.
    .target(name: "EthereumCore", swiftSettings: strict),
    // Layer 1: the ABI codec.
    .target(name: "EthereumABI", dependencies: ["EthereumCore"], swiftSettings: strict),
    // Layer 2: keys, signing, transactions, keystores.
    .target(
        name: "EthereumSigning",
        dependencies: [
            "EthereumCore", "CSecp256k1",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
        ],
        swiftSettings: strict),
    // Layer 2: JSON-RPC over libcurl.
    .target(name: "JSONRPC", dependencies: ["EthereumCore", "CCurl"], swiftSettings: strict),

    // Layer 2: the keeper's store (schema, migrations, repositories) in SQLite via GRDB or PostgreSQL via postgres-nio,
    // and the HA leader lease.
    .target(name: "KeeperStore",
            dependencies: [
                "EthereumCore", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict),
    // Layer 3: the keeper, one module per responsibility (deploy/docs/developer-guide.md, "Modules and layering").
    // 3a KeeperCore: the validated config, the contract bindings, the chain reader, engine errors, output helpers.
    .target(
        name: "KeeperCore",
        dependencies: ["EthereumCore", "EthereumABI", "JSONRPC", .product(name: "TOMLKit", package: "TOMLKit")],
        swiftSettings: strict),
    // 3b KeeperIngest: ingestion, reorgs, the registry and the planner of intents.
    .target(
        name: "KeeperIngest",
        dependencies: [
            "EthereumCore", "EthereumABI", "JSONRPC", "KeeperStore", "KeeperCore",
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
        ],
        swiftSettings: strict),
    // 3c KeeperPlanning: what would be sent now (plan), the reports (status, registrations) and audit.
    .target(
        name: "KeeperPlanning",
        dependencies: ["EthereumCore", "EthereumABI", "JSONRPC", "KeeperStore", "KeeperCore", "KeeperIngest"],
        swiftSettings: strict),
    // 3d KeeperSubmission: batches, fees, nonces, the journal's use, tracking and settling transactions.
    .target(
        name: "KeeperSubmission",
        dependencies: [
            "EthereumCore", "EthereumABI", "JSONRPC", "KeeperStore", "KeeperCore", "KeeperIngest", "KeeperPlanning",
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
        ],
        swiftSettings: strict),
    // 3e KeeperOperations: metrics, health, the HTTP server, systemd notify, logging, the run-time services.
    .target(
        name: "KeeperOperations",
        dependencies: [
            "EthereumCore", "JSONRPC", "KeeperStore", "KeeperCore", "KeeperIngest", "KeeperSubmission",
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Hummingbird", package: "hummingbird"),
        ],
        swiftSettings: strict),

    // 3f KeeperAPI: the stakers' read API and app over Hummingbird 2 (reads the store; owns [api]).
    .target(
        name: "KeeperAPI",
        dependencies: [
            "EthereumCore", "KeeperStore", "KeeperCore",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
        ],
        swiftSettings: strict),

    // Layer 4: the operator CLI and daemon.
    .executableTarget(
        name: "expansion-keeper",
        dependencies: [
            "EthereumCore", "EthereumABI", "EthereumSigning", "JSONRPC",
            "KeeperStore", "KeeperCore", "KeeperIngest", "KeeperPlanning", "KeeperSubmission", "KeeperOperations", "KeeperAPI",
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ],
        swiftSettings: strict),

    // Test and benchmark support only (seeded randomness, paths, Python oracles, processes).
    .target(name: "KeeperTesting", swiftSettings: strict),

    // Benchmarks: every figure beside a reference measured in the same run.
    .executableTarget(
        name: "KeeperBench",
        dependencies: [
            "KeeperTesting", "EthereumCore", "EthereumABI", "EthereumSigning", "JSONRPC", "COpenSSL", "CSecp256k1",
            "KeeperStore", "KeeperCore", "KeeperIngest", "KeeperPlanning", "KeeperSubmission", "KeeperOperations", "KeeperAPI",
            .product(name: "MallocInterposerSwift", package: "malloc-interposer"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ],
        swiftSettings: strict),

    .testTarget(name: "EthereumCoreTests", dependencies: ["KeeperTesting", "EthereumCore"], resources: [.copy("Vectors")],
                swiftSettings: strict),
    .testTarget(name: "EthereumABITests", dependencies: ["KeeperTesting", "EthereumCore", "EthereumABI"], resources: [.copy("Vectors")],
                swiftSettings: strict),
    .testTarget(name: "EthereumSigningTests", dependencies: ["KeeperTesting", "EthereumCore", "EthereumSigning"], resources: [.copy("Vectors")],
                swiftSettings: strict),
    .testTarget(name: "JSONRPCTests", dependencies: ["KeeperTesting", "EthereumCore", "JSONRPC"], resources: [.copy("Vectors")],
                swiftSettings: strict),
    .testTarget(name: "KeeperStoreTests", dependencies: ["KeeperTesting", "EthereumCore", "KeeperStore"], swiftSettings: strict),
    .testTarget(name: "KeeperEngineTests", dependencies: ["KeeperTesting", "EthereumCore", "EthereumABI", "JSONRPC", "KeeperStore", "KeeperCore", "KeeperIngest",
                                                          "KeeperPlanning", "KeeperSubmission", "KeeperOperations"],
                swiftSettings: strict),
    .testTarget(name: "OperationsTests",
                dependencies: ["EthereumCore", "JSONRPC", "KeeperStore", "KeeperCore", "KeeperIngest", "KeeperPlanning",
                               "KeeperSubmission", "KeeperOperations",
                               .product(name: "Logging", package: "swift-log"),
                               .product(name: "Metrics", package: "swift-metrics"),
                               .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
                swiftSettings: strict),
    .testTarget(name: "APITests",
                dependencies: ["EthereumCore", "KeeperStore", "KeeperCore", "KeeperAPI",
                               .product(name: "Logging", package: "swift-log"),
                               .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
                swiftSettings: strict),
    .testTarget(name: "CLITests", dependencies: ["KeeperTesting", "EthereumCore", "expansion-keeper"], swiftSettings: strict),
]

// libFuzzer targets are built only by deploy/dev/fuzz.sh (they need -sanitize=fuzzer, which supplies main()).
if ProcessInfo.processInfo.environment["EXPANSION_KEEPER_FUZZ"] != nil {
    targets.append(.executableTarget(name: "KeeperFuzz", dependencies: ["EthereumCore", "EthereumABI"],
                                     path: "Tests/Fuzz/KeeperFuzz", swiftSettings: strict))
}

let package = Package(
    name: "expansion-keeper",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "expansion-keeper", targets: ["expansion-keeper"]),
        .executable(name: "KeeperBench", targets: ["KeeperBench"]),
        .library(name: "EthereumCore", targets: ["EthereumCore"]),
        .library(name: "EthereumABI", targets: ["EthereumABI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        // Counts heap allocations in KeeperBench (LD_PRELOADed by the benchmark itself).
        .package(url: "https://github.com/ordo-one/malloc-interposer", from: "1.6.1"),
        // The keeper's store, config, services and logs.
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        // The store in PostgreSQL (several keepers, one leader): postgres-nio and its TLS.
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // Operations: Prometheus metrics through swift-metrics.
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // The daemon's one HTTP stack (/metrics and the stakers' API and app): Hummingbird 2 on SwiftNIO.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: targets
)
