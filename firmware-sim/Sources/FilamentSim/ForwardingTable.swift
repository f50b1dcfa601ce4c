import FilamentCore

/// One bulb's forwarding table as the simulator rebuilds it from the engine's `installRoute` and
/// `removeRoute` actions. Host routes to bulbs (nearly all of it) live in a flat array indexed by the
/// destination bulb: 4 bytes a destination, no hashing on install, lookup or the oracle's walks. Any
/// other prefix (a gateway's attached prefix, ::/0) goes to a small dictionary.
struct ForwardingTable {
    /// No entry for the destination.
    static let absent: Int32 = -1
    /// An entry whose next hop is no bulb of the run (cannot be followed).
    static let unknownHop: Int32 = -2

    /// Next hop per destination bulb index; empty until the first host route is installed.
    private var hosts: [Int32] = []
    private var others: [Prefix: Int32] = [:]

    /// The next hop towards bulb `d`, nil when there is none (no entry, or a hop that is no bulb).
    @inline(__always) func nextHop(toBulb d: Int) -> Int? {
        guard d < hosts.count else { return nil }
        let h = hosts[d]
        return h >= 0 ? Int(h) : nil
    }

    /// Installs `prefix` -> `hop` (nil: a next hop that is no bulb). `bulb` is the destination bulb
    /// index when `prefix` is exactly a bulb's host prefix.
    mutating func install(_ prefix: Prefix, bulb: Int?, hop: Int?, bulbs: Int) {
        let value = hop.map { Int32($0) } ?? Self.unknownHop
        if let d = bulb {
            if hosts.isEmpty { hosts = [Int32](repeating: Self.absent, count: bulbs) }
            hosts[d] = value
        } else {
            others[prefix] = value
        }
    }

    mutating func remove(_ prefix: Prefix, bulb: Int?) {
        if let d = bulb {
            if d < hosts.count { hosts[d] = Self.absent }
        } else {
            others[prefix] = nil
        }
    }

    /// Forgets everything (power off or reboot); keeps the host array's memory when asked.
    mutating func removeAll(keepingCapacity: Bool) {
        if keepingCapacity {
            for k in hosts.indices { hosts[k] = Self.absent }
        } else {
            hosts = []
        }
        others.removeAll(keepingCapacity: keepingCapacity)
    }
}
