import FilamentCore
@testable import FilamentWire
import PropertyBased

/// Random routing messages for property tests, biased towards edge values (metric 0 and infinity,
/// seqno wrap points, ::/0, /128, IPv4-mapped and mesh prefixes, empty and 32-byte names).
enum WireGen {
    static let seqnoEdges: [UInt16] = [0, 1, 0x7FFF, 0x8000, 0xFFFE, 0xFFFF]
    static let metricEdges: [UInt16] = [0, 1, 96, 256, 0xFFFE, 0xFFFF]
    static let names: [String] = [
        "", "g", "gateway-kitchen", String(repeating: "x", count: 32),
        "caf\u{E9}", String(repeating: "\u{1F4A1}", count: 8), "\u{E9}" + String(repeating: "a", count: 30),
    ]
    /// A few router ids reused across messages so consecutive Updates share a Router-Id TLV.
    static let routerPool: [UInt64] = [0x0102_0304_0506_0708, 0xFFFF_FFFF_FFFF_FFFF, 0, 0xA1A2_A3A4_A5A6_A7A8]

    static func u16<R: RandomNumberGenerator>(_ r: inout R, edges: [UInt16]) -> UInt16 {
        Bool.random(using: &r) ? edges.randomElement(using: &r)! : UInt16.random(in: 0...UInt16.max, using: &r)
    }

    static func routerID<R: RandomNumberGenerator>(_ r: inout R) -> RouterID {
        Bool.random(using: &r) ? RouterID(routerPool.randomElement(using: &r)!) : RouterID(r.next())
    }

    static func node<R: RandomNumberGenerator>(_ r: inout R) -> NodeID {
        NodeID(w0: r.next(), w1: r.next(), w2: r.next(), w3: r.next())
    }

    static func prefix<R: RandomNumberGenerator>(_ r: inout R) -> Prefix {
        switch Int.random(in: 0..<9, using: &r) {
        case 0: return .defaultIPv6
        case 1: return .defaultIPv4
        case 2: return Prefix(host: IPv6Address(high: r.next(), low: r.next()))
        case 3, 4:  // a mesh host address, the common case
            let a = IPv6Address(high: MeshPrefix.prefix.address.high | (r.next() & 0xFFFF), low: r.next())
            return Prefix(host: a)
        case 5:  // any mesh sub-prefix
            let a = IPv6Address(high: MeshPrefix.prefix.address.high | (r.next() & 0xFFFF), low: r.next())
            return Prefix(address: a, length: Int.random(in: 48...128, using: &r))!
        case 6:  // IPv4
            let v = UInt32.random(in: 0...UInt32.max, using: &r)
            let a = IPv6Address(ipv4: UInt8(v >> 24), UInt8(truncatingIfNeeded: v >> 16),
                                UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v))
            return Prefix(ipv4: a, length: Int.random(in: 0...32, using: &r))!
        case 7:  // inside ::ffff:0:0/96 space but shorter than /96, or around it
            return Prefix(address: IPv6Address(ipv4: 10, 0, 0, 0), length: Int.random(in: 80...100, using: &r))!
        default:
            return Prefix(address: IPv6Address(high: r.next(), low: r.next()), length: Int.random(in: 0...128, using: &r))!
        }
    }

    static func message<R: RandomNumberGenerator>(_ r: inout R) -> Message {
        switch Int.random(in: 0..<10, using: &r) {
        case 0:
            return .hello(Hello(routerID: routerID(&r), node: Bool.random(using: &r) ? node(&r) : nil,
                                seqno: Seqno(u16(&r, edges: seqnoEdges)), intervalCentiseconds: u16(&r, edges: [0, 400, 0xFFFF])))
        case 1:
            return .ihu(IHU(neighbour: routerID(&r), rxcost: u16(&r, edges: metricEdges),
                            intervalCentiseconds: u16(&r, edges: [0, 1200, 0xFFFF])))
        case 2, 3, 4:
            let p = prefix(&r)
            let router = Bool.random(using: &r) ? RouterID(p.address.low) : routerID(&r)
            return .update(Update(prefix: p, routerID: router, seqno: Seqno(u16(&r, edges: seqnoEdges)),
                                  metric: Metric(u16(&r, edges: metricEdges)),
                                  intervalCentiseconds: u16(&r, edges: [0, 1600, 0xFFFF])))
        case 5:
            return .routeRequest(RouteRequest(prefix: Bool.random(using: &r) ? prefix(&r) : nil, flags: Bool.random(using: &r) ? 0 : 0x80))
        case 6:
            return .seqnoRequest(SeqnoRequest(prefix: prefix(&r), routerID: routerID(&r),
                                              seqno: Seqno(u16(&r, edges: seqnoEdges)),
                                              hopCount: UInt8.random(in: 0...255, using: &r)))
        case 7:
            return .digest(Digest(routeCount: u16(&r, edges: [0, 0xFFFF]), hash: r.next(), flags: Bool.random(using: &r) ? 0 : 0x80))
        case 8:
            var signature = [UInt8](repeating: 0, count: 64)
            for i in signature.indices { signature[i] = UInt8.random(in: 0...255, using: &r) }
            return .gatewayAdvert(GatewayAdvert(
                gateway: node(&r), seqno: UInt32.random(in: 0...UInt32.max, using: &r),
                flags: GatewayAdvert.Flags(rawValue: UInt8.random(in: 0...255, using: &r)),
                bandwidthDownKbps: UInt32.random(in: 0...UInt32.max, using: &r),
                bandwidthUpKbps: UInt32.random(in: 0...UInt32.max, using: &r),
                load: UInt8.random(in: 0...255, using: &r), lifetimeSeconds: u16(&r, edges: [0, 0xFFFF]),
                name: names.randomElement(using: &r)!, signature: signature))
        default:
            return .probe(Probe(nonce: UInt32.random(in: 0...UInt32.max, using: &r), isReply: Bool.random(using: &r)))
        }
    }

    static func packet<R: RandomNumberGenerator>(_ r: inout R, maxMessages: Int = 40) -> RoutingPacket {
        let n = Int.random(in: 0...maxMessages, using: &r)
        var messages: [Message] = []
        for _ in 0..<n { messages.append(message(&r)) }
        return RoutingPacket(messages: messages)
    }

    /// Property-test generators.
    static let packets = Generator(run: { rng in WireGen.packet(&rng) })
    static let messages = Generator(run: { rng in WireGen.message(&rng) })
    static let seeds = Gen.uint64()
}

/// Bytes from a hex string with optional spaces and newlines ("F1 01 00 0F").
func hexBytes(_ s: String) -> [UInt8] {
    let digits = s.filter { $0.isHexDigit }
    var out: [UInt8] = []
    var i = digits.startIndex
    while i < digits.endIndex {
        let j = digits.index(i, offsetBy: 2)
        out.append(UInt8(digits[i..<j], radix: 16)!)
        i = j
    }
    return out
}
