import FilamentCore

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
