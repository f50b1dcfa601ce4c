import FilamentCore

/// A route in a kernel table. The kernel identifies a route by (prefix, metric, table).
public struct KernelRoute: Hashable, Sendable, CustomStringConvertible {
    /// IPv4 routes use IPv4-mapped prefixes (`Prefix(ipv4:length:)`).
    public var prefix: Prefix
    /// Outgoing interface (of the first next hop).
    public var interface: InterfaceID?
    /// Next-hop address (IPv4-mapped for IPv4), nil for a device route.
    public var gateway: IPv6Address?
    /// The route's priority (`metric` in `ip route`); lower wins.
    public var metric: UInt32
    /// Routing table (254 = main).
    public var table: UInt32
    /// Who installed it (rtm_protocol). Filament uses `KernelRoute.filamentProtocol`.
    public var routingProtocol: UInt8

    /// rtm_protocol of routes Filament installs (not in iproute2's rt_protos list).
    public static let filamentProtocol: UInt8 = 70
    /// The main routing table.
    public static let mainTable: UInt32 = 254

    public init(prefix: Prefix, interface: InterfaceID?, gateway: IPv6Address? = nil, metric: UInt32 = 1024,
                table: UInt32 = KernelRoute.mainTable, routingProtocol: UInt8 = KernelRoute.filamentProtocol) {
        self.prefix = prefix; self.interface = interface; self.gateway = gateway
        self.metric = metric; self.table = table; self.routingProtocol = routingProtocol
    }

    /// Whether this is the IPv4 or IPv6 default route.
    public var isDefault: Bool { prefix == .defaultIPv4 || prefix == .defaultIPv6 }

    public var description: String {
        var s = "\(prefix)"
        if let g = gateway { s += " via \(g)" }
        if let i = interface { s += " dev \(i.rawValue)" }
        return s + " metric \(metric) table \(table) proto \(routingProtocol)"
    }
}

/// The kernel's key for a route: replacing a route with the same key changes it in place.
struct RouteKey: Hashable, Comparable {
    var prefix: Prefix
    var metric: UInt32
    var table: UInt32
    static func < (a: RouteKey, b: RouteKey) -> Bool { (a.prefix, a.metric, a.table) < (b.prefix, b.metric, b.table) }
}
