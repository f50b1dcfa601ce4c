import FilamentWire

/// Control traffic counters: bytes by message kind (see `SimWire.kindNames`), datagrams and drops.
struct TrafficStats {
    var bytesByKind = [Int](repeating: 0, count: SimWire.kindNames.count)
    var datagrams = 0
    var lost = 0
    var noSessionDrops = 0
    var unroutableUnicast = 0
    var undecryptable = 0
    var encodeErrors = 0
    var decodeErrors = 0

    /// One datagram carrying `packet` with `crypto` bytes of link-layer framing.
    /// One datagram of `frameBytes` bytes (encoded frame plus link-layer framing) carrying `packet`.
    mutating func count(packet: RoutingPacket, frameBytes: Int) {
        datagrams += 1
        var body = 0
        for m in packet.messages {
            let s = SimWire.size(of: m)
            bytesByKind[SimWire.kind(of: m)] += s
            body += s
        }
        bytesByKind[SimWire.framingKind] += frameBytes - body + FrameSizes.datagramOverhead
    }

    mutating func countHandshake(_ size: Int) {
        datagrams += 1
        bytesByKind[SimWire.handshakeKind] += size
        bytesByKind[SimWire.framingKind] += FrameSizes.datagramOverhead
    }

    var totalBytes: Int { bytesByKind.reduce(0, +) }
}
