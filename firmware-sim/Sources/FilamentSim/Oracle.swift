import HeapModule
import FilamentCore

/// Checks the mesh from outside at sampled instants: walks every node's forwarding choice towards
/// sampled destinations and towards its chosen gateway, and compares with the true graph.
///
/// Per destination the forwarding choices form a functional graph (one next hop per node), so every
/// source is resolved in O(nodes) with memoisation: each node ends as *reached*, *loop* (its walk
/// enters a cycle) or *black hole* (next hop missing, dead or over a link that is down).
final class Oracle {
    unowned let sim: Simulation
    var random: SeededRandom
    /// Fixed destination set (node indices), chosen once so samples are comparable.
    let destinations: [Int]

    struct Sample { var at: Instant; var reach: Double; var gatewayReach: Double; var loops: Int; var blackholes: Int }
    var samples: [Sample] = []
    var loopsObserved = 0
    var blackholesObserved = 0
    var firstLoopAt: Instant?
    var events: [EventRecord] = []
    var before: Snapshot?
    var beforeLabel = "before"
    var anyEventApplied = false
    var stretch: [Double] = []
    /// The first loops found: when, towards which destination, and the nodes on the cycle.
    var loopExamples: [(at: Instant, destination: Int, cycle: [Int])] = []
    var currentSampleTime = Instant.zero
    /// Black holes left at the end of the run (up to 10): the destination and the walk from a source that
    /// shares its component, ending at the node with no usable next hop.
    var finalBlackholes: [(destination: Int, path: [Int])] = []
    /// Set during the final sample: the components, so `resolve` records black holes that count.
    private var recordHolesIn: [Int]? = nil
    /// Traffic counters at the first sample in the second half of the run (steady-state window).
    var halfStats: TrafficStats?
    var halfAt = Instant.zero
    /// Wall-clock reading at the first fully converged sample (only when the simulation has a wall clock).
    var convergedWall: Double?

    /// Per node: reached (0), loop (1), black hole (2), unresolved (3), walking (4).
    private var state: [UInt8] = []
    private var cost: [Double] = []
    private var stamp: [Int32] = []

    struct EventRecord {
        var label: String
        var at: Instant
        var preReach: Double
        var preGatewayReach: Double
        var minReach = 1.0
        var minGatewayReach = 1.0
        var recoveredAt: Instant?
        var recovered99At: Instant?
        var measured: Bool
        /// Data packets sent at or after this event (and before the next) that were lost.
        var packetsLost = 0
        /// Send time of the last of them.
        var lastLossAt: Instant?
    }

    /// Component of every node at the last sample (-1: dead), for data packets.
    var lastComponents: [Int] = []

    /// A data packet sent at `sentAt` was lost: charge it to the latest event at or before that time.
    func dataLost(sentAt: Instant) {
        var k = events.count - 1
        while k >= 0 && events[k].at > sentAt { k -= 1 }
        guard k >= 0 else { return }
        events[k].packetsLost += 1
        if events[k].lastLossAt.map({ $0 < sentAt }) ?? true { events[k].lastLossAt = sentAt }
    }

    init(sim: Simulation, random: SeededRandom) {
        self.sim = sim
        self.random = random
        let n = sim.nodes.count
        var dest: [Int]
        if n <= sim.config.maxSampledDestinations {
            dest = Array(0..<n)
        } else {
            var all = Array(0..<n)
            all.shuffle(using: &self.random)
            dest = Array(all.prefix(sim.config.maxSampledDestinations))
        }
        dest.append(contentsOf: sim.config.gateways)
        destinations = Array(Set(dest)).sorted()
        state = Array(repeating: 3, count: n)
        cost = Array(repeating: 0, count: n)
    }

    func eventWillApply(_ e: TimelineEntry, at t: Instant) {
        if !anyEventApplied {
            anyEventApplied = true
            before = snapshot(at: t)
            beforeLabel = "before \(e.label)"
        }
        let last = samples.last
        events.append(EventRecord(label: e.label, at: t, preReach: last?.reach ?? 0, preGatewayReach: last?.gatewayReach ?? 0,
                                  measured: e.measured))
    }

    /// Resolves every node's walk towards destination `d`; fills `state` and `cost`.
    private func resolve(_ d: Int, alive: [Bool]) -> Int {
        let nodes = sim.nodes
        let topo = sim.topo
        for i in state.indices { state[i] = 3 }
        state[d] = 0; cost[d] = 0
        var loops = 0
        var path: [Int] = []
        for s in 0..<nodes.count where alive[s] && state[s] == 3 {
            path.removeAll(keepingCapacity: true)
            var x = s
            var outcome: UInt8 = 2
            while true {
                let st = state[x]
                if st == 0 || st == 1 || st == 2 { outcome = st; break }
                if st == 4 {
                    outcome = 1; loops += 1
                    if loopExamples.count < 10, let start = path.firstIndex(of: x) {
                        loopExamples.append((at: currentSampleTime, destination: d, cycle: Array(path[start...])))
                    }
                    break
                }
                state[x] = 4
                path.append(x)
                guard let nh = nodes[x].fib.nextHop(toBulb: d), alive[nh], let l = topo.link(between: x, nh), topo.links[l].up else {
                    outcome = 2; break
                }
                x = nh
            }
            // Costs backwards along the path (only meaningful when reached).
            var next = x
            for k in stride(from: path.count - 1, through: 0, by: -1) {
                let p = path[k]
                state[p] = outcome
                if outcome == 0, let l = topo.link(between: p, next) { cost[p] = topo.links[l].cost + cost[next] }
                next = p
            }
            if outcome == 2, let last = path.last { state[last] = 2 }
            if outcome == 2, let comp = recordHolesIn, comp[s] == comp[d], finalBlackholes.count < 10 {
                finalBlackholes.append((destination: d, path: path.last == x ? path : path + [x]))
            }
        }
        return loops
    }

    func components(alive: [Bool]) -> [Int] {
        let topo = sim.topo
        var comp = [Int](repeating: -1, count: topo.count)
        var c = 0
        var stack: [Int] = []
        for s in 0..<topo.count where alive[s] && comp[s] < 0 {
            comp[s] = c; stack.append(s)
            while let u = stack.popLast() {
                for e in topo.adjacency[u] where alive[e.neighbour] && comp[e.neighbour] < 0 && topo.links[e.link].up {
                    comp[e.neighbour] = c; stack.append(e.neighbour)
                }
            }
            c += 1
        }
        return comp
    }

    func liveGateways(alive: [Bool]) -> [Int] {
        sim.config.gateways.filter { alive[$0] && sim.nodes[$0].uplinkHealthy }
    }

    func sample(at t: Instant, final: Bool = false) {
        currentSampleTime = t
        let nodes = sim.nodes
        let alive = nodes.map(\.powered)
        let comp = components(alive: alive)
        lastComponents = comp
        var connected = 0, reached = 0, loops = 0, holes = 0
        var gatewayStatus: [Int: [UInt8]] = [:]
        let gws = liveGateways(alive: alive)
        let gwSet = Set(gws)
        recordHolesIn = final ? comp : nil
        defer { recordHolesIn = nil }
        for d in destinations where alive[d] {
            loops += resolve(d, alive: alive)
            for s in 0..<nodes.count where alive[s] && s != d && comp[s] == comp[d] {
                connected += 1
                if state[s] == 0 { reached += 1 } else if state[s] == 2 { holes += 1 }
            }
            if gwSet.contains(d) { gatewayStatus[d] = state }
            if final { recordStretch(d, alive: alive) }
        }
        // Gateway reachability: every live non-gateway node that shares a component with a live gateway.
        var gwAchievable = 0, gwReached = 0
        for s in 0..<nodes.count where alive[s] && !gwSet.contains(s) {
            guard gws.contains(where: { comp[$0] == comp[s] }) else { continue }
            gwAchievable += 1
            if let g = nodes[s].selectedGateway, let gi = sim.nodeIndex[g], gwSet.contains(gi), gatewayStatus[gi]?[s] == 0 {
                gwReached += 1
            }
        }
        let reach = connected == 0 ? 1 : Double(reached) / Double(connected)
        let gwReach = gwAchievable == 0 ? 1 : Double(gwReached) / Double(gwAchievable)
        loopsObserved += loops
        if convergedWall == nil && reach >= 1 - 1e-12 && gwReach >= 1 - 1e-12, let clock = sim.wallClock { convergedWall = clock() }
        if halfStats == nil && t.nanoseconds >= sim.config.duration.nanoseconds / 2 && !final { halfStats = sim.stats; halfAt = t }
        blackholesObserved += holes
        if loops > 0 && firstLoopAt == nil { firstLoopAt = t }
        samples.append(Sample(at: t, reach: reach, gatewayReach: gwReach, loops: loops, blackholes: holes))
        for k in events.indices where events[k].at <= t {
            events[k].minReach = min(events[k].minReach, reach)
            events[k].minGatewayReach = min(events[k].minGatewayReach, gwReach)
            if events[k].recoveredAt == nil && reach >= min(events[k].preReach, 1) - 1e-9
                && gwReach >= min(events[k].preGatewayReach, 1) - 1e-9 {
                events[k].recoveredAt = t
            }
            if events[k].recovered99At == nil && reach >= min(events[k].preReach, 0.99) - 1e-9
                && gwReach >= min(events[k].preGatewayReach, 0.99) - 1e-9 {
                events[k].recovered99At = t
            }
        }
    }

    /// Stretch of every reached source towards `d`: forwarding-path cost over the Dijkstra optimum.
    private func recordStretch(_ d: Int, alive: [Bool]) {
        let topo = sim.topo
        var dist = [Double](repeating: .infinity, count: topo.count)
        var heap = Heap<DistanceEntry>()
        dist[d] = 0; heap.insert(DistanceEntry(distance: 0, node: d))
        while let entry = heap.popMin() {
            let dd = entry.distance, u = entry.node
            if dd > dist[u] { continue }
            for e in topo.adjacency[u] where alive[e.neighbour] && topo.links[e.link].up {
                let nd = dd + topo.links[e.link].cost
                if nd < dist[e.neighbour] { dist[e.neighbour] = nd; heap.insert(DistanceEntry(distance: nd, node: e.neighbour)) }
            }
        }
        for s in 0..<topo.count where alive[s] && s != d && state[s] == 0 && dist[s] > 0 && dist[s].isFinite {
            stretch.append(cost[s] / dist[s])
        }
    }

    /// Per-node picture for the HTML report: alive, next hop towards its gateway, gateway index, status.
    func snapshot(at t: Instant) -> Snapshot {
        let nodes = sim.nodes
        let alive = nodes.map(\.powered)
        var hop = [Int](repeating: -1, count: nodes.count)
        var gw = [Int](repeating: -1, count: nodes.count)
        var status = [UInt8](repeating: 3, count: nodes.count)  // 0 ok, 1 loop, 2 hole, 3 no gateway/off
        let gws = liveGateways(alive: alive)
        for g in sim.config.gateways where alive[g] {
            _ = resolve(g, alive: alive)
            for s in 0..<nodes.count where alive[s] {
                if s == g { if gws.contains(g) { status[s] = 0; gw[s] = g }; continue }
                guard let sel = nodes[s].selectedGateway, sim.nodeIndex[sel] == g else { continue }
                gw[s] = g
                status[s] = state[s]
                hop[s] = nodes[s].fib.nextHop(toBulb: g) ?? -1
            }
        }
        return Snapshot(at: t, alive: alive, nextHop: hop, gateway: gw, status: status,
                        linkUp: sim.topo.links.map(\.up), liveGateways: gws)
    }

    func finish(at t: Instant) -> SimResult {
        sample(at: t, final: true)
        let after = snapshot(at: t)
        return SimResult(sim: sim, oracle: self, after: after)
    }
}

/// The state of the mesh at one instant, for pictures.
struct Snapshot {
    var at: Instant
    var alive: [Bool]
    var nextHop: [Int]
    var gateway: [Int]
    var status: [UInt8]
    var linkUp: [Bool]
    var liveGateways: [Int]
}

/// A (distance, node) entry of the oracle's Dijkstra, ordered by distance then node.
struct DistanceEntry: Comparable {
    var distance: Double
    var node: Int
    static func < (a: DistanceEntry, b: DistanceEntry) -> Bool { (a.distance, a.node) < (b.distance, b.node) }
}
