import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A built lab with one daemon started on every node.
public final class LabRun: @unchecked Sendable {
    public let lab: Lab
    public let driver: any DaemonDriver
    /// Per node, the address other nodes ping.
    public let addresses: [String]
    /// Per node, its daemon process (nil for drivers without processes, or once killed).
    public var daemons: [Child?]
    /// Monotonic times of the first and the last daemon launch.
    public private(set) var firstStart = 0.0, lastStart = 0.0
    public let topologyName: String

    /// Builds the lab, writes configs and starts every daemon at once. Tears down on failure.
    public init(driver: any DaemonDriver, topology: Topology, topologyName: String,
                options: Lab.Options = Lab.Options(), prefix: String = "fl\(getpid())-") throws {
        try driver.checkAvailable()
        self.driver = driver
        self.topologyName = topologyName
        lab = try Lab(topology: topology, prefix: prefix, options: options)
        try lab.build()
        do {
            var t = Shell.now()
            addresses = try driver.prepare(lab: lab)
            lab.recordPhase("setup_prepare_s", since: t)
            t = Shell.now()
            firstStart = t
            daemons = []
            // Back to back from this thread, each one posix_spawn without waiting (decision 0711):
            // the same launcher for every driver, so no daemon is favoured by launch order cost.
            for node in 0..<topology.count { daemons.append(try driver.start(node: node, lab: lab)) }
            lastStart = Shell.now()
            lab.recordPhase("setup_start_s", since: t)
        } catch {
            lab.teardown()
            throw error
        }
    }

    public func teardown() { lab.teardown() }

    /// Nodes whose daemon died on its own (not killed by an experiment).
    public func deadDaemons() -> [Int] {
        daemons.enumerated().compactMap { i, p in (p != nil && p!.isRunning == false) ? i : nil }
    }

    /// The daemon's last log lines (for error messages).
    public func logTail(node: Int, lines: Int = 5) -> String {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: lab.workDir)) ?? []
        guard let f = files.sorted().first(where: { $0.hasSuffix("-\(node).log") }),
              let text = try? String(contentsOfFile: "\(lab.workDir)/\(f)", encoding: .utf8) else { return "" }
        return text.split(whereSeparator: \.isNewline).suffix(lines).joined(separator: "\n")
    }
}
