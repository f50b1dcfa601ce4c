import FilamentCore
import FilamentWire
import Testing
@testable import FilamentEngine

/// One engine driven by hand: a clock we set and actions we inspect.
struct Bench {
    var engine: RoutingEngine
    var now = Instant.zero
    let interface = InterfaceID(1)

    init(_ i: Int = 0, configuration: EngineConfiguration = EngineConfiguration(), counter: UInt64 = 0) {
        engine = makeEngine(i, configuration: configuration, counter: counter)
    }

    func key(_ j: Int) -> NeighbourKey { NeighbourKey(interface: interface, routerID: TestIdentity.routerID(j)) }

    @discardableResult
    mutating func handle(_ e: EngineEvent) -> [EngineAction] { engine.handle(e, now: now) }

    /// Advances the clock to `t`, firing every timer on the way; returns all actions.
    @discardableResult
    mutating func advance(to t: Instant) -> [EngineAction] {
        var all: [EngineAction] = []
        var guardCount = 0
        while engine.nextDeadline <= t && guardCount < 100_000 {
            guardCount += 1
            now = max(now, engine.nextDeadline)
            all += engine.handle(.timer, now: now)
        }
        now = t
        return all
    }
    @discardableResult
    mutating func advance(by d: Interval) -> [EngineAction] { advance(to: now + d) }

    /// Interface up and neighbours j... established, initial chatter flushed.
    mutating func connect(_ js: [Int]) {
        handle(.interfaceUp(interface, mtu: 1400))
        for j in js { handle(.sessionEstablished(key(j), node: TestIdentity.node(j))) }
        advance(by: .milliseconds(100))
    }

    /// Neighbour `j`'s multicast hello (`interval` in centiseconds), with an IHU reporting `rxcost` for us
    /// (none when nil).
    func hello(_ j: Int, seqno: UInt16, interval: UInt16 = 400, rxcost: UInt16? = 256) -> EngineEvent {
        var messages: [Message] = [.hello(Hello(routerID: TestIdentity.routerID(j), seqno: Seqno(seqno), intervalCentiseconds: interval))]
        if let rxcost { messages.append(.ihu(IHU(neighbour: TestIdentity.routerID(0), rxcost: rxcost, intervalCentiseconds: 1200))) }
        return .multicastReceived(interface: interface, packet: RoutingPacket(messages: messages))
    }

    mutating func receive(_ messages: [Message], from j: Int) -> [EngineAction] {
        var a = handle(.unicastReceived(from: key(j), packet: RoutingPacket(messages: messages)))
        a += advance(by: .milliseconds(50))
        return a
    }
}

func unicastMessages(_ actions: [EngineAction], to key: NeighbourKey? = nil) -> [Message] {
    actions.flatMap { a -> [Message] in
        if case let .sendUnicast(k, p) = a, key == nil || k == key! { return p.messages }
        return []
    }
}

func updates(_ actions: [EngineAction], to key: NeighbourKey? = nil) -> [Update] {
    unicastMessages(actions, to: key).compactMap { if case let .update(u) = $0 { return u }; return nil }
}

func update(_ j: Int, prefix: Prefix? = nil, seqno: UInt16 = 1, metric: UInt16 = 0, rid: Int? = nil) -> Message {
    .update(Update(prefix: prefix ?? Prefix(host: TestIdentity.address(j)), routerID: TestIdentity.routerID(rid ?? j),
                   seqno: Seqno(seqno), metric: Metric(metric), intervalCentiseconds: 1000))
}

@Suite struct EngineUnitTests {
    /// The first call reports the seqno counter one above the persisted value, so a restart moves it.
    @Test func firstCallPersistsCounter() {
        var b = Bench(counter: 41)
        let a = b.handle(.timer)
        #expect(a.first == .persistSeqnoCounter(42))
        #expect(b.engine.snapshot().seqno == Seqno(42))
    }

    /// An interface coming up sends a hello soon, carrying the full NodeID, then hellos keep coming.
    @Test func helloOnInterfaceUp() {
        var b = Bench()
        b.handle(.interfaceUp(b.interface, mtu: 1400))
        #expect(b.engine.nextDeadline <= b.now + .milliseconds(20))
        let a = b.advance(by: .seconds(12))
        let hellos = a.compactMap { a -> Hello? in
            if case let .sendMulticast(_, p) = a, case let .hello(h)? = p.messages.first { return h }
            return nil
        }
        #expect(hellos.count >= 10) // fast pace after the change
        #expect(hellos.first?.node == TestIdentity.node(0))
        #expect(hellos.first?.routerID == TestIdentity.routerID(0))
        // Later hellos promise the slow interval once the fast period is over.
        #expect(hellos.last?.intervalCentiseconds == 400)
    }

    /// Hellos from a router without a session create no neighbour; they are counted and our next hello
    /// carries our key so the stranger can start a handshake.
    @Test func helloWithoutSessionIgnored() {
        var b = Bench()
        b.handle(.interfaceUp(b.interface, mtu: 1400))
        b.advance(by: .seconds(30))
        let hello = RoutingPacket(messages: [.hello(Hello(routerID: TestIdentity.routerID(5), seqno: Seqno(1), intervalCentiseconds: 400))])
        b.handle(.multicastReceived(interface: b.interface, packet: hello))
        #expect(b.engine.snapshot().neighbours.isEmpty)
        #expect(b.engine.snapshot().counters.hellosWithoutSession == 1)
        let a = b.advance(by: .milliseconds(100))
        let withNode = a.contains { if case let .sendMulticast(_, p) = $0, case let .hello(h)? = p.messages.first { return h.node != nil }; return false }
        #expect(withNode)
    }

    /// A new session makes a neighbour and sends it our full table (own /128) at once.
    @Test func sessionSendsFullTable() {
        var b = Bench()
        b.handle(.interfaceUp(b.interface, mtu: 1400))
        let a = b.handle(.sessionEstablished(b.key(1), node: TestIdentity.node(1))) + b.advance(by: .milliseconds(10))
        #expect(a.contains(.notify(.neighbourAdded(b.key(1)))))
        let u = updates(a, to: b.key(1))
        #expect(u.contains { $0.prefix == Prefix(host: TestIdentity.address(0)) && $0.metric == .zero })
        #expect(unicastMessages(a, to: b.key(1)).contains { if case .digest = $0 { return true }; return false })
    }

    /// A table lost right after the session opened (no digest from the neighbour within 1 s) is requested;
    /// a neighbour whose digest arrived is not asked.
    @Test func lostFirstTableIsRequested() {
        var b = Bench()
        b.connect([1, 2])
        _ = b.receive([.digest(Digest(routeCount: 0, hash: 0))], from: 2)
        let a = b.advance(by: .milliseconds(1200))
        let wildcard: (Message) -> Bool = { if case let .routeRequest(r) = $0 { return r.prefix == nil }; return false }
        #expect(unicastMessages(a, to: b.key(1)).contains(where: wildcard))
        #expect(!unicastMessages(a, to: b.key(2)).contains(where: wildcard))
        #expect(b.engine.snapshot().counters.lostTablesRequested == 1)
    }

    /// Two values of one prefix queued for a neighbour within one batch: only the latest leaves.
    @Test func queuedUpdatesCoalesce() {
        var b = Bench()
        b.connect([1, 2])
        _ = b.advance(by: .milliseconds(50))
        let p = Prefix("2001:db8:7::/48")!
        var a = b.handle(.unicastReceived(from: b.key(1), packet: RoutingPacket(messages: [
            update(3, prefix: p, seqno: 10, metric: 100), update(3, prefix: p, seqno: 11, metric: 900)])))
        a += b.advance(by: .milliseconds(20))
        let sent = updates(a, to: b.key(2)).filter { $0.prefix == p }
        #expect(sent.count == 1, "\(sent)")
        #expect(sent.first?.seqno == Seqno(11))
        #expect(b.engine.snapshot().counters.updatesCoalesced >= 1)
    }

    /// A received update installs a route with metric = announced + link cost; lookup does longest match.
    @Test func updateInstallsRouteAndLongestPrefixMatch() {
        var b = Bench()
        b.connect([1, 2])
        let p64 = Prefix("2001:db8:1::/48")!
        let p128 = Prefix("2001:db8:1::5/128")!
        let a = b.receive([update(1, prefix: p64, metric: 100), update(1, metric: 0)], from: 1)
            + b.receive([update(2, prefix: p128, metric: 0)], from: 2)
        #expect(a.contains(.installRoute(ForwardingEntry(prefix: p64, nextHop: b.key(1), metric: Metric(356)))))
        #expect(b.engine.lookup(IPv6Address("2001:db8:1::5")!)?.nextHop == b.key(2))
        #expect(b.engine.lookup(IPv6Address("2001:db8:1::6")!)?.nextHop == b.key(1))
        #expect(b.engine.lookup(IPv6Address("2001:db8:2::6")!) == nil)
        #expect(b.engine.lookup(TestIdentity.address(1))?.metric == Metric(256))
        // And it is re-announced to the other neighbour with our metric.
        #expect(updates(a, to: b.key(2)).contains { $0.prefix == p64 && $0.metric == Metric(356) })
    }

    /// The feasibility condition: once we announced (seqno, metric), an update for that source with the same
    /// seqno and a metric not smaller is not selected; a newer seqno is.
    @Test func feasibilityCondition() {
        var b = Bench()
        b.connect([1, 2, 3])
        let p = Prefix("2001:db8::/32")!
        b.receive([update(3, prefix: p, seqno: 10, metric: 100)], from: 1) // via 1: 356, announced: FD (10, 356)
        #expect(b.engine.lookup(IPv6Address("2001:db8::1")!)?.nextHop == b.key(1))
        // Neighbour 1 loses it; neighbour 2 offers the same seqno with metric 400 (>= FD 356): unfeasible.
        let a = b.receive([update(3, prefix: p, seqno: 10, metric: 400)], from: 2)
            + b.receive([.update(Update(prefix: p, routerID: TestIdentity.routerID(3), seqno: Seqno(10), metric: .infinity,
                                         intervalCentiseconds: 1000))], from: 1)
        #expect(b.engine.lookup(IPv6Address("2001:db8::1")!) == nil)
        #expect(b.engine.snapshot().routes.contains { $0.prefix == p && !$0.feasible })
        #expect(b.engine.snapshot().counters.unfeasibleUpdates == 1)
        // Starvation: we ask neighbour 2 for a newer seqno of the source.
        let req = unicastMessages(a, to: b.key(2)).compactMap { if case let .seqnoRequest(r) = $0 { return r }; return nil }
        #expect(req.contains { $0.prefix == p && $0.seqno == Seqno(11) && $0.routerID == TestIdentity.routerID(3) })
        // The lost route is retracted to the other neighbours.
        #expect(updates(a, to: b.key(3)).contains { $0.prefix == p && $0.isRetraction })
        // A newer seqno is feasible whatever its metric.
        b.receive([update(3, prefix: p, seqno: 11, metric: 2000)], from: 2)
        #expect(b.engine.lookup(IPv6Address("2001:db8::1")!)?.nextHop == b.key(2))
    }

    /// Hostile updates: a mesh /128 from a router id it does not hash to, a zero metric from a non-source,
    /// a seqno jump, and a claim on our own address are counted and dropped.
    @Test func hostileUpdatesDropped() {
        var b = Bench()
        b.connect([1, 2])
        b.receive([update(3, metric: 300, rid: 2)], from: 1)              // address of 3 from router id 2
        b.receive([update(3, prefix: Prefix("2001:db8::/32")!, metric: 0)], from: 1) // metric 0, router id 3 != 1
        b.receive([update(4, seqno: 5, metric: 300)], from: 1)
        b.receive([update(4, seqno: 5 &+ 20_000, metric: 300)], from: 2)   // jump
        b.receive([update(0, seqno: 9, metric: 300, rid: 2)], from: 1)    // our address, someone else's id
        let c = b.engine.snapshot().counters
        #expect(c.bogusPrefixes == 1)
        #expect(c.absurdMetrics == 1)
        #expect(c.seqnoJumps == 1)
        #expect(c.ownRouterIDClaims == 1)
        #expect(b.engine.lookup(TestIdentity.address(3)) == nil)
        #expect(b.engine.lookup(TestIdentity.address(4))?.nextHop == b.key(1))
    }

    /// A seqno request for our own prefix with a newer seqno moves the counter (persisted) and re-announces.
    @Test func seqnoRequestBumpsOwnSeqno() {
        var b = Bench(counter: 9)
        b.connect([1])
        let a = b.receive([.seqnoRequest(SeqnoRequest(prefix: Prefix(host: TestIdentity.address(0)), routerID: TestIdentity.routerID(0),
                                                      seqno: Seqno(11), hopCount: 10))], from: 1)
        #expect(a.contains(.persistSeqnoCounter(11)))
        #expect(updates(a, to: b.key(1)).contains { $0.prefix == Prefix(host: TestIdentity.address(0)) && $0.seqno == Seqno(11) })
    }

    /// A seqno request we cannot answer is forwarded towards the source (hop count - 1), never back, and a
    /// duplicate is suppressed — only briefly (200 ms, decision 0320): a resend after that goes through.
    @Test func seqnoRequestForwardedOnce() {
        var b = Bench()
        b.connect([1, 2, 3])
        b.receive([update(5, seqno: 3, metric: 256)], from: 1)
        let req = Message.seqnoRequest(SeqnoRequest(prefix: Prefix(host: TestIdentity.address(5)), routerID: TestIdentity.routerID(5),
                                                    seqno: Seqno(4), hopCount: 5))
        let a = b.receive([req], from: 2)
        let fwd = unicastMessages(a, to: b.key(1)).compactMap { if case let .seqnoRequest(r) = $0 { return r }; return nil }
        #expect(fwd == [SeqnoRequest(prefix: Prefix(host: TestIdentity.address(5)), routerID: TestIdentity.routerID(5), seqno: Seqno(4), hopCount: 4)])
        let again = b.receive([req], from: 3)
        #expect(unicastMessages(again, to: b.key(1)).allSatisfy { if case .seqnoRequest = $0 { return false }; return true })
        // From the next hop itself: never sent back.
        let back = b.receive([req], from: 1)
        #expect(unicastMessages(back).allSatisfy { if case .seqnoRequest = $0 { return false }; return true })
        #expect(b.engine.snapshot().counters.seqnoRequestsForwarded == 1)
        b.advance(by: .milliseconds(100))   // 250 ms after the first: the requester's resend is forwarded
        let resend = b.receive([req], from: 2)
        #expect(unicastMessages(resend, to: b.key(1)).contains { if case .seqnoRequest = $0 { return true }; return false })
        #expect(b.engine.snapshot().counters.seqnoRequestsForwarded == 2)
    }

    /// A node that starves too (no selected route, only an unfeasible one) still passes a seqno request on
    /// towards the source, through the unfeasible route's neighbour (RFC 8966 3.8.1.2; decision 0818):
    /// dropping it kept whole regions starving.
    @Test func seqnoRequestForwardedWhileStarving() {
        var b = Bench()
        b.connect([1, 2, 3])
        b.receive([update(5, seqno: 3, metric: 256)], from: 1)          // selected; our FD: (3, 512)
        b.receive([update(5, seqno: 3, metric: 0xFFFF)], from: 1)       // retracted
        b.receive([update(5, seqno: 3, metric: 600)], from: 2)          // 856 > 512: unfeasible, starving
        #expect(b.engine.lookup(TestIdentity.address(5)) == nil)
        let req = Message.seqnoRequest(SeqnoRequest(prefix: Prefix(host: TestIdentity.address(5)), routerID: TestIdentity.routerID(5),
                                                    seqno: Seqno(4), hopCount: 5))
        let a = b.receive([req], from: 3)
        let fwd = unicastMessages(a, to: b.key(2)).compactMap { if case let .seqnoRequest(r) = $0 { return r }; return nil }
        #expect(fwd.contains(SeqnoRequest(prefix: Prefix(host: TestIdentity.address(5)), routerID: TestIdentity.routerID(5), seqno: Seqno(4), hopCount: 4)))
        // Not back to the requester, and not when the only route is the requester's.
        let back = b.receive([req], from: 2)
        #expect(unicastMessages(back).allSatisfy { if case let .seqnoRequest(r) = $0 { return r.hopCount != 4 }; return true })
    }

    /// Starvation: our own seqno request is resent after 250 ms, 500 ms, 1 s, ... (6 resends) while no
    /// newer seqno answers; an answer stops the resends.
    @Test func starvingRequestIsResentUntilAnswered() {
        func starve() -> Bench {
            var config = EngineConfiguration()
            config.holdHalfIntervals = 100 // the bench sends no hellos: keep the neighbours up for 200 s
            var b = Bench(configuration: config)
            b.connect([1, 2])
            let p = Prefix("2001:db8::/32")!
            b.receive([update(3, prefix: p, seqno: 10, metric: 100)], from: 1)
            b.receive([update(3, prefix: p, seqno: 10, metric: 400)], from: 2)
            b.receive([.update(Update(prefix: p, routerID: TestIdentity.routerID(3), seqno: Seqno(10), metric: .infinity,
                                      intervalCentiseconds: 1000))], from: 1)
            return b
        }
        func requestTimes(_ b: inout Bench, for d: Interval) -> [Int64] {
            var times: [Int64] = []
            let start = b.now
            while b.now < start + d {
                let a = b.advance(to: min(b.engine.nextDeadline, start + d))
                if unicastMessages(a, to: b.key(2)).contains(where: { if case .seqnoRequest = $0 { return true }; return false }) {
                    times.append((b.now - start).milliseconds)
                }
            }
            return times
        }
        var b = starve()
        let sent = b.engine.snapshot().counters.seqnoRequestsSent
        #expect(sent == 1)
        // Resends: 250 ms after the first (sent ~50 ms before `start`), then doubling.
        let t = requestTimes(&b, for: .seconds(20))
        #expect(t.count == 6, "\(t)")
        let gaps = zip(t.dropFirst(), t).map { $0 - $1 }
        #expect(gaps.count == 5 && zip(gaps, [500, 1000, 2000, 4000, 8000]).allSatisfy { abs($0 - $1) <= 10 }, "\(gaps)")
        #expect(b.engine.snapshot().counters.seqnoRequestsResent == 6)
        #expect(b.engine.lookup(IPv6Address("2001:db8::1")!) == nil)
        // Then every 16 s for as long as it starves (decision 0818), not given up; here until the routes
        // expire (3.5 update intervals: nothing refreshes them on this bench), when it no longer starves.
        let later = requestTimes(&b, for: .seconds(40))
        #expect(later.count == 1 && abs(later[0] + 20_000 - t.last! - 16_000) <= 10, "\(later) after \(t)")

        // Answered by a newer seqno after the first resend: no more requests.
        var c = starve()
        _ = requestTimes(&c, for: .milliseconds(300))
        c.receive([update(3, prefix: Prefix("2001:db8::/32")!, seqno: 11, metric: 400)], from: 2)
        #expect(c.engine.lookup(IPv6Address("2001:db8::1")!)?.nextHop == c.key(2))
        #expect(requestTimes(&c, for: .seconds(30)).isEmpty)
        #expect(c.engine.snapshot().counters.seqnoRequestsResent == 1)
    }

    /// A digest that differs from what we hold from that neighbour makes us ask for its full table.
    @Test func digestMismatchRequestsFullTable() {
        var b = Bench()
        b.connect([1])
        b.receive([update(1)], from: 1)
        let ok = b.receive([.digest(Digest(routeCount: 1, hash: DigestHash.entry(prefix: Prefix(host: TestIdentity.address(1)),
            routerID: TestIdentity.routerID(1), seqno: Seqno(1), metric: .zero)))], from: 1)
        #expect(!unicastMessages(ok).contains(.routeRequest(RouteRequest(prefix: nil))))
        let bad = b.receive([.digest(Digest(routeCount: 2, hash: 7))], from: 1)
        #expect(unicastMessages(bad, to: b.key(1)).contains(.routeRequest(RouteRequest(prefix: nil))))
        #expect(b.engine.snapshot().counters.digestMismatches == 1)
    }

    /// Without IHUs the link becomes one-way after the IHU hold time: its routes are unusable.
    @Test func oneWayLinkDetected() {
        var b = Bench()
        b.connect([1])
        b.receive([update(1)], from: 1)
        #expect(b.engine.lookup(TestIdentity.address(1)) != nil)
        // Hellos keep coming (the link is not dead) but no IHU names us.
        var seq: UInt16 = 1
        for _ in 0..<20 {
            b.handle(b.hello(1, seqno: seq, rxcost: nil))
            seq &+= 1
            b.advance(by: .seconds(4))
        }
        #expect(b.engine.snapshot().neighbours.first?.txcost == 0xFFFF)
        #expect(b.engine.lookup(TestIdentity.address(1)) == nil)
    }

    /// A silent neighbour carrying traffic is probed and declared down after the unanswered probes, once
    /// start-up is over (below): 300 ms silence + 3 probes waiting 300 ms each (no round trip measured yet).
    @Test func probesDetectDeadNeighbour() {
        var b = Bench()
        b.connect([1])
        b.receive([update(1)], from: 1)
        b.advance(to: .zero + b.engine.configuration.startupPeriodMaximum)
        b.handle(b.hello(1, seqno: 7))
        b.receive([update(1, seqno: 2)], from: 1)
        let start = b.now
        var lost: Instant? = nil
        var probes = 0
        while b.now - start < .seconds(3) && lost == nil {
            let a = b.handle(.forwardedVia(b.key(1))) + b.advance(by: .milliseconds(10))
            probes += unicastMessages(a).filter { if case .probe = $0 { return true }; return false }.count
            if b.engine.lookup(TestIdentity.address(1)) == nil { lost = b.now }
        }
        #expect(probes == 3)
        #expect(lost.map { $0 - start < .milliseconds(1300) } == true)
    }

    /// rxcost follows the hello history: every second hello lost doubles it (ETX), and the link cost is
    /// the product with the neighbour's reported txcost.
    @Test func etxFromHelloHistory() {
        var b = Bench()
        b.connect([1])
        var seq: UInt16 = 100
        for _ in 0..<16 {
            b.handle(b.hello(1, seqno: seq))
            seq &+= 2   // one hello in two is lost
            b.advance(by: .seconds(1))
        }
        let n = b.engine.snapshot().neighbours[0]
        #expect(n.rxcost == 512)
        #expect(n.txcost == 256)
        #expect(n.cost == Metric(512))
    }

    /// Wired links (decision 0815): the same history (one hello in two lost, and hellos late enough for the
    /// timer to count them missed) leaves the cost at 256 and announces no new metric; the neighbour's
    /// reported txcost does not move it either. Switching the interface to wireless brings the ETX cost back.
    @Test func wiredLinkCostIgnoresHelloHistory() {
        var b = Bench()
        b.handle(.interfaceUp(b.interface, mtu: 1400, kind: .wired))
        b.handle(.sessionEstablished(b.key(1), node: TestIdentity.node(1)))
        b.advance(by: .milliseconds(100))
        b.receive([update(1), update(5, metric: 256)], from: 1)
        var seq: UInt16 = 100
        var announced: [Update] = []
        for _ in 0..<16 {
            b.handle(b.hello(1, seqno: seq, rxcost: 768))
            seq &+= 2
            announced += updates(b.advance(by: .seconds(1)))
        }
        var n = b.engine.snapshot().neighbours[0]
        #expect(n.rxcost == 512)
        #expect(n.cost == Metric(256))
        #expect(announced.filter { $0.prefix == Prefix(host: TestIdentity.address(5)) && $0.metric != Metric(512) }.isEmpty)
        b.handle(.interfaceUp(b.interface, mtu: 1400, kind: .wireless))
        n = b.engine.snapshot().neighbours[0]
        #expect(n.cost == Metric(1536))   // 512 x 768 / 256
        #expect(b.engine.snapshot().routes.contains { $0.prefix == Prefix(host: TestIdentity.address(5)) && $0.metric == Metric(256 + 1536) })
    }

    /// After start-up, a neighbour announcing fast hellos (750 ms) is held 1.9 s on radio, 4 s on a cable.
    @Test func wiredHoldFloor() {
        for kind in [LinkKind.wireless, .wired] {
            var b = Bench()
            b.handle(.interfaceUp(b.interface, mtu: 1400, kind: kind))
            b.handle(.sessionEstablished(b.key(1), node: TestIdentity.node(1)))
            b.advance(to: .zero + b.engine.configuration.startupPeriodMaximum)
            b.handle(b.hello(1, seqno: 9, interval: 75))
            b.advance(by: .milliseconds(2500))
            #expect(b.engine.snapshot().neighbours.first?.isUp == (kind == .wired))
            b.advance(by: .milliseconds(2000))
            #expect(b.engine.snapshot().neighbours.first?.isUp == false)
        }
    }

    /// A stall (the process did not run: the next event comes seconds after the engine's deadline) is not
    /// held against the neighbours: the first event after it does not declare a silent one down, whose
    /// hello is still waiting in the socket. Without a stall the same silence does.
    @Test func stallIsCreditedToNeighbours() {
        func run(stalled: Bool) -> Bool {
            var b = Bench()
            b.connect([1, 2])
            b.advance(to: .zero + b.engine.configuration.startupPeriodMaximum)
            b.handle(b.hello(1, seqno: 10, interval: 75)); b.handle(b.hello(2, seqno: 10, interval: 75))
            if stalled {
                b.now = b.now + .seconds(3)          // no timer ran meanwhile
            } else {
                b.advance(by: .seconds(3))           // timers ran; both were silent
            }
            b.handle(b.hello(2, seqno: 11, interval: 75))
            return b.engine.snapshot().neighbours.first { $0.key == b.key(1) }?.isUp ?? false
        }
        #expect(run(stalled: true))
        #expect(!run(stalled: false))
    }

    /// A wired neighbour still goes down when it falls silent (hold time), with its routes.
    @Test func wiredNeighbourStillTimesOut() {
        var b = Bench()
        b.handle(.interfaceUp(b.interface, mtu: 1400, kind: .wired))
        b.handle(.sessionEstablished(b.key(1), node: TestIdentity.node(1)))
        b.receive([update(1), update(5, metric: 256)], from: 1)
        let a = b.advance(by: .seconds(60))
        #expect(a.contains(.removeRoute(Prefix(host: TestIdentity.address(5)))))
        #expect(b.engine.snapshot().neighbours.allSatisfy { $0.cost.isInfinite })
    }

    /// A repeated sessionEstablished means the neighbour restarted: its old routes go, it gets our table.
    @Test func repeatedSessionMeansRestart() {
        var b = Bench()
        b.connect([1])
        b.receive([update(1), update(5, metric: 256)], from: 1)
        let a = b.handle(.sessionEstablished(b.key(1), node: TestIdentity.node(1))) + b.advance(by: .milliseconds(50))
        #expect(a.contains(.removeRoute(Prefix(host: TestIdentity.address(5)))))
        #expect(updates(a, to: b.key(1)).contains { $0.prefix == Prefix(host: TestIdentity.address(0)) })
    }

    /// A jump in a neighbour's hello seqno (it restarted while its session survived on our side) flushes
    /// its routes and sends it our table; a late hello does not.
    @Test func helloSeqnoJumpMeansRestart() {
        var b = Bench()
        b.connect([1])
        b.receive([update(1), update(5, metric: 256)], from: 1)
        func hello(_ s: UInt16) -> EngineEvent { b.hello(1, seqno: s, rxcost: nil) }
        b.handle(hello(100)); b.handle(hello(101)); b.handle(hello(99))  // late: ignored
        #expect(b.engine.lookup(TestIdentity.address(5)) != nil)
        let a = b.handle(hello(40_000)) + b.advance(by: .milliseconds(50))
        #expect(a.contains(.removeRoute(Prefix(host: TestIdentity.address(5)))))
        #expect(updates(a, to: b.key(1)).contains { $0.prefix == Prefix(host: TestIdentity.address(0)) })
        #expect(b.engine.snapshot().counters.neighbourRestarts == 1)
        #expect(b.engine.snapshot().neighbours.first?.isUp == true)
    }

    /// sessionClosed removes the neighbour and every route through it.
    @Test func sessionClosedFlushesRoutes() {
        var b = Bench()
        b.connect([1])
        b.receive([update(1), update(5, metric: 256)], from: 1)
        #expect(b.engine.lookup(TestIdentity.address(5)) != nil)
        let a = b.handle(.sessionClosed(b.key(1)))
        #expect(a.contains(.removeRoute(Prefix(host: TestIdentity.address(5)))))
        #expect(a.contains(.notify(.neighbourLost(b.key(1)))))
        #expect(b.engine.snapshot().neighbours.isEmpty && b.engine.snapshot().routes.isEmpty)
    }

    /// A probe is answered at once with the same nonce.
    @Test func probeAnswered() {
        var b = Bench()
        b.connect([1])
        let a = b.handle(.unicastReceived(from: b.key(1), packet: RoutingPacket(messages: [.probe(Probe(nonce: 77, isReply: false))])))
        #expect(unicastMessages(a, to: b.key(1)) == [.probe(Probe(nonce: 77, isReply: true))])
    }

    /// During start-up (every CPU of a large mesh busy) unanswered probes do not take a neighbour down
    /// before the start-up hold time; the hold time still does.
    @Test func probesDoNotKillDuringStartup() {
        var b = Bench()
        b.connect([1])
        b.receive([update(1)], from: 1)
        let start = b.now
        var probes = 0
        while b.now - start < .seconds(2) {
            let a = b.handle(.forwardedVia(b.key(1))) + b.advance(by: .milliseconds(10))
            probes += unicastMessages(a).filter { if case .probe = $0 { return true }; return false }.count
        }
        #expect(probes >= 6)
        #expect(b.engine.lookup(TestIdentity.address(1)) != nil)
        b.advance(by: .seconds(10))
        #expect(b.engine.lookup(TestIdentity.address(1)) == nil)
    }

    /// ...but once the table has been quiet for 3 s, probes decide at full speed even during start-up
    /// (a gateway that dies seconds after a small mesh converged is left in under a second).
    @Test func probesKillDuringSettledStartup() {
        var b = Bench()
        b.connect([1])
        b.receive([update(1)], from: 1)
        b.handle(b.hello(1, seqno: 3))
        b.advance(by: .seconds(3))
        b.handle(b.hello(1, seqno: 4, rxcost: nil))
        let start = b.now
        var lost: Instant? = nil
        while b.now - start < .seconds(3) && lost == nil {
            b.handle(.forwardedVia(b.key(1))); b.advance(by: .milliseconds(10))
            if b.engine.lookup(TestIdentity.address(1)) == nil { lost = b.now }
        }
        #expect(b.now < .zero + b.engine.configuration.startupPeriod)
        #expect(lost.map { $0 - start < .milliseconds(1300) } == true)
    }

    /// After a round-trip sample of 400 ms, probes wait 800 ms each instead of 150 ms: a slow link is not
    /// declared dead in 0.45 s.
    @Test func probeWaitFollowsRoundTrip() {
        var b = Bench()
        b.connect([1])
        b.receive([update(1)], from: 1)
        b.advance(to: .zero + b.engine.configuration.startupPeriodMaximum)
        func hello(_ s: UInt16) { b.handle(b.hello(1, seqno: s)) }
        hello(7)
        b.receive([update(1, seqno: 2)], from: 1)
        b.advance(by: .milliseconds(400))
        var p: Probe? = nil
        for m in unicastMessages(b.handle(.forwardedVia(b.key(1))), to: b.key(1)) { if case let .probe(x) = m { p = x } }
        b.advance(by: .milliseconds(400))   // two resends meanwhile; the third wait has not run out
        b.handle(.unicastReceived(from: b.key(1), packet: RoutingPacket(messages: [.probe(Probe(nonce: p!.nonce, isReply: true))])))
        #expect(b.engine.snapshot().neighbours.first?.rtt == .milliseconds(400))
        #expect(b.engine.lookup(TestIdentity.address(1)) != nil)
        hello(8)
        b.advance(by: .milliseconds(400))
        var sent: [Instant] = []
        let start = b.now
        while b.now - start < .seconds(2) {
            let a = b.handle(.forwardedVia(b.key(1))) + b.advance(by: .milliseconds(10))
            if unicastMessages(a).contains(where: { if case .probe = $0 { return true }; return false }) { sent.append(b.now) }
        }
        #expect(sent.count == 3)
        #expect(zip(sent.dropFirst(), sent).allSatisfy { $0 - $1 >= .milliseconds(790) }, "\(sent.map { $0 - start })")
        #expect(b.engine.lookup(TestIdentity.address(1)) != nil)
        b.advance(by: .seconds(1))
        #expect(b.engine.lookup(TestIdentity.address(1)) == nil)
    }

    /// A probe answered is a round-trip sample (smoothed 1/8), measured from the round's first probe even
    /// when the reply answers a resend (an upper bound); a reply with a foreign nonce is ignored.
    @Test func probeRepliesMeasureRoundTrip() {
        var b = Bench()
        b.connect([1])
        b.receive([update(1)], from: 1)
        #expect(b.engine.snapshot().neighbours.first?.rtt == nil)
        func probe(_ a: [EngineAction]) -> Probe? {
            for m in unicastMessages(a, to: b.key(1)) { if case let .probe(p) = m, !p.isReply { return p } }
            return nil
        }
        func reply(_ nonce: UInt32) {
            b.handle(.unicastReceived(from: b.key(1), packet: RoutingPacket(messages: [.probe(Probe(nonce: nonce, isReply: true))])))
        }
        // Quiet long enough that forwarding through it sends a probe; answered after 20 ms.
        b.advance(by: .milliseconds(400))
        let p1 = probe(b.handle(.forwardedVia(b.key(1))))
        #expect(p1 != nil)
        b.advance(by: .milliseconds(20))
        reply(p1!.nonce &+ 1)
        #expect(b.engine.snapshot().neighbours.first?.rtt == nil)
        reply(p1!.nonce)
        #expect(b.engine.snapshot().neighbours.first?.rtt == .milliseconds(20))
        // Second sample, 100 ms: 20 + (100 - 20) / 8 = 30 ms.
        b.advance(by: .milliseconds(400))
        let p2 = probe(b.handle(.forwardedVia(b.key(1))))
        b.advance(by: .milliseconds(100))
        reply(p2!.nonce)
        #expect(b.engine.snapshot().neighbours.first?.rtt == .milliseconds(30))
        // A reply after a resend: measured from the first probe of the round.
        b.advance(by: .milliseconds(400))
        let p3 = probe(b.handle(.forwardedVia(b.key(1))))
        let sentAt = b.now
        var resent = false
        for _ in 0..<100 where !resent {
            resent = probe(b.advance(by: .milliseconds(10))) != nil
        }
        #expect(resent)
        let sample = b.now - sentAt
        reply(p3!.nonce)
        #expect(b.engine.snapshot().neighbours.first?.rtt == Interval(nanoseconds: (Interval.milliseconds(30).nanoseconds * 7 + sample.nanoseconds) / 8))
    }

    /// The neighbour table is bounded.
    @Test func neighbourTableBounded() {
        var c = EngineConfiguration(); c.maxNeighbours = 3
        var b = Bench(configuration: c)
        b.connect([1, 2, 3, 4, 5])
        #expect(b.engine.snapshot().neighbours.count == 3)
        #expect(b.engine.snapshot().counters.tableFullDrops == 2)
    }

    /// The same seed and events give the same actions (no dictionary order leaks out).
    @Test func deterministic() {
        func run() -> [EngineAction] {
            var b = Bench()
            var all = [b.handle(.interfaceUp(b.interface, mtu: 1400))].flatMap { $0 }
            for j in [5, 3, 9, 1, 7] { all += b.handle(.sessionEstablished(b.key(j), node: TestIdentity.node(j))) }
            for j in [5, 3, 9, 1, 7] { all += b.receive([update(j), update(j + 20, metric: 300)], from: j) }
            all += b.advance(by: .seconds(30))
            return all
        }
        #expect(run() == run())
    }
}
