import FilamentCore
import FilamentWire
import Testing
@testable import FilamentEngine

/// An in-memory mesh of engines: a discrete-event loop with per-link latency, point-to-point links, and
/// packets that really go through the wire codec (encoded, then decoded). After every event the loop
/// oracle walks every node's `lookup` towards every destination and records any cycle.
struct Mesh {
    struct Link: Hashable { var a: Int; var b: Int }
    struct Pending { var time: Instant; var order: Int; var to: Int; var from: Int; var unicast: Bool; var packet: RoutingPacket }

    var engines: [RoutingEngine] = []
    var alive: [Bool] = []
    var now = Instant.zero
    var latency = Interval.milliseconds(1)
    /// Links that carry packets.
    var up: Set<Link> = []
    var queue: [Pending] = []
    var order = 0
    var bytesSent: [Int] = []
    var persisted: [UInt64] = []
    var loops: [String] = []
    var checkLoops = true
    var debugLoops = false
    /// Since when the oracle has seen a loop without interruption, and the longest such episode.
    var loopSince: Instant? = nil
    var longestLoop = Interval.zero
    var events = 0
    var configuration: EngineConfiguration
    /// Destinations the oracle checks besides every node's mesh address.
    var extraDestinations: [IPv6Address] = []
    /// Every action each node produced (tests inspect notifications).
    var notifications: [(Int, EngineNotification)] = []
    /// Per-link loss probability in percent (drops both ways), drawn from `lossRandom`.
    var lossPercent: [Link: UInt64] = [:]
    var lossRandom = SeededRandom(seed: 1)

    /// Per-node configuration (gateways differ from the rest).
    var configure: (Int) -> EngineConfiguration

    init(nodes: Int, configuration: EngineConfiguration = EngineConfiguration(), seed: UInt64 = 7,
         configure: ((Int) -> EngineConfiguration)? = nil) {
        self.configuration = configuration
        self.configure = configure ?? { _ in configuration }
        for i in 0..<nodes {
            engines.append(makeEngine(i, configuration: self.configure(i), seed: seed))
            alive.append(true); bytesSent.append(0); persisted.append(0)
        }
    }

    /// Node i's interface towards node j (one point-to-point interface per link).
    static func interface(_ i: Int, to j: Int) -> InterfaceID { InterfaceID(UInt32(j + 1)) }
    static func peer(interface: InterfaceID) -> Int { Int(interface.rawValue) - 1 }
    func routerIndex(_ rid: RouterID) -> Int { Int(rid.rawValue) - 1 }
    static func link(_ a: Int, _ b: Int) -> Link { Link(a: min(a, b), b: max(a, b)) }
    static func key(_ i: Int, to j: Int) -> NeighbourKey {
        NeighbourKey(interface: interface(i, to: j), routerID: TestIdentity.routerID(j))
    }

    /// Brings a link up: interfaces on both sides, then the sessions.
    mutating func connect(_ a: Int, _ b: Int) {
        up.insert(Mesh.link(a, b))
        deliver(a, event: .interfaceUp(Mesh.interface(a, to: b), mtu: 1400))
        deliver(b, event: .interfaceUp(Mesh.interface(b, to: a), mtu: 1400))
        deliver(a, event: .sessionEstablished(Mesh.key(a, to: b), node: TestIdentity.node(b)))
        deliver(b, event: .sessionEstablished(Mesh.key(b, to: a), node: TestIdentity.node(a)))
    }

    /// Cuts a link silently (packets are lost; the engines must notice by themselves).
    mutating func cut(_ a: Int, _ b: Int) { up.remove(Mesh.link(a, b)) }

    /// Restores a silently cut link (sessions were never closed).
    mutating func heal(_ a: Int, _ b: Int) { up.insert(Mesh.link(a, b)) }

    /// Cuts a link and tells both engines (interface down), as a driver does when a cable is pulled.
    mutating func disconnect(_ a: Int, _ b: Int) {
        up.remove(Mesh.link(a, b))
        deliver(a, event: .interfaceDown(Mesh.interface(a, to: b)))
        deliver(b, event: .interfaceDown(Mesh.interface(b, to: a)))
    }

    /// Kills a node silently: it sends nothing and receives nothing.
    mutating func kill(_ i: Int) { alive[i] = false }

    /// Restarts node i with its persisted seqno counter; neighbours see the old sessions close and new ones open.
    mutating func restart(_ i: Int, neighbours: [Int]) {
        engines[i] = makeEngine(i, configuration: configure(i), counter: persisted[i], seed: 99, now: now)
        alive[i] = true
        for j in neighbours {
            deliver(j, event: .sessionClosed(Mesh.key(j, to: i)))
            connect(i, j)
        }
    }

    mutating func deliver(_ i: Int, event: EngineEvent) {
        guard alive[i] else { return }
        let actions = engines[i].handle(event, now: now)
        events += 1
        execute(i, actions)
        if checkLoops { oracle() }
    }

    mutating func execute(_ i: Int, _ actions: [EngineAction]) {
        for a in actions {
            switch a {
            case let .sendMulticast(interface, packet): send(from: i, interface: interface, packet: packet, unicast: false)
            case let .sendUnicast(key, packet): send(from: i, interface: key.interface, packet: packet, unicast: true)
            case let .persistSeqnoCounter(c): persisted[i] = c
            case let .notify(n): notifications.append((i, n))
            default: break
            }
        }
    }

    mutating func send(from i: Int, interface: InterfaceID, packet: RoutingPacket, unicast: Bool) {
        // Through the codec: what arrives is what the bytes say.
        let bytes = try! packet.encode()
        let decoded = try! RoutingPacket.decode(bytes)
        #expect(bytes.count <= 1400, "packet larger than the MTU")
        bytesSent[i] += bytes.count + EstimatedSize.linkOverhead + (unicast ? EstimatedSize.sessionOverhead : EstimatedSize.plaintextFrame)
        let j = Mesh.peer(interface: interface)
        guard j >= 0, j < engines.count, up.contains(Mesh.link(i, j)) else { return }
        if let loss = lossPercent[Mesh.link(i, j)], lossRandom.next(upperBound: UInt64(100)) < loss { return }
        order += 1
        queue.append(Pending(time: now + latency, order: order, to: j, from: i, unicast: unicast, packet: decoded))
    }

    /// Runs the event loop until `end` (bounded in events).
    mutating func run(until end: Instant, maxEvents: Int = 5_000_000) {
        var steps = 0
        while steps < maxEvents {
            steps += 1
            var bestNode = -1
            var deadline = Instant.distantFuture
            for (i, e) in engines.enumerated() where alive[i] {
                let d = e.nextDeadline
                if d < deadline { deadline = d; bestNode = i }
            }
            var qi = -1
            for (k, p) in queue.enumerated() where qi < 0 || (p.time, p.order) < (queue[qi].time, queue[qi].order) { qi = k }
            let qt = qi >= 0 ? queue[qi].time : .distantFuture
            let t = min(deadline, qt)
            if t > end { break }
            now = max(now, t)
            if qi >= 0 && qt <= deadline {
                let p = queue.remove(at: qi)
                if p.unicast {
                    deliver(p.to, event: .unicastReceived(from: Mesh.key(p.to, to: p.from), packet: p.packet))
                } else {
                    deliver(p.to, event: .multicastReceived(interface: Mesh.interface(p.to, to: p.from), packet: p.packet))
                }
            } else {
                deliver(bestNode, event: .timer)
                if engines[bestNode].nextDeadline <= now {
                    let e = engines[bestNode]
                    Issue.record("node \(bestNode) asks to be woken in the past at \(now): digest \(e.digestDue) hk \(e.housekeepingDue) nb \(e.neighbourCheckDue) gw \(e.ownGateway.nextAdvert) hello \(e.interfaces.values.map(\.nextHello)) flush \(e.flushDue) \(e.neighbours.values.map { ($0.lastHelloTime, $0.helloInterval, $0.missedByTimer, $0.isUp) })")
                    return
                }
            }
        }
        now = max(now, end)
    }

    mutating func run(for d: Interval) { run(until: now + d) }

    /// Runs with a flow from `s` to `d`: every `step`, each hop on the current path reports `.forwardedVia`
    /// (as a driver does while forwarding). Returns the first time the path works over live links after
    /// `brokenAt` (nil: never within `duration`).
    mutating func runWithTraffic(from s: Int, to d: Int, for duration: Interval, step: Interval = .milliseconds(10)) -> [(Instant, Bool)] {
        var log: [(Instant, Bool)] = []
        let end = now + duration
        while now < end {
            var working = false
            if let p = path(from: s, to: TestIdentity.address(d)) {
                working = true
                for k in 0..<(p.count - 1) {
                    if !up.contains(Mesh.link(p[k], p[k + 1])) || !alive[p[k + 1]] { working = false }
                    deliver(p[k], event: .forwardedVia(Mesh.key(p[k], to: p[k + 1])))
                    if !working { break }
                }
            }
            log.append((now, working))
            run(for: step)
        }
        return log
    }

    /// Total time in the log during which the flow did not get through.
    static func outage(_ log: [(Instant, Bool)], step: Interval = .milliseconds(10)) -> Interval {
        step * Int64(log.filter { !$0.1 }.count)
    }

    var destinations: [IPv6Address] { (0..<engines.count).map { TestIdentity.address($0) } + extraDestinations }

    /// The node path from `s` to `d` following every node's forwarding table; nil if it dead-ends.
    /// Records a loop if a node repeats.
    mutating func path(from s: Int, to d: IPv6Address) -> [Int]? {
        var cur = s
        var visited: [Int] = [s]
        while !engines[cur].isLocal(d) {
            guard let e = engines[cur].lookup(d) else { return nil }
            let next = routerIndex(e.nextHop.routerID)
            if visited.contains(next) {
                if loops.isEmpty && debugLoops {
                    for v in Set(visited + [next]).sorted() {
                        let snap = engines[v].snapshot()
                        print("DBG node \(v) seqno \(snap.seqno) routes:", snap.routes.filter { $0.prefix.contains(d) }.map { "\($0.nextHop) rid \($0.routerID) s\($0.seqno) adv \($0.advertisedMetric) m \($0.metric) f \($0.feasible) sel \($0.selected)" },
                              "src:", snap.sources.filter { $0.prefix.contains(d) }.map { "\($0.routerID) s\($0.seqno) m\($0.metric)" },
                              "nbrs:", snap.neighbours.map { "\($0.key) up \($0.isUp) c \($0.cost)" })
                    }
                }
                loops.append("t=\(now) loop towards \(d): \(visited + [next])")
                return nil
            }
            visited.append(next)
            cur = next
        }
        return visited
    }

    /// The loop oracle: no node's forwarding chain may revisit a node, for any destination.
    mutating func oracle() {
        let before = loops.count
        for d in destinations {
            for s in engines.indices where alive[s] { _ = path(from: s, to: d) }
        }
        if loops.count > before {
            let since = loopSince ?? now
            loopSince = since
            longestLoop = max(longestLoop, now - since)
        } else {
            loopSince = nil
        }
    }

    /// Every live node reaches every other live node over links that are up, through live nodes.
    func allPairsReachable() -> Bool {
        var copy = self
        for s in engines.indices where alive[s] {
            for t in engines.indices where alive[t] && s != t {
                guard let p = copy.path(from: s, to: TestIdentity.address(t)) else { return false }
                for k in 0..<(p.count - 1) where !up.contains(Mesh.link(p[k], p[k + 1])) || !alive[p[k + 1]] { return false }
            }
        }
        return true
    }

    /// Runs until every pair is reachable (checked every `step`); the time it took, or nil.
    mutating func runUntilConverged(within limit: Interval, step: Interval = .milliseconds(10)) -> Interval? {
        let start = now
        while now - start <= limit {
            if allPairsReachable() { return now - start }
            run(for: step)
        }
        return nil
    }

    /// Total control bytes per node per second over a window.
    mutating func controlBytesPerNodePerSecond(over window: Interval) -> Double {
        let before = bytesSent.reduce(0, +)
        run(for: window)
        let after = bytesSent.reduce(0, +)
        return Double(after - before) / Double(alive.filter { $0 }.count) / window.seconds
    }
}

extension Mesh {
    static func line(_ n: Int, configuration: EngineConfiguration = EngineConfiguration()) -> Mesh {
        var m = Mesh(nodes: n, configuration: configuration)
        for i in 0..<(n - 1) { m.connect(i, i + 1) }
        return m
    }
    static func ring(_ n: Int, configuration: EngineConfiguration = EngineConfiguration()) -> Mesh {
        var m = Mesh(nodes: n, configuration: configuration)
        for i in 0..<n { m.connect(i, (i + 1) % n) }
        return m
    }
    static func grid(_ w: Int, _ h: Int, configuration: EngineConfiguration = EngineConfiguration()) -> Mesh {
        var m = Mesh(nodes: w * h, configuration: configuration)
        for y in 0..<h {
            for x in 0..<w {
                if x + 1 < w { m.connect(y * w + x, y * w + x + 1) }
                if y + 1 < h { m.connect(y * w + x, (y + 1) * w + x) }
            }
        }
        return m
    }
}
