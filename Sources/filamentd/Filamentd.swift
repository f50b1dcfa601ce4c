import ArgumentParser
import FilamentCore
import FilamentCrypto
import FilamentDaemon
import FilamentState
import Glibc

@main
struct Filamentd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "filamentd",
        abstract: "The Filament mesh node daemon.",
        subcommands: [Run.self, CheckConfig.self, Init.self],
        defaultSubcommand: Run.self)
}

func fail(_ message: String) -> ExitCode {
    let bytes = Array("filamentd: \(message)\n".utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    return ExitCode(1)
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run the daemon (the default).")

    @Option(help: ArgumentHelp("Configuration file.", valueName: "file"))
    var config: String?
    @Option(name: .customLong("interface"), help: ArgumentHelp("Mesh interface, name or glob (repeatable; replaces the file's list).", valueName: "name"))
    var interfaces: [String] = []
    @Option(name: .customLong("ethernet-interface"), help: ArgumentHelp("Mesh interface over raw Ethernet (EtherType 0x88B5), name or glob (repeatable; with --interface replaces the file's list).", valueName: "name"))
    var ethernetInterfaces: [String] = []
    @Option(help: ArgumentHelp("State directory (identity and counters).", valueName: "dir"))
    var stateDir: String?
    @Option(help: ArgumentHelp("Control socket path.", valueName: "path"))
    var controlSocket: String?
    @Option(help: ArgumentHelp("Network key file (32 bytes or 64 hex digits).", valueName: "file"))
    var networkKeyFile: String?
    @Option(help: ArgumentHelp("Uplink interface: act as an internet gateway (NAT, IPv4 leases; docs/gateways.md).", valueName: "if"))
    var gatewayUplink: String?
    @Option(help: ArgumentHelp("Uplink bandwidth DOWN/UP, like 100M/20M.", valueName: "down/up"))
    var gatewayBandwidth: String?
    @Option(help: ArgumentHelp("Name of the TUN device.", valueName: "name"))
    var tun: String?
    @Option(help: ArgumentHelp("MTU of the TUN device, 1280-65535 or auto. Above the mesh links' MTU minus 81 the encapsulated frames are fragmented by the kernel (docs/daemon.md).", valueName: "mtu"))
    var tunMtu: String?
    @Option(help: ArgumentHelp("UDP port of the mesh protocol.", valueName: "port"))
    var port: UInt16?
    @Option(help: ArgumentHelp("error, warning, info or debug.", valueName: "level"))
    var logLevel: String?

    func run() throws {
        var c = DaemonConfiguration()
        let path = config ?? "/etc/filament/filamentd.yaml"
        if config != nil || access(path, F_OK) == 0 {
            do {
                c = try ConfigurationLoader.load(yaml: try ConfigurationFile.read(path))
            } catch let e as ConfigurationErrors {
                throw fail(e.errors.map { "\(path): \($0)" }.joined(separator: "\n"))
            } catch {
                throw fail("\(error)")
            }
        }
        if let s = stateDir { c.stateDirectory = s }
        if let s = controlSocket { c.controlSocket = s }
        if let s = networkKeyFile { c.networkKeyFile = s }
        if let s = tun { c.tun.name = s }
        if let p = port { c.port = p }
        if let m = tunMtu {
            if m == "auto" { c.tun.mtu = nil } else {
                guard let n = Int(m), (1280...65535).contains(n) else { throw fail("--tun-mtu must be auto or 1280-65535") }
                c.tun.mtu = n
            }
        }
        if let l = logLevel {
            guard let level = DaemonConfiguration.LogLevel(rawValue: l) else { throw fail("--log-level must be error, warning, info or debug") }
            c.logLevel = level
        }
        if let uplink = gatewayUplink {
            guard let bw = gatewayBandwidth.flatMap(ConfigurationLoader.parseBandwidth) else {
                throw fail("--gateway-uplink needs --gateway-bandwidth DOWN/UP, like 100M/20M")
            }
            c.gateway = DaemonConfiguration.GatewaySetting(uplink: uplink, bandwidthDownKbps: bw.down, bandwidthUpKbps: bw.up)
        }
        let runtime: DaemonRuntime
        do {
            runtime = try DaemonRuntime(configuration: c, configPath: config != nil || access(path, F_OK) == 0 ? path : nil,
                                        interfaceOverride: interfaces.isEmpty && ethernetInterfaces.isEmpty ? nil
                                            : interfaces.map { .init(pattern: $0) } + ethernetInterfaces.map { .init(pattern: $0, transport: .ethernet) })
        } catch {
            throw fail(error.description)
        }
        let status = runtime.run()
        if status != 0 { throw ExitCode(status) }
    }
}

struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check-config", abstract: "Check a configuration file and report every problem.")

    @Argument(help: ArgumentHelp("The configuration file.", valueName: "file"))
    var file: String

    func run() throws {
        let text: String
        do { text = try ConfigurationFile.read(file) } catch { throw fail(error.description) }
        do {
            _ = try ConfigurationLoader.load(yaml: text)
            print("\(file): ok")
        } catch {
            for e in error.errors { print("\(file): \(e)") }
            throw ExitCode(1)
        }
    }
}

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "init", abstract: "Create the identity and a starter configuration.")

    @Option(help: ArgumentHelp("State directory.", valueName: "dir"))
    var stateDir: String = DaemonConfiguration().stateDirectory
    @Option(help: ArgumentHelp("Where to write a commented starter configuration (never overwritten).", valueName: "file"))
    var config: String?

    func run() throws {
        let nodeID: NodeID
        let created: Bool
        do {
            let dir = try StateDirectory(path: stateDir)
            try dir.lock()
            let loaded = try IdentityFile.loadOrCreate(in: dir)
            created = loaded.origin == .created
            nodeID = loaded.takeKeyPair().nodeID
        } catch {
            throw fail("\(error)")
        }
        if let config {
            guard access(config, F_OK) != 0 else { throw fail("\(config) exists; not overwriting it") }
            let text = StarterConfiguration.text(stateDirectory: stateDir)
            guard let f = fopen(config, "wx") else { throw fail("cannot write \(config): \(String(cString: strerror(errno)))") }
            _ = text.withCString { fputs($0, f) }
            fclose(f)
            print("wrote \(config)")
        }
        print("\(created ? "created" : "existing") identity in \(stateDir)")
        print("node id: \(nodeID.hex)")
        print("mesh address: \(nodeID.meshAddress)")
    }
}
