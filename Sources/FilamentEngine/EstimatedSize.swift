import FilamentCore
import FilamentWire

/// Bytes a routing packet costs on the link, for batching within the MTU and for counting control
/// traffic. Message and packet sizes are FilamentWire's exact `encodedSize`; the per-datagram overheads
/// below come from docs/wire-format.md (Ethernet+IPv6+UDP, frame type, inner payload type) and
/// docs/link-layer.md (transport frame: 16-byte header + 16-byte tag).
enum EstimatedSize {
    /// Ethernet 14 + IPv6 40 + UDP 8.
    static let linkOverhead = 62
    /// Plaintext frame type byte in front of a multicast routing packet.
    static let plaintextFrame = 1
    /// Encrypted transport frame around a unicast routing packet: header 16 + tag 16 + inner type 1.
    static let sessionOverhead = 33
    /// Routing packet header.
    static let packetOverhead = RoutingPacket.headerSize

    @inline(__always) static func of(_ m: Message) -> Int { m.encodedSize }

    /// Bytes on the wire for a packet sent multicast (false) or inside a session (true).
    static func onLink(_ packet: RoutingPacket, unicast: Bool) -> Int {
        packet.encodedSize + linkOverhead + (unicast ? sessionOverhead : plaintextFrame)
    }
}
