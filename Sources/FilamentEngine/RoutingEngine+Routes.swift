import FilamentCore
import FilamentWire

// Routes, sources and the feasibility condition (RFC 8966 3.5-3.8).
extension RoutingEngine {
    // MARK: feasibility

    /// RFC 8966 3.5.1: an update (seqno, metric) for a source is feasible when no feasibility distance is
    /// recorded, or its seqno is newer, or equal with a strictly smaller metric. Retractions always are.
    /// `entry`: the prefix's routes entry when the caller holds it (e.g. taken out of the table).
    func isFeasible(_ prefix: Prefix, _ rid: RouterID, _ seqno: Seqno, _ metric: Metric, entry: PrefixRoutes?? = nil) -> Bool {
        metric.isInfinite || Self.admits(source(prefix, rid, entry: entry), seqno, metric)
    }

    /// `isFeasible` for a caller holding the prefix's entry, with the other sources passed in: `reselect`
    /// calls it per route, and through `self` the compiler copied the whole engine for the `sources` lookup.
    static func isFeasible(_ pr: PrefixRoutes, sources: [SourceKey: Source], _ prefix: Prefix, _ rid: RouterID,
                           _ seqno: Seqno, _ metric: Metric) -> Bool {
        metric.isInfinite || admits(source(in: pr, sources: sources, prefix, rid), seqno, metric)
    }

    /// The feasibility condition proper: no distance recorded, or a newer seqno, or the same with a smaller metric.
    static func admits(_ s: Source?, _ seqno: Seqno, _ metric: Metric) -> Bool {
        guard let s else { return true }
        return seqno.isNewer(than: s.seqno) || (seqno == s.seqno && metric < s.metric)
    }

    /// The feasibility distance of (prefix, router id): kept in the prefix's routes entry for its announced
    /// router id, in `sources` for any other.
    func source(_ prefix: Prefix, _ rid: RouterID, entry: PrefixRoutes?? = nil) -> Source? {
        // (No `??` here: its autoclosure over `self` copied the whole engine on every feasibility check.)
        let pr: PrefixRoutes?
        if let e = entry { pr = e } else { pr = routes[prefix] }
        return Self.source(in: pr, sources: sources, prefix, rid)
    }

    static func source(in pr: PrefixRoutes?, sources: [SourceKey: Source], _ prefix: Prefix, _ rid: RouterID) -> Source? {
        if let s = pr?.source(rid) { return s }
        return sources.isEmpty ? nil : sources[SourceKey(prefix: prefix, routerID: rid)]
    }

    /// Hop count of the seqno requests this node originates: the field's maximum. RFC 8966 leaves it to
    /// the implementation (babeld uses 127); a city mesh is wider than that: the street-light city of
    /// 10,000 bulbs has a diameter of 143 hops, and a request that dies on the way leaves a node starving
    /// until its feasibility distance is collected, minutes later (decision 0632).
    static let seqnoRequestHopCount: UInt8 = 255

    /// The neighbour a route came from.
    @inline(__always) func key(_ r: Route) -> NeighbourKey { slotKeys[Int(r.slot)] }

    /// (The neighbour's cost by slot: a route's neighbour exists while the route does.)
    @inline(__always) func routeMetric(_ r: Route) -> Metric { r.advertisedMetric + slotCost[Int(r.slot)] }

    // MARK: receiving updates

    /// Whether an update is refused before it touches the tables. `id`: the prefix's id in `routes`, nil
    /// when it has no entry (the caller looked it up once for everything it does with the update).
    mutating func rejectUpdate(_ u: Update, from key: NeighbourKey, id: UInt32?) -> Bool {
        if u.routerID == routerID || ownPrefixes.contains(u.prefix) { return true } // see receiveEcho
        // Mesh addresses: only /128s inside the mesh prefix, and only from the router id they belong to.
        if MeshPrefix.prefix.contains(u.prefix.address) && u.prefix.length >= MeshPrefix.prefix.length {
            if u.prefix.length != 128 || u.prefix.address.low != u.routerID.rawValue {
                counters.bogusPrefixes += 1; return true
            }
        }
        if !u.metric.isInfinite && u.metric == .zero && u.routerID != key.routerID {
            counters.absurdMetrics += 1; return true
        }
        if !u.metric.isInfinite {
            // (No closure over `self` to build the entry: it would copy the whole engine per update.)
            var entry: PrefixRoutes? = nil
            if let id { entry = routes[id: id] }
            if let s = source(u.prefix, u.routerID, entry: .some(entry)),
               u.seqno.isNewer(than: s.seqno), u.seqno.rawValue &- s.seqno.rawValue > configuration.maxSeqnoJump {
                counters.seqnoJumps += 1; return true
            }
        }
        return false
    }

    mutating func receiveUpdate(_ u: Update, from key: NeighbourKey, now: Instant) {
        counters.updatesProcessed += 1
        if u.routerID == routerID || ownPrefixes.contains(u.prefix) { receiveEcho(u, from: key, now: now); return }
        // One lookup of the prefix's id; the entry is then changed in place in the flat table.
        let existing = routes.id(u.prefix)
        if rejectUpdate(u, from: key, id: existing) { return }
        let interval = clampInterval(centiseconds: u.intervalCentiseconds, fallback: configuration.digestInterval)
        guard let slot = neighbours[key]?.slot else { return } // (receiveUnicast checked it exists)
        var idx: Int? = nil
        var prefixFull = false
        if let e = existing { idx = routes.index(e, ofSlot: slot); prefixFull = routes.routeCount(e) >= PrefixTable.maxRoutes }
        if idx == nil && (u.isRetraction || held[Int(slot)].count >= configuration.maxRoutesPerNeighbour || prefixFull) {
            if !u.isRetraction { counters.tableFullDrops += 1 }
            return
        }
        let id: UInt32
        if let e = existing { id = e } else { id = routes.intern(u.prefix) }
        if let i = idx { unholdRoute(routes.route(id, i), prefix: u.prefix) }
        if u.isRetraction {
            removeRoute(at: idx!, id: id)
        } else {
            if !isFeasible(u.prefix, u.routerID, u.seqno, u.metric, entry: .some(routes[id: id])) { counters.unfeasibleUpdates += 1 }
            let r = Route(routerID: u.routerID, expires: RouteExpiry(now + interval * 7 / 2), seqno: u.seqno,
                          advertisedMetric: u.metric, slot: slot)
            if let i = idx { routes.setRoute(id, i, r) } else { routes.appendRoute(id, r) }
            holdRoute(r, prefix: u.prefix)
            // A satisfied seqno request is done.
            if !pendingRequests.isEmpty {
                let sk = SourceKey(prefix: u.prefix, routerID: u.routerID)
                if let pending = pendingRequests[sk], u.seqno.isAtLeast(pending.seqno) { pendingRequests[sk] = nil }
            }
        }
        reselect(u.prefix, now: now)
    }

    /// A neighbour re-announces our own prefix to us (Babel has no split horizon): nothing to route, but
    /// it counts in that neighbour's digest, so it is remembered (bounded by the own prefixes). A newer
    /// seqno than ours for our own router id means we lost our counter: jump past it (RFC 8966 3.5.5).
    mutating func receiveEcho(_ u: Update, from key: NeighbourKey, now: Instant) {
        guard ownPrefixes.contains(u.prefix), u.routerID == routerID else {
            counters.ownRouterIDClaims += 1; return
        }
        guard let slot = neighbours[key].map({ Int($0.slot) }) else { return }
        if let old = echoes[key]?[u.prefix] { held[slot].count -= 1; held[slot].hash &-= old }
        if u.isRetraction {
            echoes[key]?[u.prefix] = nil
        } else {
            let h = DigestHash.entry(prefix: u.prefix, routerID: u.routerID, seqno: u.seqno, metric: u.metric)
            echoes[key, default: [:]][u.prefix] = h; held[slot].count += 1; held[slot].hash &+= h
        }
        if !u.isRetraction, u.seqno.isNewer(than: ownSeqno) {
            seqnoCounter &+= UInt64(u.seqno.rawValue &- ownSeqno.rawValue)
            bumpOwnSeqno(now: now)
        }
    }

    /// Keeps the per-neighbour digest (count and hash of held finite routes) in step with the table.
    mutating func holdRoute(_ r: Route, prefix: Prefix) {
        let h = DigestHash.entry(prefix: prefix, routerID: r.routerID, seqno: r.seqno, metric: r.advertisedMetric)
        held[Int(r.slot)].count += 1
        held[Int(r.slot)].hash &+= h
    }

    mutating func unholdRoute(_ r: Route, prefix: Prefix) {
        let h = DigestHash.entry(prefix: prefix, routerID: r.routerID, seqno: r.seqno, metric: r.advertisedMetric)
        held[Int(r.slot)].count -= 1
        held[Int(r.slot)].hash &-= h
    }

    mutating func removeRoute(at i: Int, id: UInt32) {
        routes.removeRoute(id, i)
        if let s = routes.selected(id) {
            routes.setSelection(id, selected: s == i ? nil : (s > i ? s - 1 : s), installed: routes[id: id].installedMetric)
        }
    }

    /// Drops every route learned from `key` (neighbour down or gone) and re-selects.
    mutating func flushRoutes(from key: NeighbourKey, now: Instant) {
        var affected: [Prefix] = []
        let slot = neighbours[key]?.slot
        if let slot { for id in routes.ids where routes.index(id, ofSlot: slot) != nil { affected.append(routes.prefix(id)) } }
        affected.sort()
        let outer = beginGatewayBatch()
        for p in affected {
            let id = routes.id(p)!
            if let i = routes.index(id, ofSlot: slot!) { unholdRoute(routes.route(id, i), prefix: p); removeRoute(at: i, id: id) }
            reselect(p, now: now)
        }
        endGatewayBatch(outer, now: now)
    }

    // MARK: selection

    /// Picks the best feasible route for `prefix` (with hysteresis), updates the forwarding table and
    /// announces the change when it matters. Requests a new seqno when only unfeasible routes remain.
    mutating func reselect(_ prefix: Prefix, now: Instant) {
        guard let id = routes.id(prefix) else { return }
        var pr = routes[id: id]
        let count = routes.routeCount(id)
        // (No closures over `self` here: in a mutating method each one copied the whole engine.)
        var old: Route? = nil
        if let s = pr.selected { old = routes.route(id, s) }
        let wasInstalled = pr.installedMetric
        var best: Int? = nil
        var bestMetric = Metric.infinity
        // (The best route's neighbour key is kept: reading it back from the table inside the comparison
        // made the compiler copy the whole engine per route.)
        var bestKey: NeighbourKey? = nil
        for i in 0..<count where !bootHold.active {
            let r = routes.route(id, i)
            let m = routeMetric(r)
            guard !m.isInfinite, Self.isFeasible(pr, sources: sources, prefix, r.routerID, r.seqno, r.advertisedMetric) else { continue }
            let k = key(r)
            if m < bestMetric || (m == bestMetric && bestKey != nil && k < bestKey!) {
                best = i; bestMetric = m; bestKey = k
            }
        }
        // Hysteresis: keep the current route unless the best one is clearly better.
        if let s = pr.selected, let b = best, s != b {
            let cur = routes.route(id, s)
            let cm = routeMetric(cur)
            if !cm.isInfinite, Self.isFeasible(pr, sources: sources, prefix, cur.routerID, cur.seqno, cur.advertisedMetric),
               UInt32(bestMetric.rawValue) + UInt32(configuration.switchHysteresis) >= UInt32(cm.rawValue) {
                best = s; bestMetric = cm
            }
        }
        pr.selected = best
        pr.installedMetric = best == nil ? nil : bestMetric
        var starving = false
        if best == nil && !bootHold.active {
            for i in 0..<count where !routeMetric(routes.route(id, i)).isInfinite { starving = true; break }
        }
        var bestRoute: Route? = nil
        if let b = best { bestRoute = routes.route(id, b) }
        // An entry without routes stays until `announce` below has retracted what it announced.
        if pr.isEmpty {
            routes.release(id)
        } else {
            routes.setSelection(id, selected: pr.selected, installed: pr.installedMetric)
        }

        // Forwarding table.
        if let r = bestRoute {
            // `old` is nil when the previously selected route was just removed: the next hop changed.
            let sameHop = wasInstalled != nil && old != nil && key(old!) == key(r)
            if wasInstalled == nil {
                installedLengths[Int(prefix.length)] += 1
                out.append(.notify(.routeAdded(prefix)))
            } else if !sameHop {
                out.append(.notify(.routeChanged(prefix)))
            }
            if !sameHop || wasInstalled != bestMetric {
                out.append(.installRoute(ForwardingEntry(prefix: prefix, nextHop: key(r), metric: bestMetric)))
                lastRouteChange = now
            }
        } else if wasInstalled != nil {
            lastRouteChange = now
            installedLengths[Int(prefix.length)] -= 1
            out.append(.removeRoute(prefix))
            out.append(.notify(.routeLost(prefix)))
        }
        var changedSource = false
        if let o = old { changedSource = bestRoute.map { $0.routerID != o.routerID || $0.seqno != o.seqno } ?? true }
        announce(prefix, force: changedSource, now: now)
        if count == 0, routes[prefix]?.isEmpty == true { routes[prefix] = nil }
        if starving { requestSeqno(for: prefix, now: now) }
        if prefix.length == 128 { gatewayPathChanged(prefix.address, now: now) }
    }

    // MARK: announcing

    /// What this node would announce for `prefix` now.
    func desiredAdvertisement(_ prefix: Prefix) -> Advertisement? {
        if ownPrefixes.contains(prefix) { return Advertisement(routerID: routerID, seqno: ownSeqno, metric: .zero) }
        guard let id = routes.id(prefix), let s = routes.selected(id) else { return nil }
        let r = routes.route(id, s)
        let m = routeMetric(r)
        return m.isInfinite ? nil : Advertisement(routerID: r.routerID, seqno: r.seqno, metric: m)
    }

    /// Sends a triggered update (or retraction) to every neighbour when the announcement changed enough.
    mutating func announce(_ prefix: Prefix, force: Bool, now: Instant) {
        let want = desiredAdvertisement(prefix)
        let have = advertisement(prefix)
        switch (have, want) {
        case (nil, nil):
            return
        case let (h?, nil):
            advertise(prefix, nil)
            enqueueToAll(.update(Update(prefix: prefix, routerID: h.routerID, seqno: h.seqno, metric: .infinity,
                                        intervalCentiseconds: updateIntervalCentiseconds)), now: now)
        case let (h, w?):
            if let h, !force, h.routerID == w.routerID, h.seqno == w.seqno {
                let delta = h.metric.rawValue > w.metric.rawValue ? h.metric.rawValue - w.metric.rawValue : w.metric.rawValue - h.metric.rawValue
                if delta < max(configuration.triggeredMetricDelta, h.metric.rawValue / 16) { return }
            }
            if let h, h == w { return }
            advertise(prefix, w)
            enqueueToAll(.update(Update(prefix: prefix, routerID: w.routerID, seqno: w.seqno, metric: w.metric,
                                        intervalCentiseconds: updateIntervalCentiseconds)), now: now)
        }
    }

    var updateIntervalCentiseconds: UInt16 { UInt16(min(configuration.digestInterval.milliseconds / 10, 0xFFFF)) }

    /// What this node last announced for `prefix` (own prefixes apart; a learned one's is in its routes entry).
    func advertisement(_ prefix: Prefix) -> Advertisement? {
        if ownPrefixes.contains(prefix) { return ownAdvertised[prefix] } // (no hashing for learned prefixes)
        return routes[prefix]?.advertisement
    }

    /// Records an announcement (and its digest) and updates the feasibility distance (RFC 8966 3.7.3).
    /// A learned prefix's routes entry exists whenever it is announced (`desiredAdvertisement`).
    mutating func advertise(_ prefix: Prefix, _ a: Advertisement?) {
        let isOwn = ownPrefixes.contains(prefix)
        if let old = isOwn ? ownAdvertised[prefix] : routes[prefix]?.advertisement {
            advertisedHash &-= DigestHash.entry(prefix: prefix, routerID: old.routerID, seqno: old.seqno, metric: old.metric)
            advertisedCount -= 1
        }
        if let a {
            advertisedCount += 1
            advertisedHash &+= DigestHash.entry(prefix: prefix, routerID: a.routerID, seqno: a.seqno, metric: a.metric)
        }
        let key = a.map { SourceKey(prefix: prefix, routerID: $0.routerID) }
        if isOwn {
            ownAdvertised[prefix] = a
            guard let a, let key, a.routerID != routerID else { return }
            if let s = sourceAfter(sources[key], announcing: a) { sources[key] = s }
            return
        }
        // (Copied out and back: in-place mutation through the subscript allocates.)
        var pr = routes[prefix] ?? PrefixRoutes()
        if let a, a.routerID != pr.sourceRouterID, let old = pr.source {
            // Another originator: the previous source moves to `sources` and lives on until its GC time.
            sources[SourceKey(prefix: prefix, routerID: pr.sourceRouterID)] = old
            pr.source = nil
        }
        pr.advertisement = a
        if let a, let key, a.routerID != routerID {
            var existing = pr.source
            if existing == nil && !sources.isEmpty { existing = sources.removeValue(forKey: key) }
            pr.source = sourceAfter(existing, announcing: a)
        }
        if pr.isEmpty { routes[prefix] = nil } else { routes[prefix] = pr }
    }

    /// RFC 8966 3.7.3: the feasibility distance after announcing `a` (nil: none was kept and the table is full).
    mutating func sourceAfter(_ source: Source?, announcing a: Advertisement) -> Source? {
        if var s = source {
            if a.seqno.isNewer(than: s.seqno) || (a.seqno == s.seqno && a.metric < s.metric) {
                s.seqno = a.seqno; s.metric = a.metric
            }
            s.lastUsed = lastNow
            return s
        }
        guard sourceCount < configuration.maxSources else { counters.tableFullDrops += 1; return nil }
        sourceCount += 1
        return Source(seqno: a.seqno, metric: a.metric, lastUsed: lastNow)
    }

    /// Queues the whole advertised table (and known gateway adverts) for one neighbour.
    mutating func sendFullTable(to key: NeighbourKey, now: Instant, digestFlags: UInt8 = 0) {
        counters.fullTablesSent += 1
        var table: [(prefix: Prefix, ad: Advertisement)] = ownAdvertised.map { ($0.key, $0.value) }
        table.reserveCapacity(advertisedCount)
        for (p, pr) in routes { if let a = pr.advertisement { table.append((p, a)) } }
        table.sort { $0.prefix < $1.prefix }
        for (p, a) in table {
            enqueue(.update(Update(prefix: p, routerID: a.routerID, seqno: a.seqno, metric: a.metric,
                                   intervalCentiseconds: updateIntervalCentiseconds)), to: key, now: now)
        }
        if let own = ownGateway.current { enqueue(.gatewayAdvert(own), to: key, now: now) }
        for g in gateways.keys.sorted() { enqueue(.gatewayAdvert(gateways[g]!.advert), to: key, now: now) }
        enqueue(.digest(Digest(routeCount: UInt16(min(advertisedCount, 0xFFFF)), hash: advertisedHash, flags: digestFlags)),
                to: key, now: now)
    }

    // MARK: requests

    mutating func receiveRouteRequest(_ r: RouteRequest, from key: NeighbourKey, now: Instant) {
        guard let p = r.prefix else {
            if r.restarted { neighbourRestarted(key, now: now, announced: true) } else { sendFullTable(to: key, now: now) }
            return
        }
        if let a = advertisement(p) {
            enqueue(.update(Update(prefix: p, routerID: a.routerID, seqno: a.seqno, metric: a.metric,
                                   intervalCentiseconds: updateIntervalCentiseconds)), to: key, now: now)
        } else {
            enqueue(.update(Update(prefix: p, routerID: routerID, seqno: ownSeqno, metric: .infinity,
                                   intervalCentiseconds: updateIntervalCentiseconds)), to: key, now: now)
        }
    }

    mutating func takeRequestToken() -> Bool {
        guard seqnoRequestTokens > 0 else { counters.seqnoRequestsDropped += 1; return false }
        seqnoRequestTokens -= 1
        return true
    }

    /// RFC 8966 3.8.1.2: answer from our own source or a matching selected route, else forward towards the
    /// source (never back to the requester), with hop count and duplicate suppression.
    mutating func receiveSeqnoRequest(_ r: SeqnoRequest, from key: NeighbourKey, now: Instant) {
        counters.seqnoRequestsReceived += 1
        guard takeRequestToken() else { return }
        if ownPrefixes.contains(r.prefix) {
            if r.routerID == routerID, r.seqno.isNewer(than: ownSeqno) {
                bumpOwnSeqno(now: now)
            } else {
                receiveRouteRequest(RouteRequest(prefix: r.prefix), from: key, now: now)
            }
            return
        }
        guard let id = routes.id(r.prefix) else { counters.seqnoRequestsDropped += 1; return }
        if let s = routes.selected(id) {
            let sel = routes.route(id, s)
            if sel.routerID == r.routerID && sel.seqno.isAtLeast(r.seqno) {
                receiveRouteRequest(RouteRequest(prefix: r.prefix), from: key, now: now)
                return
            }
        }
        // Towards the source: the selected route's next hop; when there is none (this node starves too)
        // or it is the requester, the best other route's, feasible or not (RFC 8966 3.8.1.2). Dropping it
        // there kept a whole region starving: every node of it waited for the others (decision 0818).
        guard r.hopCount > 1, let selHop = requestNextHop(id, for: r, from: key) else { counters.seqnoRequestsDropped += 1; return }
        let sk = SourceKey(prefix: r.prefix, routerID: r.routerID)
        // Duplicates (the requester's resends, or the same request from several neighbours) are dropped
        // only briefly and only towards the same next hop, so a resend still gets through a new path.
        if let p = pendingRequests[sk], p.nextHop == selHop, p.seqno.isAtLeast(r.seqno),
           now - p.sentAt < configuration.seqnoRequestSuppression {
            counters.seqnoRequestsDropped += 1; return
        }
        guard pendingRequests[sk] != nil || pendingRequests.count < configuration.maxPendingRequests else {
            counters.tableFullDrops += 1; return
        }
        var p = pendingRequests[sk] ?? PendingRequest(seqno: r.seqno, sentAt: now)
        if !p.seqno.isAtLeast(r.seqno) { p.seqno = r.seqno }
        p.sentAt = now; p.nextHop = selHop
        pendingRequests[sk] = p
        counters.seqnoRequestsForwarded += 1
        enqueue(.seqnoRequest(SeqnoRequest(prefix: r.prefix, routerID: r.routerID, seqno: r.seqno, hopCount: r.hopCount - 1)),
                to: selHop, now: now)
    }

    /// Where a seqno request for `r` goes on: the selected route's next hop unless it is the requester, else
    /// the next hop of the cheapest other route to the prefix with a finite metric (its router id first).
    func requestNextHop(_ id: UInt32, for r: SeqnoRequest, from requester: NeighbourKey) -> NeighbourKey? {
        if let s = routes.selected(id) {
            let hop = key(routes.route(id, s))
            if hop != requester { return hop }
        }
        // Ranked by (other router id, metric, neighbour key), smallest first.
        var best: (otherSource: Int, metric: UInt16, hop: NeighbourKey)? = nil
        for i in 0..<routes.routeCount(id) {
            let route = routes.route(id, i)
            let m = routeMetric(route)
            let c = (otherSource: route.routerID == r.routerID ? 0 : 1, metric: m.rawValue, hop: key(route))
            guard !m.isInfinite, c.hop != requester else { continue }
            if best.map({ c < $0 }) ?? true { best = c }
        }
        return best?.hop
    }

    /// Starvation: only unfeasible routes remain. Ask their neighbours for a newer seqno of the source we
    /// hold a feasibility distance for (RFC 8966 3.8.2.1). The request is resent by `resendSeqnoRequests`
    /// until a newer seqno answers it (decision 0320), so one lost in a stale part of the mesh is not final.
    mutating func requestSeqno(for prefix: Prefix, now: Instant) {
        guard let id = routes.id(prefix) else { return }
        var sent: [RouterID] = []
        for r in routes.routes(id).sorted(by: { key($0) < key($1) }) where !routeMetric(r).isInfinite {
            let sk = SourceKey(prefix: prefix, routerID: r.routerID)
            let want = (source(prefix, r.routerID)?.seqno ?? r.seqno).advanced(by: 1)
            if let p = pendingRequests[sk], p.seqno.isAtLeast(want), p.resendDue != .distantFuture || now - p.sentAt < .seconds(2) {
                // A request this node just forwarded for a neighbour covers ours, but only ours is resent
                // until answered: without this, a node that starved right after forwarding never asked
                // again (decision 0818).
                if p.resendDue == .distantFuture {
                    let due = now + configuration.seqnoRequestResendInterval
                    pendingRequests[sk]!.resendDue = due
                    seqnoResendDue = min(seqnoResendDue, due)
                }
                if !sent.contains(r.routerID) { continue }
            } else {
                guard pendingRequests[sk] != nil || pendingRequests.count < configuration.maxPendingRequests else {
                    counters.tableFullDrops += 1; continue
                }
                let due = now + configuration.seqnoRequestResendInterval
                pendingRequests[sk] = PendingRequest(seqno: want, sentAt: now, resendDue: due)
                seqnoResendDue = min(seqnoResendDue, due)
                sent.append(r.routerID)
            }
            sendSeqnoRequest(SeqnoRequest(prefix: prefix, routerID: r.routerID, seqno: want, hopCount: Self.seqnoRequestHopCount), to: key(r), now: now)
        }
    }

    mutating func sendSeqnoRequest(_ request: SeqnoRequest, to key: NeighbourKey, now: Instant) {
        counters.seqnoRequestsSent += 1
        enqueue(.seqnoRequest(request), to: key, now: now)
    }

    /// Resends our own seqno requests that no newer seqno answered while the prefix still starves: after
    /// 250 ms, then doubling, `seqnoRequestResends` times; then every `seqnoRequestPersistInterval` for as
    /// long as it starves (decision 0818: requests lost in a busy neighbourhood right after a failure must
    /// not leave a node starving until its feasibility distance expires, 180 s later).
    mutating func resendSeqnoRequests(now: Instant) {
        guard seqnoResendDue <= now else { return }
        var due: [SourceKey] = []
        var next = Instant.distantFuture
        for (k, p) in pendingRequests where p.resendDue != .distantFuture {
            if p.resendDue <= now { due.append(k) } else { next = min(next, p.resendDue) }
        }
        due.sort()
        for k in due {
            var p = pendingRequests[k]!
            p.resendDue = .distantFuture
            let starving = !bootHold.active && routes[k.prefix].map { $0.selected == nil && $0.routeCount > 0 } ?? false
            let persisting = configuration.seqnoRequestResends > 0 && configuration.seqnoRequestPersistInterval > .zero
            if starving, p.resends < configuration.seqnoRequestResends || persisting, let id = routes.id(k.prefix) {
                var targets: [NeighbourKey] = []
                for r in routes.routes(id) where r.routerID == k.routerID && !routeMetric(r).isInfinite { targets.append(key(r)) }
                if !targets.isEmpty {
                    p.resends += 1
                    p.sentAt = now
                    p.resendDue = now + (p.resends < configuration.seqnoRequestResends
                        ? configuration.seqnoRequestResendInterval * Int64(1 << min(p.resends, 20))
                        : configuration.seqnoRequestPersistInterval)
                    next = min(next, p.resendDue)
                    counters.seqnoRequestsResent += 1
                    for t in targets.sorted() {
                        sendSeqnoRequest(SeqnoRequest(prefix: k.prefix, routerID: k.routerID, seqno: p.seqno, hopCount: Self.seqnoRequestHopCount), to: t, now: now)
                    }
                }
            }
            pendingRequests[k] = p
            // A gateway kept while its route was briefly starving is given up after the second resend.
            if p.resends == 2 && k.prefix.length == 128 { gatewayPathChanged(k.prefix.address, now: now) }
        }
        seqnoResendDue = next
    }

    /// Moves the own seqno (persisted first by the driver) and announces every own prefix.
    mutating func bumpOwnSeqno(now: Instant) {
        seqnoCounter &+= 1
        out.append(.persistSeqnoCounter(seqnoCounter))
        for p in ownPrefixes { announce(p, force: true, now: now) }
    }

    // MARK: digests

    mutating func receiveDigest(_ d: Digest, from key: NeighbourKey, now: Instant) {
        guard var n = neighbours[key] else { return }
        n.tableExpectedBy = .distantFuture
        if bootHold.active && d.flushed { bootHold.proved.insert(key) }
        let mine = held[Int(n.slot)]
        if Int(d.routeCount) == min(mine.count, 0xFFFF) && d.hash == mine.hash {
            if bootHold.active && (!bootHold.requested.contains(key) || bootHold.proved.contains(key)) {
                bootHold.synced[key] = true
            }
            n.confirmedUntil = now + configuration.digestInterval * 7 / 2
            neighbours[key] = n
            return
        }
        counters.digestMismatches += 1
        // During the boot hold the answer to a wildcard request proves nothing (a neighbour that missed
        // our restart resends its stale table too): such a neighbour is waited for until the maximum.
        if bootHold.active { bootHold.requested.insert(key); bootHold.synced[key] = false }
        guard now - n.lastFullRequest >= configuration.digestInterval / 2 || n.lastFullRequest == .zero else { return }
        n.lastFullRequest = now
        // Everything held from it must be re-sent; whatever is not (a lost retraction) expires soon.
        n.confirmedUntil = now
        neighbours[key] = n
        let soon = now + .seconds(2)
        for id in routes.ids {
            guard let i = routes.index(id, ofSlot: n.slot) else { continue }
            if routes.slotAndExpiry(id, i).expires.instant(near: now) > soon { routes.setExpires(id, i, RouteExpiry(soon)) }
        }
        enqueue(.routeRequest(RouteRequest(prefix: nil)), to: key, now: now)
    }

    /// The boot hold is over: select among everything learned meanwhile.
    mutating func endBootHold(now: Instant) {
        bootHold = .inactive
        // (Entries that only keep a source hold no route: nothing to select.)
        for p in routes.keys.sorted() where routes[p]!.routeCount > 0 { reselect(p, now: now) }
    }

    // MARK: housekeeping

    /// Route expiry, source garbage collection, request expiry.
    mutating func expireRoutes(now: Instant) {
        // Every neighbour's confirmation read once into a small array (a handful of entries, searched
        // linearly): reading it from the dictionary per route hashed the key and copied the whole
        // `Neighbour` (retains and releases) for every route every second, the top cost of large meshes.
        // (By slot: a route's neighbour is its slot.)
        var confirmed = [Instant](repeating: .zero, count: slotKeys.count)
        for n in neighbours.values { confirmed[Int(n.slot)] = n.confirmedUntil }
        func confirmedUntil(_ s: UInt16) -> Instant { confirmed[Int(s)] }
        // A route that lives by its neighbour's confirmation alone keeps a past expiry; once that is more
        // than 10 minutes past it is moved up (to a second ago: still past, so nothing changes), which keeps
        // every stored 16-bit expiry readable (`RouteExpiry`).
        let longPast = now - .seconds(600), rebased = RouteExpiry(now - .seconds(1))
        var expired: [Prefix] = []
        for id in routes.ids {
            var anyExpired = false
            for i in 0..<routes.routeCount(id) {
                let r = routes.slotAndExpiry(id, i)
                let e = r.expires.instant(near: now)
                if e <= now {
                    if confirmedUntil(r.slot) <= now { anyExpired = true } else if e < longPast { routes.setExpires(id, i, rebased) }
                }
            }
            if anyExpired { expired.append(routes.prefix(id)) }
        }
        expired.sort()
        for p in expired {
            let id = routes.id(p)!
            var i = routes.routeCount(id) - 1
            while i >= 0 {
                let r = routes.route(id, i)
                if max(r.expires.instant(near: now), confirmedUntil(r.slot)) <= now {
                    unholdRoute(r, prefix: p); removeRoute(at: i, id: id)
                }
                i -= 1
            }
            reselect(p, now: now)
        }
        // A source still announced keeps its feasibility distance (forgetting it could admit a loop).
        // (Iterated with their values: a lookup per source every second hashed every key again.)
        var stale: [SourceKey] = []
        for (k, s) in sources where now - s.lastUsed > configuration.sourceGCTime && advertisement(k.prefix)?.routerID != k.routerID {
            stale.append(k)
        }
        for (p, pr) in routes {
            // The source kept in the entry has the announced router id: it is stale only when nothing is announced.
            if let s = pr.source, now - s.lastUsed > configuration.sourceGCTime, pr.advertisement == nil {
                stale.append(SourceKey(prefix: p, routerID: pr.sourceRouterID))
            }
        }
        for k in stale.sorted() {
            sourceCount -= 1
            if var pr = routes[k.prefix], pr.source != nil, pr.sourceRouterID == k.routerID {
                pr.source = nil
                if pr.isEmpty { routes[k.prefix] = nil } else { routes[k.prefix] = pr }
            } else {
                sources[k] = nil
            }
        }
        // (Not our own requests still being resent: their next resend may be more than 10 s away.)
        for k in pendingRequests.keys.filter({ pendingRequests[$0]!.resendDue == .distantFuture && now - pendingRequests[$0]!.sentAt > .seconds(10) }) {
            pendingRequests[k] = nil
        }
    }
}
