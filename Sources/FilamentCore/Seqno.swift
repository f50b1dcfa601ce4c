/// A 16-bit routing sequence number compared modulo 2^16 (RFC 8966 section 3.2.1).
/// `a < b` means "a is older than b": true when `(b - a) mod 2^16` is in 1..<32768.
/// This is not a total order (the antipode 32768 is neither older nor newer), so it is not `Comparable`.
public struct Seqno: Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16
    @inlinable public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    /// Strictly older (RFC 8966: seqno_compare < 0).
    @inlinable public func isOlder(than other: Seqno) -> Bool {
        let d = other.rawValue &- rawValue
        return d != 0 && d < 0x8000
    }
    /// Strictly newer.
    @inlinable public func isNewer(than other: Seqno) -> Bool { other.isOlder(than: self) }
    /// Newer or equal.
    @inlinable public func isAtLeast(_ other: Seqno) -> Bool { self == other || isNewer(than: other) }

    @inlinable public func advanced(by n: UInt16) -> Seqno { Seqno(rawValue &+ n) }

    public var description: String { String(rawValue) }
}
