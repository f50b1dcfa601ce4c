// swift-tools-version: 6.1
import PackageDescription

// Dependency direction (see docs/architecture.md):
//   FilamentCore -> FilamentWire -> FilamentEngine -> {FilamentSim, daemon runtime}
//   FilamentCrypto (libsodium) and FilamentState (files) sit beside the engine.
// C lives only in CSodium, CNetlink and CFilamentShim.

let package = Package(
    name: "Filament",
    products: [
        .library(name: "FilamentEngine", targets: ["FilamentEngine"]),
        .executable(name: "filament-sim", targets: ["filament-sim"]),
        .executable(name: "filament-lab", targets: ["filament-lab"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
    ],
    targets: [
        // MARK: C
        .systemLibrary(
            name: "CSodium", path: "Sources/CSodium", pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]),
        .systemLibrary(
            name: "CNetlink", path: "Sources/CNetlink", pkgConfig: "libnl-route-3.0",
            providers: [.apt(["libnl-3-dev", "libnl-route-3-dev"])]),
        .target(name: "CFilamentShim", path: "Sources/CFilamentShim"),

        // MARK: pure Swift, no I/O
        .target(name: "FilamentCore"),
        .target(name: "FilamentWire", dependencies: ["FilamentCore"]),
        .target(name: "FilamentEngine", dependencies: ["FilamentCore", "FilamentWire"]),

        // MARK: beside the engine
        .target(name: "FilamentCrypto", dependencies: ["FilamentCore", "CSodium"]),
        .target(name: "FilamentState", dependencies: ["FilamentCore", "FilamentCrypto"]),

        // MARK: daemon
        .target(
            name: "FilamentDaemon",
            dependencies: ["FilamentCore", "FilamentWire", "FilamentEngine", "FilamentCrypto", "FilamentState",
                           .product(name: "Yams", package: "Yams")]),

        // MARK: simulator
        .target(
            name: "FilamentSim",
            dependencies: ["FilamentCore", "FilamentWire", "FilamentEngine", "FilamentCrypto"],
            path: "firmware-sim/Sources/FilamentSim"),
        .executableTarget(
            name: "filament-sim",
            dependencies: [
                "FilamentSim",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "firmware-sim/Sources/filament-sim"),

        // MARK: emulation lab (real daemons in network namespaces; see docs/lab.md)
        .target(name: "FilamentLab", path: "firmware-sim/lab/Sources/FilamentLab"),
        .executableTarget(
            name: "filament-lab",
            dependencies: ["FilamentLab", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "firmware-sim/lab/Sources/filament-lab"),

        // MARK: tests
        .testTarget(
            name: "FilamentCoreTests",
            dependencies: ["FilamentCore", .product(name: "PropertyBased", package: "swift-property-based")]),
        .testTarget(
            name: "FilamentWireTests",
            dependencies: ["FilamentWire", .product(name: "PropertyBased", package: "swift-property-based")]),
        .testTarget(
            name: "FilamentCryptoTests",
            dependencies: ["FilamentCrypto"],
            resources: [.copy("Vectors")]),
        .testTarget(name: "FilamentStateTests", dependencies: ["FilamentState"]),
        .testTarget(
            name: "FilamentEngineTests",
            dependencies: ["FilamentEngine", .product(name: "PropertyBased", package: "swift-property-based")]),
        .testTarget(name: "FilamentDaemonTests", dependencies: ["FilamentDaemon"]),
        .testTarget(name: "FilamentLabTests", dependencies: ["FilamentLab"]),
        .testTarget(name: "FilamentSimTests", dependencies: ["FilamentSim"], path: "firmware-sim/Tests/FilamentSimTests"),
    ]
)
