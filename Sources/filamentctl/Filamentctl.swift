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
                      Ping.self, Traceroute.self, Monitor.self, Gateway.self, Reload.self])
}

let filamentVersion = "0.1.0"

/// Options every command shares.
struct Common: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Control socket of the daemon.", valueName: "path"))
    var socket: String = ProcessInfo.processInfo.environment["FILAMENT_CONTROL_SOCKET"] ?? "/run/filament/control.sock"

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

struct Ping: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Ping a node over the mesh (by mesh address, key prefix or name).")
    @OptionGroup var common: Common
    @Argument(help: "Mesh address, key prefix or name.") var node: String
    @Option(name: .shortAndLong, help: "Number of probes.") var count: Int = 4
    func validate() throws {
        guard (1...100).contains(count) else { throw ValidationError("--count must be 1-100") }
    }
    func run() throws {
        try withDaemon(common, timeout: 5 + count * 2) { c throws(ControlClientError) in
            let data = try c.send("ping", args: ["target": node, "count": String(count)])
            print(String(decoding: data, as: UTF8.self))
        }
    }
}

struct Traceroute: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show the path to a node over the mesh, hop by hop.")
    @OptionGroup var common: Common
    @Argument(help: "Mesh address, key prefix or name.") var node: String
    func run() throws {
        try withDaemon(common, timeout: 30) { c throws(ControlClientError) in
            let data = try c.send("traceroute", args: ["target": node])
            print(String(decoding: data, as: UTF8.self))
        }
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
                    text = "\(e.event) \(e.kind) \(e.key)\(e.detail.map { " \($0)" } ?? "")"
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

struct Reload: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Reload gateway and interface settings without dropping sessions.")
    @OptionGroup var common: Common
    func run() throws { try withDaemon(common) { c throws(ControlClientError) in _ = try c.send("reload"); print("reloaded") } }
}
