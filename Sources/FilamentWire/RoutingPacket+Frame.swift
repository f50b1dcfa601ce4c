// Routing packets inside the two envelopes: a plaintext frame (`FrameType.plaintextRouting`, the
// multicast hello datagram) and the inner payload of a decrypted transport frame
// (`InnerPayloadType.routing`). Each is one type byte followed by the packet.

extension RoutingPacket {
    /// Appends a plaintext routing frame (0x10, then the packet). `maxSize` bounds the whole frame.
    public func encodePlaintextFrame(into buffer: inout [UInt8],
                                     maxSize: Int = 1 + RoutingPacket.headerSize + RoutingPacket.maxBodySize)
        throws(WireError)
    {
        try encodeWithTypeByte(FrameType.plaintextRouting.rawValue, into: &buffer, maxSize: maxSize)
    }

    /// Appends the plaintext of a transport frame carrying this packet (0x00, then the packet), ready to
    /// be encrypted. `maxSize` bounds the whole plaintext.
    public func encodeInnerPayload(into buffer: inout [UInt8],
                                   maxSize: Int = 1 + RoutingPacket.headerSize + RoutingPacket.maxBodySize)
        throws(WireError)
    {
        try encodeWithTypeByte(InnerPayloadType.routing.rawValue, into: &buffer, maxSize: maxSize)
    }

    private func encodeWithTypeByte(_ type: UInt8, into buffer: inout [UInt8], maxSize: Int) throws(WireError) {
        let start = buffer.count
        buffer.append(type)
        do {
            try encode(into: &buffer, maxSize: maxSize - 1)
        } catch {
            buffer.removeSubrange(start...)
            if case .packetTooLarge = error {
                throw .packetTooLarge(size: encodedSize + 1,
                                      limit: min(maxSize, 1 + RoutingPacket.headerSize + RoutingPacket.maxBodySize))
            }
            throw error
        }
    }

    /// Decodes a plaintext routing frame: byte 0 must be `FrameType.plaintextRouting`.
    public static func decodePlaintextFrame(_ datagram: UnsafeRawBufferPointer, report: inout DecodeReport)
        throws(WireError) -> RoutingPacket
    {
        try decodeAfterTypeByte(FrameType.plaintextRouting.rawValue, datagram, report: &report)
    }

    /// Decodes the plaintext of a transport frame that carries a routing packet: byte 0 must be
    /// `InnerPayloadType.routing`.
    public static func decodeInnerPayload(_ plaintext: UnsafeRawBufferPointer, report: inout DecodeReport)
        throws(WireError) -> RoutingPacket
    {
        try decodeAfterTypeByte(InnerPayloadType.routing.rawValue, plaintext, report: &report)
    }

    /// `decodePlaintextFrame` over an array slice (no copy).
    public static func decodePlaintextFrame(_ datagram: ArraySlice<UInt8>, report: inout DecodeReport)
        throws(WireError) -> RoutingPacket
    {
        try decodeAfterTypeByte(FrameType.plaintextRouting.rawValue, datagram, report: &report)
    }

    /// `decodeInnerPayload` over an array slice (no copy).
    public static func decodeInnerPayload(_ plaintext: ArraySlice<UInt8>, report: inout DecodeReport)
        throws(WireError) -> RoutingPacket
    {
        try decodeAfterTypeByte(InnerPayloadType.routing.rawValue, plaintext, report: &report)
    }

    private static func decodeAfterTypeByte(_ type: UInt8, _ buffer: UnsafeRawBufferPointer,
                                            report: inout DecodeReport) throws(WireError) -> RoutingPacket
    {
        guard let first = buffer.first else { throw .emptyFrame }
        guard first == type else { throw .wrongFrameType(expected: type, found: first) }
        return try decode(UnsafeRawBufferPointer(rebasing: buffer[1...]), report: &report)
    }

    private static func decodeAfterTypeByte(_ type: UInt8, _ bytes: ArraySlice<UInt8>,
                                            report: inout DecodeReport) throws(WireError) -> RoutingPacket
    {
        guard let first = bytes.first else { throw .emptyFrame }
        guard first == type else { throw .wrongFrameType(expected: type, found: first) }
        return try decode(bytes.dropFirst(), report: &report)
    }
}
