import FilamentCore
import FilamentLinux
import Testing
@testable import FilamentDaemon

struct DaemonMTUTests {
    static func link(_ index: UInt32, _ name: String, mtu: Int) -> LinkInfo {
        LinkInfo(interface: InterfaceID(index), name: name, isAdministrativelyUp: true, hasCarrier: true, mtu: mtu)
    }

    /// `tun.mtu: auto` is the smallest matching link's MTU minus 81 (UDP) or 35 (raw Ethernet), at least 1280.
    @Test func automaticTunMTUPerTransport() {
        let links = [Self.link(2, "wlan0", mtu: 1500), Self.link(3, "eth0", mtu: 1500), Self.link(4, "eth1", mtu: 1400)]
        let none = InterfaceMatcher([])
        #expect(DaemonRuntime.automaticTunMTU(links: links, udp: InterfaceMatcher(["wlan*"]), ethernet: none) == 1419)
        #expect(DaemonRuntime.automaticTunMTU(links: links, udp: none, ethernet: InterfaceMatcher(["eth0"])) == 1465)
        #expect(DaemonRuntime.automaticTunMTU(links: links, udp: InterfaceMatcher(["wlan0"]), ethernet: InterfaceMatcher(["eth*"])) == 1365)
        // A link matched by both patterns counts as UDP (UDP wins).
        #expect(DaemonRuntime.automaticTunMTU(links: links, udp: InterfaceMatcher(["eth0"]), ethernet: InterfaceMatcher(["eth0"])) == 1419)
        #expect(DaemonRuntime.automaticTunMTU(links: links, udp: none, ethernet: none) == 1280)
        #expect(DaemonRuntime.automaticTunMTU(links: [Self.link(2, "wlan0", mtu: 1300)], udp: InterfaceMatcher(["*"]), ethernet: none) == 1280)
    }

    /// The TUN read buffer holds one packet of the TUN MTU plus a byte, between 4 KB and 64 KB.
    @Test func tunBufferSize() {
        #expect(DaemonRuntime.tunBufferSize(mtu: 1419) == 4096)
        #expect(DaemonRuntime.tunBufferSize(mtu: 9000) == 9001)
        #expect(DaemonRuntime.tunBufferSize(mtu: 65535) == 65536)
    }
}
