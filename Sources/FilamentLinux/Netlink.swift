import CNetlink
import FilamentCore
import Glibc

/// Commands to the kernel's routing subsystem over one blocking rtnetlink socket (libnl): addresses,
/// routes (replaced in place, never removed first) and link state. Each call waits for the kernel's
/// acknowledgement. Works in the network namespace of the thread that created it.
///
/// Not thread-safe: one thread owns it.
public final class Netlink {
    private let socket: OpaquePointer

    public init() throws(NetlinkError) {
        guard let s = nl_socket_alloc() else { throw NetlinkError(operation: "nl_socket_alloc", code: 0, message: "out of memory") }
        let rc = nl_connect(s, NETLINK_ROUTE)
        if rc < 0 {
            nl_socket_free(s)
            throw NetlinkConversions.error("nl_connect(NETLINK_ROUTE)", rc)
        }
        socket = s
    }

    deinit { nl_socket_free(socket) }

    // MARK: addresses

    /// Adds `address/prefixLength` to `interface` (IPv4-mapped addresses are added as IPv4). With
    /// `skipDAD` the address is usable at once (IFA_F_NODAD; right for addresses derived from a key).
    /// Adding an address that is already there succeeds (NLM_F_REPLACE).
    public func addAddress(_ address: IPv6Address, prefixLength: Int, interface: InterfaceID, skipDAD: Bool = false) throws(NetlinkError) {
        try withAddress(address, prefixLength: prefixLength, interface: interface) { (a: OpaquePointer) throws(NetlinkError) in
            if skipDAD { rtnl_addr_set_flags(a, UInt32(filament_nl_IFA_F_NODAD)) }
            let rc = rtnl_addr_add(socket, a, filament_nl_NLM_F_REPLACE)
            if rc < 0 { throw NetlinkConversions.error("add address \(address)/\(prefixLength) dev \(interface.rawValue)", rc) }
        }
    }

    /// Removes `address/prefixLength` from `interface`.
    public func removeAddress(_ address: IPv6Address, prefixLength: Int, interface: InterfaceID) throws(NetlinkError) {
        try withAddress(address, prefixLength: prefixLength, interface: interface) { (a: OpaquePointer) throws(NetlinkError) in
            let rc = rtnl_addr_delete(socket, a, 0)
            if rc < 0 { throw NetlinkConversions.error("remove address \(address)/\(prefixLength) dev \(interface.rawValue)", rc) }
        }
    }

    private func withAddress(_ address: IPv6Address, prefixLength: Int, interface: InterfaceID,
                             _ body: (OpaquePointer) throws(NetlinkError) -> Void) throws(NetlinkError) {
        guard let a = rtnl_addr_alloc() else { throw NetlinkError(operation: "rtnl_addr_alloc", code: 0, message: "out of memory") }
        defer { rtnl_addr_put(a) }
        guard let local = NetlinkConversions.makeAddress(address, prefixLength: prefixLength) else {
            throw NetlinkError(operation: "nl_addr_build", code: 0, message: "out of memory")
        }
        defer { nl_addr_put(local) }
        rtnl_addr_set_ifindex(a, Int32(bitPattern: interface.rawValue))
        rtnl_addr_set_family(a, address.isIPv4Mapped ? AF_INET : AF_INET6)
        let rc = rtnl_addr_set_local(a, local)
        if rc < 0 { throw NetlinkConversions.error("rtnl_addr_set_local", rc) }
        rtnl_addr_set_prefixlen(a, Int32(prefixLength))
        try body(a)
    }

    // MARK: routes

    /// Installs `route`, replacing in one step any route with the same prefix, metric and table
    /// (NLM_F_CREATE | NLM_F_REPLACE): there is no moment without a route.
    public func replaceRoute(_ route: KernelRoute) throws(NetlinkError) {
        try withRoute(route) { (r: OpaquePointer) throws(NetlinkError) in
            let rc = rtnl_route_add(socket, r, filament_nl_NLM_F_REPLACE | filament_nl_NLM_F_CREATE)
            if rc < 0 { throw NetlinkConversions.error("replace route \(route)", rc) }
        }
    }

    /// Deletes the route with `route`'s prefix, metric and table (and interface, if given). The
    /// gateway need not be given.
    public func deleteRoute(_ route: KernelRoute) throws(NetlinkError) {
        // The kernel matches an IPv4 route's scope exactly and libnl always sends one (guessed from
        // the gateway), so an IPv4 deletion tries the guessed scope, then the other one.
        let guess = route.prefix.isIPv4 && route.gateway == nil ? filament_nl_RT_SCOPE_LINK : filament_nl_RT_SCOPE_UNIVERSE
        let scopes = route.prefix.isIPv4 ? [guess, guess == filament_nl_RT_SCOPE_LINK ? filament_nl_RT_SCOPE_UNIVERSE : filament_nl_RT_SCOPE_LINK] : [guess]
        for (i, scope) in scopes.enumerated() {
            var rc: Int32 = 0
            try withRoute(route, scope: UInt8(scope)) { (r: OpaquePointer) throws(NetlinkError) in
                rc = rtnl_route_delete(socket, r, 0)
            }
            if rc >= 0 { return }
            if rc == -NLE_OBJ_NOTFOUND && i + 1 < scopes.count { continue }
            throw NetlinkConversions.error("delete route \(route)", rc)
        }
    }

    private func withRoute(_ route: KernelRoute, scope: UInt8? = nil, _ body: (OpaquePointer) throws(NetlinkError) -> Void) throws(NetlinkError) {
        guard let r = rtnl_route_alloc() else { throw NetlinkError(operation: "rtnl_route_alloc", code: 0, message: "out of memory") }
        defer { rtnl_route_put(r) }
        let ipv4 = route.prefix.isIPv4
        let familyLength = ipv4 ? Int(route.prefix.length) - 96 : Int(route.prefix.length)
        guard let dst = NetlinkConversions.makeAddress(route.prefix.address, prefixLength: familyLength) else {
            throw NetlinkError(operation: "nl_addr_build", code: 0, message: "out of memory")
        }
        defer { nl_addr_put(dst) }
        rtnl_route_set_family(r, UInt8(ipv4 ? AF_INET : AF_INET6))
        let rc = rtnl_route_set_dst(r, dst)
        if rc < 0 { throw NetlinkConversions.error("rtnl_route_set_dst", rc) }
        rtnl_route_set_table(r, route.table)
        rtnl_route_set_protocol(r, route.routingProtocol)
        rtnl_route_set_priority(r, route.metric)
        rtnl_route_set_type(r, UInt8(filament_nl_RTN_UNICAST))
        // An IPv4 route without a gateway is a device route (link scope); everything else universe.
        rtnl_route_set_scope(r, scope ?? UInt8(ipv4 && route.gateway == nil ? filament_nl_RT_SCOPE_LINK : filament_nl_RT_SCOPE_UNIVERSE))
        if route.interface != nil || route.gateway != nil {
            guard let nh = rtnl_route_nh_alloc() else { throw NetlinkError(operation: "rtnl_route_nh_alloc", code: 0, message: "out of memory") }
            if let i = route.interface { rtnl_route_nh_set_ifindex(nh, Int32(bitPattern: i.rawValue)) }
            if let g = route.gateway {
                guard g.isIPv4Mapped == ipv4 else {
                    rtnl_route_nh_free(nh)
                    throw NetlinkError(operation: "route \(route)", code: 0, message: "gateway family differs from prefix family")
                }
                guard let ga = NetlinkConversions.makeAddress(g, prefixLength: ipv4 ? 32 : 128) else {
                    rtnl_route_nh_free(nh)
                    throw NetlinkError(operation: "nl_addr_build", code: 0, message: "out of memory")
                }
                rtnl_route_nh_set_gateway(nh, ga)
                nl_addr_put(ga)
            }
            rtnl_route_add_nexthop(r, nh)  // the route owns nh from here
        }
        try body(r)
    }

    // MARK: links

    /// Sets `interface` administratively up or down and/or its MTU (nil leaves a setting alone).
    public func setLink(_ interface: InterfaceID, up: Bool? = nil, mtu: Int? = nil) throws(NetlinkError) {
        var current: OpaquePointer? = nil
        var rc = rtnl_link_get_kernel(socket, Int32(bitPattern: interface.rawValue), nil, &current)
        guard rc >= 0, let current else { throw NetlinkConversions.error("get link \(interface.rawValue)", rc) }
        defer { rtnl_link_put(current) }
        guard let change = rtnl_link_alloc() else { throw NetlinkError(operation: "rtnl_link_alloc", code: 0, message: "out of memory") }
        defer { rtnl_link_put(change) }
        if let up {
            if up { rtnl_link_set_flags(change, UInt32(filament_nl_IFF_UP)) } else { rtnl_link_unset_flags(change, UInt32(filament_nl_IFF_UP)) }
        }
        if let mtu { rtnl_link_set_mtu(change, UInt32(mtu)) }
        rc = rtnl_link_change(socket, current, change, 0)
        if rc < 0 { throw NetlinkConversions.error("change link \(interface.rawValue) up=\(String(describing: up)) mtu=\(String(describing: mtu))", rc) }
    }

    /// The current state of `interface`, or nil if it does not exist.
    public func link(_ interface: InterfaceID) throws(NetlinkError) -> LinkInfo? {
        var current: OpaquePointer? = nil
        let rc = rtnl_link_get_kernel(socket, Int32(bitPattern: interface.rawValue), nil, &current)
        if rc == -NLE_OBJ_NOTFOUND || rc == -NLE_NODEV { return nil }
        guard rc >= 0, let current else { throw NetlinkConversions.error("get link \(interface.rawValue)", rc) }
        defer { rtnl_link_put(current) }
        return NetlinkConversions.link(current)
    }
}
