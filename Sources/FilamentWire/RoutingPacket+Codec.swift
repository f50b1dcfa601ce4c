import FilamentCore

// A routing packet on the wire: a 4-byte header (magic, version, body length) and a body of TLVs,
// then possibly trailer bytes that this version ignores. docs/wire-format.md is the reference.

extension RoutingPacket {
    /// First header byte of every routing packet.
    public static let magic: UInt8 = 0xF1
    /// Header bytes: magic, version, 16-bit body length.
    public static let headerSize = 4
    /// The largest body the 16-bit length can describe.
    public static let maxBodySize = 0xFFFF

    /// Bytes `message` adds to a packet (see `Message.encodedSize`: exact for every message but an
    /// Update that needs a Router-Id TLV, where it is an upper bound).
    public static func encodedSize(of message: Message) -> Int { message.encodedSize }

    /// The exact encoded size of this packet, header included.
    public var encodedSize: Int {
        var size = RoutingPacket.headerSize
        var current: RouterID?
        for m in messages {
            size += 2 + m.valueLength
            if case .update(let u) = m, !u.routerIDIsDerived, current != u.routerID {
                size += Message.routerIDTLVSize
                current = u.routerID
            }
        }
        return size
    }

    // MARK: encoding

    /// Appends the encoded packet to `buffer`. Throws (leaving `buffer` as it was) when the packet would
    /// exceed `maxSize` bytes or the 16-bit body length, or a message cannot be encoded.
    public func encode(into buffer: inout [UInt8], maxSize: Int = RoutingPacket.headerSize + RoutingPacket.maxBodySize)
        throws(WireError)
    {
        let size = encodedSize
        let limit = min(maxSize, RoutingPacket.headerSize + RoutingPacket.maxBodySize)
        guard size <= limit else { throw .packetTooLarge(size: size, limit: limit) }
        let start = buffer.count
        buffer.reserveCapacity(start + size)
        buffer.append(RoutingPacket.magic)
        buffer.append(version)
        buffer.appendBE(UInt16(0))  // body length, patched below
        var current: RouterID?
        do {
            for m in messages { try m.encode(into: &buffer, currentRouterID: &current) }
        } catch {
            buffer.removeSubrange(start...)
            throw error
        }
        let body = buffer.count - start - RoutingPacket.headerSize
        buffer[start + 2] = UInt8(truncatingIfNeeded: body >> 8)
        buffer[start + 3] = UInt8(truncatingIfNeeded: body)
    }

    /// The encoded packet in a new array.
    public func encode() throws(WireError) -> [UInt8] {
        var out = [UInt8]()
        try encode(into: &out)
        return out
    }

    // MARK: decoding

    /// Decodes one packet from `buffer` (header, then TLVs up to the body length; trailing bytes are
    /// ignored and counted). Unknown TLVs are skipped and counted in `report`; anything malformed throws.
    /// Reads only inside `buffer` and never traps.
    public static func decode(_ buffer: UnsafeRawBufferPointer, report: inout DecodeReport) throws(WireError)
        -> RoutingPacket
    {
        guard buffer.count >= headerSize else { throw .truncatedHeader(available: buffer.count) }
        guard buffer[0] == magic else { throw .badMagic(buffer[0]) }
        let version = buffer[1]
        guard version == currentVersion else { throw .unsupportedVersion(version) }
        let bodyLength = Int(buffer[2]) << 8 | Int(buffer[3])
        let available = buffer.count - headerSize
        guard bodyLength <= available else { throw .bodyOverrun(declared: bodyLength, available: available) }
        let end = headerSize + bodyLength
        report.trailerBytes += buffer.count - end

        var messages: [Message] = []
        var current: RouterID?
        var offset = headerSize
        while offset < end {
            let typeByte = buffer[offset]
            if typeByte == TLVType.pad1.rawValue {
                report.paddingBytes += 1
                offset += 1
                continue
            }
            guard end - offset >= 2 else { throw .tlvOverrun(type: typeByte, offset: offset) }
            let length = Int(buffer[offset + 1])
            let valueStart = offset + 2
            guard end - valueStart >= length else { throw .tlvOverrun(type: typeByte, offset: offset) }
            let valueEnd = valueStart + length
            var reader = WireReader(buffer, start: valueStart, end: valueEnd,
                                    failure: .tlvTooShort(type: typeByte, offset: offset))
            switch TLVType(rawValue: typeByte) {
            case nil:
                report.unknownTLVs += 1
            case .pad1?, .padN?:
                report.paddingBytes += 2 + length
            case .routerID?:
                current = RouterID(try reader.u64())
                report.extensionBytes += reader.remaining
            case let type?:
                messages.append(try Message.decode(type: type, value: &reader, tlvOffset: offset,
                                                   currentRouterID: current, report: &report))
            }
            offset = valueEnd
        }
        return RoutingPacket(version: version, messages: messages)
    }

    /// Decodes one packet from `buffer`, discarding the report.
    public static func decode(_ buffer: UnsafeRawBufferPointer) throws(WireError) -> RoutingPacket {
        var report = DecodeReport()
        return try decode(buffer, report: &report)
    }

    /// Decodes one packet from `bytes` without copying them.
    public static func decode(_ bytes: ArraySlice<UInt8>, report: inout DecodeReport) throws(WireError)
        -> RoutingPacket
    {
        var r = report
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(WireError) in try decode(buffer, report: &r) }
        }
        report = r
        return try result.get()
    }

    /// Decodes one packet from `bytes` without copying them, discarding the report.
    public static func decode(_ bytes: ArraySlice<UInt8>) throws(WireError) -> RoutingPacket {
        var report = DecodeReport()
        return try decode(bytes, report: &report)
    }

    /// Decodes one packet from `bytes`, discarding the report.
    public static func decode(_ bytes: [UInt8]) throws(WireError) -> RoutingPacket {
        try decode(bytes[...])
    }
}
