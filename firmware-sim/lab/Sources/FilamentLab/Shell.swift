import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What a finished command printed and how it ended.
public struct CommandResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs programs: every wait is bounded, output goes through files (no pipe can fill up and stall).
public enum Shell {
    /// Seconds since an arbitrary fixed point (monotonic).
    public static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Runs `args` (resolved through PATH), waits at most `timeout` seconds, then kills it and throws.
    @discardableResult
    public static func run(_ args: [String], timeout: Double = 20, stdin: String? = nil,
                           check: Bool = true) throws -> CommandResult {
        let dir = FileManager.default.temporaryDirectory
        let tag = UUID().uuidString
        let outURL = dir.appendingPathComponent("fl-\(tag).out")
        let errURL = dir.appendingPathComponent("fl-\(tag).err")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: outURL); try? FileManager.default.removeItem(at: errURL) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        p.environment = childEnvironment()
        p.standardOutput = try FileHandle(forWritingTo: outURL)
        p.standardError = try FileHandle(forWritingTo: errURL)
        // stdin comes from a file, not a pipe: with set-up running in parallel, a pipe's write end
        // inherited by a sibling child would keep the reader from ever seeing end of input.
        if let stdin {
            let inURL = dir.appendingPathComponent("fl-\(tag).in")
            try Data(stdin.utf8).write(to: inURL)
            p.standardInput = try FileHandle(forReadingFrom: inURL)
            try? FileManager.default.removeItem(at: inURL)
        } else {
            p.standardInput = FileHandle.nullDevice
        }
        try launch(p)
        let deadline = now() + timeout
        while p.isRunning && now() < deadline { usleep(2_000) }
        if p.isRunning {
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            throw LabError.timeout("\(args.joined(separator: " ")) (after \(timeout) s)")
        }
        let result = CommandResult(
            status: p.terminationStatus,
            stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
        if check && result.status != 0 {
            throw LabError.command(args.joined(separator: " "), status: result.status, stderr: result.stderr)
        }
        return result
    }

    /// Starts `args` in the background with stdout+stderr into `log`; returns the running process.
    /// The PID is the program's own (`env` and `ip netns exec` both exec, they do not fork).
    public static func spawn(_ args: [String], log: String) throws -> Process {
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        p.environment = childEnvironment()
        p.standardOutput = handle
        p.standardError = handle
        p.standardInput = FileHandle.nullDevice
        try launch(p)
        try? handle.close()
        return p
    }

    /// Foundation's `Process.run()` is not safe to call from several threads at once (it crashed in
    /// a memcpy inside `run()` during parallel set-up), so launches are serialized; the waiting,
    /// and the children themselves, still overlap.
    private static let launchLock = NSLock()
    static func launch(_ p: Process) throws {
        launchLock.lock()
        defer { launchLock.unlock() }
        try p.run()
    }

    /// Waits up to `timeout` seconds for `p` to end; kills it (SIGKILL) if it has not.
    public static func reap(_ p: Process, timeout: Double) {
        let deadline = now() + timeout
        while p.isRunning && now() < deadline { usleep(5_000) }
        if p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
    }

    /// The environment for children: ours, with the system directories always on PATH
    /// (test runners may hand us a PATH without them).
    static func childEnvironment() -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["PATH"] = (env["PATH"].map { $0 + ":" } ?? "") + "/usr/sbin:/usr/bin:/sbin:/bin"
        return env
    }

    /// The full path of `name` if it is an executable on PATH or in the system directories.
    public static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin"
        for dir in path.split(separator: ":") + ["/usr/sbin", "/usr/bin", "/sbin", "/bin"] {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
