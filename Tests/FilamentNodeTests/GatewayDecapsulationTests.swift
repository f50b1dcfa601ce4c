import FilamentCore
import FilamentCrypto
@testable import FilamentNode
import Testing

struct GatewayDecapsulationTests {
    static func makeNode(_ seed: UInt8) throws -> FilamentNode {
        let identity = try NodeKeyPair(seed: SecretBytes(copying: [UInt8](repeating: seed, count: 32)))
        return try FilamentNode(identity: identity, networkKey: NetworkKey.openMesh(), seqnoCounter: 0, initiationCounterFloor: 0,
                                seed: UInt64(seed), now: Instant(nanoseconds: 1_000_000_000))
    }

    /// An ICMPv6 echo request from `source` to 2001:db8:ff::1.
    static func ping6(from source: IPv6Address) -> [UInt8] {
        [0x60, 0, 0, 0, 0, 8, 58, 64] + source.bytes + IPv6Address("2001:db8:ff::1")!.bytes + [128, 0, 0, 0, 0, 7, 0, 1]
    }

    /// An ICMP echo request between two IPv4 addresses (as mapped addresses).
    static func ping4(from s: IPv6Address, to d: IPv6Address) -> [UInt8] {
        [0x45, 0, 0, 28, 0, 1, 0, 0, 64, 1, 0, 0] + Array(s.bytes[12...]) + Array(d.bytes[12...]) + [8, 0, 0, 0, 0, 7, 0, 1]
    }

    /// A gateway unwraps a tunnelled packet only when the inner source is the sender's own mesh
    /// address (IPv6) or its derived lease (IPv4); spoofed ones are refused and counted. An IPv4 reply
    /// to a leased address is tunnelled back (counted), one to an unknown lease is dropped.
    @Test func gatewayChecksTheInnerSource() throws {
        let gateway = try Self.makeNode(1)
        gateway.gatewayRole = GatewayRole()
        let sender = IPv6Address("fd66:696c:616d:1::1")!
        let now = Instant(nanoseconds: 2_000_000_000)

        let good6 = try #require(GatewayTunnel.encapsulate(Self.ping6(from: sender), from: sender, to: gateway.meshAddress))
        #expect(gateway.forward(good6, now: now) == [.deliver(Self.ping6(from: sender))])
        let spoofed6 = try #require(GatewayTunnel.encapsulate(Self.ping6(from: IPv6Address("fd66:696c:616d:2::2")!), from: sender,
                                                              to: gateway.meshAddress))
        #expect(gateway.forward(spoofed6, now: now).isEmpty)
        #expect(gateway.counters.gatewayRejected == 1)

        let lease = GatewayTunnel.lease(for: sender)
        let internet = IPv6Address(ipv4: 203, 0, 113, 1)
        let good4 = try #require(GatewayTunnel.encapsulate(Self.ping4(from: lease, to: internet), from: sender, to: gateway.meshAddress))
        #expect(gateway.forward(good4, now: now) == [.deliver(Self.ping4(from: lease, to: internet))])
        let wrongLease = IPv6Address(high: 0, low: lease.low ^ 1)
        let spoofed4 = try #require(GatewayTunnel.encapsulate(Self.ping4(from: wrongLease, to: internet), from: sender, to: gateway.meshAddress))
        #expect(gateway.forward(spoofed4, now: now).isEmpty)
        #expect(gateway.counters.gatewayRejected == 2)
        #expect(gateway.counters.gatewayDecapsulated == 2)

        _ = gateway.forward(Self.ping4(from: internet, to: lease), now: now)
        #expect(gateway.counters.gatewayReturned == 1)
        _ = gateway.forward(Self.ping4(from: internet, to: wrongLease), now: now)
        #expect(gateway.counters.gatewayNoLease == 1)
    }

    /// A node that is not a gateway refuses tunnelled IPv6, and without a usable gateway drops
    /// internet-bound IPv4 (counted) instead of sending it anywhere.
    @Test func plainNodeRefusesTunnelAndHasNoGateway() throws {
        let node = try Self.makeNode(2)
        let sender = IPv6Address("fd66:696c:616d:1::1")!
        let now = Instant(nanoseconds: 2_000_000_000)
        let tunnelled = try #require(GatewayTunnel.encapsulate(Self.ping6(from: sender), from: sender, to: node.meshAddress))
        #expect(node.forward(tunnelled, now: now).isEmpty)
        #expect(node.counters.gatewayRejected == 1)
        #expect(node.forward(Self.ping4(from: node.ipv4Lease, to: IPv6Address(ipv4: 203, 0, 113, 1)), now: now).isEmpty)
        #expect(node.counters.gatewayNone == 1)
    }
}
