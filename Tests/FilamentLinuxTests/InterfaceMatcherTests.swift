import FilamentCore
import FilamentLinux
import Glibc
import Testing

@Suite struct InterfaceMatcherTests {
    /// Names, globs and exclusions select the expected interfaces.
    @Test func selection() {
        let m = InterfaceMatcher(["eth*", "wlan0", "!eth9", "veth[0-3]"])
        #expect(m.matches("eth0"))
        #expect(m.matches("eth12"))
        #expect(!m.matches("eth9"))
        #expect(m.matches("wlan0"))
        #expect(!m.matches("wlan1"))
        #expect(m.matches("veth2"))
        #expect(!m.matches("veth4"))
        #expect(!m.matches("lo"))
        #expect(!InterfaceMatcher([]).matches("eth0"))
    }

    /// `select` keeps matching links in interface-index order, whatever the input order.
    @Test func selectLinks() {
        func link(_ i: UInt32, _ n: String) -> LinkInfo {
            LinkInfo(interface: InterfaceID(i), name: n, isAdministrativelyUp: true, hasCarrier: true, mtu: 1500)
        }
        let links = [link(7, "wlan0"), link(2, "eth0"), link(1, "lo"), link(4, "eth1")]
        #expect(InterfaceMatcher(["eth*", "wlan?"]).select(links).map(\.name) == ["eth0", "eth1", "wlan0"])
        #expect(InterfaceMatcher(["*", "!lo"]).select(links).map(\.interface.rawValue) == [2, 4, 7])
    }

    /// Glob corner cases agree with the written expectations.
    @Test(arguments: [
        ("*", "", true), ("?", "", false), ("a?c", "abc", true), ("a*c", "abbbc", true), ("a*c", "abcd", false),
        ("[!a]x", "bx", true), ("[!a]x", "ax", false), ("[]]", "]", true), ("a\\*", "a*", true), ("a\\*", "ab", false),
        ("*a*a*a*", "aaaa", true), ("[a-", "[a-", true), ("**b", "ab", true),
    ])
    func globCases(pattern: String, name: String, expected: Bool) {
        #expect(InterfaceMatcher.glob(pattern, matches: name) == expected, "\(pattern) vs \(name)")
    }

    /// On 20,000 random patterns and names the matcher agrees with the C library's fnmatch(3).
    @Test func agreesWithFnmatch() {
        var rng = SeededRandom(seed: 0x5eed_f11a)
        let patternAlphabet = Array("ab*?[]!-\\")
        let nameAlphabet = Array("ab-]![*?")
        var disagreements: [String] = []
        var matched = 0
        for _ in 0..<20_000 {
            let p = String((0..<Int(rng.next() % 7)).map { _ in patternAlphabet[Int(rng.next() % UInt64(patternAlphabet.count))] })
            let n = String((0..<Int(rng.next() % 6)).map { _ in nameAlphabet[Int(rng.next() % UInt64(nameAlphabet.count))] })
            let expected = fnmatch(p, n, 0) == 0
            if expected { matched += 1 }
            if InterfaceMatcher.glob(p, matches: n) != expected, disagreements.count < 10 {
                disagreements.append("pattern \(p) name \(n) fnmatch \(expected)")
            }
        }
        #expect(disagreements.isEmpty, "\(disagreements)")
        #expect(matched > 1_000, "the generator must produce matching pairs too (\(matched))")
    }
}
