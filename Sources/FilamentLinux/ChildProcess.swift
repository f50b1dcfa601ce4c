import CFilamentShim
import FilamentSystem
import Glibc

/// Runs a helper program (the gateway's `nft`) with `posix_spawn`: input written to its stdin,
/// stdout and stderr captured through pipes up to a bound, the whole run bounded in time (the child
/// is killed with SIGKILL and reaped when the deadline passes). The child starts with an empty
/// signal mask and default signal handlers (the daemon blocks its signals for the signalfd) and
/// with no descriptor of the daemon but the three pipes.
public enum ChildProcess {
    public struct Result: Equatable, Sendable {
        /// The exit status, when the child exited.
        public var exitStatus: Int32?
        /// The signal that ended the child, when one did (SIGKILL after a timeout).
        public var signal: Int32?
        public var standardOutput: [UInt8]
        public var standardError: [UInt8]
        /// The deadline passed and the child was killed.
        public var timedOut: Bool
        /// More output than `outputLimit` arrived on stdout or stderr; the rest was read and dropped.
        public var truncated: Bool

        public var succeeded: Bool { exitStatus == 0 && !timedOut }
    }

    /// Runs `path` with `arguments` (argv[1...]) and the daemon's environment.
    /// - Parameters:
    ///   - input: bytes for the child's stdin, which is then closed.
    ///   - timeoutMilliseconds: the whole run, from spawn to exit.
    ///   - outputLimit: bytes kept from stdout and from stderr each.
    public static func run(
        _ path: String, _ arguments: [String], input: [UInt8] = [],
        timeoutMilliseconds: Int = 10_000, outputLimit: Int = 64 * 1024
    ) throws(SystemError) -> Result {
        let pipes = try (makePipe(), makePipe(), makePipe())  // stdin, stdout, stderr
        var parentEnds = [pipes.0.write, pipes.1.read, pipes.2.read]
        var childEnds = [pipes.0.read, pipes.1.write, pipes.2.write]
        defer { for fd in parentEnds + childEnds where fd >= 0 { close(fd) } }

        let pid = try spawn(path, arguments, stdin: pipes.0.read, stdout: pipes.1.write, stderr: pipes.2.write)
        for fd in childEnds { close(fd) }
        childEnds = []
        for fd in parentEnds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }

        let deadline = monotonicMilliseconds() + timeoutMilliseconds
        var io = Exchange(input: input, limit: outputLimit)
        let finished: Bool
        do {
            finished = try io.pump(&parentEnds, deadline: deadline)
        } catch {
            // poll failed: do not leave the child running or unreaped.
            kill(pid, SIGKILL)
            var ignored: Int32 = 0
            while waitpid(pid, &ignored, 0) < 0 && errno == EINTR {}
            throw error
        }
        var status: Int32 = 0
        var timedOut = !finished
        if finished {
            // Output is closed; the child is exiting. Poll for it until the deadline.
            while true {
                let r = waitpid(pid, &status, WNOHANG)
                if r == pid { break }
                if r < 0 && errno != EINTR { throw SystemError(operation: "waitpid(\(path))", code: errno) }
                if monotonicMilliseconds() >= deadline { timedOut = true; break }
                var pause = timespec(tv_sec: 0, tv_nsec: 2_000_000)
                nanosleep(&pause, nil)
            }
        }
        if timedOut {
            kill(pid, SIGKILL)
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        }
        let signalled = status & 0x7f
        return Result(
            exitStatus: signalled == 0 ? (status >> 8) & 0xff : nil,
            signal: signalled == 0 ? nil : signalled,
            standardOutput: io.output[0], standardError: io.output[1],
            timedOut: timedOut, truncated: io.truncated)
    }

    private static func makePipe() throws(SystemError) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        _ = try Syscall.checkReturningErrno("pipe2", { Int(filament_pipe_cloexec(&fds)) })
        return (fds[0], fds[1])
    }

    private static func spawn(_ path: String, _ arguments: [String], stdin: Int32, stdout: Int32, stderr: Int32) throws(SystemError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdin, 0)
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        posix_spawn_file_actions_adddup2(&actions, stderr, 2)
        let closing = filament_spawn_actions_closefrom(&actions, 3)
        guard closing == 0 else { throw SystemError(operation: "posix_spawn_file_actions_addclosefrom_np", code: closing) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t(), all = sigset_t()
        sigemptyset(&empty)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
        guard rc == 0 else { throw SystemError(operation: "posix_spawn(\(path))", code: rc) }
        return pid
    }

    static func monotonicMilliseconds() -> Int {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return ts.tv_sec * 1000 + ts.tv_nsec / 1_000_000
    }

    /// Moves bytes between the daemon and the child's pipes with poll until both outputs close.
    private struct Exchange {
        var input: [UInt8]
        var written = 0
        let limit: Int
        var output: [[UInt8]] = [[], []]
        var truncated = false

        init(input: [UInt8], limit: Int) { self.input = input; self.limit = limit }

        /// Moves bytes over `fds` (stdin, stdout, stderr; each set to -1 once closed).
        /// True when stdout and stderr reached end of file before the deadline.
        mutating func pump(_ fds: inout [Int32], deadline: Int) throws(SystemError) -> Bool {
            if input.isEmpty { close(fds[0]); fds[0] = -1 }
            var chunk = [UInt8](repeating: 0, count: 16 * 1024)
            while fds[1] >= 0 || fds[2] >= 0 {
                let left = deadline - ChildProcess.monotonicMilliseconds()
                if left <= 0 { return false }
                var polled = [pollfd(fd: fds[0], events: Int16(POLLOUT), revents: 0),
                              pollfd(fd: fds[1], events: Int16(POLLIN), revents: 0),
                              pollfd(fd: fds[2], events: Int16(POLLIN), revents: 0)]
                let n = poll(&polled, 3, Int32(min(left, 1000)))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw SystemError(operation: "poll(child pipes)", code: errno)
                }
                if fds[0] >= 0 && polled[0].revents != 0 { writeInput(&fds[0]) }
                for i in 1...2 where fds[i] >= 0 && polled[i].revents != 0 {
                    let fd = fds[i], which = i - 1
                    let r = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                    if r > 0 {
                        let keep = max(0, min(r, limit - output[which].count))
                        output[which] += chunk[0..<keep]
                        if keep < r { truncated = true }
                    } else if r == 0 || (errno != EINTR && errno != EAGAIN) {
                        close(fd)
                        fds[i] = -1
                    }
                }
            }
            if fds[0] >= 0 { close(fds[0]); fds[0] = -1 }
            return true
        }

        /// Writes what the pipe takes; closes stdin when all is written or the child closed its end.
        /// SIGPIPE is blocked around the write and a pending one consumed, so a child that exits
        /// without reading its input gives EPIPE here instead of killing the daemon.
        mutating func writeInput(_ stdin: inout Int32) {
            var pipeSignal = sigset_t(), previous = sigset_t()
            sigemptyset(&pipeSignal)
            sigaddset(&pipeSignal, SIGPIPE)
            pthread_sigmask(SIG_BLOCK, &pipeSignal, &previous)
            let r = input.withUnsafeBytes { write(stdin, $0.baseAddress! + written, $0.count - written) }
            let failure = r < 0 ? errno : 0
            if failure == EPIPE {
                var zero = timespec(tv_sec: 0, tv_nsec: 0)
                _ = sigtimedwait(&pipeSignal, nil, &zero)
            }
            pthread_sigmask(SIG_SETMASK, &previous, nil)
            if r > 0 { written += r }
            if written == input.count || (failure != 0 && failure != EINTR && failure != EAGAIN) {
                close(stdin)
                stdin = -1
            }
        }
    }
}
