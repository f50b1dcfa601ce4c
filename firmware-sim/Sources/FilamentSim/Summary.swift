/// The human summary printed after a run.
public enum Summary {
    public static func fmt(_ d: Double?, _ digits: Int = 2) -> String {
        guard let d, d.isFinite else { return "never" }
        var p = 1.0
        for _ in 0..<digits { p *= 10 }
        let r = (d * p).rounded() / p
        return String(r)
    }

    public static func text(result r: SimResult, wallSeconds: Double, peakRSS: Int?) -> String {
        var lines: [String] = []
        lines.append("scenario      \(r.name) (\(r.topologyKind), \(r.nodes) bulbs, \(r.links) links, mean degree \(fmt(r.meanDegree, 1)), \(r.gateways.count) gateways)")
        lines.append("engine        \(r.engine), crypto \(r.crypto.rawValue), seed \(r.seed)")
        lines.append("time          \(fmt(r.simulatedSeconds, 1)) s virtual in \(fmt(wallSeconds)) s wall (x\(fmt(r.simulatedSeconds / max(wallSeconds, 1e-9), 1))), "
                     + "peak RSS \(peakRSS.map { "\($0 / 1_048_576) MiB" } ?? "?"), \(r.eventsProcessed) events")
        lines.append("convergence   \(fmt(r.convergenceSeconds)) s (all sampled pairs and every bulb's gateway path)")
        lines.append("final         reachability \(fmt(r.reachability * 100, 2))%, gateway reachability \(fmt(r.gatewayReachability * 100, 2))%")
        lines.append("loops         \(r.loopsObserved)\(r.loopsObserved > 0 ? "  <-- FAIL (first at \(fmt(r.firstLoopSeconds)) s)" : ""), black holes (node-destination samples) \(r.blackholesObserved)")
        lines.append("stretch       mean \(fmt(r.stretchMean, 3)), p95 \(fmt(r.stretchP95, 3)), max \(fmt(r.stretchMax, 3))")
        let ns = Double(max(r.nodes, 1)) * max(r.simulatedSeconds, 1e-9)
        var kinds: [String] = []
        for (k, name) in SimWire.kindNames.enumerated() where r.bytesByKind[k] > 0 {
            kinds.append("\(name) \(fmt(Double(r.bytesByKind[k]) / ns, 1))")
        }
        lines.append("overhead      \(fmt(Double(r.bytesByKind.reduce(0, +)) / ns, 1)) B/node/s (\(kinds.joined(separator: ", ")))")
        let steady = Double(r.steadyBytesByKind.reduce(0, +)) / (Double(max(r.nodes, 1)) * max(r.steadySeconds, 1e-9))
        lines.append("steady        \(fmt(steady, 1)) B/node/s over the last \(fmt(r.steadySeconds, 1)) s")
        if r.dataSent > 0 {
            let ratio = Double(r.dataDelivered) / Double(r.dataSent) * 100
            lines.append("data          \(r.flows) flows every \(fmt(r.trafficIntervalMs, 0)) ms: \(r.dataSent) sent, \(fmt(ratio, 2))% delivered, "
                         + r.dataDrops.map { "\($0.0) \($0.1)" }.joined(separator: ", ")
                         + (r.firstDataLoopSeconds.map { " (first looped packet at \(fmt($0)) s)" } ?? ""))
        }
        let shown = r.events.prefix(12)
        for (k, e) in shown.enumerated() {
            lines.append("event         t=\(fmt(e.at, 2)) s \(e.label): recovery \(fmt(e.recovery)) s, 99% \(fmt(e.recovery99)) s, "
                         + "min reach \(fmt(e.minReach * 100, 1))%, min gw \(fmt(e.minGatewayReach * 100, 1))%"
                         + (r.dataSent > 0 ? ", data lost \(r.eventDataLoss[k].packetsLost) pkts over \(fmt(r.eventDataLoss[k].lossSeconds)) s" : ""))
        }
        if r.events.count > shown.count {
            lines.append("events        … \(r.events.count - shown.count) more; worst recovery \(fmt(r.maxRecoverySeconds)) s")
        }
        return lines.joined(separator: "\n")
    }
}
