import FilamentCore
import FilamentWire

// The engine's internal table entries. Small value types, one per protocol concept.

/// One interface the engine sends hellos on.
struct InterfaceState {
    var mtu: Int
    var helloSeqno: Seqno
    var nextHello: Instant
    var hellosSent: Int = 0
    /// The next hello carries IHUs for every neighbour on the interface (set by changes).
    var ihuSoon = false
    /// The next hello carries the full NodeID (set after hearing an unknown router).
    var nodeIDSoon = false
    var lastNodeIDHello: Instant = .zero
    /// Fast hellos until then (something changed on the interface).
    var fastUntil: Instant = .zero
    var kind: LinkKind = .wireless
}

/// A neighbour (RFC 8966 3.2.4): exists while the link layer has an authenticated session with it.
struct Neighbour {
    var node: NodeID
    /// Bit 0 is the latest expected hello; 1 = received.
    var history: UInt16
    /// How many of the 16 history bits are meaningful (grows to 16 after the session starts).
    var expected: Int
    var lastHelloSeqno: Seqno?
    var lastHelloTime: Instant
    var helloInterval: Interval
    /// The neighbour's rxcost of us, from its IHUs (0xFFFF: unknown).
    var txcost: UInt16
    var ihuExpiry: Instant
    /// Last time anything arrived from it (hello, unicast, probe reply).
    var lastHeard: Instant
    var isUp = true
    /// Outstanding probe: nonce, probes sent, when the next is due.
    var probeNonce: UInt32? = nil
    var probesSent = 0
    var probeDue: Instant = .distantFuture
    /// Round-trip time from probe replies (Karn: only a probe answered without a resend is a sample).
    var rttNonce: UInt32? = nil
    var rttSentAt: Instant = .zero
    /// Smoothed round-trip time (1/8 gain, as TCP's SRTT), nil until the first sample.
    var smoothedRTT: Interval? = nil
    /// Routes from this neighbour stay valid at least until here (refreshed by matching digests).
    var confirmedUntil: Instant = .zero
    var lastFullRequest: Instant = .zero
    /// After a session opens the neighbour's table (ending in a digest) is expected by then; if no
    /// digest came, it was lost (e.g. around simultaneous handshakes) and is asked for at once.
    var tableExpectedBy: Instant = .distantFuture
    var cost: Metric = .infinity
    /// Hellos already counted as missed by the timer since the last hello.
    var missedByTimer: UInt8 = 0
    /// Its slot in `RoutingEngine.slotKeys` (what its routes carry instead of the key).
    var slot: UInt16 = 0
    /// On a wired interface (`LinkKind.wired`): a fixed cost while up and heard both ways.
    var wired = false

    var rxcost: UInt16 {
        let mask: UInt16 = expected >= 16 ? 0xFFFF : UInt16((1 << expected) - 1)
        let received = (history & mask).nonzeroBitCount
        if received == 0 { return 0xFFFF }
        return UInt16(min(0xFFFE, 256 * max(expected, 1) / received))
    }

    /// ETX-style link cost: (1/df)(1/dr) scaled by 256; infinite when down or one-way. Wired: 256 whatever
    /// the history says (the hold time and probes decide when it is down).
    func computedCost() -> Metric {
        let rx = rxcost
        guard isUp, rx != 0xFFFF, txcost != 0xFFFF else { return .infinity }
        if wired { return Metric(256) }
        let c = (UInt32(max(rx, 256)) * UInt32(max(txcost, 256))) / 256
        return Metric(UInt16(min(c, 0xFFFE)))
    }
}

/// Messages waiting to be batched into packets for one neighbour. Kept apart from `Neighbour` (as are
/// its echoes) so that `Neighbour` holds no references: reading one from its dictionary, which the hot
/// paths do per route and per message, is then a plain copy instead of retains and releases.
struct NeighbourQueue {
    var pending: [Message] = []
    /// Where each prefix's update sits in `pending` (after the last queued digest), so a newer value of
    /// the same prefix replaces it in place and only the latest value leaves: open addressing over
    /// positions in `pending` (+1; 0: empty), found by the engine's keyed prefix hash and checked against
    /// the queued update's prefix (4 bytes a bucket, no SipHash; decision 0631).
    private(set) var index: [UInt32] = []
    private var indexed = 0
    /// Updates from here on are indexed (the position after the last queued digest).
    private var firstIndexed = 0
    let hash: PrefixHash

    init(hash: PrefixHash) { self.hash = hash }

    /// Appends `m`, or replaces a queued update of the same prefix in place (then returns false).
    mutating func add(_ m: Message) -> Bool {
        switch m {
        case let .update(u):
            let h = hash(u.prefix)
            if indexed > 0 {
                let mask = index.count - 1
                var i = Self.home(h, index.count)
                while index[i] != 0 {
                    let j = Int(index[i] - 1)
                    if case let .update(q) = pending[j], q.prefix == u.prefix {
                        pending[j] = m
                        return false
                    }
                    i = (i + 1) & mask
                }
            }
            if (indexed + 1) * 4 > index.count * 3 { growIndex() }
            place(pending.count, h)
            indexed += 1
        case .digest:
            // Updates before a digest must stay as they are (the digest covers them): coalesce only after.
            clearIndex()
            pending.append(m)
            firstIndexed = pending.count
            return true
        default:
            break
        }
        pending.append(m)
        return true
    }

    @inline(__always) static func home(_ h: UInt64, _ buckets: Int) -> Int {
        Int(truncatingIfNeeded: h >> UInt64(64 - buckets.trailingZeroBitCount))
    }

    private mutating func place(_ position: Int, _ h: UInt64) {
        let mask = index.count - 1
        var i = Self.home(h, index.count)
        while index[i] != 0 { i = (i + 1) & mask }
        index[i] = UInt32(position + 1)
    }

    private mutating func growIndex() {
        index = [UInt32](repeating: 0, count: Swift.max(16, index.count * 2))
        for j in firstIndexed..<pending.count {
            if case let .update(u) = pending[j] { place(j, hash(u.prefix)) }
        }
    }

    /// Empties the coalescing index (the queue was flushed or a digest queued), keeping the storage of a
    /// small one only: a full table (thousands of prefixes at cold start) would otherwise keep its buckets
    /// for good, per neighbour.
    mutating func clearIndex() {
        firstIndexed = pending.count
        if indexed == 0 { return }
        if indexed <= 64 {
            for i in index.indices { index[i] = 0 }
        } else {
            index = []
        }
        indexed = 0
    }
}

/// Digest of the routes held from one neighbour (finite metrics and echoes of our own prefixes): count
/// and sum of entry hashes. Kept apart from `Neighbour` so the per-update bookkeeping touches a small
/// value (mutating a large dictionary value in place costs an allocation per access).
struct HeldDigest {
    var count = 0
    var hash: UInt64 = 0
}

/// A route to a prefix through one neighbour (RFC 8966 3.2.6). 16 bytes: the neighbour is its slot
/// (`RoutingEngine.slotKeys`), not its 16-byte key (decision 0630), and the expiry is 16 bits (decision
/// 0632). Routes to mesh /128s, the bulk of a large mesh's memory, are stored as 8-byte `MeshRoute`s
/// instead (decision 0631): this full form is what `PrefixTable` hands out and takes.
struct Route {
    var routerID: RouterID
    var expires: RouteExpiry
    var seqno: Seqno
    /// The metric the neighbour announced (refmetric).
    var advertisedMetric: Metric
    /// The neighbour's slot: valid while the neighbour exists (its routes go before the slot is freed).
    var slot: UInt16
}

/// A route to a mesh /128 (8 bytes): its router id is the prefix's interface identifier, which
/// `rejectUpdate` enforces for every update of a mesh address, so it is not stored (decision 0631).
struct MeshRoute {
    var expires: RouteExpiry
    var seqno: Seqno
    var advertisedMetric: Metric
    var slot: UInt16
}

/// When a route expires, in ticks of 2^27 ns (about 134 ms) kept in 16 bits (decision 0632): read
/// relative to the present, it can tell instants up to 2^15 ticks (about 73 minutes) either side of it.
/// Stored expiries stay well inside that window: a new one is at most 3.5 x 600 s (the longest interval
/// an update can ask for) ahead, and the engine's per-second expiry walk removes a past one or, when the
/// neighbour's digests keep the route alive, moves one that is more than 10 minutes past up to the
/// present (which changes nothing: such a route lives by its neighbour's confirmation alone).
struct RouteExpiry: Equatable {
    static let tickShift: Int64 = 27
    var raw: UInt16

    init(raw: UInt16) { self.raw = raw }

    /// `t` rounded up to the next tick (a route never expires before the instant it was given).
    init(_ t: Instant) {
        raw = UInt16(truncatingIfNeeded: t.ticksRoundedUp(shift: Self.tickShift))
    }

    /// The instant this is, read as the one nearest to `now`.
    @inline(__always) func instant(near now: Instant) -> Instant {
        let n = now.nanoseconds >> Self.tickShift
        let d = Int64(Int16(bitPattern: raw &- UInt16(truncatingIfNeeded: n)))
        return Instant(nanoseconds: (n + d) << Self.tickShift)
    }
}

extension Instant {
    /// Ticks of 2^`shift` ns, rounded up (the compact expiries and times of the route table).
    @inline(__always) func ticksRoundedUp(shift: Int64) -> Int64 { (nanoseconds &+ (1 << shift) - 1) >> shift }
}

/// What `PrefixTable` stores per prefix (32 bytes with the prefix's own bits, decision 0632): which routes the prefix holds (a block of the table's
/// route pool), which one is selected, what this node last announced for it and the prefix's source
/// (feasibility distance) for the announced router id, without that router id: for a mesh /128 it is the
/// prefix's own (decision 0631), for any other prefix the table keeps it aside. The optional fields are
/// sentinels (an installed or announced metric, or a feasibility distance, is never infinite); the
/// announcement and its source live here instead of in two more prefix-keyed tables (decision 0630).
struct PrefixEntry {
    /// When the source was last used, in ticks of 2^30 ns (about 1.07 s) rounded up: garbage collection
    /// after `sourceGCTime` may come up to a tick later, never earlier (32 bits: 146 years).
    var srcLastUsedTicks: UInt32 = 0
    /// The prefix's last 80 bits (`PrefixTable`'s, kept whatever entry value is assigned): a mesh /128 is
    /// these bits under `MeshPrefix`; any other prefix is whole in the table's side table. Here, in the
    /// entry, the index's probe reads them from the cache line it needs next anyway.
    var lowHigh: UInt32 = 0
    var lowLow: UInt32 = 0
    /// The routes: `routeCount` of them from `start` in the pool, in a block of `capacity` (owned by
    /// `PrefixTable`, which keeps these four fields whatever entry value is assigned to it).
    var start: UInt32 = 0
    var adSeqno = Seqno(0)
    /// Infinity: nothing announced.
    var adMetric = Metric.infinity
    /// Infinity: no forwarding entry installed.
    var installedRaw = Metric.infinity
    var srcSeqno = Seqno(0)
    /// Infinity: no source kept here (other router ids of the prefix: `RoutingEngine.sources`).
    var srcMetric = Metric.infinity
    var mid: UInt16 = 0
    /// At most `PrefixTable.maxRoutes` (one per neighbour: `maxNeighbours` is 64 by default).
    var routeCount: UInt8 = 0
    var capacity: UInt8 = 0
    var selectedRaw: UInt8 = .max
    /// Bit 0: in use; bit 1: wide.
    var flags: UInt8 = 0
    /// Whether its id (`PrefixTable`) is live.
    var inUse: Bool {
        get { flags & 1 != 0 }
        set { flags = newValue ? flags | 1 : flags & ~1 }
    }
    /// Routes in the wide pool (full `Route`s): any prefix but a mesh /128.
    var wide: Bool {
        get { flags & 2 != 0 }
        set { flags = newValue ? flags | 2 : flags & ~2 }
    }
    var low: UInt64 {
        get { UInt64(lowHigh) << 32 | UInt64(lowLow) }
        set { lowHigh = UInt32(truncatingIfNeeded: newValue >> 32); lowLow = UInt32(truncatingIfNeeded: newValue) }
    }

    var selected: Int? {
        get { selectedRaw == .max ? nil : Int(selectedRaw) }
        set { selectedRaw = newValue.map { UInt8($0) } ?? .max }
    }
    static let lastUsedShift: Int64 = 30
    var srcLastUsed: Instant {
        get { Instant(nanoseconds: Int64(srcLastUsedTicks) << Self.lastUsedShift) }
        set {
            srcLastUsedTicks = UInt32(clamping: max(newValue, .zero).ticksRoundedUp(shift: Self.lastUsedShift))
        }
    }
    /// Metric of the installed forwarding entry (the selected route's at selection time); nil: none installed.
    var installedMetric: Metric? {
        get { installedRaw.isInfinite ? nil : installedRaw }
        set { precondition(newValue?.isInfinite != true); installedRaw = newValue ?? .infinity }
    }
}

/// A prefix's entry with the router id of its announcement and source: what `PrefixTable` hands out and
/// takes (the stored form is `PrefixEntry`).
struct PrefixRoutes {
    var entry = PrefixEntry()
    /// The router id of the announcement and of the source kept here (kept after a retraction while the
    /// source lives).
    private(set) var sourceRouterID = RouterID(0)

    init(inUse: Bool = false, wide: Bool = false) { entry.inUse = inUse; entry.wide = wide }
    init(_ entry: PrefixEntry, routerID: RouterID) { self.entry = entry; sourceRouterID = routerID }

    var selected: Int? {
        get { entry.selected }
        set { entry.selected = newValue }
    }
    var installedMetric: Metric? {
        get { entry.installedMetric }
        set { entry.installedMetric = newValue }
    }
    var routeCount: UInt16 { UInt16(entry.routeCount) }
    /// What this node last announced for the prefix (finite metrics only). Setting a different router id
    /// while a source is kept here is the caller's to sort out first (`RoutingEngine.advertise`).
    var advertisement: Advertisement? {
        get { entry.adMetric.isInfinite ? nil : Advertisement(routerID: sourceRouterID, seqno: entry.adSeqno, metric: entry.adMetric) }
        set {
            if let a = newValue {
                precondition(!a.metric.isInfinite && (entry.srcMetric.isInfinite || a.routerID == sourceRouterID))
                sourceRouterID = a.routerID; entry.adSeqno = a.seqno; entry.adMetric = a.metric
            } else {
                entry.adSeqno = Seqno(0); entry.adMetric = .infinity
            }
        }
    }
    /// The source kept here: (this prefix, `sourceRouterID`).
    var source: Source? {
        get { entry.srcMetric.isInfinite ? nil : Source(seqno: entry.srcSeqno, metric: entry.srcMetric, lastUsed: entry.srcLastUsed) }
        set {
            precondition(newValue?.metric.isInfinite != true)
            entry.srcSeqno = newValue?.seqno ?? Seqno(0); entry.srcMetric = newValue?.metric ?? .infinity
            entry.srcLastUsed = newValue?.lastUsed ?? .zero
        }
    }
    func source(_ rid: RouterID) -> Source? { rid == sourceRouterID ? source : nil }
    /// Nothing held, announced or remembered: the entry can go.
    var isEmpty: Bool { entry.routeCount == 0 && entry.adMetric.isInfinite && entry.srcMetric.isInfinite }
}

/// A source: (prefix, router id) with its feasibility distance (RFC 8966 3.2.5).
struct SourceKey: Hashable, Comparable {
    var prefix: Prefix
    var routerID: RouterID
    static func < (a: SourceKey, b: SourceKey) -> Bool { (a.prefix, a.routerID) < (b.prefix, b.routerID) }
}

struct Source {
    var seqno: Seqno
    var metric: Metric
    var lastUsed: Instant
}

/// What this node announced for a prefix.
struct Advertisement: Hashable {
    var routerID: RouterID
    var seqno: Seqno
    var metric: Metric
}

/// A seqno request this node sent or forwarded, kept for duplicate suppression and resending.
struct PendingRequest {
    var seqno: Seqno
    var sentAt: Instant
    /// Where a forwarded request went: a duplicate to the same next hop is suppressed briefly.
    var nextHop: NeighbourKey? = nil
    /// Our own request (starvation) is resent, with the interval doubling, until a newer seqno answers.
    var resends = 0
    var resendDue: Instant = .distantFuture
}
