import ArgumentParser
import FilamentLab
import Foundation

@main
struct FilamentLabCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "filament-lab",
        abstract: "Run real mesh daemons in network namespaces and measure them.",
        subcommands: [Run.self, Compare.self, Tables.self, Throughput.self, Failover.self, Scale.self, Cleanup.self])
}

struct DaemonChoice: ParsableArguments {
    @Option(help: "Daemon: babeld, yggdrasil, kernel, filamentd or filamentd-jumbo (tun.mtu 65000).") var daemon: String
    @Option(help: "babeld hello interval in seconds (default: babeld's wired default, 4 s).") var babeldHello: Double?

    func driver() throws -> any DaemonDriver { try Drivers.named(daemon, babeldHello: babeldHello) }
}

struct Output: ParsableArguments {
    @Option(help: "Append JSON lines to this file (they are printed to stdout too).")
    var out: String?

    func emit(_ m: LabResult) {
        let line = m.jsonLine()
        print(line)
        if let out {
            if !FileManager.default.fileExists(atPath: out) { _ = FileManager.default.createFile(atPath: out, contents: nil) }
            if let h = FileHandle(forWritingAtPath: out) { h.seekToEndOfFile(); h.write(Data((line + "\n").utf8)); try? h.close() }
        }
    }
}

func requireRoot() throws {
    guard getuid() == 0 else { throw ValidationError("filament-lab needs root (network namespaces, veth, nftables)") }
}

extension FilamentLabCommand {
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build a lab, start a daemon on every node and run experiments on it.")

        @OptionGroup var choice: DaemonChoice
        @Option(help: "grid:WxH, line:N or a meshnet-lab JSON file.") var topology = "grid:7x7"
        @Option(help: "Comma-separated: cold, steady, failure (run in that order).") var experiments = "cold,steady,failure"
        @Option(help: "Random pairs sampled for reachability (plus the farthest pair).") var pairs = 20
        @Option(help: "Seed for the pair sample.") var seed: UInt64 = 1
        @Option(help: "Cold-start time limit, seconds.") var timeout: Double = 120
        @Option(help: "Steady-state measuring period, seconds.") var steadySeconds: Double = 60
        @Option(help: "Seconds the stream runs after the relay is killed.") var failureWindow: Double = 30
        @Option(help: "Per-direction loss on every link, percent (nftables).") var loss = 0
        @Option(help: "Comma-separated gateway nodes wired to the internet namespace.") var gateways = ""
        @OptionGroup var output: Output

        func run() throws {
            try requireRoot()
            let driver = try choice.driver()
            let topo = try Topology.parse(topology)
            let wanted = Set(experiments.split(separator: ",").map(String.init))
            let gws = gateways.split(separator: ",").compactMap { Int($0) }
            let run = try LabRun(driver: driver, topology: topo, topologyName: topology,
                                 options: Lab.Options(lossPercent: loss, gateways: gws))
            defer { run.teardown() }
            FileHandle.standardError.write(Data("filament-lab: \(topo.count) nodes, \(topo.links.count) links, prefix \(run.lab.prefix), \(driver.timers)\n".utf8))
            var results: [LabResult] = []
            let cold = try Experiments.coldStart(run, pairs: pairs, seed: seed, timeout: timeout)
            if wanted.contains("cold") { results.append(cold); output.emit(cold) }
            let converged = cold.values["converged_s_from_first_start"] != nil
            if wanted.contains("steady") {
                let m = converged ? try Experiments.steady(run, seconds: steadySeconds)
                    : LabResult(experiment: "steady", daemon: choice.daemon, topology: topology, note: "skipped: not converged")
                results.append(m); output.emit(m)
            }
            if wanted.contains("failure") {
                let m = converged ? try Experiments.relayFailure(run, window: failureWindow)
                    : LabResult(experiment: "relay-failure", daemon: choice.daemon, topology: topology, note: "skipped: not converged")
                results.append(m); output.emit(m)
            }
            print(LabResult.markdown(results))
        }
    }

    struct Compare: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Every table of the benchmarks' lab section, one experiment at a time, same session.",
            discussion: """
            For each of --daemons on --grid: a fresh lab, cold start, 60 s steady overhead with RSS/CPU,
            relay failure. Then TCP over 3 hops for --throughput-daemons, then cold start on --big-grid
            for --big-daemons (skip with --big-grid none). Each result carries load_avg_1m.
            """)
        @Option(help: "Grid for cold start, steady and relay failure.") var grid = "grid:7x7"
        @Option(help: "Daemons on the grid, in order.") var daemons = "filamentd,babeld,yggdrasil"
        @Option(help: "Daemons for the 3-hop TCP test.") var throughputDaemons = "filamentd,filamentd-jumbo,yggdrasil,kernel"
        @Option(help: "Run the gateway-failover experiment (filamentd on --grid, corner gateways) or 'none'.")
        var failover = "filamentd"
        @Option(help: "Larger grid for a cold start only, or 'none'.") var bigGrid = "grid:10x10"
        @Option(help: "Daemons for the larger grid.") var bigDaemons = "filamentd,babeld"
        @Option(help: "Cold-start time limit, seconds.") var timeout: Double = 240
        @Option(help: "Steady-state period, seconds.") var steadySeconds: Double = 60
        @Option(help: "Seconds the stream runs after the relay is killed.") var failureWindow: Double = 30
        @Option(help: "Seed for the pair sample.") var seed: UInt64 = 1
        @OptionGroup var output: Output

        func run() throws {
            try requireRoot()
            var results: [LabResult] = []
            func emit(_ m: LabResult, load: Double) {
                var m = m
                m.values["load_avg_1m"] = load
                results.append(m); output.emit(m)
            }
            func list(_ s: String) -> [String] { s.split(separator: ",").map(String.init).filter { !$0.isEmpty } }
            let topo = try Topology.parse(grid)
            for name in list(daemons) {
                let driver = try Drivers.named(name)
                let run = try LabRun(driver: driver, topology: topo, topologyName: grid)
                defer { run.teardown() }
                FileHandle.standardError.write(Data("filament-lab compare: \(name) on \(grid), prefix \(run.lab.prefix)\n".utf8))
                var load = Experiments.loadAverage()
                let cold = try Experiments.coldStart(run, seed: seed, timeout: timeout)
                emit(cold, load: load)
                guard cold.values["converged_s_from_first_start"] != nil else { continue }
                load = Experiments.loadAverage()
                emit(try Experiments.steady(run, seconds: steadySeconds), load: load)
                load = Experiments.loadAverage()
                emit(try Experiments.relayFailure(run, window: failureWindow), load: load)
            }
            for name in list(failover) where name != "none" {
                let load = Experiments.loadAverage()
                emit(try runFailover(daemon: name, topology: topo, name: grid, timeout: timeout, window: failureWindow), load: load)
            }
            for name in list(throughputDaemons) {
                let load = Experiments.loadAverage()
                emit(try Experiments.throughput(driver: try Drivers.named(name)), load: load)
            }
            if bigGrid != "none" {
                let big = try Topology.parse(bigGrid)
                for name in list(bigDaemons) {
                    let run = try LabRun(driver: try Drivers.named(name), topology: big, topologyName: bigGrid)
                    defer { run.teardown() }
                    let load = Experiments.loadAverage()
                    emit(try Experiments.coldStart(run, seed: seed, timeout: timeout), load: load)
                }
            }
            print(LabReport.markdown(results))
        }
    }

    struct Failover: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Gateway failover: every node pings the internet host while the primary gateway dies silently.",
            discussion: "Gateways: --primary (default node 0) and --backup (default the last node), every node pinned to the primary.")
        @Option(help: "grid:WxH, line:N or a meshnet-lab JSON file.") var topology = "grid:7x7"
        @Option(help: "The daemon (only filamentd offers gateways).") var daemon = "filamentd"
        @Option(help: "Primary gateway node.") var primary = 0
        @Option(help: "Backup gateway node (default: the last node).") var backup: Int?
        @Option(help: "Seconds allowed until every node reaches the internet host.") var timeout: Double = 120
        @Option(help: "Seconds the streams run after the primary dies.") var window: Double = 20
        @OptionGroup var output: Output

        func run() throws {
            try requireRoot()
            let topo = try Topology.parse(topology)
            var m = try runFailover(daemon: daemon, topology: topo, name: topology, primary: primary,
                                    backup: backup ?? topo.count - 1, timeout: timeout, window: window)
            m.values["load_avg_1m"] = Experiments.loadAverage()
            output.emit(m)
            print(ComparisonTables.markdown([m]))
        }
    }

    struct Tables: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the goals, side-by-side and scale tables from JSON lines written by compare/scale/failover (--out).")
        @Argument(help: "JSON-lines files.") var files: [String]
        @Option(help: "Also write the tables into this Markdown file, between the filament-lab markers.") var update: String?

        func run() throws {
            var results: [LabResult] = []
            for file in files {
                let text = try String(contentsOfFile: file, encoding: .utf8)
                results += try text.split(whereSeparator: \.isNewline).map { try LabResult(jsonLine: String($0)) }
            }
            let report = LabReport.markdown(results)
            print(report)
            if let update {
                let doc = try String(contentsOfFile: update, encoding: .utf8)
                try LabReport.replacing(in: doc, with: report).write(toFile: update, atomically: true, encoding: .utf8)
            }
        }
    }

    struct Throughput: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Measure TCP throughput over 3 hops with iperf3.")
        @OptionGroup var choice: DaemonChoice
        @Option(help: "iperf3 duration, seconds.") var seconds = 5
        @OptionGroup var output: Output

        func run() throws {
            try requireRoot()
            let m = try Experiments.throughput(driver: try choice.driver(), seconds: seconds)
            output.emit(m)
            print(LabResult.markdown([m]))
        }
    }

    struct Scale: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cold-start growing grids until reachability drops below 99 %.")
        @OptionGroup var choice: DaemonChoice
        @Option(help: "Comma-separated grid sides (N means an NxN grid).") var sides = "5,10,15,20,25,30"
        @Option(help: "Time limit per size, seconds.") var timeout: Double = 300
        @OptionGroup var output: Output

        func run() throws {
            try requireRoot()
            var results: [LabResult] = []
            try Experiments.scale(driver: try choice.driver(), sides: sides.split(separator: ",").compactMap { Int($0) },
                                  timeout: timeout) { m in
                var m = m
                m.values["load_avg_1m"] = m.values["load_avg_1m"] ?? Experiments.loadAverage()
                results.append(m); output.emit(m)
            }
            print(LabReport.scale(results))
        }
    }

    struct Cleanup: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove leftover lab namespaces and the processes in them.")
        @Option(help: "Remove namespaces starting with this prefix (e.g. fl1234-); default: every fl<pid>- whose process is gone.")
        var prefix: String?

        func run() throws {
            try requireRoot()
            if let prefix, !prefix.hasPrefix("fl") || prefix.hasPrefix("filt") {
                throw ValidationError("only lab prefixes (fl<pid>-) can be cleaned up")
            }
            let removed = Lab.cleanup(prefix: prefix)
            print(removed.isEmpty ? "nothing to clean up" : "removed \(removed.count) namespaces: \(removed.joined(separator: " "))")
        }
    }
}

/// One gateway-failover lab: gateways `primary` and `backup` behind the internet namespace, every
/// filamentd pinned to the primary.
func runFailover(daemon: String, topology: Topology, name: String, primary: Int = 0, backup: Int? = nil,
                 timeout: Double, window: Double) throws -> LabResult {
    guard daemon.hasPrefix("filamentd") else {
        throw ValidationError("gateway failover needs gateways the daemon offers itself: only filamentd does")
    }
    let backup = backup ?? topology.count - 1
    let driver = FilamentdDriver(preferredGatewayNode: primary)
    let run = try LabRun(driver: driver, topology: topology, topologyName: name,
                         options: Lab.Options(gateways: [primary, backup]))
    defer { run.teardown() }
    FileHandle.standardError.write(Data("filament-lab failover: \(name), gateways \(primary) (primary) and \(backup), prefix \(run.lab.prefix)\n".utf8))
    return try Experiments.gatewayFailover(run, convergeTimeout: timeout, window: window)
}
