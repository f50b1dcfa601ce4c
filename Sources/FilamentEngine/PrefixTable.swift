import FilamentCore

/// The per-prefix state of the engine, with each prefix interned to a dense id (decision 0631): one hash
/// lookup per received update finds the id, then the entry sits in a flat array (no hashing, no empty
/// buckets, no per-entry dictionary slack). Ids of prefixes that went are reused, newest freed first, so
/// the ids a run gives are the same for the same run; nothing about ids reaches the wire or any output
/// (every walk that produces output sorts by prefix).
///
/// The routes of all prefixes live in two pools (decision 0631): 8-byte `MeshRoute`s for mesh /128s and
/// full 16-byte `Route`s for any other prefix. Each prefix owns one block of a pool (`PrefixEntry.start`,
/// `routeCount`, `capacity`), grown by one route at a time; outgrown blocks go to free lists by size, and
/// when free blocks hold more than a sixteenth of a pool it is compacted (blocks copied in id order,
/// capacities trimmed to their counts). An array per prefix cost a 32-byte header and a malloc chunk each.
///
/// The index is open addressing with linear probing and backward-shift deletion over 32-bit bucket words
/// (0: empty, else id + 1). Its hash is keyed per engine (from the engine's seed, so the same seed gives the
/// same run) and cheap (two folded 64x64 multiplies), instead of Swift's SipHash: prefixes come from
/// neighbours, so an unkeyed hash would let one flood a bucket chain.
struct PrefixTable {
    /// Prefix by id (decision 0632): a mesh /128 is its last 80 bits (the first 48 are `MeshPrefix`'s), kept
    /// in its entry (`PrefixEntry.low`, `mid`: 10 bytes instead of `Prefix`'s 24-byte stride, read by the
    /// probe from the line the caller reads next); any other prefix (`entries[id].wide`) is whole in
    /// `widePrefixes`, with its last 80 bits in the entry too (the probe's first test).
    private var widePrefixes: [UInt32: Prefix] = [:]
    private(set) var entries: [PrefixEntry] = []
    /// The announced router id of entries that are not mesh /128s (a mesh /128's is its own: decision 0631).
    private var wideRouterIDs: [UInt32: RouterID] = [:]
    private var buckets: [UInt32] = []
    private var freeIDs: [UInt32] = []
    private var meshPool = RoutePool<MeshRoute>()
    private var widePool = RoutePool<Route>()
    private(set) var count = 0
    /// The keyed prefix hash (also the per-neighbour queues' coalescing index's).
    let hash: PrefixHash

    init(seed: UInt64) { hash = PrefixHash(seed: seed) }

    @inline(__always) private func home(_ h: UInt64) -> Int {
        Int(truncatingIfNeeded: h >> UInt64(64 - buckets.count.trailingZeroBitCount))
    }

    /// A bucket word: the hash's low 8 bits as a tag over the id + 1 (24 bits), so a probe that passes
    /// another prefix's bucket rarely reads that prefix's entry (a cache miss each, in a large table).
    @inline(__always) private static func bucket(_ h: UInt64, _ id: UInt32) -> UInt32 { UInt32(truncatingIfNeeded: h & 0xFF) << 24 | (id + 1) }
    @inline(__always) private static func bucketID(_ b: UInt32) -> UInt32 { (b & 0xFF_FFFF) - 1 }
    /// Ids fit the bucket word's 24 bits (a node holds at most `maxRoutesPerNeighbour` x `maxNeighbours`
    /// prefixes: 1.28 million by default).
    static let maxIDs = 0xFF_FFFE

    @inline(__always) private func hash(id: UInt32) -> UInt64 { let p = prefix(id); return hash(p.address, p.length) }

    /// The id of `p`, if it has an entry.
    func id(_ p: Prefix) -> UInt32? {
        if count == 0 { return nil }
        let mask = buckets.count - 1
        let h = hash(p.address, p.length)
        let tag = UInt32(truncatingIfNeeded: h & 0xFF)
        var i = home(h)
        let low = p.address.low, mid = UInt16(truncatingIfNeeded: p.address.high)
        let mesh = Self.isMeshHost(p)
        while true {
            let b = buckets[i]
            if b == 0 { return nil }
            if b >> 24 == tag {
                let id = Self.bucketID(b)
                let e = entries[Int(id)]
                if e.lowLow == UInt32(truncatingIfNeeded: low) && e.lowHigh == UInt32(truncatingIfNeeded: low >> 32) && e.mid == mid {
                    if mesh ? !e.wide : (e.wide && widePrefixes[id] == p) { return id }
                }
            }
            i = (i + 1) & mask
        }
    }

    /// The id of `p`, giving it a fresh (empty, live) entry when it has none.
    mutating func intern(_ p: Prefix) -> UInt32 {
        if let id = id(p) { return id }
        if (count + 1) * 4 > buckets.count * 3 { grow() }
        let id: UInt32
        let wide = !Self.isMeshHost(p)
        let mid = UInt16(truncatingIfNeeded: p.address.high)
        var fresh = PrefixRoutes(inUse: true, wide: wide).entry
        fresh.low = p.address.low; fresh.mid = mid
        if let f = freeIDs.popLast() {
            id = f
            entries[Int(f)] = fresh
        } else {
            precondition(entries.count < Self.maxIDs, "prefix table full")
            id = UInt32(entries.count)
            Self.appendSparingly(&entries, fresh)
        }
        if wide { widePrefixes[id] = p }
        place(id)
        count += 1
        return id
    }

    /// Drops the entry of `id` and frees the id.
    mutating func release(_ id: UInt32) {
        precondition(entries[Int(id)].inUse)
        let mask = buckets.count - 1
        var i = home(hash(id: id))
        while buckets[i] & 0xFF_FFFF != id + 1 { i = (i + 1) & mask }
        // Backward-shift deletion: pull later members of the probe run into the hole they may pass.
        var hole = i
        var j = (i + 1) & mask
        while buckets[j] != 0 {
            let h = home(hash(id: Self.bucketID(buckets[j])))
            // Movable when its home is not inside (hole, j] (cyclically).
            if (j > hole && (h <= hole || h > j)) || (j < hole && h <= hole && h > j) {
                buckets[hole] = buckets[j]
                hole = j
            }
            j = (j + 1) & mask
        }
        buckets[hole] = 0
        let e = entries[Int(id)]
        if e.capacity > 0 {
            if e.wide { widePool.free(e.start, Int(e.capacity)) } else { meshPool.free(e.start, Int(e.capacity)) }
        }
        entries[Int(id)] = PrefixEntry()
        if e.wide { wideRouterIDs[id] = nil; widePrefixes[id] = nil }
        freeIDs.append(id)
        count -= 1
    }

    private mutating func place(_ id: UInt32) {
        let mask = buckets.count - 1
        let h = hash(id: id)
        var i = home(h)
        while buckets[i] != 0 { i = (i + 1) & mask }
        buckets[i] = Self.bucket(h, id)
    }

    private mutating func grow() {
        let n = Swift.max(16, buckets.count * 2)
        buckets = [UInt32](repeating: 0, count: n)
        for id in entries.indices where entries[id].inUse { place(UInt32(id)) }
    }

    /// Appends with about 1/8 spare capacity instead of doubling: every node holds one element per
    /// destination, so doubling would leave up to half of these arrays unused.
    static func appendSparingly<T>(_ a: inout [T], _ x: T, spare: Int = 8) {
        if a.count == a.capacity { a.reserveCapacity(a.count + a.count / spare + 16) }
        a.append(x)
    }

    // MARK: dictionary-like access (cold paths)

    /// The entry of `p` (nil: none), with a dictionary's semantics: setting nil drops it, setting any value
    /// (even an empty one) keeps it.
    subscript(_ p: Prefix) -> PrefixRoutes? {
        get { id(p).map { self[id: $0] } }
        set {
            if let v = newValue {
                self[id: intern(p)] = v
            } else if let id = id(p) {
                release(id)
            }
        }
    }

    /// The entry of a live id. Setting keeps the table's own fields (route block, liveness) whatever the
    /// value says; a mesh /128's router id is implied by the prefix, so only its own can be stored.
    subscript(id id: UInt32) -> PrefixRoutes {
        get { PrefixRoutes(entries[Int(id)], routerID: routerID(id)) }
        set {
            let old = entries[Int(id)]
            var e = newValue.entry
            e.start = old.start; e.routeCount = old.routeCount; e.capacity = old.capacity; e.wide = old.wide
            e.lowHigh = old.lowHigh; e.lowLow = old.lowLow; e.mid = old.mid
            e.inUse = true
            let rid = newValue.sourceRouterID
            if old.wide {
                wideRouterIDs[id] = rid == RouterID(0) ? nil : rid
            } else {
                precondition(rid == routerID(id) || (newValue.advertisement == nil && newValue.source == nil),
                             "a mesh /128 announced with another router id")
            }
            entries[Int(id)] = e
        }
    }

    /// The router id of the announcement and source of `id` (see `PrefixRoutes.sourceRouterID`).
    @inline(__always) func routerID(_ id: UInt32) -> RouterID {
        entries[Int(id)].wide ? wideRouterIDs[id] ?? RouterID(0) : RouterID(entries[Int(id)].low)
    }

    /// Selection state of a live id, without building its `PrefixRoutes` (hot paths).
    @inline(__always) func selected(_ id: UInt32) -> Int? { entries[Int(id)].selected }
    mutating func setSelection(_ id: UInt32, selected: Int?, installed: Metric?) {
        entries[Int(id)].selected = selected
        entries[Int(id)].installedMetric = installed
    }

    /// Mesh /128s: their routes' router id is the prefix's (`RoutingEngine.rejectUpdate`).
    static func isMeshHost(_ p: Prefix) -> Bool { p.length == 128 && MeshPrefix.prefix.contains(p.address) }

    // MARK: routes

    @inline(__always) func routeCount(_ id: UInt32) -> Int { Int(entries[Int(id)].routeCount) }

    /// Routes one prefix can hold (one per neighbour; `receiveUpdate` drops, and counts, an update that
    /// would add one more).
    static let maxRoutes = 255

    @inline(__always) func route(_ id: UInt32, _ i: Int) -> Route {
        let e = entries[Int(id)]
        if e.wide { return widePool.items[Int(e.start) + i] }
        let m = meshPool.items[Int(e.start) + i]
        return Route(routerID: RouterID(e.low), expires: m.expires, seqno: m.seqno,
                     advertisedMetric: m.advertisedMetric, slot: m.slot)
    }

    /// Slot and expiry of a route (no router id: what the per-second expiry walk reads).
    @inline(__always) func slotAndExpiry(_ id: UInt32, _ i: Int) -> (slot: UInt16, expires: RouteExpiry) {
        let e = entries[Int(id)]
        if e.wide { let r = widePool.items[Int(e.start) + i]; return (r.slot, r.expires) }
        let m = meshPool.items[Int(e.start) + i]
        return (m.slot, m.expires)
    }

    /// The routes of `id`, copied out (for cold paths that sort or keep them).
    func routes(_ id: UInt32) -> [Route] { (0..<routeCount(id)).map { route(id, $0) } }

    func index(_ id: UInt32, ofSlot s: UInt16) -> Int? {
        let e = entries[Int(id)]
        let start = Int(e.start)
        for i in 0..<Int(e.routeCount) {
            if (e.wide ? widePool.items[start + i].slot : meshPool.items[start + i].slot) == s { return i }
        }
        return nil
    }

    private func narrow(_ id: UInt32, _ r: Route) -> MeshRoute {
        precondition(r.routerID.rawValue == entries[Int(id)].low, "a mesh /128 from another router id")
        return MeshRoute(expires: r.expires, seqno: r.seqno, advertisedMetric: r.advertisedMetric, slot: r.slot)
    }

    mutating func setRoute(_ id: UInt32, _ i: Int, _ r: Route) {
        let e = entries[Int(id)]
        precondition(i < Int(e.routeCount))
        if e.wide { widePool.items[Int(e.start) + i] = r } else { meshPool.items[Int(e.start) + i] = narrow(id, r) }
    }

    mutating func setExpires(_ id: UInt32, _ i: Int, _ t: RouteExpiry) {
        let e = entries[Int(id)]
        if e.wide { widePool.items[Int(e.start) + i].expires = t } else { meshPool.items[Int(e.start) + i].expires = t }
    }

    /// Adds a route at the end of the prefix's block (grown by one when full).
    mutating func appendRoute(_ id: UInt32, _ r: Route) {
        var e = entries[Int(id)]
        let m = e.wide ? nil : narrow(id, r)
        if e.routeCount == e.capacity {
            precondition(e.capacity < Self.maxRoutes)
            if let m {
                e.start = meshPool.regrow(e.start, Int(e.capacity), used: Int(e.routeCount), filler: m)
            } else {
                e.start = widePool.regrow(e.start, Int(e.capacity), used: Int(e.routeCount), filler: r)
            }
            e.capacity += 1
        }
        let at = Int(e.start) + Int(e.routeCount)
        if let m { meshPool.items[at] = m } else { widePool.items[at] = r }
        e.routeCount += 1
        entries[Int(id)] = e
        compactIfSparse()
    }

    /// Removes route `i` (later ones move down by one); an emptied block goes back to its pool.
    mutating func removeRoute(_ id: UInt32, _ i: Int) {
        var e = entries[Int(id)]
        let start = Int(e.start), n = Int(e.routeCount)
        precondition(i < n)
        if e.wide {
            for j in (start + i)..<(start + n - 1) { widePool.items[j] = widePool.items[j + 1] }
        } else {
            for j in (start + i)..<(start + n - 1) { meshPool.items[j] = meshPool.items[j + 1] }
        }
        e.routeCount -= 1
        if e.routeCount == 0 {
            if e.wide { widePool.free(e.start, Int(e.capacity)) } else { meshPool.free(e.start, Int(e.capacity)) }
            e.start = 0; e.capacity = 0
        }
        entries[Int(id)] = e
        compactIfSparse()
    }

    /// Compacts a pool whose free blocks hold more than a sixteenth of it (amortised: at least a sixteenth
    /// of the pool was freed since it was last compact).
    private mutating func compactIfSparse() {
        if meshPool.isSparse { meshPool.compact(&entries, wide: false) }
        if widePool.isSparse { widePool.compact(&entries, wide: true) }
    }

    func prefix(_ id: UInt32) -> Prefix {
        let e = entries[Int(id)]
        if e.wide { return widePrefixes[id]! }
        return Prefix(address: IPv6Address(high: Self.meshHigh | UInt64(e.mid), low: e.low), length: 128)!
    }

    /// The first 48 bits of every mesh address, as the top of its high 64 bits.
    private static let meshHigh = MeshPrefix.prefix.address.high & ~0xFFFF

    /// Live ids, in id order (not prefix order: sort before anything reaches output).
    var ids: [UInt32] {
        var r: [UInt32] = []
        r.reserveCapacity(count)
        for id in entries.indices where entries[id].inUse { r.append(UInt32(id)) }
        return r
    }

    /// Live prefixes, unsorted.
    var keys: [Prefix] { ids.map { prefix($0) } }

    var isEmpty: Bool { count == 0 }

    /// Heap bytes: (bucket words, prefix and entry arrays, route pools with their free lists).
    var footprint: (index: Int, entries: Int, routes: Int) {
        let idx = buckets.capacity == 0 ? 0 : 32 + buckets.capacity * 4
        let arr = RoutingEngine.dictionaryBytes(widePrefixes)
            + (entries.capacity == 0 ? 0 : 32 + entries.capacity * MemoryLayout<PrefixEntry>.stride)
            + RoutingEngine.dictionaryBytes(wideRouterIDs)
            + (freeIDs.capacity == 0 ? 0 : 32 + freeIDs.capacity * 4)
        return (idx, arr, meshPool.footprint + widePool.footprint)
    }
}

/// Blocks of routes in one array: free blocks are kept by size for reuse (routes per prefix are few: one
/// per neighbour), and the array is compacted when they hold more than a sixteenth of it. It grows by a
/// sixteenth: it holds the bulk of a large mesh's memory.
struct RoutePool<Element> {
    var items: [Element] = []
    /// Free block starts by size (index = size).
    private var freeBySize: [[UInt32]] = []
    private var freeItems = 0

    var isSparse: Bool { freeItems > 64 && freeItems * 16 > items.count }

    /// A block of `capacity + 1` holding the `used` elements of the block at `start` (which is freed).
    /// `filler` fills new slots until they are written (the element about to be added).
    mutating func regrow(_ start: UInt32, _ capacity: Int, used: Int, filler: Element) -> UInt32 {
        let size = capacity + 1
        if capacity > 0, Int(start) + capacity == items.count {
            // The last block of the pool grows in place.
            PrefixTable.appendSparingly(&items, filler, spare: 16)
            return start
        }
        let new: UInt32
        if size < freeBySize.count, let s = freeBySize[size].popLast() {
            new = s
            freeItems -= size
        } else {
            precondition(items.count + size < Int(UInt32.max), "route pool full")
            new = UInt32(items.count)
            for _ in 0..<size { PrefixTable.appendSparingly(&items, filler, spare: 16) }
        }
        for j in 0..<used { items[Int(new) + j] = items[Int(start) + j] }
        if capacity > 0 { free(start, capacity) }
        return new
    }

    mutating func free(_ start: UInt32, _ capacity: Int) {
        let size = capacity
        while freeBySize.count <= size { freeBySize.append([]) }
        freeBySize[size].append(start)
        freeItems += size
    }

    /// Copies every block of the entries of this pool into a new array in id order, trimming capacities.
    mutating func compact(_ entries: inout [PrefixEntry], wide: Bool) {
        var fresh: [Element] = []
        fresh.reserveCapacity(items.count - freeItems + (items.count - freeItems) / 16)
        for i in entries.indices where entries[i].inUse && entries[i].wide == wide {
            let e = entries[i]
            if e.routeCount == 0 { continue }
            let start = fresh.count
            fresh.append(contentsOf: items[Int(e.start)..<(Int(e.start) + Int(e.routeCount))])
            entries[i].start = UInt32(start)
            entries[i].capacity = e.routeCount
        }
        items = fresh
        freeBySize = []
        freeItems = 0
    }

    var footprint: Int {
        (items.capacity == 0 ? 0 : 32 + items.capacity * MemoryLayout<Element>.stride)
            + freeBySize.reduce(freeBySize.isEmpty ? 0 : 32 + freeBySize.capacity * 8) { $0 + ($1.capacity == 0 ? 0 : 32 + $1.capacity * 4) }
    }
}

/// A cheap prefix hash keyed per engine (two folded 64x64-bit multiplies; keys from the engine's seed).
struct PrefixHash {
    private let k0: UInt64
    private let k1: UInt64

    init(seed: UInt64) {
        func mix(_ x: UInt64) -> UInt64 {
            var z = x &+ 0x9E37_79B9_7F4A_7C15
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        k0 = mix(seed ^ 0x7072_6566_6978_3030)
        k1 = mix(seed ^ 0x7072_6566_6978_3131) | 1
    }

    @inline(__always) func callAsFunction(_ address: IPv6Address, _ length: UInt8) -> UInt64 {
        let a = (address.high ^ k0).multipliedFullWidth(by: address.low ^ k1)
        let b = (a.high ^ a.low ^ UInt64(length)).multipliedFullWidth(by: k1 ^ 0xA076_1D64_78BD_642F)
        return b.high ^ b.low
    }

    @inline(__always) func callAsFunction(_ p: Prefix) -> UInt64 { self(p.address, p.length) }
}

extension PrefixTable: Sequence {
    /// Live entries in id order (not prefix order: sort before anything reaches output).
    struct Iterator: IteratorProtocol {
        let table: PrefixTable
        var i = 0
        mutating func next() -> (key: Prefix, value: PrefixRoutes)? {
            while i < table.entries.count {
                let j = i
                i += 1
                if table.entries[j].inUse { return (table.prefix(UInt32(j)), table[id: UInt32(j)]) }
            }
            return nil
        }
    }

    func makeIterator() -> Iterator { Iterator(table: self) }

    var values: [PrefixRoutes] { ids.map { self[id: $0] } }
}
