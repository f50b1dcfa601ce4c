import FilamentCore

/// Where bulbs stand and which pairs hear each other. Node indices are 0..<count; links are stored once
/// (a < b) and indexed from each end through `adjacency`, sorted by neighbour index.
public struct Topology: Sendable {
    public struct Position: Hashable, Sendable { public var x: Double; public var y: Double
        public init(x: Double, y: Double) { self.x = x; self.y = y } }

    /// The generator or file it came from, for reports.
    public var kind: String
    public var positions: [Position]
    public var links: [Link]
    /// For node i: (neighbour, link index) pairs sorted by neighbour.
    public private(set) var adjacency: [[(neighbour: Int, link: Int)]]
    /// Optional external names (meshnet-lab ids), else "n<index>".
    public var names: [String]
    /// Links a generator added only to join separate components (0 for a layout connected by radio range).
    public var artificialLinks = 0
    /// Street lights among the nodes (city layouts).
    public var streetLights = 0
    /// The radio range a geometric generator linked within, in metres (0 when not geometric).
    public var radioRange = 0.0

    public var count: Int { positions.count }

    public init(kind: String, positions: [Position], links: [Link], names: [String]? = nil) {
        self.kind = kind
        self.positions = positions
        // Deduplicate and drop self-links, keep a deterministic order.
        var seen = Set<Int64>()
        var clean: [Link] = []
        for l in links where l.a != l.b && l.a >= 0 && l.b < positions.count {
            let key = Int64(l.a) << 32 | Int64(l.b)
            if seen.insert(key).inserted { clean.append(l) }
        }
        clean.sort { ($0.a, $0.b) < ($1.a, $1.b) }
        self.links = clean
        self.names = names ?? positions.indices.map { "n\($0)" }
        adjacency = Array(repeating: [], count: positions.count)
        for (i, l) in clean.enumerated() {
            adjacency[l.a].append((l.b, i)); adjacency[l.b].append((l.a, i))
        }
        for i in adjacency.indices { adjacency[i].sort { $0.neighbour < $1.neighbour } }
    }

    /// The link index between two nodes, if any.
    public func link(between u: Int, _ v: Int) -> Int? {
        for e in adjacency[u] where e.neighbour == v { return e.link }
        return nil
    }

    public var meanDegree: Double { count == 0 ? 0 : Double(2 * links.count) / Double(count) }

    /// True if every node can reach every other over links that are up.
    public var isConnected: Bool { componentCount(alive: nil) <= 1 }

    /// Number of connected components among nodes in `alive` (all nodes if nil) over links that are up.
    public func componentCount(alive: [Bool]?) -> Int {
        var comp = [Int](repeating: -1, count: count)
        var n = 0
        var stack: [Int] = []
        for s in 0..<count where comp[s] < 0 && (alive?[s] ?? true) {
            comp[s] = n; stack.append(s)
            while let u = stack.popLast() {
                for e in adjacency[u] where links[e.link].up && comp[e.neighbour] < 0 && (alive?[e.neighbour] ?? true) {
                    comp[e.neighbour] = n; stack.append(e.neighbour)
                }
            }
            n += 1
        }
        return n
    }

    /// The longest shortest path in hops over all links (exact: a breadth-first search from every node;
    /// about a second at 10,000 nodes in a release build), with its two ends; `nil` when disconnected.
    public func hopDiameter() -> (hops: Int, from: Int, to: Int)? {
        guard count > 0 else { return (0, 0, 0) }
        var dist = [Int32](repeating: -1, count: count)
        var queue = [Int](repeating: 0, count: count)
        var best = (hops: 0, from: 0, to: 0)
        for s in 0..<count {
            for i in dist.indices { dist[i] = -1 }
            dist[s] = 0; queue[0] = s
            var head = 0, tail = 1
            while head < tail {
                let u = queue[head]; head += 1
                for e in adjacency[u] where dist[e.neighbour] < 0 {
                    dist[e.neighbour] = dist[u] + 1; queue[tail] = e.neighbour; tail += 1
                }
            }
            if tail < count { return nil }
            let far = queue[tail - 1]
            if Int(dist[far]) > best.hops { best = (Int(dist[far]), s, far) }
        }
        return best
    }

    /// Replaces the parameters of every link (both directions).
    public mutating func setAllLinks(_ p: LinkParameters) {
        for i in links.indices { links[i].forward = p; links[i].backward = p }
    }
}
