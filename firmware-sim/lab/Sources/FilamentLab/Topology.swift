import Foundation

/// A lab topology: nodes and undirected links, in meshnet-lab's JSON shape
/// (`{"nodes":[{"id","x","y"}],"links":[{"source","target"}]}`).
public struct Topology: Sendable, Equatable {
    public struct Node: Sendable, Equatable { public var id: String; public var x: Double; public var y: Double }
    public struct Link: Sendable, Equatable { public var a: Int; public var b: Int }

    public var nodes: [Node]
    public var links: [Link]

    public init(nodes: [Node], links: [Link]) { self.nodes = nodes; self.links = links }

    public var count: Int { nodes.count }

    /// `line:N`: N nodes in a chain.
    public static func line(_ n: Int) -> Topology {
        let nodes = (0..<n).map { Node(id: "\($0)", x: Double($0), y: 0) }
        let links = n < 2 ? [] : (0..<(n - 1)).map { Link(a: $0, b: $0 + 1) }
        return Topology(nodes: nodes, links: links)
    }

    /// `grid:WxH`: W columns, H rows, 4-neighbour links; node k sits at column k % W, row k / W.
    public static func grid(width w: Int, height h: Int) -> Topology {
        var nodes: [Node] = []
        var links: [Link] = []
        for r in 0..<h {
            for c in 0..<w {
                let k = r * w + c
                nodes.append(Node(id: "\(k)", x: Double(c), y: Double(r)))
                if c + 1 < w { links.append(Link(a: k, b: k + 1)) }
                if r + 1 < h { links.append(Link(a: k, b: k + w)) }
            }
        }
        return Topology(nodes: nodes, links: links)
    }

    /// Parses `grid:WxH`, `line:N`, or a path to a meshnet-lab JSON file.
    public static func parse(_ spec: String) throws -> Topology {
        if spec.hasPrefix("grid:") {
            let parts = spec.dropFirst(5).split(separator: "x").compactMap { Int($0) }
            guard parts.count == 2, parts[0] > 0, parts[1] > 0, parts[0] * parts[1] <= 4096 else {
                throw LabError.badInput("grid wants grid:WxH with W*H <= 4096, got '\(spec)'")
            }
            return grid(width: parts[0], height: parts[1])
        }
        if spec.hasPrefix("line:") {
            guard let n = Int(spec.dropFirst(5)), n > 0, n <= 4096 else {
                throw LabError.badInput("line wants line:N with 1 <= N <= 4096, got '\(spec)'")
            }
            return line(n)
        }
        guard let data = FileManager.default.contents(atPath: spec) else {
            throw LabError.badInput("cannot read topology file '\(spec)' (or use grid:WxH / line:N)")
        }
        return try fromJSON(data)
    }

    /// Decodes meshnet-lab JSON; node ids may be strings or numbers; links name node ids.
    public static func fromJSON(_ data: Data) throws -> Topology {
        guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let rawNodes = root["nodes"] as? [[String: Any]] else {
            throw LabError.badInput("topology JSON needs an object with a \"nodes\" array")
        }
        func idText(_ v: Any?) -> String? {
            if let s = v as? String { return s }
            if let n = v as? NSNumber { return n.stringValue }
            return nil
        }
        var nodes: [Node] = []
        var index: [String: Int] = [:]
        for (i, raw) in rawNodes.enumerated() {
            guard let id = idText(raw["id"]) else { throw LabError.badInput("node \(i) has no id") }
            guard index[id] == nil else { throw LabError.badInput("duplicate node id '\(id)'") }
            index[id] = nodes.count
            nodes.append(Node(id: id, x: (raw["x"] as? NSNumber)?.doubleValue ?? 0,
                              y: (raw["y"] as? NSNumber)?.doubleValue ?? 0))
        }
        guard nodes.count <= 4096 else { throw LabError.badInput("more than 4096 nodes") }
        var links: [Link] = []
        var seen = Set<[Int]>()
        for (i, raw) in ((root["links"] as? [[String: Any]]) ?? []).enumerated() {
            guard let s = idText(raw["source"]), let t = idText(raw["target"]),
                  let a = index[s], let b = index[t] else {
                throw LabError.badInput("link \(i) names an unknown node")
            }
            guard a != b else { throw LabError.badInput("link \(i) is a self-loop on '\(s)'") }
            if seen.insert([min(a, b), max(a, b)]).inserted { links.append(Link(a: a, b: b)) }
        }
        return Topology(nodes: nodes, links: links)
    }

    /// Neighbours of each node, in link order.
    public var adjacency: [[Int]] {
        var adj = Array(repeating: [Int](), count: count)
        for l in links { adj[l.a].append(l.b); adj[l.b].append(l.a) }
        return adj
    }

    /// Hop distances from `source` (-1 when unreachable).
    public func distances(from source: Int) -> [Int] {
        let adj = adjacency
        var dist = Array(repeating: -1, count: count)
        dist[source] = 0
        var queue = [source]
        var head = 0
        while head < queue.count {
            let u = queue[head]; head += 1
            for v in adj[u] where dist[v] < 0 { dist[v] = dist[u] + 1; queue.append(v) }
        }
        return dist
    }

    /// One shortest path from `a` to `b` (inclusive), or nil.
    public func shortestPath(from a: Int, to b: Int) -> [Int]? {
        let dist = distances(from: b)
        guard dist[a] >= 0 else { return nil }
        let adj = adjacency
        var path = [a]
        var u = a
        while u != b {
            guard let next = adj[u].first(where: { dist[$0] == dist[u] - 1 }) else { return nil }
            path.append(next); u = next
        }
        return path
    }

    /// The two nodes farthest apart in hops (ties: lowest indices), found by BFS from every node.
    public func farthestPair() -> (Int, Int) {
        var best = (0, max(0, count - 1)), bestD = -1
        for s in 0..<count {
            let d = distances(from: s)
            for t in (s + 1)..<max(s + 1, count) where d[t] > bestD { bestD = d[t]; best = (s, t) }
        }
        return best
    }
}
