import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One built lab: a network namespace per node, a veth pair per link, optional loss and an
/// "internet" namespace behind gateway nodes. Everything it creates carries `prefix` and is
/// tracked, so `teardown()` (idempotent, run on every path) removes exactly what this run made.
public final class Lab: @unchecked Sendable {
    public struct Options: Sendable {
        /// Per-direction drop percentage on every link (nftables `numgen random`), 0 = none.
        public var lossPercent = 0
        /// Nodes wired to the internet namespace.
        public var gateways: [Int] = []
        public init(lossPercent: Int = 0, gateways: [Int] = []) { self.lossPercent = lossPercent; self.gateways = gateways }
    }

    public let prefix: String
    public let topology: Topology
    public let options: Options
    /// Per-run directory for daemon configs, pid/state files and logs.
    public let workDir: String
    /// `interfaces[node]` = that node's lab interface names (`lv0`, `lv1`, ...), in link order.
    public private(set) var interfaces: [[String]]
    /// For link i: the interface name on its `a` side and on its `b` side.
    public private(set) var linkInterfaces: [(String, String)] = []

    private let lock = NSLock()
    private var namespaces: [String] = []
    private var processes: [Process] = []
    private var savedSysctls: [(String, String)] = []
    private var tornDown = false

    public init(topology: Topology, prefix: String = "fl\(getpid())-", options: Options = Options()) throws {
        guard prefix.hasPrefix("fl"), prefix.count <= 10, !prefix.hasPrefix("filt") else {
            throw LabError.badInput("lab prefix must start with 'fl' and be at most 10 characters")
        }
        self.prefix = prefix
        self.topology = topology
        self.options = options
        self.workDir = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)lab").path
        var counts = Array(repeating: 0, count: topology.count)
        var ifs = Array(repeating: [String](), count: topology.count)
        for l in topology.links {
            let a = "lv\(counts[l.a])", b = "lv\(counts[l.b])"
            counts[l.a] += 1; counts[l.b] += 1
            ifs[l.a].append(a); ifs[l.b].append(b)
            linkInterfaces.append((a, b))
        }
        interfaces = ifs
        for g in options.gateways where g < 0 || g >= topology.count {
            throw LabError.badInput("gateway node \(g) is not in the topology")
        }
    }

    /// The namespace of `node`.
    public func ns(_ node: Int) -> String { "\(prefix)n\(node)" }
    public var internetNamespace: String { "\(prefix)inet" }
    /// The lab's own address of `node` (on `lo`), 2001:db8:ff::/64 — documentation range.
    public func nodeAddress(_ node: Int) -> String { "2001:db8:ff::\(String(node + 1, radix: 16))" }

    // MARK: build

    /// Creates namespaces, links, addresses and loss rules. Throws after tearing down on failure.
    public func build() throws {
        LabRegistry.shared.add(self)
        do {
            try FileManager.default.createDirectory(atPath: workDir, withIntermediateDirectories: true)
            if topology.count > 100 { try raiseNeighbourLimits() }
            var names = (0..<topology.count).map(ns)
            if !options.gateways.isEmpty { names.append(internetNamespace) }
            lock.withLock { namespaces = names }
            try Shell.run(["ip", "-batch", "-"], timeout: 60, stdin: names.map { "netns add \($0)\n" }.joined())
            var batch = ""
            for (i, l) in topology.links.enumerated() {
                let (ia, ib) = linkInterfaces[i]
                batch += "link add \(ia) netns \(ns(l.a)) type veth peer name \(ib) netns \(ns(l.b))\n"
            }
            for (k, g) in options.gateways.enumerated() {
                batch += "link add lgw netns \(ns(g)) type veth peer name gw\(k) netns \(internetNamespace)\n"
            }
            if !batch.isEmpty { try Shell.run(["ip", "-batch", "-"], timeout: 120, stdin: batch) }
            for node in 0..<topology.count { try setUpNode(node) }
            if !options.gateways.isEmpty { try setUpInternet() }
        } catch {
            teardown()
            throw error
        }
    }

    private func setUpNode(_ node: Int) throws {
        var ifs = interfaces[node]
        let gatewayIndex = options.gateways.firstIndex(of: node)
        if gatewayIndex != nil { ifs.append("lgw") }
        var s = commonSysctls(ifs)
        s += "ip link set lo up\n"
        for i in ifs { s += "ip link set \(i) up\n" }
        s += "ip -6 addr add \(nodeAddress(node))/128 dev lo\n"
        if let k = gatewayIndex {
            s += "ip -6 addr add 2001:db8:0:\(k + 1)::2/64 dev lgw nodad\n"
            s += "ip -4 addr add 198.51.100.\(4 * k + 2)/30 dev lgw\n"
            s += "ip -6 route add default via 2001:db8:0:\(k + 1)::1\n"
            s += "ip -4 route add default via 198.51.100.\(4 * k + 1)\n"
        }
        if options.lossPercent > 0 && !interfaces[node].isEmpty {
            s += "nft add table inet fllab\n"
            s += "nft add chain inet fllab loss '{ type filter hook prerouting priority -300; policy accept; }'\n"
            for i in interfaces[node] {
                s += "nft add rule inet fllab loss iifname \(i) numgen random mod 100 '<' \(options.lossPercent) drop\n"
            }
        }
        try exec(node: node, ["sh", "-ec", s], timeout: 30)
    }

    private func setUpInternet() throws {
        let gws = options.gateways.indices.map { "gw\($0)" }
        var s = commonSysctls(gws) + "ip link set lo up\n"
        s += "ip -6 addr add 2001:db8:ffff::1/128 dev lo\nip -4 addr add 203.0.113.1/32 dev lo\n"
        for (k, g) in gws.enumerated() {
            s += "ip link set \(g) up\n"
            s += "ip -6 addr add 2001:db8:0:\(k + 1)::1/64 dev \(g) nodad\n"
            s += "ip -4 addr add 198.51.100.\(4 * k + 1)/30 dev \(g)\n"
        }
        try Shell.run(["ip", "netns", "exec", internetNamespace, "sh", "-ec", s], timeout: 30)
    }

    private func commonSysctls(_ ifs: [String]) -> String {
        var s = ""
        for key in ["all/accept_dad", "default/accept_dad"] + ifs.map({ "\($0)/accept_dad" }) {
            s += "echo 0 > /proc/sys/net/ipv6/conf/\(key)\n"
        }
        s += "echo 1 > /proc/sys/net/ipv6/conf/all/forwarding\necho 1 > /proc/sys/net/ipv4/ip_forward\n"
        return s
    }

    /// Big labs overflow the kernel's one shared IPv6 neighbour table: raise its limits, restore later.
    private func raiseNeighbourLimits() throws {
        let scale = max(1, topology.count / 100)
        for (key, value) in [("gc_thresh1", 1024 * scale), ("gc_thresh2", 4096 * scale), ("gc_thresh3", 8192 * scale)] {
            let path = "/proc/sys/net/ipv6/neigh/default/\(key)"
            let old = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            lock.withLock { savedSysctls.append((path, old)) }
            try "\(value)\n".write(toFile: path, atomically: false, encoding: .utf8)
        }
    }

    // MARK: running things in nodes

    /// Runs a command inside `node`'s namespace and waits (bounded).
    @discardableResult
    public func exec(node: Int, _ args: [String], timeout: Double = 20, check: Bool = true) throws -> CommandResult {
        try Shell.run(["ip", "netns", "exec", ns(node)] + args, timeout: timeout, check: check)
    }

    /// Starts a long-running program inside `node`'s namespace; tracked by PID until teardown.
    public func spawn(node: Int, _ args: [String], log: String) throws -> Process {
        let p = try Shell.spawn(["ip", "netns", "exec", ns(node)] + args, log: "\(workDir)/\(log)")
        lock.withLock { processes.append(p) }
        return p
    }

    /// Makes `node` a silent black hole, as a bulb whose power is cut: every packet entering or
    /// leaving its namespace is dropped (nftables), while its links stay up, so neighbours notice
    /// only by missing hellos. (Killing a daemon alone would leave its kernel routes forwarding.)
    public func silence(node: Int) throws {
        let rules = """
        table inet fldead {
          chain in { type filter hook prerouting priority -400; policy drop; }
          chain out { type filter hook output priority -400; policy drop; }
        }

        """
        try Shell.run(["ip", "netns", "exec", ns(node), "nft", "-f", "-"], timeout: 10, stdin: rules)
    }

    /// Per-interface counters of `node`'s lab interfaces (`lv*`): (rx packets, tx bytes), summed.
    public func counters(node: Int) throws -> (rxPackets: UInt64, txBytes: UInt64) {
        let out = try Shell.run(["ip", "-n", ns(node), "-s", "-j", "link", "show"], timeout: 10).stdout
        guard let list = try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [[String: Any]] else {
            throw LabError.badInput("unexpected `ip -j link` output in \(ns(node))")
        }
        var rx: UInt64 = 0, tx: UInt64 = 0
        for entry in list where (entry["ifname"] as? String)?.hasPrefix("lv") == true {
            let stats = entry["stats64"] as? [String: Any]
            rx += ((stats?["rx"] as? [String: Any])?["packets"] as? NSNumber)?.uint64Value ?? 0
            tx += ((stats?["tx"] as? [String: Any])?["bytes"] as? NSNumber)?.uint64Value ?? 0
        }
        return (rx, tx)
    }

    // MARK: teardown

    /// Kills every process this lab started (by PID), deletes its namespaces, restores sysctls,
    /// removes the work directory. Safe to call more than once and from a signal handler's queue.
    public func teardown() {
        let (procs, names, sysctls): ([Process], [String], [(String, String)]) = lock.withLock {
            if tornDown { return ([], [], []) }
            tornDown = true
            return (processes, namespaces, savedSysctls)
        }
        for p in procs where p.isRunning { kill(p.processIdentifier, SIGKILL) }
        for p in procs { Shell.reap(p, timeout: 2) }
        Lab.removeNamespaces(names)
        for (path, value) in sysctls { try? "\(value)\n".write(toFile: path, atomically: false, encoding: .utf8) }
        try? FileManager.default.removeItem(atPath: workDir)
        LabRegistry.shared.remove(self)
    }

    /// Kills whatever still runs inside the given namespaces (only ours: they carry our prefix) and deletes them.
    static func removeNamespaces(_ names: [String]) {
        let existing = Set(listNamespaces())
        for name in names where existing.contains(name) {
            if let pids = try? Shell.run(["ip", "netns", "pids", name], timeout: 5, check: false).stdout {
                for pid in pids.split(whereSeparator: \.isNewline).compactMap({ Int32($0) }) { kill(pid, SIGKILL) }
            }
        }
        let batch = names.filter(existing.contains).map { "netns del \($0)\n" }.joined()
        if !batch.isEmpty { _ = try? Shell.run(["ip", "-force", "-batch", "-"], timeout: 120, stdin: batch, check: false) }
    }

    /// Names from `ip netns list`.
    public static func listNamespaces() -> [String] {
        let out = (try? Shell.run(["ip", "netns", "list"], timeout: 10, check: false).stdout) ?? ""
        return out.split(whereSeparator: \.isNewline).compactMap { $0.split(separator: " ").first.map(String.init) }
    }

    /// Removes leftovers: namespaces named `prefix*` (and the processes inside them), plus stale work dirs.
    /// With no prefix: every `fl<pid>-` namespace whose creating process is gone.
    @discardableResult
    public static func cleanup(prefix: String?) -> [String] {
        let names = listNamespaces().filter { name in
            if let prefix { return name.hasPrefix(prefix) }
            guard name.hasPrefix("fl"), let dash = name.firstIndex(of: "-"),
                  let pid = Int32(name[name.index(name.startIndex, offsetBy: 2)..<dash]) else { return false }
            return kill(pid, 0) != 0 && errno == ESRCH
        }
        if let prefix, !(prefix.hasPrefix("fl") && !prefix.hasPrefix("filt")) { return [] }
        removeNamespaces(names)
        let tmp = FileManager.default.temporaryDirectory.path
        let prefixes = Set(names.compactMap { n in n.firstIndex(of: "-").map { String(n[...$0]) } })
        for p in prefixes { try? FileManager.default.removeItem(atPath: "\(tmp)/\(p)lab") }
        return names
    }
}
