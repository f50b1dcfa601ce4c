import FilamentCore
import Glibc

/// The daemon's only clock: `CLOCK_MONOTONIC` (never wall time — bulbs boot without a real-time
/// clock) mapped to FilamentCore's `Instant` (nanoseconds since boot).
public enum MonotonicClock {
    /// The current monotonic time.
    public static func now() -> Instant {
        var ts = timespec()
        // clock_gettime(CLOCK_MONOTONIC) cannot fail with a valid pointer.
        _ = clock_gettime(CLOCK_MONOTONIC, &ts)
        return Instant(nanoseconds: Int64(ts.tv_sec) &* 1_000_000_000 &+ Int64(ts.tv_nsec))
    }
}
