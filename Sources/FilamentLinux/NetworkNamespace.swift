import CFilamentShim
import Glibc

/// Runs code inside a named network namespace (`ip netns add NAME`, i.e. /run/netns/NAME) without
/// touching the calling thread: the body runs on a fresh thread that entered the namespace, and the
/// caller waits for it. Sockets, TUN devices and netlink sockets created in the body stay in that
/// namespace for their whole life and may then be used from any thread.
/// For tests, benchmarks and the emulation lab; the daemon itself runs in its own namespace.
public enum NetworkNamespace {
    /// Runs `body` on a new thread inside namespace `name` and returns its result (or rethrows).
    public static func run<T>(_ name: String, _ body: () throws -> T) throws -> T {
        try withoutActuallyEscaping(body) { escapable in
            let job = Job(path: "/run/netns/" + name, body: { try escapable() })
            let ctx = Unmanaged.passRetained(job).toOpaque()
            var thread = pthread_t()
            let rc = pthread_create(&thread, nil, { arg in
                let job = Unmanaged<Job>.fromOpaque(arg!).takeRetainedValue()
                let entered = filament_enter_netns(job.path)
                if entered < 0 {
                    job.outcome = .failure(SystemError(operation: "setns(\(job.path))", code: -entered))
                } else {
                    do { job.outcome = .success(try job.body()) } catch { job.outcome = .failure(error) }
                }
                return nil
            }, ctx)
            if rc != 0 {
                Unmanaged<Job>.fromOpaque(ctx).release()
                throw SystemError(operation: "pthread_create", code: rc)
            }
            pthread_join(thread, nil)
            switch job.outcome! {
            case .success(let v): return v as! T
            case .failure(let e): throw e
            }
        }
    }

    private final class Job {
        let path: String
        let body: () throws -> Any
        var outcome: Result<Any, any Error>?
        init(path: String, body: @escaping () throws -> Any) { self.path = path; self.body = body }
    }
}
