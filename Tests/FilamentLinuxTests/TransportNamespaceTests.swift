import FilamentCore
import FilamentLinux
import Glibc
import Testing

/// Real sockets in two network namespaces joined by veth pairs (see TestNamespaces).
@Suite(.enabled(if: TestNamespaces.available, TestNamespaces.skipMessage))
struct TransportNamespaceTests {
    static let fe80a1 = IPv6Address("fe80::a1")!
    static let fe80b1 = IPv6Address("fe80::b1")!
    static let fe80b2 = IPv6Address("fe80::b2")!

    /// Multicast and unicast UDP cross the veth with the right source, destination, hop limit and
    /// arrival interface; a hello sent on link 2 reaches only the socket of link 2.
    @Test func udpMulticastAndUnicast() throws {
        try TestNamespaces.withPair("udp", links: 2) { a, b in
            let (a1, a2) = try NetworkNamespace.run(a) {
                (try UDPTransport(interfaceName: "va1"), try UDPTransport(interfaceName: "va2"))
            }
            let (b1, b2) = try NetworkNamespace.run(b) {
                (try UDPTransport(interfaceName: "vb1"), try UDPTransport(interfaceName: "vb2"))
            }
            let loop = try EventLoop(signals: [])
            try loop.watch(a1.fileDescriptor, token: 1)
            try loop.watch(b1.fileDescriptor, token: 2)
            try loop.watch(b2.fileDescriptor, token: 3)

            struct Got: Equatable { var source: IPv6Address; var destination: IPv6Address; var interface: InterfaceID; var hop: Int; var text: String }
            var atB1: [Got] = [], atB2: [Got] = [], atA1: [Got] = []
            func collect(_ d: UDPTransport.Datagram) -> Got {
                Got(source: d.source, destination: d.destination, interface: d.interface, hop: d.hopLimit,
                    text: String(decoding: d.payload, as: UTF8.self))
            }

            // A hello on link 2 only.
            Array("hello-2".utf8).withUnsafeBytes { #expect(a2.enqueueMulticast(payload: $0)) }
            #expect(try a2.flush() == 1)
            try loop.run(seconds: 5, until: { !atB2.isEmpty }) { token in
                if token == 2 { try b1.receive { atB1.append(collect($0)) } }
                if token == 3 { try b2.receive { atB2.append(collect($0)) } }
            }
            #expect(atB2 == [Got(source: Self.fe80b2.replacingB(with: 0xa2), destination: UDPTransport.Configuration.defaultGroup,
                                 interface: b2.interface, hop: 1, text: "hello-2")])

            // A batch of 20 multicast hellos on link 1 in one sendmmsg.
            for i in 0..<20 {
                Array("hello-1-\(i)".utf8).withUnsafeBytes { _ = a1.enqueueMulticast(payload: $0) }
            }
            #expect(a1.pendingCount == 20)
            #expect(try a1.flush() == 20)
            try loop.run(seconds: 5, until: { atB1.count >= 20 }) { token in
                if token == 2 { try b1.receive { atB1.append(collect($0)) } }
                if token == 3 { try b2.receive { atB2.append(collect($0)) } }
            }
            #expect(atB1.map(\.text) == (0..<20).map { "hello-1-\($0)" })
            #expect(atB1.allSatisfy { $0.interface == b1.interface && $0.source == Self.fe80a1 && $0.hop == 1 })
            #expect(atB2.count == 1, "link-2 socket must not see link-1 hellos")

            // Unicast reply from B to A's link-local address, hop limit 255.
            Array("reply".utf8).withUnsafeBytes { _ = b1.enqueue(to: Self.fe80a1, payload: $0) }
            #expect(try b1.flush() == 1)
            try loop.run(seconds: 5, until: { !atA1.isEmpty }) { token in
                if token == 1 { try a1.receive { atA1.append(collect($0)) } }
            }
            #expect(atA1 == [Got(source: Self.fe80b1, destination: Self.fe80a1, interface: a1.interface, hop: 255, text: "reply")])
            #expect(b1.statistics.sent == 1 && a1.statistics.received == 1)
        }
    }

    /// UDP segmentation and receive offload (decision 0803): 40 unicast datagrams of 1,400 bytes and a
    /// shorter last one to one neighbour leave in one segmented message, arrive in one coalesced
    /// receive, and come out as the same 41 datagrams in order, byte for byte; a datagram to another
    /// address and the multicast group in between end a run. A datagram larger than the allowed
    /// segment size goes on its own.
    @Test func udpSegmentationAndReceiveOffload() throws {
        try TestNamespaces.withPair("gso") { a, b in
            var send = UDPTransport.Configuration()
            send.segmentationMaxSize = 1452
            send.batchSize = 64
            var receive = UDPTransport.Configuration()
            receive.receiveOffload = true
            let sender = try NetworkNamespace.run(a) { try UDPTransport(interfaceName: "va1", configuration: send) }
            let receiver = try NetworkNamespace.run(b) { try UDPTransport(interfaceName: "vb1", configuration: receive) }
            #expect(receiver.receiveOffload)
            func payload(_ i: Int, _ size: Int) -> [UInt8] { (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ i) } }
            var expected: [[UInt8]] = []
            for i in 0..<40 { expected.append(payload(i, 1400)) }
            expected.append(payload(40, 300))
            expected.append(payload(41, 1500))  // above segmentationMaxSize: alone
            for p in expected { p.withUnsafeBytes { #expect(sender.enqueue(to: Self.fe80b1, payload: $0)) } }
            #expect(try sender.flush() == 42)
            #expect(sender.statistics.sentSegmented == 1)
            #expect(sender.statistics.offloadRefused == 0)
            var got: [[UInt8]] = []
            try TestNamespaces.waitUntil("42 datagrams", seconds: 5) {
                try receiver.receive { d in
                    #expect(d.source == Self.fe80a1 && d.hopLimit == 255 && d.interface == receiver.interface)
                    got.append(Array(d.payload))
                }
                return got.count >= 42
            }
            #expect(got == expected)
            #expect(receiver.statistics.receivedCoalesced >= 1)
            #expect(receiver.statistics.received == 42)

            // Runs end at another destination and at a multicast datagram; every datagram still arrives.
            got.removeAll()
            for i in 0..<6 { payload(i, 1000).withUnsafeBytes { _ = sender.enqueue(to: Self.fe80b1, payload: $0) } }
            payload(99, 1000).withUnsafeBytes { _ = sender.enqueueMulticast(payload: $0) }
            for i in 6..<12 { payload(i, 1000).withUnsafeBytes { _ = sender.enqueue(to: Self.fe80b1, payload: $0) } }
            #expect(try sender.flush() == 13)
            #expect(sender.statistics.sentSegmented == 3)
            try TestNamespaces.waitUntil("13 datagrams", seconds: 5) {
                try receiver.receive { d in got.append(Array(d.payload)) }
                return got.count >= 13
            }
            #expect(got.filter { $0 != payload(99, 1000) } == (0..<12).map { payload($0, 1000) })
        }
    }

    /// Unicast that does not arrive with hop limit 255 is dropped and counted (GTSM-style check).
    @Test func udpHopLimitCheck() throws {
        try TestNamespaces.withPair("gtsm") { a, b in
            let receiver = try NetworkNamespace.run(a) { try UDPTransport(interfaceName: "va1") }
            // A plain socket in B sending with hop limit 64, as anything from beyond the link would arrive.
            try NetworkNamespace.run(b) { try sendPlainUDP(to: Self.fe80a1, scope: "vb1", port: UDPTransport.Configuration.defaultPort, hopLimit: 64) }
            try TestNamespaces.waitUntil("dropped datagram", seconds: 5) {
                try receiver.receive { _ in Issue.record("must be dropped") }
                return receiver.statistics.droppedHopLimit == 1
            }
            #expect(receiver.statistics.received == 0)
        }
    }

    /// Hostile or stray input is dropped and counted, never delivered and never a crash: an oversized
    /// datagram (truncated) and one from a non-link-local source.
    @Test func udpDropsOversizedAndNonLinkLocal() throws {
        try TestNamespaces.withPair("drop") { a, b in
            try TestNamespaces.sh(["ip", "-n", a, "addr", "add", "fd00:99::a/64", "dev", "va1", "nodad"])
            try TestNamespaces.sh(["ip", "-n", b, "addr", "add", "fd00:99::b/64", "dev", "vb1", "nodad"])
            var config = UDPTransport.Configuration()
            config.bufferSize = 64
            let receiver = try NetworkNamespace.run(a) { try UDPTransport(interfaceName: "va1", configuration: config) }
            let sender = try NetworkNamespace.run(b) { try UDPTransport(interfaceName: "vb1") }
            sender.enqueue(to: Self.fe80a1) { buf in buf.initializeMemory(as: UInt8.self, repeating: 0x41); return 200 }
            // A global destination makes the kernel pick the global source fd00:99::b.
            Array("ok-size".utf8).withUnsafeBytes { _ = sender.enqueue(to: IPv6Address("fd00:99::a")!, payload: $0) }
            #expect(try sender.flush() == 2)
            try TestNamespaces.waitUntil("both drops", seconds: 5) {
                try receiver.receive { d in Issue.record("delivered \(d.source)") }
                return receiver.statistics.droppedTruncated == 1 && receiver.statistics.droppedNotLinkLocal == 1
            }
            #expect(receiver.statistics.received == 0)
        }
    }

    /// While the only link-local address is tentative, binding works, sending is refused and counted
    /// (not thrown); once DAD finishes, the same transport's hellos go out from that address.
    @Test func udpWithTentativeAddress() throws {
        try TestNamespaces.withPair("tent") { a, b in
            try TestNamespaces.sh(["ip", "netns", "exec", a, "sysctl", "-qw", "net.ipv6.conf.va1.accept_dad=1",
                                   "net.ipv6.conf.va1.dad_transmits=2"])
            try TestNamespaces.sh(["ip", "-n", a, "addr", "del", "fe80::a1/64", "dev", "va1"])
            try TestNamespaces.sh(["ip", "-n", a, "addr", "add", "fe80::a9/64", "dev", "va1"])
            #expect(try TestNamespaces.sh(["ip", "-n", a, "-6", "addr", "show", "dev", "va1"]).contains("tentative"))
            let sender = try NetworkNamespace.run(a) { try UDPTransport(interfaceName: "va1") }
            let receiver = try NetworkNamespace.run(b) { try UDPTransport(interfaceName: "vb1") }
            Array("early".utf8).withUnsafeBytes { _ = sender.enqueueMulticast(payload: $0) }
            #expect(try sender.flush() == 0)
            #expect(sender.statistics.droppedAddressNotReady == 1)
            #expect(sender.pendingCount == 0)

            try TestNamespaces.waitUntil("DAD to finish", seconds: 10) {
                !(try TestNamespaces.sh(["ip", "-n", a, "-6", "addr", "show", "dev", "va1"]).contains("tentative"))
            }
            Array("later".utf8).withUnsafeBytes { _ = sender.enqueueMulticast(payload: $0) }
            #expect(try sender.flush() == 1)
            var got: [IPv6Address] = []
            let loop = try EventLoop(signals: [])
            try loop.watch(receiver.fileDescriptor, token: 1)
            try loop.run(seconds: 5, until: { !got.isEmpty }) { _ in try receiver.receive { got.append($0.source) } }
            #expect(got == [IPv6Address("fe80::a9")!])
        }
    }

    /// Raw Ethernet frames with EtherType 0x88B5 cross the veth to the group MAC and to a unicast MAC.
    @Test func rawEthernetFrames() throws {
        try TestNamespaces.withPair("eth") { a, b in
            let ea = try NetworkNamespace.run(a) { try RawEthernetTransport(interfaceName: "va1") }
            let eb = try NetworkNamespace.run(b) { try RawEthernetTransport(interfaceName: "vb1") }
            #expect(ea.address == MACAddress("02:00:00:00:0a:01"))
            let loop = try EventLoop(signals: [])
            try loop.watch(ea.fileDescriptor, token: 1)
            try loop.watch(eb.fileDescriptor, token: 2)
            var atB: [(MACAddress, Bool, String)] = [], atA: [(MACAddress, Bool, String)] = []

            Array("hello".utf8).withUnsafeBytes { _ = ea.enqueueMulticast(payload: $0) }
            Array("unicast-to-b".utf8).withUnsafeBytes { _ = ea.enqueue(to: eb.address, payload: $0) }
            #expect(try ea.flush() == 2)
            try loop.run(seconds: 5, until: { atB.count >= 2 }) { token in
                if token == 2 { try eb.receive { atB.append(($0.source, $0.isMulticast, String(decoding: $0.payload, as: UTF8.self))) } }
            }
            #expect(atB.map(\.0) == [ea.address, ea.address])
            #expect(atB.map(\.1) == [true, false])
            // Ethernet pads short frames to 46 bytes of payload; the length prefix gives back exactly what was sent.
            #expect(atB[0].2 == "hello")
            #expect(atB[1].2 == "unicast-to-b")

            Array("back".utf8).withUnsafeBytes { _ = eb.enqueue(to: ea.address, payload: $0) }
            #expect(try eb.flush() == 1)
            try loop.run(seconds: 5, until: { !atA.isEmpty }) { token in
                if token == 1 { try ea.receive { atA.append(($0.source, $0.isMulticast, String(decoding: $0.payload, as: UTF8.self))) } }
            }
            #expect(atA.first?.0 == eb.address && atA.first?.2 == "back")
        }
    }
}

extension IPv6Address {
    /// The same address with its last 16 bits replaced (test helper).
    func replacingB(with last: UInt16) -> IPv6Address { IPv6Address(high: high, low: (low & ~0xFFFF) | UInt64(last)) }
}

/// Sends one datagram "x" from an ordinary socket with the given unicast hop limit.
func sendPlainUDP(to address: IPv6Address, scope: String?, port: UInt16, hopLimit: Int32) throws {
    let fd = socket(AF_INET6, Int32(SOCK_DGRAM.rawValue), 0)
    guard fd >= 0 else { throw SystemError(operation: "socket", code: errno) }
    defer { close(fd) }
    var hops = hopLimit
    _ = try Syscall.check("IPV6_UNICAST_HOPS", { Int(setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_UNICAST_HOPS, &hops, 4)) })
    var sa = sockaddr_in6()
    sa.sin6_family = sa_family_t(AF_INET6)
    sa.sin6_port = port.bigEndian
    if let scope { sa.sin6_scope_id = try NetworkInterface.index(named: scope).rawValue }
    withUnsafeMutableBytes(of: &sa.sin6_addr) { raw in for i in 0..<16 { raw[i] = address.byte(i) } }
    var byte: UInt8 = 0x78
    _ = try Syscall.check("sendto", {
        withUnsafePointer(to: &sa) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, &byte, 1, 0, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
        }
    })
}
