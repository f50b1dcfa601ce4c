import FilamentCore
import FilamentWire
import Testing
@testable import FilamentEngine

@Suite struct MeshTests {
    /// A line of 5 converges fast: every node reaches every other, with no loop at any instant.
    @Test func lineConverges() {
        var m = Mesh.line(5)
        let t = m.runUntilConverged(within: .seconds(5))
        #expect(t.map { $0 < .milliseconds(200) } == true)
        #expect(m.loops.isEmpty, "\(m.loops.prefix(3))")
        #expect(m.path(from: 0, to: TestIdentity.address(4)) == [0, 1, 2, 3, 4])
    }

    /// A triangle uses the direct links.
    @Test func triangleUsesDirectLinks() {
        var m = Mesh.ring(3)
        m.run(for: .seconds(2))
        #expect(m.path(from: 0, to: TestIdentity.address(1)) == [0, 1])
        #expect(m.path(from: 2, to: TestIdentity.address(0)) == [2, 0])
        #expect(m.loops.isEmpty)
    }

    /// A 4x4 grid converges under 1 s and takes shortest paths.
    @Test func gridConverges() {
        var m = Mesh.grid(4, 4)
        let t = m.runUntilConverged(within: .seconds(5))
        #expect(t.map { $0 < .seconds(1) } == true)
        #expect(m.path(from: 0, to: TestIdentity.address(15))?.count == 7)
        #expect(m.loops.isEmpty, "\(m.loops.prefix(3))")
    }

    /// A ring reroutes around a silently broken link (idle: by hold time), never looping.
    @Test func ringRerouteIdle() {
        var m = Mesh.ring(6)
        m.run(for: .seconds(30))
        #expect(m.path(from: 0, to: TestIdentity.address(1)) == [0, 1])
        m.cut(0, 1)
        m.run(for: .seconds(12))
        #expect(m.path(from: 0, to: TestIdentity.address(1)) == [0, 5, 4, 3, 2, 1])
        let reachable = m.allPairsReachable()
        #expect(reachable)
        #expect(m.loops.isEmpty, "\(m.loops.prefix(3))")
    }

    /// With traffic flowing, a silently dead relay is probed and the flow recovers in about a second.
    @Test func relayDiesUnderTraffic() {
        var m = Mesh.grid(3, 3)
        m.run(for: .seconds(30))
        let before = m.path(from: 0, to: TestIdentity.address(8))!
        let relay = before[1]
        m.kill(relay)
        let log = m.runWithTraffic(from: 0, to: 8, for: .seconds(4))
        let outage = Mesh.outage(log)
        #expect(outage < .milliseconds(1500), "outage \(outage)")
        #expect(log.last?.1 == true)
        #expect(m.loops.isEmpty, "\(m.loops.prefix(3))")
    }

    /// A restarted node (seqno from its persisted counter) is accepted at once by its neighbours and selects
    /// routes itself as soon as its restart hold ends (its neighbour has resent its table).
    @Test func restartAcceptedAtOnce() {
        var m = Mesh.line(4)
        m.run(for: .seconds(20))
        let oldSeqno = m.engines[3].snapshot().seqno
        m.kill(3)
        m.run(for: .milliseconds(200))
        m.restart(3, neighbours: [2])
        let t = m.runUntilConverged(within: .seconds(6), step: .milliseconds(5))
        #expect(t.map { $0 < m.configuration.restartHoldMinimum + .milliseconds(100) } == true, "took \(String(describing: t))")
        #expect(m.engines[3].snapshot().seqno.isNewer(than: oldSeqno))
        #expect(m.loops.isEmpty)
    }

    /// A node that restarts while its neighbour never saw the session close gets every route once its
    /// restart hold ends, and nobody loops through it (its old routes are flushed first).
    @Test func restartWithoutSessionClose() {
        var m = Mesh.line(4)
        m.run(for: .seconds(20))
        m.kill(3)
        m.run(for: .milliseconds(200))
        m.engines[3] = makeEngine(3, configuration: m.configuration, counter: m.persisted[3], seed: 5, now: m.now)
        m.alive[3] = true
        m.connect(2, 3)   // sessionEstablished on both sides; node 2 still had node 3 as a neighbour
        let t = m.runUntilConverged(within: .seconds(6), step: .milliseconds(5))
        #expect(t.map { $0 < m.configuration.restartHoldMinimum + .milliseconds(100) } == true, "took \(String(describing: t))")
        #expect(m.loops.isEmpty)
    }

    /// Two meshes that converged apart merge when one link joins them.
    @Test func partitionAndMerge() {
        var m = Mesh(nodes: 8)
        for i in 0..<3 { m.connect(i, i + 1) }
        for i in 4..<7 { m.connect(i, i + 1) }
        m.connect(0, 3); m.connect(4, 7)
        m.run(for: .seconds(10))
        #expect(m.path(from: 0, to: TestIdentity.address(5)) == nil)
        m.connect(2, 6)
        let t = m.runUntilConverged(within: .seconds(3))
        #expect(t.map { $0 < .milliseconds(500) } == true)
        // Partition again: each side loses the other, then merges once more.
        m.disconnect(2, 6)
        m.run(for: .seconds(2))
        #expect(m.path(from: 0, to: TestIdentity.address(5)) == nil)
        m.connect(3, 7)
        #expect(m.runUntilConverged(within: .seconds(3)) != nil)
        #expect(m.loops.isEmpty, "\(m.loops.prefix(3))")
    }

    /// When a destination vanishes, no one counts to infinity: the route disappears everywhere quickly
    /// and only a handful of updates for it are sent.
    @Test func noCountToInfinity() {
        var m = Mesh.ring(5)
        m.run(for: .seconds(20))
        let sentBefore = m.engines.map { $0.snapshot().counters.messagesSent }.reduce(0, +)
        m.disconnect(0, 1); m.disconnect(0, 4)     // node 0 is cut off from everyone
        m.run(for: .seconds(3))
        for i in 1..<5 { #expect(m.engines[i].lookup(TestIdentity.address(0)) == nil) }
        let sentAfter = m.engines.map { $0.snapshot().counters.messagesSent }.reduce(0, +)
        #expect(sentAfter - sentBefore < 120, "messages \(sentAfter - sentBefore)")
        #expect(m.loops.isEmpty, "\(m.loops.prefix(3))")
    }

    /// Steady state is quiet: in a 4x4 grid each node sends well under babeld's 261 B/s and digests agree.
    @Test func quietSteadyState() {
        var m = Mesh.grid(4, 4)
        m.run(for: .seconds(30))
        let bps = m.controlBytesPerNodePerSecond(over: .seconds(60))
        #expect(bps < 150, "\(bps) B/s")
        #expect(m.engines.allSatisfy { $0.snapshot().counters.digestMismatches == 0 })
        #expect(m.loops.isEmpty)
    }

    /// A lossy link gets a higher ETX cost and traffic takes the clean detour.
    @Test func lossyLinkAvoided() {
        var m = Mesh.ring(4)     // 0-1-2-3-0: from 0, node 1 is direct or three hops round
        m.lossPercent[Mesh.link(0, 1)] = 60
        m.run(for: .seconds(120))
        let cost = m.engines[0].snapshot().neighbours.first { $0.key == Mesh.key(0, to: 1) }!.cost
        #expect(cost.rawValue > 768, "cost \(cost)")
        #expect(m.path(from: 0, to: TestIdentity.address(1)) == [0, 3, 2, 1])
        #expect(m.loops.isEmpty)
    }

    /// Routes that live for hours by their neighbours' digests alone keep readable 16-bit expiries
    /// (decision 0632): every stored expiry stays within minutes of the present (the expiry walk moves
    /// long-past ones up), so a route whose neighbour stops confirming it still expires on time.
    @Test func digestConfirmedRoutesKeepReadableExpiries() {
        var m = Mesh.ring(4)
        var livingByConfirmation = 0
        for _ in 0..<26 {  // 26 x 7 minutes: past two wraps of the 16-bit window
            m.run(for: .seconds(420))
            #expect(m.allPairsReachable())
            for e in m.engines {
                for id in e.routes.ids {
                    for i in 0..<e.routes.routeCount(id) {
                        let t = e.routes.slotAndExpiry(id, i).expires.instant(near: m.now)
                        #expect(t >= m.now - .seconds(602) && t <= m.now + .seconds(2100), "expiry \(t) at \(m.now)")
                        if t <= m.now { livingByConfirmation += 1 }
                    }
                }
            }
        }
        #expect(livingByConfirmation > 0)
        #expect(m.loops.isEmpty)
    }

    /// A seqno request crosses more than 127 hops (decision 0632): cutting one link of a 150-node ring
    /// leaves nodes 1-74 starving (their way round the other side is unfeasible), 76-149 hops from node 0
    /// the long way. Their requests must get there for node 0 to move its seqno; with the old hop count
    /// of 64 none did, and they starved until their feasibility distances were collected.
    @Test func seqnoRequestsCrossAWideMesh() {
        var m = Mesh.ring(150)
        // (No loop walk after every event, and convergence checked every second: each walk covers all
        // 22,350 pairs. Reaching every pair at the end rules out a loop then.)
        m.checkLoops = false
        #expect(m.runUntilConverged(within: .seconds(30), step: .seconds(1)) != nil)
        m.cut(0, 1)
        #expect(m.runUntilConverged(within: .seconds(30), step: .seconds(1)) != nil, "still starving 30 s after the cut")
    }

    /// A lost update is repaired by the digest: the receiver notices the difference and asks for the full table.
    @Test func digestRepairsLostUpdate() {
        var m = Mesh.line(3)
        m.run(for: .seconds(5))
        let seqno = m.engines[1].snapshot().seqno
        // Node 1 moves its seqno while its link to 0 silently drops packets: node 0 misses the update.
        m.cut(0, 1)
        m.deliver(1, event: .unicastReceived(from: Mesh.key(1, to: 2), packet: RoutingPacket(messages: [
            .seqnoRequest(SeqnoRequest(prefix: Prefix(host: TestIdentity.address(1)), routerID: TestIdentity.routerID(1),
                                       seqno: seqno.advanced(by: 1), hopCount: 3))])))
        m.run(for: .milliseconds(100))
        m.heal(0, 1)
        func heldSeqno() -> Seqno? {
            m.engines[0].snapshot().routes.first { $0.prefix == Prefix(host: TestIdentity.address(1)) }?.seqno
        }
        #expect(heldSeqno() == seqno)
        m.run(for: .seconds(12))  // node 1's next digest disagrees with what node 0 holds
        #expect(heldSeqno() == seqno.advanced(by: 1))
        #expect(m.engines[0].snapshot().counters.digestMismatches >= 1)
        #expect(m.loops.isEmpty)
    }
}

/// The restart hold-down (decision 0310): a restarted node A must not select a route from neighbour B
/// whose path runs through a neighbour C that has not yet noticed A's restart and still routes via A.
@Suite struct RestartHoldTests {
    /// Triangle A(0)-B(1)-C(2) with a lossy A-B link (B prefers the way through C) and the destination
    /// X(4) behind A through E(3). A restarts with only B reachable; C hears A's hellos after `heal`
    /// (half the hold minimum by default; its session with A survives, so only the hello seqno jump tells
    /// it). Returns the loops seen, the longest loop episode and whether C still routed X via A when A's
    /// session with B came up.
    /// `resend: false` turns off the seqno request resends (decision 0320): with them, the starvation
    /// this lossy triangle causes before the restart is repaired earlier and the unheld control no
    /// longer happens to loop, so the control runs without them (the held run is checked both ways).
    static func run(hold: Bool, resend: Bool = true, heal: Interval? = nil) -> (loops: [String], longest: Interval, cStale: Bool) {
        var config = EngineConfiguration()
        if !hold { config.restartHoldMaximum = .zero }
        if !resend { config.seqnoRequestResends = 0 }
        var m = Mesh(nodes: 5, configuration: config)
        m.connect(0, 1); m.connect(1, 2); m.connect(2, 0); m.connect(0, 3); m.connect(3, 4)
        m.lossPercent[Mesh.link(0, 1)] = 50
        m.run(for: .seconds(30))
        m.loops = []
        m.kill(0)
        m.cut(0, 2); m.cut(0, 3)
        m.run(for: .milliseconds(200))
        m.lossPercent = [:]
        m.restart(0, neighbours: [1])
        let x = TestIdentity.address(4)
        let cStale = m.engines[2].lookup(x)?.nextHop == Mesh.key(2, to: 0)
        m.run(for: heal ?? config.restartHoldMinimum / 2)
        m.heal(0, 2)   // A's interface towards C comes up: C hears A's new hellos (no session event)
        m.deliver(0, event: .interfaceUp(Mesh.interface(0, to: 2), mtu: 1400))
        m.run(for: .seconds(15))
        return (m.loops, m.longestLoop, cStale)
    }

    /// With the hold, no loop at any instant although C still routed through A when A came back.
    @Test(arguments: [true, false]) func heldRestartNeverLoops(resend: Bool) {
        let r = RestartHoldTests.run(hold: true, resend: resend)
        #expect(r.cStale, "the scenario must have C routing via the restarted node")
        #expect(r.loops.isEmpty, "\(r.loops.prefix(3))")
    }

    /// The hold's weak point (decision 0321): a neighbour that can neither hear A nor be heard during the
    /// whole 1 s minimum, yet still holds A alive, loops with it from the moment its link returns until
    /// it hears A's next hello — here the link heals exactly when the hold ends. Bounded, not prevented.
    @Test func neighbourSilentThroughTheHoldLoopsOnlyBriefly() {
        let r = RestartHoldTests.run(hold: true, resend: false, heal: EngineConfiguration().restartHoldMinimum)
        #expect(r.cStale)
        #expect(r.longest < .milliseconds(100), "longest loop \(r.longest)")
    }

    /// Control: without the hold the same scenario loops (so the test above can fail).
    @Test func unheldRestartLoops() {
        let r = RestartHoldTests.run(hold: false, resend: false)
        #expect(r.cStale)
        #expect(!r.loops.isEmpty)
    }

    /// The hold ends early once every router heard has resent its table (here after the 1 s minimum,
    /// not the 10 s maximum): the restarted node then routes through its neighbour.
    @Test func holdEndsWhenNeighboursResync() {
        var m = Mesh.line(3)
        m.run(for: .seconds(20))
        m.kill(2)
        m.run(for: .milliseconds(200))
        m.restart(2, neighbours: [1])
        m.run(for: m.configuration.restartHoldMinimum - .milliseconds(100))
        #expect(m.engines[2].lookup(TestIdentity.address(0)) == nil)
        m.run(for: .milliseconds(300))
        #expect(m.engines[2].lookup(TestIdentity.address(0))?.nextHop == Mesh.key(2, to: 1))
    }
}

/// The cheap per-event queries the daemon uses instead of `snapshot()` answer exactly
/// what the snapshot says.
@Suite struct CheapQueryTests {
    @Test func neighbourSnapshotsAndSelectedRouteMatchTheSnapshot() {
        var m = Mesh.grid(3, 3)
        m.run(for: .seconds(5))
        var checkedRoutes = 0
        for i in 0..<9 {
            let e = m.engines[i]
            let s = e.snapshot()
            #expect(e.neighbourSnapshots() == s.neighbours)
            #expect(!s.neighbours.isEmpty)
            for p in Set(s.routes.map(\.prefix)).sorted() {
                #expect(e.selectedRoute(to: p) == s.routes.first { $0.prefix == p && $0.selected }, "node \(i) \(p)")
                checkedRoutes += 1
            }
            #expect(e.selectedRoute(to: Prefix(host: TestIdentity.address(99))) == nil)
        }
        #expect(checkedRoutes >= 9 * 8)
    }
}
