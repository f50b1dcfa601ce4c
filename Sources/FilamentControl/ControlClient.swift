#if canImport(Glibc)
import Glibc
#endif

/// Why a control request could not be answered.
public enum ControlClientError: Error, CustomStringConvertible, Equatable {
    /// The socket is not there or nobody listens: the daemon is not running (exit code 2).
    case unreachable(socket: String, reason: String)
    case permissionDenied(socket: String)
    case timedOut(socket: String)
    case protocolError(String)
    /// The daemon answered with an error.
    case daemon(ControlError)

    public var description: String {
        switch self {
        case .unreachable(let s, let r):
            return "cannot reach filamentd at \(s) (\(r)); is it running? Try 'systemctl status filamentd', or --socket PATH"
        case .permissionDenied(let s):
            return "permission denied on \(s); run as root or as a member of the control group"
        case .timedOut(let s): return "filamentd at \(s) did not answer in time"
        case .protocolError(let m): return "unexpected answer from filamentd: \(m)"
        case .daemon(let e): return e.message
        }
    }
}

/// A blocking client for one control connection.
public final class ControlClient {
    public let socketPath: String
    private var fd: Int32 = -1
    private var framer = LineFramer(maxLineLength: 16 * 1024 * 1024)
    private var pending: [[UInt8]] = []
    private var nextID = 1

    public init(socketPath: String) { self.socketPath = socketPath }
    deinit { if fd >= 0 { close(fd) } }

    /// Connects, with `timeoutSeconds` applied to every later read.
    public func connect(timeoutSeconds: Int = 10) throws(ControlClientError) {
        let s = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard s >= 0 else { throw .unreachable(socket: socketPath, reason: String(cString: strerror(errno))) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(socketPath.utf8)
        guard pathBytes.count < MemoryLayout.size(ofValue: addr.sun_path) else {
            close(s); throw .unreachable(socket: socketPath, reason: "socket path too long")
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in pathBytes.enumerated() { raw[i] = b }
            raw[pathBytes.count] = 0
        }
        var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let rc = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(s, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if rc != 0 {
            let e = errno
            close(s)
            if e == EACCES || e == EPERM { throw .permissionDenied(socket: socketPath) }
            throw .unreachable(socket: socketPath, reason: String(cString: strerror(e)))
        }
        fd = s
    }

    /// Sends one request and returns the raw response line.
    public func send(_ command: String, args: [String: String] = [:]) throws(ControlClientError) -> [UInt8] {
        if fd < 0 { try connect() }
        let req = ControlRequest(id: nextID, command: command, args: args)
        nextID += 1
        let line: [UInt8]
        do { line = try ControlJSON.encodeLine(req) } catch { throw .protocolError("cannot encode request: \(error)") }
        try writeAll(line)
        let response = try readLine()
        guard let header = try? JSONCoding.decode(ControlResponseHeader.self, from: response) else {
            throw .protocolError("not a response object")
        }
        if !header.ok { throw .daemon(header.error ?? ControlError(code: "internal", message: "request failed")) }
        return response
    }

    /// Sends a request and decodes its result.
    public func request<T: Codable & Sendable>(_ command: String, args: [String: String] = [:], as: T.Type) throws(ControlClientError) -> T {
        let data = try send(command, args: args)
        guard let r = try? JSONCoding.decode(ControlResponse<T>.self, from: data), let result = r.result else {
            throw .protocolError("result of '\(command)' does not match its schema")
        }
        return result
    }

    /// Reads the next line of a stream (for `monitor`). Nil at end of stream.
    public func readLine() throws(ControlClientError) -> [UInt8] {
        var buf = [UInt8](repeating: 0, count: 65536)
        while pending.isEmpty {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { throw .timedOut(socket: socketPath) }
                throw .unreachable(socket: socketPath, reason: String(cString: strerror(errno)))
            }
            if n == 0 { throw .unreachable(socket: socketPath, reason: "connection closed") }
            for o in framer.feed(buf[0..<n]) {
                switch o {
                case .line(let l): pending.append(l)
                case .tooLong: throw .protocolError("response line too long")
                }
            }
        }
        return pending.removeFirst()
    }

    private func writeAll(_ bytes: [UInt8]) throws(ControlClientError) {
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .unreachable(socket: socketPath, reason: String(cString: strerror(errno)))
            }
            off += n
        }
    }
}
