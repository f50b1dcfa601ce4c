import FilamentCrypto
import FilamentLinux
import Foundation
import Glibc
import Testing

/// A bulk TCP transfer over three encrypted hops (four daemons in a line of namespaces) with the data
/// path's offloads on (decision 0803): every byte arrives intact and in order, the sender's TUN gave
/// TCP super-segments that the daemon cut, the relays moved the segments in segmented sends and
/// coalesced receives, and nothing failed to decrypt. With the default `link_cipher: auto` on a CPU
/// with AES instructions every session is AES-256-GCM (decision 0804); otherwise ChaCha20-Poly1305.
@Suite(.serialized, .enabled(if: DaemonLab.available, DaemonLab.skipMessage))
struct DaemonBulkTransferTests {
    /// Byte `i` of the stream: a pattern that a lost, repeated or reordered segment breaks.
    static func pattern(_ i: Int) -> UInt8 { UInt8(truncatingIfNeeded: (i &* 2_654_435_761) >> 13 ^ i) }

    @Test func bulkTCPOverThreeHopsArrivesIntact() throws {
        let lab = try DaemonLab(tag: "bulk", count: 4)
        defer { lab.close() }
        for i in 1...4 { try lab.start(i) }
        let address4 = try #require(DaemonLab.waitUntil(seconds: 10) { lab.status(4)?["address"] != nil } ? lab.status(4)?["address"] as? String : nil)
        #expect(DaemonLab.waitUntil(seconds: 20) { lab.ping(from: 1, address4) != nil }, "no route:\n\(lab.log(1))")

        let total = 12 << 20
        let port: UInt16 = 5201
        let listener = try NetworkNamespace.run(lab.namespace(4)) { try Self.listen(port: port) }
        defer { Glibc.close(listener) }
        let client = try NetworkNamespace.run(lab.namespace(1)) { try Self.connect(address4, port: port) }
        defer { Glibc.close(client) }

        var server: Int32 = -1
        defer { if server >= 0 { Glibc.close(server) } }
        var sent = 0, received = 0, mismatch: Int? = nil
        var chunk = [UInt8](repeating: 0, count: 256 << 10)
        var inbox = [UInt8](repeating: 0, count: 256 << 10)
        let deadline = Date().addingTimeInterval(90)
        while received < total, mismatch == nil, Date() < deadline {
            var fds = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: client, events: Int16(sent < total ? POLLOUT : 0), revents: 0),
                       pollfd(fd: server, events: Int16(POLLIN), revents: 0)]
            _ = poll(&fds, 3, 200)
            if server < 0, fds[0].revents & Int16(POLLIN) != 0 {
                server = accept(listener, nil, nil)
                if server >= 0 { _ = fcntl(server, F_SETFL, fcntl(server, F_GETFL) | O_NONBLOCK) }
            }
            if sent < total, fds[1].revents & Int16(POLLOUT) != 0 {
                let n = min(chunk.count, total - sent)
                for k in 0..<n { chunk[k] = Self.pattern(sent + k) }
                let w = chunk.withUnsafeBytes { Glibc.send(client, $0.baseAddress, n, Int32(MSG_NOSIGNAL)) }
                if w > 0 { sent += w } else if w < 0, errno != EAGAIN { Issue.record("send: errno \(errno)"); break }
            }
            if server >= 0 {
                let r = inbox.withUnsafeMutableBytes { Glibc.recv(server, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                if r > 0 {
                    for k in 0..<r where inbox[k] != Self.pattern(received + k) { mismatch = received + k; break }
                    received += r
                } else if r == 0 {
                    break
                }
            }
        }
        #expect(mismatch == nil, "stream differs at byte \(mismatch ?? -1)")
        #expect(received == total, "received \(received) of \(total) bytes in 90 s")

        // The sender's TUN handed over TCP super-segments (TSO): fewer reads than segments forwarded.
        let c1 = try #require(lab.rawRequest(1, "counters")?["result"] as? [String: Any])
        let reads = c1["tun.received"] as? Int ?? 0, forwarded = c1["node.forwarded"] as? Int ?? 0
        #expect(reads > 0 && forwarded > 2 * reads, "node 1: \(reads) TUN reads, \(forwarded) packets forwarded")
        #expect((c1["daemon.tunOffloadDrops"] as? Int ?? 0) == 0)
        // The receiver joined segments back before writing them to its TUN device.
        let c4 = try #require(lab.rawRequest(4, "counters")?["result"] as? [String: Any])
        #expect((c4["tun.coalescedWrites"] as? Int ?? 0) > 0 && (c4["tun.coalescedSegments"] as? Int ?? 0) > 2 * (c4["tun.coalescedWrites"] as? Int ?? 0), "node 4: \(c4)")
        #expect((c4["daemon.tunWriteDrops"] as? Int ?? 0) == 0)

        for relay in [2, 3] {
            let c = try #require(lab.rawRequest(relay, "counters")?["result"] as? [String: Any])
            func sum(_ suffix: String) -> Int { c.filter { $0.key.hasPrefix("udp.") && $0.key.hasSuffix(suffix) }.values.reduce(0) { $0 + ($1 as? Int ?? 0) } }
            #expect((c["node.forwarded"] as? Int ?? 0) > total / 1500, "relay \(relay): \(c)")
            #expect(sum(".sentSegmented") > 0, "relay \(relay) sent no segmented runs: \(c)")
            #expect(sum(".receivedCoalesced") > 0, "relay \(relay) received nothing coalesced: \(c)")
            #expect(sum(".offloadRefused") == 0)
            #expect((c["link.drops.decryptFailure"] as? Int ?? 0) == 0)
            #expect((c["link.drops.replay"] as? Int ?? 0) == 0)
        }

        // Which cipher carried it: every session of every node, and every neighbour as shown by filamentctl.
        let expected = TransportCipher.aes256GCMAvailable ? TransportCipher.aes256GCM : .chacha20Poly1305
        for i in 1...4 {
            let c = try #require(lab.rawRequest(i, "counters")?["result"] as? [String: Any])
            let aes = c["link.sessionsAES256GCM"] as? Int ?? -1, chacha = c["link.sessionsChaCha20Poly1305"] as? Int ?? -1
            #expect(expected == .aes256GCM ? aes > 0 && chacha == 0 : aes == 0 && chacha > 0, "node \(i): aes \(aes), chacha \(chacha)")
            let ciphers = (lab.control(i, "neighbours") as? [[String: Any]])?.compactMap { $0["cipher"] as? String }
            #expect(ciphers == Array(repeating: "\(expected)", count: i == 1 || i == 4 ? 1 : 2), "node \(i): \(ciphers ?? [])")
        }
    }

    /// `link_cipher: chacha20-poly1305` on one node: its sessions are ChaCha20-Poly1305 with both
    /// neighbours (which allow AES), while the two `auto` nodes use AES-256-GCM between them where
    /// the CPU has it; traffic crosses both kinds of link.
    @Test func linkCipherPerNeighbour() throws {
        let lab = try DaemonLab(tag: "ciph", count: 4)
        defer { lab.close() }
        let config = "\(lab.directory)/chacha.yaml"
        try "interfaces: [\"v*\"]\nlink_cipher: chacha20-poly1305\n".write(toFile: config, atomically: true, encoding: .utf8)
        for i in 1...4 { try lab.start(i, extra: i == 3 ? ["--config", config] : []) }
        let address4 = try #require(DaemonLab.waitUntil(seconds: 10) { lab.status(4)?["address"] != nil } ? lab.status(4)?["address"] as? String : nil)
        #expect(DaemonLab.waitUntil(seconds: 20) { lab.ping(from: 1, address4) != nil }, "no route:\n\(lab.log(1))")
        func ciphers(_ i: Int) -> [String] {
            ((lab.control(i, "neighbours") as? [[String: Any]]) ?? []).compactMap { $0["cipher"] as? String }.sorted()
        }
        let fast = TransportCipher.aes256GCMAvailable ? "aes-256-gcm" : "chacha20-poly1305"
        #expect(ciphers(1) == [fast])
        #expect(ciphers(2) == [fast, "chacha20-poly1305"].sorted())
        #expect(ciphers(3) == ["chacha20-poly1305", "chacha20-poly1305"])
        #expect(ciphers(4) == ["chacha20-poly1305"])
        #expect(lab.log(3).contains("link cipher chacha20-poly1305"), "\(lab.log(3))")
    }

    static func listen(port: UInt16) throws -> Int32 {
        let fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw DaemonLab.CommandFailed(command: ["socket"], status: errno, output: "") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var sa = sockaddr_in6()
        sa.sin6_family = sa_family_t(AF_INET6)
        sa.sin6_port = port.bigEndian
        let ok = withUnsafePointer(to: &sa) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
        } == 0 && Glibc.listen(fd, 4) == 0
        guard ok else {
            let e = errno
            Glibc.close(fd)
            throw DaemonLab.CommandFailed(command: ["bind/listen"], status: e, output: "")
        }
        return fd
    }

    static func connect(_ address: String, port: UInt16) throws -> Int32 {
        let fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw DaemonLab.CommandFailed(command: ["socket"], status: errno, output: "") }
        var sa = sockaddr_in6()
        sa.sin6_family = sa_family_t(AF_INET6)
        sa.sin6_port = port.bigEndian
        _ = inet_pton(AF_INET6, address, &sa.sin6_addr)
        let r = withUnsafePointer(to: &sa) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
        }
        guard r == 0 || errno == EINPROGRESS else {
            let e = errno
            Glibc.close(fd)
            throw DaemonLab.CommandFailed(command: ["connect", address], status: e, output: "")
        }
        return fd
    }
}
