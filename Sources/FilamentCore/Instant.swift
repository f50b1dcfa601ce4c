/// A point in time as seen by the engine: nanoseconds since an arbitrary origin chosen by the driver
/// (boot of the daemon, start of a simulation). The engine never reads a clock; drivers pass `now`.
public struct Instant: Comparable, Hashable, Sendable, CustomStringConvertible {
    public var nanoseconds: Int64

    @inlinable public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    public static let zero = Instant(nanoseconds: 0)
    /// Later than any real deadline; "no deadline".
    public static let distantFuture = Instant(nanoseconds: .max)

    @inlinable public static func < (a: Instant, b: Instant) -> Bool { a.nanoseconds < b.nanoseconds }
    @inlinable public static func + (a: Instant, b: Interval) -> Instant {
        let (sum, overflow) = a.nanoseconds.addingReportingOverflow(b.nanoseconds)
        return Instant(nanoseconds: overflow ? (b.nanoseconds > 0 ? .max : .min) : sum)
    }
    @inlinable public static func - (a: Instant, b: Interval) -> Instant { a + Interval(nanoseconds: -b.nanoseconds) }
    @inlinable public static func - (a: Instant, b: Instant) -> Interval {
        let (d, overflow) = a.nanoseconds.subtractingReportingOverflow(b.nanoseconds)
        return Interval(nanoseconds: overflow ? (b.nanoseconds > 0 ? .min : .max) : d)
    }
    public var description: String { "t+\(Interval(nanoseconds: nanoseconds))" }
}

/// A length of time in nanoseconds. Named `Interval` so it never shadows `Swift.Duration`.
public struct Interval: Comparable, Hashable, Sendable, CustomStringConvertible {
    public var nanoseconds: Int64

    @inlinable public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }
    @inlinable public static func milliseconds(_ ms: Int64) -> Interval { Interval(nanoseconds: ms &* 1_000_000) }
    @inlinable public static func seconds(_ s: Int64) -> Interval { Interval(nanoseconds: s &* 1_000_000_000) }
    @inlinable public static func microseconds(_ us: Int64) -> Interval { Interval(nanoseconds: us &* 1_000) }

    public static let zero = Interval(nanoseconds: 0)

    @inlinable public var milliseconds: Int64 { nanoseconds / 1_000_000 }
    @inlinable public var seconds: Double { Double(nanoseconds) / 1e9 }

    @inlinable public static func < (a: Interval, b: Interval) -> Bool { a.nanoseconds < b.nanoseconds }
    @inlinable public static func + (a: Interval, b: Interval) -> Interval { Interval(nanoseconds: a.nanoseconds &+ b.nanoseconds) }
    @inlinable public static func - (a: Interval, b: Interval) -> Interval { Interval(nanoseconds: a.nanoseconds &- b.nanoseconds) }
    @inlinable public static func * (a: Interval, k: Int64) -> Interval { Interval(nanoseconds: a.nanoseconds &* k) }
    @inlinable public static func / (a: Interval, k: Int64) -> Interval { Interval(nanoseconds: a.nanoseconds / k) }

    public var description: String {
        let ms = nanoseconds / 1_000_000
        return ms % 1000 == 0 ? "\(ms / 1000)s" : "\(ms)ms"
    }
}
