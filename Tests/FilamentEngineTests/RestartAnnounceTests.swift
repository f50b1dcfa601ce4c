import FilamentCore
import FilamentWire
import Testing
@testable import FilamentEngine

/// The restart announcement (decision 0321): a restarted node's first message to each neighbour is a
/// route request flagged `restarted`; the neighbour flushes what it had from it and answers with its table
/// ending in a digest flagged `flushed`, which is what lets the restarted node end its hold after 1 s.
@Suite struct RestartAnnounceTests {
    static let restartRequest = Message.routeRequest(RouteRequest(prefix: nil, flags: RouteRequest.flagRestarted))

    @Test func restartedNodeAnnouncesAndWaitsForFlushedDigest() {
        var b = Bench(counter: 5) // a persisted counter above zero: this is a restart
        b.handle(.interfaceUp(b.interface, mtu: 1400))
        let a = b.handle(.sessionEstablished(b.key(1), node: TestIdentity.node(1))) + b.advance(by: .milliseconds(20))
        #expect(unicastMessages(a, to: b.key(1)).first == Self.restartRequest)

        // During the hold hellos go every 250 ms (and say so).
        let hellos = b.advance(by: .milliseconds(880)).compactMap { action -> Hello? in
            guard case let .sendMulticast(_, p) = action, case let .hello(h)? = p.messages.first else { return nil }
            return h
        }
        #expect(hellos.count >= 3 && hellos.allSatisfy { $0.intervalCentiseconds == 25 }, "\(hellos)")

        // Neighbour 1's table: its own address and node 3 behind it.
        let mine = [update(1), update(3, metric: 256)]
        var hash: UInt64 = 0
        for case let .update(u) in mine {
            hash &+= DigestHash.entry(prefix: u.prefix, routerID: u.routerID, seqno: u.seqno, metric: u.metric)
        }
        // A plain digest (an older neighbour that answered without flushing) proves nothing: still held at 1.5 s.
        b.receive(mine + [.digest(Digest(routeCount: 2, hash: hash))], from: 1)
        b.advance(to: .zero + .milliseconds(1500))
        #expect(b.engine.lookup(TestIdentity.address(3)) == nil)
        // The flagged answer ends the hold at once (the 1 s minimum has passed).
        b.receive([.digest(Digest(routeCount: 2, hash: hash, flags: Digest.flagFlushed))], from: 1)
        #expect(b.engine.lookup(TestIdentity.address(3))?.nextHop == b.key(1))
        #expect(b.now < .zero + .seconds(2))
    }

    @Test func neighbourFlushesOnAnnouncedRestartAndAnswersFlagged() {
        var b = Bench()
        b.connect([1, 2])
        b.receive([update(1), update(3, metric: 256)], from: 1)
        #expect(b.engine.lookup(TestIdentity.address(3))?.nextHop == b.key(1))
        // Node 1 restarted behind a surviving session: its announcement comes before its fresh table.
        let a = b.receive([Self.restartRequest, update(1, seqno: 2)], from: 1)
        #expect(b.engine.lookup(TestIdentity.address(3)) == nil)                  // the old route through it: gone
        #expect(b.engine.lookup(TestIdentity.address(1))?.nextHop == b.key(1))    // its new announcement: kept
        #expect(updates(a, to: b.key(2)).contains { $0.prefix == Prefix(host: TestIdentity.address(3)) && $0.isRetraction })
        // Our table ends in a flagged digest (node 1's new announcement, re-announced to it, may follow).
        let digests = unicastMessages(a, to: b.key(1)).compactMap { m -> Digest? in if case let .digest(d) = m { return d }; return nil }
        #expect(digests.count == 1 && digests[0].flushed, "\(digests)")
        #expect(b.engine.snapshot().counters.neighbourRestarts == 1)
        // A plain wildcard request is answered with a plain digest and flushes nothing.
        let plain = b.receive([.routeRequest(RouteRequest(prefix: nil))], from: 1)
        guard case let .digest(p)? = unicastMessages(plain, to: b.key(1)).last else { Issue.record("no digest"); return }
        #expect(!p.flushed)
        #expect(b.engine.lookup(TestIdentity.address(1))?.nextHop == b.key(1))
    }
}

/// Start-up (decision 0323): for the first 15 s (longer while neighbours keep appearing) a neighbour is
/// held at least 4 s whatever its hello pace, so CPU-starved daemons in a big cold start do not flap;
/// afterwards the announced pace rules again (1.9 s at 750 ms hellos).
@Suite struct StartupHoldTests {
    @Test func neighboursHeldLongerDuringStartup() {
        var b = Bench()
        b.connect([1])
        func hello(_ s: UInt16) -> EngineEvent {
            .multicastReceived(interface: b.interface, packet: RoutingPacket(messages: [
                .hello(Hello(routerID: TestIdentity.routerID(1), seqno: Seqno(s), intervalCentiseconds: 75))]))
        }
        func up(_ b: Bench) -> Bool { b.engine.snapshot().neighbours.first { $0.key == b.key(1) }?.isUp == true }
        b.handle(hello(1))
        b.advance(by: .milliseconds(2500))
        #expect(up(b), "dropped after 2.5 s during start-up")
        b.advance(by: .milliseconds(1600))
        #expect(!up(b), "still up 4.1 s after its last hello")
        // After start-up (15 s, the one neighbour pushed it to at most 5 s after it appeared).
        b.advance(to: .zero + .seconds(20))
        b.handle(hello(2))
        #expect(up(b))
        b.advance(by: .milliseconds(1800))
        #expect(up(b))
        b.advance(by: .milliseconds(200))
        #expect(!up(b), "not dropped 2 s after its last 750 ms hello")
    }

    /// New neighbours during start-up push its end back (never past 60 s).
    @Test func growingNeighbourCountExtendsStartup() {
        var b = Bench()
        b.handle(.interfaceUp(b.interface, mtu: 1400))
        for j in 1...14 {
            b.advance(by: .seconds(4))
            b.handle(.sessionEstablished(b.key(j), node: TestIdentity.node(j)))
        }
        // A neighbour every 4 s (each extends start-up to 5 s after it): start-up reaches its 60 s maximum.
        #expect(b.engine.startupUntil == .zero + .seconds(60))
        var c = Bench()
        c.connect([1, 2])
        #expect(c.engine.startupUntil == .zero + .seconds(15))
    }
}
