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

    /// Entry `i` orders before (time, seq).
    @inline(__always) private func before(_ i: Int, _ t: Int64, _ q: UInt64) -> Bool {
        times[i] < t || (times[i] == t && seqs[i] < q)
    }

    @inline(__always) private mutating func move(_ from: Int, to: Int) {
        times[to] = times[from]; seqs[to] = seqs[from]; kinds[to] = kinds[from]
    }

    mutating func push(_ at: Instant, _ kind: SimEventKind) {
        let t = at.nanoseconds, q = nextSeq
        nextSeq &+= 1
        // Sift a hole up from the end, moving parents down, then drop the new entry into it.
        times.append(t); seqs.append(q); kinds.append(kind)
        var i = times.count - 1
        while i > 0 {
            let p = (i - 1) >> 1
            guard !before(p, t, q) else { break }
            move(p, to: i); i = p
        }
        times[i] = t; seqs[i] = q; kinds[i] = kind
    }

    mutating func pop() -> (Instant, SimEventKind)? {
        guard !times.isEmpty else { return nil }
        let out = (Instant(nanoseconds: times[0]), kinds[0])
        let t = times.removeLast(), q = seqs.removeLast(), kind = kinds.removeLast()
        let n = times.count
        guard n > 0 else { return out }
        // Sift a hole down from the root, moving the smaller child up, then drop the old last entry into it.
        var i = 0
        while true {
            let l = 2 * i + 1
            guard l < n else { break }
            let r = l + 1
            let c = r < n && before(r, times[l], seqs[l]) ? r : l
            guard before(c, t, q) else { break }
            move(c, to: i); i = c
        }
        times[i] = t; seqs[i] = q; kinds[i] = kind
        return out
    }
}
