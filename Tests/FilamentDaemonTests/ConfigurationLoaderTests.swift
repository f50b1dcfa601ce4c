import FilamentCore
import Testing
@testable import FilamentDaemon

@Suite struct ConfigurationLoaderTests {
    /// A complete file sets every setting it names and leaves the others at their defaults.
    @Test func fullFile() throws {
        let yaml = """
        # a gateway bulb
        name: roof-gateway
        state_dir: /var/lib/filament
        network_key_file: /etc/filament/network.key
        interfaces:
          - wlan0
          - name: "eth*"
            transport: ethernet
            type: wired
        port: 6800
        tun:
          name: mesh0
          mtu: 1380
        attached_prefixes: [fd12:3456::/64, 192.168.4.0/24]
        gateway:
          uplink: eth9
          bandwidth: 100M/20M
          probe: 192.0.2.1
          ipv4_pool: 100.64.0.0/16
        trusted_gateways:
          - 0101010101010101010101010101010101010101010101010101010101010101
        log_level: debug
        """
        let c = try ConfigurationLoader.load(yaml: yaml)
        #expect(c.name == "roof-gateway")
        #expect(c.networkKeyFile == "/etc/filament/network.key")
        #expect(c.interfaces == [.init(pattern: "wlan0"), .init(pattern: "eth*", transport: .ethernet, type: .wired)])
        #expect(c.port == 6800)
        #expect(c.tun.name == "mesh0" && c.tun.mtu == 1380)
        #expect(c.attachedPrefixes.map(\.description) == ["fd12:3456::/64", "192.168.4.0/24"])
        let g = try #require(c.gateway)
        #expect(g.uplink == "eth9" && g.bandwidthDownKbps == 100_000 && g.bandwidthUpKbps == 20_000)
        #expect(g.probe?.description == "192.0.2.1")
        #expect(g.ipv4Pool.description == "100.64.0.0/16")
        #expect(g.ipv6)
        #expect(c.trustedGateways.count == 1)
        #expect(c.logLevel == .debug)
        #expect(c.controlSocket == DaemonConfiguration().controlSocket)
    }

    /// An interface's link type (decision 0815) is auto unless given; a wrong one is an error on its line.
    @Test func interfaceLinkType() throws {
        let c = try ConfigurationLoader.load(yaml: "interfaces:\n  - name: wlan0\n    type: wireless\n  - veth*\n")
        #expect(c.interfaces == [.init(pattern: "wlan0", type: .wireless), .init(pattern: "veth*")])
        #expect(c.interfaces[1].type == .auto)
        do {
            _ = try ConfigurationLoader.load(yaml: "interfaces:\n  - name: eth0\n    type: copper\n")
            Issue.record("expected an error")
        } catch {
            #expect(error.errors.map(\.line) == [3])
            #expect(error.errors[0].message == "'type' must be auto, wired or wireless (got 'copper')")
        }
    }

    /// An empty file is a valid configuration of defaults.
    @Test func emptyFileIsDefaults() throws {
        #expect(try ConfigurationLoader.load(yaml: "") == DaemonConfiguration())
        #expect(try ConfigurationLoader.load(yaml: "# nothing\n") == DaemonConfiguration())
    }

    /// Every problem is reported, each with its line, in plain words.
    @Test func collectsErrorsWithLines() {
        let yaml = """
        name: ok
        intefaces: [wlan0]
        port: 70000
        gateway:
          uplink: eth1
          bandwidth: fast
        attached_prefixes: [fd12::1/64]
        """
        do {
            _ = try ConfigurationLoader.load(yaml: yaml)
            Issue.record("expected errors")
        } catch {
            let lines = error.errors.map(\.line)
            #expect(lines == [2, 3, 6, 4, 7])
            #expect(error.errors[0].message == "unknown setting 'intefaces'; did you mean 'interfaces'?")
            #expect(error.errors[1].message.contains("1-65535"))
            #expect(error.errors[2].message.contains("DOWN/UP"))
            #expect(error.errors[3].message.contains("needs 'bandwidth'"))
            #expect(error.errors[4].message.contains("host bits"))
            #expect(error.description.hasPrefix("line 2: unknown setting"))
        }
    }

    /// Broken YAML is an error that names the line, not a crash.
    @Test func brokenYAML() {
        do {
            _ = try ConfigurationLoader.load(yaml: "name: a\n  - b: [\n")
            Issue.record("expected an error")
        } catch {
            #expect(error.errors.count == 1)
            #expect(error.errors[0].message.hasPrefix("not valid YAML"))
            #expect(error.errors[0].line != nil)
        }
    }

    /// Bandwidth accepts k/M/G suffixes and plain kbit/s, and refuses zero, garbage and overflow.
    @Test func bandwidth() {
        #expect(ConfigurationLoader.parseBandwidth("100M/20M")! == (100_000, 20_000))
        #expect(ConfigurationLoader.parseBandwidth("1G/512k")! == (1_000_000, 512))
        #expect(ConfigurationLoader.parseBandwidth("50000/10000")! == (50_000, 10_000))
        #expect(ConfigurationLoader.parseBandwidth("0/1M") == nil)
        #expect(ConfigurationLoader.parseBandwidth("100M") == nil)
        #expect(ConfigurationLoader.parseBandwidth("9999999G/1M") == nil)
        #expect(ConfigurationLoader.parseBandwidth("x/y") == nil)
    }

    /// Wrong shapes (a list where a value belongs, a bad key, a non-absolute path) are errors.
    @Test func wrongShapes() {
        let yaml = """
        state_dir: relative/dir
        tun: [a]
        preferred_gateway: abc
        log_level: loud
        """
        #expect(throws: ConfigurationErrors.self) { try ConfigurationLoader.load(yaml: yaml) }
        do { _ = try ConfigurationLoader.load(yaml: yaml) } catch {
            #expect(error.errors.map(\.line) == [1, 2, 3, 4])
        }
    }

    /// `link_cipher` (decision 0804): auto by default (AES-256-GCM allowed), chacha20-poly1305 pins
    /// ChaCha20-Poly1305; anything else is an error naming the line and the choices; a typo of the key is caught.
    @Test func linkCipher() throws {
        #expect(DaemonConfiguration().linkCipher == .auto)
        #expect(DaemonConfiguration().linkConfiguration.allowAES256GCM)
        let pinned = try ConfigurationLoader.load(yaml: "link_cipher: chacha20-poly1305\n")
        #expect(pinned.linkCipher == .chacha20Poly1305)
        #expect(!pinned.linkConfiguration.allowAES256GCM)
        #expect(try ConfigurationLoader.load(yaml: "link_cipher: auto\n").linkCipher == .auto)
        do {
            _ = try ConfigurationLoader.load(yaml: "name: x\nlink_cipher: aes\nlink_ciper: auto\n")
            Issue.record("expected errors")
        } catch {
            #expect(error.errors.map(\.line) == [2, 3])
            #expect(error.errors[0].message == "'link_cipher' must be one of auto, chacha20-poly1305 (got 'aes')")
            #expect(error.errors[1].message == "unknown setting 'link_ciper'; did you mean 'link_cipher'?")
        }
    }
}
