import Foundation

/// The reference: no daemon, static kernel routes along BFS shortest paths (plain forwarding).
/// Link i gets 2001:db8:1:i::1/64 on its `a` side and ::2 on its `b` side.
public struct KernelRoutesDriver: DaemonDriver {
    public var name: String { "kernel" }
    public var timers: String { "none (static routes)" }
    public init() {}

    public var memoryPerNodeMiB: Double { 1 }

    public func checkAvailable() throws {}

    public func prepare(lab: Lab) throws -> [String] {
        let topo = lab.topology
        guard topo.count <= 400 else { throw LabError.badInput("static routes are for small labs (<= 400 nodes)") }
        func linkAddress(_ i: Int, sideA: Bool) -> String { "2001:db8:1:\(String(i, radix: 16))::\(sideA ? 1 : 2)" }
        // linkTo[u][v] = (link index, u is side a)
        var linkTo = Array(repeating: [Int: (Int, Bool)](), count: topo.count)
        var batches = Array(repeating: "", count: topo.count)
        for (i, l) in topo.links.enumerated() {
            linkTo[l.a][l.b] = (i, true); linkTo[l.b][l.a] = (i, false)
            let (ia, ib) = lab.linkInterfaces[i]
            batches[l.a] += "addr add \(linkAddress(i, sideA: true))/64 dev \(ia) nodad\n"
            batches[l.b] += "addr add \(linkAddress(i, sideA: false))/64 dev \(ib) nodad\n"
        }
        let adj = topo.adjacency
        for dest in 0..<topo.count {
            let dist = topo.distances(from: dest)
            for u in 0..<topo.count where u != dest && dist[u] > 0 {
                guard let next = adj[u].first(where: { dist[$0] == dist[u] - 1 }), let (i, uIsA) = linkTo[u][next] else { continue }
                batches[u] += "route add \(lab.nodeAddress(dest))/128 via \(linkAddress(i, sideA: !uIsA)) src \(lab.nodeAddress(u))\n"
            }
        }
        for node in 0..<topo.count where !batches[node].isEmpty {
            try Shell.run(["ip", "-n", lab.ns(node), "-batch", "-"], timeout: 60, stdin: batches[node])
        }
        return (0..<topo.count).map(lab.nodeAddress)
    }

    public func start(node: Int, lab: Lab) throws -> Child? { nil }
}
