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
    private var processes: [Child] = []
    private var savedSysctls: [(String, String)] = []
    private var tornDown = false

    public init(topology: Topology, prefix: String = "fl\(getpid())-", options: Options = Options()) throws {
        guard prefix.hasPrefix("fl"), prefix.count <= 10, !prefix.hasPrefix("filt") else {
            throw LabError.badInput("lab prefix must start with 'fl' and be at most 10 characters")
        }
        self.prefix = prefix
        self.topology = topology
        self.options = options
        self.workDir = "\(Lab.workBase)/\(prefix)lab"
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

    /// Seconds each set-up phase took (`setup_namespaces_s`, `setup_links_s`, `setup_nodes_s`),
    /// reported with the cold-start result so big grids show where their start-up time goes.
    public var phases: [String: Double] { lock.withLock { phaseTimes } }
    private var phaseTimes: [String: Double] = [:]

    func recordPhase(_ name: String, since start: Double) {
        let t = Shell.now() - start
        lock.withLock { phaseTimes[name] = t }
    }

    /// Creates namespaces, links, addresses and loss rules, each phase in bounded parallel
    /// (`Parallel.defaultWidth` workers). Throws after tearing down on failure.
    public func build() throws {
        LabRegistry.shared.add(self)
        do {
            try FileManager.default.createDirectory(atPath: workDir, withIntermediateDirectories: true)
            if topology.count > 100 { try raiseNeighbourLimits() }
            var names = (0..<topology.count).map(ns)
            if !options.gateways.isEmpty { names.append(internetNamespace) }
            lock.withLock { namespaces = names }
            var t = Shell.now()
            // The first `netns add` makes /run/netns a shared mount; do it alone, the rest in parallel batches.
            try Shell.run(["ip", "netns", "add", names[0]], timeout: 30)
            let rest = Parallel.chunks(Array(names.dropFirst()), parts: Parallel.defaultWidth)
            try Parallel.forEach(rest.count) { c in
                try Shell.run(["ip", "-batch", "-"], timeout: 120, stdin: rest[c].map { "netns add \($0)\n" }.joined())
            }
            recordPhase("setup_namespaces_s", since: t)
            t = Shell.now()
            var lines: [String] = []
            for (i, l) in topology.links.enumerated() {
                let (ia, ib) = linkInterfaces[i]
                lines.append("link add \(ia) netns \(ns(l.a)) type veth peer name \(ib) netns \(ns(l.b))\n")
            }
            for (k, g) in options.gateways.enumerated() {
                lines.append("link add lgw netns \(ns(g)) type veth peer name gw\(k) netns \(internetNamespace)\n")
            }
            let linkChunks = Parallel.chunks(lines, parts: Parallel.defaultWidth)
            try Parallel.forEach(linkChunks.count) { c in
                try Shell.run(["ip", "-batch", "-"], timeout: 120, stdin: linkChunks[c].joined())
            }
            recordPhase("setup_links_s", since: t)
            t = Shell.now()
            try Parallel.forEach(topology.count) { try self.setUpNode($0) }
            if !options.gateways.isEmpty { try setUpInternet() }
            recordPhase("setup_nodes_s", since: t)
        } catch {
            teardown()
            throw error
        }
    }

    /// One process chain per node: `ip netns exec NS sh` writes the sysctls (shell builtins) and
    /// hands links, addresses and routes to a single `ip -batch`.
    private func setUpNode(_ node: Int) throws {
        var ifs = interfaces[node]
        let gatewayIndex = options.gateways.firstIndex(of: node)
        if gatewayIndex != nil { ifs.append("lgw") }
        var batch = "link set lo up\n"
        for i in ifs { batch += "link set \(i) up\n" }
        batch += "addr add \(nodeAddress(node))/128 dev lo\n"
        if let k = gatewayIndex {
            batch += "addr add 2001:db8:0:\(k + 1)::2/64 dev lgw nodad\n"
            batch += "addr add 198.51.100.\(4 * k + 2)/30 dev lgw\n"
            batch += "route add ::/0 via 2001:db8:0:\(k + 1)::1\n"
            batch += "route add 0.0.0.0/0 via 198.51.100.\(4 * k + 1)\n"
        }
        var s = commonSysctls(ifs)
        s += "ip -batch - <<'FLEOF'\n\(batch)FLEOF\n"
        if options.lossPercent > 0 && !interfaces[node].isEmpty {
            s += "nft add table inet fllab\n"
            s += "nft add chain inet fllab loss '{ type filter hook prerouting priority -300; policy accept; }'\n"
            for i in interfaces[node] {
                s += "nft add rule inet fllab loss iifname \(i) numgen random mod 100 '<' \(options.lossPercent) drop\n"
            }
        }
        try exec(node: node, ["sh", "-ec", s], timeout: 60)
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

    /// Where the neighbour-table limits found before raising them are kept until teardown, outside
    /// the work directory, so `cleanup` can put them back after a run that died without teardown.
    /// Where work directories (daemon state, configs, logs) live: a tmpfs (`/dev/shm`) when there is one.
    /// Hundreds of daemons each creating and replacing their state files on one ext4 file system made
    /// the kernel's inode allocator (`find_inode_bit`, skipping recently deleted inodes) a visible share
    /// of every filamentd's start-up CPU in the scale series: an artefact of emulating 900 bulbs on one
    /// disk, not something a bulb sees. Falls back to the temporary directory.
    static let workBase: String = {
        let shm = "/dev/shm"
        let mounts = (try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8)) ?? ""
        let isTmpfs = mounts.split(whereSeparator: \.isNewline).contains { line in
            let f = line.split(separator: " ")
            return f.count > 2 && f[1] == shm[...] && f[2] == "tmpfs"
        }
        if isTmpfs, access(shm, W_OK) == 0 { return shm }
        return FileManager.default.temporaryDirectory.path
    }()

    static func savedSysctlsPath(_ prefix: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)sysctls").path
    }

    /// Big labs overflow the kernel's one shared IPv6 neighbour table: raise its limits (only
    /// upwards), remember the old values in a file, restore them at teardown (decision 0713).
    private func raiseNeighbourLimits() throws {
        let scale = max(1, (topology.count + 99) / 100)
        var saved: [(String, String)] = []
        for (key, value) in [("gc_thresh1", 1024 * scale), ("gc_thresh2", 4096 * scale), ("gc_thresh3", 8192 * scale)] {
            let path = "/proc/sys/net/ipv6/neigh/default/\(key)"
            let old = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            guard let oldValue = Int(old), oldValue < value else { continue }
            saved.append((path, old))
        }
        guard !saved.isEmpty else { return }
        let file = saved.map { "\($0.0) \($0.1)\n" }.joined()
        try file.write(toFile: Lab.savedSysctlsPath(prefix), atomically: true, encoding: .utf8)
        lock.withLock { savedSysctls = saved }
        for (path, _) in saved {
            let key = (path as NSString).lastPathComponent
            let value = key == "gc_thresh1" ? 1024 * scale : key == "gc_thresh2" ? 4096 * scale : 8192 * scale
            try "\(value)\n".write(toFile: path, atomically: false, encoding: .utf8)
        }
    }

    /// Writes back the values in a saved-sysctls file and removes it (teardown and `cleanup`).
    static func restoreSysctls(prefix: String) {
        let file = savedSysctlsPath(prefix)
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return }
        for line in text.split(whereSeparator: \.isNewline) {
            let parts = line.split(separator: " ")
            guard parts.count == 2, parts[0].hasPrefix("/proc/sys/net/ipv6/neigh/") else { continue }
            try? "\(parts[1])\n".write(toFile: String(parts[0]), atomically: false, encoding: .utf8)
        }
        try? FileManager.default.removeItem(atPath: file)
    }

    // MARK: running things in nodes

    /// Runs a command inside `node`'s namespace and waits (bounded).
    @discardableResult
    public func exec(node: Int, _ args: [String], timeout: Double = 20, check: Bool = true) throws -> CommandResult {
        try Shell.run(["ip", "netns", "exec", ns(node)] + args, timeout: timeout, check: check)
    }

    /// Starts a long-running program inside `node`'s namespace; tracked by PID until teardown.
    public func spawn(node: Int, _ args: [String], log: String) throws -> Child {
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
    /// removes the work directory. Safe to call more than once and from several threads: a second
    /// caller (a signal arriving mid-teardown) waits until the first has finished.
    public func teardown() {
        teardownLock.lock()
        defer { teardownLock.unlock() }
        let (procs, names, sysctls): ([Child], [String], [(String, String)]) = lock.withLock {
            if tornDown { return ([], [], []) }
            tornDown = true
            return (processes, namespaces, savedSysctls)
        }
        let t = Shell.now()
        for p in procs where p.isRunning { kill(p.processIdentifier, SIGKILL) }
        for p in procs { Shell.reap(p, timeout: 2) }
        Lab.removeNamespaces(names)
        // A signal can arrive while set-up's `ip -batch` children are still adding namespaces: those
        // appear after the pass above. Passes by prefix (ours only), bounded in count and time.
        for _ in 0..<5 {
            let late = Lab.listNamespaces().filter { $0.hasPrefix(prefix) }
            if late.isEmpty { break }
            Lab.removeNamespaces(late)
            usleep(300_000)
        }
        for (path, value) in sysctls { try? "\(value)\n".write(toFile: path, atomically: false, encoding: .utf8) }
        try? FileManager.default.removeItem(atPath: Lab.savedSysctlsPath(prefix))
        try? FileManager.default.removeItem(atPath: workDir)
        LabRegistry.shared.remove(self)
        if names.count > 100 {
            FileHandle.standardError.write(Data("filament-lab: teardown of \(names.count) namespaces took \(String(format: "%.1f", Shell.now() - t)) s\n".utf8))
        }
    }
    private let teardownLock = NSLock()

    /// Kills whatever still runs inside the given namespaces (only ours: they carry our prefix) and
    /// deletes them. One pass over /proc matches processes by network-namespace inode (instead of
    /// one `ip netns pids` per namespace, which took minutes for 625 namespaces); deletion runs in
    /// parallel batches.
    static func removeNamespaces(_ names: [String]) {
        let existing = Set(listNamespaces())
        let ours = names.filter(existing.contains)
        guard !ours.isEmpty else { return }
        var inodes = Set<UInt64>()
        for name in ours {
            var st = stat()
            if stat("/run/netns/\(name)", &st) == 0 { inodes.insert(UInt64(st.st_ino)) }
        }
        for pid in processesIn(namespaceInodes: inodes) { kill(pid, SIGKILL) }
        let chunks = Parallel.chunks(ours, parts: Parallel.defaultWidth)
        try? Parallel.forEach(chunks.count) { c in
            _ = try? Shell.run(["ip", "-force", "-batch", "-"], timeout: 120,
                               stdin: chunks[c].map { "netns del \($0)\n" }.joined(), check: false)
        }
    }

    /// PIDs whose network namespace is one of `inodes` (read from /proc/PID/ns/net).
    static func processesIn(namespaceInodes inodes: Set<UInt64>) -> [Int32] {
        guard !inodes.isEmpty, let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        var found: [Int32] = []
        for e in entries {
            guard let pid = Int32(e), pid != getpid() else { continue }
            var st = stat()
            if stat("/proc/\(e)/ns/net", &st) == 0, inodes.contains(UInt64(st.st_ino)) { found.append(pid) }
        }
        return found
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
        var prefixes = Set(names.compactMap { n in n.firstIndex(of: "-").map { String(n[...$0]) } })
        // Saved neighbour limits of runs that died before teardown (their namespaces may already be gone).
        for f in (try? FileManager.default.contentsOfDirectory(atPath: tmp)) ?? [] where f.hasPrefix("fl") && f.hasSuffix("-sysctls") {
            let p = String(f.dropLast("sysctls".count))
            if let prefix { if p.hasPrefix(prefix) || prefix.hasPrefix(p) { prefixes.insert(p) }; continue }
            if let pid = Int32(p.dropFirst(2).prefix { $0.isNumber }), kill(pid, 0) != 0 && errno == ESRCH { prefixes.insert(p) }
        }
        for p in prefixes {
            restoreSysctls(prefix: p)
            try? FileManager.default.removeItem(atPath: "\(tmp)/\(p)lab")
            try? FileManager.default.removeItem(atPath: "\(workBase)/\(p)lab")
        }
        return names
    }
}
