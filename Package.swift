// swift-tools-version:6.1
import PackageDescription

/// Settings every Faultline target shares: Swift 6 language mode comes from the tools version; these add the
/// upcoming features the codebases we follow turn on.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "faultline",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "faultline", targets: ["faultline"]),
        .library(name: "FaultlineCore", targets: ["FaultlineCore"]),
        .library(name: "FaultlineServer", targets: ["FaultlineServer"]),
        .library(name: "FaultlineTesting", targets: ["FaultlineTesting"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-http2.git", from: "1.46.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // The scenario model, loader, validator and rule engine: pure Swift, no networking.
        .target(
            name: "FaultlineCore",
            dependencies: [
                .product(name: "Yams", package: "Yams"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: swiftSettings
        ),
        // System calls Swift cannot make directly: opening a body file beneath its folder (openat2).
        .target(name: "CFaultlineSystem"),
        // SwiftNIO channel handlers that carry out the engine's decisions over HTTP/1.1, and the upstream client of `proxy`.
        .target(
            name: "FaultlineServer",
            dependencies: [
                "FaultlineCore",
                "CFaultlineSystem",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                // The HTTP client of `proxy` rules.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: swiftSettings
        ),
        // Starts an in-process server from a test; imports neither XCTest nor Testing.
        .target(
            name: "FaultlineTesting",
            dependencies: [
                "FaultlineCore",
                "FaultlineServer",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The command line; `faultline ctl` talks to a running server's control API through AsyncHTTPClient.
        .executableTarget(
            name: "faultline",
            dependencies: [
                "CFaultlineSystem",
                "FaultlineCore",
                "FaultlineServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        // Raw-socket, curl and child-process helpers shared by the test targets; not a product.
        .target(
            name: "FaultlineTestSupport",
            path: "Tests/FaultlineTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FaultlineCoreTests",
            dependencies: [
                "FaultlineCore",
                // Certificates made at run time for `proxyCA`.
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FaultlineServerTests",
            dependencies: [
                "FaultlineCore",
                "FaultlineServer",
                "FaultlineTesting",
                "FaultlineTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: swiftSettings
        ),
        // Drives the built `faultline` executable and real clients (curl) over loopback sockets.
        .testTarget(
            name: "FaultlineEndToEndTests",
            dependencies: [
                "faultline",
                "FaultlineTestSupport",
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
