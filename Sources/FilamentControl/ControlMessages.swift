// The control protocol between filamentctl and filamentd: newline-delimited JSON over a Unix socket.
// docs/control-protocol.md is the reference. Field names are the stable `--json` schema.

/// The protocol version this code speaks. A request with another major version gets an error.
public let controlProtocolVersion = 1

/// One request line.
public struct ControlRequest: Codable, Equatable, Sendable {
    public var version: Int
    /// Echoed in the response, so a client can match answers to questions.
    public var id: Int
    public var command: String
    /// Command arguments (`target` for ping/traceroute, `format`, ...). Unknown ones are errors.
    public var args: [String: String]
    public init(id: Int, command: String, args: [String: String] = [:], version: Int = controlProtocolVersion) {
        self.version = version; self.id = id; self.command = command; self.args = args
    }
}

/// Whether a command only reads state or changes it. Administrative commands need the socket's
/// owner or group (checked with SO_PEERCRED).
public enum CommandKind: Sendable { case readOnly, administrative, streaming }

/// The commands the daemon answers, with their kind.
public let controlCommands: [String: CommandKind] = [
    "status": .readOnly, "neighbours": .readOnly, "routes": .readOnly, "gateways": .readOnly,
    "topology": .readOnly, "counters": .readOnly, "doctor": .readOnly,
    "monitor": .streaming,
    "drain": .administrative, "undrain": .administrative, "reload": .administrative,
]

/// An error in a response.
public struct ControlError: Codable, Equatable, Error, Sendable {
    /// Machine-readable: `bad_request`, `unknown_command`, `line_too_long`, `permission_denied`,
    /// `unknown_node`, `unsupported_version`, `busy`, `internal`.
    public var code: String
    public var message: String
    public init(code: String, message: String) { self.code = code; self.message = message }
}

/// `status`
public struct StatusInfo: Codable, Equatable, Sendable {
    public var node_id: String
    public var name: String?
    public var address: String
    public var version: String
    public var uptime_seconds: Int
    public var neighbours: Int
    public var routes: Int
    public var gateway: GatewayInfo?
    /// `ok`, or `degraded` with the reasons in `problems`.
    public var health: String
    public var problems: [String]
    public init(node_id: String, name: String?, address: String, version: String, uptime_seconds: Int,
                neighbours: Int, routes: Int, gateway: GatewayInfo?, health: String, problems: [String]) {
        self.node_id = node_id; self.name = name; self.address = address; self.version = version
        self.uptime_seconds = uptime_seconds; self.neighbours = neighbours; self.routes = routes
        self.gateway = gateway; self.health = health; self.problems = problems
    }
}

/// One row of `neighbours`.
public struct NeighbourInfo: Codable, Equatable, Sendable {
    public var node_id: String
    public var name: String?
    public var address: String
    public var interface: String
    public var cost: Int
    public var rxcost: Int
    public var txcost: Int
    public var rtt_ms: Double?
    /// Transport cipher of the session with it (`aes-256-gcm`, `chacha20-poly1305`), null without one.
    public var cipher: String?
    public init(node_id: String, name: String?, address: String, interface: String, cost: Int, rxcost: Int, txcost: Int, rtt_ms: Double?,
                cipher: String? = nil) {
        self.node_id = node_id; self.name = name; self.address = address; self.interface = interface
        self.cost = cost; self.rxcost = rxcost; self.txcost = txcost; self.rtt_ms = rtt_ms; self.cipher = cipher
    }
}

/// One row of `routes`.
public struct RouteInfo: Codable, Equatable, Sendable {
    public var destination: String
    public var via: String?
    public var interface: String?
    public var metric: Int
    public var seqno: Int
    public var selected: Bool
    public init(destination: String, via: String?, interface: String?, metric: Int, seqno: Int, selected: Bool) {
        self.destination = destination; self.via = via; self.interface = interface
        self.metric = metric; self.seqno = seqno; self.selected = selected
    }
}

/// One row of `gateways`.
public struct GatewayInfo: Codable, Equatable, Sendable {
    public var node_id: String
    public var name: String?
    public var address: String
    public var metric: Int
    public var bandwidth_down_kbps: Int
    public var bandwidth_up_kbps: Int
    public var load: Int
    public var healthy: Bool
    public var draining: Bool
    public var selected: Bool
    public init(node_id: String, name: String?, address: String, metric: Int, bandwidth_down_kbps: Int,
                bandwidth_up_kbps: Int, load: Int, healthy: Bool, draining: Bool, selected: Bool) {
        self.node_id = node_id; self.name = name; self.address = address; self.metric = metric
        self.bandwidth_down_kbps = bandwidth_down_kbps; self.bandwidth_up_kbps = bandwidth_up_kbps
        self.load = load; self.healthy = healthy; self.draining = draining; self.selected = selected
    }
}

/// `topology`: the whole mesh as one node sees it.
public struct TopologyInfo: Codable, Equatable, Sendable {
    public struct Node: Codable, Equatable, Sendable {
        public var node_id: String
        public var name: String?
        public var address: String
        public var gateway: Bool
        /// False when the node did not answer the neighbour-list request in time.
        public var answered: Bool
        public init(node_id: String, name: String?, address: String, gateway: Bool, answered: Bool) {
            self.node_id = node_id; self.name = name; self.address = address; self.gateway = gateway; self.answered = answered
        }
    }
    public struct Link: Codable, Equatable, Sendable {
        /// node_id of each end; `source` < `target`, so each link appears once.
        public var source: String
        public var target: String
        public var cost: Int
        /// Both ends listed the link. False when only one end did: the other did not answer, the link
        /// changed during the gathering, or one end is wrong (or lying) about its neighbours.
        public var confirmed: Bool
        public init(source: String, target: String, cost: Int, confirmed: Bool = true) {
            self.source = source; self.target = target; self.cost = cost; self.confirmed = confirmed
        }
    }
    public var nodes: [Node]
    public var links: [Link]
    public init(nodes: [Node], links: [Link]) { self.nodes = nodes; self.links = links }
}

/// One line of the `monitor` stream: `add`, `change` or `flush` of a neighbour, route or gateway.
public struct MonitorEvent: Codable, Equatable, Sendable {
    public var event: String
    public var kind: String
    public var key: String
    public var detail: String?
    public init(event: String, kind: String, key: String, detail: String?) {
        self.event = event; self.kind = kind; self.key = key; self.detail = detail
    }
}


// Absent values are `null` with the key present (the synthesized encoder would leave the key out), so
// the `--json` schema has the same keys whatever the state.
extension StatusInfo {
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(node_id, forKey: .node_id); try c.encode(name, forKey: .name); try c.encode(address, forKey: .address)
        try c.encode(version, forKey: .version); try c.encode(uptime_seconds, forKey: .uptime_seconds)
        try c.encode(neighbours, forKey: .neighbours); try c.encode(routes, forKey: .routes); try c.encode(gateway, forKey: .gateway)
        try c.encode(health, forKey: .health); try c.encode(problems, forKey: .problems)
    }
}

extension NeighbourInfo {
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(node_id, forKey: .node_id); try c.encode(name, forKey: .name); try c.encode(address, forKey: .address)
        try c.encode(interface, forKey: .interface); try c.encode(cost, forKey: .cost); try c.encode(rxcost, forKey: .rxcost)
        try c.encode(txcost, forKey: .txcost); try c.encode(rtt_ms, forKey: .rtt_ms); try c.encode(cipher, forKey: .cipher)
    }
}

extension RouteInfo {
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(destination, forKey: .destination); try c.encode(via, forKey: .via); try c.encode(interface, forKey: .interface)
        try c.encode(metric, forKey: .metric); try c.encode(seqno, forKey: .seqno); try c.encode(selected, forKey: .selected)
    }
}

extension GatewayInfo {
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(node_id, forKey: .node_id); try c.encode(name, forKey: .name); try c.encode(address, forKey: .address)
        try c.encode(metric, forKey: .metric); try c.encode(bandwidth_down_kbps, forKey: .bandwidth_down_kbps)
        try c.encode(bandwidth_up_kbps, forKey: .bandwidth_up_kbps); try c.encode(load, forKey: .load)
        try c.encode(healthy, forKey: .healthy); try c.encode(draining, forKey: .draining); try c.encode(selected, forKey: .selected)
    }
}

extension TopologyInfo.Node {
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(node_id, forKey: .node_id); try c.encode(name, forKey: .name); try c.encode(address, forKey: .address)
        try c.encode(gateway, forKey: .gateway); try c.encode(answered, forKey: .answered)
    }
}

extension MonitorEvent {
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(event, forKey: .event); try c.encode(kind, forKey: .kind); try c.encode(key, forKey: .key)
        try c.encode(detail, forKey: .detail)
    }
}

/// One finding of `doctor`: what was checked, whether it is fine, what was seen, and how to fix it.
public struct DoctorCheck: Codable, Equatable, Sendable {
    public var check: String
    public var ok: Bool
    public var detail: String
    /// What to do about it (null when `ok`).
    public var fix: String?
    public init(check: String, ok: Bool, detail: String, fix: String? = nil) {
        self.check = check; self.ok = ok; self.detail = detail; self.fix = fix
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(check, forKey: .check); try c.encode(ok, forKey: .ok); try c.encode(detail, forKey: .detail)
        try c.encode(fix, forKey: .fix)
    }
}
