import FilamentControl
import Glibc

/// The control socket: a non-blocking Unix stream listener and its clients, served from the daemon's
/// event loop. Requests are newline-delimited JSON (docs/control-protocol.md); every client has a
/// bounded input line (`LineFramer`, 64 KiB) and a bounded output queue (a client that does not read
/// is disconnected).
public final class ControlServer {
    public struct Failure: Error, CustomStringConvertible { public var description: String }

    final class Client {
        let fd: Int32
        var framer = LineFramer()
        var output: [UInt8] = []
        /// Sent `monitor`: receives every broadcast line until it closes.
        var monitoring = false
        /// Whether the peer may send administrative requests (decided once, at accept, from SO_PEERCRED).
        let isAdministrator: Bool
        /// Distinguishes this client from a later one that gets the same descriptor (deferred answers).
        let serial: UInt64
        init(fd: Int32, isAdministrator: Bool, serial: UInt64) { self.fd = fd; self.isAdministrator = isAdministrator; self.serial = serial }
    }

    public let path: String
    public let listenFD: Int32
    public var maxClients = 32
    public var maxQueuedOutput = 1 << 20
    var clients: [Int32: Client] = [:]
    var nextSerial: UInt64 = 1
    /// The group whose members may send administrative requests (`control_group`), besides root and
    /// the daemon's own user.
    let adminGroup: gid_t?
    /// Answers one decoded request from client `fd` with a full response line (newline included).
    let answer: (ControlRequest, Int32) -> [UInt8]

    /// Binds `path` (mode 0660, group `group` if given). A stale socket file left by a dead daemon is
    /// replaced; a live one (another daemon answers) is an error.
    public init(path: String, group: String?, answer: @escaping (ControlRequest, Int32) -> [UInt8]) throws(Failure) {
        self.path = path
        self.answer = answer
        if let group {
            guard let g = getgrnam(group) else { throw Failure(description: "control_group '\(group)' is not a group on this system") }
            adminGroup = g.pointee.gr_gid
        } else {
            adminGroup = nil
        }
        let bytes = Array(path.utf8)
        var addr = sockaddr_un()
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else {
            throw Failure(description: "control socket path \(path) is too long (at most \(MemoryLayout.size(ofValue: addr.sun_path) - 1) bytes)")
        }
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let dir = path.utf8.lastIndex(of: UInt8(ascii: "/")).map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? ""
        if !dir.isEmpty, access(dir, F_OK) != 0 { _ = mkdir(dir, 0o755) }
        var st = stat()
        if lstat(path, &st) == 0 {
            guard st.st_mode & S_IFMT == S_IFSOCK else {
                throw Failure(description: "control socket path \(path) exists and is not a socket; remove it")
            }
            if Self.isLive(&addr) { throw Failure(description: "another daemon answers on \(path)") }
            unlink(path)
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket(AF_UNIX): \(String(cString: strerror(errno)))") }
        let oldMask = umask(0o117)
        let rc = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        umask(oldMask)
        guard rc == 0, listen(fd, 16) == 0 else {
            let e = String(cString: strerror(errno))
            close(fd)
            throw Failure(description: "cannot listen on control socket \(path): \(e)")
        }
        chmod(path, 0o660)
        if let adminGroup { chown(path, uid_t.max, adminGroup) }
        listenFD = fd
    }

    deinit { shutdown() }

    static func isLive(_ addr: inout sockaddr_un) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let rc = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        return rc == 0
    }

    /// Closes every client and the listener and removes the socket file.
    public func shutdown() {
        for fd in clients.keys.sorted() { close(fd) }
        clients.removeAll()
        if listenFD >= 0, close(listenFD) == 0 { unlink(path) }
    }

    /// Descriptors of connected clients.
    public var clientDescriptors: [Int32] { clients.keys.sorted() }

    /// Accepts pending connections; returns the new client descriptors (to watch for reading).
    public func acceptClients() -> [Int32] {
        var accepted: [Int32] = []
        for _ in 0..<64 {
            let fd = accept(listenFD, nil, nil)
            if fd < 0 { break }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            if clients.count >= maxClients {
                let busy = line(ControlResponse<String>(id: 0, error: ControlError(code: "busy", message: "too many control clients")))
                _ = busy.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                close(fd)
                continue
            }
            clients[fd] = Client(fd: fd, isAdministrator: isAdministrator(peerOf: fd), serial: nextSerial)
            nextSerial += 1
            accepted.append(fd)
        }
        return accepted
    }

    /// Reads from client `fd` and answers complete lines. Returns false when the client is gone
    /// (the caller unwatches it; it is already closed).
    public func service(_ fd: Int32) -> Bool {
        guard let c = clients[fd] else { return false }
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        for _ in 0..<16 {
            let n = read(fd, &buffer, buffer.count)
            if n == 0 { drop(fd); return false }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { break }
                drop(fd)
                return false
            }
            for item in c.framer.feed(buffer[0..<n]) {
                switch item {
                case .tooLong:
                    c.output += line(ControlResponse<String>(id: 0, error: ControlError(code: "line_too_long", message: "request longer than \(c.framer.maxLineLength) bytes")))
                case .line(let l):
                    switch ControlJSON.decodeRequest(l) {
                    case .success(let request) where controlCommands[request.command] == .administrative && !c.isAdministrator:
                        c.output += line(ControlResponse<String>(id: request.id, error: ControlError(
                            code: "permission_denied",
                            message: "'\(request.command)' changes the node: run it as root, as the daemon's user or as a member of the control group")))
                    case .success(let request): c.output += answer(request, fd)
                    case .failure(let error): c.output += line(ControlResponse<String>(id: Self.requestID(l), error: error))
                    }
                }
            }
            if c.output.count > maxQueuedOutput { drop(fd); return false }
        }
        return flush(c)
    }

    /// SO_PEERCRED (asm-generic/socket.h).
    static let soPeerCred: Int32 = 17
    /// SO_PEERGROUPS (asm-generic/socket.h).
    static let soPeerGroups: Int32 = 59

    /// Root, the daemon's own user, and members of `adminGroup` (primary or supplementary, as the peer
    /// process held them when it connected) are administrators.
    func isAdministrator(peerOf fd: Int32) -> Bool {
        // struct ucred (pid, uid, gid); Glibc hides the type without _GNU_SOURCE.
        var cred: (pid: Int32, uid: UInt32, gid: UInt32) = (0, 0, 0)
        var size = socklen_t(MemoryLayout.size(ofValue: cred))
        guard getsockopt(fd, SOL_SOCKET, Self.soPeerCred, &cred, &size) == 0, size == 12 else { return false }
        if cred.uid == 0 || cred.uid == geteuid() { return true }
        guard let adminGroup else { return false }
        if cred.gid == adminGroup { return true }
        // The peer's supplementary groups as they were at connect (SO_PEERGROUPS, Linux 4.13).
        var groups = [gid_t](repeating: 0, count: 256)
        var length = socklen_t(groups.count * MemoryLayout<gid_t>.size)
        guard getsockopt(fd, SOL_SOCKET, Self.soPeerGroups, &groups, &length) == 0 else { return false }
        return groups.prefix(Int(length) / MemoryLayout<gid_t>.size).contains(adminGroup)
    }

    /// A handle on client `fd` for an answer sent later (`reply(_:to:)`).
    public func ticket(_ fd: Int32) -> ControlTicket? { clients[fd].map { ControlTicket(fd: fd, serial: $0.serial) } }

    /// Queues a deferred answer for the client of `ticket`, if it is still connected (not a later
    /// client on a reused descriptor), and writes what it can.
    public func reply(_ bytes: [UInt8], to ticket: ControlTicket) {
        guard let c = clients[ticket.fd], c.serial == ticket.serial else { return }
        c.output += bytes
        if c.output.count > maxQueuedOutput { drop(c.fd); return }
        _ = flush(c)
    }

    /// Makes client `fd` a monitor: it receives every `broadcast` line from now on.
    public func subscribe(_ fd: Int32) { clients[fd]?.monitoring = true }

    /// Whether any client is monitoring (so callers can skip building events nobody reads).
    public var hasMonitors: Bool { clients.values.contains { $0.monitoring } }

    /// Queues `line` for every monitoring client and writes what it can; a monitor whose queue
    /// passes `maxQueuedOutput` (it does not read) is disconnected.
    public func broadcast(_ line: [UInt8]) {
        for fd in clients.keys.sorted() {
            guard let c = clients[fd], c.monitoring else { continue }
            c.output += line
            if c.output.count > maxQueuedOutput { drop(fd); continue }
            _ = flush(c)
        }
    }

    /// Writes what is queued for every client; returns whether any output is still pending.
    @discardableResult
    public func flushAll() -> Bool {
        var pending = false
        for fd in clients.keys.sorted() {
            guard let c = clients[fd] else { continue }
            if flush(c), !c.output.isEmpty { pending = true }
        }
        return pending
    }

    /// Closes a client (the caller has unwatched it or will).
    public func drop(_ fd: Int32) {
        if clients.removeValue(forKey: fd) != nil { close(fd) }
    }

    /// Returns false (and drops the client) on a write error.
    func flush(_ c: Client) -> Bool {
        while !c.output.isEmpty {
            let n = c.output.withUnsafeBytes { write(c.fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { return true }
                drop(c.fd)
                return false
            }
            c.output.removeFirst(n)
        }
        return true
    }

    /// The `id` of a request line that failed to decode, if it has one (so the client can match the error).
    static func requestID(_ line: [UInt8]) -> Int {
        guard case .number(let n)? = (try? JSONValue.parse(line))?["id"], let id = Int(n) else { return 0 }
        return id
    }

    func line<T: Encodable>(_ value: T) -> [UInt8] { Self.encode(value) }

    /// One JSON line (sorted keys, newline at the end); an encoding failure becomes an `internal` error line.
    public static func encode<T: Encodable>(_ value: T) -> [UInt8] {
        if let d = try? ControlJSON.encodeLine(value) { return d }
        return Array("{\"error\":{\"code\":\"internal\",\"message\":\"cannot encode the answer\"},\"id\":0,\"ok\":false,\"version\":1}\n".utf8)
    }
}

/// Names one control client for an answer that is sent later (topology gathering).
public struct ControlTicket: Hashable, Sendable {
    public let fd: Int32
    let serial: UInt64
}
