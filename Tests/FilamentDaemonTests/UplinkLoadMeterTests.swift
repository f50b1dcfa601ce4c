import FilamentCore
import Testing
@testable import FilamentDaemon

struct UplinkLoadMeterTests {
    static func at(_ ms: Int64) -> Instant { Instant(nanoseconds: ms * 1_000_000) }

    /// Load is the busier direction's rate over its configured bandwidth, in percent, capped at 100.
    @Test func loadIsBusierDirectionOverBandwidth() {
        var m = UplinkLoadMeter(bandwidthDownKbps: 100_000, bandwidthUpKbps: 20_000)  // 100/20 Mbit/s
        #expect(m.sample(receivedBytes: 0, sentBytes: 0, now: Self.at(0)) == 0)
        // 2 s: 12.5 MB down = 50 Mbit/s (50 %), 1 MB up = 4 Mbit/s (20 %).
        #expect(m.sample(receivedBytes: 12_500_000, sentBytes: 1_000_000, now: Self.at(2000)) == 50)
        // Next 1 s: 1 MB down (8 %), 2.5 MB up = 20 Mbit/s (100 %).
        #expect(m.sample(receivedBytes: 13_500_000, sentBytes: 3_500_000, now: Self.at(3000)) == 100)
        // Next 1 s: 10 MB up = 80 Mbit/s, four times the uplink: still 100.
        #expect(m.sample(receivedBytes: 13_500_000, sentBytes: 13_500_000, now: Self.at(4000)) == 100)
        // Idle second.
        #expect(m.sample(receivedBytes: 13_500_000, sentBytes: 13_500_000, now: Self.at(5000)) == 0)
    }

    /// Samples closer than the minimum window keep the last load; a counter reset restarts at 0.
    @Test func shortWindowsAndCounterResets() {
        var m = UplinkLoadMeter(bandwidthDownKbps: 8_000, bandwidthUpKbps: 8_000)  // 1 MB/s each way
        m.sample(receivedBytes: 0, sentBytes: 0, now: Self.at(0))
        #expect(m.sample(receivedBytes: 500_000, sentBytes: 0, now: Self.at(1000)) == 50)
        #expect(m.sample(receivedBytes: 5_000_000, sentBytes: 0, now: Self.at(1100)) == 50, "100 ms window ignored")
        #expect(m.sample(receivedBytes: 10, sentBytes: 0, now: Self.at(2000)) == 0, "counter went backwards")
        #expect(m.sample(receivedBytes: 250_010, sentBytes: 0, now: Self.at(3000)) == 25)
    }

    /// A zero bandwidth (unknown) never divides by zero and counts as no load in that direction.
    @Test func zeroBandwidthIsNoLoad() {
        var m = UplinkLoadMeter(bandwidthDownKbps: 0, bandwidthUpKbps: 1_000)
        m.sample(receivedBytes: 0, sentBytes: 0, now: Self.at(0))
        #expect(m.sample(receivedBytes: 1_000_000_000, sentBytes: 62_500, now: Self.at(1000)) == 50)
    }
}
