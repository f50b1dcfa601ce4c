import FilamentCore
import Foundation
import Testing
@testable import FilamentSim

@Suite struct TopologyTests {
    /// A w x h grid has the right link count, degree range and is connected.
    @Test func grid() {
        let t = Topology.grid(width: 7, height: 5)
        #expect(t.count == 35)
        #expect(t.links.count == 6 * 5 + 7 * 4)
        #expect(t.adjacency.allSatisfy { (2...4).contains($0.count) })
        #expect(t.isConnected)
    }

    /// Line and clusters are connected with the expected sizes.
    @Test func lineAndClusters() {
        let l = Topology.line(count: 10)
        #expect(l.links.count == 9 && l.isConnected)
        let c = Topology.clusters(4, size: 5)
        #expect(c.count == 20 && c.isConnected)
        #expect(c.links.count == 4 * 10 + 4)
    }

    /// A city of a few hundred bulbs is connected by radio range alone (no artificial joins), has a mean
    /// degree in the 5...10 band near its target, its street lights alone form one connected mesh along
    /// the streets, and the same seed gives the same city (another seed another one).
    @Test func cityIsConnectedWithoutJoins() {
        var previous: [Topology.Position] = []
        for seed: UInt64 in [1, 4, 9] {
            var r1 = SeededRandom(seed: seed), r2 = SeededRandom(seed: seed)
            let a = Topology.city(bulbs: 400, rng: &r1)
            let b = Topology.city(bulbs: 400, rng: &r2)
            #expect(a.count == 400)
            #expect(a.artificialLinks == 0)
            #expect(a.isConnected)
            #expect(a.meanDegree >= 5.5 && a.meanDegree <= 6.5, "mean degree \(a.meanDegree)")
            #expect(a.streetLights == 10 * 4 * Topology.CityLayout.lampsPerSide)
            let lamps = Topology(kind: "street lights", positions: Array(a.positions.prefix(a.streetLights)),
                                 links: a.links.filter { $0.b < a.streetLights })
            #expect(lamps.isConnected)
            #expect(a.links == b.links && a.positions == b.positions)
            #expect(a.positions != previous)
            previous = a.positions
        }
        var r = SeededRandom(seed: 3)
        let dense = Topology.city(bulbs: 300, targetDegree: 9, rng: &r)
        #expect(dense.artificialLinks == 0 && dense.isConnected)
        #expect(dense.meanDegree >= 8.5 && dense.meanDegree <= 9.5, "mean degree \(dense.meanDegree)")
    }

    /// The hop diameter is the longest shortest path; a disconnected graph has none.
    @Test func hopDiameter() {
        #expect(Topology.line(count: 10).hopDiameter()?.hops == 9)
        #expect(Topology.grid(width: 4, height: 3).hopDiameter()?.hops == 5)
        let split = Topology(kind: "split", positions: Topology.line(count: 4).positions, links: [Link(0, 1), Link(2, 3)])
        #expect(split.hopDiameter() == nil)
    }

    /// Random geometric and building layouts come out connected (components are joined).
    @Test func geometricConnected() {
        var r = SeededRandom(seed: 2)
        #expect(Topology.randomGeometric(count: 80, width: 100, height: 100, range: 12, rng: &r).isConnected)
        #expect(Topology.building(floors: 3, perFloor: 15, rng: &r).isConnected)
    }

    /// Spread placement puts gateways far apart (opposite corners of a line), corners picks corners.
    @Test func gatewayPlacement() {
        var r = SeededRandom(seed: 1)
        let line = Topology.line(count: 21)
        let g = GatewayPlacement.spread(3).choose(in: line, rng: &r)
        #expect(g == [0, 10, 20])
        let grid = Topology.grid(width: 5, height: 5)
        #expect(GatewayPlacement.corners(4).choose(in: grid, rng: &r) == [0, 4, 20, 24])
        #expect(GatewayPlacement.ids([3, 3, 99]).choose(in: grid, rng: &r) == [3])
    }

    /// meshnet-lab JSON with string ids, positions and per-link loss imports; bad links are errors.
    @Test func meshnetLabImport() throws {
        let json = #"{"nodes":[{"id":"a","x":0,"y":0},{"id":"b","x":1,"y":0},{"id":3}],"links":[{"source":"a","target":"b","loss":0.25},{"source":"b","target":3}]}"#
        let t = try MeshnetLabImport.topology(json: Data(json.utf8))
        #expect(t.count == 3 && t.links.count == 2)
        #expect(t.names == ["a", "b", "3"])
        #expect(t.links[0].forward.loss == 0.25)
        let bad = #"{"nodes":[{"id":"a"}],"links":[{"source":"a","target":"zz"}]}"#
        #expect(throws: TopologyError.self) { try MeshnetLabImport.topology(json: Data(bad.utf8)) }
    }
}
