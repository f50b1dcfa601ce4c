import FilamentCore
import FilamentCrypto
import FilamentEngine
import FilamentWire
import Testing
@testable import FilamentNode

@Suite struct FilamentNodeTests {
    /// Two nodes on one link complete a Noise handshake and become each other's neighbours with a route.
    @Test func twoNodesBecomeNeighbours() throws {
        let mesh = try NodeMesh(count: 2)
        mesh.connect(0, 1, 1, 1)
        mesh.run(for: .seconds(5))
        let s0 = mesh.nodes[0].snapshot(), s1 = mesh.nodes[1].snapshot()
        #expect(s0.neighbours.filter(\.isUp).map(\.node) == [mesh.nodes[1].nodeID])
        #expect(s1.neighbours.filter(\.isUp).map(\.node) == [mesh.nodes[0].nodeID])
        #expect(mesh.nodes[0].engine.lookup(mesh.nodes[1].meshAddress)?.nextHop.routerID == mesh.nodes[1].routerID)
        #expect(mesh.nodes[1].engine.lookup(mesh.nodes[0].meshAddress) != nil)
        #expect(mesh.persistedSeqno[0] != nil)
    }

    /// In a line of three, the ends learn routes to each other through the middle and an echo request
    /// crosses two hops (hop limit decremented once, in transit), through the ordinary and the fast path.
    @Test(arguments: [false, true]) func threeNodeLineForwardsAcrossTwoHops(fast: Bool) throws {
        let mesh = try NodeMesh(count: 3)
        mesh.useFastPath = fast
        mesh.connect(0, 1, 1, 1)
        mesh.connect(1, 2, 2, 1)
        mesh.run(for: .seconds(6))
        let a = mesh.nodes[0], c = mesh.nodes[2]
        let entry = try #require(a.engine.lookup(c.meshAddress))
        #expect(entry.nextHop.routerID == mesh.nodes[1].routerID)
        let request = mesh.echoRequest(from: 0, to: c.meshAddress, hopLimit: 64)
        mesh.forward(0, request)
        mesh.run(for: .milliseconds(50))
        let got = try #require(mesh.delivered[2]?.last)
        #expect(got.count == request.count)
        #expect(got[7] == 63)
        #expect(Array(got[8...]) == Array(request[8...]))
        #expect(mesh.nodes[1].counters.forwarded == 1)
    }

    /// A node with a different network key hears hellos but never becomes anyone's neighbour.
    @Test func wrongNetworkKeyNeverBecomesNeighbour() throws {
        let mesh = try NodeMesh(count: 2, networkKeys: [7, 8])
        mesh.connect(0, 1, 1, 1)
        mesh.run(for: .seconds(10))
        #expect(mesh.nodes[0].snapshot().neighbours.isEmpty)
        #expect(mesh.nodes[1].snapshot().neighbours.isEmpty)
        #expect(mesh.nodes[0].link.counters[.wrongKey] + mesh.nodes[1].link.counters[.wrongKey] > 0)
        #expect(mesh.nodes[0].engine.lookup(mesh.nodes[1].meshAddress) == nil)
    }

    /// A packet for an address nobody announces gets an ICMPv6 destination unreachable back to the local stack.
    @Test(arguments: [false, true]) func noRouteAnswersUnreachable(fast: Bool) throws {
        let mesh = try NodeMesh(count: 1)
        let a = mesh.nodes[0]
        let nowhere = IPv6Address("fd66:696c:616d::1234")!
        var out: [NodeOutput] = []
        if fast {
            let r = mesh.echoRequest(from: 0, to: nowhere).withUnsafeBytes {
                a.forwardFast($0, now: mesh.now, scratch: mesh.scratch, frame: mesh.frame, outputs: &out)
            }
            #expect(r == .handled)
        } else {
            out = a.forward(mesh.echoRequest(from: 0, to: nowhere), now: mesh.now)
        }
        guard case let .deliver(reply)? = out.first else { Issue.record("no ICMPv6 error: \(out)"); return }
        #expect(reply[6] == 58)
        #expect(reply[40] == 1 && reply[41] == 0)
        #expect(IPv6Packet.destination(of: reply) == a.meshAddress)
        #expect(IPv6Packet.upperLayerChecksum(reply.enumerated().map { $0.offset == 42 || $0.offset == 43 ? 0 : $0.element }, nextHeader: 58)
                == UInt16(reply[42]) << 8 | UInt16(reply[43]))
        #expect(a.counters.noRoute == 1)
    }

    /// Garbage datagrams and malformed IP packets are counted drops, never a crash.
    @Test func hostileInputIsCounted() throws {
        let mesh = try NodeMesh(count: 1)
        let a = mesh.nodes[0]
        _ = a.interfaceUp(InterfaceID(1), linkMTU: 1500, now: mesh.now)
        let peer = NodePeer(interface: InterfaceID(1), address: NodeMesh.linkLocal(node: 9, interface: InterfaceID(1)))
        var random = SeededRandom(seed: 1)
        for n in 0..<2000 {
            var d = (0..<(n % 200)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            if !d.isEmpty, n % 3 == 0 { d[0] = 0x10 }
            _ = a.receive(d, from: peer, now: mesh.now)
            _ = a.forward(d, now: mesh.now)
        }
        #expect(a.counters.malformedIPPackets > 0)
        #expect(a.counters.unknownFrameType + a.counters.undecodableRouting > 0)
        #expect(a.snapshot().neighbours.isEmpty)
    }

    /// A hello whose full key does not hash to the router id it claims is refused.
    @Test func helloWithMismatchedKeyIsRefused() throws {
        let mesh = try NodeMesh(count: 2)
        _ = mesh.nodes[0].interfaceUp(InterfaceID(1), linkMTU: 1500, now: mesh.now)
        let liar = FilamentWire.Hello(routerID: RouterID(42), node: mesh.nodes[1].nodeID, seqno: Seqno(1), intervalCentiseconds: 100)
        var frame: [UInt8] = []
        try FilamentWire.RoutingPacket(messages: [.hello(liar)]).encodePlaintextFrame(into: &frame)
        let out = mesh.nodes[0].receive(frame, from: NodePeer(interface: InterfaceID(1), address: NodeMesh.linkLocal(node: 1, interface: InterfaceID(1))), now: mesh.now)
        #expect(mesh.nodes[0].counters.helloKeyMismatch == 1)
        #expect(!out.contains { if case .send = $0 { true } else { false } })
    }
}

extension FilamentNodeTests {
    /// A middle node that restarts (same key, persisted seqno) is a neighbour again within seconds and
    /// the ends reach each other through it again.
    @Test func restartedNodeRejoins() throws {
        let mesh = try NodeMesh(count: 3)
        mesh.connect(0, 1, 1, 1)
        mesh.connect(1, 2, 2, 1)
        mesh.run(for: .seconds(6))
        #expect(mesh.nodes[0].engine.lookup(mesh.nodes[2].meshAddress) != nil)
        // Restart node 1: a fresh FilamentNode with the same identity and its persisted counters.
        let identity = try NodeKeyPair(seed: SecretBytes(copying: [UInt8](repeating: 2, count: 32)))
        mesh.nodes[1] = try FilamentNode(identity: identity, networkKey: SecretBytes(copying: [UInt8](repeating: 7, count: 32)),
                                         seqnoCounter: mesh.persistedSeqno[1] ?? 0, initiationCounterFloor: 5000,
                                         seed: 999, now: mesh.now)
        mesh.queue.removeAll { $0.node == 1 }
        mesh.execute(1, mesh.nodes[1].interfaceUp(InterfaceID(1), linkMTU: 1500, now: mesh.now))
        mesh.execute(1, mesh.nodes[1].interfaceUp(InterfaceID(2), linkMTU: 1500, now: mesh.now))
        // The restarted engine selects learned routes after its restart hold: 1 s once both neighbours
        // answered its restart announcement (decisions 0310, 0321; it was 4 s).
        mesh.run(for: .seconds(2))
        #expect(mesh.nodes[1].snapshot().neighbours.filter(\.isUp).count == 2)
        let entry = try #require(mesh.nodes[0].engine.lookup(mesh.nodes[2].meshAddress))
        #expect(entry.nextHop.routerID == mesh.nodes[1].routerID)
        let request = mesh.echoRequest(from: 0, to: mesh.nodes[2].meshAddress)
        let before = mesh.delivered[2]?.count ?? 0
        mesh.execute(0, mesh.nodes[0].forward(request, now: mesh.now))
        mesh.run(for: .milliseconds(50))
        #expect((mesh.delivered[2]?.count ?? 0) == before + 1)
    }
}

extension FilamentNodeTests {
    /// A node that shuts down retracts its routes: its neighbours drop the routes through it within
    /// milliseconds, long before their hold time would expire.
    @Test func shutdownRetractsRoutes() throws {
        let mesh = try NodeMesh(count: 3)
        mesh.connect(0, 1, 1, 1)
        mesh.connect(1, 2, 2, 1)
        mesh.run(for: .seconds(6))
        #expect(mesh.nodes[0].engine.lookup(mesh.nodes[2].meshAddress) != nil)
        mesh.execute(1, mesh.nodes[1].shutdown(now: mesh.now))
        mesh.dead.insert(1)
        mesh.run(for: .milliseconds(100))
        #expect(mesh.nodes[0].engine.lookup(mesh.nodes[1].meshAddress) == nil)
        #expect(mesh.nodes[0].engine.lookup(mesh.nodes[2].meshAddress) == nil)
        #expect(mesh.nodes[2].engine.lookup(mesh.nodes[0].meshAddress) == nil)
    }
}

extension FilamentNodeTests {
    /// Multicast and link-local packets from the local stack are dropped (counted), never answered
    /// with ICMPv6 and never sent into the mesh.
    @Test func multicastAndLinkLocalAreNotForwarded() throws {
        let mesh = try NodeMesh(count: 1)
        let a = mesh.nodes[0]
        for d in ["ff02::16", "ff02::2", "fe80::1"] {
            var p = mesh.echoRequest(from: 0, to: IPv6Address(d)!)
            p[7] = 255
            #expect(a.forward(p, now: mesh.now).isEmpty)
        }
        #expect(a.counters.notRoutable == 3)
        #expect(a.counters.noRoute == 0)
    }
}

extension FilamentNodeTests {
    /// The fast path forwards a packet whose hop limit is 1 in transit nowhere: the sender gets ICMPv6
    /// time exceeded from the middle node instead.
    @Test func fastPathHopLimitExceeded() throws {
        let mesh = try NodeMesh(count: 3)
        mesh.useFastPath = true
        mesh.connect(0, 1, 1, 1)
        mesh.connect(1, 2, 2, 1)
        mesh.run(for: .seconds(6))
        mesh.forward(0, mesh.echoRequest(from: 0, to: mesh.nodes[2].meshAddress, hopLimit: 1))
        mesh.run(for: .milliseconds(50))
        #expect(mesh.delivered[2] == nil)
        let error = try #require(mesh.delivered[0]?.last)
        #expect(error[40] == 3)
        #expect(IPv6Packet.source(of: error) == mesh.nodes[1].meshAddress)
        #expect(mesh.nodes[1].counters.hopLimitExceeded == 1)
    }
}

extension FilamentNodeTests {
    /// A forged hello (a neighbour's router id, a jumped seqno, another link-local source) neither closes
    /// the session nor moves it to the forged address.
    @Test func forgedHelloDoesNotCloseOrRedirectTheSession() throws {
        let mesh = try NodeMesh(count: 2)
        mesh.connect(0, 1, 1, 1)
        mesh.run(for: .seconds(5))
        let a = mesh.nodes[0], b = mesh.nodes[1]
        let key = try #require(a.snapshot().neighbours.first?.key)
        let realPeer = try #require(a.peer(of: key))
        let forged = FilamentWire.Hello(routerID: b.routerID, node: b.nodeID, seqno: Seqno(40_000), intervalCentiseconds: 100)
        var frame: [UInt8] = []
        try FilamentWire.RoutingPacket(messages: [.hello(forged)]).encodePlaintextFrame(into: &frame)
        let attacker = NodePeer(interface: InterfaceID(1), address: IPv6Address("fe80::bad")!)
        for _ in 0..<3 { mesh.execute(0, a.receive(frame, from: attacker, now: mesh.now)) }
        #expect(a.counters.neighbourRestarts == 0)
        #expect(a.peer(of: key) == realPeer)
        #expect(a.link.hasSession(with: b.nodeID, now: mesh.now))
    }
}

extension FilamentNodeTests {
    /// A flood of hellos from 100 strangers with valid keys starts at most `handshakeStartsPerSecond`
    /// handshakes per second (an initiation is larger than the hello that caused it).
    @Test func helloFloodStartsBoundedHandshakes() throws {
        let mesh = try NodeMesh(count: 1)
        let a = mesh.nodes[0]
        _ = a.interfaceUp(InterfaceID(1), linkMTU: 1500, now: mesh.now)
        var sends = 0
        for i in 0..<100 {
            let stranger = try NodeKeyPair(seed: SecretBytes(copying: [UInt8](repeating: UInt8(50 + i), count: 32)))
            let hello = FilamentWire.Hello(routerID: stranger.nodeID.routerID, node: stranger.nodeID, seqno: Seqno(1), intervalCentiseconds: 100)
            var frame: [UInt8] = []
            try FilamentWire.RoutingPacket(messages: [.hello(hello)]).encodePlaintextFrame(into: &frame)
            let from = NodePeer(interface: InterfaceID(1), address: IPv6Address(high: 0xFE80_0000_0000_0000, low: UInt64(i + 1)))
            sends += a.receive(frame, from: from, now: mesh.now).filter { if case .send = $0 { true } else { false } }.count
        }
        #expect(sends == a.handshakeStartsPerSecond)
        #expect(a.counters.handshakeStartsLimited == UInt64(100 - a.handshakeStartsPerSecond))
    }
}
