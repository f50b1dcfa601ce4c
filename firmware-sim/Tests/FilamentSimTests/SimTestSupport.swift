import FilamentCore
@testable import FilamentSim

/// Builds and runs a small configuration.
func runSim(_ topo: Topology, gateways: [Int], seconds: Int64, seed: UInt64 = 1, engine: String = "filament",
            timeline: [TimelineEntry] = [], initiallyOff: [Int] = []) throws -> SimResult {
    var c = SimConfig(topology: topo, gateways: gateways, duration: .seconds(seconds), seed: seed,
                      engineName: engine, engineFactory: EngineRegistry.factory(named: engine)!)
    c.timeline = timeline
    c.initiallyOff = initiallyOff
    return try Simulation(config: c).run()
}
