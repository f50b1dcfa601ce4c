import FilamentControl
import Foundation
import Glibc
import Testing
@testable import FilamentDaemon

/// The control socket server, driven by hand (no event loop): accept, service, read the answers.
@Suite struct ControlServerTests {
    let path = "/tmp/fild-\(getpid())-ctl-\(UInt32.random(in: 0 ... .max)).sock"

    func makeServer() throws -> ControlServer {
        try ControlServer(path: path, group: nil) { request, _ in
            ControlServer.encode(ControlResponse(id: request.id, result: "answer to \(request.command)"))
        }
    }

    func connectClient() throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in raw.copyBytes(from: bytes); raw[bytes.count] = 0 }
        let rc = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(rc == 0)
        var tv = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    func send(_ fd: Int32, _ bytes: [UInt8]) {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return }
            sent += n
        }
    }

    /// Reads lines until `count` arrived or 2 s passed, servicing the server in between.
    func readLines(_ fd: Int32, _ count: Int, server: ControlServer, client: Int32) -> [String] {
        var text = ""
        var buffer = [UInt8](repeating: 0, count: 4096)
        for _ in 0..<50 {
            _ = server.service(client)
            if text.split(separator: "\n").count >= count { break }
            let n = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            if n > 0 { text += String(decoding: buffer[0..<n], as: UTF8.self) } else { usleep(20_000) }
        }
        return text.split(separator: "\n").map(String.init)
    }

    /// Malformed JSON gets a bad_request answer, a good request its answer, on the same connection,
    /// and the socket file is mode 0660.
    @Test func malformedThenValidRequest() throws {
        let server = try makeServer()
        defer { server.shutdown() }
        var st = stat()
        #expect(stat(path, &st) == 0 && st.st_mode & 0o777 == 0o660)
        let fd = try connectClient()
        defer { close(fd) }
        let clients = server.acceptClients()
        let client = try #require(clients.first)
        send(fd, Array("{not json\n{\"version\":1,\"id\":9,\"command\":\"status\",\"args\":{}}\n".utf8))
        let lines = readLines(fd, 2, server: server, client: client)
        #expect(lines.count == 2)
        #expect(lines.first?.contains("\"code\":\"bad_request\"") == true)
        #expect(lines.last == "{\"id\":9,\"ok\":true,\"result\":\"answer to status\",\"version\":1}")
    }

    /// A line longer than 64 KiB is answered with line_too_long; the connection goes on and the server
    /// never holds more than the limit for the client.
    @Test func overlongLineIsRefused() throws {
        let server = try makeServer()
        defer { server.shutdown() }
        let fd = try connectClient()
        defer { close(fd) }
        let client = try #require(server.acceptClients().first)
        send(fd, [UInt8](repeating: 0x41, count: 70_000) + [0x0A])
        var lines = readLines(fd, 1, server: server, client: client)
        #expect(lines.first?.contains("line_too_long") == true)
        #expect((server.clients[client]?.framer.bufferedCount ?? 0) <= 64 * 1024)
        send(fd, Array("{\"version\":1,\"id\":3,\"command\":\"routes\",\"args\":{}}\n".utf8))
        lines = readLines(fd, 1, server: server, client: client)
        #expect(lines.last?.contains("answer to routes") == true)
    }

    /// A second server on a socket where a live one answers is refused; after the first shuts down, a
    /// new one binds (the file was removed).
    @Test func liveSocketIsNotStolen() throws {
        let first = try makeServer()
        #expect(throws: ControlServer.Failure.self) { _ = try makeServer() }
        first.shutdown()
        let second = try makeServer()
        second.shutdown()
    }
}

extension ControlServerTests {
    /// Broadcast lines reach monitoring clients only, and a monitor that never reads is disconnected
    /// once its queue passes the bound.
    @Test func broadcastReachesMonitorsAndIsBounded() throws {
        let server = try makeServer()
        defer { server.shutdown() }
        let monitorFD = try connectClient(), otherFD = try connectClient()
        defer { close(monitorFD); close(otherFD) }
        let accepted = server.acceptClients()
        #expect(accepted.count == 2)
        let monitorClient = accepted[0]
        server.subscribe(monitorClient)
        #expect(server.hasMonitors)
        server.broadcast(Array("{\"event\":\"add\"}\n".utf8))
        #expect(readLines(monitorFD, 1, server: server, client: monitorClient) == ["{\"event\":\"add\"}"])
        var buffer = [UInt8](repeating: 0, count: 64)
        #expect(recv(otherFD, &buffer, buffer.count, Int32(MSG_DONTWAIT)) < 0)
        // Never read: the kernel buffer fills, then the server's queue, then the client is dropped.
        server.maxQueuedOutput = 64 * 1024
        let big = [UInt8](repeating: 0x42, count: 16 * 1024) + [0x0A]
        for _ in 0..<200 { server.broadcast(big) }
        #expect(!server.clientDescriptors.contains(monitorClient))
        #expect(server.clientDescriptors.count == 1)
    }
}

extension ControlServerTests {
    /// Past `maxClients`, a new connection gets one `busy` line and is closed; the clients already
    /// connected are still answered.
    @Test func tooManyClientsGetBusy() throws {
        let server = try makeServer()
        defer { server.shutdown() }
        server.maxClients = 4
        var fds: [Int32] = []
        defer { for fd in fds { close(fd) } }
        for _ in 0..<6 { fds.append(try connectClient()) }
        let accepted = server.acceptClients()
        #expect(accepted.count == 4)
        var buffer = [UInt8](repeating: 0, count: 512)
        let n = recv(fds[5], &buffer, buffer.count, 0)
        #expect(n > 0 && String(decoding: buffer[0..<max(n, 0)], as: UTF8.self).contains("\"code\":\"busy\""))
        #expect(recv(fds[5], &buffer, buffer.count, 0) == 0)  // closed after the busy line
        send(fds[0], Array("{\"version\":1,\"id\":1,\"command\":\"status\",\"args\":{}}\n".utf8))
        #expect(readLines(fds[0], 1, server: server, client: accepted[0]).first?.contains("answer to status") == true)
    }

    /// A deferred answer (topology) reaches the client that asked, and is dropped when that client has
    /// gone and a new one holds the same descriptor.
    @Test func deferredReplyGoesOnlyToTheAskingClient() throws {
        let server = try makeServer()
        defer { server.shutdown() }
        let first = try connectClient()
        let client = try #require(server.acceptClients().first)
        let ticket = try #require(server.ticket(client))
        server.reply(Array("{\"late\":1}\n".utf8), to: ticket)
        #expect(readLines(first, 1, server: server, client: client) == ["{\"late\":1}"])
        close(first)
        _ = server.service(client)  // sees the close
        let second = try connectClient()
        defer { close(second) }
        let reused = try #require(server.acceptClients().first)
        server.reply(Array("{\"late\":2}\n".utf8), to: ticket)
        var buffer = [UInt8](repeating: 0, count: 64)
        usleep(50_000)
        #expect(recv(second, &buffer, buffer.count, Int32(MSG_DONTWAIT)) < 0, "descriptor \(reused) got an answer meant for its predecessor")
    }
}
