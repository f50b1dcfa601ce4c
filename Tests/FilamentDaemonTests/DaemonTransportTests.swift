import Foundation
import Glibc
import Testing

/// filamentd's data-path options in network namespaces (needs root; skipped otherwise): the raw
/// Ethernet transport and a TUN MTU above the link MTU (outer fragmentation).
@Suite(.serialized, .enabled(if: DaemonLab.available, DaemonLab.skipMessage))
struct DaemonTransportTests {
    /// Three daemons whose veths have IPv6 switched off (so UDP cannot work) mesh over raw Ethernet
    /// only, configured per interface in the file (`transport: ethernet`): neighbours form, ping6
    /// crosses two hops, and the traffic went through the AF_PACKET sockets.
    @Test func rawEthernetOnlyLineMeshesAndPings() throws {
        let lab = try DaemonLab(tag: "eth", count: 3)
        defer { lab.close() }
        let config = "\(lab.directory)/ethernet.yaml"
        try "interfaces:\n  - name: \"v*\"\n    transport: ethernet\n".write(toFile: config, atomically: true, encoding: .utf8)
        for (i, name) in [(1, "v1r"), (2, "v2l"), (2, "v2r"), (3, "v3l")] {
            try DaemonLab.sh(["ip", "netns", "exec", lab.namespace(i), "sysctl", "-qw", "net.ipv6.conf.\(name).disable_ipv6=1"])
        }
        for i in 1...3 { try lab.start(i, extra: ["--config", config]) }
        let formed = DaemonLab.waitUntil(seconds: 10) {
            lab.neighbours(1)?.count == 1 && lab.neighbours(2)?.count == 2 && lab.neighbours(3)?.count == 1
        }
        #expect(formed, "neighbours did not form over raw Ethernet:\n\(lab.log(2))")
        #expect(lab.log(2).contains("mesh interface v2l up (raw Ethernet"))
        let address3 = try #require(lab.status(3)?["address"] as? String)
        var reply: String?
        _ = DaemonLab.waitUntil(seconds: 10) { reply = lab.ping(from: 1, address3); return reply != nil }
        let text = try #require(reply, "no ping reply over raw Ethernet:\n\(lab.log(1))")
        #expect(text.contains("ttl=63"), "expected one forwarding hop: \(text)")
        let counters = try #require(lab.rawRequest(2, "counters")?["result"] as? [String: Any])
        #expect((counters["ethernet.v2l.received"] as? Int ?? 0) > 0, "\(counters)")
        #expect((counters["ethernet.v2r.sent"] as? Int ?? 0) > 0)
        #expect(counters.keys.allSatisfy { !$0.hasPrefix("udp.") })
        #expect((counters["node.forwarded"] as? Int ?? 0) >= 2)
        // Short frames (keepalives) are padded by Ethernet; the length prefix keeps their tags valid.
        #expect((counters["link.drops.decryptFailure"] as? Int ?? 0) == 0, "\(counters)")
        #expect((counters["ethernet.v2l.droppedOther"] as? Int ?? 0) == 0)
    }

    /// With `--tun-mtu 9000` on 1500-byte veths, an 8,000-byte ping crosses two hops: the encapsulated
    /// frames are fragmented by the kernel and reassembled at each hop instead of being refused with
    /// ICMPv6 packet too big.
    @Test func tunMTUAboveLinkMTUFragmentsOuterFrames() throws {
        let lab = try DaemonLab(tag: "jumbo", count: 3)
        defer { lab.close() }
        for i in 1...3 { try lab.start(i, extra: ["--tun-mtu", "9000"]) }
        #expect(DaemonLab.waitUntil(seconds: 10) { lab.neighbours(2)?.count == 2 }, "\(lab.log(2))")
        let address3 = try #require(lab.status(3)?["address"] as? String)
        #expect(DaemonLab.waitUntil(seconds: 10) { lab.ping(from: 1, address3) != nil })
        let big = try? DaemonLab.sh(["ip", "netns", "exec", lab.namespace(1), "ping", "-6", "-n", "-c", "2", "-W", "2",
                                     "-s", "8000", "-M", "do", address3], timeout: 10)
        #expect(big?.contains("8008 bytes from") == true, "no 8,000-byte reply: \(big ?? "failed")\n\(lab.log(2))")
        #expect(lab.log(1).contains("frames up to 9081 fragmented"))
        let counters = try #require(lab.rawRequest(2, "counters")?["result"] as? [String: Any])
        #expect((counters["node.tooBig"] as? Int ?? 0) == 0)
    }
}
