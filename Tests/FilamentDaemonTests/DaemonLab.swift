import Foundation
import Glibc
import Testing

/// Real `filamentd` processes in network namespaces for the integration tests. Namespaces are named
/// `fild-<pid>-<tag><i>`, joined in a line by veth pairs with DAD disabled, and deleted by `close()`
/// (every test calls it in a `defer`); stale ones of dead test processes are removed before the first
/// lab starts. Daemons are stopped by PID. Every wait is bounded.
final class DaemonLab {
    static let available: Bool = getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip")
    static let skipMessage: Comment = "needs root and iproute2 (network namespaces); run the tests as root"

    static let binDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    static var filamentd: String { binDirectory.appendingPathComponent("filamentd").path }
    static var filamentctl: String { binDirectory.appendingPathComponent("filamentctl").path }

    static let staleCleanup: Void = {
        guard let out = try? sh(["ip", "netns", "list"]) else { return }
        for line in out.split(separator: "\n") {
            let name = String(line.split(separator: " ").first ?? "")
            let parts = name.split(separator: "-")
            guard parts.count >= 3, parts[0] == "fild" || parts[0] == "filg", let pid = Int32(parts[1]), pid != getpid() else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { _ = try? sh(["ip", "netns", "del", name]) }
        }
        // Directories of test processes that died before their `close()`.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/tmp")) ?? [] {
            let parts = name.split(separator: "-")
            guard parts.count >= 3, parts[0] == "fild" || parts[0] == "filg", let pid = Int32(parts[1]), pid != getpid() else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { try? FileManager.default.removeItem(atPath: "/tmp/\(name)") }
        }
    }()

    struct CommandFailed: Error, CustomStringConvertible {
        var command: [String]
        var status: Int32
        var output: String
        var description: String { "\(command.joined(separator: " ")) exited \(status): \(output)" }
    }

    let tag: String
    /// `fild` for the daemon tests, `filg` for the gateway tests.
    let prefix: String
    let count: Int
    let directory: String
    var daemons: [Int: Process] = [:]

    /// `count` namespaces in a line: node i's `v<i>r` is joined to node i+1's `v<i+1>l` (unless
    /// `linked` is false: then `link(_:dad:)` makes the veth pairs later).
    init(tag: String, count: Int, linked: Bool = true, prefix: String = "fild") throws {
        _ = Self.staleCleanup
        self.tag = tag
        self.prefix = prefix
        self.count = count
        directory = "/tmp/\(prefix)-\(getpid())-\(tag)"
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        do {
            for i in 1...count {
                let ns = namespace(i)
                _ = try? Self.sh(["ip", "netns", "del", ns])
                try Self.sh(["ip", "netns", "add", ns])
                try Self.sh(["ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0",
                             "net.ipv6.conf.default.accept_dad=0"])
                try Self.sh(["ip", "-n", ns, "link", "set", "lo", "up"])
                try FileManager.default.createDirectory(atPath: stateDirectory(i), withIntermediateDirectories: false,
                                                        attributes: [.posixPermissions: 0o700])
            }
            if linked { for i in 1..<count { try link(i) } }
        } catch {
            close()
            throw error
        }
    }

    /// Joins node i and node i+1 with a veth pair; with `dad` the link-local addresses go through
    /// duplicate address detection (tentative for about a second) before they are usable.
    func link(_ i: Int, dad: Bool = false) throws {
        try Self.sh(["ip", "link", "add", "v\(i)r", "netns", namespace(i), "type", "veth",
                     "peer", "name", "v\(i + 1)l", "netns", namespace(i + 1)])
        if dad {
            try Self.sh(["ip", "netns", "exec", namespace(i), "sysctl", "-qw", "net.ipv6.conf.v\(i)r.accept_dad=1"])
            try Self.sh(["ip", "netns", "exec", namespace(i + 1), "sysctl", "-qw", "net.ipv6.conf.v\(i + 1)l.accept_dad=1"])
        }
        try Self.sh(["ip", "-n", namespace(i), "link", "set", "v\(i)r", "up"])
        try Self.sh(["ip", "-n", namespace(i + 1), "link", "set", "v\(i + 1)l", "up"])
    }

    func namespace(_ i: Int) -> String { "\(prefix)-\(getpid())-\(tag)\(i)" }
    func stateDirectory(_ i: Int) -> String { "\(directory)/state\(i)" }
    func socket(_ i: Int) -> String { "\(directory)/control\(i).sock" }
    func logFile(_ i: Int) -> String { "\(directory)/filamentd\(i).log" }

    /// Starts node i's daemon (mesh interfaces `v*`), appending to its log.
    func start(_ i: Int, extra: [String] = []) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        let interfaces = extra.contains("--config") ? [] : ["--interface", "v*"]
        p.arguments = ["netns", "exec", namespace(i), Self.filamentd, "--state-dir", stateDirectory(i),
                       "--control-socket", socket(i), "--log-level", "debug"] + interfaces + extra
        if !FileManager.default.fileExists(atPath: logFile(i)) { FileManager.default.createFile(atPath: logFile(i), contents: nil) }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logFile(i)))
        log.seekToEndOfFile()
        p.standardOutput = log
        p.standardError = log
        try p.run()
        daemons[i] = p
    }

    /// Sends SIGTERM to node i's daemon (by PID) and waits up to `seconds` for it to exit; SIGKILL after.
    /// Returns its exit status, nil if it had to be killed.
    @discardableResult
    func stop(_ i: Int, seconds: Double = 5) -> Int32? {
        guard let p = daemons.removeValue(forKey: i) else { return nil }
        let pid = p.processIdentifier
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(seconds)
        while p.isRunning && Date() < deadline { usleep(20_000) }
        if p.isRunning {
            kill(pid, SIGKILL)
            p.waitUntilExit()
            return nil
        }
        return p.terminationStatus
    }

    /// Sends `signal` to node i's daemon.
    func signal(_ i: Int, _ signal: Int32) {
        if let p = daemons[i] { kill(p.processIdentifier, signal) }
    }

    /// Stops every daemon and deletes the namespaces and files.
    func close() {
        for i in daemons.keys.sorted() { stop(i, seconds: 3) }
        for i in 1...count { _ = try? Self.sh(["ip", "netns", "del", namespace(i)]) }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The daemon's log so far (for failure messages).
    func log(_ i: Int) -> String { (try? String(contentsOfFile: logFile(i), encoding: .utf8)) ?? "" }

    /// `filamentctl <command> --json` against node i, parsed; nil while the daemon does not answer.
    func control(_ i: Int, _ command: String) -> Any? {
        guard let out = try? Self.sh([Self.filamentctl, command, "--socket", socket(i), "--json"], timeout: 5) else { return nil }
        return try? JSONSerialization.jsonObject(with: Data(out.utf8))
    }

    /// One request line straight to node i's control socket (for commands filamentctl does not have).
    func rawRequest(_ i: Int, _ command: String) -> [String: Any]? {
        let fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { Glibc.close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(socket(i).utf8)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in raw.copyBytes(from: bytes); raw[bytes.count] = 0 }
        let rc = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else { return nil }
        var tv = timeval(tv_sec: 3, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let line = Array("{\"version\":1,\"id\":1,\"command\":\"\(command)\",\"args\":{}}\n".utf8)
        guard line.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == line.count else { return nil }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        for _ in 0..<100 {
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            data.append(contentsOf: buffer[0..<n])
            if buffer[n - 1] == 0x0A { break }
        }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }

    /// Node ids of node i's neighbours.
    func neighbours(_ i: Int) -> [String]? {
        (control(i, "neighbours") as? [[String: Any]])?.compactMap { $0["node_id"] as? String }
    }

    func status(_ i: Int) -> [String: Any]? { control(i, "status") as? [String: Any] }

    /// One ping from node i to `address`; the output when it got an answer, nil otherwise.
    func ping(from i: Int, _ address: String) -> String? {
        try? Self.sh(["ip", "netns", "exec", namespace(i), "ping", "-6", "-n", "-c", "1", "-W", "1", address], timeout: 5)
    }

    /// Polls `condition` every 200 ms for up to `seconds`.
    static func waitUntil(seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        repeat {
            if condition() { return true }
            usleep(200_000)
        } while Date() < deadline
        return condition()
    }

    /// Runs a command (bounded) and returns its output; throws on non-zero exit.
    @discardableResult
    static func sh(_ args: [String], timeout: Double = 20) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: args[0].hasPrefix("/") ? args[0] : "/usr/bin/env")
        p.arguments = args[0].hasPrefix("/") ? Array(args.dropFirst()) : args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let pid = p.processIdentifier
        let timer = DispatchWorkItem { kill(pid, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: timer)
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        timer.cancel()
        let text = String(decoding: data, as: UTF8.self)
        guard p.terminationStatus == 0, p.terminationReason == .exit else {
            throw CommandFailed(command: args, status: p.terminationStatus, output: text)
        }
        return text
    }
}
