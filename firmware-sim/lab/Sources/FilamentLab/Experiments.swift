import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The lab's experiments. Each is bounded in time and returns a `LabResult`.
public enum Experiments {
    /// `count` distinct random ordered pairs (seeded, reproducible) plus the two farthest nodes.
    public static func samplePairs(_ topology: Topology, count: Int, seed: UInt64) -> [(Int, Int)] {
        let (fa, fb) = topology.farthestPair()
        var pairs = [(fa, fb)]
        guard topology.count >= 2 else { return [] }
        var state = seed
        func next() -> UInt64 { // splitmix64
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        var seen = Set([[fa, fb]])
        let possible = topology.count * (topology.count - 1)
        var tries = 0
        while pairs.count < min(count + 1, possible) && tries < 100 * (count + 1) {
            tries += 1
            let a = Int(next() % UInt64(topology.count)), b = Int(next() % UInt64(topology.count))
            if a != b && seen.insert([a, b]).inserted { pairs.append((a, b)) }
        }
        return pairs
    }

    /// The 1-minute load average (`/proc/loadavg`), recorded next to each result of `compare`.
    public static func loadAverage() -> Double {
        let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? ""
        return text.split(separator: " ").first.flatMap { Double($0) } ?? .nan
    }

    /// `MemAvailable` from /proc/meminfo, MiB (checked before each size of a scale series).
    public static func memAvailableMiB() -> Double {
        let text = (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8)) ?? ""
        guard let line = text.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("MemAvailable:") }),
              let kib = line.split(separator: " ").compactMap({ Double($0) }).first else { return .nan }
        return (kib / 1024).rounded()
    }

    // MARK: reachability

    /// Polls every pair with `ping -c1 -i 0.1 -w <left>` (one echo every 100 ms until the first reply),
    /// relaunching when ping gives up early (e.g. "network unreachable"). Returns, per pair, the
    /// monotonic time of its first reply, or nil if none came before `deadline`.
    public static func firstReplies(_ run: LabRun, pairs: [(Int, Int)], deadline: Double) throws -> [Double?] {
        try firstReplies(run, probes: pairs.map { (from: $0.0, to: run.addresses[$0.1], source: nil) }, deadline: deadline)
    }

    /// `firstReplies` for arbitrary targets: node `from` pings address `to` (from `source` when given).
    public static func firstReplies(_ run: LabRun, probes pairs: [(from: Int, to: String, source: String?)],
                                    deadline: Double) throws -> [Double?] {
        var reached = [Double?](repeating: nil, count: pairs.count)
        var procs = [Child?](repeating: nil, count: pairs.count)
        var relaunchAt = [Double](repeating: 0, count: pairs.count)
        defer { for p in procs.compactMap({ $0 }) where p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        while Shell.now() < deadline {
            let now = Shell.now()
            var open = 0
            for (i, (a, target, source)) in pairs.enumerated() where reached[i] == nil {
                open += 1
                if let p = procs[i] {
                    if p.isRunning { continue }
                    p.waitUntilExit()
                    procs[i] = nil
                    if p.terminationStatus == 0 { reached[i] = now; open -= 1; continue }
                    relaunchAt[i] = now + 0.1
                }
                if now >= relaunchAt[i] {
                    let left = max(1, Int(deadline - now))
                    let from = source.map { ["-I", $0] } ?? []
                    procs[i] = try run.lab.spawn(node: a, ["ping", "-n", "-q", "-c1", "-i", "0.1", "-w", "\(left)"] + from
                                                 + [target], log: "ping-\(a)-\(i).log")
                }
            }
            if open == 0 { break }
            usleep(20_000)
        }
        return reached
    }

    /// Cold start: daemons were all started at once; time until every sampled pair has answered.
    public static func coldStart(_ run: LabRun, pairs pairCount: Int = 20, seed: UInt64 = 1,
                                 timeout: Double = 120) throws -> LabResult {
        let pairs = samplePairs(run.lab.topology, count: pairCount, seed: seed)
        let replies = try firstReplies(run, pairs: pairs, deadline: run.lastStart + timeout)
        let got = replies.compactMap { $0 }
        var m = LabResult(experiment: "cold-start", daemon: run.driver.name, topology: run.topologyName, timers: run.driver.timers)
        m.values["pairs_total"] = Double(pairs.count)
        m.values["pairs_reached"] = Double(got.count)
        m.values["start_spread_s"] = run.lastStart - run.firstStart
        for (phase, seconds) in run.lab.phases { m.values[phase] = seconds }
        m.values["load_avg_1m"] = loadAverage()
        m.values["mem_available_mib"] = memAvailableMiB()
        // CPU each daemon used from its launch to the end of the experiment (utime+stime): on 2 cores
        // shared by hundreds of daemons this, not the protocol's timers, sets the launch spread.
        let pids = run.daemons.compactMap { $0?.processIdentifier }
        if !pids.isEmpty {
            m.values["cpu_ms_per_daemon"] = pids.map(cpuSeconds).reduce(0, +) * 1000 / Double(pids.count)
        }
        if got.count == pairs.count, let last = got.max() {
            m.values["converged_s_from_first_start"] = last - run.firstStart
            m.values["converged_s_from_last_start"] = last - run.lastStart
        } else {
            m.note = "not converged within \(Int(timeout)) s"
        }
        let dead = run.deadDaemons()
        if !dead.isEmpty { m.note += " daemons died on nodes \(dead): \(run.logTail(node: dead[0]))" }
        return m
    }

    // MARK: steady state

    /// Steady control overhead and daemon resources over `seconds` with no pings running:
    /// tx bytes of all lab interfaces, VmRSS at the end, utime+stime over the period.
    public static func steady(_ run: LabRun, seconds: Double = 60) throws -> LabResult {
        let n = run.lab.topology.count
        let pids = run.daemons.compactMap { $0?.processIdentifier }
        let tx0 = try (0..<n).map { try run.lab.counters(node: $0).txBytes }
        let cpu0 = pids.map(cpuSeconds)
        let t0 = Shell.now()
        usleep(UInt32(seconds * 1_000_000))
        let tx1 = try (0..<n).map { try run.lab.counters(node: $0).txBytes }
        let cpu1 = pids.map(cpuSeconds)
        let elapsed = Shell.now() - t0
        var m = LabResult(experiment: "steady", daemon: run.driver.name, topology: run.topologyName, timers: run.driver.timers)
        let bytes = zip(tx0, tx1).reduce(0.0) { $0 + Double($1.1 &- $1.0) }
        m.values["seconds"] = elapsed.rounded()
        m.values["tx_bytes_per_node_per_s"] = (bytes / Double(n) / elapsed).rounded()
        if !pids.isEmpty {
            let rss = pids.compactMap(rssKiB)
            let cpu = zip(cpu0, cpu1).map { ($1 - $0) / elapsed * 100 }
            m.values["rss_mean_kib"] = (Double(rss.reduce(0, +)) / Double(max(1, rss.count))).rounded()
            m.values["rss_max_kib"] = Double(rss.max() ?? 0)
            let pss = pids.compactMap { smapsKiB($0, "Pss:") }
            if !pss.isEmpty { m.values["pss_mean_kib"] = (Double(pss.reduce(0, +)) / Double(pss.count)).rounded() }
            m.values["cpu_percent_mean"] = cpu.reduce(0, +) / Double(max(1, cpu.count))
            m.values["cpu_percent_max"] = cpu.max() ?? 0
        }
        return m
    }

    static func rssKiB(_ pid: Int32) -> Int? {
        guard let s = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = s.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("VmRSS:") }) else { return nil }
        return line.split(separator: " ").compactMap { Int($0) }.first
    }

    /// A field of /proc/PID/smaps_rollup in KiB (`Pss:` = this process's share of its pages:
    /// shared library pages count once across all daemons, which RSS counts in every one).
    static func smapsKiB(_ pid: Int32, _ field: String) -> Int? {
        guard let s = try? String(contentsOfFile: "/proc/\(pid)/smaps_rollup", encoding: .utf8),
              let line = s.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix(field) }) else { return nil }
        return line.split(separator: " ").compactMap { Int($0) }.first
    }

    /// utime+stime of `pid` in seconds (0 when it is gone).
    static func cpuSeconds(_ pid: Int32) -> Double {
        guard let s = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = s.lastIndex(of: ")") else { return 0 }
        let fields = s[s.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let u = Int(fields[11]), let k = Int(fields[12]) else { return 0 }
        return Double(u + k) / clockTicksPerSecond
    }
    static let clockTicksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    // MARK: relay failure

    /// Relay failure: a 10 ms ping stream between the two farthest nodes; after `warmup` s the
    /// busiest relay (most received packets, nearest the middle of the path) dies silently: its
    /// daemon gets SIGKILL and its namespace drops every packet (`Lab.silence`); outage = the
    /// longest gap between replies after the kill. The stream runs `window` s after the kill.
    public static func relayFailure(_ run: LabRun, warmup: Double = 4, window: Double = 30) throws -> LabResult {
        let topo = run.lab.topology
        let (src, dst) = topo.farthestPair()
        var m = LabResult(experiment: "relay-failure", daemon: run.driver.name, topology: run.topologyName, timers: run.driver.timers)
        guard run.daemons.contains(where: { $0 != nil }) else {
            m.note = "driver runs no daemon: nothing to kill"; return m
        }
        let total = Int((warmup + window).rounded(.up)) + 1
        let stream = try run.lab.spawn(node: src, ["ping", "-n", "-D", "-i", "0.01", "-w", "\(total)",
                                                   run.addresses[dst]], log: "stream.log")
        let streamStart = Shell.now()
        defer { Shell.reap(stream, timeout: 5) }
        // Find the relay that carries the stream: packet counters over one second.
        usleep(UInt32(max(1, warmup - 2) * 1_000_000))
        let before = try (0..<topo.count).map { try run.lab.counters(node: $0).rxPackets }
        usleep(1_000_000)
        let after = try (0..<topo.count).map { try run.lab.counters(node: $0).rxPackets }
        let dSrc = topo.distances(from: src), hops = dSrc[dst]
        let load = zip(before, after).map { Double($1 &- $0) }
        let candidates = (0..<topo.count).filter { $0 != src && $0 != dst && run.daemons[$0] != nil }
        let busiest = candidates.map { load[$0] }.max() ?? 0
        let relays = candidates.filter { load[$0] >= 0.8 * busiest && busiest > 50 }
        guard let victim = relays.min(by: { abs(2 * dSrc[$0] - hops) < abs(2 * dSrc[$1] - hops) }) ??
                topo.shortestPath(from: src, to: dst).map({ $0[$0.count / 2] }) else {
            m.note = "no relay between the farthest nodes"; return m
        }
        let wait = streamStart + warmup - Shell.now()
        if wait > 0 { usleep(UInt32(wait * 1_000_000)) }
        let killWall = Date().timeIntervalSince1970
        if let p = run.daemons[victim] { kill(p.processIdentifier, SIGKILL) }
        try run.lab.silence(node: victim)
        if let p = run.daemons[victim] { Shell.reap(p, timeout: 5) }
        run.daemons[victim] = nil
        Shell.reap(stream, timeout: window + 10)
        let endWall = Date().timeIntervalSince1970
        let text = (try? String(contentsOfFile: "\(run.lab.workDir)/stream.log", encoding: .utf8)) ?? ""
        let replies = replyTimes(text)
        m.values["killed_node"] = Double(victim)
        m.values["path_hops"] = Double(hops)
        m.values["replies"] = Double(replies.count)
        m.values["echoes_sent"] = Double(text.split(whereSeparator: \.isNewline).last { $0.contains("packets transmitted") }?
            .split(separator: " ").first.flatMap { Double($0) } ?? 0)
        m.values["relay_carried_pkts_per_s"] = load[victim]
        let beforeKill = replies.filter { $0 < killWall }, afterKill = replies.filter { $0 >= killWall }
        guard let lastBefore = beforeKill.last else { m.note = "no replies before the kill (not converged?)"; return m }
        if let firstAfter = afterKill.first {
            var gap = firstAfter - lastBefore
            for (x, y) in zip(afterKill, afterKill.dropFirst()) { gap = max(gap, y - x) }
            m.values["outage_s"] = gap
            m.values["recovered"] = 1
        } else {
            m.values["outage_s"] = endWall - lastBefore
            m.values["recovered"] = 0
            m.note = "no reply within \(Int(window)) s after the kill (outage is a lower bound)"
        }
        return m
    }

    /// Wall-clock times of the echo replies in a `ping -D` log.
    static func replyTimes(_ text: String) -> [Double] {
        text.split(whereSeparator: \.isNewline).compactMap { line -> Double? in
            guard line.hasPrefix("["), line.contains("bytes from"), let close = line.firstIndex(of: "]") else { return nil }
            return Double(line[line.index(after: line.startIndex)..<close])
        }
    }

    // MARK: gateway failover

    /// The internet host's address (on `lo` of the lab's internet namespace).
    public static let internetHost = "2001:db8:ffff::1"

    /// Gateway failover (decision 0712): the lab has gateways `run.lab.options.gateways` =
    /// [primary, backup] wired to the internet namespace, every filamentd pinned to the primary
    /// (`preferred_gateway`). Once every non-gateway node reaches the internet host, each pings it
    /// every 100 ms (`ping -D -i 0.1`, from its mesh address); after `warmup` s the primary dies
    /// silently (SIGKILL + `Lab.silence`: its uplink goes dark too). A node is through the backup
    /// at its first reply after the kill; the result is the time until 99 % of the nodes are.
    public static func gatewayFailover(_ run: LabRun, convergeTimeout: Double = 120, warmup: Double = 3,
                                       window: Double = 20) throws -> LabResult {
        let gateways = run.lab.options.gateways
        var m = LabResult(experiment: "gateway-failover", daemon: run.driver.name, topology: run.topologyName,
                          timers: run.driver.timers)
        guard gateways.count >= 2, let primary = gateways.first else {
            m.note = "needs two gateways (primary, backup)"; return m
        }
        let nodes = (0..<run.lab.topology.count).filter { !gateways.contains($0) }
        let probes = nodes.map { (from: $0, to: internetHost, source: Optional(run.addresses[$0])) }
        let t0 = Shell.now()
        let reached = try firstReplies(run, probes: probes, deadline: t0 + convergeTimeout)
        let through = reached.compactMap { $0 }
        m.values["nodes"] = Double(nodes.count)
        m.values["nodes_reaching_internet_before"] = Double(through.count)
        if let last = through.max() { m.values["all_reaching_internet_s"] = last - run.firstStart }
        guard through.count == nodes.count else {
            m.note = "only \(through.count) of \(nodes.count) nodes reached the internet host within \(Int(convergeTimeout)) s"
            return m
        }
        let total = Int((warmup + window).rounded(.up)) + 1
        var streams: [Child] = []
        defer { for p in streams { Shell.reap(p, timeout: 0) } }
        for node in nodes {
            streams.append(try run.lab.spawn(node: node, ["ping", "-n", "-D", "-i", "0.1", "-w", "\(total)",
                                                          "-I", run.addresses[node], internetHost],
                                             log: "gw-stream-\(node).log"))
        }
        usleep(UInt32(warmup * 1_000_000))
        let killWall = Date().timeIntervalSince1970
        if let p = run.daemons[primary] { kill(p.processIdentifier, SIGKILL) }
        try run.lab.silence(node: primary)
        if let p = run.daemons[primary] { Shell.reap(p, timeout: 5) }
        run.daemons[primary] = nil
        for p in streams { Shell.reap(p, timeout: window + 10) }
        var recovery: [Double] = []
        var unaffected = 0
        for node in nodes {
            let text = (try? String(contentsOfFile: "\(run.lab.workDir)/gw-stream-\(node).log", encoding: .utf8)) ?? ""
            let times = replyTimes(text)
            // Replies within 20 ms of the kill were already on their way back.
            let before = times.filter { $0 < killWall + 0.02 }, after = times.filter { $0 >= killWall + 0.02 }
            guard let first = after.first else { continue }
            let gap = zip([before.last ?? killWall] + after, after).map { $1 - $0 }.max() ?? 0
            if gap < 0.5 { unaffected += 1 }
            recovery.append(first - killWall)
        }
        recovery.sort()
        m.values["killed_node"] = Double(primary)
        m.values["backup_node"] = Double(gateways[1])
        m.values["nodes_recovered"] = Double(recovery.count)
        m.values["nodes_not_interrupted"] = Double(unaffected)
        let need = Int((0.99 * Double(nodes.count)).rounded(.up))
        if recovery.count >= need {
            m.values["failover_99pct_s"] = recovery[need - 1]
            m.values["failover_median_s"] = recovery[recovery.count / 2]
            m.values["failover_max_s"] = recovery.last
        } else {
            m.note = "only \(recovery.count) of \(nodes.count) nodes reached the internet host within \(Int(window)) s after the kill"
        }
        return m
    }

    // MARK: throughput

    /// TCP throughput over 3 hops (line:4, node 0 to node 3) with iperf3 for `seconds`.
    public static func throughput(driver: any DaemonDriver, seconds: Int = 5, convergeTimeout: Double = 120,
                                  prefix: String = "fl\(getpid())-") throws -> LabResult {
        let run = try LabRun(driver: driver, topology: .line(4), topologyName: "line:4", prefix: prefix)
        defer { run.teardown() }
        var m = LabResult(experiment: "tcp-3-hops", daemon: driver.name, topology: "line:4", timers: driver.timers)
        let reached = try firstReplies(run, pairs: [(0, 3), (3, 0)], deadline: Shell.now() + convergeTimeout)
        guard reached.allSatisfy({ $0 != nil }) else { m.note = "0 and 3 never reached each other"; return m }
        let server = try run.lab.spawn(node: 3, ["iperf3", "-s", "-1"], log: "iperf3-server.log")
        defer { Shell.reap(server, timeout: 2) }
        usleep(500_000)
        let out = try run.lab.exec(node: 0, ["iperf3", "-c", run.addresses[3], "-t", "\(seconds)", "-J"],
                                   timeout: Double(seconds) + 20).stdout
        guard let json = try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any],
              let end = json["end"] as? [String: Any],
              let received = (end["sum_received"] as? [String: Any])?["bits_per_second"] as? NSNumber else {
            throw LabError.badInput("iperf3 printed no end.sum_received")
        }
        m.values["gbit_per_s"] = received.doubleValue / 1e9
        m.values["seconds"] = Double(seconds)
        return m
    }

    // MARK: scale

    /// Grids of growing size, cold start each, until reachability drops below 99 % within the
    /// time limit of one size (or memory would not suffice). Big labs raise the kernel's IPv6
    /// neighbour-table limits and restore them at teardown (`Lab`, decision 0713).
    public static func scale(driver: any DaemonDriver, sides: [Int], pairs: Int = 20, timeout: Double = 300,
                             report: (LabResult) -> Void) throws {
        for side in sides {
            let name = "grid:\(side)x\(side)"
            let nodes = Double(side * side)
            let need = nodes * driver.memoryPerNodeMiB + 512
            let available = memAvailableMiB()
            if available < need {
                report(LabResult(experiment: "scale", daemon: driver.name, topology: name,
                                 values: ["mem_available_mib": available, "mem_needed_mib": need.rounded()],
                                 note: "skipped: about \(Int(need)) MiB needed, \(Int(available)) MiB available",
                                 timers: driver.timers))
                break
            }
            let run = try LabRun(driver: driver, topology: .grid(width: side, height: side), topologyName: name)
            var m: LabResult
            do { m = try coldStart(run, pairs: pairs, timeout: timeout) } catch { run.teardown(); throw error }
            m.values["neigh_gc_thresh3"] = (try? String(contentsOfFile: "/proc/sys/net/ipv6/neigh/default/gc_thresh3", encoding: .utf8))
                .flatMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            m.values["mem_needed_mib"] = need.rounded()
            m.values["nodes"] = nodes
            m.values["timeout_s"] = timeout
            run.teardown()
            m.experiment = "scale"
            report(m)
            let total = m.values["pairs_total"] ?? 1, got = m.values["pairs_reached"] ?? 0
            if got / total < 0.99 { break }
        }
    }
}
