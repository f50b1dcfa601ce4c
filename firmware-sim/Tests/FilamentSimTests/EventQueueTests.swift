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

    /// Pushes interleaved with pops (the simulator's pattern) still pop in (time, insertion) order.
    @Test func interleavedPushAndPop() {
        var q = EventQueue()
        var rng = SeededRandom(seed: 5)
        var pending: [(Int64, Int32)] = []
        var k: Int32 = 0
        var now: Int64 = 0
        for _ in 0..<2_000 {
            for _ in 0..<Int.random(in: 0...3, using: &rng) {
                let t = now + Int64.random(in: 0..<20, using: &rng)
                q.push(Instant(nanoseconds: t), .timeline(index: k)); pending.append((t, k)); k += 1
            }
            guard let (t, e) = q.pop(), case .timeline(let i) = e else { continue }
            let m = pending.indices.min { (pending[$0].0, pending[$0].1) < (pending[$1].0, pending[$1].1) }!
            #expect(t.nanoseconds == pending[m].0 && i == pending[m].1)
            pending.remove(at: m)
            now = t.nanoseconds
        }
        #expect(q.count == pending.count)
    }
}
