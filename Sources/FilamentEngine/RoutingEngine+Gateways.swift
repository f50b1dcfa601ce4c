import FilamentCore
import FilamentWire

// Gateways: own adverts, flooding, verification, scoring and per-flow selection (docs/routing.md).
extension RoutingEngine {
    // MARK: own adverts

    mutating func uplinkChanged(_ status: UplinkStatus, now: Instant) {
        guard configuration.gateway != nil else { return }
        let old = ownGateway.uplink
        ownGateway.uplink = status
        let significant = old == nil || old!.healthy != status.healthy
            || abs(Int(old!.load) - Int(status.load)) >= 10
            || old!.bandwidthDownKbps != status.bandwidthDownKbps || old!.bandwidthUpKbps != status.bandwidthUpKbps
        if significant { scheduleOwnAdvert(now: now) }
    }

    mutating func setDraining(_ on: Bool, now: Instant) {
        guard configuration.gateway != nil, ownGateway.draining != on else { return }
        ownGateway.draining = on
        ownGateway.drainStarted = on ? now : nil
        ownGateway.withdrawn = false
        scheduleOwnAdvert(now: now)
    }

    /// At once, or one second after the previous advert (rate limit).
    mutating func scheduleOwnAdvert(now: Instant) {
        let earliest = ownGateway.lastSent.map { $0 + .seconds(1) } ?? now
        ownGateway.nextAdvert = max(now, earliest)
    }

    mutating func ownGatewayTimers(now: Instant) {
        guard let cfg = configuration.gateway, let uplink = ownGateway.uplink else { return }
        if ownGateway.draining, !ownGateway.withdrawn, let t = ownGateway.drainStarted, now - t >= cfg.drainTime {
            ownGateway.withdrawn = true
            scheduleOwnAdvert(now: now)
        }
        guard ownGateway.nextAdvert <= now else { return }
        if ownGateway.advertsSinceBump >= 255 {
            ownGateway.advertsSinceBump = 0
            bumpOwnSeqno(now: now)
        }
        ownGateway.advertsSinceBump += 1
        var flags: GatewayAdvert.Flags = []
        if cfg.offersIPv6 { flags.insert(.ipv6) }
        if cfg.offersIPv4 { flags.insert(.ipv4) }
        if uplink.healthy && !ownGateway.withdrawn { flags.insert(.healthy) }
        if ownGateway.draining { flags.insert(.draining) }
        var a = GatewayAdvert(gateway: node, seqno: UInt32(truncatingIfNeeded: (seqnoCounter << 8) | ownGateway.advertsSinceBump),
                              flags: flags, bandwidthDownKbps: uplink.bandwidthDownKbps, bandwidthUpKbps: uplink.bandwidthUpKbps,
                              load: min(uplink.load, 100), lifetimeSeconds: cfg.lifetimeSeconds,
                              name: Self.truncatedName(cfg.name), signature: [])
        a.signature = signer.sign(a.signedBytes)
        ownGateway.current = a
        ownGateway.lastSent = now
        ownGateway.nextAdvert = now + .seconds(Int64(max(cfg.lifetimeSeconds, 3) / 3))
        enqueueToAll(.gatewayAdvert(a), now: now)
        reselectPrimaryGateway(now: now)
    }

    /// The name cut at a character boundary to at most `GatewayAdvert.maxNameBytes` UTF-8 bytes.
    static func truncatedName(_ name: String) -> String {
        var n = name
        while n.utf8.count > GatewayAdvert.maxNameBytes { n.removeLast() }
        return n
    }

    // MARK: receiving adverts

    static func isNewer(_ a: UInt32, than b: UInt32) -> Bool { let d = a &- b; return d != 0 && d < 0x8000_0000 }

    mutating func receiveGatewayAdvert(_ a: GatewayAdvert, from key: NeighbourKey, now: Instant) {
        if a.gateway == node { return }
        if let trusted = configuration.trustedGatewayKeys, !trusted.contains(a.gateway) {
            counters.gatewayAdvertsUntrusted += 1; return
        }
        if let e = gateways[a.gateway], !Self.isNewer(a.seqno, than: e.advert.seqno) {
            counters.gatewayAdvertsStale += 1; return
        }
        if gateways[a.gateway] == nil && gateways.count >= configuration.maxGateways {
            counters.tableFullDrops += 1; return
        }
        guard a.signature.count == 64, verifier.verify(signature: a.signature, of: a.signedBytes, by: a.gateway) else {
            counters.gatewayAdvertsBadSignature += 1; return
        }
        counters.gatewayAdvertsAccepted += 1
        let lifetime = Interval.seconds(Int64(min(max(a.lifetimeSeconds, 5), 3600)))
        let isNew = gateways[a.gateway] == nil
        gateways[a.gateway] = GatewayEntry(advert: a, expires: now + lifetime, address: addresses.meshAddress(of: a.gateway))
        out.append(.notify(isNew ? .gatewayAdded(a.gateway) : .gatewayChanged(a.gateway)))
        enqueueToAll(.gatewayAdvert(a), now: now, except: key)
        reselectPrimaryGateway(now: now)
    }

    mutating func gatewayHousekeeping(now: Instant) {
        for g in gateways.keys.filter({ gateways[$0]!.expires <= now }).sorted() {
            gateways[g] = nil
            out.append(.notify(.gatewayLost(g)))
        }
        for f in gatewayState.flows.keys.filter({ now - gatewayState.flows[$0]!.lastUsed > configuration.flowIdleTime }) {
            gatewayState.flows[f] = nil
        }
        reselectPrimaryGateway(now: now)
    }

    mutating func gatewayPathChanged(_ address: IPv6Address, now: Instant) {
        guard !gateways.isEmpty, gateways.values.contains(where: { $0.address == address }) else { return }
        // Inside a batch (a neighbour's routes re-selected one by one) choose once, on the outcome: half
        // way, one gateway's route has moved and another's not yet, which would switch for nothing.
        if gatewayBatch { gatewayBatchPending = true; return }
        reselectPrimaryGateway(now: now)
    }

    /// Starts a batch of re-selections; returns whether one was already open (pass it to `endGatewayBatch`).
    mutating func beginGatewayBatch() -> Bool {
        let outer = gatewayBatch
        gatewayBatch = true
        return outer
    }

    mutating func endGatewayBatch(_ outer: Bool, now: Instant) {
        guard !outer else { return }
        gatewayBatch = false
        if gatewayBatchPending { gatewayBatchPending = false; reselectPrimaryGateway(now: now) }
    }

    // MARK: scoring

    /// The advert for `g` (this node's own when it is a gateway).
    func advert(of g: NodeID) -> GatewayAdvert? { g == node ? ownGateway.current : gateways[g]?.advert }

    func pathMetric(_ g: NodeID) -> Metric {
        if g == node { return ownGateway.current == nil ? .infinity : .zero }
        guard let e = gateways[g] else { return .infinity }
        return installedEntry(Prefix(host: e.address))?.metric ?? .infinity
    }

    /// Usable for flows already on it: present, healthy and reachable.
    func usableForExisting(_ g: NodeID) -> Bool {
        guard let a = advert(of: g), a.flags.contains(.healthy) else { return false }
        return !pathMetric(g).isInfinite
    }

    /// Capacity left, in kbps (at least 1): downlink bandwidth scaled by the free share.
    func effectiveCapacity(_ a: GatewayAdvert) -> UInt64 {
        max(1, UInt64(a.bandwidthDownKbps) * UInt64(100 - min(a.load, 100)) / 100)
    }

    /// Lower is better: path metric (256 per good hop) + capacity term (256 at 10 Mbit/s free) + a steep
    /// penalty as load passes 80 %. Nil when the gateway takes no new flows.
    func score(_ g: NodeID) -> UInt32? {
        guard usableForExisting(g), let a = advert(of: g), !a.flags.contains(.draining) else { return nil }
        let capacity = min(8192, 256 * 10_000 / effectiveCapacity(a))
        let load = a.load > 80 ? UInt64(a.load - 80) * 64 : 0
        return UInt32(UInt64(pathMetric(g).rawValue) + capacity + load)
    }

    /// Whether `g` is healthy and takes new flows, and its route only waits for a newer seqno: no selected
    /// route to its mesh address, but routes that are merely unfeasible, and a seqno request of ours for
    /// them sent less than about 0.75 s ago (at most one resend: an answer takes milliseconds; a gateway
    /// that died silently must not be kept for the whole ~16 s the request is resent).
    func brieflyStarving(_ g: NodeID) -> Bool {
        guard g != node, let e = gateways[g], e.advert.flags.contains(.healthy), !e.advert.flags.contains(.draining),
              let id = routes.id(Prefix(host: e.address)), routes.selected(id) == nil else { return false }
        return routes.routes(id).contains { r in
            !routeMetric(r).isInfinite
                && pendingRequests[SourceKey(prefix: Prefix(host: e.address), routerID: r.routerID)]
                    .map { $0.resendDue != .distantFuture && $0.resends < 2 } == true
        }
    }

    /// Every gateway known (own included), sorted.
    var allGatewayIDs: [NodeID] {
        var ids = gateways.keys.sorted()
        if ownGateway.current != nil { ids.append(node); ids.sort() }
        return ids
    }

    /// The preferred gateway for new flows, with hysteresis: a better one must win by `gatewaySwitchPercent`.
    mutating func reselectPrimaryGateway(now: Instant) {
        var best: (NodeID, UInt32)? = nil
        for g in allGatewayIDs { if let s = score(g), best == nil || s < best!.1 { best = (g, s) } }
        var choice = best?.0
        if let p = gatewayState.pinned, score(p) != nil {
            choice = p
        } else if let cur = gatewayState.primary, brieflyStarving(cur) {
            // The current one only lost its feasible route for a moment (a neighbour went and the remaining
            // routes wait for a newer seqno, decision 0320): keep it rather than switching away and back, or
            // to "none" and back (a driver tears down default routes and the lease on none). New flows
            // meanwhile go to the best usable gateway (`selectGateway`).
            choice = cur
        } else if let cur = gatewayState.primary, let cs = score(cur), let b = best,
                  UInt64(b.1) * 100 >= UInt64(cs) * UInt64(100 - configuration.gatewaySwitchPercent) {
            choice = cur
        }
        if choice != gatewayState.primary {
            gatewayState.primary = choice
            out.append(.notify(.selectedGatewayChanged(choice)))
        }
    }

    mutating func selectGateway(forFlow flow: UInt64, now: Instant) -> NodeID? {
        if let f = gatewayState.flows[flow], usableForExisting(f.gateway) {
            gatewayState.flows[flow]!.lastUsed = now
            return f.gateway
        }
        let primary: NodeID
        let ps: UInt32
        if let p = gatewayState.primary, let s = score(p) {
            primary = p; ps = s
        } else if let best = allGatewayIDs.compactMap({ g in score(g).map { (g, $0) } }).min(by: { ($0.1, $0.0) < ($1.1, $1.0) }) {
            primary = best.0; ps = best.1 // the primary is briefly unreachable (see reselectPrimaryGateway)
        } else {
            gatewayState.flows[flow] = nil
            return nil
        }
        var choice = primary
        if gatewayState.pinned != primary {
            // Spread new flows over the best few, in proportion to free capacity.
            let limit = UInt64(ps) * UInt64(100 + configuration.gatewaySpreadPercent) / 100
            var set: [(NodeID, UInt32)] = [(primary, ps)]
            for g in allGatewayIDs where g != primary { if let s = score(g), UInt64(s) <= limit { set.append((g, s)) } }
            set.sort { ($0.1, $0.0) < ($1.1, $1.0) }
            if set.count > configuration.gatewaySpreadCount { set.removeLast(set.count - configuration.gatewaySpreadCount) }
            if !set.contains(where: { $0.0 == primary }) { set[set.count - 1] = (primary, ps) }
            let weights = set.map { effectiveCapacity(advert(of: $0.0)!) }
            let total = weights.reduce(0, +)
            var z = flow &+ 0x9E37_79B9_7F4A_7C15
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            var pick = (z ^ (z >> 31)) % total
            for (i, w) in weights.enumerated() {
                if pick < w { choice = set[i].0; break }
                pick -= w
            }
        }
        if gatewayState.flows[flow] == nil && gatewayState.flows.count >= configuration.maxFlows {
            if let oldest = gatewayState.flows.min(by: { ($0.value.lastUsed, $0.key) < ($1.value.lastUsed, $1.key) })?.key {
                gatewayState.flows[oldest] = nil
            }
        }
        gatewayState.flows[flow] = FlowEntry(gateway: choice, lastUsed: now)
        return choice
    }
}
