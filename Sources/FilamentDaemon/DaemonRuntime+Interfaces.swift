import FilamentCore
import FilamentEngine
import FilamentLinux
import FilamentNode

// Mesh interfaces come and go at run time: the netlink monitor reports links and addresses, and
// `reconcileInterfaces` opens a UDP socket on every interface that matches the configured patterns,
// is up and has a usable (non-tentative) link-local address, and closes the others.
extension DaemonRuntime {
    /// The patterns of one transport: the command line's (`--interface`, `--ethernet-interface`)
    /// when given, else the file's `interfaces`.
    static func patterns(_ c: DaemonConfiguration, _ override: [DaemonConfiguration.InterfaceSetting]?,
                         _ transport: DaemonConfiguration.Transport) -> [String] {
        (override ?? c.interfaces).filter { $0.transport == transport }.map(\.pattern)
    }

    /// How link costs are computed on `link` (decision 0815): the `type` of the first configured interface
    /// pattern that matches it and names one, else wireless if the kernel says it is a radio, else wired.
    func linkKind(_ link: LinkInfo) -> LinkKind {
        let explicit = (interfaceOverride ?? configuration.interfaces)
            .first { $0.type != .auto && InterfaceMatcher.glob($0.pattern, matches: link.name) }?.type
        switch explicit ?? .auto {
        case .wired: return .wired
        case .wireless: return .wireless
        case .auto: return WirelessProbe.isWireless(link.name) ? .wireless : .wired
        }
    }

    /// The TUN MTU: the smallest MTU of the matching links minus the encapsulation (81 bytes over UDP,
    /// 35 over raw Ethernet), at least 1280.
    static func automaticTunMTU(links: [LinkInfo], udp: InterfaceMatcher, ethernet: InterfaceMatcher) -> Int {
        let udpLinks = udp.select(links)
        let udpIDs = Set(udpLinks.map(\.interface))
        let payloads = udpLinks.map { $0.mtu - FilamentNode.encapsulationOverhead }
            + ethernet.select(links).filter { !udpIDs.contains($0.interface) }
                .map { $0.mtu + MeshTransport.ethernetHeaderSaving - FilamentNode.encapsulationOverhead }
        guard let smallest = payloads.min() else { return 1280 }
        return max(1280, smallest)
    }

    /// The MTU the node is told a mesh link carries (its check is packet + 81 ≤ MTU). Raw Ethernet
    /// has no outer IPv6 and UDP headers: link MTU + 48. A TUN MTU larger than that minus the
    /// encapsulation (a configured `tun.mtu`, e.g. 65000 like yggdrasil's 65535) means: encapsulated
    /// frames may exceed the link and the kernel fragments the outer UDP datagram (IPv6 source
    /// fragmentation; the next hop reassembles). Decision 0510. With `tun.mtu: auto` a link smaller
    /// than the TUN MTU keeps decision 0802 (ICMPv6 packet too big); raw Ethernet is never fragmented.
    func carriedMTU(_ linkMTU: Int, ethernet: Bool = false) -> Int {
        if ethernet { return linkMTU + MeshTransport.ethernetHeaderSaving }
        guard configuration.tun.mtu != nil else { return linkMTU }
        return min(max(linkMTU, tunMTU + FilamentNode.encapsulationOverhead), Self.largestOuterPacket)
    }

    /// 40-byte IPv6 header + the largest payload length (65,535): the largest outer packet.
    static let largestOuterPacket = 40 + 65_535

    /// TUN read buffer: room for one packet of the TUN MTU plus one byte (a full buffer means truncated).
    static func tunBufferSize(mtu: Int) -> Int { min(65_536, max(4096, mtu + 1)) }

    /// The UDP transport for a link that carries `carried` bytes per outer packet: buffers for the
    /// largest datagram payload (carried minus IPv6 and UDP headers), fewer slots when they are large.
    /// Datagrams that fit the link (`linkMTU` − 48) are sent in runs with UDP segmentation offload
    /// and received with UDP_GRO (decision 0803).
    func udpConfiguration(carried: Int, linkMTU: Int) -> UDPTransport.Configuration {
        var c = UDPTransport.Configuration()
        c.port = configuration.port
        c.segmentationMaxSize = max(0, linkMTU - 48)
        c.receiveOffload = true
        c.bufferSize = max(c.bufferSize, min(65_536, carried - 48))
        // A run of up to 64 datagrams per segmented send (one 64 KB TCP window of 1,452-byte datagrams is 45).
        c.batchSize = 64
        if c.bufferSize > 4096 {
            c.batchSize = 16
            // Room for a few dozen reassembled 64 KB datagrams in flight.
            c.receiveBufferBytes = 4 << 20
            c.sendBufferBytes = 4 << 20
        }
        return c
    }

    /// Interfaces that should carry the mesh now, and whether over raw Ethernet. UDP needs a
    /// non-tentative link-local address; raw Ethernet only needs the link up.
    func wantedInterfaces() -> [(link: LinkInfo, ethernet: Bool)] {
        let usable = Set(monitor.addresses.values.filter { $0.address.high >> 54 == 0x3FA && !$0.isTentative }.map(\.interface))
        return monitor.links.values
            .filter { $0.isUp && $0.interface != tun.interface }
            .sorted { $0.interface < $1.interface }
            .compactMap { link in
                if matcher.matches(link.name) { return usable.contains(link.interface) ? (link, false) : nil }
                return ethernetMatcher.matches(link.name) ? (link, true) : nil
            }
    }

    func reconcileInterfaces(now: Instant) {
        nextReconcile = now + .seconds(5)
        let wanted = wantedInterfaces()
        let wantedIDs = Dictionary(wanted.map { ($0.link.interface, $0.ethernet) }, uniquingKeysWith: { a, _ in a })
        for id in transports.keys.sorted() where wantedIDs[id] != transports[id]?.isEthernet { closeTransport(id, now: now) }
        for (link, ethernet) in wanted where transports[link.interface] != nil && transportMTUs[link.interface] != link.mtu {
            transportMTUs[link.interface] = link.mtu
            log.info("mesh interface \(link.name) mtu \(link.mtu)")
            execute(node.interfaceUp(link.interface, linkMTU: carriedMTU(link.mtu, ethernet: ethernet), kind: linkKinds[link.interface] ?? .wireless, now: now))
        }
        for (link, ethernet) in wanted where transports[link.interface] == nil {
            let carried = carriedMTU(link.mtu, ethernet: ethernet)
            do {
                let t: MeshTransport
                if ethernet {
                    var c = RawEthernetTransport.Configuration()
                    c.bufferSize = max(c.bufferSize, link.mtu + RawEthernetTransport.payloadOverhead)
                    t = .ethernet(try RawEthernetTransport(interfaceName: link.name, configuration: c))
                } else {
                    t = .udp(try UDPTransport(interfaceName: link.name, configuration: udpConfiguration(carried: carried, linkMTU: link.mtu)))
                }
                try loop.watch(t.fileDescriptor, token: Self.udpTokenBase + UInt64(link.interface.rawValue))
                transports[link.interface] = t
                transportMTUs[link.interface] = link.mtu
                let kind = linkKind(link)
                linkKinds[link.interface] = kind
                let fragmented = !ethernet && carried > link.mtu ? ", frames up to \(carried) fragmented" : ""
                log.info("mesh interface \(link.name) up (\(ethernet ? "raw Ethernet" : "udp"), \(kind.rawValue), mtu \(link.mtu)\(fragmented))")
                execute(node.interfaceUp(link.interface, linkMTU: carried, kind: kind, now: now))
            } catch {
                log.warning("cannot open mesh interface \(link.name): \(error) (retrying)")
            }
        }
    }

    func closeTransport(_ id: InterfaceID, now: Instant) {
        guard let t = transports.removeValue(forKey: id) else { return }
        writableInterest.remove(id)
        transportMTUs[id] = nil
        linkKinds[id] = nil
        try? loop.unwatch(t.fileDescriptor)
        execute(node.interfaceDown(id, now: now))
        t.close()
        log.info("mesh interface \(t.interfaceName) down")
    }

    /// SIGHUP: read the configuration file once; re-match interfaces (unless `--interface` was given)
    /// and apply the name and gateway settings that can change while running.
    func reload(now: Instant) {
        if let path = configPath {
            do {
                let fresh = try ConfigurationLoader.load(yaml: ConfigurationFile.read(path))
                if interfaceOverride == nil {
                    configuration.interfaces = fresh.interfaces
                    matcher = InterfaceMatcher(Self.patterns(configuration, nil, .udp))
                    ethernetMatcher = InterfaceMatcher(Self.patterns(configuration, nil, .ethernet))
                    log.info("reloaded interfaces from \(path)")
                    for (id, t) in transports.sorted(by: { $0.key < $1.key }) {
                        guard let link = monitor.links[id], let mtu = transportMTUs[id] else { continue }
                        let kind = linkKind(link)
                        guard kind != linkKinds[id] else { continue }
                        linkKinds[id] = kind
                        log.info("mesh interface \(link.name) now \(kind.rawValue)")
                        execute(node.interfaceUp(id, linkMTU: carriedMTU(mtu, ethernet: t.isEthernet), kind: kind, now: now))
                    }
                }
                reloadNameAndGateway(fresh, now: now)
            } catch {
                log.error("reload of \(path) failed, keeping the running configuration: \(error)")
            }
        }
        reconcileInterfaces(now: now)
    }

    /// The name (announced in node information) and the gateway's bandwidth, probe and drain state
    /// take effect at once; turning gateway mode on or off, another uplink or the IPv6 setting need a
    /// restart (NAT rules and forwarding are set up once) and are logged as such.
    func reloadNameAndGateway(_ fresh: DaemonConfiguration, now: Instant) {
        if fresh.name != configuration.name {
            configuration.name = fresh.name
            answers.name = fresh.name
            log.info("reloaded name: \(fresh.name ?? "(none)")")
        }
        guard !gatewayFromFlags else { return }
        switch (configuration.gateway, fresh.gateway) {
        case (nil, nil):
            return
        case let (old?, new?) where old.uplink == new.uplink && old.ipv6 == new.ipv6:
            configuration.gateway = new
            if new.bandwidthDownKbps != old.bandwidthDownKbps || new.bandwidthUpKbps != old.bandwidthUpKbps {
                var meter = UplinkLoadMeter(bandwidthDownKbps: new.bandwidthDownKbps, bandwidthUpKbps: new.bandwidthUpKbps)
                if let received = Self.readCounter(new.uplink, "rx_bytes"), let sent = Self.readCounter(new.uplink, "tx_bytes") {
                    meter.sample(receivedBytes: received, sentBytes: sent, now: now)
                }
                loadMeter = meter
                log.info("reloaded gateway bandwidth: \(new.bandwidthDownKbps)/\(new.bandwidthUpKbps) kbit/s")
                if let healthy = uplinkHealthy { reportUplink(healthy: healthy, now: now) }
            }
            if new.probe != old.probe {
                if let p = probe { try? loop.unwatch(p.fileDescriptor); probe = nil }
                if let target = new.probe {
                    do { try startProbe(target, uplink: new.uplink, now: now) } catch {
                        log.error("\(error); running without a probe")
                    }
                }
                log.info("reloaded gateway probe: \(new.probe.map { "\($0)" } ?? "none")")
                checkUplink(now: now)
            }
            if new.drained != old.drained {
                execute(node.handle(.setDraining(new.drained), now: now))
                log.info("reloaded gateway drain: \(new.drained ? "drained" : "undrained")")
            }
        default:
            log.warning("gateway mode, uplink or gateway.ipv6 changed in the configuration: restart filamentd to apply it")
        }
    }
}
