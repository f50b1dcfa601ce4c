// Big-endian appends into a caller-owned byte array (no allocation beyond the array's growth).

extension Array where Element == UInt8 {
    @inline(__always) mutating func appendBE(_ v: UInt16) {
        append(UInt8(truncatingIfNeeded: v >> 8)); append(UInt8(truncatingIfNeeded: v))
    }

    @inline(__always) mutating func appendBE(_ v: UInt32) {
        append(UInt8(truncatingIfNeeded: v >> 24)); append(UInt8(truncatingIfNeeded: v >> 16))
        append(UInt8(truncatingIfNeeded: v >> 8)); append(UInt8(truncatingIfNeeded: v))
    }

    @inline(__always) mutating func appendBE(_ v: UInt64) {
        appendBE(UInt32(truncatingIfNeeded: v >> 32)); appendBE(UInt32(truncatingIfNeeded: v))
    }

    /// The 32 bytes of a NodeID, without building its `bytes` array.
    @inline(__always) mutating func append(_ node: NodeIDWords) {
        appendBE(node.0); appendBE(node.1); appendBE(node.2); appendBE(node.3)
    }
}

typealias NodeIDWords = (UInt64, UInt64, UInt64, UInt64)
