import FilamentEngine
import FilamentControl
import FilamentCore
import FilamentLinux
import FilamentState
import Glibc

// The `doctor` control command: what the daemon can see of its own health, each problem with the fix
// an operator can apply. filamentctl adds the one check only it can make (is the daemon reachable).
extension DaemonRuntime {
    func doctor() -> [DoctorCheck] {
        var checks: [DoctorCheck] = []
        let s = node.snapshot()

        // Mesh interfaces: matched, up, link-local address past DAD, socket open.
        let patterns = (interfaceOverride ?? configuration.interfaces).map(\.pattern)
        let matching = monitor.links.values.filter { $0.interface != tun.interface && (matcher.matches($0.name) || ethernetMatcher.matches($0.name)) }
            .sorted { $0.name < $1.name }
        if matching.isEmpty {
            checks.append(DoctorCheck(check: "mesh interfaces", ok: false,
                                      detail: "no interface matches \(patterns.isEmpty ? "(no patterns)" : patterns.joined(separator: ", "))",
                                      fix: "set 'interfaces' in the configuration to the bulb's mesh link (e.g. [\"wlan0\"]), then 'filamentctl reload'"))
        }
        for link in matching {
            let linkLocal = monitor.addresses.values.filter { $0.interface == link.interface && $0.address.high >> 54 == 0x3FA }
            if !link.isUp {
                checks.append(DoctorCheck(check: "interface \(link.name)", ok: false,
                                          detail: link.isAdministrativelyUp ? "no carrier" : "down",
                                          fix: link.isAdministrativelyUp ? "check the cable or radio association of \(link.name)" : "ip link set \(link.name) up"))
            } else if ethernetMatcher.matches(link.name) && !matcher.matches(link.name) {
                checks.append(DoctorCheck(check: "interface \(link.name)", ok: transports[link.interface] != nil,
                                          detail: transports[link.interface] != nil ? "up, raw Ethernet open, \(linkKinds[link.interface]?.rawValue ?? "?") link costs" : "up, raw Ethernet socket not open",
                                          fix: transports[link.interface] != nil ? nil : "see the daemon log (journalctl -u filamentd) for the socket error"))
            } else if linkLocal.isEmpty {
                checks.append(DoctorCheck(check: "interface \(link.name)", ok: false, detail: "up, but no IPv6 link-local address",
                                          fix: "sysctl -w net.ipv6.conf.\(link.name).disable_ipv6=0 (and addr_gen_mode=0), then ip link set \(link.name) down/up"))
            } else if linkLocal.allSatisfy(\.isTentative) {
                checks.append(DoctorCheck(check: "DAD on \(link.name)", ok: false, detail: "link-local address still tentative (duplicate address detection)",
                                          fix: "wait a few seconds; if it stays tentative another host uses the same address: give \(link.name) another MAC address"))
            } else {
                let open = transports[link.interface] != nil
                checks.append(DoctorCheck(check: "interface \(link.name)", ok: open,
                                          detail: open ? "up, DAD done, mesh socket open, \(linkKinds[link.interface]?.rawValue ?? "?") link costs" : "up, DAD done, but no mesh socket",
                                          fix: open ? nil : "see the daemon log (journalctl -u filamentd) for the socket error"))
            }
        }

        // Neighbours: an open interface with nobody on it.
        let up = s.neighbours.filter(\.isUp).count
        if !transports.isEmpty {
            checks.append(DoctorCheck(check: "neighbours", ok: up > 0, detail: "\(up) neighbour\(up == 1 ? "" : "s")",
                                      fix: up > 0 ? nil : "no bulb answers on the mesh interfaces: check the others run filamentd on the same link, hold the same network key, and that UDP port \(configuration.port) is not filtered"))
        }

        // TUN device and the mesh route into it.
        let tunLink = monitor.links[tun.interface]
        checks.append(DoctorCheck(check: "TUN \(tun.name)", ok: tunLink?.isAdministrativelyUp == true,
                                  detail: tunLink == nil ? "missing" : (tunLink!.isAdministrativelyUp ? "present, up, mtu \(tunLink!.mtu)" : "down"),
                                  fix: tunLink?.isAdministrativelyUp == true ? nil : "ip link set \(tun.name) up; if it is missing, restart filamentd (modprobe tun first)"))
        let kernel = monitor.currentRoutes
        let meshRoute = kernel.contains { $0.prefix == MeshPrefix.prefix && $0.interface == tun.interface }
        let missing = kernelRoutes.sorted { "\($0)" < "\($1)" }.filter { p in !kernel.contains { $0.prefix == p && $0.interface == tun.interface } }
        checks.append(DoctorCheck(check: "kernel routes", ok: meshRoute && missing.isEmpty,
                                  detail: meshRoute ? (missing.isEmpty ? "\(MeshPrefix.prefix) and \(kernelRoutes.count) attached prefix route\(kernelRoutes.count == 1 ? "" : "s") via \(tun.name)"
                                                                      : "missing: \(missing.map { "\($0)" }.joined(separator: ", "))")
                                                     : "no route for \(MeshPrefix.prefix) via \(tun.name)",
                                  fix: meshRoute && missing.isEmpty ? nil : "ip -6 route replace \(meshRoute ? "\(missing[0])" : "\(MeshPrefix.prefix)") dev \(tun.name), or restart filamentd"))

        // Forwarding: a gateway or a bulb with attached networks forwards in the kernel.
        if configuration.gateway != nil || !configuration.attachedPrefixes.isEmpty {
            var wanted = [("net.ipv6.conf.all.forwarding", "/proc/sys/net/ipv6/conf/all/forwarding")]
            if configuration.gateway != nil { wanted.append(("net.ipv4.ip_forward", "/proc/sys/net/ipv4/ip_forward")) }
            let off = wanted.filter { Self.readSysctl($0.1) != "1" }.map(\.0)
            checks.append(DoctorCheck(check: "forwarding sysctls", ok: off.isEmpty,
                                      detail: off.isEmpty ? wanted.map { "\($0.0)=1" }.joined(separator: ", ") : "off: \(off.joined(separator: ", "))",
                                      fix: off.isEmpty ? nil : off.map { "sysctl -w \($0)=1" }.joined(separator: "; ") + " (and persist it in /etc/sysctl.d/)"))
        }

        // Key files: the identity and the network key readable by the daemon only.
        var keyFiles = ["\(state.path)/\(IdentityFile.defaultName)"]
        if let k = configuration.networkKeyFile { keyFiles.append(k) }
        for path in keyFiles {
            var st = stat()
            guard stat(path, &st) == 0 else {
                checks.append(DoctorCheck(check: "key file \(path)", ok: false, detail: "cannot stat: \(String(cString: strerror(errno)))",
                                          fix: "restore the file from a backup"))
                continue
            }
            let loose = st.st_mode & 0o077 != 0 || st.st_uid != geteuid()
            checks.append(DoctorCheck(check: "key file \(path)", ok: !loose, detail: "mode \(String(st.st_mode & 0o777, radix: 8)), owner uid \(st.st_uid)",
                                      fix: loose ? "chown \(geteuid()) \(path); chmod 600 \(path)" : nil))
        }

        // Gateway: the uplink, or (for everyone else) whether an internet gateway is selected.
        if let g = configuration.gateway {
            let healthy = uplinkHealthy ?? false
            checks.append(DoctorCheck(check: "gateway uplink \(g.uplink)", ok: healthy,
                                      detail: healthy ? "default route present\(g.probe != nil ? ", probe answers" : "")" : "no default route through \(g.uplink)\(g.probe != nil ? " or the probe does not answer" : "")",
                                      fix: healthy ? nil : "check that \(g.uplink) is up and has a default route (ip route show default; ip -6 route show default)\(g.probe.map { ", and that \($0) answers ping" } ?? "")"))
        } else {
            let selected = s.selectedGateway
            checks.append(DoctorCheck(check: "internet gateway", ok: selected != nil,
                                      detail: selected.map { g in "using \(s.gateways.first { $0.node == g }?.name ?? String(g.hex.prefix(8)))" } ?? "none selected (\(s.gateways.count) known)",
                                      fix: selected != nil ? nil : (s.gateways.isEmpty ? "no bulb offers internet: configure 'gateway' on a bulb with an uplink" : "every known gateway is unhealthy, draining or not trusted: run 'filamentctl gateways' and check 'trusted_gateways'")))
        }
        return checks
    }

    static func readSysctl(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = read(fd, &buffer, buffer.count)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n].filter { $0 > 0x20 }, as: UTF8.self)
    }
}
