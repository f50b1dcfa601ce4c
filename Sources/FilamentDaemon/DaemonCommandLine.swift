/// `filamentd`'s command line, parsed by hand: swift-argument-parser imports FoundationEssentials,
/// which is 7.5 MB of a static binary whose goal is 8 MB (decisions 0511, 0515). Subcommands `run`
/// (the default), `check-config FILE` and `init`; options as `--name value` or `--name=value`.
public enum DaemonCommandLine {
    public struct RunOptions: Equatable, Sendable {
        public var config: String?
        public var interfaces: [String] = []
        public var ethernetInterfaces: [String] = []
        public var stateDir: String?
        public var controlSocket: String?
        public var networkKeyFile: String?
        public var gatewayUplink: String?
        public var gatewayBandwidth: String?
        public var tun: String?
        public var tunMtu: String?
        public var port: UInt16?
        public var logLevel: String?
        public init() {}
    }

    public enum Command: Equatable, Sendable {
        case run(RunOptions)
        case checkConfig(file: String)
        case initialise(stateDir: String, config: String?)
        /// `--help` or `help [subcommand]`: the text to print, exit 0.
        case help(String)
    }

    /// A mistake on the command line: the message and the usage line to print, exit 64 (EX_USAGE).
    public struct UsageError: Error, Equatable, CustomStringConvertible, Sendable {
        public var message: String
        public var usage: String
        public var description: String { "Error: \(message)\nUsage: \(usage)\n  See 'filamentd --help' for more information." }
    }

    public static func parse(_ arguments: [String]) throws(UsageError) -> Command {
        var args = arguments[...]
        switch args.first {
        case "help"?:
            args = args.dropFirst()
            switch args.first {
            case "run"?: return .help(runHelp)
            case "check-config"?: return .help(checkConfigHelp)
            case "init"?: return .help(initHelp)
            default: return .help(mainHelp)
            }
        case "-h"?, "--help"?: return .help(mainHelp)
        case "check-config"?: return try checkConfig(args.dropFirst())
        case "init"?: return try initialise(args.dropFirst())
        case "run"?: return try run(args.dropFirst(), help: runHelp)
        default: return try run(args, help: mainHelp)
        }
    }

    /// Splits `--name=value` and takes the value of `--name value`.
    private struct Options {
        var rest: ArraySlice<String>
        let usage: String

        /// The next option name and its inline value, or nil at the end; a positional argument is returned as ("", arg).
        mutating func next() -> (name: String, inline: String?)? {
            guard let a = rest.popFirst() else { return nil }
            guard a.hasPrefix("-") else { return ("", a) }
            if let eq = a.firstIndex(of: "=") { return (String(a[..<eq]), String(a[a.index(after: eq)...])) }
            return (a, nil)
        }

        mutating func value(_ name: String, _ inline: String?) throws(UsageError) -> String {
            if let inline { return inline }
            guard let v = rest.popFirst(), !v.hasPrefix("--") else {
                throw UsageError(message: "Missing value for '\(name) <\(valueName(name))>'", usage: usage)
            }
            return v
        }

        /// The `<value>` after `[name <` in the usage line (searched by hand: `firstRange(of:)` would
        /// link _StringProcessing and its regex parser, ~1 MB).
        func valueName(_ name: String) -> String {
            let u = Array(usage.utf8), key = Array("[\(name) <".utf8)
            guard u.count >= key.count, let at = (0...(u.count - key.count)).first(where: { u[$0..<$0 + key.count].elementsEqual(key) }) else {
                return "value"
            }
            return String(decoding: u[(at + key.count)...].prefix { $0 != UInt8(ascii: ">") }, as: UTF8.self)
        }
    }

    private static func run(_ args: ArraySlice<String>, help: String) throws(UsageError) -> Command {
        var o = RunOptions()
        var p = Options(rest: args, usage: runUsage)
        while let (name, inline) = p.next() {
            switch name {
            case "-h", "--help": return .help(help == mainHelp ? mainHelp : runHelp)
            case "--config": o.config = try p.value(name, inline)
            case "--interface": o.interfaces.append(try p.value(name, inline))
            case "--ethernet-interface": o.ethernetInterfaces.append(try p.value(name, inline))
            case "--state-dir": o.stateDir = try p.value(name, inline)
            case "--control-socket": o.controlSocket = try p.value(name, inline)
            case "--network-key-file": o.networkKeyFile = try p.value(name, inline)
            case "--gateway-uplink": o.gatewayUplink = try p.value(name, inline)
            case "--gateway-bandwidth": o.gatewayBandwidth = try p.value(name, inline)
            case "--tun": o.tun = try p.value(name, inline)
            case "--tun-mtu": o.tunMtu = try p.value(name, inline)
            case "--port":
                let v = try p.value(name, inline)
                guard let port = UInt16(v) else { throw UsageError(message: "The value '\(v)' is invalid for '--port <port>'", usage: runUsage) }
                o.port = port
            case "--log-level": o.logLevel = try p.value(name, inline)
            case "": throw UsageError(message: "Unexpected argument '\(inline ?? "")'", usage: runUsage)
            default: throw UsageError(message: "Unknown option '\(name)'", usage: runUsage)
            }
        }
        return .run(o)
    }

    private static func checkConfig(_ args: ArraySlice<String>) throws(UsageError) -> Command {
        var file: String?
        var p = Options(rest: args, usage: checkConfigUsage)
        while let (name, inline) = p.next() {
            switch name {
            case "-h", "--help": return .help(checkConfigHelp)
            case "":
                guard file == nil else { throw UsageError(message: "Unexpected argument '\(inline ?? "")'", usage: checkConfigUsage) }
                file = inline
            default: throw UsageError(message: "Unknown option '\(name)'", usage: checkConfigUsage)
            }
        }
        guard let file else { throw UsageError(message: "Missing expected argument '<file>'", usage: checkConfigUsage) }
        return .checkConfig(file: file)
    }

    private static func initialise(_ args: ArraySlice<String>) throws(UsageError) -> Command {
        var stateDir = DaemonConfiguration().stateDirectory
        var config: String?
        var p = Options(rest: args, usage: initUsage)
        while let (name, inline) = p.next() {
            switch name {
            case "-h", "--help": return .help(initHelp)
            case "--state-dir": stateDir = try p.value(name, inline)
            case "--config": config = try p.value(name, inline)
            case "": throw UsageError(message: "Unexpected argument '\(inline ?? "")'", usage: initUsage)
            default: throw UsageError(message: "Unknown option '\(name)'", usage: initUsage)
            }
        }
        return .initialise(stateDir: stateDir, config: config)
    }

    static let runUsage = """
        filamentd run [--config <file>] [--interface <name> ...] [--ethernet-interface <name> ...] \
        [--state-dir <dir>] [--control-socket <path>] [--network-key-file <file>] [--gateway-uplink <if>] \
        [--gateway-bandwidth <down/up>] [--tun <name>] [--tun-mtu <mtu>] [--port <port>] [--log-level <level>]
        """
    static let checkConfigUsage = "filamentd check-config <file>"
    static let initUsage = "filamentd init [--state-dir <dir>] [--config <file>]"

    static let mainHelp = """
        OVERVIEW: The Filament mesh node daemon.

        USAGE: filamentd <subcommand>

        OPTIONS:
          -h, --help              Show help information.

        SUBCOMMANDS:
          run (default)           Run the daemon (the default).
          check-config            Check a configuration file and report every problem.
          init                    Create the identity and a starter configuration.

          See 'filamentd help <subcommand>' for detailed help.

        """

    static let runHelp = """
        OVERVIEW: Run the daemon (the default).

        USAGE: \(runUsage)

        OPTIONS:
          --config <file>         Configuration file.
          --interface <name>      Mesh interface, name or glob (repeatable; replaces
                                  the file's list).
          --ethernet-interface <name>
                                  Mesh interface over raw Ethernet (EtherType 0x88B5),
                                  name or glob (repeatable; with --interface replaces
                                  the file's list).
          --state-dir <dir>       State directory (identity and counters).
          --control-socket <path> Control socket path.
          --network-key-file <file>
                                  Network key file (32 bytes or 64 hex digits).
          --gateway-uplink <if>   Uplink interface: act as an internet gateway (NAT,
                                  IPv4 leases; docs/gateways.md).
          --gateway-bandwidth <down/up>
                                  Uplink bandwidth DOWN/UP, like 100M/20M.
          --tun <name>            Name of the TUN device.
          --tun-mtu <mtu>         MTU of the TUN device, 1280-65535 or auto. Above the
                                  mesh links' MTU minus 81 the encapsulated frames are
                                  fragmented by the kernel (docs/daemon.md).
          --port <port>           UDP port of the mesh protocol.
          --log-level <level>     error, warning, info or debug.
          -h, --help              Show help information.

        """

    static let checkConfigHelp = """
        OVERVIEW: Check a configuration file and report every problem.

        USAGE: \(checkConfigUsage)

        ARGUMENTS:
          <file>                  The configuration file.

        OPTIONS:
          -h, --help              Show help information.

        """

    static let initHelp = """
        OVERVIEW: Create the identity and a starter configuration.

        USAGE: \(initUsage)

        OPTIONS:
          --state-dir <dir>       State directory. (default: /var/lib/filament)
          --config <file>         Where to write a commented starter configuration
                                  (never overwritten).
          -h, --help              Show help information.

        """
}
