/// The Internet checksum (RFC 1071) over raw bytes, shared by the data path's offloads
/// (FilamentLinux `TunOffload`/`TunCoalescer`) and the packets the node builds itself (ICMPv6
/// errors, the gateway's IPv4 replies). The sum is kept in host order: the one's-complement sum of
/// 16-bit words does not depend on byte order, so words are loaded as they lie and a result stored
/// with `storeBytes` lands in network order; `UInt16(bigEndian:)` of it is the numeric value.
public enum InternetChecksum {
    /// Adds `bytes` to a one's-complement sum kept in host order (RFC 1071: the sum of 16-bit words is
    /// independent of byte order, so words are loaded as they lie and the result stored the same way).
    /// `bytes` must start at an even offset of the checksummed range.
    @inlinable
    public static func sum(_ bytes: UnsafeRawBufferPointer, into initial: UInt64 = 0) -> UInt64 {
        var acc = initial
        var i = 0
        let n = bytes.count
        // 8 bytes at a time, as two 32-bit halves (no overflow for any 64 KB packet).
        while i + 8 <= n {
            let v = bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            acc &+= (v & 0xFFFF_FFFF) &+ (v >> 32)
            i += 8
        }
        while i + 2 <= n {
            acc &+= UInt64(bytes.loadUnaligned(fromByteOffset: i, as: UInt16.self))
            i += 2
        }
        if i < n {
            // The odd last byte is the first byte of a word whose second byte is zero.
            var w: UInt16 = 0
            withUnsafeMutableBytes(of: &w) { $0[0] = bytes[i] }
            acc &+= UInt64(w)
        }
        return acc
    }

    /// Folds a sum to 16 bits and complements it (host order, store with `storeBytes`). A result of
    /// zero is sent as 0xFFFF (the same in one's complement; required for UDP).
    @inlinable
    public static func finish(_ sum: UInt64) -> UInt16 {
        let c = ~fold(sum)
        return c == 0 ? 0xFFFF : c
    }

    /// Folds a sum to 16 bits without complementing it (a partial checksum for `needsChecksum`).
    @inlinable
    public static func fold(_ sum: UInt64) -> UInt16 {
        var s = sum
        while s >> 16 != 0 { s = (s & 0xFFFF) &+ (s >> 16) }
        return UInt16(truncatingIfNeeded: s)
    }

    /// `value` as two big-endian 16-bit words in host order (for pseudo-header lengths and protocol numbers).
    @inlinable
    public static func words(_ value: UInt32) -> UInt64 {
        UInt64(UInt16(truncatingIfNeeded: value >> 16).bigEndian) &+ UInt64(UInt16(truncatingIfNeeded: value).bigEndian)
    }

}
