import FilamentControl
import Foundation
import Glibc

/// ICMPv6 echo probes from this host into the mesh, for `ping` and `traceroute`. The kernel routes the
/// mesh /48 into the daemon's TUN device, so an echo request to a mesh address crosses the mesh like
/// any packet; every forwarding node decrements the hop limit and answers "time exceeded" from its
/// own mesh address when it reaches zero (what `traceroute` reads).
///
/// A raw ICMPv6 socket (root or CAP_NET_RAW) sees echo replies and errors; without it `ping` falls back
/// to an unprivileged ICMP socket (net.ipv4.ping_group_range), which sees echo replies only.
final class MeshProbe {
    enum Outcome: Equatable {
        case reply(from: String, rttMs: Double)
        case timeExceeded(from: String, rttMs: Double)
        case unreachable(from: String, code: UInt8)
        case timeout
    }

    struct Failure: Error, CustomStringConvertible { var description: String }

    let fd: Int32
    let raw: Bool
    let identifier: UInt16
    var sequence: UInt16 = 0

    /// Opens the socket; `needRaw` (traceroute) refuses the unprivileged fallback.
    init(needRaw: Bool) throws {
        var s = socket(AF_INET6, Int32(SOCK_RAW.rawValue | SOCK_CLOEXEC.rawValue), Int32(IPPROTO_ICMPV6))
        var isRaw = true
        if s < 0, !needRaw {
            s = socket(AF_INET6, Int32(SOCK_DGRAM.rawValue | SOCK_CLOEXEC.rawValue), Int32(IPPROTO_ICMPV6))
            isRaw = false
        }
        guard s >= 0 else {
            throw Failure(description: errno == EPERM || errno == EACCES
                ? "\(needRaw ? "traceroute" : "ping") needs root or CAP_NET_RAW (an ICMPv6 socket); try sudo"
                : "cannot open an ICMPv6 socket: \(String(cString: strerror(errno)))")
        }
        fd = s
        raw = isRaw
        identifier = UInt16(truncatingIfNeeded: getpid())
    }

    deinit { close(fd) }

    /// Sends one echo request with `hopLimit` and waits up to `timeout` seconds for its answer.
    func probe(_ address: String, hopLimit: Int32 = 64, timeout: Double = 1) throws -> Outcome {
        var sa = sockaddr_in6()
        sa.sin6_family = sa_family_t(AF_INET6)
        guard inet_pton(AF_INET6, address, &sa.sin6_addr) == 1 else { throw Failure(description: "'\(address)' is not an IPv6 address") }
        var hops = hopLimit
        setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_UNICAST_HOPS, &hops, socklen_t(MemoryLayout<Int32>.size))
        sequence &+= 1
        let seq = sequence
        // Type 128, code 0, checksum (the kernel fills it in), identifier, sequence, 16 bytes of payload.
        var packet: [UInt8] = [128, 0, 0, 0, UInt8(identifier >> 8), UInt8(identifier & 0xFF), UInt8(seq >> 8), UInt8(seq & 0xFF)]
        packet += Array("filamentctl-mesh".utf8)
        let start = Date()
        let sent = withUnsafePointer(to: &sa) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, packet, packet.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
        }
        guard sent == packet.count else { throw Failure(description: "cannot send to \(address): \(String(cString: strerror(errno)))") }
        var buffer = [UInt8](repeating: 0, count: 2048)
        while true {
            let left = timeout - Date().timeIntervalSince(start)
            if left <= 0 { return .timeout }
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, Int32(left * 1000) + 1)
            if ready < 0, errno == EINTR { continue }
            if ready <= 0 { continue }
            var from = sockaddr_in6()
            var fromLength = socklen_t(MemoryLayout<sockaddr_in6>.size)
            let n = withUnsafeMutablePointer(to: &from) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, &buffer, buffer.count, 0, $0, &fromLength) }
            }
            guard n >= 8 else { continue }
            let rtt = Date().timeIntervalSince(start) * 1000
            var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            inet_ntop(AF_INET6, &from.sin6_addr, &text, socklen_t(text.count))
            let source = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let m = Array(buffer[0..<n])
            switch m[0] {
            case 129:
                // An unprivileged ping socket rewrites the identifier to its own port: match on the sequence only.
                let id = UInt16(m[4]) << 8 | UInt16(m[5]), s = UInt16(m[6]) << 8 | UInt16(m[7])
                if s == seq, !raw || id == identifier { return .reply(from: source, rttMs: rtt) }
            case 1, 3:
                // The invoking packet follows the 8-byte header: IPv6 header (40), then our echo request.
                guard m.count >= 8 + 40 + 8, m[8 + 40] == 128 else { continue }
                let id = UInt16(m[8 + 44]) << 8 | UInt16(m[8 + 45]), s = UInt16(m[8 + 46]) << 8 | UInt16(m[8 + 47])
                guard id == identifier, s == seq else { continue }
                return m[0] == 3 ? .timeExceeded(from: source, rttMs: rtt) : .unreachable(from: source, code: m[1])
            default:
                continue
            }
        }
    }
}

/// Turns NODE (mesh address, key prefix or name) into a mesh address, with the name when known.
enum NodeResolver {
    struct Resolved { var address: String; var name: String?; var nodeID: String? }

    static func isAddress(_ s: String) -> Bool {
        var a = in6_addr()
        return inet_pton(AF_INET6, s, &a) == 1
    }

    /// Matches `node` against the topology: a name (exact, then case-insensitive), or a prefix of a
    /// node id (at least 4 hex digits). Throws a message naming the candidates when ambiguous or unknown.
    static func resolve(_ node: String, in topo: TopologyInfo) throws(ControlClientError) -> Resolved {
        if isAddress(node) {
            let n = topo.nodes.first { $0.address == node }
            return Resolved(address: node, name: n?.name, nodeID: n?.node_id)
        }
        var matches = topo.nodes.filter { $0.name == node }
        if matches.isEmpty { matches = topo.nodes.filter { $0.name?.lowercased() == node.lowercased() } }
        let lower = node.lowercased()
        if matches.isEmpty, lower.count >= 4, lower.allSatisfy(\.isHexDigit) {
            matches = topo.nodes.filter { $0.node_id.hasPrefix(lower) }
        }
        if matches.count == 1, let m = matches.first { return Resolved(address: m.address, name: m.name, nodeID: m.node_id) }
        if matches.isEmpty {
            throw .daemon(ControlError(code: "unknown_node", message:
                "no node '\(node)' in the mesh (give a mesh address, a name, or at least 4 hex digits of a node id; 'filamentctl topology' lists them)"))
        }
        let list = matches.map { "\(ControlFormat.short($0.node_id))\($0.name.map { " (\($0))" } ?? "")" }.joined(separator: ", ")
        throw .daemon(ControlError(code: "unknown_node", message: "'\(node)' matches \(matches.count) nodes: \(list); give more of the node id"))
    }
}
