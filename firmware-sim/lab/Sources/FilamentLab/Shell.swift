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
    /// Uses `posix_spawn` directly, not Foundation's `Process`: lab set-up runs commands from several
    /// threads at once, and `Process.run()` crashed there (a memcpy inside `run()`), even serialized.
    @discardableResult
    public static func run(_ args: [String], timeout: Double = 20, stdin: String? = nil,
                           check: Bool = true) throws -> CommandResult {
        let dir = FileManager.default.temporaryDirectory.path
        let tag = UUID().uuidString
        let outPath = "\(dir)/fl-\(tag).out", errPath = "\(dir)/fl-\(tag).err", inPath = "\(dir)/fl-\(tag).in"
        defer { for f in [outPath, errPath, inPath] { unlink(f) } }
        // stdin comes from a file, not a pipe: a pipe's write end inherited by a sibling child
        // would keep the reader from ever seeing end of input.
        if let stdin { try Data(stdin.utf8).write(to: URL(fileURLWithPath: inPath)) }
        let pid = try spawnProcess(["/usr/bin/env"] + args, stdin: stdin == nil ? "/dev/null" : inPath,
                                   stdout: outPath, stderr: errPath)
        var status: Int32 = 0
        let deadline = now() + timeout
        var done = false
        while !done {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid || (r < 0 && errno != EINTR) { done = true; break }
            if now() >= deadline { break }
            usleep(2_000)
        }
        if !done {
            kill(pid, SIGKILL)
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            throw LabError.timeout("\(args.joined(separator: " ")) (after \(timeout) s)")
        }
        let code: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        let result = CommandResult(
            status: code,
            stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
        if check && result.status != 0 {
            throw LabError.command(args.joined(separator: " "), status: result.status, stderr: result.stderr)
        }
        return result
    }

    /// `posix_spawn` of `argv` (argv[0] an absolute path) with stdin/stdout/stderr opened from
    /// files, default signal dispositions (the lab ignores SIGINT/SIGTERM itself) and an empty mask.
    static func spawnProcess(_ argv: [String], stdin: String, stdout: String, stderr: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdin, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var all = sigset_t(), none = sigset_t()
        sigfillset(&all); sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attr, &all)
        posix_spawnattr_setsigmask(&attr, &none)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        let env = childEnvironment().map { "\($0.key)=\($0.value)" }
        var cArgs = argv.map { strdup($0) } + [nil]
        var cEnv = env.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) }; for p in cEnv { free(p) } }
        var pid = pid_t()
        let rc = posix_spawn(&pid, argv[0], &actions, &attr, &cArgs, &cEnv)
        guard rc == 0 else { throw LabError.command(argv.joined(separator: " "), status: rc, stderr: String(cString: strerror(rc))) }
        return pid
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
