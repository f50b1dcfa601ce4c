import Foundation

/// Bounded parallelism for lab set-up and teardown: big grids (hundreds of namespaces) spend most
/// of their start-up in `ip` and `filamentd init` processes, which overlap well even on 2 cores.
public enum Parallel {
    /// Default number of workers: enough to overlap process start-up and kernel waits, few enough
    /// not to starve the daemons already running. `FILAMENT_LAB_JOBS` overrides it.
    public static var defaultWidth: Int {
        if let s = ProcessInfo.processInfo.environment["FILAMENT_LAB_JOBS"], let n = Int(s), n > 0 { return min(n, 64) }
        return min(8, max(2, 2 * ProcessInfo.processInfo.activeProcessorCount))
    }

    /// Calls `body(i)` for every i in 0..<count on at most `width` threads. Every index runs even
    /// when one fails; the first error (lowest index) is rethrown afterwards.
    public static func forEach(_ count: Int, width: Int = defaultWidth, _ body: @escaping (Int) throws -> Void) throws {
        guard count > 0 else { return }
        let workers = max(1, min(width, count))
        if workers == 1 {
            for i in 0..<count { try body(i) }
            return
        }
        let state = ForEachState(body)
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while let i = state.take(below: count) {
                do { try state.body(i) } catch { state.fail(i, error) }
            }
        }
        if let error = state.error { throw error }
    }

    /// The shared state of one `forEach`: the next index, the first error and the body (which the
    /// caller guarantees may run on several threads: each index touches its own data, shared data
    /// goes through locks).
    private final class ForEachState: @unchecked Sendable {
        let body: (Int) throws -> Void
        private let lock = NSLock()
        private var next = 0
        private var failure: (Int, Error)?
        init(_ body: @escaping (Int) throws -> Void) { self.body = body }
        func take(below count: Int) -> Int? {
            lock.withLock { () -> Int? in
                guard next < count else { return nil }
                defer { next += 1 }
                return next
            }
        }
        func fail(_ i: Int, _ error: Error) { lock.withLock { if failure == nil || i < failure!.0 { failure = (i, error) } } }
        var error: Error? { lock.withLock { failure?.1 } }
    }

    /// `forEach` collecting one value per index, in index order.
    public static func map<T>(_ count: Int, width: Int = defaultWidth, _ body: @escaping (Int) throws -> T) throws -> [T] {
        let results = MapResults<T>(count)
        try forEach(count, width: width) { i in results.set(i, try body(i)) }
        return results.values
    }

    private final class MapResults<T>: @unchecked Sendable {
        private let lock = NSLock()
        private var out: [T?]
        init(_ count: Int) { out = Array(repeating: nil, count: count) }
        func set(_ i: Int, _ v: T) { lock.withLock { out[i] = v } }
        var values: [T] { lock.withLock { out.map { $0! } } }
    }

    /// Splits `items` into about `parts` contiguous chunks (none empty).
    public static func chunks<T>(_ items: [T], parts: Int) -> [[T]] {
        guard !items.isEmpty else { return [] }
        let size = max(1, (items.count + max(1, parts) - 1) / max(1, parts))
        return stride(from: 0, to: items.count, by: size).map { Array(items[$0..<min($0 + size, items.count)]) }
    }
}
