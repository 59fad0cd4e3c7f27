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
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // C libraries from Debian: libfftw3-dev (single precision) and libcurl4-openssl-dev.
        .systemLibrary(name: "CFFTW3", pkgConfig: "fftw3f", providers: [.apt(["libfftw3-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),

        // Vectorised hot loops of the search (AVX2 chosen at run time, scalar elsewhere).
        .target(name: "CSearchKernels", cSettings: [.unsafeFlags(["-O2"])]),

        // The science: formats, dedispersion, FFT search, sifting, folding, simulation.
        .target(name: "PulsarSearch", dependencies: ["CFFTW3", "CSearchKernels"], swiftSettings: optimisedInDebug),

        // The astronomer's and volunteer's command line.
        .executableTarget(
            name: "xunxing",
            dependencies: [
                "PulsarSearch",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        .testTarget(name: "PulsarSearchTests", dependencies: ["PulsarSearch", "CSearchKernels"], swiftSettings: optimisedInDebug),
    ]
)
