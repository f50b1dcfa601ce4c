import Testing
@testable import FilamentCrypto

@Suite struct ReplayWindowTests {
    func accept(_ w: inout ReplayWindow, _ n: UInt64) -> Bool { w.check(n) && w.commit(n) }

    /// A counter is accepted once; the same counter again is a replay.
    @Test func duplicateRejected() {
        var w = ReplayWindow()
        #expect(accept(&w, 0))
        #expect(!accept(&w, 0))
        #expect(accept(&w, 1))
        #expect(!accept(&w, 1))
    }

    /// Packets reordered inside the window are accepted exactly once each.
    @Test func reorderInsideWindowAcceptedOnce() {
        var w = ReplayWindow()
        #expect(accept(&w, 5000))
        for n in stride(from: UInt64(4999), to: 5000 - ReplayWindow.windowSize, by: -7) {
            #expect(accept(&w, n), "first \(n)")
            #expect(!accept(&w, n), "second \(n)")
        }
        #expect(ReplayWindow.windowSize >= 2048)
    }

    /// A counter further behind the highest than the window is rejected as too old.
    @Test func tooOldRejected() {
        var w = ReplayWindow()
        #expect(accept(&w, 10_000))
        #expect(accept(&w, 10_000 - ReplayWindow.windowSize))
        #expect(!w.check(10_000 - ReplayWindow.windowSize - 1))
        #expect(!accept(&w, 5))
    }

    /// A far-future jump slides the window: old bits are cleared, so counters just below the new top are fresh, and the old range is too old.
    @Test func farFutureJumpSlides() {
        var w = ReplayWindow()
        for n in UInt64(0)..<100 { #expect(accept(&w, n)) }
        let top: UInt64 = 1 << 40
        #expect(accept(&w, top))
        #expect(!accept(&w, 50))
        // Counters that map to the same bit positions as the old ones must be fresh after the slide.
        for n in (top - 100)..<top { #expect(accept(&w, n)) }
        #expect(!accept(&w, top))
        // A jump by less than the window keeps the recent history.
        #expect(accept(&w, top + 64 * 5 + 3))
        #expect(!accept(&w, top - 1))
        #expect(accept(&w, top + 64 * 5))
    }

    /// Random order of a permutation of a window's worth of counters: each accepted exactly once.
    @Test func randomOrderEachOnce() {
        var rng = SystemRandomNumberGenerator()
        var w = ReplayWindow()
        let counters = Array(UInt64(0)..<2048).shuffled(using: &rng)
        var accepted = 0
        for n in counters + counters.shuffled(using: &rng) where accept(&w, n) { accepted += 1 }
        #expect(accepted == 2048)
    }
}
