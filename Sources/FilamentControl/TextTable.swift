/// A plain text table: left-aligned columns separated by two spaces, header underlined by nothing
/// (like `ip` and `batctl`), so it reads well and greps well.
public struct TextTable: Sendable {
    public var headers: [String]
    public var rows: [[String]] = []
    public init(_ headers: [String]) { self.headers = headers }
    public mutating func add(_ row: [String]) { rows.append(row) }

    public func render() -> String {
        var widths = headers.map(\.count)
        for r in rows { for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) } }
        func line(_ cells: [String]) -> String {
            var s = ""
            for (i, c) in cells.enumerated() {
                if i == cells.count - 1 { s += c } else { s += c + String(repeating: " ", count: widths[i] - c.count + 2) }
            }
            return s
        }
        return ([line(headers)] + rows.map(line)).joined(separator: "\n") + "\n"
    }
}

/// Human output for each command (the `--json` output is the schema types themselves).
public enum ControlFormat {
    public static func status(_ s: StatusInfo) -> String {
        var out = ""
        out += "node       \(s.node_id)\(s.name.map { "  (\($0))" } ?? "")\n"
        out += "address    \(s.address)\n"
        out += "version    \(s.version)   up \(duration(s.uptime_seconds))\n"
        out += "mesh       \(s.neighbours) neighbours, \(s.routes) routes\n"
        if let g = s.gateway {
            out += "gateway    \(g.name ?? short(g.node_id)) \(g.address) metric \(g.metric)\n"
        } else {
            out += "gateway    none selected (no internet)\n"
        }
        out += "health     \(s.health)\n"
        for p in s.problems { out += "  - \(p)\n" }
        return out
    }

    public static func neighbours(_ list: [NeighbourInfo]) -> String {
        var t = TextTable(["NODE", "NAME", "ADDRESS", "INTERFACE", "COST", "RXCOST", "TXCOST", "RTT", "CIPHER"])
        for n in list {
            t.add([short(n.node_id), n.name ?? "-", n.address, n.interface, metric(n.cost), metric(n.rxcost), metric(n.txcost),
                   n.rtt_ms.map { formatMillis($0) } ?? "-", n.cipher ?? "-"])
        }
        return t.render()
    }

    public static func routes(_ list: [RouteInfo]) -> String {
        var t = TextTable(["", "DESTINATION", "VIA", "INTERFACE", "METRIC", "SEQNO"])
        for r in list {
            t.add([r.selected ? "*" : " ", r.destination, r.via ?? "-", r.interface ?? "-", metric(r.metric), String(r.seqno)])
        }
        return t.render()
    }

    public static func gateways(_ list: [GatewayInfo]) -> String {
        var t = TextTable(["", "NODE", "NAME", "ADDRESS", "METRIC", "DOWN/UP", "LOAD", "STATE"])
        for g in list {
            let state = !g.healthy ? "unhealthy" : (g.draining ? "draining" : "ok")
            t.add([g.selected ? "*" : " ", short(g.node_id), g.name ?? "-", g.address, metric(g.metric),
                   "\(rate(g.bandwidth_down_kbps))/\(rate(g.bandwidth_up_kbps))", "\(g.load)%", state])
        }
        return t.render()
    }

    public static func topologyTable(_ topo: TopologyInfo) -> String {
        var t = TextTable(["NODE", "NAME", "ADDRESS", "ROLE", "LINKS"])
        for n in topo.nodes {
            let links = topo.links.filter { $0.source == n.node_id || $0.target == n.node_id }
                .map { short($0.source == n.node_id ? $0.target : $0.source) }
            t.add([short(n.node_id), n.name ?? "-", n.address, n.gateway ? "gateway" : (n.answered ? "bulb" : "no answer"),
                   links.joined(separator: ",")])
        }
        let unconfirmed = topo.links.filter { !$0.confirmed }.count
        return t.render() + "\(topo.nodes.count) nodes, \(topo.links.count) links"
            + (unconfirmed > 0 ? " (\(unconfirmed) reported by one end only)" : "") + "\n"
    }

    /// Graphviz text: nodes named by short key, gateways as boxes, edges labelled with their cost.
    public static func topologyDot(_ topo: TopologyInfo) -> String {
        var s = "graph filament {\n  node [shape=ellipse];\n"
        for n in topo.nodes {
            let label = n.name.map { "\(escape($0))\\n\(short(n.node_id))" } ?? short(n.node_id)
            s += "  \"\(short(n.node_id))\" [label=\"\(label)\"\(n.gateway ? ", shape=box" : "")];\n"
        }
        for l in topo.links {
            s += "  \"\(short(l.source))\" -- \"\(short(l.target))\" [label=\"\(l.cost)\"\(l.confirmed ? "" : ", style=dashed")];\n"
        }
        return s + "}\n"
    }

    /// One monitor event as a line: "flush neighbour 0d889d1c v1c stairs", "add route P via ... dev ... metric M".
    public static func monitorLine(_ e: MonitorEvent) -> String {
        let key = e.kind == "neighbour" || (e.kind == "gateway" && e.key != "selected") ? short(e.key) : e.key
        // The selected gateway's detail is its node id (or "none").
        let detail = e.kind == "gateway" && e.key == "selected" ? e.detail.map { $0 == "none" ? $0 : short($0) } : e.detail
        return "\(e.event) \(e.kind) \(key)\(detail.map { " \($0)" } ?? "")"
    }

    /// One line per check, "ok" or "FAIL", the fix indented under each failure, and a summary.
    public static func doctor(_ checks: [DoctorCheck]) -> String {
        let width = checks.map(\.check.count).max() ?? 0
        var out = ""
        for c in checks {
            out += "\(c.ok ? "ok  " : "FAIL")  \(c.check)\(String(repeating: " ", count: width - c.check.count))  \(c.detail)\n"
            if let fix = c.fix, !c.ok { out += "      fix: \(fix)\n" }
        }
        let bad = checks.filter { !$0.ok }.count
        return out + (bad == 0 ? "all \(checks.count) checks passed\n" : "\(bad) of \(checks.count) checks failed\n")
    }

    public static func short(_ nodeID: String) -> String { String(nodeID.prefix(8)) }
    static func metric(_ m: Int) -> String { m >= 0xFFFF ? "inf" : String(m) }
    static func escape(_ s: String) -> String { s.replacingAll("\\", "\\\\").replacingAll("\"", "\\\"") }

    static func duration(_ seconds: Int) -> String {
        let d = seconds / 86400, h = seconds / 3600 % 24, m = seconds / 60 % 60, s = seconds % 60
        if d > 0 { return "\(d)d\(h)h" }
        if h > 0 { return "\(h)h\(m)m" }
        if m > 0 { return "\(m)m\(s)s" }
        return "\(s)s"
    }

    static func rate(_ kbps: Int) -> String {
        if kbps >= 1_000_000 && kbps % 1_000_000 == 0 { return "\(kbps / 1_000_000)G" }
        if kbps >= 1_000 && kbps % 1_000 == 0 { return "\(kbps / 1_000)M" }
        return "\(kbps)k"
    }

    static func formatMillis(_ ms: Double) -> String {
        let tenths = Int((ms * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)ms"
    }
}

extension String {
    /// Replaces one character with a string. By hand: `split(separator:)` with a String separator
    /// comes from _StringProcessing, which links the regex parser (~1 MB) into filamentd.
    fileprivate func replacingAll(_ a: Character, _ b: String) -> String {
        var out = ""
        for c in self { if c == a { out += b } else { out.append(c) } }
        return out
    }
}
