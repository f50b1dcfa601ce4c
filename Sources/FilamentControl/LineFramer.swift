/// Splits a byte stream into lines with a hard limit on line length, so a client that never sends
/// a newline cannot make the daemon buffer without bound. An over-long line is reported once and
/// discarded up to its newline; the connection can go on.
public struct LineFramer: Sendable {
    public enum Output: Equatable, Sendable {
        case line([UInt8])
        /// A line longer than the limit was dropped.
        case tooLong
    }

    public let maxLineLength: Int
    private var buffer: [UInt8] = []
    private var discarding = false

    public init(maxLineLength: Int = 64 * 1024) {
        precondition(maxLineLength > 0)
        self.maxLineLength = maxLineLength
    }

    /// Bytes currently held (never more than `maxLineLength`).
    public var bufferedCount: Int { buffer.count }

    /// Feeds bytes; returns the complete lines (without the newline) and over-long markers, in order.
    /// A trailing `\r` is removed, empty lines are skipped.
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [Output] {
        var out: [Output] = []
        for b in bytes {
            if b == 0x0A {
                if discarding {
                    discarding = false
                } else {
                    if buffer.last == 0x0D { buffer.removeLast() }
                    if !buffer.isEmpty { out.append(.line(buffer)) }
                }
                buffer.removeAll(keepingCapacity: true)
                continue
            }
            if discarding { continue }
            if buffer.count == maxLineLength {
                discarding = true
                buffer.removeAll(keepingCapacity: true)
                out.append(.tooLong)
                continue
            }
            buffer.append(b)
        }
        return out
    }
}
