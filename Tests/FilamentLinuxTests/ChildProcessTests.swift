import FilamentSystem
import Glibc
import Testing
@testable import FilamentLinux

@Suite struct ChildProcessTests {
    /// Input larger than a pipe's buffer goes in while output comes out (no deadlock), byte for byte.
    @Test func largeInputThroughCat() throws {
        let input = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let r = try ChildProcess.run("/bin/cat", [], input: input, outputLimit: 1 << 20)
        #expect(r.succeeded)
        #expect(r.exitStatus == 0 && r.signal == nil && !r.truncated)
        #expect(r.standardOutput == input)
        #expect(r.standardError.isEmpty)
    }

    /// Arguments arrive as given; stderr and the exit status come back separately.
    @Test func argumentsStderrAndExitStatus() throws {
        let r = try ChildProcess.run("/bin/sh", ["-c", "printf '%s|' \"$@\"; echo oops >&2; exit 3", "sh", "a b", "", "c"])
        #expect(r.exitStatus == 3 && !r.succeeded)
        #expect(String(decoding: r.standardOutput, as: UTF8.self) == "a b||c|")
        #expect(String(decoding: r.standardError, as: UTF8.self) == "oops\n")
    }

    /// A child that outlives the deadline is killed and reaped; the call returns near the deadline.
    @Test func timeoutKillsTheChild() throws {
        let start = ChildProcess.monotonicMilliseconds()
        let r = try ChildProcess.run("/bin/sleep", ["20"], timeoutMilliseconds: 300)
        let elapsed = ChildProcess.monotonicMilliseconds() - start
        #expect(r.timedOut && !r.succeeded)
        #expect(r.signal == SIGKILL && r.exitStatus == nil)
        #expect(elapsed >= 300 && elapsed < 5_000)
    }

    /// Output beyond the limit is read and dropped (the child is not blocked) and reported.
    @Test func outputIsBounded() throws {
        let r = try ChildProcess.run("/bin/sh", ["-c", "head -c 200000 /dev/zero"], outputLimit: 1000)
        #expect(r.exitStatus == 0)
        #expect(r.standardOutput.count == 1000 && r.truncated)
    }

    /// A child that exits without reading its input gives no SIGPIPE to this process.
    @Test func childIgnoringInput() throws {
        let r = try ChildProcess.run("/bin/true", [], input: [UInt8](repeating: 65, count: 1 << 20))
        #expect(r.exitStatus == 0)
    }

    /// A program that does not exist is a thrown error naming it.
    @Test func missingProgram() {
        #expect(throws: SystemError.self) { try ChildProcess.run("/nonexistent/filament-nft", []) }
        do { _ = try ChildProcess.run("/nonexistent/filament-nft", []) } catch {
            #expect(error.code == ENOENT)
            #expect(error.operation.contains("/nonexistent/filament-nft"))
        }
    }

    /// The child gets default signal handling even though the daemon blocks its signals, and none
    /// of the daemon's descriptors beyond the three pipes.
    @Test func cleanSignalMaskAndDescriptors() throws {
        var term = sigset_t(), previous = sigset_t()
        sigemptyset(&term)
        sigaddset(&term, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &term, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        let r = try ChildProcess.run("/bin/sh", ["-c", "kill -TERM $$; exit 0"])
        #expect(r.signal == SIGTERM)

        let devNull = open("/dev/null", O_RDONLY)
        let leaked = fcntl(devNull, F_DUPFD, 500)  // deliberately without FD_CLOEXEC, above what ls opens
        close(devNull)
        #expect(leaked >= 500)
        defer { close(leaked) }
        let fds = try ChildProcess.run("/bin/ls", ["/proc/self/fd"])
        let names = String(decoding: fds.standardOutput, as: UTF8.self).split(separator: "\n")
        #expect(!names.contains(Substring(String(leaked))))
        #expect(names.contains("0") && names.contains("1") && names.contains("2"))
    }
}
