/// Everything the wire codec can reject. Decoding errors describe the peer's bytes (data, never a
/// crash); encoding errors describe a value that cannot be represented on the wire.
public enum WireError: Error, Hashable, Sendable, CustomStringConvertible {
    // MARK: envelope
    /// The datagram or payload is empty.
    case emptyFrame
    /// The frame's first byte is not the type this decoder expects.
    case wrongFrameType(expected: UInt8, found: UInt8)

    // MARK: routing packet header
    /// Fewer than `RoutingPacket.headerSize` bytes.
    case truncatedHeader(available: Int)
    /// The first header byte is not `RoutingPacket.magic`.
    case badMagic(UInt8)
    /// A major version this code does not speak.
    case unsupportedVersion(UInt8)
    /// The header's body length runs past the end of the datagram.
    case bodyOverrun(declared: Int, available: Int)

    // MARK: TLVs
    /// A TLV's header or value runs past the end of the body (`offset`: of the TLV, from the packet start).
    case tlvOverrun(type: UInt8, offset: Int)
    /// A known TLV's value is too short for its fields.
    case tlvTooShort(type: UInt8, offset: Int)
    /// An address encoding (AE) that is unknown or not allowed in this TLV.
    case badAddressEncoding(type: UInt8, ae: UInt8)
    /// A prefix length outside the range its address encoding allows.
    case badPrefixLength(ae: UInt8, length: UInt8)
    /// Bits past the prefix length are set in the last prefix byte.
    case prefixHostBitsSet
    /// An Update that neither derives its router id from its prefix nor follows a Router-Id TLV.
    case updateWithoutRouterID(offset: Int)
    /// A gateway name longer than `GatewayAdvert.maxNameBytes` bytes (on decode or encode).
    case nameTooLong(Int)
    /// A gateway name that is not valid UTF-8.
    case nameNotUTF8

    // MARK: encoding only
    /// A gateway advert whose signature is not `GatewayAdvert.signatureBytes` long.
    case badSignatureLength(Int)
    /// The encoded packet would be larger than the caller's limit (or than the 16-bit body length).
    case packetTooLarge(size: Int, limit: Int)

    public var description: String {
        switch self {
        case .emptyFrame: "empty frame"
        case let .wrongFrameType(expected, found): "wrong frame type 0x\(hex(found)) (expected 0x\(hex(expected)))"
        case let .truncatedHeader(n): "truncated routing header (\(n) bytes)"
        case let .badMagic(b): "bad routing packet magic 0x\(hex(b))"
        case let .unsupportedVersion(v): "unsupported routing packet version \(v)"
        case let .bodyOverrun(d, a): "body length \(d) exceeds the \(a) bytes available"
        case let .tlvOverrun(t, o): "TLV type \(t) at offset \(o) runs past the body"
        case let .tlvTooShort(t, o): "TLV type \(t) at offset \(o) is too short for its fields"
        case let .badAddressEncoding(t, ae): "address encoding \(ae) not allowed in TLV type \(t)"
        case let .badPrefixLength(ae, l): "prefix length \(l) invalid for address encoding \(ae)"
        case .prefixHostBitsSet: "prefix has bits set past its length"
        case let .updateWithoutRouterID(o): "update at offset \(o) has no router id"
        case let .nameTooLong(n): "gateway name of \(n) bytes (at most \(GatewayAdvert.maxNameBytes))"
        case .nameNotUTF8: "gateway name is not UTF-8"
        case let .badSignatureLength(n): "signature of \(n) bytes (must be \(GatewayAdvert.signatureBytes))"
        case let .packetTooLarge(s, l): "packet of \(s) bytes exceeds the limit of \(l)"
        }
    }
}

private func hex(_ b: UInt8) -> String {
    let s = String(b, radix: 16)
    return b < 16 ? "0" + s : s
}
