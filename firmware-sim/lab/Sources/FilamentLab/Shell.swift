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
        let code = Child.exitCode(status)
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
    static func spawnProcess(_ argv: [String], stdin: String, stdout: String, stderr: String,
                             append: Bool = false) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdin, O_RDONLY, 0)
        let mode = O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, mode, 0o600)
        if stderr == stdout {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        } else {
            posix_spawn_file_actions_addopen(&actions, 2, stderr, mode, 0o600)
        }
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var all = sigset_t(), none = sigset_t()
        sigfillset(&all); sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attr, &all)
        posix_spawnattr_setsigmask(&attr, &none)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        let env = childEnvironmentList
        var cArgs = argv.map { strdup($0) } + [nil]
        var cEnv = env.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) }; for p in cEnv { free(p) } }
        var pid = pid_t()
        let rc = posix_spawn(&pid, argv[0], &actions, &attr, &cArgs, &cEnv)
        guard rc == 0 else { throw LabError.command(argv.joined(separator: " "), status: rc, stderr: String(cString: strerror(rc))) }
        return pid
    }

    /// Starts `args` in the background with stdout+stderr appended to `log`; returns the running
    /// child. The PID is the program's own (`env` and `ip netns exec` both exec, they do not fork).
    /// Uses `posix_spawn` like `run`, and does not wait: a loop of these launches daemons back to
    /// back (decision 0711), which Foundation's `Process` could not do fast or from several threads.
    public static func spawn(_ args: [String], log: String) throws -> Child {
        Child(pid: try spawnProcess(["/usr/bin/env"] + args, stdin: "/dev/null", stdout: log, stderr: log,
                                    append: true))
    }

    /// Waits up to `timeout` seconds for `p` to end; kills it (SIGKILL) if it has not.
    public static func reap(_ p: Child, timeout: Double) {
        let deadline = now() + timeout
        while p.isRunning && now() < deadline { usleep(5_000) }
        if p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
    }

    /// `childEnvironment()` as `KEY=value` strings, computed once (every spawn uses it).
    static let childEnvironmentList: [String] = childEnvironment().map { "\($0.key)=\($0.value)" }.sorted()

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

/// A child started by `Shell.spawn`, known by PID. `isRunning` reaps it once it has ended (so it
/// never lingers as a zombie) and keeps its exit status; safe to use from several threads.
public final class Child: @unchecked Sendable {
    public let processIdentifier: pid_t
    private let lock = NSLock()
    private var exitStatus: Int32?

    init(pid: pid_t) { processIdentifier = pid }

    /// False once the child has ended (and been reaped here).
    public var isRunning: Bool { poll(block: false) == nil }

    /// Blocks until the child has ended.
    public func waitUntilExit() { _ = poll(block: true) }

    /// The exit code (128 + signal if killed); meaningful once `isRunning` is false.
    public var terminationStatus: Int32 { poll(block: false) ?? 0 }

    /// Decodes a `waitpid` status: the exit code, or 128 + the signal that ended it.
    static func exitCode(_ status: Int32) -> Int32 {
        (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    private func poll(block: Bool) -> Int32? {
        lock.lock()
        defer { lock.unlock() }
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        while true {
            let r = waitpid(processIdentifier, &status, block ? 0 : WNOHANG)
            if r == processIdentifier { exitStatus = Child.exitCode(status); return exitStatus }
            if r == 0 { return nil }
            if errno == EINTR { continue }
            exitStatus = -1   // ECHILD: already reaped elsewhere (should not happen); treat as ended
            return exitStatus
        }
    }
}
