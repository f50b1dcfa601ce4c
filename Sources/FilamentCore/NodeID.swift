/// A node's long-term identity: its 32-byte Ed25519 public key. The X25519 key used by the
/// link layer is derived from the same key pair (see docs/identity.md).
public struct NodeID: Hashable, Comparable, Sendable, CustomStringConvertible {
    // Four big-endian words: cheap hashing and comparison, no heap allocation.
    public var w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64

    public init(w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64) {
        self.w0 = w0; self.w1 = w1; self.w2 = w2; self.w3 = w3
    }

    /// From exactly 32 bytes; nil otherwise.
    public init?<C: Collection>(bytes: C) where C.Element == UInt8 {
        guard bytes.count == 32 else { return nil }
        var w = [UInt64](repeating: 0, count: 4)
        for (i, b) in bytes.enumerated() { w[i / 8] = (w[i / 8] << 8) | UInt64(b) }
        self.init(w0: w[0], w1: w[1], w2: w[2], w3: w[3])
    }

    public var bytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(32)
        for w in [w0, w1, w2, w3] {
            for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: w >> UInt64(56 - 8 * i))) }
        }
        return out
    }

    public static func < (a: NodeID, b: NodeID) -> Bool { (a.w0, a.w1, a.w2, a.w3) < (b.w0, b.w1, b.w2, b.w3) }

    /// Lower-case hex of all 32 bytes.
    public var hex: String { bytes.map { b in (b < 16 ? "0" : "") + String(b, radix: 16) }.joined() }
    /// The first 8 hex digits, for humans.
    public var description: String { String(hex.prefix(8)) }
}

/// The 64-bit router id that names a routing source (RFC 8966's router-id). It is the interface
/// identifier (low 64 bits) of the node's mesh address, itself derived from a hash of the node's
/// public key, so a router id can be checked against a key.
public struct RouterID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    @inlinable public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    /// The router id of a mesh address.
    @inlinable public init(meshAddress: IPv6Address) { rawValue = meshAddress.low }
    public static func < (a: RouterID, b: RouterID) -> Bool { a.rawValue < b.rawValue }
    public var description: String {
        let h = String(rawValue, radix: 16)
        return String(repeating: "0", count: 16 - h.count) + h
    }
}

/// An interface as the driver names it (the kernel's ifindex in the daemon, a small number in the simulator).
public struct InterfaceID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32
    @inlinable public init(_ rawValue: UInt32) { self.rawValue = rawValue }
    public static func < (a: InterfaceID, b: InterfaceID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "if\(rawValue)" }
}
