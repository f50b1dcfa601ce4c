import Foundation
import Glibc
import Testing

/// A gateway's advertised load follows its uplink's traffic (needs root; skipped otherwise).
@Suite(.serialized, .enabled(if: DaemonLab.available, DaemonLab.skipMessage))
struct GatewayLoadNamespaceTests {
    /// A gateway configured with a 1 Mbit/s uplink advertises load 0 while idle; after a few seconds of
    /// about 1 Mbit/s of pings over its uplink the node beside it sees a load of at least 50 in the
    /// gateway's advert.
    @Test func advertisedLoadFollowsUplinkTraffic() throws {
        let lab = try DaemonLab(tag: "load", count: 3, linked: false, prefix: "filg")
        defer { lab.close() }
        try lab.link(1)
        try GatewayNamespaceTests.uplink(lab, gateway: 2, internet: 3, subnet: 1)
        try lab.start(1)
        try lab.start(2, extra: ["--gateway-uplink", "up2", "--gateway-bandwidth", "1M/1M"])
        func load() -> Int? {
            (lab.control(1, "gateways") as? [[String: Any]])?.first?["load"] as? Int
        }
        #expect(DaemonLab.waitUntil(seconds: 20) { load() != nil }, "node 1 never heard the gateway:\n\(lab.log(2))")
        #expect(load() ?? -1 < 10, "an idle uplink should advertise no load")
        // ~100 pings/s of 1,400 bytes each way: about 1.1 Mbit/s on the 1 Mbit/s uplink, for 8 s.
        let flood = Process()
        flood.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        flood.arguments = ["netns", "exec", lab.namespace(2), "timeout", "-s", "KILL", "12", "ping", "-q", "-n",
                           "-i", "0.01", "-s", "1400", "-c", "800", "192.0.2.1"]
        flood.standardOutput = FileHandle.nullDevice
        flood.standardError = FileHandle.nullDevice
        try flood.run()
        defer { if flood.isRunning { kill(flood.processIdentifier, SIGKILL) }; flood.waitUntilExit() }
        let loaded = DaemonLab.waitUntil(seconds: 15) { (load() ?? 0) >= 50 }
        #expect(loaded, "advertised load stayed at \(load() ?? -1):\n\(lab.log(2))")
    }
}
