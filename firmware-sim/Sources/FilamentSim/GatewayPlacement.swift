import FilamentCore

/// How gateways are chosen among the nodes.
public enum GatewayPlacement: Hashable, Sendable {
    /// Farthest-point: the node nearest the centre first, then repeatedly the node farthest (in hops)
    /// from every gateway chosen so far.
    case spread(Int)
    /// Nodes nearest the corners of the bounding box (at most 4), then spread.
    case corners(Int)
    /// Uniformly random nodes (from the run's seed).
    case random(Int)
    /// Exactly these node indices.
    case ids([Int])

    /// The chosen node indices, sorted and unique.
    public func choose(in topo: Topology, rng: inout SeededRandom) -> [Int] {
        let n = topo.count
        guard n > 0 else { return [] }
        switch self {
        case .ids(let ids):
            return Array(Set(ids.filter { $0 >= 0 && $0 < n })).sorted()
        case .random(let k):
            var idx = Array(0..<n)
            idx.shuffle(using: &rng)
            return Array(idx.prefix(min(k, n))).sorted()
        case .spread(let k):
            return Self.farthestPoint(topo, k: k, seeds: [Self.nearest(topo, toX: Self.centre(topo).0, y: Self.centre(topo).1)])
        case .corners(let k):
            let xs = topo.positions.map(\.x), ys = topo.positions.map(\.y)
            let (x0, x1, y0, y1) = (xs.min()!, xs.max()!, ys.min()!, ys.max()!)
            var seeds: [Int] = []
            for (x, y) in [(x0, y0), (x1, y1), (x1, y0), (x0, y1)].prefix(min(k, 4)) {
                let c = Self.nearest(topo, toX: x, y: y)
                if !seeds.contains(c) { seeds.append(c) }
            }
            return Self.farthestPoint(topo, k: k, seeds: seeds)
        }
    }

    static func centre(_ t: Topology) -> (Double, Double) {
        let n = Double(t.count)
        return (t.positions.reduce(0) { $0 + $1.x } / n, t.positions.reduce(0) { $0 + $1.y } / n)
    }

    static func nearest(_ t: Topology, toX x: Double, y: Double) -> Int {
        var best = 0, bd = Double.infinity
        for (i, p) in t.positions.enumerated() {
            let d = (p.x - x) * (p.x - x) + (p.y - y) * (p.y - y)
            if d < bd { bd = d; best = i }
        }
        return best
    }

    static func farthestPoint(_ t: Topology, k: Int, seeds: [Int]) -> [Int] {
        var chosen = Array(seeds.prefix(k))
        var dist = [Int](repeating: Int.max, count: t.count)
        func bfs(_ s: Int) {
            var queue = [s]; var head = 0; dist[s] = 0
            while head < queue.count {
                let u = queue[head]; head += 1
                for e in t.adjacency[u] where dist[e.neighbour] > dist[u] + 1 { dist[e.neighbour] = dist[u] + 1; queue.append(e.neighbour) }
            }
        }
        for c in chosen { bfs(c) }
        while chosen.count < min(k, t.count) {
            var best = -1, bd = -1
            for i in 0..<t.count where dist[i] > bd && !chosen.contains(i) { bd = dist[i]; best = i }
            if best < 0 { break }
            chosen.append(best); bfs(best)
        }
        return chosen.sorted()
    }
}
