import FilamentCore
@testable import FilamentWire
import PropertyBased
import Testing

/// Decodes `bytes` every way a driver can; returns the packet or nil. Traps would crash the test run.
/// Anything accepted must re-encode and decode to the same packet.
private func decodeAllWays(_ bytes: [UInt8]) -> RoutingPacket? {
    var report = DecodeReport()
    let fromSlice = try? RoutingPacket.decode(bytes[...], report: &report)
    let fromBuffer = bytes.withUnsafeBytes { try? RoutingPacket.decode($0) }
    #expect(fromSlice == fromBuffer)
    _ = try? RoutingPacket.decodePlaintextFrame(bytes[...], report: &report)
    _ = try? RoutingPacket.decodeInnerPayload(bytes[...], report: &report)
    if bytes.count > 1 { _ = try? RoutingPacket.decode(bytes[1...]) }  // a slice that does not start at 0
    if let p = fromSlice {
        let again = try? RoutingPacket.decode(try p.encode())
        #expect(again == p)
    }
    return fromSlice
}

/// Applies one random mutation: bit flip, byte overwrite, truncation, insertion or deletion.
private func mutate<R: RandomNumberGenerator>(_ bytes: inout [UInt8], _ r: inout R) {
    switch Int.random(in: 0..<5, using: &r) {
    case 0 where !bytes.isEmpty:
        let i = Int.random(in: 0..<bytes.count, using: &r)
        bytes[i] ^= UInt8(1) << UInt8.random(in: 0...7, using: &r)
    case 1 where !bytes.isEmpty:
        bytes[Int.random(in: 0..<bytes.count, using: &r)] = UInt8.random(in: 0...255, using: &r)
    case 2:
        bytes.removeLast(Int.random(in: 0...bytes.count, using: &r))
    case 3:
        let at = Int.random(in: 0...bytes.count, using: &r)
        let junk = (0..<Int.random(in: 1...8, using: &r)).map { _ in UInt8.random(in: 0...255, using: &r) }
        bytes.insert(contentsOf: junk, at: at)
    default:
        guard !bytes.isEmpty else { return }
        let at = Int.random(in: 0..<bytes.count, using: &r)
        bytes.removeSubrange(at..<min(bytes.count, at + Int.random(in: 1...4, using: &r)))
    }
}

/// Rewrites the header's body length to match the bytes after it (so mutations reach the TLVs).
private func fixBodyLength(_ bytes: inout [UInt8]) {
    guard bytes.count >= 4 else { return }
    let body = min(bytes.count - 4, 0xFFFF)
    bytes[2] = UInt8(body >> 8); bytes[3] = UInt8(body & 0xFF)
}

@Suite struct RobustnessTests {
    /// Random bytes never trap the decoder: they decode or give an error.
    @Test func randomBytesNeverTrap() async {
        await propertyCheck(count: 3000, input: Gen.uint8().array(of: 0...300)) { bytes in
            _ = decodeAllWays(bytes)
        }
    }

    /// Random TLV soup behind a valid header never traps, and what decodes re-encodes to the same packet.
    @Test func randomTLVsBehindValidHeaderNeverTrap() async {
        await propertyCheck(count: 3000, input: WireGen.seeds) { seed in
            var r = SeededRandom(seed: seed)
            var bytes: [UInt8] = [RoutingPacket.magic, RoutingPacket.currentVersion, 0, 0]
            let knownTypes = TLVType.allCases.map(\.rawValue)
            for _ in 0..<Int.random(in: 0...12, using: &r) {
                let type = Bool.random(using: &r) ? knownTypes.randomElement(using: &r)! : UInt8.random(in: 0...255, using: &r)
                let length = Bool.random(using: &r) ? UInt8.random(in: 0...48, using: &r) : UInt8.random(in: 0...255, using: &r)
                bytes.append(type); bytes.append(length)
                for _ in 0..<Int(length) { bytes.append(UInt8.random(in: 0...255, using: &r)) }
            }
            if Int.random(in: 0..<4, using: &r) == 0 { bytes.removeLast(Int.random(in: 0...min(8, bytes.count - 4), using: &r)) }
            fixBodyLength(&bytes)
            _ = decodeAllWays(bytes)
        }
    }

    /// Mutated valid encodings (bit flips, truncation, insertion, deletion) never trap.
    @Test func mutatedEncodingsNeverTrap() async throws {
        await propertyCheck(count: 3000, input: WireGen.seeds) { seed in
            var r = SeededRandom(seed: seed)
            var bytes = try WireGen.packet(&r, maxMessages: 8).encode()
            for _ in 0..<Int.random(in: 1...4, using: &r) { mutate(&bytes, &r) }
            if Bool.random(using: &r) { fixBodyLength(&bytes) }
            _ = decodeAllWays(bytes)
        }
    }

    /// Unknown TLVs and padding inserted between known TLVs are skipped, counted, and the rest decodes.
    @Test func unknownTLVsAreSkipped() async throws {
        let unknownTypes = (0...255).map(UInt8.init).filter { TLVType(rawValue: $0) == nil }
        await propertyCheck(count: 1000, input: WireGen.seeds) { seed in
            var r = SeededRandom(seed: seed)
            let packet = WireGen.packet(&r, maxMessages: 20)
            let encoded = try packet.encode()
            // Walk the TLV boundaries of the encoding and insert junk TLVs at random ones.
            var out: [UInt8] = Array(encoded[0..<4])
            var offset = 4, inserted = 0, padding = 0
            func junk() {
                switch Int.random(in: 0..<4, using: &r) {
                case 0:
                    out.append(TLVType.pad1.rawValue); padding += 1
                case 1:
                    let n = Int.random(in: 0...20, using: &r)
                    out.append(TLVType.padN.rawValue); out.append(UInt8(n))
                    out.append(contentsOf: repeatElement(0, count: n)); padding += 2 + n
                default:
                    let n = Int.random(in: 0...255, using: &r)
                    out.append(unknownTypes.randomElement(using: &r)!); out.append(UInt8(n))
                    for _ in 0..<n { out.append(UInt8.random(in: 0...255, using: &r)) }
                    inserted += 1
                }
            }
            while offset < encoded.count {
                if Bool.random(using: &r) { junk() }
                let length = 2 + Int(encoded[offset + 1])
                out.append(contentsOf: encoded[offset..<(offset + length)])
                offset += length
            }
            if Bool.random(using: &r) { junk() }
            fixBodyLength(&out)
            var report = DecodeReport()
            let decoded = try RoutingPacket.decode(out[...], report: &report)
            #expect(decoded == packet)
            #expect(report.unknownTLVs == inserted)
            #expect(report.paddingBytes == padding)
        }
    }

    /// Fields a newer version appends to a known TLV are ignored and counted; the known fields still decode.
    @Test func appendedFieldsAreIgnored() throws {
        let probe = RoutingPacket(messages: [.probe(Probe(nonce: 9, isReply: false))])
        var bytes = try probe.encode()
        bytes[5] += 3  // the Probe TLV's length byte
        bytes.append(contentsOf: [1, 2, 3])
        fixBodyLength(&bytes)
        var report = DecodeReport()
        #expect(try RoutingPacket.decode(bytes[...], report: &report) == probe)
        #expect(report.extensionBytes == 3)
    }

    /// Bytes after the body (raw Ethernet padding) are ignored and counted.
    @Test func trailerIsIgnored() throws {
        let packet = RoutingPacket(messages: [.digest(Digest(routeCount: 3, hash: 4))])
        let bytes = try packet.encode() + [0, 0, 0, 0, 0]
        var report = DecodeReport()
        #expect(try RoutingPacket.decode(bytes[...], report: &report) == packet)
        #expect(report.trailerBytes == 5)
    }
}
