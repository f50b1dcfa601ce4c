import FilamentCore
import FilamentCrypto

/// Everything `filamentd` can be told, with its defaults. `docs/configuration.md` documents each
/// setting; `ConfigurationLoader` reads it from YAML and command-line flags override it.
public struct DaemonConfiguration: Equatable, Sendable {
    /// Friendly name announced to the mesh (at most 32 bytes of UTF-8).
    public var name: String? = nil
    /// Where the key file and counters live (mode 0700).
    public var stateDirectory: String = "/var/lib/filament"
    /// The control socket `filamentctl` talks to.
    public var controlSocket: String = "/run/filament/control.sock"
    /// Group that may use administrative control requests (the socket is 0660).
    public var controlGroup: String? = nil
    /// The 32-byte network key (PSK) of a private mesh; nil joins the open mesh.
    public var networkKeyFile: String? = nil
    /// Mesh interfaces, by name or glob.
    public var interfaces: [InterfaceSetting] = []
    /// UDP port of the mesh protocol.
    public var port: UInt16 = DaemonConfiguration.defaultPort
    /// The TUN device that carries the node's mesh address.
    public var tun = TunSetting()
    /// Prefixes of devices behind this bulb, announced to the mesh.
    public var attachedPrefixes: [Prefix] = []
    /// Client-side interfaces (the bulb's access point) whose prefixes are announced.
    public var clientInterfaces: [String] = []
    /// Present when this bulb is an internet gateway.
    public var gateway: GatewaySetting? = nil
    /// Gateways this node will use; empty accepts any gateway whose advert verifies.
    public var trustedGateways: [NodeID] = []
    /// A gateway to prefer while it is usable.
    public var preferredGateway: NodeID? = nil
    /// Prometheus exposition, e.g. `127.0.0.1:9465`; nil disables it.
    public var metricsListen: String? = nil
    /// error, warning, info or debug.
    public var logLevel: LogLevel = .info
    /// Transport cipher of link sessions (decision 0804).
    public var linkCipher: LinkCipher = .auto

    public static let defaultPort: UInt16 = 6717

    public init() {}

    public enum LogLevel: String, CaseIterable, Sendable { case error, warning, info, debug }

    public enum LinkCipher: String, CaseIterable, Sendable {
        /// AES-256-GCM with neighbours that offer it, when this CPU has AES instructions; else ChaCha20-Poly1305.
        case auto
        /// Always ChaCha20-Poly1305 (offers nothing else).
        case chacha20Poly1305 = "chacha20-poly1305"
    }

    public struct InterfaceSetting: Equatable, Sendable {
        /// An interface name or a glob such as `wlan*`.
        public var pattern: String
        public var transport: Transport
        /// How link costs are computed on it (babeld's `type`); `auto` asks the kernel (decision 0815).
        public var type: LinkType
        public init(pattern: String, transport: Transport = .udp, type: LinkType = .auto) {
            self.pattern = pattern; self.transport = transport; self.type = type
        }
    }

    public enum LinkType: String, CaseIterable, Sendable {
        /// Wireless when the kernel reports a wireless device (`/sys/class/net/NAME/wireless` or
        /// `phy80211`), wired otherwise (Ethernet, veth, bridges).
        case auto
        /// Fixed link cost while the neighbour is up: for cables.
        case wired
        /// ETX-style cost from the hello history and IHUs: for radio.
        case wireless
    }

    public enum Transport: String, CaseIterable, Sendable {
        /// IPv6 link-local UDP.
        case udp
        /// Raw Ethernet frames, EtherType 0x88B5.
        case ethernet
    }

    public struct TunSetting: Equatable, Sendable {
        public var name: String = "fil0"
        /// nil: chosen from the smallest mesh link MTU minus the encapsulation overhead.
        public var mtu: Int? = nil
        public init() {}
    }

    public struct GatewaySetting: Equatable, Sendable {
        /// The interface with the internet uplink.
        public var uplink: String
        public var bandwidthDownKbps: UInt32
        public var bandwidthUpKbps: UInt32
        /// An address probed to check the uplink, in addition to the kernel's default route.
        public var probe: IPv6Address? = nil
        /// Pool of IPv4 addresses leased to nodes that choose this gateway.
        public var ipv4Pool: Prefix = Prefix("100.64.0.0/10")!
        /// Also offer IPv6 egress.
        public var ipv6: Bool = true
        /// Start drained (no new flows).
        public var drained: Bool = false
        public init(uplink: String, bandwidthDownKbps: UInt32, bandwidthUpKbps: UInt32) {
            self.uplink = uplink; self.bandwidthDownKbps = bandwidthDownKbps; self.bandwidthUpKbps = bandwidthUpKbps
        }
    }
}

extension DaemonConfiguration {
    /// The link layer's settings from this configuration (decision 0804: `link_cipher`).
    public var linkConfiguration: LinkConfiguration {
        var l = LinkConfiguration()
        l.allowAES256GCM = linkCipher == .auto
        return l
    }

    /// What `link_cipher` means on this machine, for the start-up log and `check-config`.
    public var linkCipherSummary: String {
        switch linkCipher {
        case .chacha20Poly1305: return "ChaCha20-Poly1305 with every neighbour"
        case .auto:
            return TransportCipher.aes256GCMAvailable
                ? "AES-256-GCM with neighbours that offer it (this CPU has AES instructions), else ChaCha20-Poly1305"
                : "ChaCha20-Poly1305 (no AES instructions on this CPU)"
        }
    }
}
