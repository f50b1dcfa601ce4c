import FilamentCore
import FilamentYAML

/// Walks the YAML tree for `ConfigurationLoader`, collecting errors with line numbers.
final class Reader {
    var errors: [ConfigurationError] = []

    func fail(_ node: YAMLNode, _ message: String) {
        errors.append(ConfigurationError(line: node.line, message))
    }

    func unknown(_ node: YAMLNode, _ key: String, known: [String]) {
        if let guess = known.min(by: { editDistance($0, key) < editDistance($1, key) }), editDistance(guess, key) <= 2 {
            fail(node, "unknown setting '\(key)'; did you mean '\(guess)'?")
        } else {
            fail(node, "unknown setting '\(key)' (known here: \(known.joined(separator: ", ")))")
        }
    }

    func string(_ v: YAMLNode, _ key: String) -> String? {
        guard let s = v.string else { fail(v, "'\(key)' must be a single value, not a list or mapping"); return nil }
        return s
    }

    func path(_ v: YAMLNode, _ key: String) -> String? {
        guard let s = string(v, key) else { return nil }
        guard s.hasPrefix("/") else { fail(v, "'\(key)' must be an absolute path (got '\(s)')"); return nil }
        return s
    }

    func int(_ v: YAMLNode, _ key: String) -> Int? {
        guard let s = string(v, key) else { return nil }
        guard let n = Int(s) else { fail(v, "'\(key)' must be a whole number (got '\(s)')"); return nil }
        return n
    }

    func bool(_ v: YAMLNode, _ key: String) -> Bool? {
        guard let s = string(v, key) else { return nil }
        switch s.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: fail(v, "'\(key)' must be true or false (got '\(s)')"); return nil
        }
    }

    func prefix(_ v: YAMLNode, _ key: String) -> Prefix? {
        guard let s = string(v, key) else { return nil }
        guard let p = Prefix(s) else {
            fail(v, "'\(s)' in '\(key)' is not a prefix like fd12:3456::/64 or 192.168.4.0/24 (host bits must be zero)")
            return nil
        }
        return p
    }

    func nodeID(_ v: YAMLNode, _ key: String) -> NodeID? {
        guard let s = string(v, key) else { return nil }
        let bytes = hexBytes(s)
        guard let b = bytes, let id = NodeID(bytes: b) else {
            fail(v, "'\(key)' must be a node's public key: 64 hex digits (got '\(s)')")
            return nil
        }
        return id
    }

    func list<T>(_ v: YAMLNode, _ key: String, _ element: (YAMLNode) -> T?) -> [T] {
        guard case .sequence(let seq) = v.content else { fail(v, "'\(key)' must be a list (lines starting with '- ')"); return [] }
        return seq.compactMap(element)
    }

    func mapping(_ v: YAMLNode, _ key: String) -> [(YAMLNode, YAMLNode)]? {
        guard case .mapping(let m) = v.content else { fail(v, "'\(key)' must be a mapping of settings (key: value)"); return nil }
        return m.map { ($0.key, $0.value) }
    }

    func interfaces(_ v: YAMLNode) -> [DaemonConfiguration.InterfaceSetting] {
        list(v, "interfaces") { item -> DaemonConfiguration.InterfaceSetting? in
            if let s = item.string { return validInterfacePattern(item, s) }
            guard let m = mapping(item, "interfaces") else { return nil }
            var pattern: String?
            var transport = DaemonConfiguration.Transport.udp
            var type = DaemonConfiguration.LinkType.auto
            for (k, val) in m {
                switch k.string ?? "" {
                case "name": pattern = string(val, "name")
                case "transport":
                    if let t = string(val, "transport") {
                        if let tt = DaemonConfiguration.Transport(rawValue: t) { transport = tt } else {
                            fail(val, "'transport' must be udp or ethernet (got '\(t)')")
                        }
                    }
                case "type":
                    if let t = string(val, "type") {
                        if let tt = DaemonConfiguration.LinkType(rawValue: t) { type = tt } else {
                            fail(val, "'type' must be auto, wired or wireless (got '\(t)')")
                        }
                    }
                default: unknown(k, k.string ?? "?", known: ["name", "transport", "type"])
                }
            }
            guard let p = pattern else { fail(item, "each interface needs a 'name' (a name or a glob like wlan*)"); return nil }
            return validInterfacePattern(item, p).map { DaemonConfiguration.InterfaceSetting(pattern: $0.pattern, transport: transport, type: type) }
        }
    }

    func validInterfacePattern(_ node: YAMLNode, _ p: String) -> DaemonConfiguration.InterfaceSetting? {
        guard !p.isEmpty, p.utf8.count < 16, !p.contains("/"), !p.contains(" ") else {
            fail(node, "'\(p)' is not an interface name or glob (1-15 characters, no '/' or spaces)")
            return nil
        }
        return DaemonConfiguration.InterfaceSetting(pattern: p)
    }

    func tun(_ v: YAMLNode, into tun: inout DaemonConfiguration.TunSetting) {
        guard let m = mapping(v, "tun") else { return }
        for (k, val) in m {
            switch k.string ?? "" {
            case "name":
                if let s = string(val, "tun.name") {
                    if s.isEmpty || s.utf8.count >= 16 { fail(val, "'tun.name' must be 1-15 characters") } else { tun.name = s }
                }
            case "mtu":
                if string(val, "tun.mtu") == "auto" { tun.mtu = nil; continue }
                if let n = int(val, "tun.mtu") {
                    if (1280...65535).contains(n) { tun.mtu = n } else { fail(val, "'tun.mtu' must be auto or 1280-65535 (IPv6 needs at least 1280; got \(n))") }
                }
            default: unknown(k, k.string ?? "?", known: ["name", "mtu"])
            }
        }
    }

    func gateway(_ v: YAMLNode, key: YAMLNode) -> DaemonConfiguration.GatewaySetting? {
        guard let m = mapping(v, "gateway") else { return nil }
        var uplink: String?
        var bandwidth: (UInt32, UInt32)?
        var rest: [(YAMLNode, YAMLNode)] = []
        for (k, val) in m {
            switch k.string ?? "" {
            case "uplink": uplink = string(val, "gateway.uplink")
            case "bandwidth":
                if let s = string(val, "gateway.bandwidth") {
                    if let b = ConfigurationLoader.parseBandwidth(s) { bandwidth = (b.down, b.up) } else {
                        fail(val, "'gateway.bandwidth' must be DOWN/UP, like 100M/20M (kbit/s without a suffix; got '\(s)')")
                    }
                }
            default: rest.append((k, val))
            }
        }
        guard let up = uplink else { fail(key, "'gateway' needs 'uplink': the interface with the internet connection"); return nil }
        guard let bw = bandwidth else { fail(key, "'gateway' needs 'bandwidth': DOWN/UP, like 100M/20M"); return nil }
        var g = DaemonConfiguration.GatewaySetting(uplink: up, bandwidthDownKbps: bw.0, bandwidthUpKbps: bw.1)
        for (k, val) in rest {
            switch k.string ?? "" {
            case "probe":
                if let s = string(val, "gateway.probe") {
                    if let a = IPv6Address(s) { g.probe = a } else { fail(val, "'gateway.probe' must be an IP address (got '\(s)')") }
                }
            case "ipv4_pool":
                if let p = prefix(val, "gateway.ipv4_pool") {
                    if p.isIPv4 && p.length <= 96 + 30 { g.ipv4Pool = p } else { fail(val, "'gateway.ipv4_pool' must be an IPv4 prefix of /30 or larger, such as 100.64.0.0/10") }
                }
            case "ipv6": if let b = bool(val, "gateway.ipv6") { g.ipv6 = b }
            case "drained": if let b = bool(val, "gateway.drained") { g.drained = b }
            default: unknown(k, k.string ?? "?", known: ["uplink", "bandwidth", "probe", "ipv4_pool", "ipv6", "drained"])
            }
        }
        return g
    }
}

/// Hex text to bytes; nil on odd length or a non-hex digit.
func hexBytes(_ s: String) -> [UInt8]? {
    let u = Array(s.utf8)
    guard u.count % 2 == 0 else { return nil }
    var out = [UInt8]()
    out.reserveCapacity(u.count / 2)
    func nib(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: return c - 48
        case 97...102: return c - 87
        case 65...70: return c - 55
        default: return nil
        }
    }
    var i = 0
    while i < u.count {
        guard let h = nib(u[i]), let l = nib(u[i + 1]) else { return nil }
        out.append(h << 4 | l)
        i += 2
    }
    return out
}

/// Levenshtein distance, for "did you mean" suggestions.
func editDistance(_ a: String, _ b: String) -> Int {
    let x = Array(a.utf8), y = Array(b.utf8)
    if x.isEmpty { return y.count }
    if y.isEmpty { return x.count }
    var prev = Array(0...y.count)
    for i in 1...x.count {
        var cur = [i] + [Int](repeating: 0, count: y.count)
        for j in 1...y.count {
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
        }
        prev = cur
    }
    return prev[y.count]
}
