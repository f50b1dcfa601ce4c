import FilamentCore

/// The digest over a route table: the wrapping sum of a 64-bit hash of every entry.
/// A sum is independent of order, so it equals the hash "in canonical order" without sorting and can be
/// updated in O(1) when one entry changes (subtract the old entry's hash, add the new one's). Each entry
/// hash is FNV-1a over the entry's fields followed by a SplitMix64 finaliser (avalanche, so that sums of
/// similar entries do not cancel). Deterministic across runs and machines. See docs/decisions/0302.
enum DigestHash {
    @inline(__always) static func fnv(_ h: UInt64, _ v: UInt64, _ bytes: Int) -> UInt64 {
        var h = h, v = v
        for _ in 0..<bytes { h = (h ^ (v & 0xFF)) &* 0x0000_0100_0000_01B3; v >>= 8 }
        return h
    }

    static func entry(prefix: Prefix, routerID: RouterID, seqno: Seqno, metric: Metric) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        h = fnv(h, prefix.address.high, 8); h = fnv(h, prefix.address.low, 8); h = fnv(h, UInt64(prefix.length), 1)
        h = fnv(h, routerID.rawValue, 8); h = fnv(h, UInt64(seqno.rawValue), 2); h = fnv(h, UInt64(metric.rawValue), 2)
        var z = h &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
