import FilamentCore
@testable import FilamentWire
import Testing

/// A packet with `body` behind a valid header.
private func packet(_ body: String) -> [UInt8] {
    let b = hexBytes(body)
    return [0xF1, 0x01, UInt8(b.count >> 8), UInt8(b.count & 0xFF)] + b
}

private func expectError(_ error: WireError, _ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(throws: error, sourceLocation: sourceLocation) { try RoutingPacket.decode(bytes) }
}

@Suite struct ErrorTests {
    /// Header problems each give their own error.
    @Test func headerErrors() throws {
        expectError(.truncatedHeader(available: 0), [])
        expectError(.truncatedHeader(available: 3), [0xF1, 0x01, 0x00])
        expectError(.badMagic(0x2A), [0x2A, 0x02, 0x00, 0x00])
        expectError(.unsupportedVersion(2), [0xF1, 0x02, 0x00, 0x00])
        expectError(.bodyOverrun(declared: 5, available: 4), [0xF1, 0x01, 0x00, 0x05, 1, 2, 3, 4])
        #expect(try RoutingPacket.decode([0xF1, 0x01, 0x00, 0x00]) == RoutingPacket(messages: []))
    }

    /// A TLV that runs past the body (even with bytes after the body) is an overrun.
    @Test func tlvOverrun() {
        expectError(.tlvOverrun(type: 0x22, offset: 4), packet("22"))
        expectError(.tlvOverrun(type: 0x22, offset: 4), packet("22 05 80 DE AD BE"))
        var bytes = packet("22 05 80 DE AD BE")
        bytes.append(0xEF)  // the missing byte sits in the trailer, not the body
        expectError(.tlvOverrun(type: 0x22, offset: 4), bytes)
        expectError(.tlvOverrun(type: 0x99, offset: 5), packet("00 99 04 00"))
    }

    /// A known TLV shorter than its fields is rejected, naming the TLV.
    @Test func tlvTooShort() {
        expectError(.tlvTooShort(type: 0x22, offset: 4), packet("22 04 80 DE AD BE"))
        expectError(.tlvTooShort(type: 0x04, offset: 4), packet("04 0D 80 12 34 01 90 01 02 03 04 05 06 07 08"))  // key flag, no key
        expectError(.tlvTooShort(type: 0x08, offset: 4), packet("08 0A 03 40 80 06 40 FF FF 01 00 00"))  // prefix cut short
        expectError(.tlvTooShort(type: 0x06, offset: 4), packet("06 07 01 02 03 04 05 06 07"))
    }

    /// Bad address encodings and prefix lengths are rejected; host bits past the length are an error.
    @Test func prefixErrors() throws {
        expectError(.badAddressEncoding(type: 0x08, ae: 0), packet("08 09 00 40 00 00 00 00 00 00 00"))
        expectError(.badAddressEncoding(type: 0x09, ae: 7), packet("09 02 07 00"))
        expectError(.badPrefixLength(ae: 0, length: 8), packet("09 03 00 08 0A"))
        expectError(.badPrefixLength(ae: 1, length: 33), packet("09 07 01 21 01 02 03 04 05"))
        expectError(.badPrefixLength(ae: 2, length: 129), packet("09 02 02 81"))
        expectError(.badPrefixLength(ae: 3, length: 47), packet("09 02 03 2F"))
        expectError(.prefixHostBitsSet, packet("09 04 01 09 0A 40"))  // /9 with bit 10 set
        expectError(.prefixHostBitsSet, packet("09 03 02 04 01"))  // /4 with bit 8 set
        #expect(try RoutingPacket.decode(packet("09 04 01 09 0A 80")).messages
                == [.routeRequest(RouteRequest(prefix: Prefix("10.128.0.0/9")!))])
    }

    /// An Update with no router id (no flag, no preceding Router-Id TLV) is rejected.
    @Test func updateWithoutRouterID() {
        expectError(.updateWithoutRouterID(offset: 4), packet("08 09 01 00 00 00 00 00 07 FF FF"))
    }

    /// Gateway names: longer than 32 bytes or invalid UTF-8 is rejected on decode.
    @Test func gatewayNameErrors() throws {
        var bytes = try RoutingPacket(messages: [.gatewayAdvert(goldenAdvert)]).encode()
        let nameAt = 4 + 2 + 32 + 4 + 1 + 4 + 4 + 1 + 2
        #expect(bytes[nameAt] == 2)
        bytes[nameAt + 1] = 0xFF
        expectError(.nameNotUTF8, bytes)
        bytes[nameAt + 1] = 0xC3  // a lead byte with its continuation missing
        expectError(.nameNotUTF8, bytes)
        var long = Array(bytes[0..<nameAt]) + [33] + [UInt8](repeating: 0x61, count: 33) + [UInt8](repeating: 0xEE, count: 64)
        long[5] = UInt8(long.count - 6)
        long[2] = UInt8((long.count - 4) >> 8); long[3] = UInt8((long.count - 4) & 0xFF)
        expectError(.nameTooLong(33), long)
    }

    /// The encoder refuses what the wire cannot carry and leaves the buffer untouched.
    @Test func encodeErrors() {
        var bad = goldenAdvert
        bad.signature = [1, 2, 3]
        var buffer: [UInt8] = [9]
        #expect(throws: WireError.badSignatureLength(3)) {
            try RoutingPacket(messages: [.probe(Probe(nonce: 1, isReply: false)), .gatewayAdvert(bad)]).encode(into: &buffer)
        }
        #expect(buffer == [9])
        bad = goldenAdvert
        bad.name = String(repeating: "\u{E9}", count: 17)  // 34 bytes
        #expect(throws: WireError.nameTooLong(34)) { try RoutingPacket(messages: [.gatewayAdvert(bad)]).encode() }
        let probe = RoutingPacket(messages: [.probe(Probe(nonce: 1, isReply: false))])
        #expect(throws: WireError.packetTooLarge(size: 11, limit: 10)) { try probe.encode(into: &buffer, maxSize: 10) }
        #expect(throws: WireError.packetTooLarge(size: 12, limit: 11)) { try probe.encodePlaintextFrame(into: &buffer, maxSize: 11) }
        #expect(buffer == [9])
        let huge = RoutingPacket(messages: Array(repeating: .probe(Probe(nonce: 1, isReply: false)), count: 10_000))
        #expect(throws: WireError.packetTooLarge(size: 70_004, limit: 65_539)) { try huge.encode() }
    }

    /// Envelope errors: empty frames and wrong type bytes.
    @Test func envelopeErrors() {
        var report = DecodeReport()
        #expect(throws: WireError.emptyFrame) { try RoutingPacket.decodePlaintextFrame([UInt8]()[...], report: &report) }
        #expect(throws: WireError.wrongFrameType(expected: 0x00, found: 0x04)) {
            try RoutingPacket.decodeInnerPayload([0x04, 0xF1, 0x01, 0, 0][...], report: &report)
        }
        #expect(FrameType(firstByteOf: [0x11][...]) == nil)
        #expect(FrameType(firstByteOf: [UInt8]()[...]) == nil)
        #expect(FrameType.allCases.map(\.rawValue) == [0x01, 0x02, 0x03, 0x04, 0x10])
        #expect(InnerPayloadType.allCases.map(\.rawValue) == [0x00, 0x01])
    }
}
