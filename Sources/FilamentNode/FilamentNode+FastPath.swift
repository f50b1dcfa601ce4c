import FilamentCore
import FilamentCrypto
import FilamentEngine
import FilamentWire

/// What the fast data path decided for one packet.
public enum FastPathResult: Equatable, Sendable {
    /// Nothing more to do with this packet here (dropped and counted, queued for a handshake, or
    /// turned into `outputs`).
    case handled
    /// Send the first `count` bytes of `frame` as one datagram to `to`.
    case send(count: Int, to: NodePeer)
    /// Hand the bytes `range` of `scratch` (one IPv6 packet) to the local stack.
    case deliver(Range<Int>)
}

// The data plane without allocations in steady state: the driver owns two buffers (`scratch` for
// plaintexts, `frame` for sealed datagrams, each at least the largest datagram plus 64 bytes) and
// an output array it clears between calls. IP packets are copied once into `scratch` (behind the
// inner type byte), sealed from there into `frame`, and the driver copies `frame` into its send
// batch. Everything that is not a transport frame carrying an IP packet (hellos, handshakes,
// routing packets, ICMPv6 errors) falls back to the ordinary paths and lands in `outputs`.
extension FilamentNode {
    /// An IPv6 packet from the local stack (the TUN device).
    public func forwardFast(_ packet: UnsafeRawBufferPointer, now: Instant, scratch: UnsafeMutableRawBufferPointer,
                            frame: UnsafeMutableRawBufferPointer, outputs: inout [NodeOutput]) -> FastPathResult {
        guard packet.count + 1 <= scratch.count else { counters.malformedIPPackets += 1; return .handled }
        UnsafeMutableRawBufferPointer(rebasing: scratch[1..<(1 + packet.count)]).copyMemory(from: packet)
        return forwardFast(inScratch: packet.count, now: now, scratch: scratch, frame: frame, outputs: &outputs)
    }

    /// An IPv6 packet from the local stack that the driver read straight into `scratch[1...]`
    /// (`count` bytes): saves `forwardFast`'s copy. `scratch[0]` is overwritten with the inner type.
    public func forwardFast(inScratch count: Int, now: Instant, scratch: UnsafeMutableRawBufferPointer,
                            frame: UnsafeMutableRawBufferPointer, outputs: inout [NodeOutput]) -> FastPathResult {
        guard count + 1 <= scratch.count else { counters.malformedIPPackets += 1; return .handled }
        scratch[0] = InnerPayloadType.ipPacket.rawValue
        return routeFast(scratch, count: 1 + count, fromNeighbour: false, now: now, frame: frame, &outputs)
    }

    /// One datagram from a neighbour's link-local address.
    public func receiveFast(_ datagram: UnsafeRawBufferPointer, from peer: NodePeer, now: Instant,
                            scratch: UnsafeMutableRawBufferPointer, frame: UnsafeMutableRawBufferPointer,
                            outputs: inout [NodeOutput]) -> FastPathResult {
        guard datagram.first == FrameType.transport.rawValue, scratch.count >= datagram.count else {
            outputs += receive(Array(datagram), from: peer, now: now)
            return .handled
        }
        var linkOutputs = linkBuffer
        linkOutputs.removeAll(keepingCapacity: true)
        let delivery = link.receive(datagram, from: peer, now: now, plaintext: scratch, outputs: &linkOutputs)
        if !linkOutputs.isEmpty { runLink(linkOutputs, now: now, &outputs) }
        linkBuffer = linkOutputs
        guard let delivery, delivery.count > 0 else { return .handled }
        if scratch[0] == InnerPayloadType.ipPacket.rawValue {
            return routeFast(scratch, count: delivery.count, fromNeighbour: true, now: now, frame: frame, &outputs)
        }
        receiveSessionPayload(Array(UnsafeRawBufferPointer(rebasing: scratch[0..<delivery.count])), from: delivery.node,
                              peer: delivery.peer, now: now, &outputs)
        return .handled
    }

    /// `scratch[0]` is the inner type byte, the IPv6 packet follows (count includes the type byte).
    func routeFast(_ scratch: UnsafeMutableRawBufferPointer, count: Int, fromNeighbour: Bool, now: Instant,
                   frame: UnsafeMutableRawBufferPointer, _ outputs: inout [NodeOutput]) -> FastPathResult {
        let ip = 1
        if !fromNeighbour, count > ip, scratch[ip] >> 4 == 4 {
            egress(Array(UnsafeRawBufferPointer(rebasing: scratch[ip..<count])), now: now, &outputs)
            return .handled
        }
        guard count - ip >= IPv6Packet.headerLength, scratch[ip] >> 4 == 6 else { counters.malformedIPPackets += 1; return .handled }
        let length = IPv6Packet.headerLength + (Int(scratch[ip + 4]) << 8 | Int(scratch[ip + 5]))
        guard length <= count - ip else { counters.malformedIPPackets += 1; return .handled }
        let destination = Self.address(scratch, at: ip + 24)
        if destination.byte(0) == 0xFF || destination.high >> 54 == 0x3FA { counters.notRoutable += 1; return .handled }
        if destination == meshAddress, scratch[ip + 6] == GatewayTunnel.ipv4NextHeader || scratch[ip + 6] == GatewayTunnel.ipv6NextHeader {
            _ = decapsulate(Array(UnsafeRawBufferPointer(rebasing: scratch[ip..<(ip + length)])), now: now, &outputs)
            return .handled
        }
        if destination == meshAddress || engine.isLocalInPlace(destination) {
            counters.delivered += 1
            return .deliver(ip..<(ip + length))
        }
        if fromNeighbour {
            guard scratch[ip + 7] > 1 else {
                counters.hopLimitExceeded += 1
                sendError(.hopLimitExceeded, about: Array(UnsafeRawBufferPointer(rebasing: scratch[ip..<(ip + length)])), now: now, &outputs)
                return .handled
            }
            scratch[ip + 7] -= 1
        }
        // One lookup per packet, in place: a non-mutating call on `engine` (a large struct held by
        // this class) copied it, retaining every field (~10 % of a relay's time, perf, decision 0803).
        let route = engine.lookupInPlace(destination)
        if !fromNeighbour, route == nil, !MeshPrefix.prefix.contains(destination) {
            egress(Array(UnsafeRawBufferPointer(rebasing: scratch[ip..<(ip + length)])), now: now, &outputs)
            return .handled
        }
        guard let entry = route, let node = neighbourNodes[entry.nextHop] else {
            if route == nil { counters.noRoute += 1 } else { counters.noSessionForNextHop += 1 }
            sendError(.noRoute, about: Array(UnsafeRawBufferPointer(rebasing: scratch[ip..<(ip + length)])), now: now, &outputs)
            return .handled
        }
        let linkMTU = interfaceMTUs[entry.nextHop.interface] ?? 1280
        if length + FilamentNode.encapsulationOverhead > linkMTU || ip + length + LinkLayer<NodePeer>.transportOverhead > frame.count {
            counters.tooBig += 1
            sendError(.packetTooBig(mtu: max(1280, linkMTU - FilamentNode.encapsulationOverhead)),
                      about: Array(UnsafeRawBufferPointer(rebasing: scratch[ip..<(ip + length)])), now: now, &outputs)
            return .handled
        }
        counters.forwarded += 1
        var linkOutputs = linkBuffer
        linkOutputs.removeAll(keepingCapacity: true)
        let sealed = link.seal(UnsafeRawBufferPointer(rebasing: scratch[0..<(ip + length)]), to: node, now: now,
                               frame: frame, outputs: &linkOutputs)
        if !linkOutputs.isEmpty { runLink(linkOutputs, now: now, &outputs) }
        linkBuffer = linkOutputs
        if lastForwardedVia[entry.nextHop].map({ now - $0 >= .milliseconds(250) }) ?? true {
            lastForwardedVia[entry.nextHop] = now
            runEngine(.forwardedVia(entry.nextHop), now: now, &outputs)
        }
        guard let sealed else { return .handled }
        return .send(count: sealed.count, to: sealed.peer)
    }

    /// 16 bytes at `offset` as an address (big-endian), without generic collection code.
    static func address(_ b: UnsafeMutableRawBufferPointer, at offset: Int) -> IPv6Address {
        var high: UInt64 = 0, low: UInt64 = 0
        for i in 0..<8 { high = high << 8 | UInt64(b[offset + i]) }
        for i in 8..<16 { low = low << 8 | UInt64(b[offset + i]) }
        return IPv6Address(high: high, low: low)
    }
}

extension RoutingEngine {
    /// `lookup` through an inout access: the class's stored struct is used where it lies, not copied.
    @inline(__always)
    mutating func lookupInPlace(_ destination: IPv6Address) -> ForwardingEntry? { lookup(destination) }

    /// `isLocal` through an inout access (see `lookupInPlace`).
    @inline(__always)
    mutating func isLocalInPlace(_ destination: IPv6Address) -> Bool { isLocal(destination) }
}
