import Foundation
import Testing
@testable import filamentctl

@Suite struct FilamentctlCommandTests {
    /// The top-level help is exactly as documented (a change to it is a change to the user interface).
    @Test func helpIsByteExact() {
        let help = Filamentctl.helpMessage(columns: 100)
        #expect(help == """
        OVERVIEW: Inspect and operate a Filament mesh node and the whole mesh.

        USAGE: filamentctl <subcommand>

        OPTIONS:
          --version               Show the version.
          -h, --help              Show help information.

        SUBCOMMANDS:
          status                  Show this node: identity, address, neighbours, routes, gateway, health.
          neighbours, neighbors   List the neighbours and the cost of each link.
          routes                  List routes; the selected one for each destination is marked '*'.
          gateways                List internet gateways; the selected one is marked '*'.
          topology                Show the whole mesh: every node and link, as seen from this node.
          ping                    Ping a node over the mesh (by mesh address, key prefix or name).
          traceroute              Show the path to a node over the mesh, hop by hop.
          monitor                 Print neighbour, route and gateway changes as they happen.
          doctor                  Check this node's health and print the fix for each problem.
          gateway                 Operate this node's gateway.
          reload                  Reload gateway and interface settings without dropping sessions.

          See 'filamentctl help <subcommand>' for detailed help.
        """)
    }

    /// A subcommand's help is exact too (options, defaults, value names).
    @Test func pingHelpIsByteExact() {
        #expect(Filamentctl.helpMessage(for: Ping.self, columns: 100) == """
        OVERVIEW: Ping a node over the mesh (by mesh address, key prefix or name).

        USAGE: filamentctl ping [--socket <path>] [--json] <node> [--count <count>] [--interval <interval>]

        ARGUMENTS:
          <node>                  Mesh address, key prefix or name.

        OPTIONS:
          --socket <path>         Control socket of the daemon (default: $FILAMENT_CONTROL_SOCKET, else
                                  /run/filament/control.sock).
          --json                  Print JSON (stable schema, see docs/control-protocol.md).
          -c, --count <count>     Number of probes. (default: 4)
          -i, --interval <interval>
                                  Seconds between probes. (default: 1.0)
          --version               Show the version.
          -h, --help              Show help information.

        """)
    }

    /// Arguments parse into the right commands, the alias works, and bad values are refused.
    @Test func parsing() throws {
        let n = try Filamentctl.parseAsRoot(["neighbors", "--json", "--socket", "/tmp/x.sock"])
        let nb = try #require(n as? Neighbours)
        #expect(nb.common.json && nb.common.socket == "/tmp/x.sock")
        let t = try #require(try Filamentctl.parseAsRoot(["topology", "--format", "dot"]) as? Topology)
        #expect(t.format == .dot)
        #expect(throws: (any Error).self) { try Filamentctl.parseAsRoot(["topology", "--format", "png"]) }
        #expect(throws: (any Error).self) { try Filamentctl.parseAsRoot(["ping", "abc", "--count", "0"]) }
        #expect(throws: (any Error).self) { try Filamentctl.parseAsRoot(["frobnicate"]) }
        _ = try #require(try Filamentctl.parseAsRoot(["gateway", "drain"]) as? Gateway.Drain)
        let p = try #require(try Filamentctl.parseAsRoot(["ping", "bulb5", "-c", "3", "-i", "0.2"]) as? Ping)
        #expect(p.node == "bulb5" && p.count == 3 && p.interval == 0.2)
        #expect(throws: (any Error).self) { try Filamentctl.parseAsRoot(["ping", "bulb5", "-i", "0"]) }
        #expect(throws: (any Error).self) { try Filamentctl.parseAsRoot(["ping"]) }
        #expect(throws: (any Error).self) { try Filamentctl.parseAsRoot(["traceroute", "x", "--max-hops", "65"]) }
        _ = try #require(try Filamentctl.parseAsRoot(["doctor", "--json"]) as? Doctor)
    }

    /// With no daemon, a command prints one line naming the socket and exits with code 2.
    @Test func daemonNotRunningExitsTwo() throws {
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("filamentctl")
        let p = Process()
        p.executableURL = exe
        p.arguments = ["status", "--socket", "/tmp/filament-test-absent-\(getpid()).sock"]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = Pipe()
        try p.run()
        p.waitUntilExit()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(p.terminationStatus == 2)
        #expect(text.split(separator: "\n").count == 1)
        #expect(text.contains("/tmp/filament-test-absent-"))
        #expect(text.contains("is it running?"))
    }
}
