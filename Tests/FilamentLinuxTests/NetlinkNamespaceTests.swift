import FilamentCore
import FilamentLinux
import Foundation
import Glibc
import Testing

/// TUN, netlink commands and the netlink monitor, inside namespaces the tests create.
@Suite(.enabled(if: TestNamespaces.available, TestNamespaces.skipMessage))
struct NetlinkNamespaceTests {
    /// A TUN device gets MTU, up state, an address and a route through netlink, and a datagram the
    /// kernel routes into it is read from it intact (source = the added address, destination, port).
    @Test func tunReceivesRoutedPacket() throws {
        try TestNamespaces.withNamespace("tun") { ns in
            let (tun, netlink) = try NetworkNamespace.run(ns) { (try TunDevice(name: "fil0"), try Netlink()) }
            #expect(tun.name == "fil0")
            try NetworkNamespace.run(ns) {
                try netlink.setLink(tun.interface, up: true, mtu: 1400)
                try netlink.addAddress(IPv6Address("fd00:f11::1")!, prefixLength: 128, interface: tun.interface, skipDAD: true)
                try netlink.replaceRoute(KernelRoute(prefix: Prefix("fd99::/64")!, interface: tun.interface))
            }
            let link = try netlink.link(tun.interface)
            #expect(link?.mtu == 1400)
            #expect(link?.isAdministrativelyUp == true)
            #expect(try TestNamespaces.sh(["ip", "-n", ns, "-6", "route", "show", "fd99::/64"]).contains("dev fil0"))

            // A datagram from an ordinary socket in the namespace: the kernel routes it into fil0.
            try NetworkNamespace.run(ns) {
                try sendPlainUDP(to: IPv6Address("fd99::5")!, scope: nil, port: 4242, hopLimit: 64)
            }
            let loop = try EventLoop(signals: [])
            try loop.watch(tun.fileDescriptor, token: 7)
            var packets: [[UInt8]] = []
            // The kernel also sends its own router solicitations into fil0: wait for our datagram.
            let isOurs = { (p: [UInt8]) in p.count >= 49 && p[0] >> 4 == 6 && p[6] == 17 }
            try loop.run(seconds: 5, until: { packets.contains(where: isOurs) }) { _ in
                try tun.receive { packets.append(Array($0)) }
            }
            let p = try #require(packets.first(where: isOurs))
            #expect(IPv6Address(bytes: p[8..<24]) == IPv6Address("fd00:f11::1"), "source: the address we added")
            #expect(IPv6Address(bytes: p[24..<40]) == IPv6Address("fd99::5"))
            #expect(UInt16(p[42]) << 8 | UInt16(p[43]) == 4242, "UDP destination port")
            #expect(p[48] == 0x78, "payload")
            // Writing a packet back is accepted by the device.
            #expect(try p.withUnsafeBytes { try tun.write($0) })
        }
    }

    /// veth, loopback and TUN are wired for the link-cost choice (decision 0815), and an unknown name is not
    /// a radio. (No wireless device can be made here: mac80211_hwsim is not in this kernel.)
    @Test func wirelessProbeSaysWiredForVethAndTun() throws {
        try TestNamespaces.withPair("wifi") { a, _ in
            try NetworkNamespace.run(a) {
                _ = try NetworkInterface.index(named: "va1")
                #expect(!WirelessProbe.isWireless("va1"))
                #expect(!WirelessProbe.isWireless("lo"))
                let tun = try TunDevice(name: "fil0")
                defer { tun.close() }
                #expect(!WirelessProbe.isWireless("fil0"))
                #expect(!WirelessProbe.isWireless("nosuch0"))
                #expect(!WirelessProbe.isWireless("../x"))
            }
        }
    }

    /// Replacing a route changes its next hop in place: `ip -6 route` shows only the new next hop and
    /// the monitor sees added then changed, never removed (no gap). IPv4 routes replace too.
    @Test func routeReplaceWithoutGap() throws {
        try TestNamespaces.withPair("route") { a, _ in
            let (netlink, monitor) = try NetworkNamespace.run(a) { (try Netlink(), try NetlinkMonitor()) }
            let va = try NetworkNamespace.run(a) { try NetworkInterface.index(named: "va1") }
            try monitor.synchronise { _ in }
            let prefix = Prefix("fd77::/64")!
            try NetworkNamespace.run(a) {
                try netlink.replaceRoute(KernelRoute(prefix: prefix, interface: va, gateway: IPv6Address("fe80::b1")!, metric: 100))
            }
            #expect(try TestNamespaces.sh(["ip", "-n", a, "-6", "route", "show", "fd77::/64"]).contains("via fe80::b1"))
            try NetworkNamespace.run(a) {
                try netlink.replaceRoute(KernelRoute(prefix: prefix, interface: va, gateway: IPv6Address("fe80::c1")!, metric: 100))
            }
            let shown = try TestNamespaces.sh(["ip", "-n", a, "-6", "route", "show", "fd77::/64"])
            #expect(shown.contains("via fe80::c1") && !shown.contains("fe80::b1"), "\(shown)")
            #expect(shown.split(separator: "\n").count == 1, "\(shown)")
            #expect(shown.contains("proto 70"), "\(shown)")

            // IPv4 (TEST-NET-1, never routed anywhere): device route, then via a gateway, then delete.
            let v4 = Prefix("192.0.2.0/24")!
            try NetworkNamespace.run(a) {
                try netlink.addAddress(IPv6Address("198.51.100.1")!, prefixLength: 24, interface: va)
                try netlink.replaceRoute(KernelRoute(prefix: v4, interface: va, metric: 10))
                try netlink.replaceRoute(KernelRoute(prefix: v4, interface: va, gateway: IPv6Address("198.51.100.2")!, metric: 10))
            }
            #expect(try TestNamespaces.sh(["ip", "-n", a, "route", "show", "192.0.2.0/24"]).contains("via 198.51.100.2"))

            var events: [NetworkEvent] = []
            let loop = try EventLoop(signals: [])
            try loop.watch(monitor.fileDescriptor, token: 1)
            let want = 2 + 2  // v6 added+changed, v4 added+changed
            try loop.run(seconds: 5, until: { events.filter(\.isRouteEvent).count >= want }) { _ in
                try monitor.receive { events.append($0) }
            }
            let routeEvents = events.filter(\.isRouteEvent)
            #expect(!routeEvents.contains { if case .routeRemoved = $0 { true } else { false } }, "\(routeEvents)")
            let v6 = routeEvents.compactMap { e -> String? in
                switch e {
                case .routeAdded(let r) where r.prefix == prefix: "added \(r.gateway!)"
                case .routeChanged(let r) where r.prefix == prefix: "changed \(r.gateway!)"
                default: nil
                }
            }
            #expect(v6 == ["added fe80::b1", "changed fe80::c1"])
            try NetworkNamespace.run(a) { try netlink.deleteRoute(KernelRoute(prefix: v4, interface: va, metric: 10)) }
            #expect(try TestNamespaces.sh(["ip", "-n", a, "route", "show", "192.0.2.0/24"]).isEmpty)
        }
    }

    /// The monitor reports a veth going down and up, an address added (tentative while DAD runs, then
    /// not) and removed, a default route appearing and disappearing, and interfaces appearing/disappearing.
    @Test func monitorReportsLinkAddressAndDefaultRoute() throws {
        try TestNamespaces.withPair("mon") { a, _ in
            let monitor = try NetworkNamespace.run(a) { try NetlinkMonitor() }
            let va = try NetworkNamespace.run(a) { try NetworkInterface.index(named: "va1") }
            var initial: [NetworkEvent] = []
            try monitor.synchronise { initial.append($0) }
            #expect(initial.contains { if case .interfaceUp(let l) = $0 { l.name == "va1" } else { false } })
            #expect(monitor.links[va]?.isUp == true)

            let loop = try EventLoop(signals: [])
            try loop.watch(monitor.fileDescriptor, token: 1)
            var events: [NetworkEvent] = []
            func expectEvent(_ what: String, _ match: @escaping (NetworkEvent) -> Bool) throws {
                try loop.run(seconds: 5, until: { events.contains(where: match) }) { _ in
                    try monitor.receive { events.append($0) }
                }
            }
            try TestNamespaces.sh(["ip", "-n", a, "link", "set", "va1", "down"])
            try expectEvent("down") { if case .interfaceDown(let l) = $0 { l.interface == va } else { false } }
            try TestNamespaces.sh(["ip", "-n", a, "link", "set", "va1", "up"])
            try expectEvent("up") { if case .interfaceUp(let l) = $0 { l.interface == va } else { false } }

            // DAD on for this interface: the new address is tentative first.
            try TestNamespaces.sh(["ip", "netns", "exec", a, "sysctl", "-qw", "net.ipv6.conf.va1.accept_dad=1",
                                   "net.ipv6.conf.va1.dad_transmits=1"])
            try TestNamespaces.sh(["ip", "-n", a, "addr", "add", "fd55::1/64", "dev", "va1"])
            let fd55 = IPv6Address("fd55::1")!
            try expectEvent("address") { if case .addressAdded(let x) = $0 { x.address == fd55 } else { false } }
            let added = events.compactMap { e -> InterfaceAddress? in if case .addressAdded(let x) = e, x.address == fd55 { x } else { nil } }
            #expect(added.first?.isTentative == true)
            #expect(added.first?.prefixLength == 64 && added.first?.interface == va)
            try expectEvent("DAD done") { if case .addressChanged(let x) = $0 { x.address == fd55 && !x.isTentative } else { false } }

            try TestNamespaces.sh(["ip", "-n", a, "-6", "route", "add", "default", "via", "fe80::b1", "dev", "va1"])
            try expectEvent("default present") { $0 == .defaultRouteChanged(ipv4: false, present: true) }
            try TestNamespaces.sh(["ip", "-n", a, "-6", "route", "del", "default", "via", "fe80::b1", "dev", "va1"])
            try expectEvent("default absent") { $0 == .defaultRouteChanged(ipv4: false, present: false) }
            try TestNamespaces.sh(["ip", "-n", a, "addr", "del", "fd55::1/64", "dev", "va1"])
            try expectEvent("address removed") { if case .addressRemoved(let x) = $0 { x.address == fd55 } else { false } }

            try TestNamespaces.sh(["ip", "-n", a, "link", "add", "xa", "type", "veth", "peer", "name", "xb"])
            try expectEvent("appeared") { if case .interfaceAppeared(let l) = $0 { l.name == "xb" } else { false } }
            #expect(events.contains { if case .interfaceAppeared(let l) = $0 { l.name == "xa" && !l.isUp } else { false } })
            try TestNamespaces.sh(["ip", "-n", a, "link", "del", "xa"])
            try expectEvent("disappeared") { if case .interfaceDisappeared(let l) = $0 { l.name == "xa" } else { false } }
        }
    }

    /// With a tiny notification buffer, a burst of 300 address additions overflows it (ENOBUFS);
    /// the monitor dumps again, reports `.resynchronised`, and ends with every address known.
    @Test func monitorResynchronisesAfterOverflow() throws {
        try TestNamespaces.withPair("nobufs") { a, _ in
            let (monitor, netlink) = try NetworkNamespace.run(a) { (try NetlinkMonitor(receiveBufferBytes: 4096), try Netlink()) }
            let va = try NetworkNamespace.run(a) { try NetworkInterface.index(named: "va1") }
            try monitor.synchronise { _ in }
            try NetworkNamespace.run(a) {
                for i in 1...300 {
                    try netlink.addAddress(IPv6Address(high: 0xFD66_0000_0000_0000, low: UInt64(i)), prefixLength: 64,
                                           interface: va, skipDAD: true)
                }
            }
            var events: [NetworkEvent] = []
            let loop = try EventLoop(signals: [])
            try loop.watch(monitor.fileDescriptor, token: 1)
            let count = { monitor.addresses.keys.filter { $0.address.high == 0xFD66_0000_0000_0000 }.count }
            try loop.run(seconds: 10, until: { count() == 300 }) { _ in try monitor.receive { events.append($0) } }
            #expect(events.contains(.resynchronised))
            #expect(monitor.resynchronisations >= 1)
            #expect(count() == 300)
        }
    }
}

extension NetworkEvent {
    var isRouteEvent: Bool {
        switch self {
        case .routeAdded, .routeChanged, .routeRemoved: true
        default: false
        }
    }
}
