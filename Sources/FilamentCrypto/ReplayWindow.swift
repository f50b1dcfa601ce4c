/// A sliding anti-replay window over 64-bit counters (the RFC 6479 ring-of-words bitmap, as in
/// WireGuard). It covers `windowSize` = 4032 counters behind the highest one seen (at least 2048 as
/// the design asks). `check` is separate from `commit` so a packet is recorded only once it
/// authenticates. Steady state touches one word and allocates nothing.
package struct ReplayWindow: Sendable {
    package static let wordCount = 64
    package static let bitCount = wordCount * 64
    /// How far behind the highest counter a packet may still be accepted.
    package static let windowSize: UInt64 = UInt64((wordCount - 1) * 64)

    private var words: [UInt64]
    /// The highest counter committed so far (0 before anything; counter 0 is still accepted once).
    package private(set) var highest: UInt64 = 0

    package init() { words = [UInt64](repeating: 0, count: Self.wordCount) }

    /// Whether `counter` would be accepted now (not seen, not too old).
    @inline(__always)
    package func check(_ counter: UInt64) -> Bool {
        if counter > highest { return true }
        if highest - counter > Self.windowSize { return false }
        let bit = counter & UInt64(Self.bitCount - 1)
        return words[Int(bit >> 6)] & (1 << (bit & 63)) == 0
    }

    /// Records `counter` (call only after `check` said yes and the packet authenticated).
    /// Returns false if it had been recorded meanwhile.
    @discardableResult
    @inline(__always)
    package mutating func commit(_ counter: UInt64) -> Bool {
        if counter > highest {
            let current = highest >> 6, target = counter >> 6
            let clear = min(target - current, UInt64(Self.wordCount))
            var i: UInt64 = 1
            while i <= clear {
                words[Int((current &+ i) & UInt64(Self.wordCount - 1))] = 0
                i += 1
            }
            highest = counter
        } else if highest - counter > Self.windowSize {
            return false
        }
        let bit = counter & UInt64(Self.bitCount - 1)
        let w = Int(bit >> 6), mask: UInt64 = 1 << (bit & 63)
        if words[w] & mask != 0 { return false }
        words[w] |= mask
        return true
    }
}
