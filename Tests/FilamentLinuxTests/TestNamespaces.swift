import FilamentCore
import FilamentLinux
import Foundation
import Glibc
import Testing

/// Network namespaces for the integration tests: named `filt-<pid>-<tag>`, created with iproute2,
/// deleted on every path (`defer` in `withPair`), and stale ones of dead test processes are removed
/// once per process before the first namespace is made. Code runs inside a namespace through
/// `NetworkNamespace.run` (a thread that setns'd); see docs/decisions/0503-namespace-tests.md.
enum TestNamespaces {
    /// Root with iproute2 and network-namespace support (probed once by creating and deleting a
    /// namespace); tests that need them skip otherwise.
    static let available: Bool = {
        guard getuid() == 0 else { return false }
        let probe = name("probe")
        guard (try? sh(["ip", "netns", "add", probe])) != nil else { return false }
        delete(probe)
        return true
    }()

    static let skipMessage: Comment = "needs root, iproute2 and network namespaces (CI runs as root)"

    /// Removes `filt-<pid>-*` namespaces whose process is gone. Runs once per process.
    static let staleCleanup: Void = {
        guard let out = try? sh(["ip", "netns", "list"]) else { return }
        for line in out.split(separator: "\n") {
            let name = String(line.split(separator: " ").first ?? "")
            let parts = name.split(separator: "-")
            guard parts.count >= 3, parts[0] == "filt", let pid = Int32(parts[1]) else { continue }
            if pid == getpid() { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { _ = try? sh(["ip", "netns", "del", name]) }
        }
    }()

    struct CommandFailed: Error, CustomStringConvertible {
        var command: [String]
        var status: Int32
        var output: String
        var description: String { "\(command.joined(separator: " ")) exited \(status): \(output)" }
    }

    /// Runs a command (bounded to 20 s) and returns its standard output; throws on non-zero exit.
    @discardableResult
    static func sh(_ args: [String], timeout: Double = 20) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let deadline = Date().addingTimeInterval(timeout)
        var data = Data()
        let handle = out.fileHandleForReading
        // Read until EOF (the child closes its end when it exits).
        while true {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            data.append(chunk)
            if Date() > deadline { p.terminate(); break }
        }
        p.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard p.terminationStatus == 0 else { throw CommandFailed(command: args, status: p.terminationStatus, output: text) }
        return text
    }

    static func name(_ tag: String) -> String { "filt-\(getpid())-\(tag)" }

    /// Creates namespace `name` with DAD disabled and loopback up.
    static func create(_ name: String) throws {
        _ = staleCleanup
        _ = try? sh(["ip", "netns", "del", name])
        try sh(["ip", "netns", "add", name])
        try sh(["ip", "netns", "exec", name, "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0",
                "net.ipv6.conf.default.accept_dad=0"])
        try sh(["ip", "-n", name, "link", "set", "lo", "up"])
    }

    static func delete(_ name: String) { _ = try? sh(["ip", "netns", "del", name]) }

    /// Two namespaces `a` and `b` joined by `links` veth pairs `va<i>` (in a) <-> `vb<i>` (in b),
    /// each end with a fixed link-local address (fe80::a<i> / fe80::b<i>, no DAD, no autoconf) and
    /// MAC 02:00:00:00:0a:0<i> / 02:00:00:00:0b:0<i>. Deleted after `body` on every path.
    static func withPair<T>(_ tag: String, links: Int = 1, _ body: (_ a: String, _ b: String) throws -> T) throws -> T {
        let a = name(tag + "a"), b = name(tag + "b")
        defer { delete(a); delete(b) }
        try create(a)
        try create(b)
        for i in 1...links {
            try sh(["ip", "link", "add", "va\(i)", "address", "02:00:00:00:0a:0\(i)", "netns", a, "type", "veth",
                    "peer", "name", "vb\(i)", "address", "02:00:00:00:0b:0\(i)", "netns", b])
            for (ns, side) in [(a, "a"), (b, "b")] {
                try sh(["ip", "-n", ns, "link", "set", "v\(side)\(i)", "addrgenmode", "none"])
                try sh(["ip", "-n", ns, "addr", "add", "fe80::\(side)\(i)/64", "dev", "v\(side)\(i)", "nodad"])
                try sh(["ip", "-n", ns, "link", "set", "v\(side)\(i)", "up"])
            }
        }
        try waitUntil("veth carrier", seconds: 5) {
            try (1...links).allSatisfy { i in
                try sh(["ip", "-n", a, "link", "show", "va\(i)"]).contains("LOWER_UP")
                    && sh(["ip", "-n", b, "link", "show", "vb\(i)"]).contains("LOWER_UP")
            }
        }
        return try body(a, b)
    }

    /// Creates one namespace, deleted after `body` on every path.
    static func withNamespace<T>(_ tag: String, _ body: (String) throws -> T) throws -> T {
        let n = name(tag)
        defer { delete(n) }
        try create(n)
        return try body(n)
    }

    struct Timeout: Error, CustomStringConvertible {
        var what: String
        var description: String { "timed out waiting for \(what)" }
    }

    /// Polls `condition` every 20 ms for at most `seconds`.
    static func waitUntil(_ what: String, seconds: Double, _ condition: () throws -> Bool) throws {
        let end = MonotonicClock.now() + .milliseconds(Int64(seconds * 1000))
        while MonotonicClock.now() < end {
            if try condition() { return }
            usleep(20_000)
        }
        throw Timeout(what: what)
    }
}

extension EventLoop {
    /// Waits (bounded by `seconds`) until `done()` is true, calling `onReadable` for readable tokens.
    func run(seconds: Double, until done: () -> Bool, _ onReadable: (UInt64) throws -> Void) throws {
        let end = MonotonicClock.now() + .milliseconds(Int64(seconds * 1000))
        while !done() {
            guard MonotonicClock.now() < end else { throw TestNamespaces.Timeout(what: "events") }
            try wait(until: end, maxWait: .milliseconds(100)) { event in
                if case .readable(let t) = event { try onReadable(t) }
            }
        }
    }
}
