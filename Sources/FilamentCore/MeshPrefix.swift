/// The one fixed ULA prefix that holds every mesh address: `fd66:696c:616d::/48`
/// ("fil" "am" in ASCII after the ULA `fd`). The remaining 80 bits come from a hash of the
/// node's public key (see docs/identity.md; the hash lives in FilamentCrypto).
public enum MeshPrefix {
    public static let prefix = Prefix(address: IPv6Address(high: 0xFD66_696C_616D_0000, low: 0), length: 48)!
    /// Number of address bytes taken from the key hash.
    public static let hashBytes = 10

    /// The mesh address whose last 80 bits are the first 10 bytes of `hash`. Nil if `hash` is shorter.
    public static func address(fromKeyHash hash: [UInt8]) -> IPv6Address? {
        guard hash.count >= hashBytes else { return nil }
        var bytes: [UInt8] = [0xFD, 0x66, 0x69, 0x6C, 0x61, 0x6D]
        bytes.append(contentsOf: hash[0..<hashBytes])
        return IPv6Address(bytes: bytes)
    }
}
