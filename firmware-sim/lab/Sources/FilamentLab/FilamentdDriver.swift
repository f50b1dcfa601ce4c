import Foundation

/// Filament's own daemon (docs/daemon.md), one `filamentd --config FILE` per node in the foreground.
/// - `prepare`: one network key file for the whole lab (64 hex digits, mode 0600); per node a
///   state directory `filamentd-<n>/` whose identity `filamentd init` creates (it prints the node's
///   mesh address, which is the address pinged), and a YAML config with `state_dir`,
///   `control_socket` (`filamentd-<n>.sock`), `network_key_file`, `interfaces` = the node's lab
///   veths (`lv0`, `lv1`, ...) and `tun.name: fil0` (one TUN per namespace, so the name repeats).
/// - `start`: `filamentd --config <file>`, tracked by PID like every lab process.
/// Binaries: `binDir` if given, else `$FILAMENT_BIN`, else `.build/release`, else `.build/debug`
/// (relative to the working directory), else PATH. Measure with a release build:
/// `swift build -c release --product filamentd && swift build -c release --product filamentctl`.
public struct FilamentdDriver: DaemonDriver {
    /// `filamentd`, or `filamentd-jumbo` with `tun.mtu` 65000 (decision 0510), `filamentd-mtuN` otherwise.
    public var name: String {
        guard let tunMTU else { return "filamentd" }
        return tunMTU == 65000 ? "filamentd-jumbo" : "filamentd-mtu\(tunMTU)"
    }
    /// Where `filamentd` and `filamentctl` are; nil = search (see the type's comment).
    public var binDir: String?

    public var timers: String {
        (tunMTU.map { "tun.mtu \($0); " } ?? "tun.mtu auto; ") + "filamentd engine defaults (not configurable): adaptive hellos 4 s idle, 750 ms for 10 s after a change; "
            + "veth links wired (interfaces type auto: fixed link cost, hold at least 4 s); "
            + "probes on traffic (neighbour carrying traffic silent 300 ms -> 3 probes, each waiting max(150 ms, 2 x RTT), 300 ms before an RTT sample); "
            + "hold 5 half-intervals; digests every 10 s; link cipher auto (AES-256-GCM where both ends have AES instructions); \(buildKind) build"
    }

    /// `tun.mtu` for every node (nil = `auto`); 65000 is jumbo mode (decision 0510).
    public var tunMTU: Int?
    /// Every node gets `preferred_gateway:` = this node's id (the primary of the failover experiment).
    public var preferredGatewayNode: Int?

    public init(binDir: String? = nil, tunMTU: Int? = nil, preferredGatewayNode: Int? = nil) {
        self.binDir = binDir; self.tunMTU = tunMTU; self.preferredGatewayNode = preferredGatewayNode
    }

    /// The directory holding an executable `filamentd` (and, ideally, `filamentctl`), or nil.
    /// An explicit directory (`binDir`, `FILAMENT_BIN`) is taken when it holds `filamentd`; among
    /// `.build/release` and `.build/debug`, one holding both `filamentd` and `filamentctl` wins (a
    /// release `filamentd` next to no release `filamentctl` would fail the `filamentctl` checks).
    public func resolvedBinDir() -> String? {
        let fm = FileManager.default
        var explicit: [String] = []
        if let binDir { explicit.append(binDir) }
        if let env = ProcessInfo.processInfo.environment["FILAMENT_BIN"], !env.isEmpty { explicit.append(env) }
        let cwd = fm.currentDirectoryPath
        let built = ["\(cwd)/.build/release", "\(cwd)/.build/debug"]
        func has(_ dir: String, _ tool: String) -> Bool { fm.isExecutableFile(atPath: "\(dir)/\(tool)") }
        let found = explicit.first { has($0, "filamentd") }
            ?? built.first { has($0, "filamentd") && has($0, "filamentctl") }
            ?? built.first { has($0, "filamentd") }
        if let found { return URL(fileURLWithPath: found).standardizedFileURL.path }
        if let path = Shell.which("filamentd") { return URL(fileURLWithPath: path).deletingLastPathComponent().path }
        return nil
    }

    /// Whether the binary found is a release build (judged by its directory name; reported with results).
    public var buildKind: String {
        guard let dir = resolvedBinDir() else { return "none" }
        if dir.hasSuffix("/debug") { return "debug" }
        if dir.hasSuffix("/release") { return "release" }
        return "installed"
    }

    public var memoryPerNodeMiB: Double { 8 }

    public func checkAvailable() throws {
        guard resolvedBinDir() != nil else {
            throw LabError.unavailable("filamentd not found: build it (swift build -c release --product filamentd), "
                                       + "or set FILAMENT_BIN to the directory holding it")
        }
    }

    public func prepare(lab: Lab) throws -> [String] {
        guard let bin = resolvedBinDir() else { try checkAvailable(); return [] }
        let keyPath = "\(lab.workDir)/network.key"
        var key = [UInt8](repeating: 0, count: 32)
        var rng = SystemRandomNumberGenerator()
        for i in key.indices { key[i] = UInt8.random(in: 0...255, using: &rng) }
        let hex = key.map { String(format: "%02x", $0) }.joined() + "\n"
        _ = FileManager.default.createFile(atPath: keyPath, contents: Data(hex.utf8), attributes: [.posixPermissions: 0o600])
        // `filamentd init` per node (key generation) runs in bounded parallel: on a 30x30 grid it
        // was the longest set-up phase.
        let identities = try Parallel.map(lab.topology.count) { node -> (address: String, id: String) in
            let out = try Shell.run(["\(bin)/filamentd", "init", "--state-dir", stateDir(node, lab)], timeout: 60)
            guard let address = Self.field("mesh address:", in: out), address.contains(":"),
                  let id = Self.field("node id:", in: out), id.count == 64 else {
                throw LabError.badInput("filamentd init printed no 'mesh address:' / 'node id:' line: \(out.stdout) \(out.stderr)")
            }
            return (address, id)
        }
        let preferred = preferredGatewayNode.map { identities[$0].id }
        for node in 0..<lab.topology.count {
            try config(node: node, lab: lab, keyPath: keyPath, preferredGateway: preferred)
                .write(toFile: configPath(node, lab), atomically: true, encoding: .utf8)
        }
        return identities.map(\.address)
    }

    /// The value after `label` on the line of `filamentd init`'s output that has it.
    static func field(_ label: String, in out: CommandResult) -> String? {
        guard let line = (out.stdout + "\n" + out.stderr).split(whereSeparator: \.isNewline)
                .first(where: { $0.contains(label) }),
              let range = line.range(of: label) else { return nil }
        return line[range.upperBound...].trimmingCharacters(in: .whitespaces)
    }

    /// The YAML config of `node`: state, socket, network key, its lab interfaces, the TUN (with
    /// `tunMTU` when set), and for gateway nodes the `gateway:` block on their `lgw` uplink.
    func config(node: Int, lab: Lab, keyPath: String, preferredGateway: String?) -> String {
        var conf = "# filament-lab \(lab.prefix) node \(node)\n"
        conf += "state_dir: \(stateDir(node, lab))\n"
        conf += "control_socket: \(socketPath(node, lab))\n"
        conf += "network_key_file: \(keyPath)\n"
        conf += "interfaces:\n" + lab.interfaces[node].map { "  - \($0)\n" }.joined()
        conf += "tun:\n  name: fil0\n"
        if let tunMTU { conf += "  mtu: \(tunMTU)\n" }
        if lab.options.gateways.contains(node) {
            conf += "gateway:\n  uplink: lgw\n  bandwidth: 1G/1G\n"
        }
        if let preferredGateway { conf += "preferred_gateway: \(preferredGateway)\n" }
        return conf
    }

    public func start(node: Int, lab: Lab) throws -> Child? {
        guard let bin = resolvedBinDir() else { try checkAvailable(); return nil }
        return try lab.spawn(node: node, ["\(bin)/filamentd", "--config", configPath(node, lab)],
                             log: "filamentd-\(node).log")
    }

    /// `filamentctl <command> --json` against `node`'s daemon (nil when filamentctl is missing or fails).
    public func control(_ command: String, node: Int, lab: Lab) -> String? {
        guard let bin = resolvedBinDir(), FileManager.default.isExecutableFile(atPath: "\(bin)/filamentctl") else { return nil }
        let r = try? Shell.run(["\(bin)/filamentctl", command, "--json", "--socket", socketPath(node, lab)],
                               timeout: 10, check: false)
        return r?.status == 0 ? r?.stdout : nil
    }

    func stateDir(_ node: Int, _ lab: Lab) -> String { "\(lab.workDir)/filamentd-\(node)" }
    func socketPath(_ node: Int, _ lab: Lab) -> String { "\(lab.workDir)/filamentd-\(node).sock" }
    func configPath(_ node: Int, _ lab: Lab) -> String { "\(lab.workDir)/filamentd-\(node).yaml" }
}

