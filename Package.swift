// swift-tools-version: 6.1
import PackageDescription

// Dependency direction (see docs/architecture.md):
//   FilamentCore -> FilamentWire -> FilamentEngine -> {FilamentSim, daemon runtime}
//   FilamentCrypto (libsodium) and FilamentState (files) sit beside the engine.
// C lives only in CSodium, CNetlink, CYAML and CFilamentShim.

let package = Package(
    name: "Filament",
    products: [
        .library(name: "FilamentEngine", targets: ["FilamentEngine"]),
        .executable(name: "filament-sim", targets: ["filament-sim"]),
        .executable(name: "filamentctl", targets: ["filamentctl"]),
        .executable(name: "filamentd", targets: ["filamentd"]),
        .executable(name: "filament-lab", targets: ["filament-lab"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
    ],
    targets: [
        // MARK: C
        .systemLibrary(
            name: "CSodium", path: "Sources/CSodium", pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]),
        .systemLibrary(
            name: "CNetlink", path: "Sources/CNetlink", pkgConfig: "libnl-route-3.0",
            providers: [.apt(["libnl-3-dev", "libnl-route-3-dev"])]),
        .systemLibrary(
            name: "CYAML", path: "Sources/CYAML", pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"])]),
        .target(name: "CFilamentShim", path: "Sources/CFilamentShim"),
        .target(name: "CFilamentBenchAlloc", path: "Sources/CFilamentBenchAlloc"),

        // MARK: pure Swift, no I/O
        .target(name: "FilamentCore"),
        .target(name: "FilamentWire", dependencies: ["FilamentCore"]),
        .target(name: "FilamentEngine", dependencies: ["FilamentCore", "FilamentWire"]),

        // MARK: beside the engine
        .target(name: "FilamentCrypto", dependencies: ["FilamentCore", "CSodium"]),
        // The one retry/classify helper every system call goes through (STYLE.md).
        .target(name: "FilamentSystem"),
        .target(name: "FilamentState", dependencies: ["FilamentCore", "FilamentCrypto", "FilamentSystem"]),
        // Crash-test helper for FilamentStateTests: increments a PersistentCounter until killed.
        .executableTarget(name: "filament-state-torture", dependencies: ["FilamentState"]),

        // MARK: daemon
        // The configuration file's YAML: libyaml events to a bounded tree with positions (decision 0515).
        .target(name: "FilamentYAML", dependencies: ["CYAML"], swiftSettings: controlPlaneSize),
        // One node without I/O: link layer + engine + codec (used by filamentd and the simulator).
        .target(name: "FilamentNode", dependencies: ["FilamentCore", "FilamentWire", "FilamentEngine", "FilamentCrypto"]),
        .target(
            name: "FilamentDaemon",
            dependencies: ["FilamentCore", "FilamentWire", "FilamentEngine", "FilamentCrypto", "FilamentState",
                           "FilamentNode", "FilamentLinux", "FilamentControl",
                           "FilamentYAML"]),
        .executableTarget(
            name: "filamentd",
            dependencies: ["FilamentDaemon", "FilamentCore", "FilamentCrypto", "FilamentState"]),

        .target(name: "FilamentControl", swiftSettings: controlPlaneSize),
        .executableTarget(
            name: "filamentctl",
            dependencies: ["FilamentControl", .product(name: "ArgumentParser", package: "swift-argument-parser")]),

        // MARK: Linux building blocks of the daemon (sockets, epoll, TUN, netlink)
        .target(name: "FilamentLinux", dependencies: ["FilamentCore", "FilamentSystem", "CFilamentShim", "CNetlink"]),
        .executableTarget(name: "filament-bench-udp", dependencies: ["FilamentLinux"]),

        // MARK: benchmarks (release builds only; docs/benchmarks.md)
        .executableTarget(
            name: "filament-bench-engine",
            dependencies: ["FilamentEngine", "FilamentCore", "FilamentWire", "CFilamentBenchAlloc",
                           .product(name: "HeapModule", package: "swift-collections")]),
        // MARK: benchmarks (release builds only; see docs/benchmarks.md)
        .target(name: "CFilamentBench", dependencies: ["CSodium"], path: "Sources/CFilamentBench"),
        .executableTarget(
            name: "filament-bench-crypto",
            dependencies: ["FilamentCrypto", "FilamentCore", "CFilamentBench"],
            path: "Sources/filament-bench-crypto",
            linkerSettings: [.linkedLibrary("m")]),

        // MARK: simulator
        .target(
            name: "FilamentSim",
            dependencies: ["FilamentCore", "FilamentWire", "FilamentEngine", "FilamentCrypto",
                           .product(name: "HeapModule", package: "swift-collections")],
            path: "firmware-sim/Sources/FilamentSim"),
        .executableTarget(
            name: "filament-sim",
            dependencies: [
                "FilamentSim", "CFilamentShim",
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
        .testTarget(name: "FilamentStateTests", dependencies: ["FilamentState", "filament-state-torture"]),
        .testTarget(name: "FilamentLinuxTests", dependencies: ["FilamentLinux"]),
        .testTarget(
            name: "FilamentEngineTests",
            dependencies: ["FilamentEngine", .product(name: "PropertyBased", package: "swift-property-based")]),
        .testTarget(
            name: "FilamentYAMLTests",
            dependencies: ["FilamentYAML", "FilamentCore", .product(name: "PropertyBased", package: "swift-property-based")]),
        .testTarget(name: "FilamentDaemonTests", dependencies: ["FilamentDaemon", "filamentd", "filamentctl"]),
        .testTarget(name: "FilamentNodeTests", dependencies: ["FilamentNode", "FilamentWire"]),
        .testTarget(name: "FilamentControlTests", dependencies: ["FilamentControl", "filamentctl"]),
        .testTarget(name: "FilamentLabTests", dependencies: ["FilamentLab"]),
        .testTarget(name: "FilamentSimTests", dependencies: ["FilamentSim", "filament-sim"], path: "firmware-sim/Tests/FilamentSimTests"),
    ]
)

// The wire decoder's libFuzzer target links only with -sanitize=fuzzer (it calls libFuzzer's driver), so it
// exists only when FILAMENT_FUZZ is set; docs/wire-format.md "Fuzzing" gives the command.
if Context.environment["FILAMENT_FUZZ"] != nil {
    package.targets.append(.target(name: "CFuzzDriver", path: "Tests/Fuzz/CFuzzDriver"))
    package.targets.append(.executableTarget(
        name: "filament-fuzz-wire", dependencies: ["FilamentWire", "CFuzzDriver"], path: "Tests/Fuzz/filament-fuzz-wire"))
    package.products.append(.executable(name: "filament-fuzz-wire", targets: ["filament-fuzz-wire"]))
}

// Wire codec throughput benchmark (a release build; docs/benchmarks.md "Wire codec").
if Context.environment["FILAMENT_BENCH"] != nil {
    package.targets.append(.executableTarget(
        name: "filament-bench-wire", dependencies: ["FilamentCore", "FilamentWire"], path: "Tests/Bench/filament-bench-wire"))
    package.products.append(.executable(name: "filament-bench-wire", targets: ["filament-bench-wire"]))
}

/// Control-plane modules (configuration parsing, control-socket JSON) are optimised for size in
/// release builds: they run a few times a second at most and are an eighth of our code in the static
/// binary (decision 0726). The data path keeps -O.
var controlPlaneSize: [SwiftSetting] { [.unsafeFlags(["-Osize"], .when(configuration: .release))] }
