import FilamentCore
import FilamentWire

// Event dispatch, neighbours (hello, IHU, probes) and sessions.
extension RoutingEngine {
    mutating func dispatch(_ event: EngineEvent, now: Instant) {
        switch event {
        case let .interfaceUp(i, mtu, kind):
            if interfaces[i] == nil {
                interfaces[i] = InterfaceState(mtu: max(mtu, 256), helloSeqno: Seqno(UInt16(truncatingIfNeeded: random.next())),
                                               nextHello: now + jitter(configuration.maxFlushDelay), kind: kind)
                changed(i, now: now)
            } else {
                interfaces[i]!.mtu = max(mtu, 256)
                if interfaces[i]!.kind != kind {
                    interfaces[i]!.kind = kind
                    for key in neighbourOrder where key.interface == i {
                        neighbours[key]!.wired = kind == .wired
                        updateCost(key, now: now)
                    }
                }
            }
        case let .interfaceDown(i):
            for key in neighbours.keys.filter({ $0.interface == i }).sorted() { removeNeighbour(key, now: now) }
            interfaces[i] = nil
        case let .sessionEstablished(key, node):
            sessionEstablished(key, node: node, now: now)
        case let .sessionClosed(key):
            if neighbours[key] != nil { removeNeighbour(key, now: now) }
        case let .multicastReceived(interface, packet):
            counters.packetsReceived += 1
            receiveMulticast(interface: interface, packet: packet, now: now)
        case let .unicastReceived(from, packet):
            counters.packetsReceived += 1
            receiveUnicast(from: from, packet: packet, now: now)
        case let .forwardedVia(key):
            forwardedVia(key, now: now)
        case let .uplinkChanged(status):
            uplinkChanged(status, now: now)
        case let .setDraining(on):
            setDraining(on, now: now)
        case let .setPreferredGateway(g):
            gatewayState.pinned = g
            reselectPrimaryGateway(now: now)
        case .timer:
            break
        }
    }

    // MARK: sessions

    mutating func sessionEstablished(_ key: NeighbourKey, node: NodeID, now: Instant) {
        guard interfaces[key.interface] != nil else { counters.unknownNeighbourPackets += 1; return }
        // The link layer reports a session only the first time and after a close (re-keys are silent,
        // docs/link-layer.md), so a repeated one means the neighbour restarted: what it announced
        // before is void (a fresh node has no feasibility distances and would accept our routes through
        // itself), so its routes go before anything is sent to it.
        if neighbours[key] != nil { removeNeighbour(key, now: now) }
        guard neighbours.count < configuration.maxNeighbours else { counters.tableFullDrops += 1; return }
        // The Noise handshake was a two-way exchange: start with one hello heard and a nominal txcost so
        // the link is usable at once; IHUs and hellos refine (or revoke) it within seconds.
        var n = Neighbour(node: node, history: 1, expected: 1, lastHelloSeqno: nil, lastHelloTime: now,
                          helloInterval: configuration.helloInterval, txcost: 256,
                          ihuExpiry: now + ihuHoldTime, lastHeard: now)
        n.wired = interfaces[key.interface]?.kind == .wired
        n.cost = n.computedCost()
        n.confirmedUntil = now + configuration.digestInterval * 4
        n.tableExpectedBy = now + configuration.firstTableTimeout
        if let s = freeSlots.popLast() {
            n.slot = s; slotKeys[Int(s)] = key
        } else {
            precondition(slotKeys.count < Int(UInt16.max), "more than 65,534 neighbours")
            n.slot = UInt16(slotKeys.count); slotKeys.append(key)
        }
        neighbours[key] = n
        while held.count <= Int(n.slot) {
            held.append(HeldDigest()); slotCost.append(.infinity); queues.append(NeighbourQueue(hash: routes.hash))
            slotUp.append(false); flushDue.append(.distantFuture)
        }
        held[Int(n.slot)] = HeldDigest()
        slotCost[Int(n.slot)] = n.cost
        slotUp[Int(n.slot)] = true
        if now < startupUntil { startupUntil = min(max(startupUntil, now + configuration.startupExtension), startupLimit) }
        sortNeighbours()
        out.append(.notify(.neighbourAdded(key)))
        interfaces[key.interface]!.ihuSoon = true
        changed(key.interface, now: now)
        scheduleHelloSoon(key.interface, now: now)
        if bootHold.active {
            // Announce the restart first (before our table, so the neighbour flushes the old routes and
            // not the new ones); only its flagged answer proves it flushed (decision 0321).
            bootHold.synced[key] = false
            bootHold.requested.insert(key)
            enqueue(.routeRequest(RouteRequest(prefix: nil, flags: RouteRequest.flagRestarted)), to: key, now: now)
        }
        sendFullTable(to: key, now: now)
    }

    /// IHUs are announced with the slow interval (an upper bound whatever the hello pace), held 3.5x.
    var ihuInterval: Interval { configuration.helloInterval * Int64(max(1, configuration.ihuEveryNthHello)) }
    var ihuHoldTime: Interval { ihuInterval * 7 / 2 }

    func holdTime(_ n: Neighbour) -> Interval {
        var hold = n.helloInterval * configuration.holdHalfIntervals / 2
        if n.wired { hold = max(hold, configuration.wiredHoldMinimum) }
        return lastNow < startupUntil ? max(hold, configuration.startupHoldMinimum) : hold
    }

    /// The process stalled for `late` (see `EngineConfiguration.stallThreshold`): every neighbour's clocks
    /// move by it, as if time had stopped, so input that waited in the sockets is read before anyone is
    /// declared silent.
    mutating func creditStall(_ late: Interval) {
        counters.stallsCredited += 1
        for key in neighbourOrder {
            guard var n = neighbours[key] else { continue }
            n.lastHeard = n.lastHeard + late
            n.lastHelloTime = n.lastHelloTime + late
            if n.ihuExpiry != .distantFuture { n.ihuExpiry = n.ihuExpiry + late }
            if n.probeDue != .distantFuture { n.probeDue = n.probeDue + late }
            neighbours[key] = n
        }
    }

    /// Something changed on the interface: hello fast for a while so neighbours notice quickly.
    mutating func changed(_ i: InterfaceID, now: Instant) {
        guard interfaces[i] != nil else { return }
        let until = now + configuration.fastHelloPeriod
        if interfaces[i]!.fastUntil < until {
            let wasSlow = interfaces[i]!.fastUntil <= now
            interfaces[i]!.fastUntil = until
            // Announce the faster pace at once (the last hello promised the slow interval).
            if wasSlow { scheduleHelloSoon(i, now: now) }
        }
    }

    /// `neighbourOrder` and its slots, after a neighbour came or went.
    mutating func sortNeighbours() {
        neighbourOrder = neighbours.keys.sorted()
        neighbourOrderSlots = neighbourOrder.map { neighbours[$0]!.slot }
    }

    mutating func removeNeighbour(_ key: NeighbourKey, now: Instant) {
        flushRoutes(from: key, now: now)
        if let s = neighbours[key]?.slot { // no route carries it any more
            freeSlots.append(s)
            held[Int(s)] = HeldDigest(); slotCost[Int(s)] = .infinity; queues[Int(s)] = NeighbourQueue(hash: routes.hash)
            slotUp[Int(s)] = false; flushDue[Int(s)] = .distantFuture
        }
        neighbours[key] = nil
        echoes[key] = nil
        sortNeighbours()
        out.append(.notify(.neighbourLost(key)))
    }

    /// Marks a neighbour down (silent past the hold time or unanswered probes): its routes go at once.
    mutating func neighbourDown(_ key: NeighbourKey, now: Instant) {
        guard var n = neighbours[key], n.isUp else { return }
        n.isUp = false; n.cost = .infinity; n.probeNonce = nil; n.probeDue = .distantFuture
        neighbours[key] = n
        slotCost[Int(n.slot)] = .infinity
        slotUp[Int(n.slot)] = false
        flushDue[Int(n.slot)] = .distantFuture
        queues[Int(n.slot)] = NeighbourQueue(hash: routes.hash)
        counters.neighboursLost += 1
        out.append(.notify(.neighbourLost(key)))
        changed(key.interface, now: now)
        flushRoutes(from: key, now: now)
    }

    /// The neighbour restarted behind a surviving session (hello seqno jump, or it said so with a flagged
    /// route request): drop its routes and echoes, send it our table (its digest flagged `flushed` when it
    /// asked, decision 0321).
    mutating func neighbourRestarted(_ key: NeighbourKey, now: Instant, announced: Bool = false) {
        counters.neighbourRestarts += 1
        flushRoutes(from: key, now: now)
        echoes[key] = nil
        if let s = neighbours[key]?.slot { held[Int(s)] = HeldDigest() }
        interfaces[key.interface]?.ihuSoon = true
        // The restarted node lost our key with its memory: our next hello (soon) carries it, so it can
        // open a new session at once instead of waiting for every 10th hello.
        if !announced { interfaces[key.interface]?.nodeIDSoon = true; scheduleHelloSoon(key.interface, now: now) }
        changed(key.interface, now: now)
        sendFullTable(to: key, now: now, digestFlags: announced ? Digest.flagFlushed : 0)
    }

    mutating func heard(_ key: NeighbourKey, now: Instant) {
        guard var n = neighbours[key] else { return }
        n.lastHeard = now
        n.probeNonce = nil; n.probesSent = 0; n.probeDue = .distantFuture
        let wasDown = !n.isUp
        if wasDown {
            n.isUp = true; n.history = 1; n.expected = 1; n.lastHelloSeqno = nil; n.lastHelloTime = now
            n.confirmedUntil = now + configuration.digestInterval * 4
        }
        neighbours[key] = n
        if wasDown {
            slotUp[Int(n.slot)] = true
            out.append(.notify(.neighbourAdded(key)))
            interfaces[key.interface]?.ihuSoon = true
            // Back after a silence: it may have restarted and lost our key; our next hello carries it.
            interfaces[key.interface]?.nodeIDSoon = true
            changed(key.interface, now: now)
            scheduleHelloSoon(key.interface, now: now)
            sendFullTable(to: key, now: now)
            updateCost(key, now: now)
        }
    }

    // MARK: multicast (hellos and IHUs)

    mutating func receiveMulticast(interface: InterfaceID, packet: RoutingPacket, now: Instant) {
        guard interfaces[interface] != nil else { counters.unknownNeighbourPackets += 1; return }
        // The sender is named by the hello in the packet; IHUs without a hello are ignored.
        var sender: RouterID? = nil
        for m in packet.messages { if case let .hello(h) = m { sender = h.routerID; break } }
        guard let rid = sender, rid != routerID else { return }
        let key = NeighbourKey(interface: interface, routerID: rid)
        if bootHold.active && bootHold.synced[key] == nil { bootHold.synced[key] = false }
        guard neighbours[key] != nil else {
            counters.hellosWithoutSession += 1
            // Help the stranger start a session: our next hello (soon) carries our full key.
            if now - interfaces[interface]!.lastNodeIDHello >= configuration.fastHelloInterval {
                interfaces[interface]!.nodeIDSoon = true
                scheduleHelloSoon(interface, now: now)
            }
            return
        }
        for m in packet.messages {
            counters.messagesReceived += 1
            switch m {
            case let .hello(h) where h.routerID == rid: receiveHello(h, from: key, now: now)
            case let .ihu(ihu) where ihu.neighbour == routerID: receiveIHU(ihu, from: key, now: now)
            default: break
            }
        }
        updateCost(key, now: now)
    }

    mutating func receiveHello(_ h: Hello, from key: NeighbourKey, now: Instant) {
        heard(key, now: now)
        guard var n = neighbours[key] else { return }
        if let last = n.lastHelloSeqno {
            let d = Int(h.seqno.rawValue &- last.rawValue)
            if d == 0 { return }
            if d <= 16 {
                n.history = (d >= 16 ? 0 : n.history << UInt16(d)) | 1
                n.expected = min(16, n.expected + d)
            } else if 0x1_0000 - d <= 16 {
                return // a late or duplicate hello (older than one already counted)
            } else {
                // The hello seqno jumped: the neighbour restarted (it starts at a random value) while
                // its session survived on our side. Forget what it announced and resend our table.
                neighbours[key] = n
                neighbourRestarted(key, now: now)
                guard var fresh = neighbours[key] else { return }
                fresh.history = 1; fresh.expected = 1
                fresh.lastHelloSeqno = h.seqno; fresh.missedByTimer = 0; fresh.lastHelloTime = now
                fresh.helloInterval = clampInterval(centiseconds: h.intervalCentiseconds, fallback: configuration.helloInterval)
                neighbours[key] = fresh
                return
            }
        } else if n.expected > 1 || n.history != 1 {
            n.history = (n.history << 1) | 1; n.expected = min(16, n.expected + 1)
        }
        n.lastHelloSeqno = h.seqno
        n.missedByTimer = 0
        n.lastHelloTime = now
        n.helloInterval = clampInterval(centiseconds: h.intervalCentiseconds, fallback: configuration.helloInterval)
        neighbours[key] = n
    }

    mutating func receiveIHU(_ ihu: IHU, from key: NeighbourKey, now: Instant) {
        guard var n = neighbours[key] else { return }
        n.txcost = ihu.rxcost
        let interval = clampInterval(centiseconds: ihu.intervalCentiseconds, fallback: ihuInterval)
        n.ihuExpiry = now + interval * 7 / 2
        neighbours[key] = n
    }

    func clampInterval(centiseconds: UInt16, fallback: Interval) -> Interval {
        if centiseconds == 0 { return fallback }
        let ms = Int64(centiseconds) * 10
        return .milliseconds(min(max(ms, 50), 600_000))
    }

    /// Recomputes a neighbour's link cost; when it changed, re-evaluates every route through it.
    mutating func updateCost(_ key: NeighbourKey, now: Instant) {
        guard var n = neighbours[key] else { return }
        let c = n.computedCost()
        guard c != n.cost else { return }
        let old = n.cost
        n.cost = c
        neighbours[key] = n
        slotCost[Int(n.slot)] = c
        if old.isInfinite != c.isInfinite {
            out.append(.notify(.neighbourChanged(key)))
            changed(key.interface, now: now)
        }
        var affected: [Prefix] = []
        for id in routes.ids where routes.index(id, ofSlot: n.slot) != nil { affected.append(routes.prefix(id)) }
        affected.sort()
        let outer = beginGatewayBatch()
        for p in affected { reselect(p, now: now) }
        endGatewayBatch(outer, now: now)
    }

    // MARK: unicast

    mutating func receiveUnicast(from key: NeighbourKey, packet: RoutingPacket, now: Instant) {
        guard let slot = neighbours[key]?.slot else { counters.unknownNeighbourPackets += 1; return }
        heard(key, now: now)
        for m in packet.messages {
            counters.messagesReceived += 1
            guard slotUp[Int(slot)] else { return }
            switch m {
            case let .update(u): receiveUpdate(u, from: key, now: now)
            case let .routeRequest(r): receiveRouteRequest(r, from: key, now: now)
            case let .seqnoRequest(r): receiveSeqnoRequest(r, from: key, now: now)
            case let .digest(d): receiveDigest(d, from: key, now: now)
            case let .gatewayAdvert(a): receiveGatewayAdvert(a, from: key, now: now)
            case let .probe(p):
                if p.isReply { probeReplied(p.nonce, from: key, now: now) } else {
                    let reply = RoutingPacket(messages: [.probe(Probe(nonce: p.nonce, isReply: true))])
                    out.append(.sendUnicast(to: key, packet: reply))
                    countSent(reply, unicast: true)
                }
            case let .ihu(ihu) where ihu.neighbour == routerID: receiveIHU(ihu, from: key, now: now)
            case .hello, .ihu: break
            }
        }
    }

    // MARK: probes

    mutating func forwardedVia(_ key: NeighbourKey, now: Instant) {
        guard var n = neighbours[key], n.isUp, n.probeNonce == nil,
              now - n.lastHeard >= configuration.probeSilence else { return }
        let nonce = UInt32(truncatingIfNeeded: random.next())
        n.probeNonce = nonce; n.probesSent = 1; n.probeDue = now + probeWait(n)
        n.rttNonce = nonce; n.rttSentAt = now
        neighbours[key] = n
        sendProbe(nonce, to: key)
    }

    /// How long a probe waits for its reply before the next (or the verdict): the configured interval, or
    /// twice the smoothed round-trip time when that is longer (a busy or slow link is not a dead one);
    /// twice the interval while no round trip has been measured (as TCP starts with a long timeout).
    func probeWait(_ n: Neighbour) -> Interval {
        guard let rtt = n.smoothedRTT else { return configuration.probeInterval * 2 }
        return max(configuration.probeInterval, rtt * 2)
    }

    /// A reply to a probe round of `nonce` is one round-trip sample, measured from the round's first probe:
    /// when it answers a resent probe the sample is too long, never too short (Karn's rule would discard it,
    /// and on a link slower than the probe interval would never sample at all).
    mutating func probeReplied(_ nonce: UInt32, from key: NeighbourKey, now: Instant) {
        guard var n = neighbours[key], n.rttNonce == nonce else { return }
        let sample = now - n.rttSentAt
        n.rttNonce = nil
        n.smoothedRTT = n.smoothedRTT.map { Interval(nanoseconds: ($0.nanoseconds &* 7 &+ sample.nanoseconds) / 8) } ?? sample
        neighbours[key] = n
    }

    mutating func sendProbe(_ nonce: UInt32, to key: NeighbourKey) {
        counters.probesSent += 1
        let packet = RoutingPacket(messages: [.probe(Probe(nonce: nonce, isReply: false))])
        out.append(.sendUnicast(to: key, packet: packet))
        countSent(packet, unicast: true)
    }

    /// Hold-time, IHU and probe timers of every neighbour.
    mutating func neighbourTimers(now: Instant) {
        for key in neighbourOrder {
            guard let n = neighbours[key], n.isUp else { continue }
            if now - n.lastHeard > holdTime(n) {
                neighbourDown(key, now: now); continue
            }
            if n.probeNonce != nil, n.probeDue <= now {
                if n.probesSent >= configuration.probeLimit {
                    // During a start-up that is still converging (a route changed within the last
                    // `startupSettleTime`) every CPU of a large mesh is busy and replies come late:
                    // unanswered probes end the round, and only the start-up hold time can take the
                    // neighbour down. Once the table is quiet, probes decide at full speed again.
                    if lastNow < startupUntil && now - lastRouteChange < configuration.startupSettleTime
                        && now - n.lastHeard < configuration.startupHoldMinimum {
                        neighbours[key]!.probeNonce = nil; neighbours[key]!.probesSent = 0
                        neighbours[key]!.probeDue = .distantFuture   // (a late reply is still a sample)
                        continue
                    }
                    neighbourDown(key, now: now); continue
                }
                neighbours[key]!.probesSent += 1
                neighbours[key]!.probeDue = now + probeWait(n)
                sendProbe(n.probeNonce!, to: key)
            }
            if n.tableExpectedBy <= now {
                neighbours[key]!.tableExpectedBy = .distantFuture
                counters.lostTablesRequested += 1
                if bootHold.active { bootHold.requested.insert(key); bootHold.synced[key] = false }
                neighbours[key]!.lastFullRequest = now
                enqueue(.routeRequest(RouteRequest(prefix: nil)), to: key, now: now)
            }
            if n.txcost != 0xFFFF, n.ihuExpiry <= now {
                neighbours[key]!.txcost = 0xFFFF
                updateCost(key, now: now)
            }
            // Missed hellos degrade rxcost before the hold time ends.
            let late = now - n.lastHelloTime
            if late >= n.helloInterval * 3 / 2 {
                let missed = Int(late.nanoseconds / max(n.helloInterval.nanoseconds, 1))
                let recorded = Int(neighbours[key]!.missedByTimer)
                if missed > recorded {
                    let d = missed - recorded
                    neighbours[key]!.history = d >= 16 ? 0 : neighbours[key]!.history << UInt16(d)
                    neighbours[key]!.expected = min(16, neighbours[key]!.expected + d)
                    neighbours[key]!.missedByTimer = UInt8(min(missed, 255))
                    if let s = neighbours[key]!.lastHelloSeqno { neighbours[key]!.lastHelloSeqno = s.advanced(by: UInt16(d)) }
                    updateCost(key, now: now)
                }
            }
        }
    }
}
