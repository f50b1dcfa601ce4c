import FilamentCore
import Testing
@testable import FilamentCrypto

@Suite struct LinkLayerFuzzTests {
    /// Property (seeded, 30,000 cases): random bytes, truncations and bit flips of real frames of every type never trap; each one is a counted drop or gets only a reply no larger than itself, and the real session still works afterwards.
    @Test func garbageIsCountedNeverTraps() {
        var c = LinkConfiguration(); c.handshakeBurst = 1_000_000; c.handshakeRefillInterval = Interval(nanoseconds: 1)
        let h = LinkHarness()
        h.add(1, seed: 1, configuration: c)
        h.add(2, seed: 2, rngSeed: 9, configuration: c)
        var real: [[UInt8]] = []
        h.filter = { real.append($0.bytes); return true }
        h.connect(1, 2); h.run()
        h.send(1, 2, [1, 2, 3]); h.send(2, 1, [4, 5]); h.run()
        // A cookie reply and a response that are real too.
        var lc = c; lc.underLoadThreshold = 0
        let h2 = LinkHarness()
        h2.add(1, seed: 1, configuration: c); h2.add(2, seed: 2, rngSeed: 9, configuration: lc)
        h2.filter = { real.append($0.bytes); return true }
        h2.connect(1, 2); h2.run()
        #expect(Set(real.map { $0[0] }) == [0x01, 0x02, 0x03, 0x04])

        var rng = SeededRandom(seed: 0xF11A)
        let target = h.layer(2)
        let source = TestAddress(id: 1)
        for i in 0..<30_000 {
            var d: [UInt8]
            switch i % 3 {
            case 0:  // random bytes with a plausible type byte
                let n = Int(rng.next() % 260)
                d = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                if n > 0 { d[0] = [0x01, 0x02, 0x03, 0x04, 0x10, UInt8(truncatingIfNeeded: rng.next())][Int(rng.next() % 6)] }
            case 1:  // truncated real frame
                let f = real[Int(rng.next() % UInt64(real.count))]
                d = Array(f[..<Int(rng.next() % UInt64(f.count))])
            default: // real frame with 1-3 bit flips
                d = real[Int(rng.next() % UInt64(real.count))]
                for _ in 0..<(1 + rng.next() % 3) {
                    let bit = Int(rng.next() % UInt64(d.count * 8))
                    d[bit / 8] ^= 1 << UInt8(bit % 8)
                }
            }
            let before = target.counters.totalDrops
            let out = target.receive(d, from: source, now: h.now)
            let sends = out.compactMap { o -> Int? in if case .send(let b, _) = o { return b.count }; return nil }
            let delivered = out.contains { if case .deliver = $0 { return true }; return false }
            #expect(!delivered, "case \(i) delivered garbage")
            if sends.isEmpty {
                #expect(target.counters.totalDrops == before + 1, "case \(i) (\(d.count) bytes, type \(d.first ?? 0)) not counted")
            } else {
                #expect(sends.allSatisfy { $0 <= d.count }, "case \(i) reply larger than request")
            }
        }
        // The real session is unharmed.
        h.send(1, 2, [9]); h.run()
        #expect(h.delivered[TestAddress(id: 2)]?.last == [9])
    }
}
