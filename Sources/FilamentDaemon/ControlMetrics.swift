import FilamentControl
import FilamentCore
import FilamentCrypto
import FilamentLinux
import FilamentWire
import Glibc

/// Prometheus text exposition on `metrics_listen` (HOST:PORT, normally loopback): a minimal HTTP/1.x
/// responder served from the daemon's event loop. Every request gets the current metrics and the
/// connection is closed. Requests are bounded (4 KiB of headers, 8 clients, 5 s to send them); the
/// metrics are read from the daemon's counters at each scrape and written as Prometheus text by
/// `MetricsText` (decision 0726; docs/filamentctl.md "Metrics" lists them).
final class MetricsEndpoint {
    final class Client {
        let fd: Int32
        let opened: Instant
        var request: [UInt8] = []
        init(fd: Int32, opened: Instant) { self.fd = fd; self.opened = opened }
    }

    let listenFD: Int32
    var clients: [Int32: Client] = [:]
    let maxClients = 8
    let maxRequest = 4096
    /// Highest value exposed so far of each counter: a Prometheus counter never goes backwards.
    var lastCounter: [String: UInt64] = [:]
    /// The exposition being written by the current scrape.
    var text = MetricsText()

    /// Listens on "HOST:PORT" ("127.0.0.1:9465", "[::1]:9465").
    init(listen: String) throws(DaemonFailure) {
        guard let colon = listen.lastIndex(of: ":"), let port = UInt16(listen[listen.index(after: colon)...]) else {
            throw DaemonFailure("metrics_listen '\(listen)' is not HOST:PORT")
        }
        var host = String(listen[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        var storage = sockaddr_storage()
        var length: socklen_t
        var family: Int32
        var v4 = in_addr(), v6 = in6_addr()
        if inet_pton(AF_INET, host, &v4) == 1 {
            family = AF_INET
            var sa = sockaddr_in()
            sa.sin_family = sa_family_t(AF_INET); sa.sin_port = port.bigEndian; sa.sin_addr = v4
            withUnsafeBytes(of: sa) { raw in withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: raw) } }
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
        } else if inet_pton(AF_INET6, host, &v6) == 1 {
            family = AF_INET6
            var sa = sockaddr_in6()
            sa.sin6_family = sa_family_t(AF_INET6); sa.sin6_port = port.bigEndian; sa.sin6_addr = v6
            withUnsafeBytes(of: sa) { raw in withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: raw) } }
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        } else {
            throw DaemonFailure("metrics_listen '\(listen)': '\(host)' is not an IP address")
        }
        let fd = socket(family, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw DaemonFailure("metrics socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let rc = withUnsafePointer(to: &storage) { p in p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard rc == 0, Glibc.listen(fd, 8) == 0 else {
            let e = String(cString: strerror(errno))
            close(fd)
            throw DaemonFailure("cannot listen for metrics on \(listen): \(e)")
        }
        listenFD = fd
    }

    deinit {
        for fd in clients.keys { close(fd) }
        close(listenFD)
    }

    func accept(now: Instant) -> [Int32] {
        var accepted: [Int32] = []
        for _ in 0..<16 {
            let fd = Glibc.accept(listenFD, nil, nil)
            if fd < 0 { break }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            if clients.count >= maxClients { close(fd); continue }
            clients[fd] = Client(fd: fd, opened: now)
            accepted.append(fd)
        }
        return accepted
    }

    /// Reads from a client; once its headers are complete, answers with `body()` and closes it.
    func service(_ fd: Int32, body: () -> [UInt8]) {
        guard let c = clients[fd] else { return }
        var buffer = [UInt8](repeating: 0, count: 2048)
        let n = read(fd, &buffer, buffer.count)
        if n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) { drop(fd); return }
        if n > 0 { c.request += buffer[0..<n] }
        if c.request.count > maxRequest { respond(c, status: "431 Request Header Fields Too Large", body: []); return }
        guard let end = Self.headerEnd(c.request) else { return }
        let line = String(decoding: c.request[..<end].prefix { $0 != 0x0D && $0 != 0x0A }, as: UTF8.self)
        let parts = line.split(separator: " ")
        if parts.count >= 2, parts[0] == "GET", parts[1] == "/metrics" || parts[1] == "/" {
            respond(c, status: "200 OK", body: body())
        } else {
            respond(c, status: parts.first == "GET" ? "404 Not Found" : "405 Method Not Allowed", body: Array("GET /metrics\n".utf8))
        }
    }

    static func headerEnd(_ r: [UInt8]) -> Int? {
        guard r.count >= 4 else { return nil }
        for i in 0...(r.count - 4) where r[i] == 0x0D && r[i + 1] == 0x0A && r[i + 2] == 0x0D && r[i + 3] == 0x0A { return i }
        for i in 0...(r.count - 2) where r[i] == 0x0A && r[i + 1] == 0x0A { return i }
        return nil
    }

    /// Writes the whole answer (small: the socket buffer takes it) and closes the connection.
    func respond(_ c: Client, status: String, body: [UInt8]) {
        var out = Array("HTTP/1.1 \(status)\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n".utf8)
        out += body
        var sent = 0
        for _ in 0..<64 where sent < out.count {
            let n = out[sent...].withUnsafeBytes { send(c.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n > 0 { sent += n } else if n < 0, errno == EINTR { continue } else { break }
        }
        drop(c.fd)
    }

    /// Closes clients that did not finish their request within 5 s.
    func expire(now: Instant) {
        for fd in clients.keys.sorted() where now >= clients[fd]!.opened + .seconds(5) { drop(fd) }
    }

    func drop(_ fd: Int32) {
        if clients.removeValue(forKey: fd) != nil { close(fd) }
    }

    // MARK: - Metrics

    func gauge(_ name: String, _ labels: [(String, String)] = [], help: String, _ value: Int64) {
        text.add(name, .gauge, help: help, labels: labels, value)
    }

    /// Exposes a counter at `value`; a source counter that went backwards (e.g. a reopened socket)
    /// leaves the exposed value where it was.
    func count(_ name: String, labels: [(String, String)] = [], _ value: UInt64, help: String) {
        let key = name + labels.map { "|\($0.0)=\($0.1)" }.joined()
        let exposed = max(lastCounter[key] ?? 0, value)
        lastCounter[key] = exposed
        text.add(name, .counter, help: help, labels: labels, Int64(clamping: exposed))
    }
}

extension DaemonRuntime {
    /// Refreshes every metric from the daemon's state and returns the exposition text.
    func metricsText(_ m: MetricsEndpoint) -> [UInt8] {
        m.text = MetricsText()
        let s = node.snapshot()
        let c = counters()
        m.gauge("filament_neighbours", help: "Neighbours with a session and a usable link.", Int64(s.neighbours.filter(\.isUp).count))
        m.gauge("filament_routes", help: "Destinations with a selected route.", Int64(s.routes.filter(\.selected).count))
        m.gauge("filament_gateways", help: "Internet gateways known.", Int64(s.gateways.count))
        m.gauge("filament_gateway_selected", help: "1 when an internet gateway is selected.", Int64(s.selectedGateway == nil ? 0 : 1))
        let selectedMetric = s.gateways.first { $0.node == s.selectedGateway }.map { Int64($0.pathMetric.rawValue) } ?? -1
        m.gauge("filament_gateway_selected_metric", help: "Path metric to the selected gateway (-1 when none).", selectedMetric)
        m.count("filament_packets_forwarded_total", c["node.forwarded"] ?? 0, help: "IP packets forwarded to another node.")
        m.count("filament_packets_delivered_total", c["node.delivered"] ?? 0, help: "IP packets delivered to this node's TUN device.")
        let drops: [(String, String)] = [
            ("no_route", "node.noRoute"), ("hop_limit", "node.hopLimitExceeded"), ("too_big", "node.tooBig"),
            ("no_session", "node.noSessionForNextHop"), ("malformed_ip", "node.malformedIPPackets"), ("not_routable", "node.notRoutable"),
            ("unknown_frame", "node.unknownFrameType"), ("undecodable_routing", "node.undecodableRouting"),
            ("send_failed", "daemon.sendDrops"), ("tun_write", "daemon.tunWriteDrops"),
        ] + LinkDropReason.allCases.map { ("link_\($0.rawValue)", "link.drops.\($0.rawValue)") }
        for (reason, key) in drops {
            m.count("filament_packets_dropped_total", labels: [("reason", reason)], c[key] ?? 0, help: "Packets dropped, by reason.")
        }
        m.count("filament_handshakes_completed_total", c["link.handshakesCompleted"] ?? 0, help: "Noise handshakes completed.")
        for reason in [LinkDropReason.wrongKey, .handshakeTimeout, .rateLimited, .decryptFailure] {
            m.count("filament_handshake_failures_total", labels: [("reason", reason.rawValue)], c["link.drops.\(reason.rawValue)"] ?? 0,
                    help: "Link-layer failures around handshakes and decryption, by reason.")
        }
        m.count("filament_replay_drops_total", c["link.drops.\(LinkDropReason.replay.rawValue)"] ?? 0, help: "Transport frames refused as replays.")
        for id in transports.keys.sorted() {
            guard let t = transports[id] else { continue }
            m.gauge("filament_send_queue_depth", [("interface", t.interfaceName)], help: "Datagrams queued for sending per mesh interface.",
                    Int64(t.pendingCount))
        }
        for name in transports.values.map(\.interfaceName).sorted() + [tun.name] {
            for (direction, file) in [("rx", "rx_bytes"), ("tx", "tx_bytes")] {
                m.count("filament_interface_bytes_total", labels: [("interface", name), ("direction", direction)], Self.readCounter(name, file) ?? 0,
                        help: "Bytes through the mesh interfaces and the TUN device (kernel counters).")
            }
        }
        for kind in Message.kindNames {
            m.count("filament_control_bytes_sent_total", labels: [("type", kind)], c["node.controlBytesSent.\(kind)"] ?? 0,
                    help: "Control traffic sent, by message type (message bodies; node_info: whole payloads).")
        }
        m.count("filament_control_bytes_sent_total", labels: [("type", "node_info")], topology.counters.bytesSent, help: "Control traffic sent, by message type.")
        m.count("filament_control_bytes_received_total", labels: [("type", "node_info")], topology.counters.bytesReceived,
                help: "Control traffic received, by message type.")
        m.count("filament_node_info_requests_total", labels: [("result", "answered")], topology.counters.requestsAnswered, help: "Node information requests.")
        m.count("filament_node_info_requests_total", labels: [("result", "rate_limited")], topology.counters.requestsRateLimited, help: "Node information requests.")
        m.count("filament_node_info_requests_total", labels: [("result", "rejected")], topology.counters.requestsRejected, help: "Node information requests.")
        return m.text.rendered()
    }
}
