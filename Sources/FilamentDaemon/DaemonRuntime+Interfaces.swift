import FilamentCore
import FilamentLinux
import FilamentNode

// Mesh interfaces come and go at run time: the netlink monitor reports links and addresses, and
// `reconcileInterfaces` opens a UDP socket on every interface that matches the configured patterns,
// is up and has a usable (non-tentative) link-local address, and closes the others.
extension DaemonRuntime {
    static func udpPatterns(_ c: DaemonConfiguration, _ override: [String]?, _ log: DaemonLog) -> [String] {
        if let override { return override }
        for i in c.interfaces where i.transport == .ethernet {
            log.warning("interface '\(i.pattern)': the raw Ethernet transport is not implemented by this version; skipped")
        }
        return c.interfaces.filter { $0.transport == .udp }.map(\.pattern)
    }

    /// The TUN MTU: the smallest MTU of the matching links minus the encapsulation, at least 1280.
    static func automaticTunMTU(links: [LinkInfo], matcher: InterfaceMatcher) -> Int {
        let mtus = matcher.select(links).map(\.mtu)
        guard let smallest = mtus.min() else { return 1280 }
        return max(1280, smallest - FilamentNode.encapsulationOverhead)
    }

    /// Interfaces that should carry the mesh now.
    func wantedInterfaces() -> [LinkInfo] {
        let usable = Set(monitor.addresses.values.filter { $0.address.high >> 54 == 0x3FA && !$0.isTentative }.map(\.interface))
        return monitor.links.values
            .filter { $0.isUp && $0.interface != tun.interface && matcher.matches($0.name) && usable.contains($0.interface) }
            .sorted { $0.interface < $1.interface }
    }

    func reconcileInterfaces(now: Instant) {
        nextReconcile = now + .seconds(5)
        let wanted = wantedInterfaces()
        let wantedIDs = Set(wanted.map(\.interface))
        for id in transports.keys.sorted() where !wantedIDs.contains(id) { closeTransport(id, now: now) }
        for link in wanted where transports[link.interface] != nil && transportMTUs[link.interface] != link.mtu {
            transportMTUs[link.interface] = link.mtu
            log.info("mesh interface \(link.name) mtu \(link.mtu)")
            execute(node.interfaceUp(link.interface, linkMTU: link.mtu, now: now))
        }
        for link in wanted where transports[link.interface] == nil {
            var c = UDPTransport.Configuration()
            c.port = configuration.port
            do {
                let t = try UDPTransport(interfaceName: link.name, configuration: c)
                try loop.watch(t.fileDescriptor, token: Self.udpTokenBase + UInt64(link.interface.rawValue))
                transports[link.interface] = t
                transportMTUs[link.interface] = link.mtu
                log.info("mesh interface \(link.name) up (mtu \(link.mtu))")
                execute(node.interfaceUp(link.interface, linkMTU: link.mtu, now: now))
            } catch {
                log.warning("cannot open mesh interface \(link.name): \(error) (retrying)")
            }
        }
    }

    func closeTransport(_ id: InterfaceID, now: Instant) {
        guard let t = transports.removeValue(forKey: id) else { return }
        writableInterest.remove(id)
        transportMTUs[id] = nil
        try? loop.unwatch(t.fileDescriptor)
        execute(node.interfaceDown(id, now: now))
        t.close()
        log.info("mesh interface \(t.interfaceName) down")
    }

    /// SIGHUP: read the configuration file again and re-match interfaces (other settings need a restart).
    func reload(now: Instant) {
        if interfaceOverride == nil, let path = configPath {
            do {
                let text = try ConfigurationFile.read(path)
                configuration.interfaces = try ConfigurationLoader.load(yaml: text).interfaces
                matcher = InterfaceMatcher(Self.udpPatterns(configuration, nil, log))
                log.info("reloaded interfaces from \(path)")
            } catch {
                log.error("reload of \(path) failed, keeping the running configuration: \(error)")
            }
        }
        reconcileInterfaces(now: now)
    }
}
