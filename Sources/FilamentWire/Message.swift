@_exported import FilamentCore  // FrameType and the value types are part of the wire API

// The logical routing messages (TLVs) that engines exchange. The engine produces and consumes these
// values; the codec (RoutingPacket+Codec) turns them into bytes. Field meanings follow RFC 8966
// where a Babel message exists; Digest, GatewayAdvert and NodeInfo are Filament's own.
// docs/wire-format.md is the byte-level reference.

/// One routing message.
public enum Message: Hashable, Sendable {
    case hello(Hello)
    case ihu(IHU)
    case update(Update)
    case routeRequest(RouteRequest)
    case seqnoRequest(SeqnoRequest)
    case digest(Digest)
    case gatewayAdvert(GatewayAdvert)
    case probe(Probe)
}

extension Message {
    /// Names of the message kinds, indexed by `kind` (reports, metrics labels).
    public static let kindNames = ["hello", "ihu", "update", "route_request", "seqno_request", "digest", "gateway_advert", "probe"]

    /// Index of this message's kind in `kindNames`.
    @inlinable public var kind: Int {
        switch self {
        case .hello: return 0
        case .ihu: return 1
        case .update: return 2
        case .routeRequest: return 3
        case .seqnoRequest: return 4
        case .digest: return 5
        case .gatewayAdvert: return 6
        case .probe: return 7
        }
    }
}

/// Sent multicast on every interface once per hello interval (RFC 8966 4.6.5).
public struct Hello: Hashable, Sendable {
    /// The sender's router id (the multicast hello is not encrypted; it names its sender).
    public var routerID: RouterID
    /// The sender's full public key, included when a receiver may not know it yet (the first hellos on
    /// an interface, periodically, and after hearing an unknown router). A receiver needs it to start the
    /// Noise IK handshake; drivers check that it hashes to `routerID` before using it.
    public var node: NodeID?
    /// Hello seqno, incremented per hello on this interface.
    public var seqno: Seqno
    /// The interval until the sender's next hello on this interface, in centiseconds.
    public var intervalCentiseconds: UInt16
    public init(routerID: RouterID, node: NodeID? = nil, seqno: Seqno, intervalCentiseconds: UInt16) {
        self.routerID = routerID; self.node = node; self.seqno = seqno; self.intervalCentiseconds = intervalCentiseconds
    }
}

/// "I heard you": the sender's receive cost for the named neighbour (RFC 8966 4.6.6).
public struct IHU: Hashable, Sendable {
    /// The neighbour this IHU is about.
    public var neighbour: RouterID
    /// The sender's rxcost for that neighbour (0xFFFF: not heard).
    public var rxcost: UInt16
    /// The interval until the next IHU, in centiseconds.
    public var intervalCentiseconds: UInt16
    public init(neighbour: RouterID, rxcost: UInt16, intervalCentiseconds: UInt16) {
        self.neighbour = neighbour; self.rxcost = rxcost; self.intervalCentiseconds = intervalCentiseconds
    }
}

/// A route announcement or, with an infinite metric, a retraction (RFC 8966 4.6.9).
public struct Update: Hashable, Sendable {
    public var prefix: Prefix
    /// The source's router id.
    public var routerID: RouterID
    public var seqno: Seqno
    public var metric: Metric
    /// The interval until the next update of this route, in centiseconds (0: none scheduled).
    public var intervalCentiseconds: UInt16
    public init(prefix: Prefix, routerID: RouterID, seqno: Seqno, metric: Metric, intervalCentiseconds: UInt16) {
        self.prefix = prefix; self.routerID = routerID; self.seqno = seqno; self.metric = metric
        self.intervalCentiseconds = intervalCentiseconds
    }
    public var isRetraction: Bool { metric.isInfinite }
}

/// Asks a neighbour to send an update for a prefix, or (prefix nil) for its whole table (RFC 8966 4.6.10).
public struct RouteRequest: Hashable, Sendable {
    public var prefix: Prefix?
    /// Optional trailing flags byte (absent on the wire when 0, so older encodings are unchanged).
    public var flags: UInt8
    /// The sender has just restarted: drop everything it announced before, then answer with the whole
    /// table ending in a digest flagged `Digest.flagFlushed` (decision 0321).
    public static let flagRestarted: UInt8 = 0x80
    public var restarted: Bool { flags & Self.flagRestarted != 0 }
    public init(prefix: Prefix?, flags: UInt8 = 0) { self.prefix = prefix; self.flags = flags }
}

/// Asks for a newer seqno from the source, forwarded towards it (RFC 8966 4.6.11).
public struct SeqnoRequest: Hashable, Sendable {
    public var prefix: Prefix
    public var routerID: RouterID
    public var seqno: Seqno
    public var hopCount: UInt8
    public init(prefix: Prefix, routerID: RouterID, seqno: Seqno, hopCount: UInt8) {
        self.prefix = prefix; self.routerID = routerID; self.seqno = seqno; self.hopCount = hopCount
    }
}

/// A summary of everything the sender last advertised to the receiver: the number of routes and
/// gateway adverts and a 64-bit hash over them in canonical order. A receiver whose own view of the
/// sender differs asks for a full table. Lets the steady state send digests instead of full dumps.
public struct Digest: Hashable, Sendable {
    public var routeCount: UInt16
    public var hash: UInt64
    /// Optional trailing flags byte (absent on the wire when 0, so older encodings are unchanged).
    public var flags: UInt8
    /// This digest ends a table sent after dropping everything the receiver announced before its restart
    /// (the answer to a `RouteRequest.flagRestarted`, decision 0321).
    public static let flagFlushed: UInt8 = 0x80
    public var flushed: Bool { flags & Self.flagFlushed != 0 }
    public init(routeCount: UInt16, hash: UInt64, flags: UInt8 = 0) {
        self.routeCount = routeCount; self.hash = hash; self.flags = flags
    }
}

/// A gateway's signed description of its uplink, flooded through the mesh. The path metric to a
/// gateway is the metric of the route to its mesh address; this message carries what a route cannot.
public struct GatewayAdvert: Hashable, Sendable {
    public struct Flags: OptionSet, Hashable, Sendable {
        public var rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// Offers IPv6 egress (`::/0`).
        public static let ipv6 = Flags(rawValue: 1 << 0)
        /// Offers IPv4 egress (`0.0.0.0/0`) with leased addresses and NAT.
        public static let ipv4 = Flags(rawValue: 1 << 1)
        /// Uplink healthy.
        public static let healthy = Flags(rawValue: 1 << 2)
        /// Draining: takes no new flows.
        public static let draining = Flags(rawValue: 1 << 3)
    }
    /// The gateway's public key (its NodeID); its router id follows from it.
    public var gateway: NodeID
    /// Advert sequence number, newer replaces older (taken from the gateway's persisted counter).
    public var seqno: UInt32
    public var flags: Flags
    public var bandwidthDownKbps: UInt32
    public var bandwidthUpKbps: UInt32
    /// Current load, 0...100 percent.
    public var load: UInt8
    /// Seconds this advert stays valid after it is received, unless refreshed.
    public var lifetimeSeconds: UInt16
    /// A friendly name, at most 32 bytes of UTF-8.
    public var name: String
    /// Ed25519 signature by `gateway` over every field above (docs/wire-format.md gives the exact bytes).
    public var signature: [UInt8]
    public init(gateway: NodeID, seqno: UInt32, flags: Flags, bandwidthDownKbps: UInt32, bandwidthUpKbps: UInt32,
                load: UInt8, lifetimeSeconds: UInt16, name: String, signature: [UInt8]) {
        self.gateway = gateway; self.seqno = seqno; self.flags = flags
        self.bandwidthDownKbps = bandwidthDownKbps; self.bandwidthUpKbps = bandwidthUpKbps
        self.load = load; self.lifetimeSeconds = lifetimeSeconds; self.name = name; self.signature = signature
    }
}

/// A liveness probe to one neighbour (sent unicast, inside the encrypted session). `isReply` false asks
/// the neighbour to answer at once with the same nonce; used to notice a dead neighbour quickly while
/// traffic flows through it, without fast periodic hellos.
public struct Probe: Hashable, Sendable {
    public var nonce: UInt32
    public var isReply: Bool
    public init(nonce: UInt32, isReply: Bool) { self.nonce = nonce; self.isReply = isReply }
}

/// A routing packet: a version and a list of messages. Unknown message types are skipped on decode.
public struct RoutingPacket: Hashable, Sendable {
    /// The only version this code writes.
    public static let currentVersion: UInt8 = 1
    public var version: UInt8
    public var messages: [Message]
    public init(version: UInt8 = RoutingPacket.currentVersion, messages: [Message]) {
        self.version = version; self.messages = messages
    }
}
