import Foundation
import Glibc
import Testing

/// `filamentctl` against real daemons on a 5-node namespace mesh (needs root; skipped otherwise):
///
///     bulb1 — bulb2 — bulb3 — bulb4 — bulb5
///        \_____________/
///
/// (a line plus a shortcut between 1 and 3), every node named in its configuration.
@Suite(.serialized, .enabled(if: DaemonLab.available, DaemonLab.skipMessage))
struct ControlNamespaceTests {
    /// Starts the five named daemons and waits until every link is up; nil (with an issue recorded) otherwise.
    static func meshOfFive(_ tag: String) throws -> (DaemonLab, [String]) {
        let lab = try DaemonLab(tag: tag, count: 5)
        do {
            try DaemonLab.sh(["ip", "link", "add", "v1c", "netns", lab.namespace(1), "type", "veth", "peer", "name", "v3c",
                              "netns", lab.namespace(3)])
            try DaemonLab.sh(["ip", "-n", lab.namespace(1), "link", "set", "v1c", "up"])
            try DaemonLab.sh(["ip", "-n", lab.namespace(3), "link", "set", "v3c", "up"])
            for i in 1...5 {
                let path = "\(lab.directory)/node\(i).yaml"
                try "name: bulb\(i)\ninterfaces: [\"v*\"]\n".write(toFile: path, atomically: true, encoding: .utf8)
                try lab.start(i, extra: ["--config", path])
            }
        } catch {
            lab.close()
            throw error
        }
        let expected = [1: 2, 2: 2, 3: 3, 4: 2, 5: 1]
        let formed = DaemonLab.waitUntil(seconds: 15) { expected.allSatisfy { lab.neighbours($0.key)?.count == $0.value } }
        #expect(formed, "neighbours did not form:\n\(lab.log(3))")
        let ids = (1...5).map { lab.status($0)?["node_id"] as? String ?? "?" }
        return (lab, ids)
    }

    func topology(_ lab: DaemonLab, _ i: Int) -> [String: Any]? {
        guard let out = try? DaemonLab.sh([DaemonLab.filamentctl, "topology", "--socket", lab.socket(i), "--json"], timeout: 10) else { return nil }
        return (try? JSONSerialization.jsonObject(with: Data(out.utf8))) as? [String: Any]
    }

    /// From the far end (bulb5), `topology --json` lists all five nodes, by name, every one answered,
    /// and exactly the five real links; the table and dot formats show the same graph.
    @Test func topologyListsEveryNodeAndExactlyTheRealLinks() throws {
        let (lab, ids) = try Self.meshOfFive("topo")
        defer { lab.close() }
        func pair(_ a: Int, _ b: Int) -> String { [ids[a - 1], ids[b - 1]].sorted().joined(separator: "-") }
        let realLinks: Set<String> = [pair(1, 2), pair(2, 3), pair(3, 4), pair(4, 5), pair(1, 3)]
        var topo: [String: Any]?
        let complete = DaemonLab.waitUntil(seconds: 15) {
            topo = topology(lab, 5)
            let nodes = topo?["nodes"] as? [[String: Any]] ?? []
            return nodes.count == 5 && nodes.allSatisfy { $0["answered"] as? Bool == true }
        }
        #expect(complete, "topology from bulb5: \(String(describing: topo))\n\(lab.log(5))")
        let nodes = topo?["nodes"] as? [[String: Any]] ?? []
        #expect(Set(nodes.compactMap { $0["node_id"] as? String }) == Set(ids))
        #expect(Set(nodes.compactMap { $0["name"] as? String }) == ["bulb1", "bulb2", "bulb3", "bulb4", "bulb5"])
        let links = (topo?["links"] as? [[String: Any]] ?? []).compactMap { l -> String? in
            guard let s = l["source"] as? String, let t = l["target"] as? String, s < t else { return nil }
            return "\(s)-\(t)"
        }
        #expect(links.count == 5)
        #expect((topo?["links"] as? [[String: Any]] ?? []).allSatisfy { $0["confirmed"] as? Bool == true })
        #expect(Set(links) == realLinks)
        let table = try DaemonLab.sh([DaemonLab.filamentctl, "topology", "--socket", lab.socket(1)], timeout: 10)
        #expect(table.contains("bulb4") && table.hasSuffix("5 nodes, 5 links\n"), "table:\n\(table)")
        let dot = try DaemonLab.sh([DaemonLab.filamentctl, "topology", "--format", "dot", "--socket", lab.socket(1)], timeout: 10)
        #expect(dot.components(separatedBy: " -- ").count - 1 == 5)
        // The html picture is one self-contained page: 5 labelled nodes, 5 lines, nothing loaded from elsewhere.
        let html = try DaemonLab.sh([DaemonLab.filamentctl, "topology", "--format", "html", "--socket", lab.socket(1)], timeout: 10)
        #expect((1...5).allSatisfy { html.contains(">bulb\($0)</text>") })
        #expect(html.components(separatedBy: "<line ").count - 1 == 5)
        #expect(!html.contains("src=") && !html.contains("href=") && !html.contains("<script"))
        // Names learnt from node information show up for neighbours too.
        let neighbours = try DaemonLab.sh([DaemonLab.filamentctl, "neighbours", "--socket", lab.socket(1)], timeout: 10)
        #expect(neighbours.contains("bulb2") && neighbours.contains("bulb3"), "neighbours:\n\(neighbours)")
    }

    /// A new neighbour is asked for its name at once: `neighbours` shows names without any topology run.
    @Test func neighbourNamesWithoutTopology() throws {
        let (lab, _) = try Self.meshOfFive("names")
        defer { lab.close() }
        #expect(DaemonLab.waitUntil(seconds: 10) {
            let names = ((lab.control(3, "neighbours") as? [[String: Any]]) ?? []).compactMap { $0["name"] as? String }
            return Set(names) == ["bulb1", "bulb2", "bulb4"]
        }, "\(String(describing: lab.control(3, "neighbours")))")
    }

    /// `filamentctl monitor` on bulb1 reports that its route to bulb3 changes when the 1–3 shortcut is cut:
    /// the neighbour and the route through it are flushed, and the route comes back through bulb2 (v1r),
    /// or the route changes to v1r in one event.
    @Test func monitorReportsRouteChangeWhenLinkIsCut() throws {
        let (lab, ids) = try Self.meshOfFive("cut")
        defer { lab.close() }
        let address3 = try #require(lab.status(3)?["address"] as? String)
        #expect(DaemonLab.waitUntil(seconds: 10) {
            ((lab.control(1, "routes") as? [[String: Any]]) ?? []).contains {
                ($0["destination"] as? String) == "\(address3)/128" && ($0["selected"] as? Bool) == true && ($0["interface"] as? String) == "v1c"
            }
        }, "bulb1 does not route to bulb3 over the shortcut")
        #expect(DaemonLab.waitUntil(seconds: 10) {
            ((lab.control(1, "neighbours") as? [[String: Any]]) ?? []).contains { $0["name"] as? String == "bulb3" }
        }, "bulb1 never heard bulb3's name")
        let outPath = "\(lab.directory)/monitor.out"
        FileManager.default.createFile(atPath: outPath, contents: nil)
        let monitor = Process()
        monitor.executableURL = URL(fileURLWithPath: DaemonLab.filamentctl)
        monitor.arguments = ["monitor", "--socket", lab.socket(1)]
        monitor.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        try monitor.run()
        defer { kill(monitor.processIdentifier, SIGKILL); monitor.waitUntilExit() }
        usleep(300_000)
        try DaemonLab.sh(["ip", "-n", lab.namespace(1), "link", "del", "v1c"])
        let seen = DaemonLab.waitUntil(seconds: 10) {
            let text = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
            return text.contains("add route \(address3)/128 via") && text.contains("dev v1r")
                || text.contains("change route \(address3)/128 via") && text.contains("dev v1r")
        }
        let text = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        #expect(seen, "monitor output:\n\(text)")
        #expect(text.contains("flush neighbour \(ids[2].prefix(8)) v1c bulb3"), "\(text)")
        // And the new route goes through bulb2.
        #expect(((lab.control(1, "routes") as? [[String: Any]]) ?? []).contains {
            ($0["destination"] as? String) == "\(address3)/128" && ($0["selected"] as? Bool) == true && ($0["interface"] as? String) == "v1r"
        })
    }
}

extension ControlNamespaceTests {
    /// From bulb1, `ping bulb5` (by name) gets replies across three hops (1–3–4–5 over the shortcut), and
    /// `traceroute` by key prefix lists bulb3, bulb4 and bulb5 in order; an unknown node is a clear error.
    @Test func pingAndTracerouteAcrossThreeHops() throws {
        let (lab, ids) = try Self.meshOfFive("trace")
        defer { lab.close() }
        let address5 = try #require(lab.status(5)?["address"] as? String)
        func ctl(_ args: [String]) throws -> String {
            try DaemonLab.sh(["ip", "netns", "exec", lab.namespace(1), DaemonLab.filamentctl] + args + ["--socket", lab.socket(1)], timeout: 30)
        }
        // Routes and every node's node information settle first.
        #expect(DaemonLab.waitUntil(seconds: 15) {
            ((topology(lab, 1)?["nodes"] as? [[String: Any]]) ?? []).filter { $0["answered"] as? Bool == true }.count == 5
        })
        #expect(DaemonLab.waitUntil(seconds: 10) { lab.ping(from: 1, address5) != nil })
        let ping = try ctl(["ping", "bulb5", "--count", "3", "--interval", "0.2", "--json"])
        let result = try #require(try JSONSerialization.jsonObject(with: Data(ping.utf8)) as? [String: Any], "\(ping)")
        #expect(result["address"] as? String == address5 && result["name"] as? String == "bulb5")
        #expect((result["received"] as? Int ?? 0) >= 2, "ping: \(ping)")
        let human = try ctl(["ping", "bulb5", "-c", "1"])
        #expect(human.contains("reply from \(address5)") && human.contains("1 received"), "\(human)")

        let trace = try ctl(["traceroute", String(ids[4].prefix(10)), "--json"])
        let hops = try #require(try JSONSerialization.jsonObject(with: Data(trace.utf8)) as? [[String: Any]], "\(trace)")
        #expect(hops.compactMap { $0["name"] as? String } == ["bulb3", "bulb4", "bulb5"], "traceroute: \(trace)")
        #expect(hops.map { $0["result"] as? String ?? "" } == ["time_exceeded", "time_exceeded", "reply"])
        let table = try ctl(["traceroute", "bulb5"])
        #expect(table.contains(" 3  bulb5  \(address5)"), "\(table)")

        // Without root, ping falls back to an unprivileged ICMP socket (allowed by ping_group_range here);
        // traceroute says it needs root.
        try DaemonLab.sh(["ip", "netns", "exec", lab.namespace(1), "sysctl", "-qw", "net.ipv4.ping_group_range=0 2147483647"])
        let asNobody = ["ip", "netns", "exec", lab.namespace(1), "/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        DaemonLab.filamentctl]
        let unprivileged = try DaemonLab.sh(asNobody + ["ping", address5, "-c", "2", "-i", "0.2"], timeout: 20)
        #expect(unprivileged.contains("reply from \(address5)"), "\(unprivileged)")
        chmod(lab.directory, 0o711)
        chmod(lab.socket(1), 0o666)
        do {
            _ = try DaemonLab.sh(asNobody + ["traceroute", address5, "--socket", lab.socket(1)], timeout: 20)
            Issue.record("traceroute ran without root")
        } catch let e as DaemonLab.CommandFailed {
            #expect(e.status == 1 && e.output.contains("traceroute needs root or CAP_NET_RAW"), "\(e.output)")
        }

        // An unknown node: one clear line, exit 1.
        #expect(throws: DaemonLab.CommandFailed.self) { try ctl(["ping", "no-such-bulb"]) }
        do { _ = try ctl(["traceroute", "no-such-bulb"]) } catch let e as DaemonLab.CommandFailed {
            #expect(e.status == 1 && e.output.contains("no node 'no-such-bulb' in the mesh"), "\(e.output)")
        }
    }
}

extension ControlNamespaceTests {
    /// Administrative requests need root, the daemon's user or the control group, checked per connection
    /// (SO_PEERCRED/SO_PEERGROUPS): with the socket opened to everyone (0666), user nobody may read
    /// `status` but `gateway drain` is refused (exit 1, permission message); nobody with the control
    /// group `users` as a supplementary group may drain.
    @Test func administrativeRequestsNeedOwnerOrGroup() throws {
        let lab = try DaemonLab(tag: "adm", count: 1)
        defer { lab.close() }
        let config = "\(lab.directory)/node1.yaml"
        try "interfaces: [\"v*\"]\ncontrol_group: users\n".write(toFile: config, atomically: true, encoding: .utf8)
        try lab.start(1, extra: ["--config", config])
        #expect(DaemonLab.waitUntil(seconds: 5) { lab.status(1) != nil })
        var st = stat()
        #expect(stat(lab.socket(1), &st) == 0 && st.st_mode & 0o777 == 0o660 && st.st_gid == getgrnam("users").pointee.gr_gid)
        chmod(lab.directory, 0o711)
        chmod(lab.socket(1), 0o666)
        func asNobody(_ groups: [String], _ args: [String]) -> (Int32, String) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            p.arguments = ["--reuid=65534", "--regid=65534"] + groups + [DaemonLab.filamentctl] + args + ["--socket", lab.socket(1)]
            let out = Pipe()
            p.standardOutput = out
            p.standardError = out
            guard (try? p.run()) != nil else { return (-1, "cannot run setpriv") }
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            return (p.terminationStatus, text)
        }
        let status = asNobody(["--clear-groups"], ["status"])
        #expect(status.0 == 0 && status.1.contains("node "), "\(status)")
        let refused = asNobody(["--clear-groups"], ["gateway", "drain"])
        #expect(refused.0 == 1 && refused.1.contains("control group"), "\(refused)")
        let allowed = asNobody(["--groups=\(getgrnam("users").pointee.gr_gid)"], ["gateway", "drain"])
        #expect(allowed.0 == 0 && allowed.1.contains("draining"), "\(allowed)")
    }
}

extension ControlNamespaceTests {
    /// `doctor` on a two-node mesh: interfaces, neighbours, TUN, routes and key files pass, the missing
    /// internet gateway fails (exit 1). A key file opened to others and a link taken down each show up
    /// with their fix, and applying the printed fix makes the check pass again.
    @Test func doctorFindsProblemsAndPrintsFixes() throws {
        let lab = try DaemonLab(tag: "doc", count: 2)
        defer { lab.close() }
        for i in 1...2 { try lab.start(i) }
        #expect(DaemonLab.waitUntil(seconds: 10) { lab.neighbours(1)?.count == 1 })
        func doctor() -> (Int32, [[String: Any]]) {
            do {
                let out = try DaemonLab.sh([DaemonLab.filamentctl, "doctor", "--json", "--socket", lab.socket(1)])
                return (0, (try? JSONSerialization.jsonObject(with: Data(out.utf8))) as? [[String: Any]] ?? [])
            } catch let e as DaemonLab.CommandFailed {
                return (e.status, (try? JSONSerialization.jsonObject(with: Data(e.output.utf8))) as? [[String: Any]] ?? [])
            } catch { return (-1, []) }
        }
        func check(_ checks: [[String: Any]], _ prefix: String) -> [String: Any]? {
            checks.first { ($0["check"] as? String)?.hasPrefix(prefix) == true }
        }
        let (status, checks) = doctor()
        #expect(status == 1)
        for name in ["daemon", "interface v1r", "neighbours", "TUN fil0", "kernel routes", "key file"] {
            #expect(check(checks, name)?["ok"] as? Bool == true, "\(name): \(checks)")
        }
        #expect(check(checks, "internet gateway")?["ok"] as? Bool == false)
        // A veth is a cable to the kernel: wired link costs (decision 0815).
        #expect((check(checks, "interface v1r")?["detail"] as? String ?? "").hasSuffix("wired link costs"))
        #expect(checks.allSatisfy { ($0["ok"] as? Bool == true) == ($0["fix"] is NSNull) })

        // The identity readable by everyone: flagged, with chmod as the fix; the fix works.
        let identity = "\(lab.stateDirectory(1))/identity.key"
        chmod(identity, 0o644)
        let loose = check(doctor().1, "key file \(identity)")
        #expect(loose?["ok"] as? Bool == false && (loose?["fix"] as? String ?? "").contains("chmod 600 \(identity)"))
        chmod(identity, 0o600)
        #expect(check(doctor().1, "key file \(identity)")?["ok"] as? Bool == true)

        // The mesh link down: flagged with `ip link set v1r up`; after it the interface is fine again.
        try DaemonLab.sh(["ip", "-n", lab.namespace(1), "link", "set", "v1r", "down"])
        #expect(DaemonLab.waitUntil(seconds: 5) { (check(doctor().1, "interface v1r")?["fix"] as? String) == "ip link set v1r up" })
        try DaemonLab.sh(["ip", "-n", lab.namespace(1), "link", "set", "v1r", "up"])
        #expect(DaemonLab.waitUntil(seconds: 10) { check(doctor().1, "interface v1r")?["ok"] as? Bool == true })

        // The human form: one line per check, the fix under each failure, exit 1.
        do {
            _ = try DaemonLab.sh([DaemonLab.filamentctl, "doctor", "--socket", lab.socket(1)])
            Issue.record("doctor exited 0 without a gateway")
        } catch let e as DaemonLab.CommandFailed {
            #expect(e.status == 1)
            #expect(e.output.contains("FAIL  internet gateway") && e.output.contains("fix: no bulb offers internet"), "\(e.output)")
        }
    }
}

extension ControlNamespaceTests {
    /// `metrics_listen` serves Prometheus text: on the middle of three nodes, neighbours and routes are
    /// gauges, forwarded packets count the pings that crossed it, drops are labelled by reason. Another
    /// path is a 404, an oversized request a 431, and the daemon goes on answering.
    @Test func metricsEndpointServesPrometheusText() throws {
        let lab = try DaemonLab(tag: "met", count: 3)
        defer { lab.close() }
        let config = "\(lab.directory)/node2.yaml"
        try "name: middle\ninterfaces: [\"v*\"]\nmetrics_listen: \"[::1]:9465\"\n".write(toFile: config, atomically: true, encoding: .utf8)
        try lab.start(1)
        try lab.start(2, extra: ["--config", config])
        try lab.start(3)
        #expect(DaemonLab.waitUntil(seconds: 10) { lab.neighbours(2)?.count == 2 })
        let address3 = try #require(lab.status(3)?["address"] as? String)
        #expect(DaemonLab.waitUntil(seconds: 10) { lab.ping(from: 1, address3) != nil })
        func curl(_ extra: [String] = [], _ path: String = "/metrics") throws -> String {
            try DaemonLab.sh(["ip", "netns", "exec", lab.namespace(2), "curl", "-sS", "--max-time", "3"] + extra + ["http://[::1]:9465\(path)"])
        }
        let text = try curl()
        #expect(text.contains("# TYPE filament_neighbours gauge"), "\(text)")
        #expect(text.contains("\nfilament_neighbours 2\n"))
        #expect(text.contains("\nfilament_routes 2\n"))
        let forwarded = text.split(separator: "\n").first { $0.hasPrefix("filament_packets_forwarded_total ") }
        #expect((forwarded.flatMap { Int($0.split(separator: " ")[1]) } ?? 0) >= 2, "\(String(describing: forwarded))")
        #expect(text.contains("filament_packets_dropped_total{reason=\"no_route\"}"))
        #expect(text.contains("filament_interface_bytes_total{interface=\"fil0\",direction=\"rx\"}"))
        #expect(text.contains("filament_send_queue_depth{interface=\"v2l\"}"))
        // Control bytes by message type are counted where they are sent: hellos and updates flowed.
        func sent(_ type: String) -> Int {
            let line = text.split(separator: "\n").first { $0.hasPrefix("filament_control_bytes_sent_total{type=\"\(type)\"} ") }
            return line.flatMap { Int($0.split(separator: " ")[1]) } ?? -1
        }
        #expect(sent("hello") > 0 && sent("update") > 0 && sent("ihu") >= 0 && sent("probe") >= 0, "\(text)")
        #expect(try curl(["-o", "/dev/null", "-w", "%{http_code}"], "/other") == "404")
        #expect(try curl(["-o", "/dev/null", "-w", "%{http_code}", "-H", "X-Big: \(String(repeating: "a", count: 5000))"]) == "431")
        #expect(lab.status(2) != nil)
    }
}

extension ControlNamespaceTests {
    /// Abuse of the control socket while traffic crosses the node: 40 clients at once (more than the
    /// 32 allowed), garbage lines, a 1 MiB line without a newline, a client that never reads its
    /// monitor stream. Pings across the middle node keep working and it still answers `status`.
    @Test func controlSocketAbuseDoesNotStopRouting() throws {
        let lab = try DaemonLab(tag: "abuse", count: 3)
        defer { lab.close() }
        for i in 1...3 { try lab.start(i) }
        #expect(DaemonLab.waitUntil(seconds: 10) { lab.neighbours(2)?.count == 2 })
        let address3 = try #require(lab.status(3)?["address"] as? String)
        #expect(DaemonLab.waitUntil(seconds: 10) { lab.ping(from: 1, address3) != nil })
        var fds: [Int32] = []
        defer { for fd in fds { close(fd) } }
        for k in 0..<40 {
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_un()
            addr.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(lab.socket(2).utf8)
            withUnsafeMutableBytes(of: &addr.sun_path) { raw in raw.copyBytes(from: bytes); raw[bytes.count] = 0 }
            _ = withUnsafePointer(to: &addr) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            fds.append(fd)
            let payload: [UInt8]
            switch k % 3 {
            case 0: payload = Array("{{{{ not json\n\u{0}\u{1}garbage\n[1,2]\n".utf8)
            case 1: payload = [UInt8](repeating: 0x41, count: 1 << 20)
            default: payload = Array("{\"version\":1,\"id\":1,\"command\":\"monitor\",\"args\":{}}\n".utf8)
            }
            var tv = timeval(tv_sec: 0, tv_usec: 200_000)
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            _ = payload.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        }
        // Traffic keeps crossing node 2 during and after, and it answers (with 32 abusive clients still
        // connected it may answer busy for a moment: close them and it must answer at once).
        for _ in 0..<3 { #expect(lab.ping(from: 1, address3) != nil) }
        for fd in fds { close(fd) }
        fds.removeAll()
        #expect(DaemonLab.waitUntil(seconds: 5) { lab.status(2) != nil }, "\(lab.log(2))")
        #expect(lab.ping(from: 1, address3) != nil)
    }
}

extension ControlNamespaceTests {
    /// A gateway seen and operated with filamentctl: bulb1 — bulb2 — roof (gateway, uplink to an
    /// "internet" namespace). From bulb1, `gateways`, `status` and `topology` show roof by name as the
    /// selected gateway; `gateway drain` on roof shows as draining on bulb1 and `undrain` reverts it;
    /// `doctor` passes its gateway checks on both.
    @Test func gatewaySeenAndDrainedWithFilamentctl() throws {
        let lab = try DaemonLab(tag: "gw", count: 4, linked: false)
        defer { lab.close() }
        for i in 1...2 { try lab.link(i) }
        try GatewayNamespaceTests.uplink(lab, gateway: 3, internet: 4, subnet: 1)
        for (i, text) in [(1, "name: bulb1\n"), (2, "name: bulb2\n"),
                          (3, "name: roof\ngateway:\n  uplink: up3\n  bandwidth: 100M/20M\n")] {
            let path = "\(lab.directory)/node\(i).yaml"
            try (text + "interfaces: [\"v*\"]\n").write(toFile: path, atomically: true, encoding: .utf8)
            try lab.start(i, extra: ["--config", path])
        }
        func ctl(_ i: Int, _ args: [String]) -> String {
            (try? DaemonLab.sh([DaemonLab.filamentctl] + args + ["--socket", lab.socket(i)], timeout: 15)) ?? ""
        }
        func roofRow() -> [String: Any]? {
            ((lab.control(1, "gateways") as? [[String: Any]]) ?? []).first { $0["name"] as? String == "roof" }
        }
        #expect(DaemonLab.waitUntil(seconds: 30) { (lab.status(1)?["gateway"] as? [String: Any])?["name"] as? String == "roof" },
                "bulb1 did not select roof:\n\(lab.log(1))\n\(lab.log(3))")
        #expect(roofRow()?["selected"] as? Bool == true && roofRow()?["draining"] as? Bool == false)
        let table = ctl(1, ["gateways"])
        #expect(table.contains("roof") && table.contains("100M/20M") && table.hasSuffix("ok\n"), "\(table)")
        #expect(DaemonLab.waitUntil(seconds: 10) {
            let out = ctl(1, ["topology", "--json"])
            let nodes = ((try? JSONSerialization.jsonObject(with: Data(out.utf8))) as? [String: Any])?["nodes"] as? [[String: Any]] ?? []
            return nodes.contains { $0["name"] as? String == "roof" && $0["gateway"] as? Bool == true }
        })

        #expect(ctl(3, ["gateway", "drain"]) == "draining\n")
        #expect(DaemonLab.waitUntil(seconds: 10) { roofRow()?["draining"] as? Bool == true }, "\(String(describing: roofRow()))")
        #expect(ctl(1, ["gateways"]).contains("draining"))
        #expect(ctl(3, ["gateway", "undrain"]) == "accepting new flows\n")
        #expect(DaemonLab.waitUntil(seconds: 10) { roofRow()?["draining"] as? Bool == false })

        let doctorRoof = ctl(3, ["doctor"])
        #expect(doctorRoof.contains("ok    gateway uplink up3") && doctorRoof.contains("ok    forwarding sysctls"), "\(doctorRoof)")
        let doctor1 = ctl(1, ["doctor"])
        #expect(doctor1.contains("internet gateway") && doctor1.contains("using roof") && doctor1.hasSuffix("checks passed\n"), "\(doctor1)")

        // SIGHUP applies a new bandwidth, the drain flag and the name without a restart.
        try "name: attic\ngateway:\n  uplink: up3\n  bandwidth: 50M/10M\n  drained: true\ninterfaces: [\"v*\"]\n"
            .write(toFile: "\(lab.directory)/node3.yaml", atomically: true, encoding: .utf8)
        lab.signal(3, SIGHUP)
        #expect(DaemonLab.waitUntil(seconds: 10) {
            roofRow()?["bandwidth_down_kbps"] as? Int == 50_000 && roofRow()?["draining"] as? Bool == true
        }, "\(String(describing: roofRow()))\n\(lab.log(3))")
        #expect(lab.status(3)?["name"] as? String == "attic")
        #expect(lab.log(3).contains("reloaded gateway bandwidth") && !lab.log(3).contains("restart filamentd to apply"))
    }
}
