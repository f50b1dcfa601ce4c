import FilamentCore
import FilamentWire

extension RoutingEngine {
    /// Every table, sorted (never in dictionary order).
    public func snapshot() -> EngineSnapshot {
        let ns = neighbourSnapshots()
        var rs: [RouteSnapshot] = []
        for p in routes.keys.sorted() {
            let id = routes.id(p)!
            let pr = routes[id: id]
            for (i, r) in routes.routes(id).enumerated().sorted(by: { key($0.element) < key($1.element) }) {
                rs.append(routeSnapshot(p, r, selected: pr.selected == i))
            }
        }
        var all: [(key: SourceKey, source: Source)] = sources.map { ($0.key, $0.value) }
        for (p, pr) in routes { if let s = pr.source { all.append((SourceKey(prefix: p, routerID: pr.sourceRouterID), s)) } }
        let ss = all.sorted { $0.key < $1.key }.map { e in
            SourceSnapshot(prefix: e.key.prefix, routerID: e.key.routerID, seqno: e.source.seqno, metric: e.source.metric)
        }
        let gs = allGatewayIDs.map { g -> GatewaySnapshot in
            let a = advert(of: g)!
            return GatewaySnapshot(node: g, name: a.name, seqno: a.seqno, flags: a.flags, bandwidthDownKbps: a.bandwidthDownKbps,
                                   bandwidthUpKbps: a.bandwidthUpKbps, load: a.load, pathMetric: pathMetric(g), score: score(g),
                                   expires: g == node ? .distantFuture : gateways[g]!.expires)
        }
        return EngineSnapshot(node: node, routerID: routerID, meshAddress: meshAddress, seqno: ownSeqno, neighbours: ns,
                              routes: rs, sources: ss, gateways: gs, selectedGateway: gatewayState.primary, counters: counters)
    }

    /// The neighbours alone, sorted by key: cheap (a handful of entries), for callers that run per
    /// route event and must not copy and sort every route as `snapshot()` does.
    /// The engine's counters alone (no table walk).
    public var engineCounters: EngineCounters { counters }

    public func neighbourSnapshots() -> [NeighbourSnapshot] {
        neighbours.keys.sorted().map { k -> NeighbourSnapshot in
            let n = neighbours[k]!
            return NeighbourSnapshot(key: k, node: n.node, rxcost: n.rxcost, txcost: n.txcost, cost: n.cost,
                                     helloHistory: n.history, isUp: n.isUp, rtt: n.smoothedRTT)
        }
    }

    /// The selected route to `prefix`, if any (one lookup; `snapshot()` copies every table).
    public func selectedRoute(to prefix: Prefix) -> RouteSnapshot? {
        guard let id = routes.id(prefix), let i = routes.selected(id) else { return nil }
        return routeSnapshot(prefix, routes.route(id, i), selected: true)
    }

    func routeSnapshot(_ p: Prefix, _ r: Route, selected: Bool) -> RouteSnapshot {
        RouteSnapshot(prefix: p, routerID: r.routerID, nextHop: key(r), seqno: r.seqno, advertisedMetric: r.advertisedMetric,
                      metric: routeMetric(r), feasible: isFeasible(p, r.routerID, r.seqno, r.advertisedMetric), selected: selected)
    }

    /// The installed forwarding entries, sorted by prefix.
    public var forwardingTable: [ForwardingEntry] { routes.keys.sorted().compactMap { installedEntry($0) } }
}
