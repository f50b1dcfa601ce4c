import FilamentCore
@testable import FilamentNode
import Testing

struct GatewayTunnelTests {
    /// A derived lease is an IPv4 address inside 100.64.0.0/10, never the pool's first or last address,
    /// the same for the same mesh address and different for (almost all) different ones.
    @Test func leaseIsInsideThePoolAndDeterministic() {
        var seen: Set<IPv6Address> = []
        for i in 0..<2000 as Range<UInt64> {
            let mesh = IPv6Address(high: 0xFD66_696C_616D_0000 | i, low: i &* 0x9E37_79B9_7F4A_7C15)
            let lease = GatewayTunnel.lease(for: mesh)
            #expect(lease.isIPv4Mapped && GatewayTunnel.defaultPool.contains(lease))
            #expect(lease != IPv6Address(ipv4: 100, 64, 0, 0) && lease != IPv6Address(ipv4: 100, 127, 255, 255))
            #expect(GatewayTunnel.lease(for: mesh) == lease)
            seen.insert(lease)
        }
        #expect(seen.count >= 1995, "too many collisions among 2000 nodes: \(2000 - seen.count)")
    }

    /// Encapsulation puts the packet behind a 40-byte IPv6 header with next header 4 or 41 and the
    /// right payload length; the flow hash ignores everything but the 5-tuple.
    @Test func encapsulationAndFlowHash() throws {
        let v4: [UInt8] = [0x45, 0, 0, 28, 0, 1, 0, 0, 64, 1, 0, 0, 100, 64, 0, 9, 203, 0, 113, 1, 8, 0, 0, 0, 0, 7, 0, 1]
        let src = IPv6Address("fd66:696c:616d::1")!, dst = IPv6Address("fd66:696c:616d::2")!
        let outer = try #require(GatewayTunnel.encapsulate(v4, from: src, to: dst))
        #expect(outer.count == 40 + v4.count)
        #expect(outer[6] == 4 && outer[4] == 0 && Int(outer[5]) == v4.count)
        #expect(Array(outer[8..<24]) == src.bytes && Array(outer[24..<40]) == dst.bytes && Array(outer[40...]) == v4)
        var later = v4
        later[27] = 2  // another echo sequence number: the same flow
        #expect(GatewayTunnel.flowHash(later) == GatewayTunnel.flowHash(v4))
        var otherFlow = v4
        otherFlow[25] = 8  // another echo identifier
        #expect(GatewayTunnel.flowHash(otherFlow) != GatewayTunnel.flowHash(v4))
        #expect(GatewayTunnel.encapsulate([], from: src, to: dst) == nil)
        #expect(GatewayTunnel.isWellFormedIPv4(v4) && !GatewayTunnel.isWellFormedIPv4(Array(v4.prefix(19))))
    }
}
