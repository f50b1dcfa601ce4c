import FilamentCore
import Foundation
import Testing
@testable import FilamentSim

@Suite struct ScenarioTests {
    static let text = """
    {"name": "t", "seed": 3, "duration_seconds": 12, "engine": "reference",
     "topology": {"type": "grid", "width": 4, "height": 4},
     "gateways": {"placement": "corners", "count": 2},
     "groups": {"room": [5, 6]},
     "timeline": [{"at": 5, "action": "wall_switch_off", "group": "room"},
                  {"at": 2, "action": "partition", "axis": "x", "value": 1.5},
                  {"at": 4, "action": "heal"},
                  {"at": 1, "action": "churn", "until": 11, "rate_per_minute": 30}],
     "asserts": [{"metric": "loops_observed", "op": "==", "value": 0},
                 {"metric": "reachability", "op": ">", "value": 2}]}
    """

    /// A scenario parses, expands groups/partitions/churn into a time-sorted timeline.
    @Test func parsesAndExpands() throws {
        let s = try Scenario.parse(Data(Self.text.utf8))
        let c = try s.config()
        #expect(c.topology.count == 16)
        #expect(c.gateways.count == 2)
        #expect(c.timeline.map(\.at) == c.timeline.map(\.at).sorted())
        #expect(c.timeline.contains { $0.action == .powerOff([5, 6]) })
        #expect(c.timeline.contains { if case .cutLinks(let l) = $0.action { return l.count == 4 }; return false })
        #expect(c.timeline.contains { $0.label.hasPrefix("churn") })
    }

    /// An assertion that does not hold fails with the actual value; one that holds passes.
    @Test func assertionFailureIsReported() throws {
        let s = try Scenario.parse(Data(Self.text.utf8))
        let r = try Simulation(config: try s.config()).run()
        let report = r.report(wallSeconds: nil, peakRSSBytes: nil)
        let outcomes = s.asserts!.map { $0.check(report) }
        #expect(outcomes[0].passed)
        #expect(!outcomes[1].passed)
        #expect(outcomes[1].message.contains("FAIL reachability > 2.0"))
    }

    /// Unknown actions, topology types and missing keys give clear errors.
    @Test func errorsAreClear() throws {
        let badAction = #"{"name":"x","duration_seconds":1,"topology":{"type":"line","count":3},"timeline":[{"at":1,"action":"explode"}]}"#
        #expect { try Scenario.parse(Data(badAction.utf8)).config() } throws: { "\($0)".contains("unknown action \"explode\"") }
        let badTopo = #"{"name":"x","duration_seconds":1,"topology":{"type":"torus"}}"#
        #expect { try Scenario.parse(Data(badTopo.utf8)).config() } throws: { "\($0)".contains("unknown topology type") }
        let missing = #"{"name":"x","topology":{"type":"line","count":3}}"#
        #expect { try Scenario.parse(Data(missing.utf8)) } throws: { "\($0)".contains("duration_seconds") }
    }

    /// The shipped relay-failure scenario (a relay on the path dies silently under traffic) meets its
    /// assertions, among them recovery and data loss under 3 s: it caught the starvation of decision 0320
    /// (30 s outage before) and catches its return.
    @Test func relayFailureScenarioRecovers() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scenarios")
        let (s, base) = try Scenario.load(path: dir.appendingPathComponent("relay-failure.json").path)
        let report = try Simulation(config: try s.config(baseDirectory: base)).run().report(wallSeconds: nil, peakRSSBytes: nil)
        #expect(s.asserts!.contains { $0.metric == "events.0.recovery_seconds" })
        for outcome in s.asserts!.map({ $0.check(report) }) { #expect(outcome.passed, "\(outcome.message)") }
    }

    /// Every scenario shipped in firmware-sim/scenarios parses and builds.
    @Test func shippedScenariosParse() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scenarios")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".json") && !$0.hasSuffix(".topology.json") }.sorted()
        #expect(files.count >= 10)
        for f in files {
            let (s, base) = try Scenario.load(path: dir.appendingPathComponent(f).path)
            _ = try s.config(baseDirectory: base)
        }
    }
}
