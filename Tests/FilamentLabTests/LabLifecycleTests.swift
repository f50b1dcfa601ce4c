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

@Suite struct LabReportTests {
    /// The goals table marks a goal met or not met from the numbers, and says "not measured" when absent.
    @Test func goalsMarkedFromResults() throws {
        let rs = [
            LabResult(experiment: "relay-failure", daemon: "filamentd", topology: "grid:7x7", values: ["outage_s": 1.04]),
            LabResult(experiment: "relay-failure", daemon: "babeld", topology: "grid:7x7", values: ["outage_s": 10.36]),
            LabResult(experiment: "gateway-failover", daemon: "filamentd", topology: "grid:7x7", values: ["failover_99pct_s": 3.5]),
            LabResult(experiment: "steady", daemon: "filamentd", topology: "grid:7x7", values: ["tx_bytes_per_node_per_s": 189]),
            LabResult(experiment: "steady", daemon: "babeld", topology: "grid:7x7", values: ["tx_bytes_per_node_per_s": 234]),
        ]
        let table = LabReport.goals(rs)
        #expect(table.contains("| relay dies silently: outage | under 3 s | 1.04 s | babeld 10.36 s, yggdrasil not measured | **met** |"))
        #expect(table.contains("| gateway failover, 99 % of nodes on the backup | under 3 s | 3.50 s |") && table.contains("**not met**"))
        #expect(table.contains("| steady control traffic per node | at most babeld's | 189 B/s | babeld 234 B/s"))
        #expect(table.contains("| TCP over 3 hops (default TUN MTU) | at least 1.5x yggdrasil | not measured |"))
    }

    /// Regenerating replaces only the text between the markers; without markers the report is appended.
    @Test func replacingBetweenMarkers() {
        let doc = "head\n\(LabReport.beginMarker)\nold\n\(LabReport.endMarker)\ntail\n"
        let new = LabReport.replacing(in: doc, with: "NEW")
        #expect(new == "head\n\(LabReport.beginMarker)\nNEW\n\(LabReport.endMarker)\ntail\n")
        #expect(LabReport.replacing(in: new, with: "NEW") == new)
        #expect(LabReport.replacing(in: "x", with: "R").hasSuffix("\(LabReport.beginMarker)\nR\n\(LabReport.endMarker)\n"))
    }

    /// The scale table has one row per size in size order, the daemons as columns, "not run" where missing.
    @Test func scaleTableRows() {
        let rs = [
            LabResult(experiment: "scale", daemon: "filamentd", topology: "grid:15x15",
                      values: ["converged_s_from_first_start": 5.76, "pairs_reached": 21, "pairs_total": 21]),
            LabResult(experiment: "scale", daemon: "filamentd", topology: "grid:10x10",
                      values: ["converged_s_from_first_start": 2.67, "converged_s_from_last_start": 0.8, "pairs_reached": 21, "pairs_total": 21]),
            LabResult(experiment: "scale", daemon: "babeld", topology: "grid:10x10",
                      values: ["pairs_reached": 12, "pairs_total": 21, "timeout_s": 180]),
        ]
        let lines = LabReport.scale(rs).split(separator: "\n")
        #expect(lines[0] == "| grid | filamentd | babeld |")
        #expect(lines[2].hasPrefix("| grid:10x10 | **2.67 s** (0.80 s after the last launch; 21/21;") && lines[2].contains("| not converged in 180 s (12/21;"))
        #expect(lines[3].hasPrefix("| grid:15x15 | **5.76 s**") && lines[3].hasSuffix("| not run |"))
    }
}

@Suite struct ParallelTests {
    /// Every index runs exactly once, results come back in index order, and the lowest failing
    /// index's error is rethrown after all indices ran.
    @Test func forEachAndMap() throws {
        let squares = try Parallel.map(50, width: 4) { $0 * $0 }
        #expect(squares == (0..<50).map { $0 * $0 })
        let lock = NSLock()
        var ran = 0
        var thrown = ""
        do {
            try Parallel.forEach(20, width: 4) { i in
                lock.withLock { ran += 1 }
                if i == 3 || i == 17 { throw LabError.badInput("\(i)") }
            }
        } catch { thrown = "\(error)" }
        #expect(thrown == "bad input: 3")
        #expect(ran == 20)
        #expect(Parallel.chunks(Array(0..<10), parts: 3) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]])
    }
}
