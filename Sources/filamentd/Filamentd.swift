import FilamentCore
import FilamentCrypto
import FilamentDaemon
import FilamentState
import Glibc

/// The command line is parsed by `DaemonCommandLine` (no swift-argument-parser: it brings
/// FoundationEssentials, decision 0515).
@main
enum Filamentd {
    static func main() {
        let status: Int32
        do {
            switch try DaemonCommandLine.parse(Array(CommandLine.arguments.dropFirst())) {
            case .run(let o): try Run(o).run(); status = 0
            case .checkConfig(let file): try CheckConfig(file: file).run(); status = 0
            case .initialise(let stateDir, let config): try Init(stateDir: stateDir, config: config).run(); status = 0
            case .help(let text): print(text, terminator: ""); status = 0
            }
        } catch let e as DaemonCommandLine.UsageError {
            writeError("\(e)\n")
            status = 64
        } catch let e as ExitCode {
            status = e.rawValue
        } catch {
            writeError("filamentd: \(error)\n")
            status = 1
        }
        exit(status)
    }
}

/// A process exit status other than 0, thrown after the message is printed.
struct ExitCode: Error {
    var rawValue: Int32
    init(_ rawValue: Int32) { self.rawValue = rawValue }
}

func writeError(_ text: String) {
    let bytes = Array(text.utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

func fail(_ message: String) -> ExitCode {
    writeError("filamentd: \(message)\n")
    return ExitCode(1)
}

struct Run {
    let options: DaemonCommandLine.RunOptions
    init(_ options: DaemonCommandLine.RunOptions) { self.options = options }
    var config: String? { options.config }
    var interfaces: [String] { options.interfaces }
    var ethernetInterfaces: [String] { options.ethernetInterfaces }
    var stateDir: String? { options.stateDir }
    var controlSocket: String? { options.controlSocket }
    var networkKeyFile: String? { options.networkKeyFile }
    var gatewayUplink: String? { options.gatewayUplink }
    var gatewayBandwidth: String? { options.gatewayBandwidth }
    var tun: String? { options.tun }
    var tunMtu: String? { options.tunMtu }
    var port: UInt16? { options.port }
    var logLevel: String? { options.logLevel }

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
        runtime.gatewayFromFlags = gatewayUplink != nil
        let status = runtime.run()
        if status != 0 { throw ExitCode(status) }
    }
}

struct CheckConfig {
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

struct Init {
    var stateDir: String
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
