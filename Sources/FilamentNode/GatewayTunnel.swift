import FilamentCore

/// How internet-bound packets cross the mesh (docs/gateways.md, decision 0810): the whole packet
/// (IPv4 or IPv6, unchanged) rides behind an outer IPv6 header from the node's mesh address to the
/// gateway's mesh address, next header 4 (IPv4) or 41 (IPv6), hop limit 64. The outer packet is an
/// ordinary mesh packet: routed hop by hop through the engine's table, encrypted on every link.
/// Return traffic: IPv6 replies are addressed to the node's mesh address and need no tunnel; IPv4
/// replies (to the node's lease) come back the same way, gateway to node, next header 4.
public enum GatewayTunnel {
    public static let ipv4NextHeader: UInt8 = 4
    public static let ipv6NextHeader: UInt8 = 41
    public static let outerHopLimit: UInt8 = 64
    /// The pool every node derives its IPv4 lease in (the RFC 6598 shared address space).
    public static let defaultPool = Prefix(ipv4: IPv6Address(ipv4: 100, 64, 0, 0), length: 10)!

    /// `inner` behind an outer IPv6 header (`source` → `destination`).
    public static func encapsulate(_ inner: [UInt8], from source: IPv6Address, to destination: IPv6Address) -> [UInt8]? {
        guard let first = inner.first, inner.count <= 65_535 else { return nil }
        let nextHeader: UInt8 = first >> 4 == 4 ? ipv4NextHeader : ipv6NextHeader
        var out: [UInt8] = []
        out.reserveCapacity(40 + inner.count)
        out += [0x60, 0, 0, 0, UInt8(inner.count >> 8), UInt8(inner.count & 0xFF), nextHeader, outerHopLimit]
        out += source.bytes
        out += destination.bytes
        out += inner
        return out
    }

    /// The IPv4 address a node uses behind any gateway: inside `pool`, derived from its mesh address
    /// (itself a hash of its key). Host parts 0 and all-ones are avoided. Two nodes can derive the same
    /// address; the gateway then serves the first and drops the other's packets (counted).
    public static func lease(for meshAddress: IPv6Address, in pool: Prefix = defaultPool) -> IPv6Address {
        let hostBits = 128 - Int(pool.length)
        guard hostBits >= 2, hostBits <= 32 else { return pool.address }
        let mask = hostBits == 32 ? UInt64(UInt32.max) : (UInt64(1) << UInt64(hostBits)) - 1
        // Mix both halves so that addresses differing anywhere differ here.
        var h = meshAddress.low ^ (meshAddress.high &* 0x9E37_79B9_7F4A_7C15)
        h ^= h >> 29; h &*= 0xBF58_476D_1CE4_E5B9; h ^= h >> 32
        var host = h & mask
        if host == 0 { host = 1 }
        if host == mask { host = mask - 1 }
        return IPv6Address(high: 0, low: pool.address.low | host)
    }

    /// The IPv4 header's source or destination (at byte 12 or 16) as a mapped address.
    static func ipv4Address(_ p: [UInt8], at offset: Int) -> IPv6Address {
        let v = UInt64(p[offset]) << 24 | UInt64(p[offset + 1]) << 16 | UInt64(p[offset + 2]) << 8 | UInt64(p[offset + 3])
        return IPv6Address(high: 0, low: 0xFFFF_0000_0000 | v)
    }

    /// Whether `p` is a well-formed IPv4 packet (version, header length, total length within `p`).
    static func isWellFormedIPv4(_ p: [UInt8]) -> Bool {
        guard p.count >= 20, p[0] >> 4 == 4 else { return false }
        let ihl = Int(p[0] & 0x0F) * 4
        let total = Int(p[2]) << 8 | Int(p[3])
        return ihl >= 20 && total >= ihl && total <= p.count
    }

    /// A hash of the flow's 5-tuple (addresses, protocol, ports; ICMP echo identifier for pings), so
    /// that the packets of one flow take one gateway. FNV-1a, then a final mix.
    public static func flowHash(_ p: [UInt8]) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        func mix(_ b: UInt8) { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        guard let first = p.first else { return h }
        var proto: UInt8 = 0, l4 = 0
        if first >> 4 == 4, p.count >= 20 {
            for i in 12..<20 { mix(p[i]) }
            proto = p[9]; l4 = Int(p[0] & 0x0F) * 4
        } else if first >> 4 == 6, p.count >= 40 {
            for i in 8..<40 { mix(p[i]) }
            proto = p[6]; l4 = 40
        }
        mix(proto)
        switch proto {
        case 6, 17: if p.count >= l4 + 4 { for i in l4..<(l4 + 4) { mix(p[i]) } }
        case 1, 58: if p.count >= l4 + 6 { for i in (l4 + 4)..<(l4 + 6) { mix(p[i]) } }
        default: break
        }
        h ^= h >> 33; h &*= 0xFF51_AFD7_ED55_8CCD; h ^= h >> 33
        return h
    }
}
