// swift-tools-version:6.2
import PackageDescription

/// One list of settings for every target (see ../shared/style.md, habit 11).
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "centinela",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "centinela", targets: ["centinela"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/swiftlang/swift-subprocess.git", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.8.1"),
        // Tests only: the served OpenAPI document is read with a real YAML parser.
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
    ],
    targets: [
        // Pure domain: types, risk model, pattern detection. No I/O, no NIO. Crypto for the audit
        // log's tree and signed checkpoints, which are verified without a database (issue 24).
        .target(
            name: "CentinelaCore",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        // PostgreSQL: repositories, migrations, the embedded cluster.
        .target(
            name: "CentinelaStore",
            dependencies: [
                "CentinelaCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                // The embedded cluster's programs (initdb, pg_ctl) are run with it.
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: swiftSettings
        ),
        // HTTP: Hummingbird routes, health, problem+json, logging format, /metrics; webhooks out (AsyncHTTPClient);
        // the web console (server-rendered Mustache templates, message catalogs).
        .target(
            name: "CentinelaHTTP",
            dependencies: [
                "CentinelaCore",
                "CentinelaStore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("Resources/openapi.yaml"), .copy("Resources/docs"), .copy("Resources/console")],
            swiftSettings: swiftSettings
        ),
        // The simulated country, its loader and the demo: for `simulate`, `evaluate`, `serve --demo`
        // and the tests; the service's own modules never carry it.
        .target(
            name: "CentinelaSimulation",
            dependencies: [
                "CentinelaCore",
                "CentinelaStore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The one executable: argument parsing and wiring only.
        .executableTarget(
            name: "centinela",
            dependencies: [
                "CentinelaCore",
                "CentinelaStore",
                "CentinelaHTTP",
                "CentinelaSimulation",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Shared by the test targets: one PostgreSQL cluster per test run, a fresh database per suite.
        .target(
            name: "CentinelaTestSupport",
            dependencies: [
                "CentinelaCore",
                "CentinelaStore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Tests/CentinelaTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CentinelaCoreTests",
            dependencies: ["CentinelaCore", "CentinelaSimulation"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CentinelaStoreTests",
            dependencies: [
                "CentinelaCore", "CentinelaStore", "CentinelaSimulation", "CentinelaTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Runs the built `centinela` binary as an operator would: exit codes, messages, signals.
        .testTarget(
            name: "CentinelaCLITests",
            dependencies: [
                "centinela",
                "CentinelaCore",
                "CentinelaStore",
                "CentinelaTestSupport",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CentinelaHTTPTests",
            dependencies: [
                "CentinelaCore",
                "CentinelaHTTP",
                "CentinelaStore",
                "CentinelaTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
