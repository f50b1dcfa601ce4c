import CFilamentShim
import FilamentCore
import Glibc

/// Small look-ups about interfaces in the calling thread's network namespace.
public enum NetworkInterface {
    /// The kernel's ifindex of interface `name` (if_nametoindex).
    public static func index(named name: String) throws(SystemError) -> InterfaceID {
        let i = if_nametoindex(name)
        if i == 0 { throw SystemError(operation: "if_nametoindex(\(name))", code: errno) }
        return InterfaceID(i)
    }

    /// The name of interface `index` (if_indextoname), or nil if there is none.
    public static func name(of index: InterfaceID) -> String? {
        var buf = [CChar](repeating: 0, count: Int(filament_IFNAMSIZ) + 1)
        guard if_indextoname(index.rawValue, &buf) != nil else { return nil }
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The hardware address of interface `name` (SIOCGIFHWADDR).
    public static func macAddress(named name: String) throws(SystemError) -> MACAddress {
        var out = [UInt8](repeating: 0, count: 6)
        _ = try Syscall.checkReturningErrno("SIOCGIFHWADDR(\(name))", { Int(filament_interface_mac(name, &out)) })
        return MACAddress(bytes: out)!
    }
}
