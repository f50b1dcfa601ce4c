import FilamentCore
import FilamentEngine
import FilamentWire

/// A deliberately small distance-vector engine (DSDV/Babel-like: hellos, full dumps, per-source seqnos,
/// Babel's feasibility condition, seqno requests, gateway adverts) that speaks the same contract as
/// `FilamentEngine`. The simulator uses it to test itself (topologies, links, oracle, reports) without
/// depending on the real engine's progress; runs choose it with `"engine": "reference"`. It is not the
/// product's routing protocol and makes no performance claims.
public struct ReferenceEngine: SimEngine {
    public static let helloInterval = Interval.milliseconds(1000)
    public static let dumpInterval = Interval.milliseconds(4000)
    public static let linkCost = Metric(256)
    static let interface = InterfaceID(1)

    struct Neighbour { var key: NeighbourKey; var lastHello: Instant; var session: Bool; var node: NodeID? }
    struct Route { var prefix: Prefix; var seqno: Seqno; var metric: Metric; var nextHop: NeighbourKey?; var expires: Instant }
    struct FD { var seqno: Seqno; var metric: Metric }
    struct Gateway { var advert: GatewayAdvert; var routerID: RouterID; var expires: Instant }

    let me: RouterID
    let myNode: NodeID
    let myPrefix: Prefix
    let isGateway: Bool
    var rng: SeededRandom
    var signer: any MessageSigner
    var up = false
    var mySeqno = Seqno(1)
    var helloSeqno = Seqno(0)
    var hellosSent = 0
    var neighbours: [RouterID: Neighbour] = [:]
    var routes: [RouterID: Route] = [:]
    var fds: [RouterID: FD] = [:]
    var gateways: [NodeID: Gateway] = [:]
    var selected: NodeID?
    var uplink: UplinkStatus?
    var draining = false
    var advertSeqno: UInt32 = 1
    var nextHello = Instant.distantFuture
    var nextDump = Instant.distantFuture
    var triggered = false
    /// Sources whose route changed since the last update (sent as a triggered partial update).
    var pending = Set<RouterID>()
    var pendingAdverts = Set<NodeID>()
    var fullDumpDue = false
    var nextTriggerAllowed = Instant.zero

    public init(_ setup: EngineSetup) {
        me = setup.routerID; myNode = setup.nodeID; myPrefix = Prefix(host: setup.meshAddress)
        isGateway = setup.isGateway; rng = setup.random; signer = setup.signer
    }

    public var nextDeadline: Instant {
        guard up else { return .distantFuture }
        var d = min(nextHello, nextDump)
        if triggered { d = min(d, nextTriggerAllowed) }
        for n in neighbours.values { d = min(d, n.lastHello + Self.helloInterval * 7 / 2) }
        return d
    }

    func jitter(_ i: Interval, _ rng: inout SeededRandom) -> Interval {
        Interval(nanoseconds: i.nanoseconds * 3 / 4 + Int64.random(in: 0...(i.nanoseconds / 2), using: &rng))
    }

    public mutating func handle(_ event: EngineEvent, now: Instant) -> [EngineAction] {
        var out: [EngineAction] = []
        switch event {
        case .interfaceUp:
            up = true
            nextHello = now + Interval.milliseconds(Int64.random(in: 0...200, using: &rng))
            nextDump = now + jitter(Self.dumpInterval, &rng) / 4
        case .interfaceDown:
            up = false
            for r in neighbours.keys.sorted() { lose(r, now: now, &out) }
        case .sessionEstablished(let key, let node):
            var n = neighbours[key.routerID] ?? Neighbour(key: key, lastHello: now, session: true, node: node)
            n.session = true; n.node = node; n.key = key
            let fresh = neighbours[key.routerID] == nil || neighbours[key.routerID]?.session == false
            neighbours[key.routerID] = n
            if fresh {
                out.append(.notify(.neighbourAdded(key)))
                out.append(.sendUnicast(to: key, packet: RoutingPacket(messages: [.routeRequest(RouteRequest(prefix: nil))])))
                out.append(contentsOf: dump(to: key, now: now))
            }
        case .sessionClosed(let key):
            lose(key.routerID, now: now, &out)
        case .multicastReceived(_, let packet):
            for case .hello(let h) in packet.messages {
                if var n = neighbours[h.routerID] { n.lastHello = now; neighbours[h.routerID] = n }
            }
        case .unicastReceived(let from, let packet):
            guard neighbours[from.routerID]?.session == true else { break }
            for m in packet.messages { receive(m, from: from, now: now, &out) }
        case .forwardedVia:
            break
        case .uplinkChanged(let s):
            uplink = s; advertSeqno &+= 1; triggered = true; fullDumpDue = true
        case .setDraining(let d):
            draining = d; advertSeqno &+= 1; triggered = true; fullDumpDue = true
        case .setPreferredGateway:
            break
        case .timer:
            break
        }
        timers(now: now, &out)
        return out
    }

    mutating func receive(_ m: Message, from: NeighbourKey, now: Instant, _ out: inout [EngineAction]) {
        switch m {
        case .update(let u):
            accept(u, from: from, now: now, &out)
        case .routeRequest:
            out.append(contentsOf: dump(to: from, now: now))
        case .seqnoRequest(let r):
            if r.routerID == me {
                mySeqno = mySeqno.advanced(by: 1); triggered = true; fullDumpDue = true
            } else if r.hopCount > 1, let route = routes[r.routerID], let nh = route.nextHop, nh != from, !route.metric.isInfinite {
                var fwd = r; fwd.hopCount -= 1
                out.append(.sendUnicast(to: nh, packet: RoutingPacket(messages: [.seqnoRequest(fwd)])))
            }
        case .gatewayAdvert(let a):
            if a.gateway == myNode { break }
            if let g = gateways[a.gateway], !(a.seqno > g.advert.seqno) {
                if a.seqno == g.advert.seqno { gateways[a.gateway]?.expires = now + .seconds(Int64(a.lifetimeSeconds)) }
                break
            }
            let rid = gateways[a.gateway]?.routerID ?? a.gateway.routerID
            gateways[a.gateway] = Gateway(advert: a, routerID: rid, expires: now + .seconds(Int64(a.lifetimeSeconds)))
            pendingAdverts.insert(a.gateway)
            triggered = true
        default:
            break
        }
    }

    mutating func accept(_ u: Update, from: NeighbourKey, now: Instant, _ out: inout [EngineAction]) {
        if u.routerID == me { return }
        let metric = u.metric + Self.linkCost
        let current = routes[u.routerID]
        let fromNextHop = current?.nextHop == from
        if u.metric.isInfinite {
            // Only our next hop can take our route away.
            if fromNextHop { retract(u.routerID, now: now, &out) }
            return
        }
        let expires = now + Self.dumpInterval * 4
        guard let c = current, !c.metric.isInfinite, c.nextHop != nil else {
            // No usable route: take any announcement at least as new as what we had (DSDV rule).
            if let c = current, c.seqno.isNewer(than: u.seqno) { return }
            routes[u.routerID] = Route(prefix: u.prefix, seqno: u.seqno, metric: metric, nextHop: from, expires: expires)
            install(u.routerID, &out)
            return
        }
        if fromNextHop {
            guard u.seqno.isAtLeast(c.seqno) else { return }
            routes[u.routerID] = Route(prefix: u.prefix, seqno: u.seqno, metric: metric, nextHop: from, expires: expires)
            if metric != c.metric || u.seqno != c.seqno { install(u.routerID, &out) }
            return
        }
        // Another neighbour: switch on a newer seqno with a metric not much worse, or the same seqno
        // with a clearly better metric (hysteresis against flapping).
        let better = (u.seqno.isNewer(than: c.seqno) && metric < c.metric + Metric(128))
            || (u.seqno == c.seqno && metric + Metric(64) < c.metric)
        guard better else { return }
        routes[u.routerID] = Route(prefix: u.prefix, seqno: u.seqno, metric: metric, nextHop: from, expires: expires)
        install(u.routerID, &out)
    }

    mutating func install(_ r: RouterID, _ out: inout [EngineAction]) {
        guard let route = routes[r], let nh = route.nextHop else { return }
        if let fd = fds[r], fd.seqno == route.seqno, !(route.metric < fd.metric) {} else {
            fds[r] = FD(seqno: route.seqno, metric: route.metric)
        }
        out.append(.installRoute(ForwardingEntry(prefix: route.prefix, nextHop: nh, metric: route.metric)))
        pending.insert(r)
        triggered = true
    }

    mutating func retract(_ r: RouterID, now: Instant, _ out: inout [EngineAction]) {
        guard var route = routes[r], !route.metric.isInfinite else { return }
        route.metric = .infinity; route.nextHop = nil; route.expires = now + Self.dumpInterval
        routes[r] = route
        out.append(.removeRoute(route.prefix))
        pending.insert(r)
        triggered = true
    }

    func requestSeqno(_ r: RouterID, prefix: Prefix, seqno: Seqno, _ out: inout [EngineAction]) {
        let req = RoutingPacket(messages: [.seqnoRequest(SeqnoRequest(prefix: prefix, routerID: r, seqno: seqno, hopCount: 16))])
        for k in neighbours.keys.sorted() where neighbours[k]!.session { out.append(.sendUnicast(to: neighbours[k]!.key, packet: req)) }
    }

    mutating func lose(_ r: RouterID, now: Instant, _ out: inout [EngineAction]) {
        guard let n = neighbours.removeValue(forKey: r) else { return }
        out.append(.notify(.neighbourLost(n.key)))
        for src in routes.keys.sorted() where routes[src]!.nextHop == n.key {
            retract(src, now: now, &out)
        }
    }

    func ownAdvert() -> GatewayAdvert? {
        guard isGateway, let u = uplink else { return nil }
        var flags: GatewayAdvert.Flags = [.ipv6, .ipv4]
        if u.healthy { flags.insert(.healthy) }
        if draining { flags.insert(.draining) }
        var a = GatewayAdvert(gateway: myNode, seqno: advertSeqno, flags: flags, bandwidthDownKbps: u.bandwidthDownKbps,
                              bandwidthUpKbps: u.bandwidthUpKbps, load: u.load, lifetimeSeconds: 30, name: "gw", signature: [])
        a.signature = signer.sign(Array("\(a.gateway.hex)\(a.seqno)\(a.flags.rawValue)".utf8))
        return a
    }

    /// A full table (routes and gateway adverts) for one neighbour, split into packets of at most ~40 messages.
    func dump(to key: NeighbourKey, now: Instant) -> [EngineAction] {
        var msgs: [Message] = [.update(Update(prefix: myPrefix, routerID: me, seqno: mySeqno, metric: .zero, intervalCentiseconds: 400))]
        for r in routes.keys.sorted() {
            let route = routes[r]!
            // Split horizon: do not advertise a route back to its next hop.
            if route.nextHop == key && !route.metric.isInfinite { continue }
            msgs.append(.update(Update(prefix: route.prefix, routerID: r, seqno: route.seqno, metric: route.metric, intervalCentiseconds: 400)))
        }
        if let a = ownAdvert() { msgs.append(.gatewayAdvert(a)) }
        for g in gateways.keys.sorted() where gateways[g]!.expires > now { msgs.append(.gatewayAdvert(gateways[g]!.advert)) }
        var out: [EngineAction] = []
        var i = 0
        while i < msgs.count {
            out.append(.sendUnicast(to: key, packet: RoutingPacket(messages: Array(msgs[i..<min(i + 40, msgs.count)]))))
            i += 40
        }
        return out
    }

    /// Only the routes and adverts that changed since the last update.
    func partial(to key: NeighbourKey, now: Instant) -> [EngineAction] {
        var msgs: [Message] = []
        for r in pending.sorted() {
            guard let route = routes[r] else { continue }
            if route.nextHop == key && !route.metric.isInfinite { continue }
            msgs.append(.update(Update(prefix: route.prefix, routerID: r, seqno: route.seqno, metric: route.metric, intervalCentiseconds: 400)))
        }
        for g in pendingAdverts.sorted() { if let a = gateways[g]?.advert { msgs.append(.gatewayAdvert(a)) } }
        var out: [EngineAction] = []
        var i = 0
        while i < msgs.count {
            out.append(.sendUnicast(to: key, packet: RoutingPacket(messages: Array(msgs[i..<min(i + 40, msgs.count)]))))
            i += 40
        }
        return out
    }

    mutating func timers(now: Instant, _ out: inout [EngineAction]) {
        guard up else { return }
        if now >= nextHello {
            hellosSent += 1
            helloSeqno = helloSeqno.advanced(by: 1)
            let withKey = hellosSent <= 3 || hellosSent % 5 == 0
            out.append(.sendMulticast(interface: Self.interface, packet: RoutingPacket(messages: [
                .hello(Hello(routerID: me, node: withKey ? myNode : nil, seqno: helloSeqno, intervalCentiseconds: 100))])))
            nextHello = now + jitter(Self.helloInterval, &rng)
        }
        for r in neighbours.keys.sorted() where neighbours[r]!.lastHello + Self.helloInterval * 7 / 2 <= now {
            lose(r, now: now, &out)
        }
        for r in routes.keys.sorted() where routes[r]!.expires <= now {
            if routes[r]!.metric.isInfinite { routes[r] = nil } else { retract(r, now: now, &out) }
        }
        for g in gateways.keys.sorted() where gateways[g]!.expires <= now { gateways[g] = nil }
        if now >= nextDump {
            mySeqno = mySeqno.advanced(by: 1)
            triggered = true
            fullDumpDue = true
            nextDump = now + jitter(Self.dumpInterval, &rng)
        }
        selectGateway(&out)
        if triggered && now >= nextTriggerAllowed {
            triggered = false
            nextTriggerAllowed = now + .milliseconds(200)
            let full = fullDumpDue
            fullDumpDue = false
            for r in neighbours.keys.sorted() where neighbours[r]!.session {
                out.append(contentsOf: full ? dump(to: neighbours[r]!.key, now: now) : partial(to: neighbours[r]!.key, now: now))
            }
            pending.removeAll(); pendingAdverts.removeAll()
        }
    }

    mutating func selectGateway(_ out: inout [EngineAction]) {
        var best: (Metric, NodeID)?
        var currentMetric: Metric?
        for g in gateways.keys.sorted() {
            let gw = gateways[g]!
            guard gw.advert.flags.contains(.healthy), let r = routes[gw.routerID], !r.metric.isInfinite else { continue }
            if g == selected { currentMetric = r.metric }
            if gw.advert.flags.contains(.draining) && g != selected { continue }
            if best == nil || r.metric < best!.0 { best = (r.metric, g) }
        }
        var choice = best?.1
        if let cm = currentMetric, let b = best, !(b.0 + Metric(512) < cm) { choice = selected }
        if isGateway, uplink?.healthy == true, !draining { choice = myNode }
        if choice != selected { selected = choice; out.append(.notify(.selectedGatewayChanged(choice))) }
    }
}
