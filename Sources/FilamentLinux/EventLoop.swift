@_exported import FilamentSystem
import CFilamentShim
import FilamentCore
import Glibc

/// One thread's epoll loop: readable descriptors, one deadline on the monotonic clock, and the
/// signals SIGHUP/SIGTERM/SIGINT delivered through a signalfd. The owner calls `wait` in a loop;
/// every wait is bounded (by the next deadline and by `maxWait`).
///
/// Not thread-safe: create, use and drop it on one thread. Create it before starting other
/// threads, so that they inherit the blocked signal mask and signals reach the signalfd.
public final class EventLoop {
    /// The signals the loop turns into events.
    public enum Signal: Int32, Sendable, CaseIterable {
        case hangup = 1      // SIGHUP
        case interrupt = 2   // SIGINT
        case terminate = 15  // SIGTERM
    }

    /// What `wait` reports.
    public enum Event: Equatable, Sendable {
        /// The descriptor registered with `token` is readable (or has an error/hangup to collect).
        case readable(token: UInt64)
        /// The descriptor has room to write again (only while writable interest is on).
        case writable(token: UInt64)
        /// One of the handled signals arrived.
        case signal(Signal)
        /// The deadline passed to `wait` has been reached.
        case deadlineReached
    }

    private let epollFD: Int32
    private let signalFD: Int32
    private var events: [epoll_event]
    private static let signalToken = UInt64.max

    /// Creates the epoll instance and, if `signals` is not empty, blocks them in the calling thread
    /// and routes them through a signalfd. `capacity`: readiness events collected per wait.
    public init(signals: [Signal] = Signal.allCases, capacity: Int = 64) throws(SystemError) {
        epollFD = Int32(try Syscall.check("epoll_create1", { Int(epoll_create1(Int32(EPOLL_CLOEXEC))) }))
        events = [epoll_event](repeating: epoll_event(), count: max(1, capacity))
        if signals.isEmpty {
            signalFD = -1
            return
        }
        var mask = sigset_t()
        sigemptyset(&mask)
        for s in signals { sigaddset(&mask, s.rawValue) }
        let rc = pthread_sigmask(SIG_BLOCK, &mask, nil)
        if rc != 0 {
            close(epollFD)
            throw SystemError(operation: "pthread_sigmask", code: rc)
        }
        do {
            signalFD = Int32(try Syscall.check("signalfd", { Int(signalfd(-1, &mask, Int32(SFD_NONBLOCK | SFD_CLOEXEC))) }))
        } catch {
            close(epollFD)
            throw error
        }
        do {
            try add(signalFD, token: Self.signalToken)
        } catch {
            close(signalFD); close(epollFD)
            throw error
        }
    }

    deinit {
        if signalFD >= 0 { close(signalFD) }
        close(epollFD)
    }

    /// Reports `fd` as `.readable(token:)` while it is readable (level-triggered). `token` must not be
    /// `UInt64.max` (reserved).
    public func watch(_ fd: Int32, token: UInt64) throws(SystemError) {
        precondition(token != Self.signalToken, "token UInt64.max is reserved")
        try add(fd, token: token)
    }

    /// Turns reporting of `.writable(token:)` for a watched `fd` on or off. Turn it on when a
    /// transport's `flush()` left datagrams queued (the socket buffer was full), off once it drained.
    public func setWritableInterest(_ fd: Int32, token: UInt64, _ on: Bool) throws(SystemError) {
        precondition(token != Self.signalToken, "token UInt64.max is reserved")
        var ev = epoll_event()
        ev.events = UInt32(bitPattern: filament_EPOLLIN | (on ? filament_EPOLLOUT : 0))
        ev.data.u64 = token
        _ = try Syscall.check("epoll_ctl(MOD, \(fd))", { Int(epoll_ctl(epollFD, EPOLL_CTL_MOD, fd, &ev)) })
    }

    /// Stops watching `fd`. Call before closing it.
    public func unwatch(_ fd: Int32) throws(SystemError) {
        var ev = epoll_event()
        _ = try Syscall.check("epoll_ctl(DEL, \(fd))", { Int(epoll_ctl(epollFD, EPOLL_CTL_DEL, fd, &ev)) })
    }

    private func add(_ fd: Int32, token: UInt64) throws(SystemError) {
        var ev = epoll_event()
        ev.events = UInt32(bitPattern: filament_EPOLLIN)
        ev.data.u64 = token
        _ = try Syscall.check("epoll_ctl(ADD, \(fd))", { Int(epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &ev)) })
    }

    /// Waits until a watched descriptor is readable, a signal arrives, `deadline` is reached, or
    /// `maxWait` has passed — whichever comes first — and calls `handle` for each event (readable
    /// (and writable) descriptors first, then signals, then `.deadlineReached` if `now >= deadline`). Returns the
    /// number of events handled (0 when `maxWait` elapsed with nothing to report).
    /// Allocates nothing.
    @discardableResult
    public func wait(until deadline: Instant, maxWait: Interval = .seconds(1), _ handle: (Event) throws -> Void) throws -> Int {
        let now = MonotonicClock.now()
        let timeout = Self.timeoutMilliseconds(now: now, deadline: deadline, maxWait: maxWait)
        let capacity = Int32(events.count)
        let n: Int = try events.withUnsafeMutableBufferPointer { buf throws(SystemError) in
            switch try Syscall.run("epoll_wait", { Int(epoll_wait(epollFD, buf.baseAddress, capacity, timeout)) }) {
            case .done(let k): return k
            case .wouldBlock: return 0
            }
        }
        var handled = 0
        var sawSignalFD = false
        let readableMask = UInt32(bitPattern: filament_EPOLLIN | filament_EPOLLERR | filament_EPOLLHUP)
        let writableMask = UInt32(bitPattern: filament_EPOLLOUT)
        for i in 0..<n {
            let token = events[i].data.u64
            if token == Self.signalToken { sawSignalFD = true; continue }
            let bits = events[i].events
            if bits & readableMask != 0 {
                handled += 1
                try handle(.readable(token: token))
            }
            if bits & writableMask != 0 {
                handled += 1
                try handle(.writable(token: token))
            }
        }
        if sawSignalFD {
            while let s = try readSignal() {
                handled += 1
                try handle(.signal(s))
            }
        }
        if deadline != .distantFuture, MonotonicClock.now() >= deadline {
            handled += 1
            try handle(.deadlineReached)
        }
        return handled
    }

    /// epoll_wait's timeout: milliseconds to `deadline` rounded up (never wakes early and spins),
    /// capped by `maxWait`, never negative.
    public static func timeoutMilliseconds(now: Instant, deadline: Instant, maxWait: Interval) -> Int32 {
        let cap = max(Int64(0), maxWait.nanoseconds)
        let untilDeadline = deadline == .distantFuture ? cap : max(Int64(0), (deadline - now).nanoseconds)
        let ns = min(cap, untilDeadline)
        let ms = ns / 1_000_000 + (ns % 1_000_000 == 0 ? 0 : 1)
        return Int32(min(ms, Int64(Int32.max)))
    }

    private func readSignal() throws(SystemError) -> Signal? {
        // struct signalfd_siginfo is 128 bytes; ssi_signo is its first uint32_t.
        var info = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0),
                    UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        let fd = signalFD
        for _ in 0..<64 {
            let r = try withUnsafeMutableBytes(of: &info) { raw throws(SystemError) in
                try Syscall.run("read(signalfd)", { read(fd, raw.baseAddress, 128) })
            }
            guard case .done(let k) = r, k == 128 else { return nil }
            let signo = Int32(truncatingIfNeeded: UInt32(truncatingIfNeeded: info.0))
            if let s = Signal(rawValue: signo) { return s }
        }
        return nil
    }
}
