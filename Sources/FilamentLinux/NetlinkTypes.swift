import FilamentCore

/// A failed libnl operation: the operation's name, libnl's error code (NLE_*, positive) and its text.
public struct NetlinkError: Error, Equatable, Sendable, CustomStringConvertible {
    public var operation: String
    public var code: Int32
    public var message: String
    public init(operation: String, code: Int32, message: String) {
        self.operation = operation; self.code = code; self.message = message
    }
    public var description: String { "\(operation): \(message) (libnl \(code))" }
}

/// An interface as the kernel reports it.
public struct LinkInfo: Hashable, Sendable, CustomStringConvertible {
    public var interface: InterfaceID
    public var name: String
    /// Administratively up (IFF_UP).
    public var isAdministrativelyUp: Bool
    /// Carrier present (IFF_LOWER_UP).
    public var hasCarrier: Bool
    public var mtu: Int
    /// Up for Filament: administratively up and with carrier.
    public var isUp: Bool { isAdministrativelyUp && hasCarrier }

    public init(interface: InterfaceID, name: String, isAdministrativelyUp: Bool, hasCarrier: Bool, mtu: Int) {
        self.interface = interface; self.name = name
        self.isAdministrativelyUp = isAdministrativelyUp; self.hasCarrier = hasCarrier; self.mtu = mtu
    }
    public var description: String { "\(name)(\(interface.rawValue))\(isUp ? " up" : " down") mtu \(mtu)" }
}

/// An address on an interface.
public struct InterfaceAddress: Hashable, Sendable, CustomStringConvertible {
    public var interface: InterfaceID
    /// IPv4 addresses are IPv4-mapped.
    public var address: IPv6Address
    /// In the family's own bits (0...32 for IPv4, 0...128 for IPv6).
    public var prefixLength: Int
    /// Duplicate address detection has not finished: the address cannot be used as a source yet.
    public var isTentative: Bool

    public init(interface: InterfaceID, address: IPv6Address, prefixLength: Int, isTentative: Bool) {
        self.interface = interface; self.address = address; self.prefixLength = prefixLength; self.isTentative = isTentative
    }
    public var description: String { "\(address)/\(prefixLength)%\(interface.rawValue)\(isTentative ? " tentative" : "")" }
}

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

/// What changed in the kernel's view of links, addresses and routes, as `NetlinkMonitor` reports it.
public enum NetworkEvent: Hashable, Sendable {
    case interfaceAppeared(LinkInfo)
    case interfaceDisappeared(LinkInfo)
    /// `isUp` became true.
    case interfaceUp(LinkInfo)
    /// `isUp` became false.
    case interfaceDown(LinkInfo)
    /// Name or MTU changed (up/down is reported separately).
    case interfaceChanged(LinkInfo)
    case addressAdded(InterfaceAddress)
    /// The same address with changed flags (e.g. DAD finished: `isTentative` became false).
    case addressChanged(InterfaceAddress)
    case addressRemoved(InterfaceAddress)
    case routeAdded(KernelRoute)
    /// A route replaced in place (same prefix, metric and table; new next hop or interface).
    case routeChanged(KernelRoute)
    case routeRemoved(KernelRoute)
    /// The presence of a default route (any metric, in the watched tables) changed.
    case defaultRouteChanged(ipv4: Bool, present: Bool)
    /// The kernel dropped notifications (ENOBUFS); the monitor dumped everything again and the
    /// events before this one are the differences it found.
    case resynchronised
}
