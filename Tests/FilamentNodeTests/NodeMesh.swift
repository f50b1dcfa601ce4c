import FilamentCore
import FilamentCrypto
import FilamentEngine
@testable import FilamentNode

/// A few FilamentNodes wired by in-memory links with 1 ms latency, driven in virtual time.
final class NodeMesh {
    struct Queued { var at: Instant; var order: Int; var node: Int; var datagram: [UInt8]; var from: NodePeer }
    struct Port { var node: Int; var interface: InterfaceID }

    var nodes: [FilamentNode] = []
    /// Per node and interface: the other ends of the link.
    var links: [Int: [InterfaceID: [Port]]] = [:]
    var queue: [Queued] = []
    var order = 0
    var now = Instant(nanoseconds: 1_000_000_000)
    /// IP packets each node delivered to its local stack.
    var delivered: [Int: [[UInt8]]] = [:]
    var persistedSeqno: [Int: UInt64] = [:]
    /// Deliver datagrams through `receiveFast` (the daemon's data path) instead of `receive`.
    var useFastPath = false
    let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 70_000, alignment: 16)
    let frame = UnsafeMutableRawBufferPointer.allocate(byteCount: 70_000, alignment: 16)
    deinit { scratch.deallocate(); frame.deallocate() }

    /// Executes a fast-path result of node i (and the outputs that came with it).
    func executeFast(_ i: Int, _ result: FastPathResult, _ outputs: [NodeOutput]) {
        execute(i, outputs)
        switch result {
        case .handled: break
        case let .send(count, to: peer): execute(i, [.send(Array(UnsafeRawBufferPointer(rebasing: frame[0..<count])), to: peer)])
        case let .deliver(range): delivered[i, default: []].append(Array(UnsafeRawBufferPointer(rebasing: scratch[range])))
        }
    }

    /// Sends an IP packet from node i's local stack, through the fast or the ordinary path.
    func forward(_ i: Int, _ packet: [UInt8]) {
        if useFastPath {
            var outputs: [NodeOutput] = []
            let r = packet.withUnsafeBytes { nodes[i].forwardFast($0, now: now, scratch: scratch, frame: frame, outputs: &outputs) }
            executeFast(i, r, outputs)
        } else {
            execute(i, nodes[i].forward(packet, now: now))
        }
    }

    /// Nodes that are switched off: they neither receive nor run timers.
    var dead: Set<Int> = []

    /// `keys[i]` is node i's network key seed byte (same byte, same key).
    init(count: Int, networkKeys: [UInt8]? = nil) throws {
        for i in 0..<count {
            let identity = try NodeKeyPair(seed: SecretBytes(copying: [UInt8](repeating: UInt8(i + 1), count: 32)))
            let key = SecretBytes(copying: [UInt8](repeating: networkKeys?[i] ?? 7, count: 32))
            nodes.append(try FilamentNode(identity: identity, networkKey: key, seqnoCounter: 0, initiationCounterFloor: 0,
                                          seed: UInt64(i + 100), now: now))
        }
    }

    static func linkLocal(node: Int, interface: InterfaceID) -> IPv6Address {
        IPv6Address(high: 0xFE80_0000_0000_0000, low: UInt64(node + 1) << 32 | UInt64(interface.rawValue))
    }

    /// Connects node a's interface ia with node b's interface ib.
    func connect(_ a: Int, _ ia: UInt32, _ b: Int, _ ib: UInt32) {
        links[a, default: [:]][InterfaceID(ia), default: []].append(Port(node: b, interface: InterfaceID(ib)))
        links[b, default: [:]][InterfaceID(ib), default: []].append(Port(node: a, interface: InterfaceID(ia)))
        execute(a, nodes[a].interfaceUp(InterfaceID(ia), linkMTU: 1500, now: now))
        execute(b, nodes[b].interfaceUp(InterfaceID(ib), linkMTU: 1500, now: now))
    }

    func execute(_ i: Int, _ outputs: [NodeOutput]) {
        for o in outputs {
            switch o {
            case let .sendMulticast(d, interface):
                for p in links[i]?[interface] ?? [] { enqueue(p, d, from: NodePeer(interface: p.interface, address: Self.linkLocal(node: i, interface: interface))) }
            case let .send(d, to: peer):
                for p in links[i]?[peer.interface] ?? [] where Self.linkLocal(node: p.node, interface: p.interface) == peer.address {
                    enqueue(p, d, from: NodePeer(interface: p.interface, address: Self.linkLocal(node: i, interface: peer.interface)))
                }
            case let .deliver(packet):
                delivered[i, default: []].append(packet)
            case let .persistSeqnoCounter(v):
                persistedSeqno[i] = v
            default:
                break
            }
        }
    }

    func enqueue(_ p: Port, _ d: [UInt8], from: NodePeer) {
        order += 1
        queue.append(Queued(at: now + .milliseconds(1), order: order, node: p.node, datagram: d, from: from))
    }

    /// Runs for `duration` of virtual time (bounded in steps).
    func run(for duration: Interval) {
        let end = now + duration
        for _ in 0..<200_000 {
            let nextDatagram = queue.min { ($0.at, $0.order) < ($1.at, $1.order) }
            let nextTimer = nodes.indices.filter { !dead.contains($0) }.map { nodes[$0].nextDeadline }.min() ?? .distantFuture
            let t = min(nextDatagram?.at ?? .distantFuture, nextTimer)
            if t > end { now = end; return }
            now = max(now, t)
            if let d = nextDatagram, d.at <= now {
                queue.removeAll { $0.order == d.order }
                if dead.contains(d.node) { continue }
                if useFastPath {
                    var outputs: [NodeOutput] = []
                    let r = d.datagram.withUnsafeBytes {
                        nodes[d.node].receiveFast($0, from: d.from, now: now, scratch: scratch, frame: frame, outputs: &outputs)
                    }
                    executeFast(d.node, r, outputs)
                } else {
                    execute(d.node, nodes[d.node].receive(d.datagram, from: d.from, now: now))
                }
            } else {
                for i in nodes.indices where !dead.contains(i) && nodes[i].nextDeadline <= now { execute(i, nodes[i].tick(now: now)) }
            }
        }
    }

    /// A minimal ICMPv6 echo request from node a's mesh address to `destination`.
    func echoRequest(from a: Int, to destination: IPv6Address, hopLimit: UInt8 = 64) -> [UInt8] {
        var p: [UInt8] = [0x60, 0, 0, 0, 0, 8, 58, hopLimit]
        p += nodes[a].meshAddress.bytes + destination.bytes
        p += [128, 0, 0, 0, 0, 1, 0, 1]
        let sum = IPv6Packet.upperLayerChecksum(p, nextHeader: 58)
        p[42] = UInt8(sum >> 8); p[43] = UInt8(sum & 0xFF)
        return p
    }
}
