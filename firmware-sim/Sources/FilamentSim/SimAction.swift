import FilamentCore

/// One concrete thing that happens to the virtual world at a given time (scenario timelines expand
/// into these).
public enum SimAction: Hashable, Sendable {
    case powerOff([Int])
    case powerOn([Int])
    /// Take links (by index into `Topology.links`) down / up.
    case cutLinks([Int])
    case restoreLinks([Int])
    /// A gateway's uplink health (`.uplinkChanged`).
    case uplink(node: Int, healthy: Bool)
    /// Drain or undrain a gateway (`.setDraining`).
    case drain(node: Int, draining: Bool)
}

/// A timeline entry: `action` at virtual time `at`, named `label` in reports.
public struct TimelineEntry: Hashable, Sendable {
    public var at: Interval
    public var action: SimAction
    public var label: String
    /// True if the oracle should measure recovery after this entry.
    public var measured: Bool
    public init(at: Interval, action: SimAction, label: String, measured: Bool = true) {
        self.at = at; self.action = action; self.label = label; self.measured = measured
    }
}

/// Link encryption mode.
public enum CryptoMode: String, Sendable, Codable {
    /// Real libsodium sessions between bulbs.
    case real
    /// No encryption, identical frame sizes (large runs only).
    case null
}

/// Everything a run needs.
public struct SimConfig {
    public var topology: Topology
    public var gateways: [Int]
    public var duration: Interval
    public var seed: UInt64
    public var crypto: CryptoMode = .real
    public var timeline: [TimelineEntry] = []
    /// Nodes that are off at t = 0 (late joiners are powered on by the timeline).
    public var initiallyOff: [Int] = []
    /// How often the oracle samples forwarding state.
    public var sampleInterval: Interval = .milliseconds(250)
    /// At most this many destinations are walked per sample (all nodes when the mesh is smaller).
    public var maxSampledDestinations = 64
    /// Builds each bulb's engine.
    public var engineName: String
    public var engineFactory: EngineFactory
    /// Name of the scenario (for reports).
    public var name: String = "run"
    /// Data flows that walk the forwarding tables (`TrafficConfig.off` for none).
    public var traffic = TrafficConfig()

    public init(topology: Topology, gateways: [Int], duration: Interval, seed: UInt64,
                engineName: String, engineFactory: @escaping EngineFactory) {
        self.topology = topology; self.gateways = gateways; self.duration = duration; self.seed = seed
        self.engineName = engineName; self.engineFactory = engineFactory
    }
}
