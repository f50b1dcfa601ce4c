import FilamentCore

/// A gateway's uplink load (0–100) for its advert: the busier direction's byte rate over the
/// configured bandwidth, from the uplink's kernel byte counters sampled now and then
/// (`/sys/class/net/IF/statistics/{rx,tx}_bytes`). Samples closer than `minimumWindow` to the last
/// one are ignored (a rate over a few milliseconds is noise); a counter that went backwards (the
/// interface was re-created) restarts the measurement.
struct UplinkLoadMeter: Sendable {
    var bandwidthDownKbps: UInt32
    var bandwidthUpKbps: UInt32
    var minimumWindow: Interval = .seconds(1)
    /// The last load computed (0 until two samples are far enough apart).
    private(set) var load: UInt8 = 0
    private var last: (at: Instant, received: UInt64, sent: UInt64)?

    init(bandwidthDownKbps: UInt32, bandwidthUpKbps: UInt32) {
        self.bandwidthDownKbps = bandwidthDownKbps
        self.bandwidthUpKbps = bandwidthUpKbps
    }

    /// Adds a sample of the uplink's counters (received = download, sent = upload); returns the load.
    @discardableResult
    mutating func sample(receivedBytes: UInt64, sentBytes: UInt64, now: Instant) -> UInt8 {
        guard let l = last else {
            last = (now, receivedBytes, sentBytes)
            return load
        }
        if receivedBytes < l.received || sentBytes < l.sent {
            last = (now, receivedBytes, sentBytes)
            load = 0
            return load
        }
        let window = now - l.at
        guard window >= minimumWindow else { return load }
        let seconds = Double(window.nanoseconds) / 1e9
        func percent(_ bytes: UInt64, _ kbps: UInt32) -> Double {
            guard kbps > 0 else { return 0 }
            return Double(bytes) * 8 / seconds / (Double(kbps) * 1000) * 100
        }
        let busiest = max(percent(receivedBytes - l.received, bandwidthDownKbps), percent(sentBytes - l.sent, bandwidthUpKbps))
        load = UInt8(min(100, max(0, busiest.rounded())))
        last = (now, receivedBytes, sentBytes)
        return load
    }
}
