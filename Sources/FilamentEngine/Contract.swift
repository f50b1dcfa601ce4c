import FilamentCore
import FilamentWire

// The engine's contract with its drivers (the daemon and the simulator). DESIGN.md "One engine,
// many drivers": events and `now` go in; actions and `nextDeadline` come out. The engine reads no
// clock, owns no globals, does no I/O and takes randomness only from the injected generator.
//
// The link layer (Noise sessions, in FilamentCrypto) sits between the driver's sockets and this
// contract: a neighbour exists for the engine only once the driver has an authenticated session
// with it, and unicast packets are encrypted by the driver. Multicast hellos travel in the clear.

/// One neighbour as the engine sees it: a router on one of our interfaces.
/// (The same router on two interfaces is two neighbours, as in RFC 8966.)
public struct NeighbourKey: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var interface: InterfaceID
    public var routerID: RouterID
    public init(interface: InterfaceID, routerID: RouterID) { self.interface = interface; self.routerID = routerID }
    public static func < (a: NeighbourKey, b: NeighbourKey) -> Bool { (a.interface, a.routerID) < (b.interface, b.routerID) }
    public var description: String { "\(routerID)%\(interface)" }
}

/// Signs with this node's Ed25519 key (libsodium in the daemon and the simulator).
public protocol MessageSigner {
    /// A 64-byte Ed25519 signature of `message`.
    func sign(_ message: [UInt8]) -> [UInt8]
}

/// Verifies Ed25519 signatures (libsodium in the daemon and the simulator).
public protocol SignatureVerifier {
    func verify(signature: [UInt8], of message: [UInt8], by key: NodeID) -> Bool
}

/// How a link's cost is computed (decision 0815; babeld's interface types).
public enum LinkKind: String, Sendable, Hashable, CaseIterable {
    /// Radio links: the ETX-style cost from the hello history and the neighbour's IHUs, so a lossy
    /// neighbour costs more than a clean one.
    case wireless
    /// Cables (Ethernet, veth): loss is not expected, so the cost is a fixed 256 while the neighbour is
    /// up and hears us, infinite otherwise. Late hellos (a busy CPU) then never move metrics; a dead
    /// neighbour is still found by the hold time and probes.
    case wired
}

/// What happened, as reported by the driver.
public enum EngineEvent: Sendable {
    /// An interface is usable for routing traffic (`mtu`: largest routing packet the link carries after
    /// link-layer overhead; `kind`: how its link costs are computed, see `LinkKind`). Repeating it for a
    /// known interface updates the MTU and the kind.
    case interfaceUp(InterfaceID, mtu: Int, kind: LinkKind = .wireless)
    case interfaceDown(InterfaceID)
    /// The link layer completed an authenticated session with `neighbour`, whose key is `node`.
    case sessionEstablished(NeighbourKey, node: NodeID)
    /// The link layer lost or closed the session.
    case sessionClosed(NeighbourKey)
    /// A plaintext routing packet from the multicast group on `interface` (hellos).
    case multicastReceived(interface: InterfaceID, packet: RoutingPacket)
    /// A routing packet that arrived inside `neighbour`'s authenticated session.
    case unicastReceived(from: NeighbourKey, packet: RoutingPacket)
    /// The driver forwarded data through `neighbour` (lets the engine check quickly that it is alive).
    case forwardedVia(NeighbourKey)
    /// A gateway's uplink report (only on nodes configured as gateways).
    case uplinkChanged(UplinkStatus)
    /// Operator commands.
    case setDraining(Bool)
    case setPreferredGateway(NodeID?)
    /// `nextDeadline` was reached (a driver may also send it early; the engine checks every timer).
    case timer
}

/// A gateway's uplink as its driver measures it.
public struct UplinkStatus: Hashable, Sendable {
    public var healthy: Bool
    public var bandwidthDownKbps: UInt32
    public var bandwidthUpKbps: UInt32
    /// 0...100
    public var load: UInt8
    public init(healthy: Bool, bandwidthDownKbps: UInt32, bandwidthUpKbps: UInt32, load: UInt8) {
        self.healthy = healthy; self.bandwidthDownKbps = bandwidthDownKbps
        self.bandwidthUpKbps = bandwidthUpKbps; self.load = load
    }
}

/// A forwarding entry: packets for `prefix` go to `nextHop`.
public struct ForwardingEntry: Hashable, Sendable {
    public var prefix: Prefix
    public var nextHop: NeighbourKey
    public var metric: Metric
    public init(prefix: Prefix, nextHop: NeighbourKey, metric: Metric) {
        self.prefix = prefix; self.nextHop = nextHop; self.metric = metric
    }
}

/// What the driver must do. Actions come out in a deterministic order.
public enum EngineAction: Hashable, Sendable {
    /// Send `packet` in the clear to the routing multicast group on `interface`.
    case sendMulticast(interface: InterfaceID, packet: RoutingPacket)
    /// Send `packet` to `neighbour` inside its encrypted session.
    case sendUnicast(to: NeighbourKey, packet: RoutingPacket)
    /// Install or replace the forwarding entry for `entry.prefix` (replace in place, never remove first).
    case installRoute(ForwardingEntry)
    /// Remove the forwarding entry for `prefix`.
    case removeRoute(Prefix)
    /// The engine's own seqno counter moved: the driver persists it (in reserved blocks).
    case persistSeqnoCounter(UInt64)
    /// Something an operator may want to see live (`filamentctl monitor`).
    case notify(EngineNotification)
}

/// Live changes for monitors and logs.
public enum EngineNotification: Hashable, Sendable {
    case neighbourAdded(NeighbourKey), neighbourChanged(NeighbourKey), neighbourLost(NeighbourKey)
    case routeAdded(Prefix), routeChanged(Prefix), routeLost(Prefix)
    case gatewayAdded(NodeID), gatewayChanged(NodeID), gatewayLost(NodeID)
    case selectedGatewayChanged(NodeID?)
}

/// Maps a node's public key to its mesh address (a hash, computed in FilamentCrypto). The engine needs
/// it to find the route to a gateway (the route to the gateway's mesh address /128).
public protocol NodeAddressResolver {
    func meshAddress(of node: NodeID) -> IPv6Address
}
