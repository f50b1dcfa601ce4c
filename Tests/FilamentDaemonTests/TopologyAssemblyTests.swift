import FilamentControl
import FilamentCore
import FilamentWire
import Testing
@testable import FilamentDaemon

/// How a gathering's answers become the graph (pure; the namespace tests check it against real daemons).
@Suite struct TopologyAssemblyTests {
    static func node(_ b: UInt8) -> NodeID { NodeID(bytes: [UInt8](repeating: b, count: 32))! }
    static func info(_ name: String?, _ neighbours: [(UInt8, UInt16)], gateway: Bool = false) -> TopologyService.Collected {
        var c = TopologyService.Collected()
        c.name = name
        c.isGateway = gateway
        c.pageCount = 1
        c.pages[0] = neighbours.map { NodeInfoAnswer.Neighbour(node: node($0.0), cost: $0.1) }
        return c
    }

    /// Links both ends list are confirmed and appear once; one listed by a single end is kept but not
    /// confirmed; infinite links are left out; a node named but never heard is listed unanswered.
    @Test func linksAndNodes() {
        var g = TopologyService.Gathering(ticket: ControlTicket(fd: 0, serial: 0), requestID: 1, deadline: .zero, retryAt: .zero,
                                          me: Self.info("one", [(2, 256), (3, 300)]))
        g.asked = [Self.node(2), Self.node(3), Self.node(4)]
        g.collected[Self.node(2)] = Self.info("two", [(1, 256), (4, 0xFFFF), (5, 512)], gateway: true)
        g.collected[Self.node(3)] = Self.info(nil, [])  // does not list node 1: the 1–3 link is one-sided
        let t = TopologyService.assemble(g, me: Self.node(1))
        let hex = { (b: UInt8) in Self.node(b).hex }
        #expect(t.nodes.map(\.node_id) == [1, 2, 3, 4, 5].map(hex))
        #expect(t.nodes.map(\.answered) == [true, true, true, false, false])
        #expect(t.nodes.map(\.name) == ["one", "two", nil, nil, nil])
        #expect(t.nodes.map(\.gateway) == [false, true, false, false, false])
        #expect(t.links == [
            .init(source: hex(1), target: hex(2), cost: 256, confirmed: true),
            .init(source: hex(1), target: hex(3), cost: 300, confirmed: false),
            .init(source: hex(2), target: hex(5), cost: 512, confirmed: false),
        ])
        #expect(ControlFormat.topologyTable(t).hasSuffix("5 nodes, 3 links (2 reported by one end only)\n"))
        #expect(ControlFormat.topologyDot(t).contains("[label=\"300\", style=dashed]"))
    }
}
