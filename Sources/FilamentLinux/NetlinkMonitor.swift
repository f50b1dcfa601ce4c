import CNetlink
import FilamentCore
import Glibc

/// Watches the kernel's links, IPv6 addresses and IPv4/IPv6 routes (rtnetlink groups RTNLGRP_LINK,
/// RTNLGRP_IPV6_IFADDR, RTNLGRP_IPV6_ROUTE, RTNLGRP_IPV4_ROUTE) and reports changes as
/// `NetworkEvent`s. It keeps its own copy of that state, so every event is a real difference, and
/// when the kernel drops notifications (ENOBUFS) it dumps everything again, reports the
/// differences, then `.resynchronised`.
///
/// Use: `synchronise` once at start (reports the current state as additions), then watch
/// `fileDescriptor` in the `EventLoop` and call `receive` when it is readable.
/// Not thread-safe: one thread owns it. Works in the namespace of the thread that created it.
public final class NetlinkMonitor {
    /// Current state, as last reported.
    public private(set) var links: [InterfaceID: LinkInfo] = [:]
    public private(set) var addresses: [InterfaceAddressKey: InterfaceAddress] = [:]
    private var routes: [RouteKey: KernelRoute] = [:]
    /// Routing tables whose routes are reported (default: main).
    public let tables: Set<UInt32>
    /// Times the monitor had to dump everything again after ENOBUFS.
    public private(set) var resynchronisations = 0

    /// An address's identity (the tentative flag is its state, not its identity).
    public struct InterfaceAddressKey: Hashable, Comparable, Sendable {
        public var interface: InterfaceID
        public var address: IPv6Address
        public var prefixLength: Int
        public static func < (a: Self, b: Self) -> Bool {
            (a.interface, a.address, a.prefixLength) < (b.interface, b.address, b.prefixLength)
        }
    }

    /// The routes currently in the watched tables, sorted by prefix, metric and table.
    public var currentRoutes: [KernelRoute] { routes.keys.sorted().map { routes[$0]! } }

    /// The notification socket (non-blocking); watch it for readability.
    public var fileDescriptor: Int32 { nl_socket_get_fd(monitorSocket) }

    private let monitorSocket: OpaquePointer
    private let dumpSocket: OpaquePointer
    /// Parsed notifications of the current `receive`, applied after libnl returns.
    fileprivate var inbox: [(type: Int32, object: ParsedObject)] = []

    fileprivate enum ParsedObject {
        case link(LinkInfo)
        case address(InterfaceAddress)
        case route(KernelRoute)
    }

    /// `receiveBufferBytes`: the notification socket's kernel buffer (SO_RCVBUF); the larger, the rarer
    /// an overflow and its full resynchronisation. Tests use a tiny one to force overflows.
    public init(tables: Set<UInt32> = [KernelRoute.mainTable], receiveBufferBytes: Int = 1 << 20) throws(NetlinkError) {
        self.tables = tables
        guard let m = nl_socket_alloc() else { throw NetlinkError(operation: "nl_socket_alloc", code: 0, message: "out of memory") }
        guard let d = nl_socket_alloc() else {
            nl_socket_free(m)
            throw NetlinkError(operation: "nl_socket_alloc", code: 0, message: "out of memory")
        }
        monitorSocket = m
        dumpSocket = d
        nl_socket_disable_seq_check(m)
        var rc = nl_connect(m, NETLINK_ROUTE)
        if rc >= 0 { rc = nl_connect(d, NETLINK_ROUTE) }
        for group in [filament_nl_RTNLGRP_LINK, filament_nl_RTNLGRP_IPV6_IFADDR, filament_nl_RTNLGRP_IPV6_ROUTE,
                      filament_nl_RTNLGRP_IPV4_ROUTE] where rc >= 0 {
            rc = nl_socket_add_membership(m, group)
        }
        if rc >= 0 { rc = nl_socket_set_nonblocking(m) }
        if rc >= 0 { rc = nl_socket_set_buffer_size(m, Int32(clamping: receiveBufferBytes), 0) }
        if rc < 0 {
            nl_socket_free(m); nl_socket_free(d)
            throw NetlinkConversions.error("netlink monitor setup", rc)
        }
        let me = Unmanaged.passUnretained(self).toOpaque()
        nl_socket_modify_cb(m, NL_CB_VALID, NL_CB_CUSTOM, { msg, arg in
            guard let msg, let arg else { return Int32(NL_OK.rawValue) }
            let monitor = Unmanaged<NetlinkMonitor>.fromOpaque(arg).takeUnretainedValue()
            monitor.currentType = filament_nl_msg_type(msg)
            nl_msg_parse(msg, { object, arg in
                guard let object, let arg else { return }
                let monitor = Unmanaged<NetlinkMonitor>.fromOpaque(arg).takeUnretainedValue()
                monitor.collect(object)
            }, arg)
            return Int32(NL_OK.rawValue)
        }, me)
    }

    deinit {
        nl_socket_free(monitorSocket)
        nl_socket_free(dumpSocket)
    }

    fileprivate var currentType: Int32 = 0

    fileprivate func collect(_ object: OpaquePointer) {
        guard let typeName = nl_object_get_type(object) else { return }
        switch String(cString: typeName) {
        case "route/link":
            inbox.append((currentType, .link(NetlinkConversions.link(object))))
        case "route/addr":
            if rtnl_addr_get_family(object) == AF_INET6, let a = NetlinkConversions.interfaceAddress(object) {
                inbox.append((currentType, .address(a)))
            }
        case "route/route":
            if let r = NetlinkConversions.route(object) { inbox.append((currentType, .route(r))) }
        default:
            break
        }
    }

    // MARK: receiving

    /// Reads every pending notification (bounded: at most 1,024 reads) and reports the changes.
    /// After an overflow (ENOBUFS) it resynchronises. Returns the number of events reported.
    @discardableResult
    public func receive(_ handle: (NetworkEvent) throws -> Void) throws -> Int {
        var events: [NetworkEvent] = []
        var overflow = false
        for _ in 0..<1024 {
            let rc = nl_recvmsgs_default(monitorSocket)
            if rc >= 0 { continue }
            if rc == -NLE_AGAIN { break }
            if rc == -NLE_INTR { continue }
            if rc == -NLE_NOMEM || rc == -NLE_MSG_OVERFLOW || rc == -NLE_MSG_TRUNC {
                // libnl maps the socket's ENOBUFS to NLE_NOMEM: notifications were lost.
                overflow = true
                break
            }
            inbox.removeAll()
            throw NetlinkConversions.error("receive netlink notifications", rc)
        }
        let pending = inbox
        inbox.removeAll()
        for (type, object) in pending { apply(type: type, object, into: &events) }
        if overflow {
            resynchronisations += 1
            drainMonitorSocket()
            try synchronise(into: &events)
            events.append(.resynchronised)
        }
        for e in events { try handle(e) }
        return events.count
    }

    /// Throws away whatever is queued on the notification socket (it is superseded by a dump).
    private func drainMonitorSocket() {
        let fd = nl_socket_get_fd(monitorSocket)
        var scratch = [UInt8](repeating: 0, count: 65_536)
        for _ in 0..<4096 {
            let r = recv(fd, &scratch, scratch.count, Int32(MSG_DONTWAIT))
            if r < 0 && errno == EINTR { continue }
            if r <= 0 && errno != ENOBUFS { break }
        }
        inbox.removeAll()
    }

    /// Dumps links, IPv6 addresses and routes and reports the differences from the state the
    /// monitor knew (at start: everything, as additions). Returns the number of events reported.
    @discardableResult
    public func synchronise(_ handle: (NetworkEvent) throws -> Void) throws -> Int {
        var events: [NetworkEvent] = []
        try synchronise(into: &events)
        for e in events { try handle(e) }
        return events.count
    }

    private func synchronise(into events: inout [NetworkEvent]) throws(NetlinkError) {
        // A dump interrupted by concurrent changes (NLE_DUMP_INTR) is retried, a few times at most.
        var newLinks: [InterfaceID: LinkInfo] = [:]
        var newAddresses: [InterfaceAddressKey: InterfaceAddress] = [:]
        var newRoutes: [RouteKey: KernelRoute] = [:]
        try dump("links") { (s, c) in rtnl_link_alloc_cache(s, AF_UNSPEC, c) } each: { o in
            let l = NetlinkConversions.link(o)
            newLinks[l.interface] = l
        }
        try dump("addresses") { (s, c) in rtnl_addr_alloc_cache(s, c) } each: { o in
            if rtnl_addr_get_family(o) == AF_INET6, let a = NetlinkConversions.interfaceAddress(o) {
                newAddresses[Self.key(a)] = a
            }
        }
        try dump("routes") { (s, c) in rtnl_route_alloc_cache(s, AF_UNSPEC, 0, c) } each: { o in
            if let r = NetlinkConversions.route(o), tables.contains(r.table) { newRoutes[Self.key(r)] = r }
        }
        // Removals first (routes, addresses, links), then additions (links, addresses, routes).
        for k in routes.keys.sorted() where newRoutes[k] == nil {
            apply(type: filament_nl_RTM_DELROUTE, .route(routes[k]!), into: &events)
        }
        for k in addresses.keys.sorted() where newAddresses[k] == nil {
            apply(type: filament_nl_RTM_DELADDR, .address(addresses[k]!), into: &events)
        }
        for k in links.keys.sorted() where newLinks[k] == nil {
            apply(type: filament_nl_RTM_DELLINK, .link(links[k]!), into: &events)
        }
        for k in newLinks.keys.sorted() { apply(type: filament_nl_RTM_NEWLINK, .link(newLinks[k]!), into: &events) }
        for k in newAddresses.keys.sorted() { apply(type: filament_nl_RTM_NEWADDR, .address(newAddresses[k]!), into: &events) }
        for k in newRoutes.keys.sorted() { apply(type: filament_nl_RTM_NEWROUTE, .route(newRoutes[k]!), into: &events) }
    }

    private func dump(_ what: String, _ alloc: (OpaquePointer, UnsafeMutablePointer<OpaquePointer?>) -> Int32,
                      each: (OpaquePointer) -> Void) throws(NetlinkError) {
        var attempt = 0
        while true {
            var cache: OpaquePointer? = nil
            let rc = alloc(dumpSocket, &cache)
            if rc == -NLE_DUMP_INTR && attempt < 5 { attempt += 1; continue }
            guard rc >= 0, let cache else { throw NetlinkConversions.error("dump \(what)", rc) }
            defer { nl_cache_free(cache) }
            var o = nl_cache_get_first(cache)
            while let obj = o {
                each(obj)
                o = nl_cache_get_next(obj)
            }
            return
        }
    }

    private static func key(_ a: InterfaceAddress) -> InterfaceAddressKey {
        InterfaceAddressKey(interface: a.interface, address: a.address, prefixLength: a.prefixLength)
    }

    private static func key(_ r: KernelRoute) -> RouteKey { RouteKey(prefix: r.prefix, metric: r.metric, table: r.table) }

    // MARK: state

    private func apply(type: Int32, _ object: ParsedObject, into events: inout [NetworkEvent]) {
        switch object {
        case .link(let l):
            let old = links[l.interface]
            if type == filament_nl_RTM_DELLINK {
                guard let old else { return }
                links[l.interface] = nil
                // Addresses and routes of a vanished interface go with it (the kernel may not say so).
                for k in addresses.keys.sorted() where k.interface == l.interface {
                    events.append(.addressRemoved(addresses.removeValue(forKey: k)!))
                }
                let hadDefault = defaultPresence()
                for k in routes.keys.sorted() where routes[k]!.interface == l.interface {
                    events.append(.routeRemoved(routes.removeValue(forKey: k)!))
                }
                if old.isUp { events.append(.interfaceDown(old)) }
                events.append(.interfaceDisappeared(old))
                reportDefaultChanges(from: hadDefault, into: &events)
                return
            }
            guard type == filament_nl_RTM_NEWLINK else { return }
            links[l.interface] = l
            guard let old else {
                events.append(.interfaceAppeared(l))
                if l.isUp { events.append(.interfaceUp(l)) }
                return
            }
            if old.name != l.name || old.mtu != l.mtu { events.append(.interfaceChanged(l)) }
            if old.isUp != l.isUp { events.append(l.isUp ? .interfaceUp(l) : .interfaceDown(l)) }
        case .address(let a):
            let k = Self.key(a)
            if type == filament_nl_RTM_DELADDR {
                if let old = addresses.removeValue(forKey: k) { events.append(.addressRemoved(old)) }
                return
            }
            guard type == filament_nl_RTM_NEWADDR else { return }
            let old = addresses.updateValue(a, forKey: k)
            if old == nil { events.append(.addressAdded(a)) } else if old != a { events.append(.addressChanged(a)) }
        case .route(let r):
            guard tables.contains(r.table) else { return }
            let k = Self.key(r)
            let hadDefault = defaultPresence()
            if type == filament_nl_RTM_DELROUTE {
                if let old = routes.removeValue(forKey: k) { events.append(.routeRemoved(old)) }
            } else if type == filament_nl_RTM_NEWROUTE {
                let old = routes.updateValue(r, forKey: k)
                if old == nil { events.append(.routeAdded(r)) } else if old != r { events.append(.routeChanged(r)) }
            }
            reportDefaultChanges(from: hadDefault, into: &events)
        }
    }

    /// Whether an IPv4 and an IPv6 default route exist.
    private func defaultPresence() -> (ipv4: Bool, ipv6: Bool) {
        var v4 = false, v6 = false
        for r in routes.values {
            if r.prefix == .defaultIPv4 { v4 = true }
            if r.prefix == .defaultIPv6 { v6 = true }
        }
        return (v4, v6)
    }

    private func reportDefaultChanges(from before: (ipv4: Bool, ipv6: Bool), into events: inout [NetworkEvent]) {
        let now = defaultPresence()
        if now.ipv4 != before.ipv4 { events.append(.defaultRouteChanged(ipv4: true, present: now.ipv4)) }
        if now.ipv6 != before.ipv6 { events.append(.defaultRouteChanged(ipv4: false, present: now.ipv6)) }
    }
}
