import FilamentCore
import Foundation

extension Scenario {
    /// Turns the file into a runnable configuration. `seed` overrides the file's seed.
    public func config(seed overrideSeed: UInt64? = nil, baseDirectory: String = ".") throws -> SimConfig {
        let seed = overrideSeed ?? self.seed ?? 1
        var rng = SeededRandom(seed: seed ^ 0x5EED_70B0_1060_0000)
        let linkParams = link ?? .default
        var topo = try buildTopology(rng: &rng, link: linkParams, baseDirectory: baseDirectory)
        for o in linkOverrides ?? [] {
            guard o.a < topo.count, o.b < topo.count, let l = topo.link(between: o.a, o.b) else {
                throw SimError.invalid("scenario: link_overrides names \(o.a)-\(o.b), which is not a link")
            }
            let fwd = o.forward ?? linkParams, bwd = o.backward ?? fwd
            topo.links[l] = Link(o.a, o.b, forward: fwd, backward: bwd)
        }
        let gws = try chooseGateways(topo, rng: &rng)
        let engineName = engine ?? EngineRegistry.defaultEngine
        guard let factory = EngineRegistry.factory(named: engineName) else {
            throw SimError.invalid("scenario: unknown engine \"\(engineName)\" (known: \(EngineRegistry.names.joined(separator: ", ")))")
        }
        var c = SimConfig(topology: topo, gateways: gws, duration: .milliseconds(Int64(durationSeconds * 1000)), seed: seed,
                          engineName: engineName, engineFactory: factory)
        c.name = name
        c.crypto = crypto ?? .real
        if let s = sampleIntervalMs { c.sampleInterval = .milliseconds(Int64(max(1, s))) }
        if let m = maxSampledDestinations { c.maxSampledDestinations = max(1, m) }
        if let t = traffic {
            if let iv = t.intervalMs { c.traffic.interval = .milliseconds(Int64(max(1, iv))) }
            if let g = t.gatewayFlows { c.traffic.gatewayFlows = max(0, g) }
            if let p = t.pairFlows { c.traffic.pairFlows = max(0, p) }
        }
        c.initiallyOff = (initiallyOff ?? []).filter { $0 >= 0 && $0 < topo.count }
        c.timeline = try expandTimeline(topo: topo, gateways: gws, rng: &rng)
        return c
    }

    func buildTopology(rng: inout SeededRandom, link: LinkParameters, baseDirectory: String) throws -> Topology {
        let t = topology
        func need(_ v: Int?, _ name: String) throws -> Int {
            guard let v, v > 0 else { throw SimError.invalid("scenario: topology \"\(t.type)\" needs a positive \"\(name)\"") }
            return v
        }
        switch t.type {
        case "grid": return .grid(width: try need(t.width, "width"), height: try need(t.height, "height"), link: link)
        case "line": return .line(count: try need(t.count, "count"), link: link)
        case "clusters": return .clusters(try need(t.clusters, "clusters"), size: try need(t.size, "size"), link: link)
        case "random_geometric":
            let n = try need(t.count, "count")
            let area = t.area ?? 100
            return .randomGeometric(count: n, width: area, height: area, range: t.range ?? 20, rng: &rng, link: link)
        case "building": return .building(floors: try need(t.floors, "floors"), perFloor: try need(t.perFloor, "per_floor"), rng: &rng, link: link)
        case "city": return .city(bulbs: try need(t.bulbs ?? t.count, "bulbs"), targetDegree: t.degree ?? 6, rng: &rng, link: link)
        case "meshnet_lab":
            guard let f = t.file else { throw SimError.invalid("scenario: topology \"meshnet_lab\" needs \"file\"") }
            let path = f.hasPrefix("/") ? f : baseDirectory + "/" + f
            guard let data = FileManager.default.contents(atPath: path) else { throw SimError.invalid("scenario: cannot read \(path)") }
            return try MeshnetLabImport.topology(json: data, link: link)
        default:
            throw SimError.invalid("scenario: unknown topology type \"\(t.type)\" (grid, line, clusters, random_geometric, building, city, meshnet_lab)")
        }
    }

    func chooseGateways(_ topo: Topology, rng: inout SeededRandom) throws -> [Int] {
        guard let g = gateways else { return [] }
        if let ids = g.ids {
            for i in ids where i < 0 || i >= topo.count { throw SimError.invalid("scenario: gateway id \(i) is not a node") }
            return GatewayPlacement.ids(ids).choose(in: topo, rng: &rng)
        }
        let k = g.count ?? 1
        switch g.placement ?? "spread" {
        case "spread": return GatewayPlacement.spread(k).choose(in: topo, rng: &rng)
        case "corners": return GatewayPlacement.corners(k).choose(in: topo, rng: &rng)
        case "random": return GatewayPlacement.random(k).choose(in: topo, rng: &rng)
        case let other: throw SimError.invalid("scenario: unknown gateway placement \"\(other)\" (spread, corners, random)")
        }
    }

    /// Expands high-level steps (groups, partitions, churn, chaos) into concrete, time-sorted actions.
    func expandTimeline(topo: Topology, gateways gws: [Int], rng: inout SeededRandom) throws -> [TimelineEntry] {
        var out: [TimelineEntry] = []
        var partitions: [[Int]] = []
        let nonGateways = (0..<topo.count).filter { !gws.contains($0) }
        func at(_ s: Double) -> Interval { .milliseconds(Int64(s * 1000)) }
        func nodes(_ s: Step) throws -> [Int] {
            var ns = s.nodes ?? []
            if let g = s.group {
                guard let members = groups?[g] else { throw SimError.invalid("scenario: unknown group \"\(g)\"") }
                ns += members
            }
            for n in ns where n < 0 || n >= topo.count { throw SimError.invalid("scenario: node \(n) does not exist") }
            guard !ns.isEmpty else { throw SimError.invalid("scenario: \"\(s.action)\" at \(s.at)s needs \"nodes\" or \"group\"") }
            return ns
        }
        func gateway(_ s: Step) throws -> Int {
            let k = s.gateway ?? 0
            guard k >= 0 && k < gws.count else { throw SimError.invalid("scenario: \"\(s.action)\" names gateway \(k); there are \(gws.count)") }
            return gws[k]
        }
        func link(_ s: Step) throws -> Int {
            guard let a = s.a, let b = s.b, a >= 0, b >= 0, a < topo.count, b < topo.count, let l = topo.link(between: a, b) else {
                throw SimError.invalid("scenario: \"\(s.action)\" at \(s.at)s needs \"a\" and \"b\" naming an existing link")
            }
            return l
        }
        for s in timeline ?? [] {
            let t = at(s.at)
            let label = s.label
            switch s.action {
            case "power_off", "wall_switch_off":
                let ns = try nodes(s)
                out.append(.init(at: t, action: .powerOff(ns), label: label ?? "\(s.action) \(ns.count) node(s)"))
            case "power_on", "wall_switch_on", "join":
                let ns = try nodes(s)
                out.append(.init(at: t, action: .powerOn(ns), label: label ?? "\(s.action) \(ns.count) node(s)"))
            case "cut_link": out.append(.init(at: t, action: .cutLinks([try link(s)]), label: label ?? "cut link \(s.a!)-\(s.b!)"))
            case "restore_link": out.append(.init(at: t, action: .restoreLinks([try link(s)]), label: label ?? "restore link \(s.a!)-\(s.b!)"))
            case "partition":
                guard let v = s.value else { throw SimError.invalid("scenario: partition needs \"value\" (and \"axis\": x or y)") }
                let useY = (s.axis ?? "x") == "y"
                let cut = topo.links.indices.filter { l in
                    let pa = topo.positions[topo.links[l].a], pb = topo.positions[topo.links[l].b]
                    let (ca, cb) = useY ? (pa.y, pb.y) : (pa.x, pb.x)
                    return (ca < v) != (cb < v)
                }
                partitions.append(cut)
                out.append(.init(at: t, action: .cutLinks(cut), label: label ?? "partition \(useY ? "y" : "x")=\(v) (\(cut.count) links)"))
            case "heal":
                guard let cut = partitions.popLast() else { throw SimError.invalid("scenario: heal at \(s.at)s without a partition before it") }
                out.append(.init(at: t, action: .restoreLinks(cut), label: label ?? "heal (\(cut.count) links)"))
            case "kill_gateway": let g = try gateway(s); out.append(.init(at: t, action: .powerOff([g]), label: label ?? "kill gateway \(g)"))
            case "revive_gateway": let g = try gateway(s); out.append(.init(at: t, action: .powerOn([g]), label: label ?? "revive gateway \(g)"))
            case "uplink_down": let g = try gateway(s); out.append(.init(at: t, action: .uplink(node: g, healthy: false), label: label ?? "uplink down at gateway \(g)"))
            case "uplink_up": let g = try gateway(s); out.append(.init(at: t, action: .uplink(node: g, healthy: true), label: label ?? "uplink up at gateway \(g)"))
            case "drain": let g = try gateway(s); out.append(.init(at: t, action: .drain(node: g, draining: true), label: label ?? "drain gateway \(g)"))
            case "undrain": let g = try gateway(s); out.append(.init(at: t, action: .drain(node: g, draining: false), label: label ?? "undrain gateway \(g)"))
            case "churn":
                guard let until = s.until, let rate = s.ratePerMinute, rate > 0, !nonGateways.isEmpty else {
                    throw SimError.invalid("scenario: churn needs \"until\" and a positive \"rate_per_minute\"")
                }
                let down = s.downtimeSeconds ?? 5
                var time = s.at
                while true {
                    time += -(60 / rate) * log(1 - Double.random(in: 0..<1, using: &rng))
                    if time >= until { break }
                    let n = nonGateways[Int.random(in: 0..<nonGateways.count, using: &rng)]
                    out.append(.init(at: at(time), action: .powerOff([n]), label: "churn: power off \(n)"))
                    out.append(.init(at: at(time + down), action: .powerOn([n]), label: "churn: power on \(n)"))
                }
            case "chaos":
                guard let until = s.until, until > s.at else { throw SimError.invalid("scenario: chaos needs \"until\" after \"at\"") }
                let count = s.count ?? 10
                for _ in 0..<count {
                    let start = Double.random(in: s.at..<until, using: &rng)
                    let back = start + Double.random(in: 2...8, using: &rng)
                    let pick = Int.random(in: 0..<6, using: &rng)
                    switch pick {
                    case 0 where !nonGateways.isEmpty:
                        let n = nonGateways[Int.random(in: 0..<nonGateways.count, using: &rng)]
                        out.append(.init(at: at(start), action: .powerOff([n]), label: "chaos: power off \(n)"))
                        out.append(.init(at: at(back), action: .powerOn([n]), label: "chaos: power on \(n)"))
                    case 1 where !topo.links.isEmpty:
                        let l = Int.random(in: 0..<topo.links.count, using: &rng)
                        out.append(.init(at: at(start), action: .cutLinks([l]), label: "chaos: cut link \(topo.links[l].a)-\(topo.links[l].b)"))
                        out.append(.init(at: at(back), action: .restoreLinks([l]), label: "chaos: restore link \(topo.links[l].a)-\(topo.links[l].b)"))
                    case 2 where !gws.isEmpty:
                        let g = gws[Int.random(in: 0..<gws.count, using: &rng)]
                        out.append(.init(at: at(start), action: .uplink(node: g, healthy: false), label: "chaos: uplink down \(g)"))
                        out.append(.init(at: at(back), action: .uplink(node: g, healthy: true), label: "chaos: uplink up \(g)"))
                    case 3 where !gws.isEmpty:
                        let g = gws[Int.random(in: 0..<gws.count, using: &rng)]
                        out.append(.init(at: at(start), action: .drain(node: g, draining: true), label: "chaos: drain \(g)"))
                        out.append(.init(at: at(back), action: .drain(node: g, draining: false), label: "chaos: undrain \(g)"))
                    case 4 where gws.count > 1:
                        let g = gws[Int.random(in: 0..<gws.count, using: &rng)]
                        out.append(.init(at: at(start), action: .powerOff([g]), label: "chaos: kill gateway \(g)"))
                        out.append(.init(at: at(back), action: .powerOn([g]), label: "chaos: revive gateway \(g)"))
                    default:
                        // Wall switch: a node and its neighbours (one room) go dark together.
                        guard !nonGateways.isEmpty else { continue }
                        let n = nonGateways[Int.random(in: 0..<nonGateways.count, using: &rng)]
                        let room = ([n] + topo.adjacency[n].map(\.neighbour)).filter { !gws.contains($0) }.sorted()
                        out.append(.init(at: at(start), action: .powerOff(room), label: "chaos: wall switch off (\(room.count) bulbs)"))
                        out.append(.init(at: at(back), action: .powerOn(room), label: "chaos: wall switch on (\(room.count) bulbs)"))
                    }
                }
            default:
                throw SimError.invalid("scenario: unknown action \"\(s.action)\" at \(s.at)s")
            }
        }
        // Stable sort by time keeps file order for equal times.
        return out.enumerated().sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }.map(\.element)
    }
}

/// The result of checking a scenario's `asserts`.
public struct AssertionOutcome: Sendable {
    public var assertion: Scenario.Assertion
    public var actual: Double?
    public var passed: Bool
    public var message: String {
        let a = assertion
        let got = actual.map { String($0) } ?? "null"
        return "\(passed ? "ok  " : "FAIL") \(a.metric) \(a.op) \(a.value) (got \(got))"
    }
    public var json: JSONValue {
        .object([("metric", .string(assertion.metric)), ("op", .string(assertion.op)), ("value", .number(assertion.value)),
                 ("actual", .number(actual)), ("passed", .bool(passed))])
    }
}

extension Scenario.Assertion {
    /// Checks this assertion against a report (dotted metric paths, see docs/simulator.md).
    public func check(_ report: JSONValue) -> AssertionOutcome {
        let v = report.lookup(metric)?.doubleValue
        guard let v else { return AssertionOutcome(assertion: self, actual: nil, passed: false) }
        let ok: Bool
        switch op {
        case "<": ok = v < value
        case "<=": ok = v <= value
        case ">": ok = v > value
        case ">=": ok = v >= value
        case "==": ok = v == value
        case "!=": ok = v != value
        default: ok = false
        }
        return AssertionOutcome(assertion: self, actual: v, passed: ok)
    }
}
