import FilamentCore
@testable import FilamentWire
import PropertyBased
import Testing

@Suite struct RoundTripTests {
    /// decode(encode(p)) == p for random packets of every message kind, and the exact size is what `encodedSize` says.
    @Test func randomPacketsRoundTrip() async throws {
        await propertyCheck(count: 1000, input: WireGen.packets) { packet in
            let bytes = try packet.encode()
            #expect(bytes.count == packet.encodedSize)
            var report = DecodeReport()
            let decoded = try RoutingPacket.decode(bytes[...], report: &report)
            #expect(decoded == packet)
            #expect(report == DecodeReport())
        }
    }

    /// Each message alone round-trips, and `encodedSize(of:)` is exact in a packet of its own.
    @Test func singleMessagesRoundTripWithExactSize() async throws {
        await propertyCheck(count: 2000, input: WireGen.messages) { message in
            let packet = RoutingPacket(messages: [message])
            let bytes = try packet.encode()
            #expect(bytes.count == RoutingPacket.headerSize + RoutingPacket.encodedSize(of: message))
            #expect(try RoutingPacket.decode(bytes) == packet)
        }
    }

    /// Summing `encodedSize(of:)` never underestimates a packet (safe for MTU batching).
    @Test func messageSizesBoundPacketSize() async throws {
        await propertyCheck(count: 500, input: WireGen.packets) { packet in
            let bound = RoutingPacket.headerSize + packet.messages.reduce(0) { $0 + $1.encodedSize }
            #expect(packet.encodedSize <= bound)
            let encoded = try packet.encode()
            #expect(encoded.count == packet.encodedSize)
        }
    }

    /// Encoding appends to a caller's buffer without touching what is already there.
    @Test func encodeAppendsToExistingBuffer() throws {
        var r = SeededRandom(seed: 7)
        let a = WireGen.packet(&r), b = WireGen.packet(&r)
        var buffer: [UInt8] = [0xAA]
        try a.encode(into: &buffer)
        let split = buffer.count
        try b.encode(into: &buffer)
        #expect(buffer[0] == 0xAA)
        #expect(try RoutingPacket.decode(buffer[1..<split]) == a)
        #expect(try RoutingPacket.decode(buffer[split...]) == b)
    }

    /// Plaintext frames and inner payloads carry their type byte and round-trip; the wrong type byte is an error.
    @Test func framesRoundTrip() async throws {
        await propertyCheck(count: 200, input: WireGen.packets) { packet in
            var frame: [UInt8] = []
            try packet.encodePlaintextFrame(into: &frame)
            #expect(frame.first == FrameType.plaintextRouting.rawValue)
            #expect(FrameType(firstByteOf: frame[...]) == .plaintextRouting)
            var report = DecodeReport()
            #expect(try RoutingPacket.decodePlaintextFrame(frame[...], report: &report) == packet)
            var inner: [UInt8] = []
            try packet.encodeInnerPayload(into: &inner)
            #expect(inner.first == InnerPayloadType.routing.rawValue)
            let decoded = try inner.withUnsafeBytes { buf in
                try Result { () throws(WireError) in try RoutingPacket.decodeInnerPayload(buf, report: &report) }.get()
            }
            #expect(decoded == packet)
            #expect(throws: WireError.wrongFrameType(expected: 0x10, found: 0x00)) {
                try RoutingPacket.decodePlaintextFrame(inner[...], report: &report)
            }
        }
    }

    /// Batching splits messages in order into packets that each fit the limit exactly as encoded.
    @Test func batchingRespectsLimit() async throws {
        let input = zip(Gen.int(in: 60...1400), WireGen.seeds)
        await propertyCheck(count: 300, input: input) { limit, seed in
            var r = SeededRandom(seed: seed)
            var messages: [Message] = []
            for _ in 0..<Int.random(in: 0...200, using: &r) { messages.append(WireGen.message(&r)) }
            let packets = RoutingPacket.batch(messages, maxPacketSize: limit)
            #expect(packets.flatMap(\.messages) == messages)
            for p in packets {
                #expect(!p.messages.isEmpty)
                var out: [UInt8] = []
                try p.encode(into: &out, maxSize: max(limit, p.encodedSize))
                if p.messages.count > 1 { #expect(out.count <= limit) }
                #expect(out.count == p.encodedSize)
            }
            // Greedy: each packet but the last could not take the next packet's first message.
            for (p, next) in zip(packets, packets.dropFirst()) {
                let grown = RoutingPacket(messages: p.messages + [next.messages[0]])
                #expect(grown.encodedSize > limit)
            }
        }
    }

    /// Consecutive Updates from one router share one Router-Id TLV; a mesh /128 from its own router needs none.
    @Test func routerIDCompression() throws {
        let router = RouterID(0x0102_0304_0506_0708)
        let updates = (0..<5).map { i in
            Message.update(Update(prefix: Prefix(ipv4: IPv6Address(ipv4: 10, UInt8(i), 0, 0), length: 16)!,
                                  routerID: router, seqno: Seqno(1), metric: Metric(256), intervalCentiseconds: 0))
        }
        let packet = RoutingPacket(messages: updates)
        // header 4 + one Router-Id TLV 10 + 5 x (2 + 9 + 2)
        #expect(packet.encodedSize == 4 + 10 + 5 * 13)
        #expect(try RoutingPacket.decode(try packet.encode()) == packet)
        let mesh = Prefix(host: IPv6Address(high: 0xFD66_696C_616D_0001, low: 0xA1A2_A3A4_A5A6_A7A8))
        let own = Message.update(Update(prefix: mesh, routerID: RouterID(mesh.address.low), seqno: Seqno(0),
                                        metric: .zero, intervalCentiseconds: 0))
        #expect(own.encodedSize == 2 + 9 + 10)
    }
}
