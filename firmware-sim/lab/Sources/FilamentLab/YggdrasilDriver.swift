import Foundation

/// yggdrasil (Debian's 0.4.7): config from `yggdrasil -genconf -json` with no static peers, no
/// listeners, no admin socket, multicast discovery only on the lab interfaces (`lvN`), and a TUN
/// `ygg0` in each namespace. Each node is pinged at its 200::/7 address (`yggdrasil -address`).
public struct YggdrasilDriver: DaemonDriver {
    public var name: String { "yggdrasil" }
    public var timers: String { "yggdrasil 0.4.7 built-in timers (multicast beacon ~1 s, not configurable)" }
    public init() {}

    public var memoryPerNodeMiB: Double { 20 }

    public func checkAvailable() throws {
        guard Shell.which("yggdrasil") != nil else {
            throw LabError.unavailable("yggdrasil is not installed (apt-get install yggdrasil, or scripts/setup.sh lab)")
        }
    }

    public func prepare(lab: Lab) throws -> [String] {
        try Parallel.map(lab.topology.count) { node in
            let generated = try Shell.run(["yggdrasil", "-genconf", "-json"], timeout: 20).stdout
            guard var conf = try JSONSerialization.jsonObject(with: Data(generated.utf8)) as? [String: Any] else {
                throw LabError.badInput("yggdrasil -genconf -json printed no JSON object")
            }
            conf["Peers"] = [String]()
            conf["Listen"] = [String]()
            conf["InterfacePeers"] = [String: Any]()
            conf["AdminListen"] = "none"
            conf["MulticastInterfaces"] = [["Regex": "^lv[0-9]+$", "Beacon": true, "Listen": true, "Port": 0, "Priority": 0]]
            conf["IfName"] = "ygg0"
            conf["NodeInfoPrivacy"] = true
            let path = "\(lab.workDir)/yggdrasil-\(node).json"
            let data = try JSONSerialization.data(withJSONObject: conf, options: [.prettyPrinted, .sortedKeys])
            try data.write(to: URL(fileURLWithPath: path))
            let address = try Shell.run(["yggdrasil", "-useconffile", path, "-address"], timeout: 20).stdout
                .trimmingCharacters(in: .whitespacesAndNewlines)
            guard address.hasPrefix("2") || address.hasPrefix("3") else {
                throw LabError.badInput("yggdrasil -address gave '\(address)', not a 200::/7 address")
            }
            return address
        }
    }

    public func start(node: Int, lab: Lab) throws -> Child? {
        try lab.spawn(node: node, ["yggdrasil", "-useconffile", "\(lab.workDir)/yggdrasil-\(node).json",
                                   "-logto", "stdout"], log: "yggdrasil-\(node).log")
    }
}
