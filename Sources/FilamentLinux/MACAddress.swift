import FilamentCore

/// A 48-bit Ethernet address, held in the low 48 bits of `rawValue` (first byte most significant).
public struct MACAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64

    public init(rawValue: UInt64) { self.rawValue = rawValue & 0xFFFF_FFFF_FFFF }

    /// From exactly 6 bytes; nil otherwise.
    public init?<C: Collection>(bytes: C) where C.Element == UInt8 {
        guard bytes.count == 6 else { return nil }
        var v: UInt64 = 0
        for b in bytes { v = v << 8 | UInt64(b) }
        rawValue = v
    }

    /// Parses `aa:bb:cc:dd:ee:ff`.
    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 6 else { return nil }
        var v: UInt64 = 0
        for p in parts {
            guard p.count == 2, let b = UInt8(p, radix: 16) else { return nil }
            v = v << 8 | UInt64(b)
        }
        rawValue = v
    }

    /// Byte `i` (0..<6).
    public func byte(_ i: Int) -> UInt8 { UInt8(truncatingIfNeeded: rawValue >> UInt64(40 - 8 * i)) }

    public var bytes: [UInt8] { (0..<6).map(byte) }

    /// The group bit (I/G) is set: multicast or broadcast.
    public var isMulticast: Bool { byte(0) & 1 == 1 }

    public static let broadcast = MACAddress(rawValue: 0xFFFF_FFFF_FFFF)

    public static func < (a: MACAddress, b: MACAddress) -> Bool { a.rawValue < b.rawValue }

    public var description: String {
        (0..<6).map { i in
            let h = String(byte(i), radix: 16)
            return h.count == 1 ? "0" + h : h
        }.joined(separator: ":")
    }

    /// The first 6 bytes at `raw` (no generic collection code: used per received frame).
    @inline(__always)
    public init(loading raw: UnsafeRawPointer) {
        var v: UInt64 = 0
        for i in 0..<6 { v = v << 8 | UInt64(raw.load(fromByteOffset: i, as: UInt8.self)) }
        rawValue = v
    }

    /// The link-local IPv6 address with this MAC's modified EUI-64 interface identifier (RFC 4291
    /// appendix A): fe80::(b0 ^ 2)b1:b2ff:feb3:b4b5. The daemon names raw-Ethernet neighbours by it.
    public var linkLocalAddress: IPv6Address {
        let b0 = UInt64(byte(0) ^ 0x02), b12 = (rawValue >> 24) & 0xFFFF, b345 = rawValue & 0xFF_FFFF
        return IPv6Address(high: 0xFE80_0000_0000_0000, low: b0 << 56 | b12 << 40 | 0xFF_FE00_0000 | b345)
    }

    /// The MAC inside a modified EUI-64 link-local address (the inverse of `linkLocalAddress`); nil
    /// for any other address.
    public init?(linkLocal a: IPv6Address) {
        guard a.high == 0xFE80_0000_0000_0000, (a.low >> 24) & 0xFF_FF == 0xFF_FE else { return nil }
        let b0 = (a.low >> 56) ^ 0x02, b12 = (a.low >> 40) & 0xFFFF, b345 = a.low & 0xFF_FFFF
        rawValue = b0 << 40 | b12 << 24 | b345
    }

    /// Writes the 6 bytes to `out` (which must have room for 6).
    func store(to out: UnsafeMutablePointer<UInt8>) {
        for i in 0..<6 { out[i] = byte(i) }
    }
}
