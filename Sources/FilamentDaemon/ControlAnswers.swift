import FilamentControl
import FilamentCore
import FilamentCrypto
import FilamentEngine
import FilamentNode

/// Turns the engine's snapshot into the control protocol's stable schemas (docs/control-protocol.md).
public struct ControlAnswers {
    public var name: String?
    public var version: String
    /// Interface index to name.
    public var interfaceName: (InterfaceID) -> String
    /// Names other nodes announced (node information), nil when not known.
    public var nodeName: (NodeID) -> String?

    public init(name: String?, version: String, interfaceName: @escaping (InterfaceID) -> String,
                nodeName: @escaping (NodeID) -> String? = { _ in nil }) {
        self.name = name; self.version = version; self.interfaceName = interfaceName; self.nodeName = nodeName
    }

    public func neighbours(_ s: EngineSnapshot, node: FilamentNode, now: Instant) -> [NeighbourInfo] {
        s.neighbours.filter(\.isUp).map { n in
            NeighbourInfo(node_id: n.node.hex, name: nodeName(n.node), address: node.peer(of: n.key).map { "\($0.address)" } ?? "",
                          interface: interfaceName(n.key.interface), cost: Int(n.cost.rawValue), rxcost: Int(n.rxcost),
                          txcost: Int(n.txcost), rtt_ms: n.rtt.map { Double($0.nanoseconds / 1_000) / 1_000 },
                          cipher: node.link.transportCipher(with: n.node, now: now).map { "\($0)" })
        }
    }

    public func routes(_ s: EngineSnapshot, node: FilamentNode) -> [RouteInfo] {
        s.routes.map { r in
            RouteInfo(destination: "\(r.prefix)", via: node.peer(of: r.nextHop).map { "\($0.address)" },
                      interface: interfaceName(r.nextHop.interface), metric: Int(r.metric.rawValue),
                      seqno: Int(r.seqno.rawValue), selected: r.selected)
        }
    }

    public func gateways(_ s: EngineSnapshot) -> [GatewayInfo] {
        s.gateways.map { g in
            GatewayInfo(node_id: g.node.hex, name: g.name.isEmpty ? nodeName(g.node) : g.name, address: "\(g.node.meshAddress)", metric: Int(g.pathMetric.rawValue),
                        bandwidth_down_kbps: Int(g.bandwidthDownKbps), bandwidth_up_kbps: Int(g.bandwidthUpKbps),
                        load: Int(g.load), healthy: g.flags.contains(.healthy), draining: g.flags.contains(.draining),
                        selected: g.node == s.selectedGateway)
        }
    }

    public func status(_ s: EngineSnapshot, uptimeSeconds: Int, meshInterfaces: Int) -> StatusInfo {
        var problems: [String] = []
        if meshInterfaces == 0 { problems.append("no mesh interface is up (check 'interfaces' in the configuration)") }
        let selected = gateways(s).first { $0.selected }
        return StatusInfo(node_id: s.node.hex, name: name, address: "\(s.meshAddress)", version: version,
                          uptime_seconds: uptimeSeconds, neighbours: s.neighbours.filter(\.isUp).count,
                          routes: s.routes.filter(\.selected).count, gateway: selected,
                          health: problems.isEmpty ? "ok" : "degraded", problems: problems)
    }
}
