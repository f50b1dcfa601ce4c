import FilamentCore
import FilamentCrypto

/// Where a neighbour's datagrams come from: the interface they arrived on and the neighbour's
/// link-local address there. The daemon fills it from `in6_pktinfo`; the simulator uses any unique
/// address per virtual link end.
public struct NodePeer: LinkPeerAddress, Comparable, CustomStringConvertible {
    public var interface: InterfaceID
    public var address: IPv6Address

    public init(interface: InterfaceID, address: IPv6Address) {
        self.interface = interface
        self.address = address
    }

    /// Interface index (big-endian) then the 16 address bytes.
    public var cookieBytes: [UInt8] {
        var b: [UInt8] = []
        b.reserveCapacity(20)
        for shift in stride(from: 24, through: 0, by: -8) { b.append(UInt8(truncatingIfNeeded: interface.rawValue >> UInt32(shift))) }
        b.append(contentsOf: address.bytes)
        return b
    }

    public static func < (a: NodePeer, b: NodePeer) -> Bool { (a.interface, a.address) < (b.interface, b.address) }

    public var description: String { "\(address)%\(interface.rawValue)" }
}
