import Foundation

/// Wall-clock and memory readings around a run (the only non-deterministic report fields).
public enum RunMeasurement {
    /// Monotonic seconds.
    public static func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Peak resident set size of this process (VmHWM from /proc/self/status), in bytes.
    public static func peakRSSBytes() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            // ("VmHWM:\t 1429496 kB", but "VmHWM:\t11046560 kB" from 10,000,000 kB up: split on tabs too.)
            let digits = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).compactMap { Int($0) }.first
            return digits.map { $0 * 1024 }
        }
        return nil
    }
}
