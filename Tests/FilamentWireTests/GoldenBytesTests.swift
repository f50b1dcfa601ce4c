import FilamentCore
@testable import FilamentWire
import Testing

// One example of each TLV, byte for byte. docs/wire-format.md shows the same bytes; change both together.

let goldenRouter = RouterID(0x0102_0304_0506_0708)
let goldenMesh = Prefix(host: IPv6Address(high: 0xFD66_696C_616D_0001, low: 0xA1A2_A3A4_A5A6_A7A8))
let goldenNode = NodeID(bytes: (0x20...0x3F).map { UInt8($0) })!
let goldenGatewayKey = NodeID(bytes: (0x00...0x1F).map { UInt8($0) })!
let goldenAdvert = GatewayAdvert(
    gateway: goldenGatewayKey, seqno: 5, flags: [.ipv6, .ipv4, .healthy], bandwidthDownKbps: 100_000,
    bandwidthUpKbps: 20_000, load: 42, lifetimeSeconds: 300, name: "gw",
    signature: [UInt8](repeating: 0xEE, count: 64))

/// The body bytes (after the 4-byte header) of a one-message packet.
private func body(_ m: Message) throws -> [UInt8] {
    let bytes = try RoutingPacket(messages: [m]).encode()
    #expect(Array(bytes[0..<2]) == [0xF1, 0x01])
    #expect(Int(bytes[2]) << 8 | Int(bytes[3]) == bytes.count - 4)
    return Array(bytes[4...])
}

/// Encodes `m`, compares with the golden hex, and decodes the golden bytes back to `m`.
private func check(_ m: Message, _ hex: String) throws {
    let expected = hexBytes(hex)
    #expect(try body(m) == expected)
    let packet = [0xF1, 0x01, UInt8(expected.count >> 8), UInt8(expected.count & 0xFF)] + expected
    #expect(try RoutingPacket.decode(packet) == RoutingPacket(messages: [m]))
}

@Suite struct GoldenBytesTests {
    /// A whole Hello packet without a key, header included, byte for byte.
    @Test func helloPacket() throws {
        let hello = Message.hello(Hello(routerID: goldenRouter, seqno: Seqno(0x1234), intervalCentiseconds: 400))
        let bytes = try RoutingPacket(messages: [hello]).encode()
        #expect(bytes == hexBytes("F1 01 00 0F  04 0D 00 12 34 01 90 01 02 03 04 05 06 07 08"))
    }

    /// Hello with the sender's key: flag 0x80 and 32 key bytes after the router id.
    @Test func helloWithKey() throws {
        try check(.hello(Hello(routerID: goldenRouter, node: goldenNode, seqno: Seqno(0x1234), intervalCentiseconds: 400)), """
            04 2D 80 12 34 01 90 01 02 03 04 05 06 07 08
            20 21 22 23 24 25 26 27 28 29 2A 2B 2C 2D 2E 2F
            30 31 32 33 34 35 36 37 38 39 3A 3B 3C 3D 3E 3F
            """)
    }

    /// IHU: rxcost, interval, neighbour.
    @Test func ihu() throws {
        try check(.ihu(IHU(neighbour: goldenRouter, rxcost: 256, intervalCentiseconds: 1200)),
                  "05 0C 01 00 04 B0 01 02 03 04 05 06 07 08")
    }

    /// Update for a mesh /128 from its own router: AE 3, router id from the prefix, 10 address bytes.
    @Test func updateMeshHost() throws {
        try check(.update(Update(prefix: goldenMesh, routerID: RouterID(0xA1A2_A3A4_A5A6_A7A8), seqno: Seqno(0xFFFF),
                                 metric: Metric(256), intervalCentiseconds: 1600)),
                  "08 13 03 40 80 06 40 FF FF 01 00 00 01 A1 A2 A3 A4 A5 A6 A7 A8")
    }

    /// Retraction of 0.0.0.0/0: a Router-Id TLV, then AE 1 with no address bytes.
    @Test func updateIPv4DefaultRetraction() throws {
        try check(.update(Update(prefix: .defaultIPv4, routerID: goldenRouter, seqno: Seqno(7), metric: .infinity,
                                 intervalCentiseconds: 0)),
                  "06 08 01 02 03 04 05 06 07 08  08 09 01 00 00 00 00 00 07 FF FF")
    }

    /// Update for 2001:db8::/32: AE 2, 4 address bytes.
    @Test func updateIPv6() throws {
        try check(.update(Update(prefix: Prefix("2001:db8::/32")!, routerID: goldenRouter, seqno: Seqno(1),
                                 metric: Metric(96), intervalCentiseconds: 1600)),
                  "06 08 01 02 03 04 05 06 07 08  08 0D 02 00 20 06 40 00 01 00 60 20 01 0D B8")
    }

    /// Route requests: the wildcard (whole table) and 10.1.0.0/16.
    @Test func routeRequests() throws {
        try check(.routeRequest(RouteRequest(prefix: nil)), "09 02 00 00")
        try check(.routeRequest(RouteRequest(prefix: Prefix("10.1.0.0/16")!)), "09 04 01 10 0A 01")
        // The optional flags byte (decision 0321): a restarted bulb's wildcard request.
        try check(.routeRequest(RouteRequest(prefix: nil, flags: RouteRequest.flagRestarted)), "09 03 00 00 80")
    }

    /// Seqno request for a mesh /128.
    @Test func seqnoRequest() throws {
        try check(.seqnoRequest(SeqnoRequest(prefix: goldenMesh, routerID: RouterID(0xA1A2_A3A4_A5A6_A7A8),
                                             seqno: Seqno(0x0102), hopCount: 64)),
                  "0A 17 03 80 01 02 40 A1 A2 A3 A4 A5 A6 A7 A8 00 01 A1 A2 A3 A4 A5 A6 A7 A8")
    }

    /// Digest: route count and 64-bit hash.
    @Test func digest() throws {
        try check(.digest(Digest(routeCount: 49, hash: 0x0123_4567_89AB_CDEF)), "20 0A 00 31 01 23 45 67 89 AB CD EF")
        try check(.digest(Digest(routeCount: 49, hash: 0x0123_4567_89AB_CDEF, flags: Digest.flagFlushed)),
                  "20 0B 00 31 01 23 45 67 89 AB CD EF 80")
    }

    /// Probes: flag 0x80 for a reply, 0 for a request, then the nonce.
    @Test func probe() throws {
        try check(.probe(Probe(nonce: 0xDEAD_BEEF, isReply: true)), "22 05 80 DE AD BE EF")
        try check(.probe(Probe(nonce: 1, isReply: false)), "22 05 00 00 00 00 01")
    }

    /// Gateway advert: every field in order, then the 64-byte signature.
    @Test func gatewayAdvert() throws {
        try check(.gatewayAdvert(goldenAdvert), """
            21 73
            00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F
            10 11 12 13 14 15 16 17 18 19 1A 1B 1C 1D 1E 1F
            00 00 00 05  07  00 01 86 A0  00 00 4E 20  2A  01 2C  02 67 77
            """ + String(repeating: " EE", count: 64))
    }

    /// The signed bytes are the domain string, then the value fields before the signature.
    @Test func gatewayAdvertSignedBytes() throws {
        let domain = Array("filament/gateway-advert/v1".utf8) + [0]
        #expect(GatewayAdvert.signingDomain == domain)
        #expect(domain.count == 27)
        let fields = hexBytes("""
            00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F
            10 11 12 13 14 15 16 17 18 19 1A 1B 1C 1D 1E 1F
            00 00 00 05  07  00 01 86 A0  00 00 4E 20  2A  01 2C  02 67 77
            """)
        #expect(goldenAdvert.signedBytes == domain + fields)
        var other = goldenAdvert
        other.signature = [UInt8](repeating: 0, count: 64)
        #expect(other.signedBytes == goldenAdvert.signedBytes)  // the signature is not signed
        other.load = 43
        #expect(other.signedBytes != goldenAdvert.signedBytes)  // every other field is
    }

    /// A full hello+IHU packet as the docs size it: 4 + 15 + 14 = 33 bytes.
    @Test func helloPlusIHUSize() throws {
        let packet = RoutingPacket(messages: [
            .hello(Hello(routerID: goldenRouter, seqno: Seqno(1), intervalCentiseconds: 400)),
            .ihu(IHU(neighbour: RouterID(9), rxcost: 256, intervalCentiseconds: 1200)),
        ])
        #expect(try packet.encode().count == 33)
    }

    /// The routing packet sizes in docs/wire-format.md "Sizes" are what the encoder produces.
    @Test func documentedSizes() throws {
        func size(_ m: [Message]) throws -> Int { try RoutingPacket(messages: m).encode().count }
        let other = RouterID(0x0102_0304_0506_0708)
        let withKey = Message.hello(Hello(routerID: goldenRouter, node: goldenNode, seqno: Seqno(1), intervalCentiseconds: 400))
        #expect(try size([withKey]) == 51)
        let own = Message.update(Update(prefix: goldenMesh, routerID: RouterID(goldenMesh.address.low), seqno: Seqno(1),
                                        metric: Metric(1), intervalCentiseconds: 0))
        #expect(try size([own]) == 25)
        let foreignMesh = Message.update(Update(prefix: goldenMesh, routerID: other, seqno: Seqno(1), metric: Metric(1),
                                                intervalCentiseconds: 0))
        #expect(try size([foreignMesh]) == 35)
        #expect(try size([foreignMesh, foreignMesh]) == 35 + 21)
        let v6 = Message.update(Update(prefix: Prefix(host: IPv6Address("2001:db8::1")!), routerID: other, seqno: Seqno(1),
                                       metric: Metric(1), intervalCentiseconds: 0))
        #expect(try size([v6]) == 41)
        #expect(try size([.digest(Digest(routeCount: 1, hash: 1))]) == 16)
        var advert = goldenAdvert
        advert.name = "kitchen1"
        #expect(try size([.gatewayAdvert(advert)]) == 127)
        var frame: [UInt8] = []
        try RoutingPacket(messages: [.hello(Hello(routerID: goldenRouter, seqno: Seqno(1), intervalCentiseconds: 400))])
            .encodePlaintextFrame(into: &frame)
        #expect(frame.count == 20)
    }
}
