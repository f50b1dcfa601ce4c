import FilamentCore

/// What the simulator does when an event comes due.
enum SimEventKind {
    /// Deliver the frame stored at `frames[slot]` to its receiver.
    case deliver(slot: Int32)
    /// Wake node `node`'s engine timer; stale if `generation` no longer matches.
    case engineTimer(node: Int32, generation: UInt32)
    /// Link-layer timer of a node (handshake retries, rekeys); stale if `generation` no longer matches.
    case linkTimer(node: Int32, generation: UInt32)
    /// Apply timeline entry `index` of the scenario.
    case timeline(index: Int32)
    /// Run the oracle.
    case sample
    /// Flow `flow` sends its next data packet.
    case flowTick(flow: Int32)
    /// The data packet at `packets[slot]` reaches its next hop.
    case dataHop(slot: Int32)
}

/// A min-heap of events keyed by (time, insertion sequence): equal times pop in the order they were
/// pushed, so a run never depends on heap internals. Stored as parallel arrays of plain values; no
/// Foundation, no allocation per push once the arrays have grown.
struct EventQueue {
    private var times: [Int64] = []
    private var seqs: [UInt64] = []
    private var kinds: [SimEventKind] = []
    private var nextSeq: UInt64 = 0

    var count: Int { times.count }
    var isEmpty: Bool { times.isEmpty }
    /// Total pushes so far (also a handy event counter for benchmarks).
    var pushed: UInt64 { nextSeq }

    init() {
        times.reserveCapacity(1 << 12); seqs.reserveCapacity(1 << 12); kinds.reserveCapacity(1 << 12)
    }

    /// Time of the earliest event, if any.
    var nextTime: Instant? { times.isEmpty ? nil : Instant(nanoseconds: times[0]) }

    @inline(__always) private func less(_ i: Int, _ j: Int) -> Bool {
        times[i] < times[j] || (times[i] == times[j] && seqs[i] < seqs[j])
    }

    private mutating func swapAt(_ i: Int, _ j: Int) {
        times.swapAt(i, j); seqs.swapAt(i, j); kinds.swapAt(i, j)
    }

    mutating func push(_ at: Instant, _ kind: SimEventKind) {
        times.append(at.nanoseconds); seqs.append(nextSeq); kinds.append(kind)
        nextSeq &+= 1
        var i = times.count - 1
        while i > 0 {
            let p = (i - 1) >> 1
            if less(i, p) { swapAt(i, p); i = p } else { break }
        }
    }

    mutating func pop() -> (Instant, SimEventKind)? {
        guard !times.isEmpty else { return nil }
        let out = (Instant(nanoseconds: times[0]), kinds[0])
        let last = times.count - 1
        if last > 0 { swapAt(0, last) }
        times.removeLast(); seqs.removeLast(); kinds.removeLast()
        var i = 0
        let n = times.count
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < n && less(l, m) { m = l }
            if r < n && less(r, m) { m = r }
            if m == i { break }
            swapAt(i, m); i = m
        }
        return out
    }
}
