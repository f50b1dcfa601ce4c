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

    /// Writes the 6 bytes to `out` (which must have room for 6).
    func store(to out: UnsafeMutablePointer<UInt8>) {
        for i in 0..<6 { out[i] = byte(i) }
    }
}
