import FilamentCore
import FilamentEngine

/// What a node that is a gateway does with tunnelled packets (set by the daemon when `gateway:` is
/// configured).
public struct GatewayRole: Sendable {
    /// The IPv4 pool nodes lease from (they derive their address in `GatewayTunnel.defaultPool`).
    public var ipv4Pool: Prefix
    public var offersIPv6: Bool
    /// A lease unused this long is given up (its address may then go to a colliding node).
    public var leaseIdleTime: Interval = .seconds(300)
    public var maxLeases = 65_536
    public init(ipv4Pool: Prefix = GatewayTunnel.defaultPool, offersIPv6: Bool = true) {
        self.ipv4Pool = ipv4Pool; self.offersIPv6 = offersIPv6
    }
}

/// A leased IPv4 address: which node uses it, and when it was last used.
struct Lease {
    var owner: IPv6Address
    var lastUsed: Instant
}

// Gateway egress (decision 0810, docs/gateways.md). Node side: IPv4 packets and IPv6 packets to
// non-mesh destinations from the local stack go, tunnelled, to the gateway the engine picks for the
// flow. Gateway side: tunnelled packets addressed to this node are checked and unwrapped into the
// local stack (the kernel forwards and NATs them); IPv4 replies to a lease go back tunnelled.
extension FilamentNode {
    /// This node's IPv4 address behind a gateway (on `fil0` while a gateway is selected).
    public var ipv4Lease: IPv6Address { GatewayTunnel.lease(for: meshAddress) }

    /// A packet from the local stack that the mesh table does not route: to a gateway, or back
    /// tunnelled to a lease holder when this node is a gateway. Consumes the packet either way.
    func egress(_ packet: [UInt8], now: Instant, _ out: inout [NodeOutput]) {
        let isIPv4 = packet.first.map { $0 >> 4 == 4 } ?? false
        if isIPv4 {
            guard GatewayTunnel.isWellFormedIPv4(packet) else { counters.malformedIPPackets += 1; return }
            if let role = gatewayRole {
                let destination = GatewayTunnel.ipv4Address(packet, at: 16)
                if role.ipv4Pool.contains(destination) {
                    guard let lease = leases[destination], now - lease.lastUsed < role.leaseIdleTime else {
                        counters.gatewayNoLease += 1; return
                    }
                    guard let outer = GatewayTunnel.encapsulate(packet, from: meshAddress, to: lease.owner) else { return }
                    counters.gatewayReturned += 1
                    route(outer, fromNeighbour: false, now: now, &out)
                    return
                }
            }
        }
        let hash = GatewayTunnel.flowHash(packet)
        guard let gateway = engine.gateway(forFlow: hash, now: now) else {
            counters.gatewayNone += 1
            if !isIPv4 { sendError(.noRoute, about: packet, now: now, &out) }
            return
        }
        let target = gateway.meshAddress
        // The tunnel costs 40 bytes: a packet that would not fit the next link once wrapped is refused
        // here, so the sender learns the path MTU for its own destination (IPv6); IPv4 is dropped (counted).
        if let entry = engine.lookup(target), let mtu = interfaceMTUs[entry.nextHop.interface] {
            let limit = mtu - FilamentNode.encapsulationOverhead - 40
            if packet.count > limit {
                counters.tooBig += 1
                if !isIPv4 {
                    sendError(.packetTooBig(mtu: max(1280, limit)), about: packet, now: now, &out)
                } else if let reply = fragmentationNeeded(about: packet, mtu: limit, now: now) {
                    counters.icmpErrorsSent += 1
                    out.append(.deliver(reply))
                }
                return
            }
        }
        guard target != meshAddress, let outer = GatewayTunnel.encapsulate(packet, from: meshAddress, to: target) else {
            counters.gatewayNone += 1; return
        }
        counters.gatewayEgress += 1
        route(outer, fromNeighbour: false, now: now, &out)
    }

    /// A packet addressed to this node with next header 4 or 41: unwrapped if it is a valid tunnelled
    /// packet (gateway: from a mesh node, inner source its own mesh address or lease; node: an IPv4
    /// reply to our lease from a mesh node). Returns whether it was a tunnel packet (consumed).
    func decapsulate(_ packet: [UInt8], now: Instant, _ out: inout [NodeOutput]) -> Bool {
        guard packet.count >= 40 else { return false }
        let nextHeader = packet[6]
        guard nextHeader == GatewayTunnel.ipv4NextHeader || nextHeader == GatewayTunnel.ipv6NextHeader else { return false }
        let length = 40 + IPv6Packet.payloadLength(packet)
        guard length <= packet.count, let source = IPv6Packet.source(of: packet), MeshPrefix.prefix.contains(source) else {
            counters.gatewayRejected += 1; return true
        }
        let inner = Array(packet[40..<length])
        if nextHeader == GatewayTunnel.ipv6NextHeader {
            guard let role = gatewayRole, role.offersIPv6, IPv6Packet.isWellFormed(inner),
                  IPv6Packet.source(of: inner) == source else { counters.gatewayRejected += 1; return true }
        } else {
            guard GatewayTunnel.isWellFormedIPv4(inner) else { counters.gatewayRejected += 1; return true }
            let innerSource = GatewayTunnel.ipv4Address(inner, at: 12)
            let innerDestination = GatewayTunnel.ipv4Address(inner, at: 16)
            if let role = gatewayRole, innerDestination != ipv4Lease {
                // Gateway: the inner source must be the lease the sender derives from its key.
                guard innerSource == GatewayTunnel.lease(for: source, in: GatewayTunnel.defaultPool), role.ipv4Pool.contains(innerSource)
                else { counters.gatewayRejected += 1; return true }
                if let held = leases[innerSource], held.owner != source, now - held.lastUsed < role.leaseIdleTime {
                    counters.leaseCollisions += 1; return true
                }
                if leases[innerSource] == nil, leases.count >= role.maxLeases {
                    leases = leases.filter { now - $0.value.lastUsed < role.leaseIdleTime }
                    guard leases.count < role.maxLeases else { counters.gatewayRejected += 1; return true }
                }
                leases[innerSource] = Lease(owner: source, lastUsed: now)
            } else {
                // Node: an IPv4 reply for our lease.
                guard innerDestination == ipv4Lease else { counters.gatewayRejected += 1; return true }
            }
        }
        counters.gatewayDecapsulated += 1
        out.append(.deliver(inner))
        return true
    }

    /// ICMP "fragmentation needed" (type 3 code 4, RFC 1191) about an IPv4 packet with DF set, to the
    /// local stack, from the IPv4 dummy address 192.0.0.8 (RFC 7600), within the ICMP rate limit. The
    /// sender's kernel then lowers its path MTU for that destination (TCP shrinks its segments).
    func fragmentationNeeded(about packet: [UInt8], mtu: Int, now: Instant) -> [UInt8]? {
        guard packet.count >= 28, packet[6] & 0x40 != 0, packet[9] != 1 || packet[20] == 8 || packet[20] == 0 else {
            counters.icmpErrorsSuppressed += 1; return nil
        }
        if now - icmpRefilledAt >= .seconds(1) { icmpTokens = icmpErrorsPerSecond; icmpRefilledAt = now }
        guard icmpTokens > 0 else { counters.icmpErrorsSuppressed += 1; return nil }
        icmpTokens -= 1
        let quoted = Array(packet[0..<min(packet.count, Int(packet[0] & 0x0F) * 4 + 8)])
        var icmp: [UInt8] = [3, 4, 0, 0, 0, 0, UInt8(mtu >> 8), UInt8(mtu & 0xFF)] + quoted
        let c = Self.checksum(icmp)
        icmp[2] = UInt8(c >> 8); icmp[3] = UInt8(c & 0xFF)
        let total = 20 + icmp.count
        var ip: [UInt8] = [0x45, 0, UInt8(total >> 8), UInt8(total & 0xFF), 0, 0, 0, 0, 64, 1, 0, 0, 192, 0, 0, 8]
        ip += Array(packet[12..<16])
        let h = Self.checksum(ip)
        ip[10] = UInt8(h >> 8); ip[11] = UInt8(h & 0xFF)
        return ip + icmp
    }

    /// The Internet checksum (RFC 1071).
    static func checksum(_ b: [UInt8]) -> UInt16 {
        UInt16(bigEndian: ~InternetChecksum.fold(b.withUnsafeBytes { InternetChecksum.sum($0) }))
    }
}
