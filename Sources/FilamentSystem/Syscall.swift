import Glibc

/// The single place every system call of FilamentLinux goes through (STYLE.md, "module boundaries"):
/// `EINTR` retries, `EAGAIN`/`EWOULDBLOCK` is the normal "would block" outcome, `EBADF`/`EFAULT`
/// are programmer errors (a precondition failure), everything else is thrown as `SystemError`.
public enum Syscall {
    /// What a failed call's errno means for the caller.
    public enum Disposition: Equatable, Sendable {
        /// Interrupted by a signal: call again.
        case retry
        /// Non-blocking descriptor has nothing to give or no room: not an error.
        case wouldBlock
        /// A bad descriptor or pointer: a bug in this process, never caused by the network.
        case programmerError
        /// Anything else: thrown as `SystemError`.
        case fail
    }

    /// The outcome of a call that did not fail.
    public enum Outcome: Equatable, Sendable {
        /// The call's non-negative result.
        case done(Int)
        case wouldBlock
    }

    /// Pure classification of an errno value.
    public static func classify(_ code: Int32) -> Disposition {
        switch code {
        case EINTR: return .retry
        case EAGAIN, EWOULDBLOCK: return .wouldBlock
        case EBADF, EFAULT: return .programmerError
        default: return .fail
        }
    }

    /// Runs `body` (a call returning -1 and setting errno on failure) until it is not interrupted.
    /// Bounded: a call interrupted 10,000 times in a row is reported as an EINTR failure.
    @inline(__always)
    public static func run(_ operation: @autoclosure () -> String, _ body: () -> Int) throws(SystemError) -> Outcome {
        try runReturningErrno(operation(), {
            let r = body()
            return r < 0 ? -Int(errno) : r
        })
    }

    /// Like `run`, for C helpers that return `-errno` on failure instead of setting errno.
    @inline(__always)
    public static func runReturningErrno(_ operation: @autoclosure () -> String, _ body: () -> Int) throws(SystemError) -> Outcome {
        var attempts = 0
        while true {
            let r = body()
            if r >= 0 { return .done(r) }
            let code = Int32(truncatingIfNeeded: -r)
            switch classify(code) {
            case .retry:
                attempts += 1
                if attempts < 10_000 { continue }
                throw SystemError(operation: operation(), code: code)
            case .wouldBlock:
                return .wouldBlock
            case .programmerError:
                preconditionFailure("\(operation()): \(SystemError(operation: operation(), code: code)) — programmer error")
            case .fail:
                throw SystemError(operation: operation(), code: code)
            }
        }
    }

    /// For calls that cannot "would block": returns the result or throws.
    @inline(__always)
    public static func check(_ operation: @autoclosure () -> String, _ body: () -> Int) throws(SystemError) -> Int {
        switch try run(operation(), body) {
        case .done(let n): return n
        case .wouldBlock: throw SystemError(operation: operation(), code: EAGAIN)
        }
    }

    /// Like `check`, for C helpers that return `-errno` on failure.
    @inline(__always)
    public static func checkReturningErrno(_ operation: @autoclosure () -> String, _ body: () -> Int) throws(SystemError) -> Int {
        switch try runReturningErrno(operation(), body) {
        case .done(let n): return n
        case .wouldBlock: throw SystemError(operation: operation(), code: EAGAIN)
        }
    }
}
