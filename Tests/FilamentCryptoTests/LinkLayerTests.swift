import FilamentCore
import Testing
@testable import FilamentCrypto

@Suite struct LinkLayerTests {
    func pair(configuration: LinkConfiguration = LinkConfiguration(), keyB: [UInt8] = [UInt8](repeating: 0x42, count: 32)) -> LinkHarness {
        let h = LinkHarness()
        h.add(1, seed: 1, configuration: configuration)
        h.add(2, seed: 2, networkKey: keyB, rngSeed: 9, configuration: configuration)
        return h
    }

    /// Two link layers complete an IKpsk2 handshake through a pipe and exchange data both ways; frames have the documented sizes.
    @Test func handshakeAndDataBothWays() throws {
        let h = pair()
        h.connect(1, 2)
        #expect(h.pipe.first?.bytes.count == 177)
        #expect(h.pipe.first?.bytes.first == 0x01)
        h.run()
        #expect(h.layer(1).hasSession(with: h.ids[TestAddress(id: 2)]!, now: h.now))
        #expect(h.layer(2).hasSession(with: h.ids[TestAddress(id: 1)]!, now: h.now))
        #expect(h.events[TestAddress(id: 1)]?.contains(.sessionEstablished(h.ids[TestAddress(id: 2)]!, peer: TestAddress(id: 2))) == true)
        #expect(h.events[TestAddress(id: 2)]?.contains(.sessionEstablished(h.ids[TestAddress(id: 1)]!, peer: TestAddress(id: 1))) == true)
        h.send(1, 2, Array("hello".utf8))
        #expect(h.pipe.first?.bytes.count == 5 + 32)
        h.send(2, 1, Array("world".utf8))
        h.run()
        #expect(h.delivered[TestAddress(id: 2)] == [Array("hello".utf8)])
        #expect(h.delivered[TestAddress(id: 1)] == [Array("world".utf8)])
        #expect(h.layer(1).counters.totalDrops == 0)
        #expect(h.layer(2).counters.totalDrops == 0)
    }

    /// Plaintexts sent before the session exists are queued and delivered in order once it is up; the queue is bounded.
    @Test func queueWhileHandshaking() {
        var c = LinkConfiguration(); c.queueLimit = 3
        let h = pair(configuration: c)
        h.connect(1, 2)
        for i in 0..<5 { h.send(1, 2, [UInt8(i)]) }
        #expect(h.layer(1).counters[.queueFull] == 2)
        h.run()
        #expect(h.delivered[TestAddress(id: 2)] == [[0], [1], [2]])
    }

    /// Sending to a node never connected is a counted drop, not a crash.
    @Test func unknownPeerCounted() {
        let h = pair()
        h.send(1, 2, [1])
        #expect(h.layer(1).counters[.unknownPeer] == 1)
        #expect(h.pipe.isEmpty)
    }

    /// A node with a different network key never completes a handshake: the responder drops every initiation at mac1 (before any DH) and sends nothing back.
    @Test func wrongNetworkKeyNeverCompletes() {
        let h = pair(keyB: [UInt8](repeating: 0x43, count: 32))
        h.connect(1, 2)
        for _ in 0..<15 { h.run(); h.advance(.seconds(1)) }
        h.run()
        #expect(!h.layer(1).hasSession(with: h.ids[TestAddress(id: 2)]!, now: h.now))
        #expect(!h.layer(2).hasSession(with: h.ids[TestAddress(id: 1)]!, now: h.now))
        #expect(h.layer(2).counters[.wrongKey] >= 10)
        #expect(h.replies.allSatisfy { $0.1 == 0 })
    }

    /// A replayed initiation is ignored (counted as a replay) and produces no reply.
    @Test func replayedInitiationIgnored() {
        let h = pair()
        h.connect(1, 2)
        let initiation = h.pipe[0]
        h.run()
        let out = h.layer(2).receive(initiation.bytes, from: initiation.from, now: h.now)
        #expect(out.isEmpty)
        #expect(h.layer(2).counters[.replay] == 1)
    }

    /// Initiation counters survive restarts only if persisted: a restart from the persisted floor is accepted, one from 0 is rejected as a replay.
    @Test func initiationCounterPersistence() {
        let h = pair()
        h.connect(1, 2)
        guard case .persistInitiationCounter(let floor)? = h.events[TestAddress(id: 1)]?.first else {
            Issue.record("no persist output before the first initiation"); return
        }
        h.run()
        // Restart node 1 without its persisted counter: its initiations look like replays.
        h.add(1, seed: 1, floor: 0)
        h.connect(1, 2)
        h.run()
        #expect(h.layer(2).counters[.replay] == 1)
        // Restart with the persisted floor: accepted.
        h.add(1, seed: 1, floor: floor)
        h.connect(1, 2)
        h.run()
        #expect(h.layer(1).hasSession(with: h.ids[TestAddress(id: 2)]!, now: h.now))
        h.send(1, 2, [7]); h.run()
        #expect(h.delivered[TestAddress(id: 2)]?.last == [7])
    }

    /// Handshake frames from one source beyond the token bucket's burst are dropped as rate-limited; the bucket refills with time.
    @Test func rateLimitPerSource() {
        var c = LinkConfiguration(); c.handshakeBurst = 3; c.handshakeRefillInterval = .milliseconds(100)
        let h = pair(configuration: c)
        h.connect(1, 2)
        var initiations = [h.pipe.removeFirst()]
        for _ in 0..<5 {
            h.now = h.now + .seconds(1)
            h.execute(h.layer(1).tick(now: h.now), at: TestAddress(id: 1))
            initiations.append(h.pipe.removeFirst())
        }
        for f in initiations { _ = h.layer(2).receive(f.bytes, from: f.from, now: h.now) }
        #expect(h.layer(2).counters[.rateLimited] == 3)
        h.now = h.now + .seconds(1)
        h.execute(h.layer(1).tick(now: h.now), at: TestAddress(id: 1))
        let f = h.pipe.removeFirst()
        let out = h.layer(2).receive(f.bytes, from: f.from, now: h.now)
        #expect(out.count == 1)
        #expect(h.layer(2).counters[.rateLimited] == 3)
    }

    /// Under load the responder answers an initiation with a 64-byte cookie reply instead of doing DH; the initiator retries with mac2 from that cookie and completes; the cookie does not work from another address.
    @Test func cookiePath() {
        var c = LinkConfiguration(); c.underLoadThreshold = 0
        let h = pair(configuration: c)
        h.connect(1, 2)
        let initiation = h.pipe[0]
        h.run()
        #expect(h.layer(2).counters.cookieRepliesSent == 1)
        #expect(h.replies.first.map { $0.1 == 64 && $0.0 == 177 } == true)
        #expect(!h.layer(1).hasSession(with: h.ids[TestAddress(id: 2)]!, now: h.now))
        #expect(h.layer(1).counters.totalDrops == 0)
        _ = initiation
        h.advance(.seconds(1))
        let withCookie = h.pipe[0]
        h.run()
        #expect(h.layer(1).hasSession(with: h.ids[TestAddress(id: 2)]!, now: h.now))
        #expect(h.layer(2).counters.cookieRepliesSent == 1)
        // The same frame from another address has the wrong mac2: another cookie reply, no DH.
        let out = h.layer(2).receive(withCookie.bytes, from: TestAddress(id: 99), now: h.now)
        #expect(out.count == 1)
        if case .send(let b, let to)? = out.first { #expect(b.count == 64 && to == TestAddress(id: 99)) }
        #expect(h.layer(2).counters.cookieRepliesSent == 2)
    }

    /// Replies to handshake frames are never larger than the frame that caused them (initiation 177 > response 93 > cookie 64; transport frames get no reply).
    @Test func replySizesNeverGrow() {
        var c = LinkConfiguration(); c.underLoadThreshold = 0
        let h = pair(configuration: c)
        h.connect(1, 2)
        h.run(); h.advance(.seconds(1)); h.run()
        let h2 = pair()
        h2.connect(1, 2); h2.run()
        h2.send(1, 2, [1]); h2.send(2, 1, [2]); h2.run()
        let all = h.replies + h2.replies
        #expect(all.contains { $0.2 == 0x01 && $0.1 == 93 })
        #expect(all.contains { $0.2 == 0x01 && $0.1 == 64 })
        for (inSize, outSize, type) in all where type != 0x02 {
            #expect(outSize <= inSize, "type \(type): \(inSize) -> \(outSize)")
        }
        #expect(LinkLayer<TestAddress>.responseSize < LinkLayer<TestAddress>.initiationSize)
        #expect(LinkLayer<TestAddress>.cookieReplySize < LinkLayer<TestAddress>.initiationSize)
    }

    /// Both sides initiating at once converge on one session (the smaller key's initiation wins) that carries data both ways.
    @Test func simultaneousInitiationConverges() {
        let h = pair()
        h.connect(1, 2)
        h.connect(2, 1)
        #expect(h.pipe.count == 2)
        h.run()
        let a = h.layer(1), b = h.layer(2)
        let idA = h.ids[TestAddress(id: 1)]!, idB = h.ids[TestAddress(id: 2)]!
        #expect(a.hasSession(with: idB, now: h.now) && b.hasSession(with: idA, now: h.now))
        #expect(a.counters.simultaneousInitiationsIgnored + b.counters.simultaneousInitiationsIgnored == 1)
        let winner = idA < idB ? a : b
        #expect(winner.counters.simultaneousInitiationsIgnored == 1)
        // One session each, paired with each other.
        let pa = a.peers[idB]!, pb = b.peers[idA]!
        #expect(pa.current!.localIndex == pb.current!.remoteIndex && pb.current!.localIndex == pa.current!.remoteIndex)
        #expect(pa.next == nil && pb.next == nil && pa.pending == nil && pb.pending == nil)
        h.send(1, 2, [1]); h.send(2, 1, [2]); h.run()
        #expect(h.delivered[TestAddress(id: 2)] == [[1]] && h.delivered[TestAddress(id: 1)] == [[2]])
    }

    /// Both initiate; the loser answers the winner's initiation, and that response overtakes the
    /// loser's own initiation on the way to the winner (reordering links). The winner must not answer
    /// the stale initiation after its handshake completed: that response would hit an index the loser
    /// already dropped, and leave the winner with an unconfirmed `next` session blocking its rekeys.
    @Test func crossedInitiationOvertakenByResponse() {
        let h = pair()
        let idA = h.ids[TestAddress(id: 1)]!, idB = h.ids[TestAddress(id: 2)]!
        let (w, l): (UInt32, UInt32) = idA < idB ? (1, 2) : (2, 1)
        h.connect(w, l)
        h.connect(l, w)
        #expect(h.pipe.count == 2)
        // The winner's initiation reaches the loser first; the loser drops its own and responds.
        let toLoser = h.pipe.firstIndex { $0.to.id == l }!
        h.deliver(toLoser)
        #expect(h.pipe.count == 2)
        // The response overtakes the loser's initiation, which arrives at the winner afterwards.
        let response = h.pipe.firstIndex { $0.bytes.first == 0x02 }!
        h.deliver(response)
        let initiation = h.pipe.firstIndex { $0.bytes.first == 0x01 }!
        h.deliver(initiation)
        h.run()
        let winner = h.layer(w), loser = h.layer(l)
        #expect(winner.counters.totalDrops == 0 && loser.counters.totalDrops == 0)
        #expect(winner.counters[.unknownIndex] == 0 && loser.counters[.unknownIndex] == 0)
        #expect(winner.counters.simultaneousInitiationsIgnored == 1)
        let pw = winner.peers[h.ids[TestAddress(id: l)]!]!, pl = loser.peers[h.ids[TestAddress(id: w)]!]!
        #expect(pw.current!.localIndex == pl.current!.remoteIndex && pl.current!.localIndex == pw.current!.remoteIndex)
        #expect(pw.next == nil && pl.next == nil && pw.pending == nil && pl.pending == nil)
        h.send(1, 2, [1]); h.send(2, 1, [2]); h.run()
        #expect(h.delivered[TestAddress(id: 2)] == [[1]] && h.delivered[TestAddress(id: 1)] == [[2]])
        // A loser that really lost its session (e.g. rebooted) is answered once the retry interval passed.
        h.advance(LinkConfiguration().handshakeRetryInterval)
        #expect(winner.counters.totalDrops == 0 && loser.counters.totalDrops == 0)
    }

    /// Same seed, same session indices (ephemeral keys differ, sizes do not).
    @Test func deterministicIndices() {
        func firstIndices() -> [UInt32] {
            let h = pair(); h.connect(1, 2); h.run()
            let s = h.layer(1).peers[h.ids[TestAddress(id: 2)]!]!.current!
            return [s.localIndex, s.remoteIndex]
        }
        #expect(firstIndices() == firstIndices())
    }

    /// Continuous traffic both ways across many rekeys (by message count and by time), with frames of the old session still in flight when the new one is installed: nothing is lost or duplicated.
    @Test func rekeyWithoutLoss() {
        var c = LinkConfiguration()
        c.rekeyAfterMessages = 40
        c.rekeyAfterTime = .seconds(15); c.rejectAfterTime = .seconds(40)
        c.previousSessionGrace = .seconds(30)
        c.handshakeRetryInterval = .seconds(5)
        let h = pair(configuration: c)
        h.connect(1, 2); h.run()
        let total = 1200
        var backlogAtTick = 0
        for i in 0..<total {
            h.send(1, 2, withUnsafeBytes(of: UInt32(i)) { Array($0) })
            if i % 3 == 0 { h.send(2, 1, withUnsafeBytes(of: UInt32(i)) { Array($0) }) }
            if i % 9 == 8 { h.run(maxFrames: 12) }  // a growing backlog: old-session frames still in flight across rekeys and ticks
            if i % 20 == 19 { backlogAtTick = max(backlogAtTick, h.pipe.count); h.advance(.milliseconds(500)) }
            if i % 60 == 59 { h.run() }            // bounded latency (< the retry interval)
        }
        #expect(backlogAtTick > 3)
        h.run(); h.advance(.milliseconds(10)); h.run()
        let got = (h.delivered[TestAddress(id: 2)] ?? []).map { $0.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) } }
        #expect(got == (0..<UInt32(total)).map { $0 })
        let back = (h.delivered[TestAddress(id: 1)] ?? []).count
        #expect(back == (0..<total).filter { $0 % 3 == 0 }.count)
        #expect(h.layer(1).counters.handshakesCompleted >= 10)
        #expect(h.layer(1).counters.totalDrops == 0 && h.layer(2).counters.totalDrops == 0)
    }

    /// A neighbour that disappears: retries stop after the attempt limit, the session expires and `sessionClosed` is reported.
    @Test func sessionClosesWhenPeerGone() {
        var c = LinkConfiguration(); c.rekeyAfterTime = .seconds(5); c.rejectAfterTime = .seconds(20); c.handshakeMaxAttempts = 3
        let h = pair(configuration: c)
        h.connect(1, 2); h.run()
        h.filter = { _ in false }
        for _ in 0..<25 { h.advance(.seconds(1)) }
        #expect(h.events[TestAddress(id: 1)]?.contains(.sessionClosed(h.ids[TestAddress(id: 2)]!)) == true)
        #expect(h.layer(1).nextDeadline > h.now)
    }

    /// Rekey by time: with a steady trickle of traffic, the session initiator starts a new handshake once the session is `rekeyAfterTime` old; the new session takes over and nothing is lost.
    @Test func rekeyByTime() {
        var c = LinkConfiguration(); c.rekeyAfterTime = .seconds(10); c.rejectAfterTime = .seconds(30)
        let h = LinkHarness()
        h.add(1, seed: 1, configuration: c); h.add(2, seed: 2, rngSeed: 9, configuration: c)
        h.connect(1, 2); h.run()
        let idB = h.ids[TestAddress(id: 2)]!
        let first = h.layer(1).peers[idB]!.current!.localIndex
        for i in 0..<50 {
            h.send(1, 2, [UInt8(i)]); h.send(2, 1, [UInt8(i)])
            h.run(); h.advance(.seconds(1)); h.run()
        }
        #expect(h.layer(1).peers[idB]!.current!.localIndex != first)
        #expect(h.layer(1).counters.handshakesCompleted >= 4)
        #expect(h.delivered[TestAddress(id: 2)] == (0..<50).map { [UInt8($0)] })
        #expect(h.delivered[TestAddress(id: 1)] == (0..<50).map { [UInt8($0)] })
        #expect(h.layer(1).nextDeadline <= h.now + .seconds(10))
    }

    /// If the initiator's keepalive is lost and the responder, holding data, initiates itself, packets the first initiator still sends on the first session are received (that session is kept as "previous"), and the queued data arrives.
    @Test func lostKeepaliveThenResponderInitiates() {
        let h = pair()
        h.connect(1, 2)
        h.run(maxFrames: 1)                       // initiation reaches 2; its response is in the pipe
        h.send(2, 1, [42])                        // 2 has only an unconfirmed session: queued
        h.filter = { $0.bytes.first != 0x04 }     // 1's keepalive will be lost
        h.run()
        h.filter = { _ in true }
        #expect(h.delivered[TestAddress(id: 1)] == nil)
        h.advance(.seconds(1))                    // 2 initiates itself
        #expect(h.pipe.count == 1 && h.pipe[0].bytes.first == 0x01)
        h.run(maxFrames: 1)                       // 1 answers; response in the pipe
        h.send(1, 2, [7])                         // 1 still uses the first session
        let early = h.pipe.removeLast()
        h.run(maxFrames: 1)                       // 2 installs the new session, flushes [42]
        h.pipe.append(early)
        h.run()
        #expect(h.delivered[TestAddress(id: 2)] == [[7]])
        #expect(h.delivered[TestAddress(id: 1)] == [[42]])
        #expect(h.layer(2).counters.totalDrops == 0)
    }

    /// One node with sessions to two neighbours keeps them apart: each plaintext reaches only its addressee, from the right NodeID.
    @Test func threeNodes() {
        let h = LinkHarness()
        h.add(1, seed: 1); h.add(2, seed: 2, rngSeed: 2); h.add(3, seed: 3, rngSeed: 3)
        h.connect(1, 2); h.connect(1, 3); h.run()
        h.send(1, 2, [2]); h.send(1, 3, [3]); h.send(2, 1, [12]); h.send(3, 1, [13]); h.run()
        #expect(h.delivered[TestAddress(id: 2)] == [[2]])
        #expect(h.delivered[TestAddress(id: 3)] == [[3]])
        #expect(h.delivered[TestAddress(id: 1)] == [[12], [13]])
        let frame = h.layer(3).send([9], to: h.ids[TestAddress(id: 1)]!, now: h.now)
        guard case .send(let bytes, _)? = frame.first else { Issue.record("no frame"); return }
        let out = h.layer(1).receive(bytes, from: TestAddress(id: 3), now: h.now)
        #expect(out == [.deliver([9], from: h.ids[TestAddress(id: 3)]!, peer: TestAddress(id: 3))])
    }

    /// A frame on a session older than `rejectAfterTime` is not accepted (counted as an unknown index).
    @Test func staleSessionRejected() {
        var c = LinkConfiguration(); c.rejectAfterTime = .seconds(30); c.rekeyAfterTime = .seconds(100)
        let h = LinkHarness()
        h.add(1, seed: 1, configuration: c); h.add(2, seed: 2, rngSeed: 9, configuration: c)
        h.connect(1, 2); h.run()
        let out = h.layer(1).send([1], to: h.ids[TestAddress(id: 2)]!, now: h.now)
        guard case .send(let bytes, _)? = out.first else { Issue.record("no frame"); return }
        #expect(h.layer(2).receive(bytes, from: TestAddress(id: 1), now: h.now + .seconds(31)).isEmpty)
        #expect(h.layer(2).counters[.unknownIndex] == 1)
    }
}
