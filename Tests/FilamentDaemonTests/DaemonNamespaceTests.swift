import Foundation
import Glibc
import Testing

/// The real `filamentd` binary in network namespaces (needs root; skipped otherwise).
@Suite(.serialized, .enabled(if: DaemonLab.available, DaemonLab.skipMessage))
struct DaemonNamespaceTests {
    /// Three daemons in a line become neighbours (the middle one has two) and ping6 crosses two hops
    /// from node 1 to node 3's mesh address, with the hop limit decremented once on the way.
    @Test func threeNodeLinePings() throws {
        let lab = try DaemonLab(tag: "line", count: 3)
        defer { lab.close() }
        for i in 1...3 { try lab.start(i) }
        let formed = DaemonLab.waitUntil(seconds: 10) {
            lab.neighbours(1)?.count == 1 && lab.neighbours(2)?.count == 2 && lab.neighbours(3)?.count == 1
        }
        #expect(formed, "neighbours did not form:\n\(lab.log(2))")
        let node1 = try #require(lab.status(1)?["node_id"] as? String)
        let node3 = try #require(lab.status(3)?["node_id"] as? String)
        #expect(Set(lab.neighbours(2) ?? []) == [node1, node3])
        let address3 = try #require(lab.status(3)?["address"] as? String)
        var reply: String?
        _ = DaemonLab.waitUntil(seconds: 10) { reply = lab.ping(from: 1, address3); return reply != nil }
        let text = try #require(reply, "no ping reply from \(address3):\n\(lab.log(1))")
        #expect(text.contains("ttl=63"), "expected one forwarding hop: \(text)")
        // The middle node counted what it forwarded (the control protocol's `counters`).
        let counters = try #require(lab.rawRequest(2, "counters")?["result"] as? [String: Any])
        #expect((counters["node.forwarded"] as? Int ?? 0) >= 2)
        #expect((counters["link.handshakesCompleted"] as? Int ?? 0) >= 2)
    }

    /// A daemon holding another network key hears hellos but never becomes a neighbour.
    @Test func wrongNetworkKeyNeverBecomesNeighbour() throws {
        let lab = try DaemonLab(tag: "key", count: 2)
        defer { lab.close() }
        for (i, byte) in [(1, "11"), (2, "22")] {
            let path = "\(lab.directory)/network\(i).key"
            try (String(repeating: byte, count: 32) + "\n").write(toFile: path, atomically: true, encoding: .utf8)
            chmod(path, 0o600)
            try lab.start(i, extra: ["--network-key-file", path])
        }
        #expect(DaemonLab.waitUntil(seconds: 5) { lab.status(1) != nil && lab.status(2) != nil })
        usleep(4_000_000)  // several hello intervals and handshake attempts
        #expect(lab.neighbours(1) == [])
        #expect(lab.neighbours(2) == [])
        #expect(lab.log(1).contains("mesh interface v1r up"))
    }

    /// Restarting the middle node (SIGTERM, clean exit, start again) keeps its mesh address, and ping
    /// across it works again.
    @Test func restartedMiddleNodeKeepsAddressAndRoutingReturns() throws {
        let lab = try DaemonLab(tag: "rst", count: 3)
        defer { lab.close() }
        for i in 1...3 { try lab.start(i) }
        #expect(DaemonLab.waitUntil(seconds: 10) { lab.neighbours(2)?.count == 2 })
        let address2 = try #require(lab.status(2)?["address"] as? String)
        let address3 = try #require(lab.status(3)?["address"] as? String)
        #expect(DaemonLab.waitUntil(seconds: 10) { lab.ping(from: 1, address3) != nil })
        #expect(lab.stop(2) == 0, "SIGTERM did not end the daemon cleanly:\n\(lab.log(2))")
        // Its retractions reach node 1 at once (well inside the neighbour hold time).
        let start = Date()
        #expect(DaemonLab.waitUntil(seconds: 1) { (lab.control(1, "routes") as? [Any])?.isEmpty == true })
        #expect(Date().timeIntervalSince(start) < 1)
        #expect(lab.ping(from: 1, address3) == nil)
        try lab.start(2)
        #expect(DaemonLab.waitUntil(seconds: 5) { lab.status(2) != nil })
        #expect(lab.status(2)?["address"] as? String == address2)
        #expect(DaemonLab.waitUntil(seconds: 10) { lab.ping(from: 1, address3) != nil }, "no route back:\n\(lab.log(1))")
    }
}

extension DaemonNamespaceTests {
    /// Daemons started before their link exists pick it up when it appears, once its link-local
    /// addresses have left the tentative state (DAD enabled on this link), and become neighbours;
    /// a later MTU change of the link is picked up too, and its disappearance closes the socket.
    @Test func interfaceAppearingAtRunTimeIsUsed() throws {
        let lab = try DaemonLab(tag: "late", count: 2, linked: false)
        defer { lab.close() }
        for i in 1...2 { try lab.start(i) }
        #expect(DaemonLab.waitUntil(seconds: 5) { lab.status(1) != nil && lab.status(2) != nil })
        #expect(lab.neighbours(1) == [])
        #expect((lab.status(1)?["health"] as? String) == "degraded")
        try lab.link(1, dad: true)
        #expect(DaemonLab.waitUntil(seconds: 10) { lab.neighbours(1)?.count == 1 && lab.neighbours(2)?.count == 1 },
                "no neighbour after the link appeared:\n\(lab.log(1))")
        #expect(lab.log(1).contains("mesh interface v1r up"))
        // An MTU change is noticed and announced to the node again.
        try DaemonLab.sh(["ip", "-n", lab.namespace(1), "link", "set", "v1r", "mtu", "1400"])
        #expect(DaemonLab.waitUntil(seconds: 5) { lab.log(1).contains("mesh interface v1r mtu 1400") })
        // The link disappears: its socket is closed, the neighbour goes, the daemon keeps running.
        try DaemonLab.sh(["ip", "-n", lab.namespace(1), "link", "del", "v1r"])
        #expect(DaemonLab.waitUntil(seconds: 5) { lab.log(1).contains("mesh interface v1r down") && lab.neighbours(1) == [] })
        #expect(lab.status(1) != nil)
    }

    /// SIGHUP re-reads the configuration file's interfaces: a daemon configured for no existing interface
    /// joins the mesh once the file names its link and it is told to reload.
    @Test func sighupReloadsInterfaces() throws {
        let lab = try DaemonLab(tag: "hup", count: 2)
        defer { lab.close() }
        let config1 = "\(lab.directory)/node1.yaml"
        try "interfaces: [nothing*]\n".write(toFile: config1, atomically: true, encoding: .utf8)
        try lab.start(1, extra: ["--config", config1])
        try lab.start(2)
        #expect(DaemonLab.waitUntil(seconds: 5) { lab.status(1) != nil })
        usleep(1_500_000)
        #expect(lab.neighbours(1) == [])
        try "interfaces: [\"v*\"]\n".write(toFile: config1, atomically: true, encoding: .utf8)
        lab.signal(1, SIGHUP)
        #expect(DaemonLab.waitUntil(seconds: 10) { lab.neighbours(1)?.count == 1 }, "no neighbour after SIGHUP:\n\(lab.log(1))")
    }
}

extension DaemonNamespaceTests {
    /// `filamentctl monitor` prints the neighbour and the route that appear when a second node starts.
    @Test func monitorStreamsNeighbourAndRouteEvents() throws {
        let lab = try DaemonLab(tag: "mon", count: 2)
        defer { lab.close() }
        try lab.start(1)
        #expect(DaemonLab.waitUntil(seconds: 5) { lab.status(1) != nil })
        let outPath = "\(lab.directory)/monitor.out"
        FileManager.default.createFile(atPath: outPath, contents: nil)
        let monitor = Process()
        monitor.executableURL = URL(fileURLWithPath: DaemonLab.filamentctl)
        monitor.arguments = ["monitor", "--socket", lab.socket(1), "--json"]
        monitor.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        try monitor.run()
        defer { kill(monitor.processIdentifier, SIGKILL); monitor.waitUntilExit() }
        usleep(300_000)
        try lab.start(2)
        let seen = DaemonLab.waitUntil(seconds: 10) {
            let text = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
            return text.contains("\"kind\":\"neighbour\"") && text.contains("\"kind\":\"route\"")
        }
        #expect(seen, "monitor output: \((try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "")")
    }
}

extension DaemonNamespaceTests {
    /// A prefix attached to node 3 (config `attached_prefixes`) gets a kernel route into fil0 on node 1,
    /// and an address inside it answers ping from node 1 across two hops.
    @Test func attachedPrefixIsRoutedThroughTheMesh() throws {
        let lab = try DaemonLab(tag: "att", count: 3)
        defer { lab.close() }
        try DaemonLab.sh(["ip", "-n", lab.namespace(3), "addr", "add", "fd99:1:2:3::1/128", "dev", "lo"])
        let config3 = "\(lab.directory)/node3.yaml"
        try "interfaces: [\"v*\"]\nattached_prefixes: [\"fd99:1:2:3::/64\"]\n".write(toFile: config3, atomically: true, encoding: .utf8)
        try lab.start(1)
        try lab.start(2)
        try lab.start(3, extra: ["--config", config3])
        let routed = DaemonLab.waitUntil(seconds: 10) {
            ((try? DaemonLab.sh(["ip", "-n", lab.namespace(1), "-6", "route", "show", "fd99:1:2:3::/64"])) ?? "").contains("dev fil0")
        }
        #expect(routed, "no kernel route on node 1:\n\(lab.log(1))")
        #expect(DaemonLab.waitUntil(seconds: 10) { lab.ping(from: 1, "fd99:1:2:3::1") != nil })
        // The mesh /48 stays routed into fil0 beside it.
        let routes = (try? DaemonLab.sh(["ip", "-n", lab.namespace(1), "-6", "route", "show", "dev", "fil0"])) ?? ""
        #expect(routes.contains("fd66:696c:616d::/48"))
    }
}
