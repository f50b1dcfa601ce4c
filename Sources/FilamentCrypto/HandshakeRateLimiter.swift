import FilamentCore

/// Per-source token buckets for handshake messages, in integer nanoseconds of credit (no floating
/// point, no clock: `now` is passed in). A full bucket is forgotten, so the table only holds
/// sources that sent recently; it is bounded by `capacity`.
struct HandshakeRateLimiter<Source: Hashable> {
    private var credit: [Source: (Int64, Instant)] = [:]
    let burst: Int64
    let refill: Int64
    let capacity: Int

    init(burst: Int, refill: Interval, capacity: Int) {
        self.burst = Int64(max(burst, 1))
        self.refill = max(refill.nanoseconds, 1)
        self.capacity = capacity
    }

    private var full: Int64 {
        let (f, overflow) = burst.multipliedReportingOverflow(by: refill)
        return overflow ? .max / 2 : f
    }

    /// Takes one token for `source`; false if it has none.
    mutating func allow(_ source: Source, now: Instant) -> Bool {
        var (c, at) = credit[source] ?? (full, now)
        let elapsed = max((now - at).nanoseconds, 0)
        c = min(full, c.addingReportingOverflow(elapsed).overflow ? full : c + elapsed)
        guard c >= refill else {
            credit[source] = (c, now)
            return false
        }
        if credit[source] == nil, credit.count >= capacity {
            purge(now: now)
            if credit.count >= capacity { return false }
        }
        credit[source] = (c - refill, now)
        return true
    }

    /// Forgets sources whose bucket has refilled.
    mutating func purge(now: Instant) {
        credit = credit.filter { _, v in
            let (c, overflow) = v.0.addingReportingOverflow(max((now - v.1).nanoseconds, 0))
            return !overflow && c < full
        }
    }

    var trackedSources: Int { credit.count }
}
