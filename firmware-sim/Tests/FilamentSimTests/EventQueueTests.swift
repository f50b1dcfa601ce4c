import FilamentCore
import Testing
@testable import FilamentSim

@Suite struct EventQueueTests {
    /// Events pop in time order, and equal times pop in insertion order.
    @Test func ordersByTimeThenInsertion() {
        var q = EventQueue()
        var rng = SeededRandom(seed: 9)
        var expected: [(Int64, Int32)] = []
        for k in 0..<500 {
            let t = Int64.random(in: 0..<50, using: &rng)
            q.push(Instant(nanoseconds: t), .timeline(index: Int32(k)))
            expected.append((t, Int32(k)))
        }
        expected.sort { ($0.0, $0.1) < ($1.0, $1.1) }
        var got: [(Int64, Int32)] = []
        while let (t, e) = q.pop() { if case .timeline(let i) = e { got.append((t.nanoseconds, i)) } }
        #expect(got.map(\.0) == expected.map(\.0))
        #expect(got.map(\.1) == expected.map(\.1))
    }
}
