import FilamentCore
import FilamentLinux
import Testing

struct MACAddressTests {
    /// A MAC's modified EUI-64 link-local address is the RFC 4291 one (U/L bit flipped, ff:fe inserted).
    @Test func linkLocalAddressIsModifiedEUI64() {
        let mac = MACAddress("02:00:5e:10:20:30")!
        #expect(mac.linkLocalAddress == IPv6Address("fe80::5eff:fe10:2030")!)
        #expect(MACAddress("00:1b:21:aa:bb:cc")!.linkLocalAddress == IPv6Address("fe80::21b:21ff:feaa:bbcc")!)
    }

    /// Every MAC comes back from its link-local address, and addresses that are not EUI-64 link-local
    /// give nil (the daemon never sends a raw frame to a made-up MAC).
    @Test func linkLocalRoundTripAndRejects() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<10_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let mac = MACAddress(rawValue: state >> 16)
            #expect(MACAddress(linkLocal: mac.linkLocalAddress) == mac)
        }
        #expect(MACAddress(linkLocal: IPv6Address("fe80::1")!) == nil)
        #expect(MACAddress(linkLocal: IPv6Address("fd66::5eff:fe10:2030")!) == nil)
        #expect(MACAddress(linkLocal: IPv6Address("fe80:0:0:1::5eff:fe10:2030")!) == nil)
    }

    /// Loading 6 bytes from memory gives the same MAC as the collection initialiser.
    @Test func loadingMatchesBytes() {
        let bytes: [UInt8] = [0x02, 0xAB, 0xCD, 0xEF, 0x01, 0x23, 0xFF, 0xFF]
        let loaded = bytes.withUnsafeBytes { MACAddress(loading: $0.baseAddress!) }
        #expect(loaded == MACAddress(bytes: bytes.prefix(6)))
        #expect(loaded.description == "02:ab:cd:ef:01:23")
    }
}
