import FilamentCore
import Testing
@testable import FilamentEngine

@Test func scratch() {
    var m = Mesh.grid(4, 4)
    let t = m.runUntilConverged(within: .seconds(5))
    print("converged", t as Any, "events", m.events, "loops", m.loops.count)
    m.run(for: .seconds(30))
    let bps = m.controlBytesPerNodePerSecond(over: .seconds(60))
    print("steady B/s/node", bps, "events", m.events)
    let s = m.engines[5].snapshot()
    print(s.neighbours.map { "\($0.key) rx=\($0.rxcost) tx=\($0.txcost) cost=\($0.cost)" })
    print(s.counters)
    print("routes", s.routes.count, "sources", s.sources.count)
}
