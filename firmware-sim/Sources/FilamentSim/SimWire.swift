import FilamentCore
import FilamentCrypto
import FilamentWire

/// Sizes of link-layer framing the simulator accounts for, in bytes.
public enum FrameSizes {
    /// IPv6 (40) + UDP (8) + Ethernet (14) headers counted per datagram in overhead figures.
    public static let datagramOverhead = 62
    /// Transport frame overhead added by the link layer (header + Poly1305 tag), from FilamentCrypto.
    public static let transportOverhead = LinkLayer<SimPeerAddress>.transportOverhead
    /// Noise IKpsk2 handshake initiation and response frame sizes, from FilamentCrypto.
    public static let handshakeInitiation = LinkLayer<SimPeerAddress>.initiationSize
    public static let handshakeResponse = LinkLayer<SimPeerAddress>.responseSize
}

/// The wire as the simulator uses it: routing packet -> bytes (FilamentWire) -> routing packet.
enum SimWire {
    /// Bytes one message takes on the wire (the codec's own count).
    @inline(__always) static func size(of m: Message) -> Int { RoutingPacket.encodedSize(of: m) }

    /// A multicast datagram: the plaintext routing frame.
    static func encodeMulticast(_ p: RoutingPacket) -> [UInt8]? {
        var b: [UInt8] = []
        do { try p.encodePlaintextFrame(into: &b) } catch { return nil }
        return b
    }

    /// The plaintext inside a transport frame.
    static func encodeUnicast(_ p: RoutingPacket) -> [UInt8]? {
        var b: [UInt8] = []
        do { try p.encodeInnerPayload(into: &b) } catch { return nil }
        return b
    }

    static func decodeMulticast(_ b: [UInt8]) -> RoutingPacket? {
        var report = DecodeReport()
        return try? RoutingPacket.decodePlaintextFrame(b[...], report: &report)
    }

    static func decodeUnicast(_ b: [UInt8]) -> RoutingPacket? {
        var report = DecodeReport()
        return try? RoutingPacket.decodeInnerPayload(b[...], report: &report)
    }

    /// Index of a message type in `MessageKind.allCases`.
    @inline(__always) static func kind(of m: Message) -> Int { m.kind }
    /// Report names of message kinds, then handshake and framing (headers + crypto + 62 B per datagram).
    static let kindNames = Message.kindNames + ["handshake", "framing"]
    static let handshakeKind = 8
    static let framingKind = 9
}
