import FilamentCore
import Glibc

/// Receive-side coalescing for a TUN device with offload (decision 0803), the mirror of
/// `TunOffload.segmentTCPv6`: consecutive in-order IPv6 TCP segments of one flow that the daemon
/// delivers to the local stack are joined into one packet of up to 64 KB and written once, with a
/// `virtio_net_hdr` saying "TCPv6, segment size N, checksum partial". The kernel's TCP then handles
/// one large packet instead of dozens (what GRO does for a network card).
///
/// Joined only when nothing is lost by it, as Linux's own TCP GRO does: same addresses, traffic
/// class, flow label and hop limit; same ports, acknowledgement, window and options (timestamps);
/// flags ACK (and PSH, which ends the run); the next sequence number; every segment as long as the
/// first but the last. Anything else is written as it came, after what is pending (order kept).
///
/// Pure (no system calls: the caller's `write` does them), one owner. Not thread-safe.
public final class TunCoalescer {
    /// Writes one packet: its bytes and the header to put before them.
    public typealias Write = (UnsafeRawBufferPointer, TunOffload.Header) -> Void

    public static let maximumSegments = 64

    private let buffer: UnsafeMutableRawBufferPointer
    private var length = 0
    private var segments = 0
    private var segmentSize = 0
    private var headers = 0
    private var nextSequence: UInt32 = 0

    /// Packets written with more than one segment, and the segments in them.
    public private(set) var coalescedWrites = 0
    public private(set) var coalescedSegments = 0

    /// `capacity`: the largest joined packet (IPv6 header included); at most 65,575 (40 + 65,535).
    public init(capacity: Int = 65_535) {
        precondition(capacity >= 1280 && capacity <= 65_575)
        buffer = .allocate(byteCount: capacity, alignment: 16)
    }

    deinit { buffer.deallocate() }

    /// Whether a joined packet is waiting for `flush`.
    public var isPending: Bool { segments > 0 }

    /// Offers one IPv6 packet for the local stack: joined to the pending one, or started as the new
    /// pending one, or (not joinable) written at once after the pending one.
    public func add(_ packet: UnsafeRawBufferPointer, write: Write) {
        guard let tcpHeaders = Self.joinable(packet) else {
            flush(write)
            write(packet, TunOffload.Header())
            return
        }
        let payload = packet.count - tcpHeaders
        let sequence = UInt32(bigEndian: packet.loadUnaligned(fromByteOffset: 44, as: UInt32.self))
        let push = packet[53] & 0x08 != 0
        if segments > 0 {
            if segments < Self.maximumSegments, tcpHeaders == headers, payload <= segmentSize,
               length + payload <= buffer.count, sequence == nextSequence, sameFlow(packet) {
                UnsafeMutableRawBufferPointer(rebasing: buffer[length..<(length + payload)])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: packet[tcpHeaders...]))
                length += payload
                segments += 1
                nextSequence = sequence &+ UInt32(payload)
                if push { buffer[53] |= 0x08 }
                // A shorter segment or PSH ends the run (as in Linux's tcp_gro_receive).
                if push || payload < segmentSize { flush(write) }
                return
            }
            flush(write)
        }
        guard packet.count <= buffer.count, !push else {
            write(packet, TunOffload.Header())
            return
        }
        UnsafeMutableRawBufferPointer(rebasing: buffer[0..<packet.count]).copyMemory(from: packet)
        length = packet.count
        segments = 1
        segmentSize = payload
        headers = tcpHeaders
        nextSequence = sequence &+ UInt32(payload)
    }

    /// Writes the pending packet, if any: one segment as it came; several as one packet whose IPv6
    /// payload length covers them all, whose TCP checksum field holds the pseudo-header sum, behind
    /// a header asking the kernel for TCPv6 segmentation of `segmentSize` and the checksum.
    public func flush(_ write: Write) {
        guard segments > 0 else { return }
        defer { segments = 0; length = 0 }
        let packet = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<length])
        guard segments > 1 else {
            write(UnsafeRawBufferPointer(packet), TunOffload.Header())
            return
        }
        let tcpLength = length - 40
        packet.storeBytes(of: UInt16(tcpLength).bigEndian, toByteOffset: 4, as: UInt16.self)
        var pseudo = InternetChecksum.sum(UnsafeRawBufferPointer(rebasing: packet[8..<40]))
        pseudo &+= InternetChecksum.words(UInt32(tcpLength)) &+ InternetChecksum.words(6)
        packet.storeBytes(of: InternetChecksum.fold(pseudo), toByteOffset: 40 + 16, as: UInt16.self)
        var h = TunOffload.Header()
        h.flags = TunOffload.Header.needsChecksum
        h.gsoType = TunOffload.Header.gsoTCPv6
        h.gsoSize = UInt16(segmentSize)
        h.headerLength = UInt16(headers)
        h.checksumStart = 40
        h.checksumOffset = 16
        coalescedWrites += 1
        coalescedSegments += segments
        write(UnsafeRawBufferPointer(packet), h)
    }

    /// An IPv6 TCP segment without extension headers, with payload, flags ACK or ACK|PSH, and a
    /// length field that matches: its IPv6 + TCP header length.
    static func joinable(_ p: UnsafeRawBufferPointer) -> Int? {
        guard p.count > 60, p[0] >> 4 == 6, p[6] == 6,
              40 + (Int(p[4]) << 8 | Int(p[5])) == p.count else { return nil }
        let headers = 40 + Int(p[52] >> 4) * 4
        guard headers >= 60, headers < p.count, p[53] & ~0x08 == 0x10 else { return nil }
        return headers
    }

    /// Same IPv6 first word (version, traffic class, flow label), hop limit and addresses; same TCP
    /// ports, acknowledgement, header length, window, urgent pointer and options.
    private func sameFlow(_ p: UnsafeRawBufferPointer) -> Bool {
        func equal(_ a: Int, _ b: Int) -> Bool {
            memcmp(buffer.baseAddress! + a, p.baseAddress! + a, b - a) == 0
        }
        return equal(0, 4) && p[7] == buffer[7] && equal(8, 44) && equal(48, 53) && equal(54, 56) && equal(58, headers)
    }
}
