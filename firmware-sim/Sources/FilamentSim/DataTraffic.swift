import FilamentCore
import FilamentEngine

/// The data-traffic model: how many flows send packets and how often (docs/simulator.md, "Data traffic").
public struct TrafficConfig: Sendable, Equatable {
    /// Gap between two packets of one flow.
    public var interval: Interval = .milliseconds(100)
    /// Bulbs that send to their selected gateway (internet traffic): all non-gateway bulbs when there are
    /// at most this many, else a fixed random sample of this size.
    public var gatewayFlows = 256
    /// Flows from a random bulb to one of the oracle's sampled destinations.
    public var pairFlows = 64
    /// Hops after which a packet counts as looped: 255, the IPv6 maximum hop limit. (64 was too few: paths
    /// across a 2,000-bulb city after a gateway failure can be longer.)
    public var ttl = 255
    public init() {}
    /// No traffic at all (the control plane alone, as before the model existed).
    public static var off: TrafficConfig { var t = TrafficConfig(); t.gatewayFlows = 0; t.pairFlows = 0; return t }
    public var enabled: Bool { gatewayFlows > 0 || pairFlows > 0 }
}

/// Counters of the data plane over a run.
struct DataCounters {
    var sent = 0
    var delivered = 0
    /// No forwarding entry on the way (including a source without a selected gateway).
    var noRoute = 0
    /// The next hop was dead or the link to it down, or the receiver died while the packet was in flight.
    var deadNextHop = 0
    /// Lost to the link's loss rate.
    var lostOnLink = 0
    /// TTL ran out: the packet was caught in a forwarding loop.
    var looped = 0
    /// Dropped while the destination was dead or in another component (at the oracle's last sample):
    /// no routing could have delivered it, so it is not charged to an event.
    var unreachable = 0
    /// When the first packet ran out of TTL (virtual time), and the last nodes it visited.
    var firstLoopedAt: Instant?
    var dropped: Int { noRoute + deadNextHop + lostOnLink + looped + unreachable }
}

/// One flow: `source` sends every `interval` to `destination` (a node index), or to its selected gateway.
struct Flow {
    var source: Int32
    /// -1: the source's selected gateway at send time.
    var destination: Int32
}

/// A data packet on its way.
struct DataPacket {
    var flow: Int32
    var destination: Int32
    var at: Int32
    var hops: Int32
    var sentAt: Instant
}

extension Simulation {
    /// Chooses the flows from the seed (called once at start).
    static func chooseFlows(config: SimConfig, destinations: [Int], random: inout SeededRandom) -> [Flow] {
        let t = config.traffic
        let n = config.topology.count
        let gws = Set(config.gateways)
        var flows: [Flow] = []
        if t.gatewayFlows > 0 && !gws.isEmpty {
            var senders = (0..<n).filter { !gws.contains($0) }
            if senders.count > t.gatewayFlows {
                senders.shuffle(using: &random)
                senders = Array(senders.prefix(t.gatewayFlows)).sorted()
            }
            flows += senders.map { Flow(source: Int32($0), destination: -1) }
        }
        if t.pairFlows > 0 && n > 1 && !destinations.isEmpty {
            for _ in 0..<t.pairFlows {
                let d = destinations[Int.random(in: 0..<destinations.count, using: &random)]
                var s = Int.random(in: 0..<n - 1, using: &random)
                if s >= d { s += 1 }
                flows.append(Flow(source: Int32(s), destination: Int32(d)))
            }
        }
        return flows
    }

    /// Starts every flow at a random phase within one interval.
    func startTraffic() {
        let iv = config.traffic.interval.nanoseconds
        for k in flows.indices {
            let phase = iv > 0 ? Int64.random(in: 0..<iv, using: &trafficRandom) : 0
            queue.push(Instant(nanoseconds: phase), .flowTick(flow: Int32(k)))
        }
    }

    /// A flow's turn: send one packet (if the source is powered) and schedule the next.
    func flowTick(_ k: Int) {
        let next = now + config.traffic.interval
        if next <= end { queue.push(next, .flowTick(flow: Int32(k))) }
        let f = flows[k]
        let s = Int(f.source)
        guard nodes[s].powered else { return }
        var d = Int(f.destination)
        if d < 0 {
            guard let g = nodes[s].selectedGateway, let gi = nodeIndex[g] else {
                data.sent += 1; data.noRoute += 1; oracle.dataLost(sentAt: now); return
            }
            d = gi
        }
        data.sent += 1
        forward(DataPacket(flow: Int32(k), destination: Int32(d), at: Int32(s), hops: 0, sentAt: now))
    }

    /// The packet is at node `p.at` (powered): deliver it there or send it one hop on.
    func forward(_ p: DataPacket) {
        let x = Int(p.at), d = Int(p.destination)
        if x == d { data.delivered += 1; return }
        if Int(p.hops) >= config.traffic.ttl { dropData(.looped, at: x, destination: d, sentAt: p.sentAt); return }
        guard let nh = nodes[x].fib.nextHop(toBulb: d) else {
            dropData(.noRoute, at: x, destination: d, sentAt: p.sentAt); return
        }
        // What the daemon does on every forwarded packet: tell the engine which neighbour carried it.
        feed(x, .forwardedVia(NeighbourKey(interface: interface, routerID: nodes[nh].routerID)))
        guard nodes[nh].powered, let l = topo.link(between: x, nh), topo.links[l].up else {
            dropData(.deadNextHop, at: x, destination: d, sentAt: p.sentAt); return
        }
        let lp = topo.links[l].parameters(from: x)
        if lp.loss > 0 && Double.random(in: 0..<1, using: &trafficRandom) < lp.loss {
            dropData(.lostOnLink, at: x, destination: d, sentAt: p.sentAt); return
        }
        var delay = Int64(lp.latencyMs * 1e6)
        if lp.jitterMs > 0 { delay += Int64.random(in: 0...Int64(lp.jitterMs * 1e6), using: &trafficRandom) }
        var q = p
        q.at = Int32(nh); q.hops += 1
        let slot: Int32
        if let s = freePackets.popLast() { packets[Int(s)] = q; slot = s } else { packets.append(q); slot = Int32(packets.count - 1) }
        queue.push(now + Interval(nanoseconds: delay), .dataHop(slot: slot))
    }

    /// A packet arrives at its next hop.
    func dataHop(_ slot: Int32) {
        let p = packets[Int(slot)]
        freePackets.append(slot)
        let x = Int(p.at)
        guard nodes[x].powered else { dropData(.deadNextHop, at: x, destination: Int(p.destination), sentAt: p.sentAt); return }
        forward(p)
    }

    /// Why a packet was dropped.
    enum DropReason { case noRoute, deadNextHop, lostOnLink, looped }

    /// Counts a dropped packet (at node `x`, towards `d`) and charges it to the latest timeline event at or
    /// before its send time, unless the destination was unreachable in the true graph.
    func dropData(_ reason: DropReason, at x: Int, destination d: Int, sentAt: Instant) {
        let comp = oracle.lastComponents
        if !nodes[d].powered || (d < comp.count && x < comp.count && comp[x] >= 0 && comp[x] != comp[d]) {
            data.unreachable += 1; return
        }
        switch reason {
        case .noRoute: data.noRoute += 1
        case .deadNextHop: data.deadNextHop += 1
        case .lostOnLink: data.lostOnLink += 1
        case .looped:
            data.looped += 1
            if data.firstLoopedAt == nil { data.firstLoopedAt = now }
        }
        oracle.dataLost(sentAt: sentAt)
    }
}
