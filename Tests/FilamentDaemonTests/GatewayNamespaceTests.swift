import Foundation
import Glibc
import Testing

/// Gateway mode with real `filamentd` binaries in namespaces `filg-<pid>-*` (needs root). The
/// "internet" is one more namespace with documentation-range addresses only; its target addresses
/// (203.0.113.1, 2001:db8:ff::1) sit on its loopback, and nothing is routed out of the test world.
@Suite(.serialized, .enabled(if: DaemonLab.available, DaemonLab.skipMessage))
struct GatewayNamespaceTests {
    static let target4 = "203.0.113.1"
    static let target6 = "2001:db8:ff::1"

    /// Makes namespace `internet` the internet and connects gateway namespace `gateway` to it by a
    /// veth pair (`up<gateway>` on the gateway, not matched by the mesh pattern `v*`), with default
    /// routes through it. `subnet` picks the uplink's addresses: 192.0.2.0/24 or 198.51.100.0/24.
    static func uplink(_ lab: DaemonLab, gateway: Int, internet: Int, subnet: Int) throws {
        let (v4, v6) = subnet == 1 ? ("192.0.2", "2001:db8:1::") : ("198.51.100", "2001:db8:2::")
        let gw = lab.namespace(gateway), net = lab.namespace(internet)
        try DaemonLab.sh(["ip", "link", "add", "up\(gateway)", "netns", gw, "type", "veth", "peer", "name", "net\(gateway)", "netns", net])
        try DaemonLab.sh(["ip", "-n", gw, "link", "set", "up\(gateway)", "up"])
        try DaemonLab.sh(["ip", "-n", net, "link", "set", "net\(gateway)", "up"])
        try DaemonLab.sh(["ip", "-n", gw, "addr", "add", "\(v4).2/24", "dev", "up\(gateway)"])
        try DaemonLab.sh(["ip", "-n", gw, "addr", "add", "\(v6)2/64", "dev", "up\(gateway)", "nodad"])
        try DaemonLab.sh(["ip", "-n", net, "addr", "add", "\(v4).1/24", "dev", "net\(gateway)"])
        try DaemonLab.sh(["ip", "-n", net, "addr", "add", "\(v6)1/64", "dev", "net\(gateway)", "nodad"])
        try DaemonLab.sh(["ip", "-n", gw, "route", "add", "default", "via", "\(v4).1"])
        try DaemonLab.sh(["ip", "-n", gw, "-6", "route", "add", "default", "via", "\(v6)1"])
        _ = try? DaemonLab.sh(["ip", "-n", net, "addr", "add", "\(target4)/32", "dev", "lo"])
        _ = try? DaemonLab.sh(["ip", "-n", net, "addr", "add", "\(target6)/128", "dev", "lo"])
    }

    static func ping(_ lab: DaemonLab, from i: Int, _ address: String, family: String, pattern: String? = nil) -> String? {
        var args = ["ip", "netns", "exec", lab.namespace(i), "ping", family, "-n", "-c", "1", "-W", "1"]
        if let pattern { args += ["-p", pattern, "-s", "64"] }
        return try? DaemonLab.sh(args + [address], timeout: 5)
    }

    static func selectedGateway(_ lab: DaemonLab, _ i: Int) -> String? {
        (lab.status(i)?["gateway"] as? [String: Any])?["node_id"] as? String
    }

    /// A line of four daemons with a gateway at the end: the far node pings an internet host over IPv6
    /// and IPv4 (through the tunnel, its derived lease and the gateway's NAT table); a capture on a
    /// mesh link holds no plaintext of the ping's payload; a flood of malformed datagrams at the UDP
    /// port crashes nothing and pings still work; a 1400-byte IPv6 ping gets through after packet too big,
    /// 2 MB of IPv4 TCP after fragmentation needed; without a default route on the uplink the gateway withdraws and node 1's default routes
    /// go, and come back with it; the NAT table is gone after SIGTERM.
    @Test func farNodeReachesTheInternetThroughTheGateway() throws {
        let lab = try DaemonLab(tag: "line", count: 5, linked: false, prefix: "filg")
        defer { lab.close() }
        for i in 1...3 { try lab.link(i) }
        try Self.uplink(lab, gateway: 4, internet: 5, subnet: 1)
        for i in 1...3 { try lab.start(i) }
        try lab.start(4, extra: ["--gateway-uplink", "up4", "--gateway-bandwidth", "100M/20M"])

        let gatewayID = try #require(DaemonLab.waitUntil(seconds: 10) { lab.status(4) != nil } ? lab.status(4)?["node_id"] as? String : nil)
        let chosen = DaemonLab.waitUntil(seconds: 30) { Self.selectedGateway(lab, 1) == gatewayID }
        #expect(chosen, "node 1 did not select the gateway:\n\(lab.log(1))\n\(lab.log(4))")
        let table = try? DaemonLab.sh(["ip", "netns", "exec", lab.namespace(4), "nft", "list", "table", "inet", "filament"])
        #expect(table?.contains("masquerade") == true, "no NAT table: \(table ?? "none")\n\(lab.log(4))")

        var reply6: String?
        let start = Date()
        _ = DaemonLab.waitUntil(seconds: 15) { reply6 = Self.ping(lab, from: 1, Self.target6, family: "-6"); return reply6 != nil }
        #expect(reply6 != nil, "no IPv6 reply from the internet host:\n\(lab.log(1))\n\(lab.log(4))")
        print("gateway: first IPv6 reply \(Date().timeIntervalSince(start)) s after selection")
        var reply4: String?
        _ = DaemonLab.waitUntil(seconds: 10) { reply4 = Self.ping(lab, from: 1, Self.target4, family: "-4"); return reply4 != nil }
        #expect(reply4 != nil, "no IPv4 reply from the internet host:\n\(lab.log(1))\n\(lab.log(4))")

        // A packet too big for the tunnel: ICMPv6 packet too big to the sender, which then fragments.
        let big = DaemonLab.waitUntil(seconds: 10) {
            (try? DaemonLab.sh(["ip", "netns", "exec", lab.namespace(1), "ping", "-6", "-n", "-c", "1", "-W", "1", "-s", "1400", Self.target6], timeout: 5)) != nil
        }
        #expect(big, "1400-byte pings through the tunnel never got through")
        // Full-size IPv4 TCP segments (DF) need "fragmentation needed" from node 1's daemon: 2 MB over TCP.
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        server.arguments = ["netns", "exec", lab.namespace(5), "timeout", "-s", "KILL", "20", "iperf3", "-s", "-1"]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        usleep(700_000)
        let tcp4 = try? DaemonLab.sh(["ip", "netns", "exec", lab.namespace(1), "iperf3", "-c", Self.target4, "-n", "2M"], timeout: 15)
        server.waitUntilExit()
        #expect(tcp4?.contains("receiver") == true, "2 MB over IPv4 TCP did not get through: \(tcp4 ?? "failed")")

        // No plaintext on a mesh link: capture between nodes 2 and 3 while node 1 pings with a pattern.
        let pattern = "c0ffee5a17ed0d1e"
        let capture = "\(lab.directory)/mesh.pcap"
        let tcpdump = Process()
        tcpdump.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        tcpdump.arguments = ["netns", "exec", lab.namespace(2), "timeout", "-s", "KILL", "6",
                             "tcpdump", "-i", "v2r", "-U", "-w", capture, "-s", "0", "udp"]
        tcpdump.standardOutput = FileHandle.nullDevice
        tcpdump.standardError = FileHandle.nullDevice
        try tcpdump.run()
        usleep(1_500_000)
        var patterned = 0
        for _ in 0..<5 where Self.ping(lab, from: 1, Self.target6, family: "-6", pattern: pattern) != nil { patterned += 1 }
        for _ in 0..<5 where Self.ping(lab, from: 1, Self.target4, family: "-4", pattern: pattern) != nil { patterned += 1 }
        tcpdump.waitUntilExit()  // bounded: timeout kills tcpdump after 6 s
        let bytes = [UInt8]((try? Data(contentsOf: URL(fileURLWithPath: capture))) ?? Data())
        let needle: [UInt8] = stride(from: 0, to: pattern.count, by: 2).map {
            let s = pattern.index(pattern.startIndex, offsetBy: $0)
            return UInt8(pattern[s..<pattern.index(s, offsetBy: 2)], radix: 16)!
        }
        #expect(patterned >= 8, "pings with the pattern failed")
        #expect(bytes.count > 10 * 100, "the capture is too small to hold the pings (\(bytes.count) bytes)")
        let found = bytes.count >= needle.count && (0...(bytes.count - needle.count)).contains { i in
            bytes[i..<(i + needle.count)].elementsEqual(needle)
        }
        #expect(!found, "the ping payload appears in the clear on the mesh link")

        // A flood of malformed datagrams (random bytes, each frame type with garbage) at node 3's port.
        let flood = """
        import os, socket, random
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        idx = socket.if_nametoindex('v2r')
        random.seed(7)
        for i in range(20000):
            n = random.randint(0, 1400)
            b = bytes([i % 24]) + os.urandom(n)
            try: s.sendto(b, ('ff02::114', 6717, 0, idx))
            except OSError: pass
        """
        try DaemonLab.sh(["ip", "netns", "exec", lab.namespace(2), "python3", "-c", flood], timeout: 60)
        for i in 1...4 { #expect(lab.daemons[i]?.isRunning == true, "daemon \(i) died:\n\(lab.log(i))") }
        let after = DaemonLab.waitUntil(seconds: 10) { Self.ping(lab, from: 1, Self.target6, family: "-6") != nil }
        #expect(after, "no IPv6 reply after the flood")

        // Uplink health: without a default route through the uplink the gateway withdraws, node 1 has no
        // gateway and its default routes into fil0 go; with the routes back it returns.
        try DaemonLab.sh(["ip", "-n", lab.namespace(4), "route", "del", "default"])
        try DaemonLab.sh(["ip", "-n", lab.namespace(4), "-6", "route", "del", "default"])
        let withdrawn = DaemonLab.waitUntil(seconds: 10) {
            Self.selectedGateway(lab, 1) == nil && (try? DaemonLab.sh(["ip", "-n", lab.namespace(1), "route", "show", "default"]))?.isEmpty == true
        }
        #expect(withdrawn, "node 1 still uses the gateway without an uplink:\n\(lab.log(4))")
        try DaemonLab.sh(["ip", "-n", lab.namespace(4), "route", "add", "default", "via", "192.0.2.1"])
        let restored = DaemonLab.waitUntil(seconds: 10) { Self.ping(lab, from: 1, Self.target4, family: "-4") != nil }
        #expect(restored, "no IPv4 reply after the uplink came back:\n\(lab.log(1))")

        #expect(lab.stop(4) == 0)
        let gone = try? DaemonLab.sh(["ip", "netns", "exec", lab.namespace(4), "nft", "list", "table", "inet", "filament"])
        #expect(gone == nil, "the NAT table is still there after SIGTERM")
    }

    /// Two gateways behind node 3 of a line: draining the one node 1 uses moves node 1's new flows to
    /// the other; undrained and then the one in use killed (SIGKILL, silent), node 1's pings work again
    /// through the remaining gateway within 15 s (the time is printed).
    @Test func drainAndFailoverMoveTrafficToTheOtherGateway() throws {
        let lab = try DaemonLab(tag: "two", count: 6, linked: false, prefix: "filg")
        defer { lab.close() }
        for i in 1...3 { try lab.link(i) }
        try DaemonLab.sh(["ip", "link", "add", "v3b", "netns", lab.namespace(3), "type", "veth", "peer", "name", "v5l", "netns", lab.namespace(5)])
        try DaemonLab.sh(["ip", "-n", lab.namespace(3), "link", "set", "v3b", "up"])
        try DaemonLab.sh(["ip", "-n", lab.namespace(5), "link", "set", "v5l", "up"])
        try Self.uplink(lab, gateway: 4, internet: 6, subnet: 1)
        try Self.uplink(lab, gateway: 5, internet: 6, subnet: 2)
        for i in 1...3 { try lab.start(i) }
        for g in [4, 5] { try lab.start(g, extra: ["--gateway-uplink", "up\(g)", "--gateway-bandwidth", "100M/20M"]) }
        var ids: [Int: String] = [:]
        _ = DaemonLab.waitUntil(seconds: 10) {
            for g in [4, 5] { ids[g] = lab.status(g)?["node_id"] as? String }
            return ids.count == 2
        }
        #expect(ids.count == 2)
        let both = DaemonLab.waitUntil(seconds: 30) { (lab.control(1, "gateways") as? [[String: Any]])?.count == 2 }
        #expect(both, "node 1 does not know both gateways:\n\(lab.log(1))")
        let first = DaemonLab.waitUntil(seconds: 15) { Self.ping(lab, from: 1, Self.target6, family: "-6") != nil }
        #expect(first, "no IPv6 reply through either gateway:\n\(lab.log(1))")
        let selected = try #require(Self.selectedGateway(lab, 1))
        let used = ids[4] == selected ? 4 : 5, other = used == 4 ? 5 : 4

        // Drain: new flows (and the selection) move to the other gateway.
        _ = lab.rawRequest(used, "drain")
        let moved = DaemonLab.waitUntil(seconds: 10) { Self.selectedGateway(lab, 1) == ids[other] }
        #expect(moved, "node 1 still selects the drained gateway:\n\(lab.log(1))")
        #expect(DaemonLab.waitUntil(seconds: 5) { Self.ping(lab, from: 1, Self.target4, family: "-4") != nil })
        _ = lab.rawRequest(used, "undrain")

        // Failover: the gateway now in use dies silently; traffic moves to the remaining one.
        kill(lab.daemons[other]!.processIdentifier, SIGKILL)
        let killedAt = Date()
        let back = DaemonLab.waitUntil(seconds: 15) { Self.ping(lab, from: 1, Self.target6, family: "-6") != nil }
        #expect(back, "no reply after the gateway in use died:\n\(lab.log(1))")
        print("gateway failover: IPv6 ping answered again \(Date().timeIntervalSince(killedAt)) s after SIGKILL")
        let reselected = DaemonLab.waitUntil(seconds: 10) { Self.selectedGateway(lab, 1) == ids[used] }
        #expect(reselected, "node 1 still selects the dead gateway")
        print("gateway failover: selection moved \(Date().timeIntervalSince(killedAt)) s after SIGKILL")
        #expect(DaemonLab.waitUntil(seconds: 5) { Self.ping(lab, from: 1, Self.target4, family: "-4") != nil })
    }

    /// A gateway configured by file with `gateway.probe`: healthy (node 1 reaches the internet) while the
    /// probe address answers on the uplink; withdrawn (node 1 has no gateway) when it stops answering
    /// although the default route is still there; back when it answers again.
    @Test func probeDecidesUplinkHealth() throws {
        let lab = try DaemonLab(tag: "probe", count: 3, linked: false, prefix: "filg")
        defer { lab.close() }
        try lab.link(1)
        try Self.uplink(lab, gateway: 2, internet: 3, subnet: 1)
        try lab.start(1)
        let config = "\(lab.directory)/gateway.yaml"
        try """
        interfaces:
          - "v*"
        gateway:
          uplink: up2
          bandwidth: 100M/20M
          probe: 203.0.113.1
        """.write(toFile: config, atomically: true, encoding: .utf8)
        try lab.start(2, extra: ["--config", config])
        let up = DaemonLab.waitUntil(seconds: 20) { Self.ping(lab, from: 1, Self.target4, family: "-4") != nil }
        #expect(up, "no IPv4 reply through the probed gateway:\n\(lab.log(2))")
        try DaemonLab.sh(["ip", "-n", lab.namespace(3), "addr", "del", "\(Self.target4)/32", "dev", "lo"])
        let withdrawn = DaemonLab.waitUntil(seconds: 15) { Self.selectedGateway(lab, 1) == nil }
        #expect(withdrawn, "the gateway stayed selected without probe answers:\n\(lab.log(2))")
        try DaemonLab.sh(["ip", "-n", lab.namespace(3), "addr", "add", "\(Self.target4)/32", "dev", "lo"])
        let back = DaemonLab.waitUntil(seconds: 15) { Self.selectedGateway(lab, 1) != nil }
        #expect(back, "the gateway did not come back with the probe answering:\n\(lab.log(2))")
    }
}
