import CNetlink
import FilamentCore
import Glibc

// libnl <-> Filament value conversions. Internal: libnl's pointers never leave this module.
enum NetlinkConversions {
    /// A new nl_addr for `address` (IPv4-mapped addresses become AF_INET) with `prefixLength` in
    /// the family's own bits. The caller owns the reference (nl_addr_put).
    static func makeAddress(_ address: IPv6Address, prefixLength: Int) -> OpaquePointer? {
        var bytes = (UInt64(0), UInt64(0))
        return withUnsafeMutableBytes(of: &bytes) { raw -> OpaquePointer? in
            for i in 0..<16 { raw[i] = address.byte(i) }
            let a: OpaquePointer?
            if address.isIPv4Mapped {
                a = nl_addr_build(AF_INET, raw.baseAddress! + 12, 4)
            } else {
                a = nl_addr_build(AF_INET6, raw.baseAddress!, 16)
            }
            if let a { nl_addr_set_prefixlen(a, Int32(prefixLength)) }
            return a
        }
    }

    /// The address of an nl_addr (IPv4 mapped), or nil for other families or lengths.
    static func address(_ a: OpaquePointer?) -> IPv6Address? {
        guard let a, let p = nl_addr_get_binary_addr(a) else { return nil }
        let len = Int(nl_addr_get_len(a))
        let bytes = UnsafeRawBufferPointer(start: p, count: len)
        switch (nl_addr_get_family(a), len) {
        case (AF_INET6, 16): return IPv6Address(bytes: bytes)
        case (AF_INET, 4): return IPv6Address(ipv4: bytes[0], bytes[1], bytes[2], bytes[3])
        default: return nil
        }
    }

    /// A route's destination as a Prefix (nil dst or length 0 = default of `family`).
    static func prefix(_ a: OpaquePointer?, family: Int32) -> Prefix? {
        let length = a.map { Int(nl_addr_get_prefixlen($0)) } ?? 0
        if family == AF_INET {
            let addr = (a.flatMap { nl_addr_get_len($0) == 4 ? address($0) : nil }) ?? IPv6Address(ipv4: 0, 0, 0, 0)
            return Prefix(ipv4: addr, length: length)
        }
        guard family == AF_INET6 else { return nil }
        let addr = (a.flatMap { nl_addr_get_len($0) == 16 ? address($0) : nil }) ?? .unspecified
        return Prefix(address: addr, length: length)
    }

    static func error(_ operation: String, _ code: Int32) -> NetlinkError {
        let c = code < 0 ? -code : code
        return NetlinkError(operation: operation, code: c, message: String(cString: nl_geterror(c)))
    }

    // MARK: objects

    static func link(_ l: OpaquePointer) -> LinkInfo {
        let flags = Int32(truncatingIfNeeded: rtnl_link_get_flags(l))
        let name = rtnl_link_get_name(l).map { String(cString: $0) } ?? ""
        return LinkInfo(interface: InterfaceID(UInt32(bitPattern: rtnl_link_get_ifindex(l))), name: name,
                        isAdministrativelyUp: flags & filament_nl_IFF_UP != 0,
                        hasCarrier: flags & filament_nl_IFF_LOWER_UP != 0,
                        mtu: Int(rtnl_link_get_mtu(l)))
    }

    static func interfaceAddress(_ a: OpaquePointer) -> InterfaceAddress? {
        guard let local = address(rtnl_addr_get_local(a)) else { return nil }
        let flags = rtnl_addr_get_flags(a)
        return InterfaceAddress(interface: InterfaceID(UInt32(bitPattern: rtnl_addr_get_ifindex(a))), address: local,
                                prefixLength: Int(rtnl_addr_get_prefixlen(a)),
                                isTentative: flags & UInt32(filament_nl_IFA_F_TENTATIVE) != 0)
    }

    static func route(_ r: OpaquePointer) -> KernelRoute? {
        let family = Int32(rtnl_route_get_family(r))
        guard rtnl_route_get_type(r) == UInt8(filament_nl_RTN_UNICAST),
              let prefix = prefix(rtnl_route_get_dst(r), family: family) else { return nil }
        var interface: InterfaceID? = nil
        var gateway: IPv6Address? = nil
        if rtnl_route_get_nnexthops(r) > 0, let nh = rtnl_route_nexthop_n(r, 0) {
            let i = rtnl_route_nh_get_ifindex(nh)
            if i > 0 { interface = InterfaceID(UInt32(i)) }
            gateway = address(rtnl_route_nh_get_gateway(nh))
        }
        return KernelRoute(prefix: prefix, interface: interface, gateway: gateway, metric: rtnl_route_get_priority(r),
                           table: rtnl_route_get_table(r), routingProtocol: rtnl_route_get_protocol(r))
    }
}
