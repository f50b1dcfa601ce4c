import FilamentCore
import FilamentEngine
import FilamentWire
#if canImport(Glibc)
import Glibc
#endif

// filament-bench-engine: throughput, memory and allocations of one RoutingEngine, and control traffic of
// meshes of engines. Run in release: `swift run -c release filament-bench-engine`. Results: docs/benchmarks.md.

let interface = InterfaceID(1)
let neighbourB = NeighbourKey(interface: interface, routerID: Identity.routerID(1))
let neighbourC = NeighbourKey(interface: interface, routerID: Identity.routerID(2))

/// A node with two neighbours on one interface, ready to receive updates.
func engineWithNeighbours() -> (RoutingEngine, Instant) {
    var e = makeEngine(0)
    var now = Instant.zero
    _ = e.handle(.interfaceUp(interface, mtu: 1400), now: now)
    _ = e.handle(.sessionEstablished(neighbourB, node: Identity.node(1)), now: now)
    _ = e.handle(.sessionEstablished(neighbourC, node: Identity.node(2)), now: now)
    now = now + .milliseconds(50)
    _ = e.handle(.timer, now: now)
    return (e, now)
}

/// Packets of updates for `count` distinct destinations (2001:db8::/32 + index as /64s, one source each),
/// as many per packet as fit 1400 bytes.
func updatePackets(count: Int, seqno: UInt16, metric: UInt16) -> [RoutingPacket] {
    var packets: [RoutingPacket] = []
    var messages: [Message] = []
    var size = RoutingPacket.headerSize
    for i in 0..<count {
        let p = Prefix(address: IPv6Address(high: 0x2001_0DB8_0000_0000 | UInt64(i), low: 0), length: 64)!
        let m = Message.update(Update(prefix: p, routerID: RouterID(UInt64(1_000 + i)), seqno: Seqno(seqno), metric: Metric(metric),
                                      intervalCentiseconds: 1000))
        if size + m.encodedSize > 1400 { packets.append(RoutingPacket(messages: messages)); messages = []; size = RoutingPacket.headerSize }
        messages.append(m); size += m.encodedSize
    }
    if !messages.isEmpty { packets.append(RoutingPacket(messages: messages)) }
    return packets
}

/// Feeds packets from `from`, firing timers as a driver would; returns updates processed.
func feed(_ e: inout RoutingEngine, _ now: inout Instant, _ packets: [RoutingPacket], from: NeighbourKey, buffer: inout [EngineAction]) {
    for p in packets {
        now = now + .microseconds(200)
        buffer.removeAll(keepingCapacity: true)
        e.handle(.unicastReceived(from: from, packet: p), now: now, into: &buffer)
        if e.nextDeadline <= now { buffer.removeAll(keepingCapacity: true); e.handle(.timer, now: now, into: &buffer) }
    }
}

print("# filament-bench-engine")

// With FILAMENT_BENCH_PROFILE set: one packet of updates after a warm-up, bracketed by benchMarker (for gdb).
if getenv("FILAMENT_BENCH_PROFILE") != nil {
    var (e, now) = engineWithNeighbours()
    var buffer: [EngineAction] = []
    buffer.reserveCapacity(4096)
    let warm = updatePackets(count: 10_000, seqno: 1, metric: 256)
    let next = updatePackets(count: 10_000, seqno: 2, metric: 256)
    feed(&e, &now, warm, from: neighbourB, buffer: &buffer)
    feed(&e, &now, Array(next[0..<10]), from: neighbourB, buffer: &buffer)
    benchMarker(1)
    feed(&e, &now, [next[10]], from: neighbourB, buffer: &buffer)
    benchMarker(2)
    exit(0)
}

// With FILAMENT_BENCH_HELLO_PACE set: idle control bytes per node for several idle hello intervals
// (decision 0322: what detecting a dead idle neighbour within 2 s would cost), then exit.
if getenv("FILAMENT_BENCH_HELLO_PACE") != nil {
    print("| grid | idle hello interval | dead idle neighbour noticed after | steady control B/s per node | packets/s per node |")
    print("|---|---|---|---|---|")
    for w in [3, 7, 10] {
        for ms in [4000, 1000, 800, 750] as [Int64] {
            var c = EngineConfiguration()
            c.helloInterval = .milliseconds(ms)
            var m = BenchMesh(grid: w, w, configuration: c)
            m.run(until: Instant.zero + .seconds(40))
            let b0 = m.bytes, p0 = m.packets
            m.run(until: Instant.zero + .seconds(160))
            let hold = c.helloInterval * c.holdHalfIntervals / 2
            print("| \(w)x\(w) | \(ms) ms | \(fmt(Double(hold.milliseconds) / 1000, 2)) s | \(fmt(Double(m.bytes - b0) / Double(m.n) / 120)) | \(fmt(Double(m.packets - p0) / Double(m.n) / 120, 2)) |")
        }
    }
    exit(0)
}

// 1. Memory (first, before other tests grow the heap and RSS) for 10,000 destinations held by one node (from one neighbour, then from two).
do {
    // The input packets exist before the baseline, so only the engine's own memory is counted.
    let fromB = updatePackets(count: 10_000, seqno: 1, metric: 256)
    let fromC = updatePackets(count: 10_000, seqno: 1, metric: 512)
    var buffer: [EngineAction] = []
    buffer.reserveCapacity(100_000)
    let heap0 = heapInUse(), rss0 = residentBytes()
    if getenv("FILAMENT_BENCH_DEBUG") != nil { print("heap0 \(heap0)") }
    var (e, now) = engineWithNeighbours()
    if getenv("FILAMENT_BENCH_DEBUG") != nil { print("heap after engine \(heapInUse())") }
    feed(&e, &now, fromB, from: neighbourB, buffer: &buffer)
    // Let the flushes and re-announcements settle.
    now = now + .milliseconds(100); buffer.removeAll(keepingCapacity: true); e.handle(.timer, now: now, into: &buffer)
    let heap1 = heapInUse(), rss1 = residentBytes()
    feed(&e, &now, fromC, from: neighbourC, buffer: &buffer)
    now = now + .milliseconds(100); buffer.removeAll(keepingCapacity: true); e.handle(.timer, now: now, into: &buffer)
    let heap2 = heapInUse(), rss2 = residentBytes()
    let s = e.snapshot()
    print("memory, 10,000 destinations from 1 neighbour: heap +\(fmt(Double(heap1 - heap0) / 1e6, 2)) MB (\((heap1 - heap0) / 10_000) B/destination), RSS +\(fmt(Double(rss1 - rss0) / 1e6, 2)) MB")
    print("memory, same destinations also from a 2nd neighbour (20,000 routes): heap +\(fmt(Double(heap2 - heap0) / 1e6, 2)) MB total, RSS +\(fmt(Double(rss2 - rss0) / 1e6, 2)) MB")
    print("  (routes \(s.routes.count), sources \(s.sources.count), installed \(e.forwardingTable.count))")
    withExtendedLifetime(e) {}
    withExtendedLifetime((fromB, fromC)) {}  // input freed only after the measurement
}

// 2. Update throughput: 10,000 destinations, each update a new seqno (full processing: feasibility,
//    selection, forwarding entry, re-announcement queued to the other neighbour, batching).
do {
    var (e, now) = engineWithNeighbours()
    var buffer: [EngineAction] = []
    buffer.reserveCapacity(4096)
    let rounds = 20
    let batches = (0..<rounds).map { updatePackets(count: 10_000, seqno: UInt16($0 + 1), metric: 256) }
    let total = rounds * 10_000
    let allocBefore = allocations()
    let t = wallSeconds { for b in batches { feed(&e, &now, b, from: neighbourB, buffer: &buffer) } }
    let allocs = allocations() - allocBefore
    let packetCount = batches.reduce(0) { $0 + $1.count }
    print("update throughput: \(total) updates in \(fmt(t, 3)) s = \(Int(Double(total) / t)) updates/s (\(packetCount) packets)")
    print("allocations per update packet (\(total / packetCount) updates each, re-announced to the other neighbour): \(fmt(Double(allocs) / Double(packetCount), 1)), per update \(fmt(Double(allocs) / Double(total), 2))")
    // Steady-state packets: hellos with IHU and digests that match (nothing changes).
    var hello = Hello(routerID: neighbourB.routerID, seqno: Seqno(1), intervalCentiseconds: 400)
    let n = 10_000
    let a0 = allocations()
    var seq: UInt16 = 1
    for _ in 0..<n {
        now = now + .milliseconds(1)
        seq &+= 1; hello.seqno = Seqno(seq)
        buffer.removeAll(keepingCapacity: true)
        e.handle(.multicastReceived(interface: interface, packet: RoutingPacket(messages: [
            .hello(hello), .ihu(IHU(neighbour: Identity.routerID(0), rxcost: 256, intervalCentiseconds: 1200))])), now: now, into: &buffer)
    }
    print("allocations per received hello+IHU packet (10,000 routes held): \(fmt(Double(allocations() - a0) / Double(n), 2))")
    let fwd0 = allocations()
    for _ in 0..<n { buffer.removeAll(keepingCapacity: true); e.handle(.forwardedVia(neighbourB), now: now, into: &buffer) }
    print("allocations per forwardedVia event: \(fmt(Double(allocations() - fwd0) / Double(n), 2))")
    let l0 = allocations()
    var found = 0
    let lt = wallSeconds {
        for i in 0..<1_000_000 { if e.lookup(IPv6Address(high: 0x2001_0DB8_0000_0000 | UInt64(i % 10_000), low: 5)) != nil { found += 1 } }
    }
    print("lookup (longest prefix match, 10,000 routes): \(Int(1_000_000 / lt)) lookups/s, \(fmt(Double(allocations() - l0) / 1e6, 2)) allocations per lookup, found \(found)")
}

// 3. Control traffic per node against mesh size (grids; idle after convergence).
print("")
print("| grid | nodes | converged after (virtual) | steady control B/s per node | packets/s per node |")
print("|---|---|---|---|---|")
for w in [3, 5, 7, 10] {
    var m = BenchMesh(grid: w, w)
    var t = Instant.zero
    var convergedAt: Instant? = nil
    while t < Instant.zero + .seconds(10) {
        t = t + .milliseconds(10)
        m.run(until: t)
        if m.converged() { convergedAt = t; break }
    }
    m.run(until: Instant.zero + .seconds(40))
    let b0 = m.bytes, p0 = m.packets
    m.run(until: Instant.zero + .seconds(160))
    let bps = Double(m.bytes - b0) / Double(m.n) / 120
    let pps = Double(m.packets - p0) / Double(m.n) / 120
    let conv = convergedAt.map { "\(($0 - .zero).milliseconds) ms" } ?? "not within 10 s"
    print("| \(w)x\(w) | \(m.n) | \(conv) | \(fmt(bps)) | \(fmt(pps, 2)) |")
}
