import FilamentCore
import FilamentCrypto

/// What a run produced: the oracle's measurements, traffic counters and two pictures of the mesh.
public struct SimResult {
    public let name: String
    public let engine: String
    public let nodes: Int
    public let links: Int
    public let meanDegree: Double
    public let topologyKind: String
    public let gateways: [Int]
    public let seed: UInt64
    public let simulatedSeconds: Double
    public let crypto: CryptoMode
    public let convergenceSeconds: Double?
    public let reachability: Double
    public let gatewayReachability: Double
    public let loopsObserved: Int
    public let firstLoopSeconds: Double?
    public let blackholesObserved: Int
    /// Up to 10 loops: time, destination node, nodes on the cycle.
    public let loopExamples: [(at: Double, destination: Int, cycle: [Int])]
    /// Black holes at the end of the run (up to 10): destination and the walk to the node without a next hop.
    public let finalBlackholes: [(destination: Int, path: [Int])]
    public let stretchMean: Double?
    public let stretchP95: Double?
    public let stretchMax: Double?
    public let bytesByKind: [Int]
    public let steadyBytesByKind: [Int]
    public let steadySeconds: Double
    public let datagrams: Int
    public let drops: [(String, Int)]
    /// Link-layer counters (crypto "real"): packets sealed/opened, handshakes completed, initiations, drops.
    public let link: [(String, Int)]
    public let events: [(label: String, at: Double, recovery: Double?, recovery99: Double?, minReach: Double, minGatewayReach: Double, measured: Bool)]
    /// Per event (same order): data packets lost that were sent in its window, and the seconds from the
    /// event to the send time of the last of them (0 when none was lost).
    public let eventDataLoss: [(packetsLost: Int, lossSeconds: Double)]
    /// Data plane: flows, packets sent, delivered, and drops by reason.
    public let flows: Int
    public let trafficIntervalMs: Double
    public let dataSent: Int
    public let dataDelivered: Int
    public let dataDrops: [(String, Int)]
    /// Virtual seconds at which the first data packet ran out of TTL (nil: none did).
    public let firstDataLoopSeconds: Double?
    public let eventsProcessed: UInt64
    /// Wall-clock reading at convergence (same clock as `Simulation.wallClock`), nil if not measured.
    public let convergedWall: Double?
    public let samples: [(at: Double, reach: Double, gatewayReach: Double)]
    let topology: Topology
    let before: Snapshot?
    let beforeLabel: String
    let after: Snapshot

    init(sim: Simulation, oracle: Oracle, after: Snapshot) {
        let c = sim.config
        name = c.name; engine = c.engineName
        nodes = sim.nodes.count; links = sim.topo.links.count; meanDegree = sim.topo.meanDegree
        topologyKind = sim.topo.kind
        gateways = c.gateways; seed = c.seed
        simulatedSeconds = c.duration.seconds
        crypto = c.crypto
        let firstFull = oracle.samples.first { $0.reach >= 1 - 1e-12 && $0.gatewayReach >= 1 - 1e-12 }
        convergenceSeconds = firstFull.map { ($0.at - Instant.zero).seconds }
        let last = oracle.samples.last!
        reachability = last.reach; gatewayReachability = last.gatewayReach
        loopsObserved = oracle.loopsObserved
        firstLoopSeconds = oracle.firstLoopAt.map { ($0 - Instant.zero).seconds }
        blackholesObserved = oracle.blackholesObserved
        loopExamples = oracle.loopExamples.map { (($0.at - Instant.zero).seconds, $0.destination, $0.cycle) }
        finalBlackholes = oracle.finalBlackholes
        let st = oracle.stretch.sorted()
        if st.isEmpty { stretchMean = nil; stretchP95 = nil; stretchMax = nil } else {
            stretchMean = st.reduce(0, +) / Double(st.count)
            stretchP95 = st[min(st.count - 1, Int((Double(st.count) * 0.95).rounded(.down)))]
            stretchMax = st.last
        }
        bytesByKind = sim.stats.bytesByKind
        if let h = oracle.halfStats {
            steadyBytesByKind = zip(sim.stats.bytesByKind, h.bytesByKind).map { $0 - $1 }
            steadySeconds = (c.duration - (oracle.halfAt - Instant.zero)).seconds
        } else { steadyBytesByKind = bytesByKind; steadySeconds = c.duration.seconds }
        datagrams = sim.stats.datagrams
        drops = [("lost_on_link", sim.stats.lost), ("no_session", sim.stats.noSessionDrops),
                 ("unroutable_unicast", sim.stats.unroutableUnicast), ("undecryptable", sim.stats.undecryptable),
                 ("encode_errors", sim.stats.encodeErrors), ("decode_errors", sim.stats.decodeErrors)]
        let lt = sim.linkTotals
        link = [("packets_sealed", Int(lt.sealed)), ("packets_opened", Int(lt.opened)), ("handshakes_completed", Int(lt.handshakes)),
                ("initiations_sent", Int(lt.initiations)), ("drops", Int(lt.drops))]
            + LinkDropReason.allCases.enumerated().map { ("drops_" + $0.element.rawValue, Int(lt.dropsByReason[$0.offset])) }
        events = oracle.events.map { e in
            (e.label, (e.at - Instant.zero).seconds, e.recoveredAt.map { ($0 - e.at).seconds },
             e.recovered99At.map { ($0 - e.at).seconds }, e.minReach, e.minGatewayReach, e.measured)
        }
        eventDataLoss = oracle.events.map { e in (e.packetsLost, e.lastLossAt.map { ($0 - e.at).seconds } ?? 0) }
        flows = sim.flows.count
        trafficIntervalMs = Double(c.traffic.interval.nanoseconds) / 1e6
        firstDataLoopSeconds = sim.data.firstLoopedAt.map { ($0 - Instant.zero).seconds }
        dataSent = sim.data.sent; dataDelivered = sim.data.delivered
        dataDrops = [("no_route", sim.data.noRoute), ("dead_next_hop", sim.data.deadNextHop),
                     ("lost_on_link", sim.data.lostOnLink), ("looped", sim.data.looped),
                     ("unreachable", sim.data.unreachable)]
        eventsProcessed = sim.eventsProcessed
        convergedWall = oracle.convergedWall
        samples = oracle.samples.map { (($0.at - Instant.zero).seconds, $0.reach, $0.gatewayReach) }
        topology = sim.topo
        before = oracle.before
        beforeLabel = oracle.beforeLabel
        self.after = after
    }

    /// Worst recovery over measured events (nil when an event never recovered or there are none).
    public var maxRecoverySeconds: Double? {
        let m = events.filter(\.measured)
        if m.isEmpty { return 0 }
        var worst = 0.0
        for e in m { guard let r = e.recovery else { return nil }; worst = max(worst, r) }
        return worst
    }

    /// The JSON report (docs/sim-report-schema.md). `wallSeconds`/`peakRSS` nil leaves them out, which is
    /// how determinism is compared.
    /// `wallToConvergence`: wall seconds from the start of the run to convergence (not deterministic).
    public func report(wallSeconds: Double?, peakRSSBytes: Int?, wallToConvergence: Double? = nil,
                       assertions: [JSONValue] = []) -> JSONValue {
        let nodeSeconds = Double(max(nodes, 1)) * max(simulatedSeconds, 1e-9)
        func perNode(_ kinds: [Int], seconds: Double) -> JSONValue {
            let ns = Double(max(nodes, 1)) * max(seconds, 1e-9)
            var byType: [(String, JSONValue)] = []
            for (k, name) in SimWire.kindNames.enumerated() { byType.append((name, .number(Double(kinds[k]) / ns))) }
            return .object([("total", .number(Double(kinds.reduce(0, +)) / ns)), ("by_type", .object(byType))])
        }
        var kv: [(String, JSONValue)] = [
            ("schema", .string("filament-sim-report/1")),
            ("scenario", .string(name)),
            ("engine", .string(engine)),
            ("topology", .string(topologyKind)),
            ("nodes", .int(nodes)),
            ("links", .int(links)),
            ("mean_degree", .number(meanDegree)),
            ("gateways", .array(gateways.map { .int($0) })),
            ("seed", .int(Int(truncatingIfNeeded: seed))),
            ("simulated_seconds", .number(simulatedSeconds)),
        ]
        if let w = wallSeconds { kv.append(("wall_seconds", .number(w))) }
        if let r = peakRSSBytes { kv.append(("peak_rss_bytes", .int(r))) }
        if let w = wallSeconds, w > 0 { kv.append(("speedup", .number(simulatedSeconds / w))) }
        if wallSeconds != nil { kv.append(("wall_seconds_to_convergence", .number(wallToConvergence))) }
        kv += [
            ("crypto", .string(crypto.rawValue)),
            ("convergence_seconds", .number(convergenceSeconds)),
            ("reachability", .number(reachability)),
            ("gateway_reachability", .number(gatewayReachability)),
            ("loops_observed", .int(loopsObserved)),
            ("first_loop_seconds", .number(firstLoopSeconds)),
            ("loop_examples", .array(loopExamples.map { .object([("at_seconds", .number($0.at)), ("destination", .int($0.destination)),
                                                                   ("cycle", .array($0.cycle.map { .int($0) }))]) })),
            ("blackholes_observed", .int(blackholesObserved)),
            ("final_blackholes", .array(finalBlackholes.map { .object([("destination", .int($0.destination)),
                                                                        ("path", .array($0.path.map { .int($0) }))]) })),
            ("route_stretch", .object([("mean", .number(stretchMean)), ("p95", .number(stretchP95)), ("max", .number(stretchMax))])),
            ("control_bytes_per_node_per_second", perNode(bytesByKind, seconds: simulatedSeconds)),
            ("steady_control_bytes_per_node_per_second", perNode(steadyBytesByKind, seconds: steadySeconds)),
            ("datagrams_per_node_per_second", .number(Double(datagrams) / nodeSeconds)),
            ("drops", .object(drops.map { ($0.0, .int($0.1)) })),
            ("link_layer", .object(link.map { ($0.0, .int($0.1)) })),
            ("max_event_recovery_seconds", .number(maxRecoverySeconds)),
            ("data", .object([
                ("flows", .int(flows)), ("interval_ms", .number(trafficIntervalMs)),
                ("sent", .int(dataSent)), ("delivered", .int(dataDelivered)),
                ("delivery_ratio", .number(dataSent == 0 ? nil : Double(dataDelivered) / Double(dataSent))),
                ("dropped", .object(dataDrops.map { ($0.0, .int($0.1)) })),
                ("looped", .int(dataDrops[3].1)),
                ("first_looped_seconds", .number(firstDataLoopSeconds)),
            ])),
            ("max_event_data_loss_seconds", .number(events.indices.filter { events[$0].measured }.map { eventDataLoss[$0].lossSeconds }.max() ?? 0)),
            ("events", .array(events.indices.map { k in let e = events[k]; return .object([
                ("label", .string(e.label)), ("at_seconds", .number(e.at)),
                ("recovery_seconds", .number(e.recovery)), ("recovery99_seconds", .number(e.recovery99)),
                ("min_reachability", .number(e.minReach)), ("min_gateway_reachability", .number(e.minGatewayReach)),
                ("packets_lost", .int(eventDataLoss[k].packetsLost)), ("data_loss_seconds", .number(eventDataLoss[k].lossSeconds)),
                ("measured", .bool(e.measured)),
            ]) })),
            ("events_processed", .int(Int(eventsProcessed))),
            ("samples", .array(samples.map { .array([.number($0.at), .number($0.reach), .number($0.gatewayReach)]) })),
        ]
        if !assertions.isEmpty { kv.append(("assertions", .array(assertions))) }
        return .object(kv)
    }
}
