import FilamentCore
import Testing
@testable import FilamentEngine

/// `PrefixTable` (decision 0631) against a plain dictionary of route arrays, under random interning,
/// releases, route appends, replacements and removals: the index (linear probing with backward-shift
/// deletion), the id reuse and the route pools (blocks, free lists, compaction) must never lose or mix up
/// an entry.
@Suite struct PrefixTableTests {
    /// A small universe of prefixes so ids, buckets and pool blocks are reused a lot: mesh /128s (8-byte
    /// routes, router id implied, stored as their last 80 bits) and other prefixes (full routes), among them
    /// /128s outside the mesh prefix whose last 80 bits are a mesh /128's (decision 0632).
    static func prefix(_ i: Int) -> Prefix {
        if i % 5 == 4 { return Prefix(address: IPv6Address(high: 0x2001_0DB8_0000_0000 | UInt64(i), low: 0), length: 64)! }
        if i % 5 == 3 {
            let twin = prefix(i - 1).address
            return Prefix(host: IPv6Address(high: 0x2001_0DB8_0000_0000 | (twin.high & 0xFFFF), low: twin.low))
        }
        return Prefix(host: IPv6Address(high: MeshPrefix.prefix.address.high | UInt64(0x1234 + i % 7), low: 0xABCD_0000_0000 | UInt64(i)))
    }

    static func route(_ p: Prefix, slot: UInt16, n: UInt64) -> Route {
        let rid = PrefixTable.isMeshHost(p) ? RouterID(p.address.low) : RouterID(0x77 + n % 3)
        return Route(routerID: rid, expires: RouteExpiry(raw: UInt16(truncatingIfNeeded: n >> 17)), seqno: Seqno(UInt16(truncatingIfNeeded: n)),
                     advertisedMetric: Metric(UInt16(truncatingIfNeeded: n % 60_000)), slot: slot)
    }

    static func same(_ a: Route, _ b: Route) -> Bool {
        a.routerID == b.routerID && a.expires == b.expires && a.seqno == b.seqno && a.advertisedMetric == b.advertisedMetric
            && a.slot == b.slot
    }

    @Test(arguments: [1, 2, 3, 4])
    func matchesADictionaryModel(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        var table = PrefixTable(seed: seed)
        var model: [Prefix: [Route]] = [:]
        let universe = 300
        for step in 0..<40_000 {
            let p = Self.prefix(Int(rng.next(upperBound: UInt64(universe))))
            switch rng.next(upperBound: UInt64(10)) {
            case 0:
                // Drop the prefix.
                if let id = table.id(p) { table.release(id) }
                model[p] = nil
            case 1, 2, 3, 4:
                // Add a route through a slot it does not have yet (a prefix has at most 12).
                let id = table.intern(p)
                var rs = model[p] ?? []
                let slot = UInt16(rng.next(upperBound: UInt64(12)))
                if table.index(id, ofSlot: slot) == nil {
                    let r = Self.route(p, slot: slot, n: rng.next())
                    table.appendRoute(id, r)
                    rs.append(r)
                }
                model[p] = rs
            case 5, 6:
                // Remove one route.
                if let id = table.id(p), table.routeCount(id) > 0 {
                    let i = Int(rng.next(upperBound: UInt64(table.routeCount(id))))
                    table.removeRoute(id, i)
                    model[p]!.remove(at: i)
                }
            default:
                // Replace one route in place (same slot).
                if let id = table.id(p), table.routeCount(id) > 0 {
                    let i = Int(rng.next(upperBound: UInt64(table.routeCount(id))))
                    let r = Self.route(p, slot: model[p]![i].slot, n: rng.next())
                    table.setRoute(id, i, r)
                    model[p]![i] = r
                }
            }
            if step % 997 == 0 || step == 39_999 {
                #expect(table.count == model.count)
                #expect(Set(table.keys) == Set(model.keys))
                for (q, rs) in model {
                    guard let id = table.id(q) else { Issue.record("lost \(q)"); continue }
                    #expect(table.prefix(id) == q)
                    let got = table.routes(id)
                    #expect(got.count == rs.count && zip(got, rs).allSatisfy(Self.same), "\(q) at step \(step)")
                    for (i, r) in rs.enumerated() { #expect(table.index(id, ofSlot: r.slot) == i) }
                }
            }
        }
    }

    /// The dictionary-like subscript keeps the table's own route block fields whatever value is assigned.
    @Test func assigningAnEntryKeepsItsRoutes() {
        var table = PrefixTable(seed: 9)
        let p = Self.prefix(0)
        let id = table.intern(p)
        table.appendRoute(id, Self.route(p, slot: 3, n: 5))
        var stale = PrefixRoutes()
        stale.selected = 0
        table[p] = stale
        #expect(table.routeCount(id) == 1 && table[id: id].selected == 0)
        #expect(table.routes(id).first.map { Self.same($0, Self.route(p, slot: 3, n: 5)) } == true)
        table[p] = nil
        #expect(table.id(p) == nil && table.isEmpty)
    }

    /// The announced router id: implied by a mesh /128, kept aside for any other prefix and dropped with it.
    @Test func announcedRouterIDs() {
        var table = PrefixTable(seed: 5)
        let mesh = Self.prefix(0), wide = Self.prefix(4)
        #expect(!PrefixTable.isMeshHost(wide) && PrefixTable.isMeshHost(mesh))
        var m = PrefixRoutes()
        m.advertisement = Advertisement(routerID: RouterID(mesh.address.low), seqno: Seqno(3), metric: Metric(256))
        table[mesh] = m
        var w = PrefixRoutes()
        w.advertisement = Advertisement(routerID: RouterID(0x99), seqno: Seqno(7), metric: Metric(512))
        w.source = Source(seqno: Seqno(7), metric: Metric(512), lastUsed: Instant(nanoseconds: 1))
        table[wide] = w
        #expect(table[mesh]?.advertisement == m.advertisement)
        #expect(table[wide]?.advertisement == w.advertisement)
        #expect(table[wide]?.sourceRouterID == RouterID(0x99) && table[wide]?.source(RouterID(0x99)) != nil)
        #expect(table[wide]?.source(RouterID(0x98)) == nil)
        table[wide] = nil
        let id = table.intern(wide)
        #expect(table[id: id].sourceRouterID == RouterID(0) && table[id: id].advertisement == nil)
    }
}

/// The 16-bit route expiry (decision 0632): read near the present, it gives back the instant it was made
/// from, rounded up to its 2^27 ns tick, for instants up to about 73 minutes either side.
@Suite struct RouteExpiryTests {
    @Test func readsBackNearThePresent() {
        var rng = SeededRandom(seed: 11)
        let tick = Int64(1) << RouteExpiry.tickShift
        let window = Int64(70 * 60) * 1_000_000_000
        for _ in 0..<20_000 {
            let now = Instant(nanoseconds: Int64(rng.next(upperBound: UInt64(1) << 50)))
            let offset = Int64(rng.next(upperBound: UInt64(2 * window))) - window
            let t = now + Interval(nanoseconds: offset)
            let back = RouteExpiry(t).instant(near: now)
            #expect(back >= t && back - t < Interval(nanoseconds: tick), "t \(t) now \(now) read \(back)")
        }
    }
}


/// The sizes decision 0632 counts on: they are what a 10,000-bulb simulation's memory is made of.
@Suite struct TableEntrySizeTests {
    @Test func strides() {
        #expect(MemoryLayout<MeshRoute>.stride == 8)
        #expect(MemoryLayout<Route>.stride == 16)
        #expect(MemoryLayout<PrefixEntry>.stride == 32)
    }

    @Test func sourceLastUsedRoundsUpToItsTick() {
        var e = PrefixEntry()
        for ns: Int64 in [0, 1, 999_999_999, 1 << 30, (1 << 30) + 1, 3_600_000_000_000, 400_000_000_000_000] {
            e.srcLastUsed = Instant(nanoseconds: ns)
            #expect(e.srcLastUsed.nanoseconds >= ns && e.srcLastUsed.nanoseconds - ns < 1 << 30)
        }
    }
}
