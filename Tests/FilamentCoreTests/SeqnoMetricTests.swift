import PropertyBased
import Testing
@testable import FilamentCore

@Suite struct SeqnoTests {
    /// A seqno is never older than itself, and older/newer are mirror images.
    @Test func irreflexiveAndAntisymmetric() async {
        await propertyCheck(input: Gen.uint16(), Gen.uint16()) { a, b in
            let x = Seqno(a), y = Seqno(b)
            #expect(!x.isOlder(than: x))
            #expect(x.isOlder(than: y) == y.isNewer(than: x))
            #expect(!(x.isOlder(than: y) && y.isOlder(than: x)))
        }
    }

    /// Advancing by 1...32767 always gives a newer seqno, across the 16-bit wrap.
    @Test func advancingIsNewer() async {
        await propertyCheck(input: Gen.uint16(), Gen.uint16(in: 1...0x7FFF)) { a, n in
            let x = Seqno(a)
            #expect(x.advanced(by: n).isNewer(than: x))
            #expect(x.advanced(by: n).isAtLeast(x))
        }
    }

    /// The antipode (distance 32768) is neither older nor newer, as RFC 8966 leaves it.
    @Test func antipodeIsIncomparable() {
        let x = Seqno(10)
        #expect(!x.isOlder(than: x.advanced(by: 0x8000)))
        #expect(!x.isNewer(than: x.advanced(by: 0x8000)))
        #expect(Seqno(65535).isOlder(than: Seqno(0)))
    }
}

@Suite struct MetricTests {
    /// Addition saturates at infinity and never wraps below either operand.
    @Test func saturatingAddition() async {
        await propertyCheck(input: Gen.uint16(), Gen.uint16()) { a, b in
            let s = Metric(a) + Metric(b)
            #expect(s >= Metric(a) && s >= Metric(b))
            if UInt32(a) + UInt32(b) >= 0xFFFF { #expect(s.isInfinite) } else { #expect(s.rawValue == a + b) }
        }
    }

    /// Infinity is absorbing.
    @Test func infinityAbsorbs() async {
        await propertyCheck(input: Gen.uint16()) { a in
            #expect((Metric.infinity + Metric(a)).isInfinite)
            #expect((Metric(a) + .infinity).isInfinite)
        }
    }
}

@Suite struct TimeAndRandomTests {
    /// Instant arithmetic saturates instead of trapping at the extremes.
    @Test func instantSaturates() {
        #expect(Instant.distantFuture + .seconds(1) == .distantFuture)
        #expect((Instant(nanoseconds: 5_000_000_000) - Instant(nanoseconds: 2_000_000_000)) == .seconds(3))
        #expect(Instant.zero + .milliseconds(1500) == Instant(nanoseconds: 1_500_000_000))
        #expect(Interval.milliseconds(1500).description == "1500ms")
        #expect(Interval.seconds(2).description == "2s")
    }

    /// The same seed gives the same stream; different seeds differ; forks are independent.
    @Test func seededRandomIsDeterministic() {
        var a = SeededRandom(seed: 42), b = SeededRandom(seed: 42), c = SeededRandom(seed: 43)
        let sa = (0..<8).map { _ in a.next() }, sb = (0..<8).map { _ in b.next() }, sc = (0..<8).map { _ in c.next() }
        #expect(sa == sb)
        #expect(sa != sc)
        var f1 = a.fork(), f2 = b.fork()
        #expect(f1.next() == f2.next())
        #expect(Int.random(in: 0..<1000, using: &a) == Int.random(in: 0..<1000, using: &b))
    }

    /// NodeIDs round-trip through bytes and print as hex.
    @Test func nodeIDBytes() throws {
        let bytes: [UInt8] = (0..<32).map { UInt8($0 * 7 & 0xFF) }
        let id = try #require(NodeID(bytes: bytes))
        #expect(id.bytes == bytes)
        #expect(id.hex.count == 64)
        #expect(id.description == String(id.hex.prefix(8)))
        #expect(NodeID(bytes: [UInt8](repeating: 1, count: 31)) == nil)
    }
}
