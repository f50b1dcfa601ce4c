import FilamentCore
import Glibc

/// The optional uplink probe (`gateway.probe`): an ICMP or ICMPv6 echo request to the probe address
/// every few seconds, sent from a raw socket bound to the uplink (SO_BINDTODEVICE), so the answer
/// proves that the uplink itself carries traffic. The uplink counts as answering while a reply came
/// within the last `window`. Replies are matched by echo identifier; anything else is ignored.
final class GatewayProbe {
    let target: IPv6Address
    let fileDescriptor: Int32
    let identifier: UInt16
    private var sequence: UInt16 = 0
    private(set) var lastReply: Instant?
    var interval: Interval = .seconds(2)
    var window: Interval = .seconds(7)
    var nextSend: Instant

    init(target: IPv6Address, uplink: String, now: Instant) throws(DaemonFailure) {
        self.target = target
        let v4 = target.isIPv4Mapped
        let fd = socket(v4 ? AF_INET : AF_INET6, Int32(SOCK_RAW.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue),
                        v4 ? Int32(IPPROTO_ICMP) : Int32(IPPROTO_ICMPV6))
        guard fd >= 0 else { throw DaemonFailure("gateway probe: cannot open a raw ICMP socket (errno \(errno))") }
        let rc = setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, uplink, socklen_t(uplink.utf8.count))
        guard rc == 0 else { close(fd); throw DaemonFailure("gateway probe: cannot bind to \(uplink) (errno \(errno))") }
        fileDescriptor = fd
        identifier = UInt16(truncatingIfNeeded: getpid())
        nextSend = now
    }

    deinit { close(fileDescriptor) }

    /// Whether a reply came recently.
    func answering(now: Instant) -> Bool { lastReply.map { now - $0 < window } ?? false }

    /// Sends an echo request if one is due.
    func sendIfDue(now: Instant) {
        guard now >= nextSend else { return }
        nextSend = now + interval
        sequence &+= 1
        let v4 = target.isIPv4Mapped
        var m: [UInt8] = [v4 ? 8 : 128, 0, 0, 0, UInt8(identifier >> 8), UInt8(identifier & 0xFF), UInt8(sequence >> 8), UInt8(sequence & 0xFF)]
        m += Array("filament-probe".utf8)
        if v4 {  // the kernel fills in the ICMPv6 checksum, not the ICMP one
            var sum: UInt32 = 0
            for i in stride(from: 0, to: m.count, by: 2) { sum += UInt32(m[i]) << 8 | (i + 1 < m.count ? UInt32(m[i + 1]) : 0) }
            while sum > 0xFFFF { sum = (sum & 0xFFFF) + (sum >> 16) }
            let c = ~UInt16(sum)
            m[2] = UInt8(c >> 8); m[3] = UInt8(c & 0xFF)
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET)
            a.sin_addr.s_addr = UInt32(truncatingIfNeeded: target.low).bigEndian
            _ = withUnsafePointer(to: &a) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fileDescriptor, m, m.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        } else {
            var a = sockaddr_in6()
            a.sin6_family = sa_family_t(AF_INET6)
            withUnsafeMutableBytes(of: &a.sin6_addr) { $0.copyBytes(from: target.bytes) }
            _ = withUnsafePointer(to: &a) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fileDescriptor, m, m.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        }
    }

    /// Reads every pending datagram; notes echo replies with our identifier.
    func receive(now: Instant) {
        var buffer = [UInt8](repeating: 0, count: 2048)
        for _ in 0..<64 {
            let n = recv(fileDescriptor, &buffer, buffer.count, 0)
            guard n > 0 else { return }
            var offset = 0
            if target.isIPv4Mapped {
                guard n >= 20 else { continue }
                offset = Int(buffer[0] & 0x0F) * 4
            }
            guard n >= offset + 8 else { continue }
            let replyType: UInt8 = target.isIPv4Mapped ? 0 : 129
            if buffer[offset] == replyType, UInt16(buffer[offset + 4]) << 8 | UInt16(buffer[offset + 5]) == identifier {
                lastReply = now
            }
        }
    }
}
