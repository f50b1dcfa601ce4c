import Testing
@testable import FilamentDaemon

@Suite struct DaemonCommandLineTests {
    /// `run` is the default; every option takes `--name value` or `--name=value`; repeatable ones collect.
    @Test func runOptions() throws {
        let args = ["--config", "/etc/f.yaml", "--interface", "wlan*", "--interface=eth0", "--ethernet-interface", "lan1",
                    "--state-dir", "/s", "--control-socket=/c.sock", "--network-key-file", "/k", "--gateway-uplink", "eth9",
                    "--gateway-bandwidth", "100M/20M", "--tun", "mesh0", "--tun-mtu", "auto", "--port", "6800", "--log-level", "debug"]
        var expected = DaemonCommandLine.RunOptions()
        expected.config = "/etc/f.yaml"
        expected.interfaces = ["wlan*", "eth0"]
        expected.ethernetInterfaces = ["lan1"]
        expected.stateDir = "/s"
        expected.controlSocket = "/c.sock"
        expected.networkKeyFile = "/k"
        expected.gatewayUplink = "eth9"
        expected.gatewayBandwidth = "100M/20M"
        expected.tun = "mesh0"
        expected.tunMtu = "auto"
        expected.port = 6800
        expected.logLevel = "debug"
        #expect(try DaemonCommandLine.parse(args) == .run(expected))
        #expect(try DaemonCommandLine.parse(["run"] + args) == .run(expected))
        #expect(try DaemonCommandLine.parse([]) == .run(.init()))
    }

    @Test func subcommands() throws {
        #expect(try DaemonCommandLine.parse(["check-config", "/a.yaml"]) == .checkConfig(file: "/a.yaml"))
        #expect(try DaemonCommandLine.parse(["init"]) == .initialise(stateDir: "/var/lib/filament", config: nil))
        #expect(try DaemonCommandLine.parse(["init", "--state-dir", "/s", "--config=/c.yaml"]) == .initialise(stateDir: "/s", config: "/c.yaml"))
    }

    @Test func help() throws {
        for args in [["--help"], ["-h"], ["help"]] {
            guard case .help(let text) = try DaemonCommandLine.parse(args) else { Issue.record("\(args)"); continue }
            #expect(text.hasPrefix("OVERVIEW: The Filament mesh node daemon.\n"))
            #expect(text.contains("check-config"))
        }
        guard case .help(let run) = try DaemonCommandLine.parse(["run", "--help"]) else { Issue.record("run --help"); return }
        for option in ["--config", "--interface", "--ethernet-interface", "--state-dir", "--control-socket", "--network-key-file",
                       "--gateway-uplink", "--gateway-bandwidth", "--tun", "--tun-mtu", "--port", "--log-level"] {
            #expect(run.contains("  \(option) <"), "\(option)")
        }
        #expect(try DaemonCommandLine.parse(["help", "init"]) == (try DaemonCommandLine.parse(["init", "-h"])))
        // Every help line fits 80 columns.
        for text in [DaemonCommandLine.mainHelp, DaemonCommandLine.runHelp, DaemonCommandLine.checkConfigHelp, DaemonCommandLine.initHelp] {
            for line in text.split(separator: "\n") where !line.hasPrefix("USAGE:") { #expect(line.count <= 80, "\(line)") }
        }
    }

    /// Mistakes name the problem and the usage line.
    @Test func usageErrors() {
        func message(_ args: [String]) -> String? {
            do { _ = try DaemonCommandLine.parse(args); return nil } catch { return error.message }
        }
        #expect(message(["--bogus"]) == "Unknown option '--bogus'")
        #expect(message(["--port", "70000"]) == "The value '70000' is invalid for '--port <port>'")
        #expect(message(["--config"]) == "Missing value for '--config <file>'")
        #expect(message(["--config", "--port", "1"]) == "Missing value for '--config <file>'")
        #expect(message(["stray"]) == "Unexpected argument 'stray'")
        #expect(message(["check-config"]) == "Missing expected argument '<file>'")
        #expect(message(["check-config", "a", "b"]) == "Unexpected argument 'b'")
        #expect(message(["init", "--tun", "x"]) == "Unknown option '--tun'")
        do { _ = try DaemonCommandLine.parse(["--bogus"]) } catch {
            #expect(error.description.hasPrefix("Error: Unknown option '--bogus'\nUsage: filamentd run [--config <file>]"))
        }
    }
}
