import Testing
@testable import FilamentCore

@Suite struct IPv6AddressTests {
    /// Text forms follow RFC 5952: the longest zero run is compressed, hex is lower case.
    @Test(arguments: [
        ("fd66:696c:616d::1", "fd66:696c:616d::1"),
        ("FD66:0:0:0:0:0:0:1", "fd66::1"),
        ("::", "::"),
        ("1:0:0:2:0:0:0:3", "1:0:0:2::3"),
        ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"),
        ("192.0.2.1", "192.0.2.1"),
    ])
    func roundTripsText(input: String, expected: String) throws {
        let a = try #require(IPv6Address(input))
        #expect(a.description == expected)
        #expect(IPv6Address(a.description) == a)
    }

    /// Malformed text is rejected instead of being guessed at.
    @Test(arguments: ["", ":", "1:::2", "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9", "g::", "256.1.1.1", "1.2.3", "1.2.3.4.5"])
    func rejectsMalformed(input: String) {
        #expect(IPv6Address(input) == nil)
    }

    /// Bytes and words agree, in network order.
    @Test func bytesRoundTrip() throws {
        let bytes: [UInt8] = Array(0..<16)
        let a = try #require(IPv6Address(bytes: bytes))
        #expect(a.bytes == bytes)
        #expect(a.byte(0) == 0 && a.byte(15) == 15)
        #expect(a.high == 0x0001_0203_0405_0607)
        #expect(IPv6Address(bytes: [UInt8](repeating: 0, count: 15)) == nil)
    }

    /// Masking clears exactly the bits after the prefix length, on both halves.
    @Test func masking() throws {
        let a = try #require(IPv6Address("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"))
        #expect(a.masked(to: 0) == .unspecified)
        #expect(a.masked(to: 128) == a)
        #expect(a.masked(to: 64).description == "ffff:ffff:ffff:ffff::")
        #expect(a.masked(to: 65).description == "ffff:ffff:ffff:ffff:8000::")
        #expect(a.masked(to: 1).description == "8000::")
    }
}

@Suite struct PrefixTests {
    /// IPv4 prefixes are IPv4-mapped, print in IPv4 form, and contain their hosts.
    @Test func ipv4Prefixes() throws {
        let p = try #require(Prefix("100.64.0.0/10"))
        #expect(p.isIPv4)
        #expect(p.length == 106)
        #expect(p.description == "100.64.0.0/10")
        #expect(p.contains(IPv6Address(ipv4: 100, 100, 1, 1)))
        #expect(!p.contains(IPv6Address(ipv4: 100, 128, 0, 1)))
        #expect(Prefix.defaultIPv4.description == "0.0.0.0/0")
        #expect(Prefix.defaultIPv6.description == "::/0")
    }

    /// Prefix text with host bits set or an out-of-range length is refused.
    @Test(arguments: ["fd00::1/8", "10.0.0.1/8", "::/129", "0.0.0.0/33", "fd00::", "fd00::/x"])
    func rejectsBadPrefixes(text: String) {
        #expect(Prefix(text) == nil)
    }

    /// The mesh prefix is fd66:696c:616d::/48 and an address built from a hash lies inside it.
    @Test func meshPrefix() throws {
        #expect(MeshPrefix.prefix.description == "fd66:696c:616d::/48")
        let a = try #require(MeshPrefix.address(fromKeyHash: Array(1...10)))
        #expect(a.description == "fd66:696c:616d:102:304:506:708:90a")
        #expect(MeshPrefix.prefix.contains(a))
        #expect(MeshPrefix.address(fromKeyHash: [1, 2, 3]) == nil)
        #expect(RouterID(meshAddress: a).rawValue == 0x0304_0506_0708_090A)
    }
}
