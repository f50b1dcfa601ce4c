import FilamentCore

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
