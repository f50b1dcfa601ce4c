import FilamentCore
import FilamentWire

/// Encoded sizes of routing messages, used to batch messages into packets within the MTU and to count
/// control bytes. REPLACE with FilamentWire's `encodedSize` once the codec lands on main: these numbers
/// follow RFC 8966's TLV layouts (2-byte type+length, prefixes with their significant bytes only).
enum EstimatedSize {
    /// Bytes on the link besides the routing packet: Ethernet 14 + IPv6 40 + UDP 8.
    static let linkOverhead = 62
    /// Noise transport overhead on unicast packets (type 4 + counter 8 + tag 16).
    static let sessionOverhead = 28
    /// Routing packet header (magic/version/length).
    static let packetOverhead = 4
    static let probe = 2 + 5

    static func prefixBytes(_ p: Prefix) -> Int { (Int(p.length) + 7) / 8 }

    static func of(_ m: Message) -> Int {
        switch m {
        case let .hello(h): return 2 + 14 + (h.node == nil ? 0 : 32)
        case .ihu: return 2 + 14
        case let .update(u): return 2 + 20 + prefixBytes(u.prefix)
        case let .routeRequest(r): return 2 + 2 + (r.prefix.map(prefixBytes) ?? 0)
        case let .seqnoRequest(r): return 2 + 14 + prefixBytes(r.prefix)
        case .digest: return 2 + 10
        case let .gatewayAdvert(a): return 2 + 32 + 4 + 1 + 4 + 4 + 1 + 2 + 1 + a.name.utf8.count + 64
        case .probe: return probe
        }
    }
}
