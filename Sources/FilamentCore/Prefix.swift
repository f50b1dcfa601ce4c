/// An IP prefix. IPv4 prefixes are IPv4-mapped: `0.0.0.0/0` is `::ffff:0:0/96`, and `length`
/// always counts bits of the 128-bit form. Host bits are always zero.
public struct Prefix: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let address: IPv6Address
    /// 0...128 bits of the 128-bit form.
    public let length: UInt8

    /// Nil when `length > 128`. Host bits are cleared.
    public init?(address: IPv6Address, length: Int) {
        guard (0...128).contains(length) else { return nil }
        self.address = address.masked(to: length)
        self.length = UInt8(length)
    }

    /// A /128 host prefix.
    public init(host: IPv6Address) {
        self.address = host
        self.length = 128
    }

    /// An IPv4 prefix `a.b.c.d/len` (len 0...32).
    public init?(ipv4 address: IPv6Address, length: Int) {
        guard address.isIPv4Mapped, (0...32).contains(length) else { return nil }
        self.init(address: address, length: 96 + length)
    }

    /// `::/0`
    public static let defaultIPv6 = Prefix(address: .unspecified, length: 0)!
    /// `0.0.0.0/0`
    public static let defaultIPv4 = Prefix(address: IPv6Address(ipv4: 0, 0, 0, 0), length: 96)!

    /// True when this prefix is inside `::ffff:0:0/96` (an IPv4 prefix).
    public var isIPv4: Bool { length >= 96 && address.isIPv4Mapped }

    /// Whether `other` lies inside this prefix.
    public func contains(_ other: IPv6Address) -> Bool { other.masked(to: Int(length)) == address }

    public static func < (a: Prefix, b: Prefix) -> Bool { (a.address, a.length) < (b.address, b.length) }

    public var description: String {
        isIPv4 ? "\(address)/\(Int(length) - 96)" : "\(address)/\(length)"
    }

    /// Parses `addr/len` (IPv6 or dotted IPv4). Nil on any error, including host bits set.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let a = IPv6Address(parts[0]), let l = Int(parts[1]) else { return nil }
        let isV4 = !parts[0].contains(":")
        let length = isV4 ? l + 96 : l
        guard l >= 0, (isV4 ? l <= 32 : l <= 128), a.masked(to: length) == a else { return nil }
        self.init(address: a, length: length)
    }
}
