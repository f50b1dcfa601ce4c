import ArgumentParser
import FilamentControl
import Foundation

@main
struct Filamentctl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "filamentctl",
        abstract: "Inspect and operate a Filament mesh node and the whole mesh.",
        version: filamentVersion,
        subcommands: [Status.self, Neighbours.self, Routes.self, Gateways.self, Topology.self,
                      Ping.self, Traceroute.self, Monitor.self, Doctor.self, Gateway.self, Reload.self])
}

let filamentVersion = "0.1.0"

/// Options every command shares.
struct Common: ParsableArguments {
    @Option(name: .customLong("socket"),
            help: ArgumentHelp("Control socket of the daemon (default: $FILAMENT_CONTROL_SOCKET, else /run/filament/control.sock).", valueName: "path"))
    var socketOption: String?

    /// The socket to use: --socket, then $FILAMENT_CONTROL_SOCKET, then the default.
    var socket: String { socketOption ?? ProcessInfo.processInfo.environment["FILAMENT_CONTROL_SOCKET"] ?? "/run/filament/control.sock" }

    @Flag(name: .long, help: "Print JSON (stable schema, see docs/control-protocol.md).")
    var json = false
}

/// Runs `body` against the daemon; maps failures to one line on stderr and the documented exit codes.
func withDaemon(_ common: Common, timeout: Int = 10, _ body: (ControlClient) throws(ControlClientError) -> Void) throws {
    let client = ControlClient(socketPath: common.socket)
    do {
        try client.connect(timeoutSeconds: timeout)
        try body(client)
    } catch {
        FileHandle.standardError.write(Data("filamentctl: \(error)\n".utf8))
        switch error {
        case .unreachable, .permissionDenied, .timedOut: throw ExitCode(2)
        default: throw ExitCode(1)
        }
    }
}

func emit<T: Codable & Sendable>(_ value: T, json: Bool, human: (T) -> String) {
    if json { print((try? ControlJSON.pretty(value)) ?? "null") } else { print(human(value), terminator: "") }
}

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show this node: identity, address, neighbours, routes, gateway, health.")
    @OptionGroup var common: Common
    func run() throws {
        try withDaemon(common) { c throws(ControlClientError) in
            emit(try c.request("status", as: StatusInfo.self), json: common.json, human: ControlFormat.status)
        }
    }
}

struct Neighbours: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the neighbours and the cost of each link.", aliases: ["neighbors"])
    @OptionGroup var common: Common
    func run() throws {
        try withDaemon(common) { c throws(ControlClientError) in
            emit(try c.request("neighbours", as: [NeighbourInfo].self), json: common.json, human: ControlFormat.neighbours)
        }
    }
}

struct Routes: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List routes; the selected one for each destination is marked '*'.")
    @OptionGroup var common: Common
    func run() throws {
        try withDaemon(common) { c throws(ControlClientError) in
            emit(try c.request("routes", as: [RouteInfo].self), json: common.json, human: ControlFormat.routes)
        }
    }
}

struct Gateways: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List internet gateways; the selected one is marked '*'.")
    @OptionGroup var common: Common
    func run() throws {
        try withDaemon(common) { c throws(ControlClientError) in
            emit(try c.request("gateways", as: [GatewayInfo].self), json: common.json, human: ControlFormat.gateways)
        }
    }
}

struct Topology: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show the whole mesh: every node and link, as seen from this node.")
    enum Format: String, ExpressibleByArgument, CaseIterable { case table, json, dot, html }
    @OptionGroup var common: Common
    @Option(help: "Output format.") var format: Format = .table
    func run() throws {
        try withDaemon(common, timeout: 30) { c throws(ControlClientError) in
            let t = try c.request("topology", as: TopologyInfo.self)
            switch common.json ? .json : format {
            case .json: print((try? ControlJSON.pretty(t)) ?? "null")
            case .table: print(ControlFormat.topologyTable(t), terminator: "")
            case .dot: print(ControlFormat.topologyDot(t), terminator: "")
            case .html: print(TopologyPicture.html(t))
            }
        }
    }
}

/// Resolves NODE through the daemon (its topology) unless it is a mesh address already.
func resolveNode(_ node: String, _ common: Common, needNames: Bool) throws -> NodeResolver.Resolved {
    if NodeResolver.isAddress(node), !needNames { return NodeResolver.Resolved(address: node, name: nil, nodeID: nil) }
    var resolved: NodeResolver.Resolved?
    try withDaemon(common, timeout: 30) { c throws(ControlClientError) in
        resolved = try NodeResolver.resolve(node, in: try c.request("topology", as: TopologyInfo.self))
    }
    return resolved!
}

/// Ping and traceroute results as JSON.
struct PingResult: Codable, Sendable {
    var target: String
    var address: String
    var name: String?
    var sent: Int
    var received: Int
    /// One entry per probe: round trip in ms, or null when it was lost.
    var rtt_ms: [Double?]
}

struct TraceHop: Codable, Sendable {
    var hop: Int
    var address: String?
    var name: String?
    var rtt_ms: Double?
    /// `time_exceeded` (a node on the way), `reply` (the target), `unreachable`, or `timeout`.
    var result: String
}

func fail(_ message: String) -> ExitCode {
    FileHandle.standardError.write(Data("filamentctl: \(message)\n".utf8))
    return ExitCode(1)
}

struct Ping: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Ping a node over the mesh (by mesh address, key prefix or name).")
    @OptionGroup var common: Common
    @Argument(help: "Mesh address, key prefix or name.") var node: String
    @Option(name: .shortAndLong, help: "Number of probes.") var count: Int = 4
    @Option(name: .shortAndLong, help: "Seconds between probes.") var interval: Double = 1
    func validate() throws {
        guard (1...100).contains(count) else { throw ValidationError("--count must be 1-100") }
        guard (0.05...10).contains(interval) else { throw ValidationError("--interval must be 0.05-10 seconds") }
    }
    func run() throws {
        let target = try resolveNode(node, common, needNames: false)
        let probe: MeshProbe
        do { probe = try MeshProbe(needRaw: false) } catch { throw fail("\(error)") }
        let label = target.name.map { "\($0) (\(target.address))" } ?? target.address
        if !common.json { print("PING \(label) over the mesh") }
        var rtts: [Double?] = []
        for i in 0..<count {
            let started = Date()
            let outcome: MeshProbe.Outcome
            do { outcome = try probe.probe(target.address, timeout: 1) } catch { throw fail("\(error)") }
            switch outcome {
            case let .reply(from, rtt):
                rtts.append(rtt)
                if !common.json { print("reply from \(from) seq=\(i + 1) time=\(String(format: "%.2f", rtt)) ms") }
            case let .unreachable(from, code):
                rtts.append(nil)
                if !common.json { print("from \(from) seq=\(i + 1): destination unreachable (code \(code))") }
            case .timeExceeded(let from, _):
                rtts.append(nil)
                if !common.json { print("from \(from) seq=\(i + 1): hop limit exceeded") }
            case .timeout:
                rtts.append(nil)
                if !common.json { print("no reply seq=\(i + 1)") }
            }
            if i + 1 < count { Thread.sleep(forTimeInterval: max(0, interval - Date().timeIntervalSince(started))) }
        }
        let got = rtts.compactMap { $0 }
        if common.json {
            print((try? ControlJSON.pretty(PingResult(target: node, address: target.address, name: target.name, sent: count,
                                                      received: got.count, rtt_ms: rtts))) ?? "null")
        } else {
            var line = "--- \(target.name ?? target.address): \(count) sent, \(got.count) received, \((count - got.count) * 100 / count)% loss"
            if let lo = got.min(), let hi = got.max() {
                line += String(format: ", rtt min/avg/max %.2f/%.2f/%.2f ms", lo, got.reduce(0, +) / Double(got.count), hi)
            }
            print(line)
        }
        if got.isEmpty { throw ExitCode(1) }
    }
}

struct Traceroute: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show the path to a node over the mesh, hop by hop.")
    @OptionGroup var common: Common
    @Argument(help: "Mesh address, key prefix or name.") var node: String
    @Option(name: .shortAndLong, help: "Most hops to try.") var maxHops: Int = 16
    func validate() throws {
        guard (1...64).contains(maxHops) else { throw ValidationError("--max-hops must be 1-64") }
    }
    func run() throws {
        var topology: TopologyInfo?
        try withDaemon(common, timeout: 30) { c throws(ControlClientError) in topology = try c.request("topology", as: TopologyInfo.self) }
        let topo = topology!
        let target: NodeResolver.Resolved
        do { target = try NodeResolver.resolve(node, in: topo) } catch { throw fail("\(error)") }
        let probe: MeshProbe
        do { probe = try MeshProbe(needRaw: true) } catch { throw fail("\(error)") }
        func name(_ address: String) -> String? { topo.nodes.first { $0.address == address }?.name }
        let nameWidth = topo.nodes.compactMap(\.name).map(\.count).max() ?? 0
        if !common.json { print("traceroute to \(target.name.map { "\($0) (\(target.address))" } ?? target.address) over the mesh, \(maxHops) hops max") }
        var hops: [TraceHop] = []
        var reached = false
        hopLoop: for h in 1...maxHops {
            var outcome = MeshProbe.Outcome.timeout
            for _ in 0..<2 where outcome == .timeout {
                do { outcome = try probe.probe(target.address, hopLimit: Int32(h), timeout: 1) } catch { throw fail("\(error)") }
            }
            let hop: TraceHop
            switch outcome {
            case let .reply(from, rtt): hop = TraceHop(hop: h, address: from, name: name(from), rtt_ms: rtt, result: "reply")
            case let .timeExceeded(from, rtt): hop = TraceHop(hop: h, address: from, name: name(from), rtt_ms: rtt, result: "time_exceeded")
            case let .unreachable(from, _): hop = TraceHop(hop: h, address: from, name: name(from), rtt_ms: nil, result: "unreachable")
            case .timeout: hop = TraceHop(hop: h, address: nil, name: nil, rtt_ms: nil, result: "timeout")
            }
            hops.append(hop)
            if !common.json {
                let label = (hop.name ?? "-") + String(repeating: " ", count: max(0, nameWidth - (hop.name ?? "-").count))
                let where_ = hop.address.map { "\(label)  \($0)" } ?? "*"
                let tail = hop.result == "unreachable" ? "  !N (no route)" : (hop.rtt_ms.map { String(format: "  %.2f ms", $0) } ?? "")
                print(String(format: "%2d  ", h) + where_ + tail)
            }
            switch hop.result {
            case "reply": reached = true; break hopLoop
            case "unreachable": break hopLoop
            default: continue
            }
        }
        if common.json { print((try? ControlJSON.pretty(hops)) ?? "null") }
        if !reached { throw ExitCode(1) }
    }
}

struct Monitor: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print neighbour, route and gateway changes as they happen.")
    @OptionGroup var common: Common
    func run() throws {
        try withDaemon(common, timeout: 0) { c throws(ControlClientError) in
            _ = try c.send("monitor")
            while true {
                let line = try c.readLine()
                var text = ""
                if common.json { text = String(decoding: line, as: UTF8.self) } else if let e = try? JSONCoding.decode(MonitorEvent.self, from: line) {
                    text = ControlFormat.monitorLine(e)
                }
                FileHandle.standardOutput.write(Data((text + "\n").utf8))
            }
        }
    }
}

struct Gateway: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Operate this node's gateway.", subcommands: [Drain.self, Undrain.self])

    struct Drain: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Take no new flows, then withdraw once existing flows are gone.")
        @OptionGroup var common: Common
        func run() throws { try withDaemon(common) { c throws(ControlClientError) in _ = try c.send("drain"); print("draining") } }
    }

    struct Undrain: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Accept new flows again.")
        @OptionGroup var common: Common
        func run() throws { try withDaemon(common) { c throws(ControlClientError) in _ = try c.send("undrain"); print("accepting new flows") } }
    }
}

struct Doctor: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check this node's health and print the fix for each problem.")
    @OptionGroup var common: Common
    func run() throws {
        let client = ControlClient(socketPath: common.socket)
        var checks: [DoctorCheck]
        do {
            try client.connect(timeoutSeconds: 10)
            checks = try client.request("doctor", as: [DoctorCheck].self)
            checks.insert(DoctorCheck(check: "daemon", ok: true, detail: "filamentd answers on \(common.socket)"), at: 0)
        } catch {
            let fix: String
            switch error {
            case .permissionDenied: fix = "run as root or as a member of the control group (control_group in the configuration)"
            case .unreachable: fix = "start it: systemctl start filamentd (see journalctl -u filamentd), or give --socket PATH"
            default: fix = "see journalctl -u filamentd"
            }
            checks = [DoctorCheck(check: "daemon", ok: false, detail: "\(error)", fix: fix)]
            if common.json { print((try? ControlJSON.pretty(checks)) ?? "null") } else { print(ControlFormat.doctor(checks), terminator: "") }
            throw ExitCode(2)
        }
        if common.json { print((try? ControlJSON.pretty(checks)) ?? "null") } else { print(ControlFormat.doctor(checks), terminator: "") }
        if checks.contains(where: { !$0.ok }) { throw ExitCode(1) }
    }
}

struct Reload: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Reload gateway and interface settings without dropping sessions.")
    @OptionGroup var common: Common
    func run() throws { try withDaemon(common) { c throws(ControlClientError) in _ = try c.send("reload"); print("reloaded") } }
}

// Absent values are null with the key present, like every other `--json` schema.
extension PingResult {
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(target, forKey: .target); try c.encode(address, forKey: .address); try c.encode(name, forKey: .name)
        try c.encode(sent, forKey: .sent); try c.encode(received, forKey: .received); try c.encode(rtt_ms, forKey: .rtt_ms)
    }
}

extension TraceHop {
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(hop, forKey: .hop); try c.encode(address, forKey: .address); try c.encode(name, forKey: .name)
        try c.encode(rtt_ms, forKey: .rtt_ms); try c.encode(result, forKey: .result)
    }
}
