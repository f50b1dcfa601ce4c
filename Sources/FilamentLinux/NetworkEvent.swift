import FilamentCore

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
