import FilamentCore
/// The TUN device's offload format (IFF_VNET_HDR, decision 0803): every read and write starts with a
/// 10-byte `virtio_net_hdr`, and with TUNSETOFFLOAD(TUN_F_CSUM | TUN_F_TSO6) the kernel may hand the
/// daemon (a) packets whose transport checksum is left to it (`needsChecksum`) and (b) IPv6 TCP
/// "super-segments" of up to 64 KB that it must cut into `gsoSize`-byte segments before they leave.
///
/// Pure functions over buffers (no system calls), so they are unit-tested byte for byte.
public enum TunOffload {
    /// sizeof(struct virtio_net_hdr).
    public static let headerLength = 10

    /// `struct virtio_net_hdr` (legacy layout, host byte order).
    public struct Header: Equatable, Sendable {
        /// VIRTIO_NET_HDR_F_NEEDS_CSUM: the checksum at `checksumStart + checksumOffset` holds only the
        /// pseudo-header sum; the rest is to be added.
        public static let needsChecksum: UInt8 = 1
        public static let gsoNone: UInt8 = 0
        public static let gsoTCPv4: UInt8 = 1
        public static let gsoTCPv6: UInt8 = 4

        public var flags: UInt8 = 0
        public var gsoType: UInt8 = Header.gsoNone
        public var headerLength: UInt16 = 0
        public var gsoSize: UInt16 = 0
        public var checksumStart: UInt16 = 0
        public var checksumOffset: UInt16 = 0

        public init() {}

        public init(_ raw: UnsafeRawBufferPointer) {
            flags = raw[0]
            gsoType = raw[1]
            headerLength = raw.loadUnaligned(fromByteOffset: 2, as: UInt16.self)
            gsoSize = raw.loadUnaligned(fromByteOffset: 4, as: UInt16.self)
            checksumStart = raw.loadUnaligned(fromByteOffset: 6, as: UInt16.self)
            checksumOffset = raw.loadUnaligned(fromByteOffset: 8, as: UInt16.self)
        }

        public func write(to raw: UnsafeMutableRawBufferPointer) {
            raw[0] = flags
            raw[1] = gsoType
            raw.storeBytes(of: headerLength, toByteOffset: 2, as: UInt16.self)
            raw.storeBytes(of: gsoSize, toByteOffset: 4, as: UInt16.self)
            raw.storeBytes(of: checksumStart, toByteOffset: 6, as: UInt16.self)
            raw.storeBytes(of: checksumOffset, toByteOffset: 8, as: UInt16.self)
        }
    }

    public enum Failure: Error, Equatable {
        /// Header fields that do not describe the packet (offsets outside it, a GSO type we did not
        /// ask for, a zero segment size).
        case malformed
    }

    // MARK: checksums

    /// Completes a checksum the kernel left partial (`needsChecksum`): the field at `start + offset`
    /// holds the pseudo-header sum; the one's-complement sum of everything from `start` on replaces it.
    public static func completeChecksum(_ packet: UnsafeMutableRawBufferPointer, start: Int, offset: Int) throws(Failure) {
        guard start >= 0, start % 2 == 0, offset >= 0, start + offset + 2 <= packet.count else { throw .malformed }
        let s = InternetChecksum.sum(UnsafeRawBufferPointer(rebasing: packet[start...]))
        packet.storeBytes(of: InternetChecksum.finish(s), toByteOffset: start + offset, as: UInt16.self)
    }

    /// The full TCP checksum of an IPv6 packet without extension headers (`packet` starts at the
    /// IPv6 header; the TCP header at byte 40), written into the TCP header.
    public static func writeTCPv6Checksum(_ packet: UnsafeMutableRawBufferPointer) {
        let tcpLength = packet.count - 40
        packet.storeBytes(of: UInt16(0), toByteOffset: 40 + 16, as: UInt16.self)
        var s = InternetChecksum.sum(UnsafeRawBufferPointer(rebasing: packet[8..<40]))  // source and destination
        s &+= InternetChecksum.words(UInt32(tcpLength)) &+ InternetChecksum.words(6)
        s = InternetChecksum.sum(UnsafeRawBufferPointer(rebasing: packet[40...]), into: s)
        packet.storeBytes(of: InternetChecksum.finish(s), toByteOffset: 40 + 16, as: UInt16.self)
    }

    // MARK: segmentation

    /// Cuts an IPv6 TCP super-segment (`packet`, starting at the IPv6 header, described by `header`
    /// with gsoType TCPv6) into segments of at most `header.gsoSize` payload bytes, each written to
    /// the start of `out` and handed to `each` (with its length) before the next one is built: IPv6
    /// payload length, TCP sequence number, flags (FIN and PSH only on the last, CWR only on the
    /// first) and TCP checksum fixed per segment. Returns the number of segments.
    @discardableResult
    public static func segmentTCPv6(_ packet: UnsafeRawBufferPointer, header: Header, out: UnsafeMutableRawBufferPointer,
                                    _ each: (Int) throws -> Void) throws -> Int {
        let tcp = 40
        guard header.gsoType == Header.gsoTCPv6, header.gsoSize > 0, packet.count >= tcp + 20,
              packet[0] >> 4 == 6, packet[6] == 6, Int(header.checksumStart) == tcp else { throw Failure.malformed }
        let tcpHeader = Int(packet[tcp + 12] >> 4) * 4
        let headers = tcp + tcpHeader
        guard tcpHeader >= 20, headers <= packet.count else { throw Failure.malformed }
        let segment = Int(header.gsoSize)
        let payload = packet.count - headers
        guard headers + min(segment, max(payload, 0)) <= out.count else { throw Failure.malformed }
        let firstSequence = UInt32(bigEndian: packet.loadUnaligned(fromByteOffset: tcp + 4, as: UInt32.self))
        let flags = packet[tcp + 13]
        var offset = 0
        var count = 0
        repeat {
            let size = min(segment, payload - offset)
            let last = offset + size >= payload
            let length = headers + size
            let dst = UnsafeMutableRawBufferPointer(rebasing: out[0..<length])
            UnsafeMutableRawBufferPointer(rebasing: dst[0..<headers]).copyMemory(from: UnsafeRawBufferPointer(rebasing: packet[0..<headers]))
            if size > 0 {
                UnsafeMutableRawBufferPointer(rebasing: dst[headers..<length])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: packet[(headers + offset)..<(headers + offset + size)]))
            }
            dst.storeBytes(of: UInt16(length - 40).bigEndian, toByteOffset: 4, as: UInt16.self)
            dst.storeBytes(of: (firstSequence &+ UInt32(truncatingIfNeeded: offset)).bigEndian, toByteOffset: tcp + 4, as: UInt32.self)
            var f = flags
            if !last { f &= ~0x09 }        // FIN, PSH
            if offset > 0 { f &= ~0x80 }   // CWR
            dst[tcp + 13] = f
            writeTCPv6Checksum(dst)
            try each(length)
            count += 1
            offset += size
        } while offset < payload
        return count
    }
}
