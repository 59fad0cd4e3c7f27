// swift-tools-version:6.1
import PackageDescription

/// The science core is compiled with optimisation even in debug builds: the test suite runs real
/// searches over simulated observations, and unoptimised Swift is 20-50x slower in those loops.
let optimisedInDebug: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]

let package = Package(
    name: "xunxing",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "PulsarSearch", targets: ["PulsarSearch"]),
        .executable(name: "xunxing", targets: ["xunxing"]),
        .executable(name: "xunxing-coordinator", targets: ["xunxing-coordinator"]),
        .executable(name: "xunxing-worker", targets: ["xunxing-worker"]),
        .executable(name: "xunxing-loadgen", targets: ["xunxing-loadgen"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // Without the default ConfigurationSupport trait: nothing here reads swift-configuration,
        // and building it (with the parts of swift-collections it pulls in) cost minutes of every
        // cold build.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: ["FullFoundation"]),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/vapor/sql-kit", from: "3.36.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
    ],
    targets: [
        // C libraries from Debian: FFTW (single precision), libcurl, CFITSIO, OpenSSL's libcrypto
        // (SHA-256, HMAC), SQLite and libpq. Swift packages that bundle their own (swift-crypto,
        // and postgres-nio through swift-nio-ssl, each with a copy of BoringSSL; sqlite-nio with
        // SQLite's amalgamation) made up a third of every cold build's CPU time.
        .systemLibrary(name: "CFFTW3", pkgConfig: "fftw3f", providers: [.apt(["libfftw3-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CCFITSIO", pkgConfig: "cfitsio", providers: [.apt(["libcfitsio-dev"])]),
        .systemLibrary(name: "CLibCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CSQLite3", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),

        // Vectorised hot loops of the search (AVX2 chosen at run time, scalar elsewhere).
        .target(name: "CSearchKernels", cSettings: [.unsafeFlags(["-O2"])]),

        // The science: formats, dedispersion, FFT search, sifting, folding, simulation.
        .target(name: "PulsarSearch", dependencies: ["CFFTW3", "CCFITSIO", "CSearchKernels"], swiftSettings: optimisedInDebug),

        // Wire types shared by coordinator, worker and command line, and the work-unit payload format.
        .target(name: "XunxingProtocol", dependencies: ["PulsarSearch", "CSearchKernels"], swiftSettings: optimisedInDebug),

        // Work-unit policy: presets, cost model, splitting plans, replica comparison.
        .target(name: "WorkUnits", dependencies: ["PulsarSearch", "XunxingProtocol"], swiftSettings: optimisedInDebug),

        // One of each small helper every part needs: a locked box, waiting for blocking work off
        // the concurrency pool, SHA-256 of a file, backoff with jitter.
        .target(name: "XunxingSupport", dependencies: ["CLibCrypto"]),

        // Text escaped for HTML and XML, and SVG charts: the pages', the exports' and the plots' one copy.
        .target(name: "XunxingMarkup", dependencies: ["PulsarSearch"]),

        // HTTP over libcurl: JSON requests, streamed uploads, resumable downloads.
        .target(
            name: "XunxingHTTPClient",
            dependencies: ["CCurl"]
        ),

        // Typed calls to the coordinator's API (command line, worker, tests).
        .target(name: "XunxingClient", dependencies: ["XunxingHTTPClient", "XunxingProtocol", "PulsarSearch"]),

        // The coordinator's database: one schema and one set of queries, versioned migrations;
        // SQLite by default, PostgreSQL for several coordinators on one project.
        .target(
            name: "CoordinatorStore",
            dependencies: [
                "XunxingProtocol", "CSQLite3", "CLibPQ",
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // The coordinator's domain, one service per role (submission, splitter, scheduler,
        // replication, validator, assimilator, hours ledger, profile sync, accounts, exports) and
        // the background jobs that drive them. No HTTP: errors are DomainError, time is a clock.
        .target(
            name: "CoordinatorCore",
            dependencies: [
                "CoordinatorStore", "WorkUnits", "XunxingProtocol", "PulsarSearch", "XunxingHTTPClient", "XunxingSupport", "XunxingMarkup",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // The coordinator's HTTP layer: routes, authentication, rate limits, web pages, and the
        // one mapping of domain errors to status codes.
        .target(
            name: "CoordinatorService",
            dependencies: [
                "CoordinatorCore", "CoordinatorStore", "WorkUnits", "XunxingProtocol", "PulsarSearch", "XunxingSupport", "XunxingMarkup",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            resources: [.copy("openapi.yaml")]
        ),

        // The astronomer's and volunteer's command line.
        .executableTarget(
            name: "xunxing",
            dependencies: [
                "PulsarSearch", "XunxingProtocol", "XunxingHTTPClient", "XunxingClient", "WorkUnits", "XunxingSupport", "XunxingMarkup",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "xunxing-coordinator",
            dependencies: [
                "CoordinatorService", "CoordinatorCore", "CoordinatorStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // The volunteer's worker: state directory, task store, checkpoints, backoff, host policies, run loop.
        .target(
            name: "Worker",
            dependencies: [
                "XunxingClient", "XunxingHTTPClient", "XunxingProtocol", "WorkUnits", "PulsarSearch", "XunxingSupport",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "xunxing-worker",
            dependencies: [
                "Worker", "XunxingClient", "XunxingSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // Load and fault generation: synthetic work, simulated host fleets, a misbehaving proxy, audits.
        .target(
            name: "LoadGeneration",
            dependencies: [
                "CoordinatorStore", "XunxingHTTPClient", "XunxingProtocol", "PulsarSearch", "WorkUnits", "XunxingClient",
                "XunxingSupport",
            ]
        ),
        .executableTarget(
            name: "xunxing-loadgen",
            dependencies: [
                "LoadGeneration", "CoordinatorStore", "XunxingSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // Shared by the test targets: a real coordinator on loopback and hosts that speak its protocol.
        .target(
            name: "CoordinatorTestSupport",
            dependencies: [
                "CoordinatorService", "CoordinatorCore", "CoordinatorStore", "XunxingProtocol", "XunxingClient", "XunxingHTTPClient",
                "WorkUnits", "PulsarSearch", "LoadGeneration", "XunxingSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // The parsers of untrusted bytes as fuzz targets with their contracts, seed corpora and a
        // deterministic mutation fuzzer; scripts/fuzz.sh links them into libFuzzer for the full runs.
        .target(name: "FuzzTargets", dependencies: ["PulsarSearch", "XunxingProtocol", "WorkUnits"], swiftSettings: optimisedInDebug),

        .testTarget(name: "PulsarSearchTests", dependencies: ["PulsarSearch", "CSearchKernels", "XunxingSupport"], swiftSettings: optimisedInDebug),
        .testTarget(name: "FuzzTests", dependencies: ["FuzzTargets", "PulsarSearch", "XunxingProtocol"], swiftSettings: optimisedInDebug),
        .testTarget(name: "WorkUnitsTests", dependencies: ["WorkUnits", "XunxingProtocol", "PulsarSearch", "CSearchKernels"]),
        .testTarget(
            name: "HTTPClientTests",
            dependencies: [
                "XunxingHTTPClient", "XunxingSupport", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "CoordinatorTests",
            dependencies: [
                "CoordinatorTestSupport", "CoordinatorService", "CoordinatorCore", "CoordinatorStore", "XunxingProtocol", "XunxingHTTPClient",
                "XunxingClient", "WorkUnits", "PulsarSearch", "LoadGeneration", "XunxingSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
        .testTarget(
            name: "WorkerTests",
            dependencies: [
                "Worker", "CoordinatorTestSupport", "CoordinatorService", "CoordinatorCore", "CoordinatorStore", "XunxingClient",
                "XunxingProtocol", "WorkUnits", "PulsarSearch", "XunxingSupport", .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ]
)
