/// Why a state file was rejected.
public enum FileDefect: Equatable, Sendable, CustomStringConvertible {
    /// Shorter than the format needs (a torn or truncated write).
    case truncated(size: Int, expected: Int)
    /// Longer than the format allows.
    case tooLong(size: Int, expected: Int)
    /// The first bytes are not this format's magic.
    case badMagic
    /// A version this build does not read.
    case unsupportedVersion(UInt16)
    /// Reserved bytes or fields that must be zero are not.
    case badHeader
    /// The BLAKE2b checksum does not match the contents.
    case checksumMismatch

    public var description: String {
        switch self {
        case let .truncated(size, expected): return "truncated: \(size) bytes, expected \(expected)"
        case let .tooLong(size, expected): return "too long: \(size) bytes, expected \(expected)"
        case .badMagic: return "wrong magic, not a filament file of this kind"
        case let .unsupportedVersion(v): return "unsupported format version \(v)"
        case .badHeader: return "malformed header"
        case .checksumMismatch: return "checksum mismatch, the contents are damaged"
        }
    }
}
