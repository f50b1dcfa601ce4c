import FilamentCore

extension RoutingPacket {
    /// Splits `messages`, in order, into as few consecutive packets as fit `maxPacketSize` bytes each
    /// (header included; give the interface MTU minus the IPv6/UDP/frame overhead). Sizes are exact,
    /// including shared Router-Id TLVs. A message too large for an empty packet gets a packet of its
    /// own (encoding that packet with `maxSize` then fails; with MTU >= 1280 no message is that large).
    public static func batch(_ messages: [Message], maxPacketSize: Int) -> [RoutingPacket] {
        var packets: [RoutingPacket] = []
        var current: [Message] = []
        var size = headerSize
        var router: RouterID?
        for m in messages {
            var cost = 2 + m.valueLength
            var needsRouterID = false
            if case .update(let u) = m, !u.routerIDIsDerived, router != u.routerID {
                cost += Message.routerIDTLVSize
                needsRouterID = true
            }
            if !current.isEmpty && size + cost > maxPacketSize {
                packets.append(RoutingPacket(messages: current))
                current = []
                size = headerSize
                router = nil
                // In a fresh packet a non-derived Update always needs its Router-Id TLV.
                cost = m.encodedSize
                needsRouterID = true
            }
            current.append(m)
            size += cost
            if needsRouterID, case .update(let u) = m, !u.routerIDIsDerived { router = u.routerID }
        }
        if !current.isEmpty { packets.append(RoutingPacket(messages: current)) }
        return packets
    }
}
