import FilamentLinux
import Glibc
import Testing

@Suite struct SyscallTests {
    /// errno values fall into the four documented classes.
    @Test func classification() {
        #expect(Syscall.classify(EINTR) == .retry)
        #expect(Syscall.classify(EAGAIN) == .wouldBlock)
        #expect(Syscall.classify(EWOULDBLOCK) == .wouldBlock)
        #expect(Syscall.classify(EBADF) == .programmerError)
        #expect(Syscall.classify(EFAULT) == .programmerError)
        #expect(Syscall.classify(ECONNREFUSED) == .fail)
        #expect(Syscall.classify(EADDRNOTAVAIL) == .fail)
    }

    /// EINTR is retried until the call succeeds, and the result is passed through.
    @Test func retriesInterruptedCalls() throws {
        var calls = 0
        let outcome = try Syscall.run("fake", {
            calls += 1
            if calls < 3 { errno = EINTR; return -1 }
            return 7
        })
        #expect(outcome == .done(7))
        #expect(calls == 3)
    }

    /// EAGAIN is a normal outcome, not an error.
    @Test func wouldBlockIsAnOutcome() throws {
        let outcome = try Syscall.run("fake", { errno = EAGAIN; return -1 })
        #expect(outcome == .wouldBlock)
        let fromHelper = try Syscall.runReturningErrno("fake", { -Int(EWOULDBLOCK) })
        #expect(fromHelper == .wouldBlock)
    }

    /// Other errors are thrown with errno, its text and the operation's name.
    @Test func otherErrorsAreThrownWithContext() {
        do {
            _ = try Syscall.run("connect(test)", { errno = ECONNREFUSED; return -1 })
            Issue.record("expected a throw")
        } catch {
            #expect(error.operation == "connect(test)")
            #expect(error.code == ECONNREFUSED)
            #expect(error.message == String(cString: strerror(ECONNREFUSED)))
            #expect(error.description.contains("connect(test)"))
        }
    }

    /// A real non-blocking read on an empty pipe reports "would block", then data once written.
    @Test func realPipeRead() throws {
        var fds: [Int32] = [0, 0]
        #expect(makeNonBlockingPipe(&fds))
        defer { close(fds[0]); close(fds[1]) }
        var buf = [UInt8](repeating: 0, count: 8)
        let empty = try Syscall.run("read(pipe)", { read(fds[0], &buf, 8) })
        #expect(empty == .wouldBlock)
        _ = try Syscall.check("write(pipe)", { write(fds[1], "hi", 2) })
        let got = try Syscall.run("read(pipe)", { read(fds[0], &buf, 8) })
        #expect(got == .done(2))
    }

    /// EBADF is a programmer error: the process traps instead of throwing.
    @Test func badDescriptorTraps() async {
        await #expect(processExitsWith: .failure) {
            var b: UInt8 = 0
            _ = try? Syscall.run("read(bad fd)", { read(-1, &b, 1) })
        }
    }
}
