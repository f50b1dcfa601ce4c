import FilamentCore
import FilamentLinux
import Testing

/// The TUN offload format's pure parts (decision 0803): checksums and TCP segmentation, checked
/// against a plain byte-by-byte reference.
@Suite struct TunOffloadTests {
    /// RFC 1071's reference: big-endian 16-bit words, end-around carry.
    static func referenceSum(_ bytes: [UInt8]) -> UInt32 {
        var s: UInt32 = 0
        var i = 0
        while i < bytes.count {
            s += UInt32(bytes[i]) << 8 | (i + 1 < bytes.count ? UInt32(bytes[i + 1]) : 0)
            i += 2
        }
        while s >> 16 != 0 { s = (s & 0xFFFF) + (s >> 16) }
        return s
    }

    /// Pseudo-header (source, destination, upper-layer length, next header 6) plus the TCP bytes.
    static func tcpSumIsValid(_ packet: [UInt8]) -> Bool {
        let tcp = Array(packet[40...])
        let length = UInt32(tcp.count)
        let pseudo = Array(packet[8..<40]) + [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF), 0, 0, 0, 6]
        return referenceSum(pseudo + tcp) == 0xFFFF
    }

    /// An IPv6 TCP packet: 32-byte TCP header (12 bytes of options), `payload` bytes of pattern.
    static func packet(payload: Int, sequence: UInt32, flags: UInt8) -> [UInt8] {
        var p = [UInt8](repeating: 0, count: 40 + 32 + payload)
        p[0] = 0x60
        p[4] = UInt8((32 + payload) >> 8 & 0xFF); p[5] = UInt8((32 + payload) & 0xFF)
        p[6] = 6; p[7] = 64
        for i in 0..<16 { p[8 + i] = UInt8(0xA0 + i); p[24 + i] = UInt8(0x10 + i) }
        p[40] = 0x9C; p[41] = 0x40; p[42] = 0x14; p[43] = 0x51           // ports 40000 → 5201
        for k in 0..<4 { p[44 + k] = UInt8(sequence >> UInt32(24 - 8 * k) & 0xFF) }
        p[48] = 0x11; p[49] = 0x22; p[50] = 0x33; p[51] = 0x44           // ack
        p[52] = 8 << 4                                                     // data offset: 32 bytes
        p[53] = flags
        p[54] = 0x01; p[55] = 0xF5                                         // window
        p[60] = 1; p[61] = 1; p[62] = 8; p[63] = 10                        // NOP NOP timestamps
        for k in 0..<8 { p[64 + k] = UInt8(k + 1) }
        for i in 0..<payload { p[72 + i] = UInt8(truncatingIfNeeded: i &* 31 &+ i >> 8) }
        return p
    }

    @Test func rfc1071Example() {
        let bytes: [UInt8] = [0x00, 0x01, 0xF2, 0x03, 0xF4, 0xF5, 0xF6, 0xF7]
        #expect(Self.referenceSum(bytes) == 0xDDF2)
        var stored: [UInt8] = [0, 0]
        let c = bytes.withUnsafeBytes { InternetChecksum.finish(InternetChecksum.sum($0)) }
        stored.withUnsafeMutableBytes { $0.storeBytes(of: c, as: UInt16.self) }
        #expect(stored == [0x22, 0x0D])
        // An odd length: the last byte counts as the high byte of a word.
        let odd: [UInt8] = [0x12, 0x34, 0x56]
        let o = odd.withUnsafeBytes { InternetChecksum.finish(InternetChecksum.sum($0)) }
        stored.withUnsafeMutableBytes { $0.storeBytes(of: o, as: UInt16.self) }
        let expected = ~UInt16(Self.referenceSum(odd))
        #expect(stored == [UInt8(expected >> 8), UInt8(expected & 0xFF)])
    }

    @Test func tcpChecksumMatchesReference() {
        for size in [0, 1, 7, 1379, 1380] {
            var p = Self.packet(payload: size, sequence: 1, flags: 0x18)
            p.withUnsafeMutableBytes { TunOffload.writeTCPv6Checksum($0) }
            #expect(Self.tcpSumIsValid(p), "payload \(size)")
            p[p.count - 1] ^= 0x01
            #expect(!Self.tcpSumIsValid(p))
        }
    }

    /// A partial checksum (pseudo-header sum only, as the kernel leaves it) is completed to the full one.
    @Test func completesPartialChecksum() throws {
        var p = Self.packet(payload: 999, sequence: 5, flags: 0x10)
        let length = UInt32(p.count - 40)
        let pseudo = Array(p[8..<40]) + [0, 0, UInt8(length >> 8), UInt8(length & 0xFF), 0, 0, 0, 6]
        let partial = UInt16(Self.referenceSum(pseudo))
        p[56] = UInt8(partial >> 8); p[57] = UInt8(partial & 0xFF)
        try p.withUnsafeMutableBytes { try TunOffload.completeChecksum($0, start: 40, offset: 16) }
        #expect(Self.tcpSumIsValid(p))
        let beyond = p.count
        #expect(throws: TunOffload.Failure.malformed) {
            try p.withUnsafeMutableBytes { try TunOffload.completeChecksum($0, start: 40, offset: beyond) }
        }
    }

    /// 5,000 bytes in 1,400-byte segments: 4 segments with consecutive sequence numbers (across the
    /// 32-bit wrap), FIN and PSH only on the last, CWR only on the first, valid checksums, lengths
    /// fixed, and the payload bytes in order.
    @Test func segmentsSuperSegment() throws {
        let flags: UInt8 = 0x80 | 0x10 | 0x08 | 0x01   // CWR ACK PSH FIN
        let big = Self.packet(payload: 5000, sequence: 0xFFFF_FF00, flags: flags)
        var header = TunOffload.Header()
        header.flags = TunOffload.Header.needsChecksum
        header.gsoType = TunOffload.Header.gsoTCPv6
        header.gsoSize = 1400
        header.headerLength = 72
        header.checksumStart = 40
        header.checksumOffset = 16
        var out = [UInt8](repeating: 0, count: 2000)
        var segments: [[UInt8]] = []
        let n = try big.withUnsafeBytes { packet in
            try out.withUnsafeMutableBytes { area in
                try TunOffload.segmentTCPv6(packet, header: header, out: area) { length in
                    segments.append(Array(area[0..<length]))
                }
            }
        }
        #expect(n == 4)
        #expect(segments.map(\.count) == [1472, 1472, 1472, 872])
        var payload: [UInt8] = []
        for (k, s) in segments.enumerated() {
            #expect(Int(s[4]) << 8 | Int(s[5]) == s.count - 40)
            let seq = s[44..<48].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            #expect(seq == 0xFFFF_FF00 &+ UInt32(k * 1400))
            let last = k == 3
            #expect(s[53] == (last ? flags & ~0x80 : (k == 0 ? 0x90 : 0x10)), "segment \(k) flags \(s[53])")
            #expect(Self.tcpSumIsValid(s), "segment \(k) checksum")
            #expect(Array(s[0..<4]) == Array(big[0..<4]) && Array(s[6..<44]) == Array(big[6..<44]) && Array(s[48..<53]) == Array(big[48..<53]))
            payload += s[72...]
        }
        #expect(payload == Array(big[72...]))
    }

    /// Headers that do not describe the packet are refused, never read past the buffer.
    @Test func refusesMalformedHeaders() {
        let big = Self.packet(payload: 3000, sequence: 1, flags: 0x10)
        var out = [UInt8](repeating: 0, count: 2000)
        func attempt(_ h: TunOffload.Header, _ bytes: [UInt8] = big) -> Bool {
            (try? bytes.withUnsafeBytes { p in try out.withUnsafeMutableBytes { try TunOffload.segmentTCPv6(p, header: h, out: $0) { _ in } } }) == nil
        }
        var h = TunOffload.Header()
        h.gsoType = TunOffload.Header.gsoTCPv6
        h.gsoSize = 1400
        h.checksumStart = 40
        var zero = h; zero.gsoSize = 0
        var v4 = h; v4.gsoType = TunOffload.Header.gsoTCPv4
        var start = h; start.checksumStart = 20
        var huge = h; huge.gsoSize = 9000   // larger than the output area
        #expect(attempt(zero) && attempt(v4) && attempt(start) && attempt(huge))
        var badOffset = big; badOffset[52] = 0xF0   // TCP header of 60 bytes: still inside, accepted
        #expect(!attempt(h, badOffset))
        #expect(attempt(h, Array(big[0..<50])))      // shorter than the headers
        #expect(!attempt(h))
    }
}

/// Receive-side coalescing (decision 0803): segments cut by `segmentTCPv6` join back into the original
/// packet; anything that breaks the run is written in order, unjoined.
@Suite struct TunCoalescerTests {
    typealias Written = (bytes: [UInt8], header: TunOffload.Header)

    static func segments(of big: [UInt8], size: UInt16) throws -> [[UInt8]] {
        var h = TunOffload.Header()
        h.gsoType = TunOffload.Header.gsoTCPv6
        h.gsoSize = size
        h.checksumStart = 40
        var out = [UInt8](repeating: 0, count: 4000)
        var result: [[UInt8]] = []
        try big.withUnsafeBytes { p in
            try out.withUnsafeMutableBytes { area in
                try TunOffload.segmentTCPv6(p, header: h, out: area) { result.append(Array(area[0..<$0])) }
            }
        }
        return result
    }

    static func feed(_ c: TunCoalescer, _ packets: [[UInt8]], flush: Bool = true) -> [Written] {
        var written: [Written] = []
        let write: TunCoalescer.Write = { bytes, header in written.append((Array(bytes), header)) }
        for p in packets { p.withUnsafeBytes { c.add($0, write: write) } }
        if flush { c.flush(write) }
        return written
    }

    /// 30 segments of 1,380 bytes (ACK, the last ACK|PSH) come out as the one packet they were cut from.
    @Test func joinsSegmentsBackIntoTheSuperSegment() throws {
        var big = TunOffloadTests.packet(payload: 30 * 1380 - 17, sequence: 0xFFFF_F000, flags: 0x18)
        let parts = try Self.segments(of: big, size: 1380)
        #expect(parts.count == 30)
        let c = TunCoalescer()
        let written = Self.feed(c, parts)
        #expect(written.count == 1)
        let w = try #require(written.first)
        #expect(w.header.gsoType == TunOffload.Header.gsoTCPv6 && w.header.gsoSize == 1380)
        #expect(w.header.flags == TunOffload.Header.needsChecksum && w.header.checksumStart == 40 && w.header.checksumOffset == 16)
        #expect(w.header.headerLength == 72)
        var joined = w.bytes
        try joined.withUnsafeMutableBytes { try TunOffload.completeChecksum($0, start: 40, offset: 16) }
        big.withUnsafeMutableBytes { TunOffload.writeTCPv6Checksum($0) }
        #expect(joined == big)
        #expect(c.coalescedWrites == 1 && c.coalescedSegments == 30)
    }

    /// A gap in the sequence, another acknowledgement, a UDP packet and a SYN each end the run; every
    /// packet is written, in order, and lone segments go out as they came (plain header).
    @Test func writesEverythingInOrderWhenRunsBreak() throws {
        let a = try Self.segments(of: TunOffloadTests.packet(payload: 4 * 1000, sequence: 1000, flags: 0x10), size: 1000)
        var gap = try Self.segments(of: TunOffloadTests.packet(payload: 2 * 1000, sequence: 9000, flags: 0x10), size: 1000)
        var otherAck = gap[1]
        otherAck[51] ^= 0xFF
        otherAck.withUnsafeMutableBytes { TunOffload.writeTCPv6Checksum($0) }
        gap[1] = otherAck
        var udp = TunOffloadTests.packet(payload: 100, sequence: 0, flags: 0)
        udp[6] = 17
        var syn = TunOffloadTests.packet(payload: 10, sequence: 0, flags: 0x02)
        syn.withUnsafeMutableBytes { TunOffload.writeTCPv6Checksum($0) }
        let input = a + gap + [udp, syn]
        let written = Self.feed(TunCoalescer(), input)
        // a (4 joined), gap[0] alone, otherAck alone, udp, syn.
        #expect(written.count == 5)
        #expect(written[0].header.gsoType == TunOffload.Header.gsoTCPv6 && written[0].bytes.count == 72 + 4000)
        for (w, original) in zip(written[1...], [gap[0], otherAck, udp, syn]) {
            #expect(w.bytes == original && w.header == TunOffload.Header())
        }
        // Payload of the joined packet is a's payloads in order.
        #expect(Array(written[0].bytes[72...]) == a.flatMap { $0[72...] })
    }

    /// Nothing is held back without a flush, and a full run of 64 segments is written by itself.
    @Test func pendingUntilFlushAndAtMost64Segments() throws {
        let parts = try Self.segments(of: TunOffloadTests.packet(payload: 70 * 500, sequence: 1, flags: 0x10), size: 500)
        let c = TunCoalescer()
        let before = Self.feed(c, parts, flush: false)
        #expect(before.count == 1 && c.isPending)
        #expect(before[0].bytes.count == 72 + 64 * 500)
        let after = Self.feed(c, [], flush: true)
        #expect(after.count == 1 && after[0].bytes.count == 72 + 6 * 500 && !c.isPending)
    }
}
