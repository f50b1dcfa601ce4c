import Foundation

/// babeld (Debian's 1.12.1): one foreground process per node, only the lab interfaces, wired
/// defaults, its own pid and state files in the run directory, and only the node's lab address
/// (on `lo`, 2001:db8:ff::/64) redistributed. Routes go into the node's namespace only.
public struct BabeldDriver: DaemonDriver {
    public var name: String { "babeld" }
    /// Hello interval in seconds; nil keeps babeld's wired default (4 s; IHU 3x, update 4x hello).
    public var helloInterval: Double?

    public var timers: String {
        if let h = helloInterval { return "babeld hello-interval \(h) s (IHU 3x, update 4x hello) on `interface lvN type wired`" }
        return "babeld defaults for wired links: hello 4 s, IHU 12 s, update 16 s (`interface lvN type wired`)"
    }
    public init(helloInterval: Double? = nil) { self.helloInterval = helloInterval }

    public var memoryPerNodeMiB: Double { 3 }

    public func checkAvailable() throws {
        guard Shell.which("babeld") != nil else {
            throw LabError.unavailable("babeld is not installed (apt-get install babeld, or scripts/setup.sh lab)")
        }
    }

    public func prepare(lab: Lab) throws -> [String] {
        for node in 0..<lab.topology.count {
            var conf = "# filament-lab \(lab.prefix) node \(node)\n"
            let hello = helloInterval.map { " hello-interval \($0)" } ?? ""
            for i in lab.interfaces[node] { conf += "interface \(i) type wired\(hello)\n" }
            conf += "redistribute local ip 2001:db8:ff::/64 ge 128 allow\n"
            conf += "redistribute local deny\n"
            try conf.write(toFile: "\(lab.workDir)/babeld-\(node).conf", atomically: true, encoding: .utf8)
        }
        return (0..<lab.topology.count).map(lab.nodeAddress)
    }

    public func start(node: Int, lab: Lab) throws -> Child? {
        let dir = lab.workDir
        return try lab.spawn(node: node, [
            "babeld", "-c", "\(dir)/babeld-\(node).conf", "-I", "\(dir)/babeld-\(node).pid",
            "-S", "\(dir)/babeld-\(node).state", "-d", "0",
        ], log: "babeld-\(node).log")
    }
}
