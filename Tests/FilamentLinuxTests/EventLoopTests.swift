import FilamentCore
import FilamentLinux
import Glibc
import Testing

@Suite struct EventLoopTests {
    /// The epoll timeout rounds up to whole milliseconds, is capped by maxWait and never negative.
    @Test func timeoutComputation() {
        let now = Instant(nanoseconds: 1_000_000_000)
        #expect(EventLoop.timeoutMilliseconds(now: now, deadline: now + .microseconds(1500), maxWait: .seconds(1)) == 2)
        #expect(EventLoop.timeoutMilliseconds(now: now, deadline: now + .milliseconds(3), maxWait: .seconds(1)) == 3)
        #expect(EventLoop.timeoutMilliseconds(now: now, deadline: now - .seconds(1), maxWait: .seconds(1)) == 0)
        #expect(EventLoop.timeoutMilliseconds(now: now, deadline: now + .seconds(10), maxWait: .milliseconds(250)) == 250)
        #expect(EventLoop.timeoutMilliseconds(now: now, deadline: .distantFuture, maxWait: .seconds(2)) == 2000)
    }

    /// A deadline 30 ms ahead is reported, not before it and not much after it.
    @Test func deadlineFires() throws {
        let loop = try EventLoop(signals: [])
        let start = MonotonicClock.now()
        let deadline = start + .milliseconds(30)
        var fired = false
        for _ in 0..<10 where !fired {
            try loop.wait(until: deadline, maxWait: .seconds(1)) { if $0 == .deadlineReached { fired = true } }
        }
        let elapsed = MonotonicClock.now() - start
        #expect(fired)
        #expect(elapsed >= .milliseconds(30))
        #expect(elapsed < .milliseconds(500))
    }

    /// A readable pipe is reported with its token; an empty one is not, and the wait is bounded.
    @Test func readableDescriptor() throws {
        let loop = try EventLoop(signals: [])
        var fds: [Int32] = [0, 0]
        #expect(makeNonBlockingPipe(&fds))
        defer { close(fds[0]); close(fds[1]) }
        try loop.watch(fds[0], token: 42)
        var seen: [EventLoop.Event] = []
        let quiet = try loop.wait(until: .distantFuture, maxWait: .milliseconds(20)) { seen.append($0) }
        #expect(quiet == 0 && seen.isEmpty)
        _ = write(fds[1], "x", 1)
        try loop.wait(until: .distantFuture, maxWait: .seconds(1)) { seen.append($0) }
        #expect(seen == [.readable(token: 42)])
        try loop.unwatch(fds[0])
    }

    /// Writable interest reports a full pipe only once it has room again, and stops when turned off.
    @Test func writableInterest() throws {
        let loop = try EventLoop(signals: [])
        var fds: [Int32] = [0, 0]
        #expect(makeNonBlockingPipe(&fds))
        defer { close(fds[0]); close(fds[1]) }
        var chunk = [UInt8](repeating: 1, count: 4096)
        var filled = 0
        while write(fds[1], &chunk, chunk.count) > 0 && filled < 10_000 { filled += 1 }
        #expect(errno == EAGAIN)
        try loop.watch(fds[1], token: 5)
        try loop.setWritableInterest(fds[1], token: 5, true)
        var seen: [EventLoop.Event] = []
        try loop.wait(until: .distantFuture, maxWait: .milliseconds(20)) { seen.append($0) }
        #expect(seen.isEmpty, "a full pipe is not writable")
        for _ in 0..<filled { _ = read(fds[0], &chunk, chunk.count) }
        try loop.wait(until: .distantFuture, maxWait: .seconds(1)) { seen.append($0) }
        #expect(seen == [.writable(token: 5)])
        try loop.setWritableInterest(fds[1], token: 5, false)
        seen = []
        try loop.wait(until: .distantFuture, maxWait: .milliseconds(20)) { seen.append($0) }
        #expect(seen.isEmpty)
    }

    /// SIGHUP, SIGTERM and SIGINT raised on the loop's thread arrive through the signalfd as events.
    @Test func signalsBecomeEvents() throws {
        // A dedicated thread: blocking signals must not leak into the test runner's pool threads.
        let seen: [EventLoop.Event] = try onFreshThread {
            let loop = try EventLoop()
            raise(SIGHUP)
            raise(SIGTERM)
            raise(SIGINT)
            var seen: [EventLoop.Event] = []
            for _ in 0..<10 where seen.count < 3 {
                try loop.wait(until: .distantFuture, maxWait: .milliseconds(200)) { seen.append($0) }
            }
            return seen
        }
        #expect(Set(seen.map { "\($0)" }) == Set([EventLoop.Event.signal(.hangup), .signal(.terminate), .signal(.interrupt)].map { "\($0)" }))
    }

    /// The monotonic clock never goes backwards.
    @Test func monotonicClock() {
        var last = MonotonicClock.now()
        for _ in 0..<1000 {
            let t = MonotonicClock.now()
            #expect(t >= last)
            last = t
        }
    }
}

/// Creates a pipe whose two ends are non-blocking.
func makeNonBlockingPipe(_ fds: inout [Int32]) -> Bool {
    guard pipe(&fds) == 0 else { return false }
    for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
    return true
}

final class ThreadJob<T>: @unchecked Sendable {
    var body: () throws -> T
    var result: Result<T, any Error>?
    init(_ b: @escaping () throws -> T) { body = b }
    func run() { result = Result { try body() } }
}

/// Runs `body` on a new thread and returns its result.
func onFreshThread<T>(_ body: @escaping () throws -> T) throws -> T {
    let job = ThreadJob(body)
    var t = pthread_t()
    let ctx = Unmanaged.passRetained(job as AnyObject).toOpaque()
    pthread_create(&t, nil, { arg in
        let job = Unmanaged<AnyObject>.fromOpaque(arg!).takeRetainedValue()
        (job as! Runnable).run()
        return nil
    }, ctx)
    pthread_join(t, nil)
    return try job.result!.get()
}

protocol Runnable { func run() }
extension ThreadJob: Runnable {}
