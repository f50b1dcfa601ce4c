/// A route metric. 0xFFFF is infinity (unreachable); addition saturates at infinity
/// and never wraps.
public struct Metric: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16
    @inlinable public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    public static let infinity = Metric(0xFFFF)
    public static let zero = Metric(0)

    @inlinable public var isInfinite: Bool { rawValue == 0xFFFF }

    /// Saturating addition: anything plus infinity is infinity; sums past 0xFFFE become infinity.
    @inlinable public static func + (a: Metric, b: Metric) -> Metric {
        let s = UInt32(a.rawValue) + UInt32(b.rawValue)
        return s >= 0xFFFF ? .infinity : Metric(UInt16(s))
    }

    @inlinable public static func < (a: Metric, b: Metric) -> Bool { a.rawValue < b.rawValue }
    public var description: String { isInfinite ? "inf" : String(rawValue) }
}
