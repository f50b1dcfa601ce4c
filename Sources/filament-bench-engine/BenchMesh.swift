import HeapModule
import FilamentCore
import FilamentEngine
import FilamentWire

/// A compact discrete-event mesh for measurements: point-to-point links with 1 ms latency, packets
/// through the real codec, bytes counted per sent datagram (codec size + 62 link overhead + frame or
/// transport-frame overhead: docs/wire-format.md, docs/link-layer.md). No loop oracle (the tests run that); swift-collections' `Heap` for the event queue.
struct BenchMesh {
    struct Pending: Comparable {
        var time: Instant; var order: Int; var to: Int; var from: Int; var unicast: Bool; var packet: RoutingPacket
        static func < (a: Pending, b: Pending) -> Bool { (a.time, a.order) < (b.time, b.order) }
        static func == (a: Pending, b: Pending) -> Bool { a.time == b.time && a.order == b.order }
    }
    var engines: [RoutingEngine]
    var links: Set<Int> = []
    var heap = Heap<Pending>()
    var order = 0
    var now = Instant.zero
    var bytes = 0
    var packets = 0
    let n: Int
    var actions: [EngineAction] = []

    init(grid w: Int, _ h: Int, configuration: EngineConfiguration = EngineConfiguration()) {
        n = w * h
        engines = (0..<n).map { makeEngine($0, configuration: configuration) }
        for y in 0..<h {
            for x in 0..<w {
                if x + 1 < w { connect(y * w + x, y * w + x + 1) }
                if y + 1 < h { connect(y * w + x, (y + 1) * w + x) }
            }
        }
    }

    static func interface(to j: Int) -> InterfaceID { InterfaceID(UInt32(j + 1)) }
    static func key(to j: Int) -> NeighbourKey { NeighbourKey(interface: interface(to: j), routerID: Identity.routerID(j)) }

    mutating func connect(_ a: Int, _ b: Int) {
        links.insert(min(a, b) * 1_000_000 + max(a, b))
        deliver(a, .interfaceUp(BenchMesh.interface(to: b), mtu: 1400))
        deliver(b, .interfaceUp(BenchMesh.interface(to: a), mtu: 1400))
        deliver(a, .sessionEstablished(BenchMesh.key(to: b), node: Identity.node(b)))
        deliver(b, .sessionEstablished(BenchMesh.key(to: a), node: Identity.node(a)))
    }

    mutating func deliver(_ i: Int, _ e: EngineEvent) {
        actions.removeAll(keepingCapacity: true)
        engines[i].handle(e, now: now, into: &actions)
        for a in actions {
            switch a {
            case let .sendMulticast(interface, p): send(i, interface, p, false)
            case let .sendUnicast(k, p): send(i, k.interface, p, true)
            default: break
            }
        }
    }

    mutating func send(_ i: Int, _ interface: InterfaceID, _ p: RoutingPacket, _ unicast: Bool) {
        let encoded = try! p.encode()
        bytes += encoded.count + 62 + (unicast ? 33 : 1) // link + transport frame (16 + 16 tag + inner type) or frame type
        packets += 1
        let j = Int(interface.rawValue) - 1
        guard links.contains(min(i, j) * 1_000_000 + max(i, j)) else { return }
        order += 1
        push(Pending(time: now + .milliseconds(1), order: order, to: j, from: i, unicast: unicast, packet: try! RoutingPacket.decode(encoded)))
    }

    mutating func push(_ p: Pending) { heap.insert(p) }

    mutating func pop() -> Pending { heap.removeMin() }

    mutating func run(until end: Instant) {
        while true {
            var best = -1
            var deadline = Instant.distantFuture
            for i in 0..<n { let d = engines[i].nextDeadline; if d < deadline { deadline = d; best = i } }
            let qt = heap.min?.time ?? .distantFuture
            let t = min(deadline, qt)
            if t > end { break }
            now = max(now, t)
            if qt <= deadline {
                let p = pop()
                if p.unicast {
                    deliver(p.to, .unicastReceived(from: BenchMesh.key(to: p.from), packet: p.packet))
                } else {
                    deliver(p.to, .multicastReceived(interface: BenchMesh.interface(to: p.from), packet: p.packet))
                }
            } else {
                deliver(best, .timer)
            }
        }
        now = end
    }

    /// Whether every node has a route to every other node.
    func converged() -> Bool {
        for i in 0..<n { if engines[i].forwardingTable.count < n - 1 { return false } }
        return true
    }
}
