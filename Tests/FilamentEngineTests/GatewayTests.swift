import FilamentCore
import FilamentWire
import Testing
@testable import FilamentEngine

/// A 3x3 grid whose corners 0 and 8 are gateways (0: 300 Mbit/s, 8: 100 Mbit/s, both 10 % loaded).
func gatewayGrid(drainTime: Interval = .seconds(30)) -> Mesh {
    var m = Mesh(nodes: 9) { i in
        var c = EngineConfiguration()
        if i == 0 || i == 8 { c.gateway = GatewayConfiguration(name: "gw\(i)", drainTime: drainTime) }
        return c
    }
    for y in 0..<3 {
        for x in 0..<3 {
            if x < 2 { m.connect(y * 3 + x, y * 3 + x + 1) }
            if y < 2 { m.connect(y * 3 + x, (y + 1) * 3 + x) }
        }
    }
    m.deliver(0, event: .uplinkChanged(UplinkStatus(healthy: true, bandwidthDownKbps: 300_000, bandwidthUpKbps: 50_000, load: 10)))
    m.deliver(8, event: .uplinkChanged(UplinkStatus(healthy: true, bandwidthDownKbps: 100_000, bandwidthUpKbps: 50_000, load: 10)))
    m.run(for: .seconds(5))
    return m
}

@Suite struct GatewayTests {
    /// Every node learns both gateways (signed adverts flooded) and prefers the nearer one; the path
    /// metric is the route metric to the gateway's mesh address.
    @Test func nodesLearnAndPickNearest() {
        var m = gatewayGrid()
        for i in 0..<9 { #expect(m.engines[i].snapshot().gateways.count == 2) }
        #expect(m.engines[1].selectedGateway == TestIdentity.node(0))
        #expect(m.engines[7].selectedGateway == TestIdentity.node(8))
        let g = m.engines[1].snapshot().gateways.first { $0.node == TestIdentity.node(8) }!
        #expect(g.pathMetric == Metric(768))
        #expect(m.engines[1].snapshot().counters.gatewayAdvertsBadSignature == 0)
        _ = m.engines[0].gateway(forFlow: 1, now: m.now)
    }

    /// New flows of an equidistant node spread over both gateways roughly in proportion to capacity (3:1),
    /// and a flow keeps its gateway on every later lookup.
    @Test func flowsSpreadByCapacityAndStick() {
        var m = gatewayGrid()
        var count = [NodeID: Int]()
        var first = [UInt64: NodeID]()
        for f in UInt64(0)..<400 {
            let g = m.engines[4].gateway(forFlow: f &* 7919, now: m.now)!
            count[g, default: 0] += 1
            first[f] = g
        }
        let a = count[TestIdentity.node(0)] ?? 0, b = count[TestIdentity.node(8)] ?? 0
        #expect(a > 240 && a < 360 && b > 40, "\(a) vs \(b)")
        for f in UInt64(0)..<400 { #expect(m.engines[4].gateway(forFlow: f &* 7919, now: m.now) == first[f]) }
    }

    /// When a gateway's uplink fails it withdraws (healthy cleared) and every node fails over at once,
    /// flows included.
    @Test func failoverOnWithdrawal() {
        var m = gatewayGrid()
        let flow: UInt64 = 42
        #expect(m.engines[1].gateway(forFlow: flow, now: m.now) == TestIdentity.node(0))
        m.deliver(0, event: .uplinkChanged(UplinkStatus(healthy: false, bandwidthDownKbps: 300_000, bandwidthUpKbps: 50_000, load: 10)))
        m.run(for: .milliseconds(200))
        for i in 1..<9 { #expect(m.engines[i].selectedGateway == TestIdentity.node(8), "node \(i)") }
        #expect(m.engines[1].gateway(forFlow: flow, now: m.now) == TestIdentity.node(8))
    }

    /// When a gateway dies silently, nodes fail over once its route is lost (traffic probes make it fast).
    @Test func failoverOnGatewayDeath() {
        var m = gatewayGrid()
        m.run(for: .seconds(20))
        m.kill(0)
        _ = m.runWithTraffic(from: 1, to: 0, for: .seconds(2))
        #expect(m.engines[1].selectedGateway == TestIdentity.node(8))
        m.run(for: .seconds(12))
        for i in 1..<9 { #expect(m.engines[i].selectedGateway == TestIdentity.node(8), "node \(i)") }
    }

    /// A draining gateway takes no new flows, keeps existing ones, then withdraws and they move.
    @Test func drainThenWithdraw() {
        var m = gatewayGrid(drainTime: .seconds(5))
        let old: UInt64 = 1
        #expect(m.engines[1].gateway(forFlow: old, now: m.now) == TestIdentity.node(0))
        m.deliver(0, event: .setDraining(true))
        m.run(for: .milliseconds(200))
        #expect(m.engines[1].gateway(forFlow: 2, now: m.now) == TestIdentity.node(8))
        #expect(m.engines[1].gateway(forFlow: old, now: m.now) == TestIdentity.node(0))
        m.run(for: .seconds(6))
        #expect(m.engines[1].gateway(forFlow: old, now: m.now) == TestIdentity.node(8))
        #expect(m.engines[1].snapshot().gateways.first { $0.node == TestIdentity.node(0) }?.flags.contains(.healthy) == false)
    }

    /// Hysteresis: a small change in load does not move the preferred gateway; a large one does.
    @Test func hysteresis() {
        var m = gatewayGrid()
        #expect(m.engines[4].selectedGateway == TestIdentity.node(0))
        // Gateway 8 gets slightly better than 0 (0 more loaded), but not by 20 %.
        m.deliver(0, event: .uplinkChanged(UplinkStatus(healthy: true, bandwidthDownKbps: 300_000, bandwidthUpKbps: 50_000, load: 80)))
        m.run(for: .seconds(2))
        #expect(m.engines[4].selectedGateway == TestIdentity.node(0))
        // 0 is nearly saturated: clearly worse.
        m.deliver(0, event: .uplinkChanged(UplinkStatus(healthy: true, bandwidthDownKbps: 300_000, bandwidthUpKbps: 50_000, load: 99)))
        m.run(for: .seconds(2))
        #expect(m.engines[4].selectedGateway == TestIdentity.node(8))
    }

    /// A pinned gateway gets the new flows while it is usable.
    @Test func pinning() {
        var m = gatewayGrid()
        m.deliver(1, event: .setPreferredGateway(TestIdentity.node(8)))
        #expect(m.engines[1].selectedGateway == TestIdentity.node(8))
        for f in UInt64(0)..<20 { #expect(m.engines[1].gateway(forFlow: f, now: m.now) == TestIdentity.node(8)) }
    }

    /// Adverts with a bad signature or from an untrusted key are dropped and counted.
    @Test func badAndUntrustedAdverts() {
        var c = EngineConfiguration()
        c.trustedGatewayKeys = [TestIdentity.node(7)]
        var b = Bench(configuration: c)
        b.connect([1])
        var a = GatewayAdvert(gateway: TestIdentity.node(7), seqno: 5, flags: [.ipv6, .healthy], bandwidthDownKbps: 1000,
                              bandwidthUpKbps: 1000, load: 0, lifetimeSeconds: 60, name: "x", signature: [])
        a.signature = fakeSignature(a.signedBytes, by: TestIdentity.node(7))
        var forged = a; forged.load = 1 // signature no longer matches
        var stranger = a; stranger.gateway = TestIdentity.node(6)
        stranger.signature = fakeSignature(stranger.signedBytes, by: TestIdentity.node(6))
        b.receive([.gatewayAdvert(forged), .gatewayAdvert(stranger)], from: 1)
        #expect(b.engine.snapshot().gateways.isEmpty)
        b.receive([.gatewayAdvert(a), .gatewayAdvert(a)], from: 1)
        let s = b.engine.snapshot()
        #expect(s.gateways.map(\.node) == [TestIdentity.node(7)])
        #expect(s.counters.gatewayAdvertsBadSignature == 1)
        #expect(s.counters.gatewayAdvertsUntrusted == 1)
        #expect(s.counters.gatewayAdvertsStale == 1)
    }

    /// Adverts expire when not refreshed.
    @Test func advertsExpire() {
        var b = Bench()
        b.connect([1])
        var a = GatewayAdvert(gateway: TestIdentity.node(7), seqno: 5, flags: [.ipv6, .healthy], bandwidthDownKbps: 1000,
                              bandwidthUpKbps: 1000, load: 0, lifetimeSeconds: 10, name: "x", signature: [])
        a.signature = fakeSignature(a.signedBytes, by: TestIdentity.node(7))
        b.receive([.gatewayAdvert(a)], from: 1)
        #expect(b.engine.snapshot().gateways.count == 1)
        let actions = b.advance(by: .seconds(11))
        #expect(b.engine.snapshot().gateways.isEmpty)
        #expect(actions.contains(.notify(.gatewayLost(TestIdentity.node(7)))))
    }
}

/// A neighbour loss can leave the gateways' mesh addresses with unfeasible routes only until a newer
/// seqno comes back (milliseconds, decision 0320): the selected gateway must not go to "none" and back
/// meanwhile (the daemon would remove its default routes and IPv4 lease).
@Suite struct GatewayReselectionTests {
    @Test func neighbourLossDoesNotFlipTheGatewayOnTheWay() {
        // 0, 1: gateways (0 preferred: more capacity). 2: N, whose best way to both is through 3; the
        // way through 4 is one hop longer to each (4-5-0, 4-6-1).
        var m = Mesh(nodes: 7) { i in
            var c = EngineConfiguration()
            if i < 2 { c.gateway = GatewayConfiguration(name: "gw\(i)") }
            return c
        }
        for (a, b) in [(2, 3), (2, 4), (3, 0), (3, 1), (4, 5), (5, 0), (4, 6), (6, 1)] { m.connect(a, b) }
        m.deliver(0, event: .uplinkChanged(UplinkStatus(healthy: true, bandwidthDownKbps: 300_000, bandwidthUpKbps: 50_000, load: 10)))
        m.deliver(1, event: .uplinkChanged(UplinkStatus(healthy: true, bandwidthDownKbps: 100_000, bandwidthUpKbps: 50_000, load: 10)))
        m.run(for: .seconds(5))
        let before = m.engines[2].selectedGateway
        #expect(before != nil)
        #expect(m.engines[2].lookup(TestIdentity.address(0))?.nextHop == Mesh.key(2, to: 3))
        #expect(m.engines[2].lookup(TestIdentity.address(1))?.nextHop == Mesh.key(2, to: 3))
        m.notifications = []
        m.disconnect(2, 3)
        m.run(for: .seconds(3))
        // Both gateways are now one hop further, through 4 (whose routes were unfeasible at first: equal
        // to what 2 had announced, so they needed a newer seqno): nothing to switch, and no "none".
        #expect(m.engines[2].lookup(TestIdentity.address(0))?.nextHop == Mesh.key(2, to: 4))
        #expect(m.engines[2].selectedGateway == before)
        let changes = m.notifications.filter { n, e in if n == 2, case .selectedGatewayChanged = e { return true }; return false }
        #expect(changes.isEmpty, "\(changes)")
        #expect(m.loops.isEmpty)
    }
}
