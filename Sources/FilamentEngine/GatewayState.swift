import FilamentCore
import FilamentWire

/// A gateway advert this node holds (verified), with where its route lives.
struct GatewayEntry {
    var advert: GatewayAdvert
    var expires: Instant
    /// The gateway's mesh address: the path metric is the metric of the route to its /128.
    var address: IPv6Address
}

/// Which gateway new flows prefer and which gateway each live flow uses.
struct GatewaySelectionState {
    var primary: NodeID? = nil
    var pinned: NodeID? = nil
    var flows: [UInt64: FlowEntry] = [:]
}

struct FlowEntry {
    var gateway: NodeID
    var lastUsed: Instant
}

/// This node's own gateway role.
struct OwnGatewayState {
    var uplink: UplinkStatus? = nil
    var draining = false
    var drainStarted: Instant? = nil
    var withdrawn = false
    var nextAdvert: Instant = .distantFuture
    var lastSent: Instant? = nil
    /// Adverts sent since the seqno counter last moved (advert seqno = counter << 8 | this).
    var advertsSinceBump: UInt64 = 0
    var current: GatewayAdvert? = nil
}
