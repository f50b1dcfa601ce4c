import FilamentCore
import FilamentWire

/// A read-only view of the engine's tables, sorted, for monitors, tests and the simulator.
public struct EngineSnapshot: Sendable {
    public var node: NodeID
    public var routerID: RouterID
    public var meshAddress: IPv6Address
    public var seqno: Seqno
    public var neighbours: [NeighbourSnapshot]
    /// Every route held (one per prefix and neighbour), sorted by prefix then neighbour.
    public var routes: [RouteSnapshot]
    public var sources: [SourceSnapshot]
    public var gateways: [GatewaySnapshot]
    public var selectedGateway: NodeID?
    public var counters: EngineCounters
}

public struct NeighbourSnapshot: Hashable, Sendable {
    public var key: NeighbourKey
    public var node: NodeID
    /// Our receive cost (from the hello history), 0xFFFF when nothing heard.
    public var rxcost: UInt16
    /// The neighbour's receive cost of us (from its IHUs), 0xFFFF when unknown or expired.
    public var txcost: UInt16
    /// Link cost used in metrics (ETX product), infinite when the link is down or one-way.
    public var cost: Metric
    /// Hellos received among the last 16 expected (bit 0 the latest).
    public var helloHistory: UInt16
    public var isUp: Bool
    /// Smoothed round-trip time from liveness probes (sent while traffic flows through a neighbour
    /// that has been quiet); nil until one was answered without a resend.
    public var rtt: Interval? = nil
}

public struct RouteSnapshot: Hashable, Sendable {
    public var prefix: Prefix
    public var routerID: RouterID
    public var nextHop: NeighbourKey
    public var seqno: Seqno
    /// The metric the neighbour announced.
    public var advertisedMetric: Metric
    /// advertisedMetric + link cost.
    public var metric: Metric
    public var feasible: Bool
    public var selected: Bool
}

public struct SourceSnapshot: Hashable, Sendable {
    public var prefix: Prefix
    public var routerID: RouterID
    /// Feasibility distance: the best (seqno, metric) this node has announced for the source.
    public var seqno: Seqno
    public var metric: Metric
}

public struct GatewaySnapshot: Hashable, Sendable {
    public var node: NodeID
    public var name: String
    public var seqno: UInt32
    public var flags: GatewayAdvert.Flags
    public var bandwidthDownKbps: UInt32
    public var bandwidthUpKbps: UInt32
    public var load: UInt8
    /// Metric of the route to the gateway's mesh address (0 for this node itself).
    public var pathMetric: Metric
    /// Lower is better; nil when unusable for new flows.
    public var score: UInt32?
    public var expires: Instant
}

/// Counters of what the engine did and refused (hostile or broken input is counted, never a crash).
public struct EngineCounters: Hashable, Sendable {
    public var packetsReceived: UInt64 = 0
    public var messagesReceived: UInt64 = 0
    public var updatesProcessed: UInt64 = 0
    /// Queued updates replaced by a newer value of the same prefix before they left (never sent).
    public var updatesCoalesced: UInt64 = 0
    /// Tables requested because none arrived within `firstTableTimeout` of a session opening.
    public var lostTablesRequested: UInt64 = 0
    public var packetsSent: UInt64 = 0
    public var messagesSent: UInt64 = 0
    public var estimatedBytesSent: UInt64 = 0
    public var hellosWithoutSession: UInt64 = 0
    public var unfeasibleUpdates: UInt64 = 0
    public var bogusPrefixes: UInt64 = 0
    public var absurdMetrics: UInt64 = 0
    public var seqnoJumps: UInt64 = 0
    public var ownRouterIDClaims: UInt64 = 0
    public var tableFullDrops: UInt64 = 0
    public var seqnoRequestsReceived: UInt64 = 0
    public var seqnoRequestsForwarded: UInt64 = 0
    public var seqnoRequestsDropped: UInt64 = 0
    public var seqnoRequestsSent: UInt64 = 0
    /// Own seqno requests sent again because no newer seqno answered them (included in `seqnoRequestsSent`).
    public var seqnoRequestsResent: UInt64 = 0
    public var digestsSent: UInt64 = 0
    public var digestMismatches: UInt64 = 0
    public var fullTablesSent: UInt64 = 0
    public var probesSent: UInt64 = 0
    public var neighboursLost: UInt64 = 0
    /// Neighbours detected as restarted (hello seqno jump) while their session survived.
    public var neighbourRestarts: UInt64 = 0
    public var gatewayAdvertsAccepted: UInt64 = 0
    public var gatewayAdvertsBadSignature: UInt64 = 0
    public var gatewayAdvertsUntrusted: UInt64 = 0
    public var gatewayAdvertsStale: UInt64 = 0
    public var unknownNeighbourPackets: UInt64 = 0
    /// Events that came a stall (`EngineConfiguration.stallThreshold`) after the engine's deadline.
    public var stallsCredited: UInt64 = 0
    public init() {}
}
