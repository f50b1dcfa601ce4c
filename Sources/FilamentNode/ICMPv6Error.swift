import FilamentCore

/// ICMPv6 error messages (RFC 4443) a forwarding node sends back to a packet's source.
public enum ICMPv6Error: Hashable, Sendable {
    /// Type 1 code 0: no route to the destination.
    case noRoute
    /// Type 2: the packet is larger than the next link carries; `mtu` is what fits.
    case packetTooBig(mtu: Int)
    /// Type 3 code 0: hop limit reached zero in transit.
    case hopLimitExceeded

    var typeAndCode: (UInt8, UInt8) {
        switch self {
        case .noRoute: (1, 0)
        case .packetTooBig: (2, 0)
        case .hopLimitExceeded: (3, 0)
        }
    }

    /// The whole IPv6 packet (header included) carrying this error about `invoking`, from `source`
    /// to the invoking packet's source, no larger than the IPv6 minimum MTU (1280).
    public func packet(about invoking: [UInt8], from source: IPv6Address) -> [UInt8]? {
        guard let destination = IPv6Packet.source(of: invoking) else { return nil }
        let quoted = invoking.prefix(1280 - 40 - 8)
        let length = 8 + quoted.count
        var p: [UInt8] = []
        p.reserveCapacity(40 + length)
        p += [0x60, 0, 0, 0, UInt8(length >> 8), UInt8(length & 0xFF), 58, 64]
        p += source.bytes
        p += destination.bytes
        let (type, code) = typeAndCode
        p += [type, code, 0, 0]
        if case let .packetTooBig(mtu) = self {
            p += [UInt8(truncatingIfNeeded: mtu >> 24), UInt8(truncatingIfNeeded: mtu >> 16),
                  UInt8(truncatingIfNeeded: mtu >> 8), UInt8(truncatingIfNeeded: mtu)]
        } else {
            p += [0, 0, 0, 0]
        }
        p += quoted
        let sum = IPv6Packet.upperLayerChecksum(p, nextHeader: 58)
        p[42] = UInt8(sum >> 8)
        p[43] = UInt8(sum & 0xFF)
        return p
    }
}

/// Field access on raw IPv6 packets (bounds-checked; nil or false on anything malformed).
public enum IPv6Packet {
    public static let headerLength = 40

    /// Whether `p` has an IPv6 header and its payload length fits the bytes present.
    public static func isWellFormed(_ p: [UInt8]) -> Bool {
        guard p.count >= headerLength, p[0] >> 4 == 6 else { return false }
        return headerLength + payloadLength(p) <= p.count
    }

    /// The payload length field (0 when `p` is shorter than an IPv6 header).
    public static func payloadLength(_ p: [UInt8]) -> Int { p.count >= headerLength ? Int(p[4]) << 8 | Int(p[5]) : 0 }

    public static func source(of p: [UInt8]) -> IPv6Address? {
        guard p.count >= headerLength else { return nil }
        return IPv6Address(bytes: p[8..<24])
    }

    public static func destination(of p: [UInt8]) -> IPv6Address? {
        guard p.count >= headerLength else { return nil }
        return IPv6Address(bytes: p[24..<40])
    }

    /// Whether `p` is itself an ICMPv6 error (types 0-127), which must never provoke another error.
    public static func isICMPv6Error(_ p: [UInt8]) -> Bool {
        p.count > headerLength && p[6] == 58 && p[headerLength] < 128
    }

    /// The Internet checksum of the upper-layer payload of `p` with the IPv6 pseudo-header
    /// (RFC 8200 8.1); the payload's checksum field must be zero when computing it.
    public static func upperLayerChecksum(_ p: [UInt8], nextHeader: UInt8) -> UInt16 {
        guard p.count >= headerLength else { return 0 }
        return p.withUnsafeBytes { b in
            var s = InternetChecksum.sum(UnsafeRawBufferPointer(rebasing: b[8..<40]))  // source and destination
            s &+= InternetChecksum.words(UInt32(p.count - headerLength)) &+ InternetChecksum.words(UInt32(nextHeader))
            s = InternetChecksum.sum(UnsafeRawBufferPointer(rebasing: b[headerLength...]), into: s)
            return UInt16(bigEndian: InternetChecksum.finish(s))
        }
    }
}
