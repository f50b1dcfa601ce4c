import FilamentCore
import Testing
@testable import FilamentSim

@Suite struct DataTrafficTests {
    /// Flows on a converged grid are delivered: every packet sent after convergence arrives, none loops,
    /// and the flows are the configured ones (every non-gateway bulb to its gateway, plus pair flows).
    @Test func packetsAreDeliveredOnAConvergedMesh() throws {
        var c = config(.grid(width: 5, height: 5), gateways: [0, 24], seconds: 15)
        c.traffic.pairFlows = 10
        let sim = try Simulation(config: c)
        let r = sim.run()
        #expect(r.flows == 23 + 10)
        #expect(r.dataSent > 0)
        #expect(r.dataDrops.first { $0.0 == "looped" }!.1 == 0)
        // Cold start costs a few packets at most (before routes exist); the rest arrives.
        #expect(Double(r.dataDelivered) / Double(r.dataSent) > 0.98)
        #expect(r.dataSent == sim.data.delivered + sim.data.dropped)
    }

    /// A planted forwarding loop catches data packets: they run out of TTL and count as looped.
    @Test func loopedPacketsAreCounted() throws {
        var c = SimConfig(topology: .line(count: 4), gateways: [], duration: .seconds(1), seed: 1, engineName: "reference",
                          engineFactory: EngineRegistry.factory(named: "reference")!)
        c.traffic = .off
        let sim = try Simulation(config: c)
        for i in 0..<4 { sim.powerOn(i) }
        let dest = Prefix(host: sim.nodes[3].meshAddress)
        sim.nodes[0].fib.install(dest, bulb: sim.bulbIndex(ofHost: dest), hop: 1, bulbs: 4)
        sim.nodes[1].fib.install(dest, bulb: sim.bulbIndex(ofHost: dest), hop: 2, bulbs: 4)
        sim.nodes[2].fib.install(dest, bulb: sim.bulbIndex(ofHost: dest), hop: 1, bulbs: 4)
        sim.forward(DataPacket(flow: 0, destination: 3, at: 0, hops: 0, sentAt: .zero))
        var guardCount = 0
        while let (at, kind) = sim.queue.pop(), guardCount < 1000 {
            guardCount += 1
            _ = at
            if case .dataHop(let slot) = kind { sim.dataHop(slot) }
        }
        #expect(sim.data.looped == 1)
        #expect(sim.data.delivered == 0)
    }

    /// Traffic is what makes failure detection fast: with flows, a gateway failover recovers within the
    /// 3 s goal; without them the engine waits for the hello hold time (about 10 s).
    @Test func trafficMakesFailoverFast() throws {
        let kill = TimelineEntry(at: .seconds(15), action: .powerOff([0]), label: "kill gateway 0")
        var with = config(.grid(width: 6, height: 6), gateways: [0, 35], seconds: 35)
        with.timeline = [kill]
        var without = with
        without.traffic = .off
        let a = try Simulation(config: with).run()
        let b = try Simulation(config: without).run()
        #expect(a.loopsObserved == 0 && b.loopsObserved == 0)
        #expect(a.events[0].recovery99 != nil && a.events[0].recovery99! < 3)
        #expect(b.events[0].recovery99 != nil && b.events[0].recovery99! > 3)
        #expect(a.eventDataLoss[0].packetsLost > 0 && a.eventDataLoss[0].lossSeconds < 3)
        #expect(b.dataSent == 0)
    }

    func config(_ topo: Topology, gateways: [Int], seconds: Int64) -> SimConfig {
        SimConfig(topology: topo, gateways: gateways, duration: .seconds(seconds), seed: 1,
                  engineName: "filament", engineFactory: EngineRegistry.factory(named: "filament")!)
    }
}
