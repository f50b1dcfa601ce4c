import Foundation

/// Placeholder for Filament's own daemon. It reports that filamentd is not built yet rather
/// than producing numbers; once `filamentd` exists, this becomes a config writer plus a spawn.
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
