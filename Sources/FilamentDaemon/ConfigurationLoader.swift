import FilamentCore
import FilamentYAML

/// Reads `DaemonConfiguration` from YAML. Every problem is collected (not just the first) and
/// reported with its line number; unknown settings are errors with a suggestion, because a
/// misspelt setting that is silently ignored is how a bulb ends up on the wrong mesh.
public enum ConfigurationLoader {
    /// Parses `text`; throws `[ConfigurationError]` (all problems found) on any error.
    public static func load(yaml text: String) throws(ConfigurationErrors) -> DaemonConfiguration {
        let root: YAMLNode?
        do {
            root = try YAMLParser.parse(text, limits: limits)
        } catch {
            throw ConfigurationErrors([ConfigurationError(line: error.line, "not valid YAML: \(error.message)")])
        }
        var config = DaemonConfiguration()
        guard let root else { return config }  // an empty file means all defaults
        let r = Reader()
        guard case .mapping(let pairs) = root.content else {
            throw ConfigurationErrors([ConfigurationError(line: root.line, "the file must be a mapping of settings (key: value)")])
        }
        let top = pairs.map { ($0.key, $0.value) }
        for (k, v) in top {
            guard let key = k.string else { r.fail(k, "setting names must be text"); continue }
            switch key {
            case "name":
                if let s = r.string(v, key) {
                    if s.utf8.count > 32 { r.fail(v, "'name' is \(s.utf8.count) bytes; at most 32 are announced") } else { config.name = s }
                }
            case "state_dir": if let s = r.path(v, key) { config.stateDirectory = s }
            case "control_socket": if let s = r.path(v, key) { config.controlSocket = s }
            case "control_group": if let s = r.string(v, key) { config.controlGroup = s }
            case "network_key_file": if let s = r.path(v, key) { config.networkKeyFile = s }
            case "port":
                if let n = r.int(v, key) {
                    if (1...65535).contains(n) { config.port = UInt16(n) } else { r.fail(v, "'port' must be 1-65535 (got \(n))") }
                }
            case "interfaces": config.interfaces = r.interfaces(v)
            case "tun": r.tun(v, into: &config.tun)
            case "attached_prefixes": config.attachedPrefixes = r.list(v, key) { r.prefix($0, key) }
            case "client_interfaces": config.clientInterfaces = r.list(v, key) { r.string($0, key) }
            case "gateway": config.gateway = r.gateway(v, key: k)
            case "trusted_gateways": config.trustedGateways = r.list(v, key) { r.nodeID($0, key) }
            case "preferred_gateway": config.preferredGateway = r.nodeID(v, key)
            case "metrics_listen": if let s = r.string(v, key) { config.metricsListen = s }
            case "log_level":
                if let s = r.string(v, key) {
                    if let l = DaemonConfiguration.LogLevel(rawValue: s) { config.logLevel = l } else {
                        r.fail(v, "'log_level' must be one of \(DaemonConfiguration.LogLevel.allCases.map(\.rawValue).joined(separator: ", ")) (got '\(s)')")
                    }
                }
            case "link_cipher":
                if let s = r.string(v, key) {
                    if let c = DaemonConfiguration.LinkCipher(rawValue: s) { config.linkCipher = c } else {
                        r.fail(v, "'link_cipher' must be one of \(DaemonConfiguration.LinkCipher.allCases.map(\.rawValue).joined(separator: ", ")) (got '\(s)')")
                    }
                }
            default: r.unknown(k, key, known: topLevelKeys)
            }
        }
        if !r.errors.isEmpty { throw ConfigurationErrors(r.errors) }
        return config
    }

    /// A configuration is a few dozen lines two or three levels deep; these bounds leave ample
    /// room and stop a hostile file early (ConfigurationFile already refuses more than 1 MiB).
    static let limits = YAMLLimits(maxBytes: 1 << 20, maxDepth: 16, maxNodes: 20_000)

    static let topLevelKeys = ["name", "state_dir", "control_socket", "control_group", "network_key_file", "port",
                               "interfaces", "tun", "attached_prefixes", "client_interfaces", "gateway",
                               "trusted_gateways", "preferred_gateway", "metrics_listen", "log_level", "link_cipher"]

    /// Parses `DOWN/UP` bandwidth such as `100M/20M`, `1G/1G` or `50000/10000` (plain numbers are
    /// kbit/s; k, M and G suffixes are kbit/s, Mbit/s and Gbit/s). Nil when malformed or zero.
    public static func parseBandwidth(_ text: String) -> (down: UInt32, up: UInt32)? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let d = parseRate(parts[0]), let u = parseRate(parts[1]), d > 0, u > 0 else { return nil }
        return (d, u)
    }

    static func parseRate(_ s: Substring) -> UInt32? {
        var digits = s.trimmingSpaces
        var scale: UInt64 = 1
        if let last = digits.last, "kKmMgG".contains(last) {
            scale = "kK".contains(last) ? 1 : ("mM".contains(last) ? 1_000 : 1_000_000)
            digits = digits.dropLast()
        }
        guard !digits.isEmpty, let n = UInt64(digits) else { return nil }
        let (v, o) = n.multipliedReportingOverflow(by: scale)
        guard !o, v <= UInt64(UInt32.max) else { return nil }
        return UInt32(v)
    }
}

/// All the problems found in one configuration.
public struct ConfigurationErrors: Error, Equatable, CustomStringConvertible, Sendable {
    public var errors: [ConfigurationError]
    public init(_ errors: [ConfigurationError]) { self.errors = errors }
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var s = self
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return s
    }
}
