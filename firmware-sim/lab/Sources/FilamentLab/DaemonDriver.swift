import Foundation

/// How the lab runs one routing daemon. Adding a daemon is one small type conforming to this.
public protocol DaemonDriver: Sendable {
    /// Short name used on the command line and in results (`babeld`, `yggdrasil`, ...).
    var name: String { get }
    /// The timers the daemon runs with, as recorded in reports.
    var timers: String { get }
    /// Throws `LabError.unavailable` with a clear sentence when the daemon cannot run here.
    func checkAvailable() throws
    /// Writes per-node configuration into `lab.workDir`; returns, per node, the address to ping.
    func prepare(lab: Lab) throws -> [String]
    /// Starts `node`'s daemon in its namespace (nil when the driver runs no process).
    func start(node: Int, lab: Lab) throws -> Child?
    /// Memory one node needs beyond what is shared (daemon's private memory plus namespace and
    /// veth overhead), MiB — a scale series checks `MemAvailable` against it before each size.
    var memoryPerNodeMiB: Double { get }
}

extension DaemonDriver {
    public var memoryPerNodeMiB: Double { 8 }
}

/// Drivers by name.
public enum Drivers {
    public static let names = ["babeld", "yggdrasil", "kernel", "filamentd", "filamentd-jumbo"]

    /// `babeldHello` overrides babeld's hello interval (seconds); nil keeps its wired default.
    public static func named(_ name: String, babeldHello: Double? = nil) throws -> any DaemonDriver {
        switch name {
        case "babeld": return BabeldDriver(helloInterval: babeldHello)
        case "yggdrasil": return YggdrasilDriver()
        case "kernel": return KernelRoutesDriver()
        case "filamentd": return FilamentdDriver()
        case "filamentd-jumbo": return FilamentdDriver(tunMTU: 65000)
        default: throw LabError.badInput("unknown daemon '\(name)' (one of \(names.joined(separator: ", ")))")
        }
    }
}
