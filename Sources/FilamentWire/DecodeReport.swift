/// What a decoder skipped while accepting a packet: the counts a driver adds to its drop statistics.
/// None of these is an error (they are how newer bulbs extend the format without a flag day).
/// Decoders add to the counts, so one report can accumulate over many packets.
public struct DecodeReport: Hashable, Sendable {
    /// TLVs of a type this version does not know, skipped whole.
    public var unknownTLVs: Int = 0
    /// Pad1 and PadN bytes (TLV headers included).
    public var paddingBytes: Int = 0
    /// Bytes inside known TLVs past the fields this version knows (fields a newer version appended).
    public var extensionBytes: Int = 0
    /// Bytes after the body (Ethernet padding of short raw frames, or a future trailer).
    public var trailerBytes: Int = 0

    public init() {}
}
