// The envelope (shared by FilamentWire and FilamentCrypto, so it lives in Core): byte 0 of every datagram (UDP payload or raw-Ethernet payload) names the frame type,
// and byte 0 of a decrypted transport frame's plaintext names the inner payload.
// docs/wire-format.md "Frame envelope" is the reference.

/// Byte 0 of every datagram Filament sends between neighbours.
///
/// 0x01...0x04 belong to the link layer (Noise handshake and transport; their layout is the link
/// layer's). 0x10 is a plaintext routing packet (multicast hellos). Every other value is reserved:
/// a receiver drops (and counts) a datagram whose first byte it does not know.
public enum FrameType: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// Noise IK handshake, first message (initiator to responder).
    case handshakeInitiation = 0x01
    /// Noise IK handshake, second message (responder to initiator).
    case handshakeResponse = 0x02
    /// Cookie reply (the responder is under load and asks the initiator to prove its address).
    case cookieReply = 0x03
    /// An encrypted transport frame; its plaintext starts with an `InnerPayloadType` byte.
    case transport = 0x04
    /// A plaintext routing packet (`RoutingPacket`), sent to the multicast group (hellos).
    case plaintextRouting = 0x10

    /// The frame type of a datagram: nil when it is empty or its first byte is reserved.
    public init?(firstByteOf datagram: UnsafeRawBufferPointer) {
        guard let first = datagram.first else { return nil }
        self.init(rawValue: first)
    }

    /// The frame type of a datagram: nil when it is empty or its first byte is reserved.
    public init?(firstByteOf datagram: ArraySlice<UInt8>) {
        guard let first = datagram.first else { return nil }
        self.init(rawValue: first)
    }

    public var description: String {
        switch self {
        case .handshakeInitiation: "handshake-initiation"
        case .handshakeResponse: "handshake-response"
        case .cookieReply: "cookie-reply"
        case .transport: "transport"
        case .plaintextRouting: "plaintext-routing"
        }
    }
}

/// Byte 0 of the decrypted plaintext of a `FrameType.transport` frame. Values 0x02...0xFF are reserved:
/// a receiver drops (and counts) a payload whose first byte it does not know.
public enum InnerPayloadType: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// A `RoutingPacket` follows (unicast routing traffic between neighbours).
    case routing = 0x00
    /// An IPv6 packet follows, starting at its IP header (the data plane; IPv4 travels inside IPv6 or
    /// as the gateway's leased address, never as a separate type).
    case ipPacket = 0x01

    public var description: String {
        switch self {
        case .routing: "routing"
        case .ipPacket: "ip-packet"
        }
    }
}
