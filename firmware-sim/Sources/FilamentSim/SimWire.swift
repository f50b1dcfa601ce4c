import FilamentCore
import FilamentWire

/// Sizes of everything the simulator puts on a virtual link, in bytes. Until the wire codec and the
/// link layer are merged these are computed from the documented layouts; afterwards `SimWire` encodes
/// and decodes for real and these constants only describe crypto framing.
public enum FrameSizes {
    /// IPv6 (40) + UDP (8) + Ethernet (14) headers counted per datagram in overhead figures.
    public static let datagramOverhead = 62
    /// Transport frame overhead added by the link layer: type (1) + receiver index (4) + counter (8) + tag (16).
    public static let transportOverhead = 29
    /// Noise IKpsk2 message 1 (header 5 + e 32 + encrypted s 48 + encrypted empty payload 16).
    public static let handshakeInitiation = 101
    /// Noise IKpsk2 message 2 (header 9 + e 32 + encrypted empty payload 16).
    public static let handshakeResponse = 57
}

/// The wire as the simulator uses it: routing packet -> bytes -> routing packet. Today it sizes packets
/// from the layout in docs/wire-format.md and passes the value through; see docs/simulator.md.
enum SimWire {
    /// Bytes one message takes on the wire (type + length + body), by the documented layout.
    static func size(of m: Message) -> Int {
        switch m {
        case .hello(let h): return 2 + 8 + 2 + 2 + (h.node == nil ? 0 : 32)
        case .ihu: return 2 + 8 + 2 + 2
        case .update(let u): return 2 + 1 + 1 + Int((u.prefix.length + 7) / 8) + 8 + 2 + 2 + 2
        case .routeRequest(let r): return 2 + (r.prefix == nil ? 0 : 2 + Int((r.prefix!.length + 7) / 8))
        case .seqnoRequest(let r): return 2 + 2 + Int((r.prefix.length + 7) / 8) + 8 + 2 + 1
        case .digest: return 2 + 2 + 8
        case .gatewayAdvert(let a): return 2 + 32 + 4 + 1 + 4 + 4 + 1 + 2 + 1 + a.name.utf8.count + 64
        case .probe: return 2 + 4 + 1
        }
    }

    /// Bytes of the whole routing packet (version + reserved + messages).
    static func size(of p: RoutingPacket) -> Int {
        var s = 2
        for m in p.messages { s += size(of: m) }
        return s
    }

    /// Index of a message type in `MessageKind.allCases`.
    @inline(__always) static func kind(of m: Message) -> Int {
        switch m {
        case .hello: return 0
        case .ihu: return 1
        case .update: return 2
        case .routeRequest: return 3
        case .seqnoRequest: return 4
        case .digest: return 5
        case .gatewayAdvert: return 6
        case .probe: return 7
        }
    }
    /// Report names of message kinds, then handshake and framing (headers + crypto + 62 B per datagram).
    static let kindNames = ["hello", "ihu", "update", "route_request", "seqno_request", "digest", "gateway_advert",
                            "probe", "handshake", "framing"]
    static let handshakeKind = 8
    static let framingKind = 9
}
