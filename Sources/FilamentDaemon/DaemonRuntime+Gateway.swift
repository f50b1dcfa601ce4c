import FilamentCore
import FilamentEngine
import FilamentLinux
import FilamentNode
import Glibc

// Gateway mode (docs/gateways.md, decision 0810).
//
// Gateway side: IP forwarding on, the lease pool routed into the TUN device, the NAT table
// installed; uplink health = a default route through the uplink in the kernel's main table (netlink
// monitor), reported to the engine as `.uplinkChanged` whenever it flips.
// Node side: while the engine has a selected gateway, `::/0` and `0.0.0.0/0` point into the TUN
// device (metric 1070, below any default route the host already has) and the node's derived IPv4
// lease is on it; both go when no gateway is left.
extension DaemonRuntime {
    /// The metric of the mesh's default routes: a host with its own default route keeps using it.
    static let defaultRouteMetric: UInt32 = 1070

    /// Gateway set-up at start (after the TUN device). Throws if forwarding or NAT cannot be set up.
    func startGateway(now: Instant) throws(DaemonFailure) {
        guard let g = configuration.gateway else { return }
        if g.ipv4Pool != GatewayTunnel.defaultPool {
            log.warning("gateway.ipv4_pool \(g.ipv4Pool): nodes derive their addresses in \(GatewayTunnel.defaultPool); using that pool")
        }
        if let target = g.probe { try startProbe(target, uplink: g.uplink, now: now) }
        loadMeter = UplinkLoadMeter(bandwidthDownKbps: g.bandwidthDownKbps, bandwidthUpKbps: g.bandwidthUpKbps)
        sampleUplinkLoad(now: now)
        node.gatewayRole = GatewayRole(ipv4Pool: GatewayTunnel.defaultPool, offersIPv6: g.ipv6)
        for (path, name) in [("/proc/sys/net/ipv4/ip_forward", "IPv4"), ("/proc/sys/net/ipv6/conf/all/forwarding", "IPv6")] {
            guard Self.writeSysctl(path, "1") else { throw DaemonFailure("cannot enable \(name) forwarding (\(path))") }
        }
        do {
            try netlink.replaceRoute(KernelRoute(prefix: GatewayTunnel.defaultPool, interface: tun.interface, metric: Self.kernelRouteMetric))
        } catch { throw DaemonFailure("cannot route the lease pool into \(tun.name): \(error)") }
        try GatewayFirewall(uplink: g.uplink, ipv4Pool: GatewayTunnel.defaultPool, meshPrefix: MeshPrefix.prefix, natIPv6: g.ipv6).install()
        firewallInstalled = true
        log.info("gateway: uplink \(g.uplink), NAT table inet \(GatewayFirewall.table) installed")
        if g.drained { execute(node.handle(.setDraining(true), now: now)) }
        checkUplink(now: now)
    }

    /// Opens the uplink probe, watches its socket and sends the first probe.
    func startProbe(_ target: IPv6Address, uplink: String, now: Instant) throws(DaemonFailure) {
        let p = try GatewayProbe(target: target, uplink: uplink, now: now)
        do { try loop.watch(p.fileDescriptor, token: Self.probeToken) } catch { throw DaemonFailure("gateway probe: \(error)") }
        probe = p
        p.sendIfDue(now: now)
    }

    /// Tells the engine the uplink's health, the configured bandwidth and the measured load.
    func reportUplink(healthy: Bool, now: Instant) {
        guard let g = configuration.gateway else { return }
        execute(node.handle(.uplinkChanged(UplinkStatus(healthy: healthy, bandwidthDownKbps: g.bandwidthDownKbps,
                                                        bandwidthUpKbps: g.bandwidthUpKbps, load: loadMeter?.load ?? 0)), now: now))
    }

    static func writeSysctl(_ path: String, _ value: String) -> Bool {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return value.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, value.utf8.count) } == value.utf8.count
    }

    /// Healthy when the kernel has a default route (either family) through the uplink interface and,
    /// with `gateway.probe`, the probe address answered within the probe window.
    func checkUplink(now: Instant) {
        guard let g = configuration.gateway else { return }
        probe?.sendIfDue(now: now)
        let uplink = monitor.links.values.first { $0.name == g.uplink }
        let routeOK = uplink.map { link in
            link.isUp && monitor.currentRoutes.contains { $0.isDefault && $0.interface == link.interface }
        } ?? false
        let probeOK = probe.map { $0.answering(now: now) } ?? true
        if !probeOK, routeOK, uplinkHealthy != false { log.info("gateway: probe \(g.probe.map { "\($0)" } ?? "") not answering") }
        let healthy = routeOK && probeOK
        guard healthy != uplinkHealthy else { return }
        uplinkHealthy = healthy
        log.info("gateway: uplink \(g.uplink) \(healthy ? "healthy (default route present)" : "unhealthy (no default route, or the probe does not answer); withdrawing")")
        reportUplink(healthy: healthy, now: now)
    }

    /// Samples the uplink's byte counters (at every interface reconciliation, about every 5 s) and
    /// tells the engine the load when it changed (the engine re-advertises only on a change of 10 or
    /// more points, or a health change).
    func sampleUplinkLoad(now: Instant) {
        guard let g = configuration.gateway, var meter = loadMeter,
              let received = Self.readCounter(g.uplink, "rx_bytes"), let sent = Self.readCounter(g.uplink, "tx_bytes")
        else { return }
        let before = meter.load
        meter.sample(receivedBytes: received, sentBytes: sent, now: now)
        loadMeter = meter
        guard meter.load != before, let healthy = uplinkHealthy else { return }
        log.debug("gateway: uplink load \(meter.load) %")
        reportUplink(healthy: healthy, now: now)
    }

    /// `/sys/class/net/IF/statistics/NAME` (the daemon's network namespace's sysfs), nil if unreadable.
    static func readCounter(_ interface: String, _ name: String) -> UInt64? {
        guard !interface.contains("/"), !interface.hasPrefix(".") else { return nil }
        let fd = open("/sys/class/net/\(interface)/statistics/\(name)", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { return nil }
        let digits = buffer[0..<n].prefix { $0 >= 0x30 && $0 <= 0x39 }
        return digits.isEmpty ? nil : UInt64(String(decoding: digits, as: UTF8.self))
    }

    /// The engine's selected gateway changed: default routes and the lease follow (not on gateways,
    /// whose own default route leads to their uplink).
    func selectedGatewayChanged(_ gateway: NodeID?) {
        guard configuration.gateway == nil else { return }
        let want = gateway != nil
        guard want != defaultRoutesInstalled else { return }
        let routes = [Prefix.defaultIPv6, Prefix.defaultIPv4].map { KernelRoute(prefix: $0, interface: tun.interface, metric: Self.defaultRouteMetric) }
        if want {
            do {
                try netlink.addAddress(node.ipv4Lease, prefixLength: 32, interface: tun.interface, skipDAD: true)
                for r in routes { try netlink.replaceRoute(r) }
                defaultRoutesInstalled = true
                log.info("gateway \(gateway!.hex.prefix(16)) selected: default routes into \(tun.name), IPv4 lease \(node.ipv4Lease)")
            } catch {
                log.warning("cannot install the default routes into \(tun.name): \(error)")
            }
        } else {
            removeDefaultRoutes()
            log.info("no gateway: default routes into \(tun.name) removed")
        }
    }

    func removeDefaultRoutes() {
        guard defaultRoutesInstalled else { return }
        defaultRoutesInstalled = false
        for p in [Prefix.defaultIPv6, Prefix.defaultIPv4] {
            do { try netlink.deleteRoute(KernelRoute(prefix: p, interface: tun.interface, metric: Self.defaultRouteMetric)) } catch {
                log.warning("cannot remove the default route \(p) dev \(tun.name): \(error)")
            }
        }
        do { try netlink.removeAddress(node.ipv4Lease, prefixLength: 32, interface: tun.interface) } catch {
            log.warning("cannot remove the IPv4 lease from \(tun.name): \(error)")
        }
    }

    /// At exit (and on start-up failure after the table was made): the NAT table goes.
    func stopGateway() {
        removeDefaultRoutes()
        guard firewallInstalled else { return }
        firewallInstalled = false
        do { try GatewayFirewall.remove(); log.info("gateway: NAT table removed") } catch { log.warning("\(error)") }
    }
}
