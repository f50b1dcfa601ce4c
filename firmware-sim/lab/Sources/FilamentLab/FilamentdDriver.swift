import Foundation

/// Placeholder for Filament's own daemon. It reports that filamentd is not built yet rather
/// than producing numbers. Once `filamentd` exists this becomes, like `BabeldDriver`:
/// - `prepare`: per node a YAML file (docs/configuration.md) in `lab.workDir` with
///   `state_dir: <workDir>/filamentd-<n>`, `control_socket: <workDir>/filamentd-<n>.sock`,
///   `interfaces: [lv0, lv1, ...]` (`lab.interfaces[n]`), `tun.name: fil0`; the address to ping
///   is the node's mesh address (from its key, e.g. read back with `filamentctl` over that socket);
/// - `start`: `lab.spawn(node:, ["filamentd", "--config", <file>], log:)` in the foreground;
/// - `timers`: the hello/update intervals it runs with.
public struct FilamentdDriver: DaemonDriver {
    public var name: String { "filamentd" }
    public var timers: String { "n/a" }
    public init() {}

    public func checkAvailable() throws {
        throw LabError.unavailable("filamentd not built yet: the lab has no filamentd driver to run, so it reports no numbers for it")
    }
    public func prepare(lab: Lab) throws -> [String] { try checkAvailable(); return [] }
    public func start(node: Int, lab: Lab) throws -> Process? { try checkAvailable(); return nil }
}
