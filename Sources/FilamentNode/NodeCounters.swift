import FilamentWire

/// What a `FilamentNode` dropped or did outside the engine and the link layer (those keep their own
/// counters). Every hostile or undeliverable input ends up in one of these, never in a crash.
public struct NodeCounters: Hashable, Sendable {
    /// Datagrams whose first byte is no known frame type.
    public var unknownFrameType: UInt64 = 0
    /// Plaintext routing frames (or routing payloads inside sessions) that did not decode.
    public var undecodableRouting: UInt64 = 0
    /// Hellos whose full key does not hash to the router id they claim.
    public var helloKeyMismatch: UInt64 = 0
    /// Hellos from this node's own router id (a loop, or someone claiming our id).
    public var ownHellos: UInt64 = 0
    /// Neighbours whose hello seqno jumped (restarted): their session was dropped and renegotiated.
    public var neighbourRestarts: UInt64 = 0
    /// Hellos from routers without a session that did not start a handshake (over the per-second bound).
    public var handshakeStartsLimited: UInt64 = 0
    /// Session payloads with an unknown inner type byte.
    public var unknownInnerType: UInt64 = 0
    /// IP packets that are not well-formed IPv6 (too short, wrong version, wrong length).
    public var malformedIPPackets: UInt64 = 0
    /// IP packets to multicast or link-local destinations (never forwarded).
    public var notRoutable: UInt64 = 0
    /// IP packets delivered to the local stack.
    public var delivered: UInt64 = 0
    /// IP packets sent on towards a next hop.
    public var forwarded: UInt64 = 0
    /// No route: answered with ICMPv6 destination unreachable (or dropped if rate-limited).
    public var noRoute: UInt64 = 0
    /// Hop limit exhausted in transit.
    public var hopLimitExceeded: UInt64 = 0
    /// Larger than the next link carries.
    public var tooBig: UInt64 = 0
    /// The next hop's session is not known to the link layer (no key for the neighbour).
    public var noSessionForNextHop: UInt64 = 0
    /// ICMPv6 errors generated.
    public var icmpErrorsSent: UInt64 = 0
    /// ICMPv6 errors suppressed by the rate limit or by the rules of RFC 4443 2.4(e).
    public var icmpErrorsSuppressed: UInt64 = 0
    /// Routing packets the engine produced that could not be encoded (should never happen).
    public var encodeFailures: UInt64 = 0
    /// Routing message bytes handed to the link, by kind (`Message.kindNames`; message bodies only,
    /// without the frame header and the link layer's encryption).
    public var controlBytesSent = [UInt64](repeating: 0, count: Message.kindNames.count)

    /// Packets tunnelled from the local stack to a gateway.
    public var gatewayEgress: UInt64 = 0
    /// Internet-bound packets dropped because no gateway is usable.
    public var gatewayNone: UInt64 = 0
    /// Tunnel packets unwrapped into the local stack.
    public var gatewayDecapsulated: UInt64 = 0
    /// Tunnel packets refused (spoofed inner source, not a gateway, malformed inner packet).
    public var gatewayRejected: UInt64 = 0
    /// IPv4 replies tunnelled back to a lease holder (gateway).
    public var gatewayReturned: UInt64 = 0
    /// IPv4 packets to a pool address nobody holds (gateway).
    public var gatewayNoLease: UInt64 = 0
    /// Packets from a node whose derived lease another node already holds (gateway; dropped).
    public var leaseCollisions: UInt64 = 0

    public init() {}
}
