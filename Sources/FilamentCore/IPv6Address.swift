/// A 128-bit IPv6 address held as two big-endian 64-bit halves (cheap to hash and compare).
/// IPv4 addresses are carried as IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`).
public struct IPv6Address: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The first 8 bytes, big-endian.
    public var high: UInt64
    /// The last 8 bytes, big-endian.
    public var low: UInt64

    @inlinable public init(high: UInt64, low: UInt64) { self.high = high; self.low = low }

    /// From exactly 16 bytes in network order; nil for any other count.
    public init?<C: Collection>(bytes: C) where C.Element == UInt8 {
        guard bytes.count == 16 else { return nil }
        var h: UInt64 = 0, l: UInt64 = 0
        for (i, b) in bytes.enumerated() {
            if i < 8 { h = (h << 8) | UInt64(b) } else { l = (l << 8) | UInt64(b) }
        }
        high = h; low = l
    }

    /// The 16 bytes in network order.
    public var bytes: [UInt8] {
        var out = [UInt8](repeating: 0, count: 16)
        for i in 0..<8 {
            out[i] = UInt8(truncatingIfNeeded: high >> UInt64(56 - 8 * i))
            out[8 + i] = UInt8(truncatingIfNeeded: low >> UInt64(56 - 8 * i))
        }
        return out
    }

    /// Byte `i` (0..<16) in network order.
    @inlinable public func byte(_ i: Int) -> UInt8 {
        i < 8 ? UInt8(truncatingIfNeeded: high >> UInt64(56 - 8 * i))
              : UInt8(truncatingIfNeeded: low >> UInt64(56 - 8 * (i - 8)))
    }

    public static let unspecified = IPv6Address(high: 0, low: 0)

    /// `::ffff:a.b.c.d`
    public init(ipv4 a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        high = 0
        low = 0x0000_FFFF_0000_0000 | UInt64(a) << 24 | UInt64(b) << 16 | UInt64(c) << 8 | UInt64(d)
    }

    /// True for IPv4-mapped addresses (`::ffff:0:0/96`).
    @inlinable public var isIPv4Mapped: Bool { high == 0 && (low >> 32) == 0xFFFF }

    public static func < (a: IPv6Address, b: IPv6Address) -> Bool { (a.high, a.low) < (b.high, b.low) }

    /// The address with every bit after the first `length` bits cleared.
    @inlinable public func masked(to length: Int) -> IPv6Address {
        if length <= 0 { return .unspecified }
        if length >= 128 { return self }
        if length <= 64 {
            let mask: UInt64 = length == 64 ? ~0 : ~(~0 >> UInt64(length))
            return IPv6Address(high: high & mask, low: 0)
        }
        let mask: UInt64 = ~(~0 >> UInt64(length - 64))
        return IPv6Address(high: high, low: low & mask)
    }

    /// Text form: dotted quad for IPv4-mapped addresses, RFC 5952 otherwise.
    public var description: String {
        if isIPv4Mapped {
            return "\(byte(12)).\(byte(13)).\(byte(14)).\(byte(15))"
        }
        var groups = [UInt16](repeating: 0, count: 8)
        for i in 0..<8 { groups[i] = UInt16(byte(2 * i)) << 8 | UInt16(byte(2 * i + 1)) }
        // Longest run of zero groups (length >= 2) is compressed.
        var bestStart = -1, bestLen = 0, i = 0
        while i < 8 {
            if groups[i] == 0 {
                var j = i
                while j < 8 && groups[j] == 0 { j += 1 }
                if j - i > bestLen && j - i >= 2 { bestStart = i; bestLen = j - i }
                i = j
            } else { i += 1 }
        }
        func hex(_ g: UInt16) -> String { String(g, radix: 16) }
        if bestStart < 0 { return groups.map(hex).joined(separator: ":") }
        let head = groups[..<bestStart].map(hex).joined(separator: ":")
        let tail = groups[(bestStart + bestLen)...].map(hex).joined(separator: ":")
        return head + "::" + tail
    }

    /// Parses RFC 4291 text (with `::`) or a dotted IPv4 quad (mapped). Nil on any error.
    public init?(_ text: Substring) {
        if !text.contains(":") {
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 4 else { return nil }
            var q = [UInt8]()
            for p in parts {
                guard !p.isEmpty, p.count <= 3, let v = UInt8(p) else { return nil }
                q.append(v)
            }
            self.init(ipv4: q[0], q[1], q[2], q[3])
            return
        }
        let halves = text.components(separatedByDoubleColon: ())
        guard halves.count <= 2 else { return nil }
        func groups(_ s: Substring) -> [UInt16]? {
            if s.isEmpty { return [] }
            var out = [UInt16]()
            for g in s.split(separator: ":", omittingEmptySubsequences: false) {
                guard !g.isEmpty, g.count <= 4, let v = UInt16(g, radix: 16) else { return nil }
                out.append(v)
            }
            return out
        }
        var all: [UInt16]
        if halves.count == 2 {
            guard let a = groups(halves[0]), let b = groups(halves[1]), a.count + b.count <= 7 else { return nil }
            all = a + [UInt16](repeating: 0, count: 8 - a.count - b.count) + b
        } else {
            guard let a = groups(halves[0]), a.count == 8 else { return nil }
            all = a
        }
        var bytes = [UInt8]()
        for g in all { bytes.append(UInt8(g >> 8)); bytes.append(UInt8(g & 0xFF)) }
        self.init(bytes: bytes)
    }

    public init?(_ text: String) { self.init(Substring(text)) }
}

extension Substring {
    /// Splits at every "::" (a byte loop: `firstRange(of:)` would pull Swift's regex runtime into
    /// static binaries, about 1.4 MB). One part means no "::", three or more mean it appeared twice.
    fileprivate func components(separatedByDoubleColon _: ()) -> [Substring] {
        var parts: [Substring] = []
        var start = startIndex
        var i = startIndex
        while i < endIndex {
            let next = index(after: i)
            if self[i] == ":" && next < endIndex && self[next] == ":" {
                parts.append(self[start..<i])
                start = index(after: next)
                i = start
            } else {
                i = next
            }
        }
        parts.append(self[start..<endIndex])
        return parts
    }
}
