import Foundation
import Testing
@testable import FilamentLab

#if canImport(Glibc)
import Glibc
#endif

/// Why the namespace test cannot run here, or nil when it can.
private func labSkipReason() -> String? {
    if getuid() != 0 { return "not root: network namespaces need root" }
    if Shell.which("babeld") == nil { return "babeld not installed (scripts/setup.sh lab)" }
    if Shell.which("ping") == nil { return "ping not installed (iputils-ping)" }
    return nil
}

@Suite struct LabLifecycleTests {
    /// A 3-node line with babeld routes end to end, and teardown leaves no namespace of the run's prefix.
    @Test(.disabled(if: labSkipReason() != nil, Comment(rawValue: labSkipReason() ?? "")), .timeLimit(.minutes(1)))
    func babeldLineRoutesAndTearsDown() throws {
        let prefix = "fl\(getpid())t-"
        let run = try LabRun(driver: BabeldDriver(helloInterval: 1), topology: .line(3), topologyName: "line:3", prefix: prefix)
        var torn = false
        defer { if !torn { run.teardown() } }
        #expect(Lab.listNamespaces().filter { $0.hasPrefix(prefix) }.count == 3)
        let replies = try Experiments.firstReplies(run, pairs: [(0, 2), (2, 0)], deadline: Shell.now() + 20)
        #expect(replies.allSatisfy { $0 != nil }, "node 0 and node 2 did not reach each other through node 1")
        #expect(run.deadDaemons().isEmpty)
        let pids = run.daemons.compactMap { $0?.processIdentifier }
        run.teardown(); torn = true
        #expect(Lab.listNamespaces().filter { $0.hasPrefix(prefix) }.isEmpty)
        #expect(pids.allSatisfy { kill($0, 0) != 0 }, "a daemon outlived teardown")
    }
}

/// Why the filamentd namespace test cannot run here, or nil when it can.
private func filamentdSkipReason() -> String? {
    if getuid() != 0 { return "not root: network namespaces need root" }
    if Shell.which("ping") == nil { return "ping not installed (iputils-ping)" }
    if FilamentdDriver().resolvedBinDir() == nil { return "filamentd not built (swift build -c release --product filamentd)" }
    return nil
}

@Suite struct FilamentdLabTests {
    /// A 3-node line of filamentd: both ends ping each other's mesh address through the middle node,
    /// filamentctl reports the address the driver pings, and teardown leaves no namespace or daemon.
    @Test(.disabled(if: filamentdSkipReason() != nil, Comment(rawValue: filamentdSkipReason() ?? "")), .timeLimit(.minutes(1)))
    func filamentdLineRoutesAndTearsDown() throws {
        let prefix = "fl\(getpid())u-"
        let driver = FilamentdDriver()
        let run = try LabRun(driver: driver, topology: .line(3), topologyName: "line:3", prefix: prefix)
        var torn = false
        defer { if !torn { run.teardown() } }
        #expect(Lab.listNamespaces().filter { $0.hasPrefix(prefix) }.count == 3)
        #expect(Set(run.addresses).count == 3 && run.addresses.allSatisfy { $0.hasPrefix("fd") })
        let replies = try Experiments.firstReplies(run, pairs: [(0, 2), (2, 0)], deadline: Shell.now() + 20)
        #expect(replies.allSatisfy { $0 != nil }, "node 0 and node 2 did not reach each other through node 1: \(run.logTail(node: 0))")
        #expect(run.deadDaemons().isEmpty)
        let status = try #require(driver.control("status", node: 2, lab: run.lab), "filamentctl status failed")
        let json = try JSONSerialization.jsonObject(with: Data(status.utf8)) as? [String: Any]
        #expect(json?["address"] as? String == run.addresses[2])
        let pids = run.daemons.compactMap { $0?.processIdentifier }
        #expect(pids.count == 3)
        run.teardown(); torn = true
        #expect(Lab.listNamespaces().filter { $0.hasPrefix(prefix) }.isEmpty)
        #expect(pids.allSatisfy { kill($0, 0) != 0 }, "a daemon outlived teardown")
    }
}

@Suite struct TopologyTests {
    /// grid:WxH has W*H nodes and 2WH-W-H links; its farthest pair is the opposite corners.
    @Test func gridShape() throws {
        let g = try Topology.parse("grid:7x7")
        #expect(g.count == 49)
        #expect(g.links.count == 2 * 49 - 7 - 7)
        let (a, b) = g.farthestPair()
        #expect(g.distances(from: a)[b] == 12)
        #expect(g.shortestPath(from: a, to: b)?.count == 13)
    }

    /// meshnet-lab JSON with numeric and string ids parses; an unknown link endpoint is an error.
    @Test func meshnetJSON() throws {
        let ok = #"{"nodes":[{"id":0,"x":1,"y":2},{"id":"b"}],"links":[{"source":0,"target":"b"}]}"#
        let t = try Topology.fromJSON(Data(ok.utf8))
        #expect(t.count == 2 && t.links == [Topology.Link(a: 0, b: 1)])
        let bad = #"{"nodes":[{"id":0}],"links":[{"source":0,"target":9}]}"#
        #expect(throws: LabError.self) { try Topology.fromJSON(Data(bad.utf8)) }
    }

    /// Each node's lab interfaces are numbered lv0, lv1, ... in link order, all within 15 characters.
    @Test func interfaceNames() throws {
        let lab = try Lab(topology: .grid(width: 3, height: 3), prefix: "fl0x-")
        #expect(lab.interfaces[4] == ["lv0", "lv1", "lv2", "lv3"])
        #expect(lab.interfaces.joined().allSatisfy { $0.count <= 15 })
        #expect(throws: LabError.self) { try Lab(topology: .line(2), prefix: "filt-x") }
    }

    /// An explicit bin directory holding an executable `filamentd` wins over `.build/` and PATH;
    /// one without it is skipped.
    @Test func filamentdBinDirectory() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fl-bin-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(FilamentdDriver(binDir: dir).resolvedBinDir() != dir)
        _ = FileManager.default.createFile(atPath: "\(dir)/filamentd", contents: Data("#!/bin/sh\n".utf8),
                                           attributes: [.posixPermissions: 0o755])
        #expect(FilamentdDriver(binDir: dir).resolvedBinDir() == dir)
    }
}

@Suite struct ComparisonTablesTests {
    /// A result written as a JSON line reads back with its numbers, and `compare`'s table puts each
    /// daemon's value in its own column with the load average beside it.
    @Test func jsonLineRoundTripAndColumns() throws {
        let a = LabResult(experiment: "relay-failure", daemon: "filamentd", topology: "grid:7x7",
                          values: ["outage_s": 1.0259, "killed_node": 40, "load_avg_1m": 3.11])
        let b = LabResult(experiment: "relay-failure", daemon: "babeld", topology: "grid:7x7",
                          values: ["outage_s": 12.4789, "killed_node": 8])
        let back = try LabResult(jsonLine: a.jsonLine())
        #expect(back.daemon == "filamentd" && back.values["outage_s"] == 1.0259 && back.values["killed_node"] == 40)
        let table = ComparisonTables.markdown([back, try LabResult(jsonLine: b.jsonLine())])
        #expect(table.contains("| | filamentd | babeld |"))
        #expect(table.contains("| outage | 1.03 s | 12.48 s |"))
        #expect(table.contains("| load average (1 min) | 3.11 | — |"))
        #expect(throws: LabError.self) { try LabResult(jsonLine: "[1,2]") }
    }
}
