/// A bounds-checked cursor over borrowed bytes. Every read checks the remaining length first and
/// throws `failure` when it is short, so no input can read out of bounds or trap.
struct WireReader {
    private let buffer: UnsafeRawBufferPointer
    /// Absolute offset of the next byte in `buffer`.
    private(set) var offset: Int
    /// Absolute end (exclusive) of the readable region.
    let end: Int
    /// Thrown by every read that would pass `end`.
    let failure: WireError

    /// A reader over `buffer[start..<end]`. The caller guarantees `0 <= start <= end <= buffer.count`.
    init(_ buffer: UnsafeRawBufferPointer, start: Int, end: Int, failure: WireError) {
        self.buffer = buffer
        self.offset = start
        self.end = end
        self.failure = failure
    }

    var remaining: Int { end - offset }

    mutating func u8() throws(WireError) -> UInt8 {
        guard offset < end else { throw failure }
        let b = buffer[offset]
        offset += 1
        return b
    }

    mutating func u16() throws(WireError) -> UInt16 {
        guard remaining >= 2 else { throw failure }
        let v = UInt16(buffer[offset]) << 8 | UInt16(buffer[offset + 1])
        offset += 2
        return v
    }

    mutating func u32() throws(WireError) -> UInt32 {
        guard remaining >= 4 else { throw failure }
        var v: UInt32 = 0
        for i in 0..<4 { v = v << 8 | UInt32(buffer[offset + i]) }
        offset += 4
        return v
    }

    mutating func u64() throws(WireError) -> UInt64 {
        guard remaining >= 8 else { throw failure }
        var v: UInt64 = 0
        for i in 0..<8 { v = v << 8 | UInt64(buffer[offset + i]) }
        offset += 8
        return v
    }

    /// The next `count` bytes, copied into a new array (`count` must not be negative).
    mutating func bytes(_ count: Int) throws(WireError) -> [UInt8] {
        guard count >= 0, remaining >= count else { throw failure }
        let out = [UInt8](buffer[offset..<(offset + count)])
        offset += count
        return out
    }

    /// Runs `body` on a view of the next `count` bytes and advances past them.
    mutating func withBytes<R>(_ count: Int, _ body: (UnsafeRawBufferPointer) -> R) throws(WireError) -> R {
        guard count >= 0, remaining >= count else { throw failure }
        let view = UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + count)])
        offset += count
        return body(view)
    }
}
