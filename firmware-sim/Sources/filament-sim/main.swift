import ArgumentParser
import CFilamentShim
import FilamentCore
import FilamentSim
import Foundation

/// `filament-sim`: thousands of virtual bulbs running the routing engine in virtual time.
struct FilamentSimCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "filament-sim",
        abstract: "Simulates a mesh of bulbs running the Filament engine in virtual time.",
        subcommands: [Run.self, City.self])
}

/// Options every run shares.
struct OutputOptions: ParsableArguments {
    @Option(help: "Seed of the run (overrides the scenario's).")
    var seed: UInt64?
    @Option(help: "Write the JSON report to this file.")
    var report: String?
    @Option(help: "Write a self-contained HTML picture of the mesh to this file.")
    var html: String?
    @Flag(help: "Leave wall_seconds and peak_rss_bytes out of the JSON report (for byte-for-byte comparisons).")
    var deterministic = false
    @Flag(help: "Print no progress.")
    var quiet = false
    @Flag(name: .customLong("memory-breakdown"), help: "Print the engines' estimated table bytes per (bulb, destination) at the end.")
    var memoryBreakdown = false
    @Flag(name: .customLong("engine-counters"), help: "Print the engine counters summed over the powered bulbs at the end (updates, unfeasible, seqno requests, neighbours lost, ...).")
    var engineCounters = false
}

extension FilamentSimCommand {
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Runs a scenario file.")
        @Argument(help: "Path of a scenario JSON file (see docs/simulator.md).")
        var scenario: String
        @OptionGroup var output: OutputOptions
        @Flag(name: .customLong("null-crypto"), help: "Bypass link encryption (frame sizes stay identical).")
        var nullCrypto = false

        func run() throws {
            let (sc, dir) = try Scenario.load(path: scenario)
            var config = try sc.config(seed: output.seed, baseDirectory: dir)
            if nullCrypto { config.crypto = .null }
            let ok = try Runner.execute(config: config, asserts: sc.asserts ?? [], output: output)
            if !ok { throw ExitCode(1) }
        }
    }

    struct City: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Builds a city of bulbs with gateways and runs it.")
        @Option(help: "Number of bulbs.") var bulbs: Int = 2000
        @Option(help: "Number of gateways (spread out).") var gateways: Int = 4
        @Option(help: "Virtual seconds to simulate.") var duration: Double = 60
        @Option(name: .customLong("kill-gateway-at"), help: "Kill the first gateway at this virtual second.")
        var killGatewayAt: Double?
        @Option(help: "Target mean degree (about 5.7 at least: the street-light spacing sets a minimum range).") var degree: Double = 6
        @Option(help: "Routing engine (\(EngineRegistry.names.joined(separator: ", "))).") var engine: String = EngineRegistry.defaultEngine
        @Option(name: .customLong("sample-interval-ms"), help: "Oracle sampling interval.") var sampleIntervalMs: Double = 500
        @Option(name: .customLong("gateway-flows"), help: "Bulbs sending data to their gateway (a sample when fewer than the bulbs).")
        var gatewayFlows: Int = 256
        @Option(name: .customLong("pair-flows"), help: "Data flows between random bulbs and sampled destinations.")
        var pairFlows: Int = 64
        @Option(name: .customLong("traffic-interval-ms"), help: "Gap between two packets of a flow.")
        var trafficIntervalMs: Double = 100
        @Flag(name: .customLong("null-crypto"), help: "Bypass link encryption (frame sizes stay identical).")
        var nullCrypto = false
        @Flag(help: "Print the layout's statistics (links, mean degree, joins, diameter in hops) and exit.")
        var stats = false
        @OptionGroup var output: OutputOptions

        func run() throws {
            var sc = Scenario(name: "city \(bulbs) bulbs, \(gateways) gateways", durationSeconds: duration,
                              topology: .init(type: "city"))
            sc.topology.bulbs = bulbs
            sc.topology.degree = degree
            sc.gateways = .init(placement: "spread", count: gateways)
            sc.engine = engine
            sc.sampleIntervalMs = sampleIntervalMs
            sc.maxSampledDestinations = 32
            var traffic = Scenario.TrafficSpec()
            traffic.gatewayFlows = gatewayFlows; traffic.pairFlows = pairFlows; traffic.intervalMs = trafficIntervalMs
            sc.traffic = traffic
            if let k = killGatewayAt { sc.timeline = [.init(at: k, action: "kill_gateway")] }
            var config = try sc.config(seed: output.seed ?? 1)
            if stats { print(CityStatistics(config: config).text); return }
            if nullCrypto { config.crypto = .null }
            let ok = try Runner.execute(config: config, asserts: [], output: output)
            if !ok { throw ExitCode(1) }
        }
    }
}

/// What `city --stats` prints: the layout's size, degree, joins, diameter and gateway distances.
struct CityStatistics {
    let text: String
    init(config: SimConfig) {
        let t = config.topology
        var degrees = t.adjacency.map(\.count)
        degrees.sort()
        // Hops from every bulb to its nearest gateway (one multi-source breadth-first search).
        var dist = [Int](repeating: -1, count: t.count)
        var queue = config.gateways
        for g in queue { dist[g] = 0 }
        var head = 0
        while head < queue.count {
            let u = queue[head]; head += 1
            for e in t.adjacency[u] where dist[e.neighbour] < 0 { dist[e.neighbour] = dist[u] + 1; queue.append(e.neighbour) }
        }
        let reached = dist.filter { $0 >= 0 }
        let meanGateway = reached.isEmpty ? 0 : Double(reached.reduce(0, +)) / Double(reached.count)
        let diameter = t.hopDiameter().map { "\($0.hops) hops (bulb \($0.from) to bulb \($0.to))" } ?? "infinite (disconnected)"
        text = """
            topology: \(t.kind), seed \(config.seed)
            bulbs: \(t.count) (\(t.streetLights) street lights)
            radio range: \(Summary.fmt(t.radioRange)) m
            links: \(t.links.count), of which artificial joins: \(t.artificialLinks)
            mean degree: \(Summary.fmt(t.meanDegree)) (min \(degrees.first ?? 0), median \(degrees.isEmpty ? 0 : degrees[degrees.count / 2]), max \(degrees.last ?? 0))
            diameter: \(diameter)
            gateways: \(config.gateways.count), hops to the nearest: mean \(Summary.fmt(meanGateway)), max \(reached.max() ?? 0)
            """
    }
}

/// Runs a configuration, prints the summary, writes the files, checks assertions.
enum Runner {
    static func execute(config: SimConfig, asserts: [Scenario.Assertion], output: OutputOptions) throws -> Bool {
        let tty = isatty(STDERR_FILENO) != 0
        let stderr = FileHandle.standardError
        func err(_ s: String) { stderr.write(Data(s.utf8)) }
        err("filament-sim: \(config.name): \(config.topology.count) bulbs, \(config.topology.links.count) links, "
            + "\(config.gateways.count) gateway(s), \(config.duration.seconds) s virtual, engine \(config.engineName), crypto \(config.crypto.rawValue)\n")
        let start = RunMeasurement.monotonicSeconds()
        let sim = try Simulation(config: config)
        sim.wallClock = RunMeasurement.monotonicSeconds
        var lastPlain = -1
        let result = sim.run(progress: output.quiet ? nil : { f in
            let pct = Int(f * 100)
            if tty {
                let width = 30, filled = Int(f * Double(width))
                err("\r[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] \(pct)%")
                if f >= 1 { err("\n") }
            } else if pct / 10 != lastPlain / 10 || pct == 100 && lastPlain != 100 {
                lastPlain = pct
                err("progress: \(pct)% of virtual time\n")
            }
        })
        let wall = RunMeasurement.monotonicSeconds() - start
        if output.memoryBreakdown {
            let pairs = Double(max(1, config.topology.count * config.topology.count))
            var total = 0
            for t in sim.engineFootprint() {
                total += t.bytes
                err("memory: \(t.name): \(t.bytes) B, \(Summary.fmt(Double(t.bytes) / pairs)) B per (bulb, destination)\n")
            }
            err("memory: engine tables total: \(total) B, \(Summary.fmt(Double(total) / pairs)) B per (bulb, destination)\n")
        }
        if output.engineCounters {
            for c in sim.engineCounterTotals() where c.value > 0 { err("engine: \(c.name) \(c.value)\n") }
        }
        let rss = RunMeasurement.peakRSSBytes()
        let base = result.report(wallSeconds: wall, peakRSSBytes: rss)
        let outcomes = asserts.map { $0.check(base) }
        let toConvergence = result.convergedWall.map { $0 - start }
        let report = result.report(wallSeconds: output.deterministic ? nil : wall, peakRSSBytes: output.deterministic ? nil : rss,
                                   wallToConvergence: toConvergence, assertions: outcomes.map(\.json))
        print(Summary.text(result: result, wallSeconds: wall, peakRSS: rss))
        if let c = toConvergence { print("wall to convergence \(Summary.fmt(c)) s (includes building keys and engines)") }
        for o in outcomes { print("assert: " + o.message) }
        if let path = output.report {
            try (report.serialized() + "\n").write(toFile: path, atomically: true, encoding: .utf8)
            print("report: \(path)")
        }
        if let path = output.html {
            try HTMLReport.render(result).write(toFile: path, atomically: true, encoding: .utf8)
            print("html: \(path)")
        }
        // The process ends right after: leave the bulbs' tables to the exit instead of freeing every
        // engine's dictionaries one by one (about 1 % of a 3,000-bulb run's CPU in profiles).
        _ = Unmanaged.passRetained(sim)
        let failed = outcomes.filter { !$0.passed }
        if !failed.isEmpty {
            err("filament-sim: \(failed.count) assertion(s) failed:\n")
            for f in failed { err("  \(f.message)\n") }
            return false
        }
        return true
    }
}

// Every bulb's tables are a few large arrays that grow by a sixteenth or an eighth at a time. glibc's
// dynamic mmap threshold rises to 32 MB after the first large free, so those arrays come from the heap,
// where each outgrown buffer leaves a hole that the next, larger one does not fit. A fixed 64 KB
// threshold gives every large array its own mapping, returned to the kernel when it is outgrown: a
// 2,000-bulb run's peak RSS fell from 714 to 662 MB with the same tables (decision 0632).
_ = filament_malloc_fixed_mmap_threshold(64 * 1024)
FilamentSimCommand.main()
