import FilamentCore

/// Errors building a topology.
public enum TopologyError: Error, Equatable, CustomStringConvertible {
    case invalid(String)
    public var description: String { switch self { case .invalid(let s): return "topology: \(s)" } }
}

extension Topology {
    /// A w x h grid, 4-neighbour links.
    public static func grid(width: Int, height: Int, link: LinkParameters = .default) -> Topology {
        var pos: [Position] = []
        var links: [Link] = []
        for y in 0..<height { for x in 0..<width { pos.append(Position(x: Double(x), y: Double(y))) } }
        for y in 0..<height {
            for x in 0..<width {
                let i = y * width + x
                if x + 1 < width { links.append(Link(i, i + 1, forward: link, backward: link)) }
                if y + 1 < height { links.append(Link(i, i + width, forward: link, backward: link)) }
            }
        }
        return Topology(kind: "grid \(width)x\(height)", positions: pos, links: links)
    }

    /// n nodes in a chain.
    public static func line(count n: Int, link: LinkParameters = .default) -> Topology {
        let pos = (0..<n).map { Position(x: Double($0), y: 0) }
        let links = (0..<max(0, n - 1)).map { Link($0, $0 + 1, forward: link, backward: link) }
        return Topology(kind: "line \(n)", positions: pos, links: links)
    }

    /// `clusters` groups of `size` nodes, each group a full mesh, consecutive groups joined by one
    /// bridge link (and the last back to the first when there are more than two: a ring of rooms).
    public static func clusters(_ clusters: Int, size: Int, link: LinkParameters = .default) -> Topology {
        var pos: [Position] = []
        var links: [Link] = []
        for c in 0..<clusters {
            let cx = Double(c) * 10
            for k in 0..<size {
                let angle = Double(k) / Double(max(size, 1)) * 6.283185307179586
                pos.append(Position(x: cx + 2 * cosApprox(angle), y: 2 * sinApprox(angle)))
            }
            for i in 0..<size { for j in (i + 1)..<max(i + 1, size) { links.append(Link(c * size + i, c * size + j, forward: link, backward: link)) } }
        }
        if clusters > 1 {
            let bridges = clusters > 2 ? clusters : 1
            for c in 0..<bridges {
                let d = (c + 1) % clusters
                links.append(Link(c * size + size - 1, d * size, forward: link, backward: link))
            }
        }
        return Topology(kind: "clusters \(clusters)x\(size)", positions: pos, links: links)
    }

    /// Nodes at the given positions, linked when closer than `range`, then any separate components
    /// joined by their closest pair (so the result is connected).
    public static func geometric(kind: String, positions: [Position], range: Double, link: LinkParameters = .default) -> Topology {
        let n = positions.count
        var links: [Link] = []
        // Spatial hash: cells of side `range`, keyed by packed cell coordinates, visited in sorted order.
        var cells: [Int64: [Int]] = [:]
        func key(_ cx: Int, _ cy: Int) -> Int64 { Int64(cx) << 32 | Int64(UInt32(bitPattern: Int32(cy))) }
        func cell(_ p: Position) -> (Int, Int) { (Int((p.x / range).rounded(.down)), Int((p.y / range).rounded(.down))) }
        for i in 0..<n { let (cx, cy) = cell(positions[i]); cells[key(cx, cy), default: []].append(i) }
        let r2 = range * range
        for i in 0..<n {
            let (cx, cy) = cell(positions[i])
            for dx in -1...1 { for dy in -1...1 {
                guard let bucket = cells[key(cx + dx, cy + dy)] else { continue }
                for j in bucket where j > i {
                    let ddx = positions[i].x - positions[j].x, ddy = positions[i].y - positions[j].y
                    if ddx * ddx + ddy * ddy <= r2 { links.append(Link(i, j, forward: link, backward: link)) }
                }
            } }
        }
        var topo = Topology(kind: kind, positions: positions, links: links)
        topo.joinComponents(link: link)
        return topo
    }

    /// Adds, for each component beyond the first, a link from its node closest to the rest.
    mutating func joinComponents(link: LinkParameters) {
        while true {
            var comp = [Int](repeating: -1, count: count)
            var nComp = 0
            for s in 0..<count where comp[s] < 0 {
                var stack = [s]; comp[s] = nComp
                while let u = stack.popLast() { for e in adjacency[u] where comp[e.neighbour] < 0 { comp[e.neighbour] = nComp; stack.append(e.neighbour) } }
                nComp += 1
            }
            if nComp <= 1 { return }
            // Join component 1.. to component 0 through the globally closest pair between component 0
            // and any other component (quadratic in the worst case; generators rarely need it).
            var best = (Double.infinity, 0, 0)
            let inZero = (0..<count).filter { comp[$0] == 0 }
            let outside = (0..<count).filter { comp[$0] != 0 }
            // Sample to keep this bounded on very large inputs.
            let stride0 = max(1, inZero.count / 400), stride1 = max(1, outside.count / 400)
            for i in Swift.stride(from: 0, to: inZero.count, by: stride0) {
                for j in Swift.stride(from: 0, to: outside.count, by: stride1) {
                    let a = positions[inZero[i]], b = positions[outside[j]]
                    let d = (a.x - b.x) * (a.x - b.x) + (a.y - b.y) * (a.y - b.y)
                    if d < best.0 { best = (d, inZero[i], outside[j]) }
                }
            }
            // Refine: closest node of component 0 to the chosen outsider, and vice versa.
            var a = best.1, b = best.2
            for _ in 0..<2 {
                var bd = Double.infinity
                for i in inZero { let d = dist2(i, b); if d < bd { bd = d; a = i } }
                bd = .infinity
                for j in outside where comp[j] == comp[b] { let d = dist2(a, j); if d < bd { bd = d; b = j } }
            }
            var l = links
            l.append(Link(a, b, forward: link, backward: link))
            self = Topology(kind: kind, positions: positions, links: l, names: names)
        }
    }

    func dist2(_ i: Int, _ j: Int) -> Double {
        let dx = positions[i].x - positions[j].x, dy = positions[i].y - positions[j].y
        return dx * dx + dy * dy
    }

    /// `count` nodes uniformly in a width x height area, linked within `range`.
    public static func randomGeometric(count n: Int, width: Double, height: Double, range: Double,
                                       rng: inout SeededRandom, link: LinkParameters = .default) -> Topology {
        let pos = (0..<n).map { _ in Position(x: Double.random(in: 0..<width, using: &rng), y: Double.random(in: 0..<height, using: &rng)) }
        return geometric(kind: "random geometric \(n)", positions: pos, range: range, link: link)
    }

    /// Floors of a building: `floors` floors of `perFloor` bulbs on a 40 x 20 m plan, 10 m radio range
    /// on a floor; floors are 4 m apart and only bulbs roughly above each other (within 3 m) hear
    /// through the ceiling.
    public static func building(floors: Int, perFloor: Int, rng: inout SeededRandom, link: LinkParameters = .default) -> Topology {
        var pos: [Position] = []
        for f in 0..<floors {
            for _ in 0..<perFloor {
                pos.append(Position(x: Double.random(in: 0..<40, using: &rng), y: Double(f) * 30 + Double.random(in: 0..<20, using: &rng)))
            }
        }
        var links: [Link] = []
        for i in 0..<pos.count {
            for j in (i + 1)..<max(i + 1, pos.count) {
                let fi = i / perFloor, fj = j / perFloor
                let dx = pos[i].x - pos[j].x
                if fi == fj {
                    let dy = pos[i].y - pos[j].y
                    if dx * dx + dy * dy <= 100 { links.append(Link(i, j, forward: link, backward: link)) }
                } else if abs(fi - fj) == 1 {
                    let dy = (pos[i].y - Double(fi) * 30) - (pos[j].y - Double(fj) * 30)
                    if dx * dx + dy * dy <= 9 { links.append(Link(i, j, forward: link, backward: link)) }
                }
            }
        }
        var t = Topology(kind: "building \(floors)x\(perFloor)", positions: pos, links: links)
        t.joinComponents(link: link)
        return t
    }

    /// Bulbs in city blocks: square blocks (80 m) separated by streets (20 m); bulbs stand in the
    /// blocks, radio range chosen for a mean degree near `targetDegree`; streets are crossed only where
    /// bulbs are within range. Components are joined (a few long links) so the city is connected.
    public static func city(bulbs n: Int, targetDegree: Double = 7, rng: inout SeededRandom,
                            link: LinkParameters = .default) -> Topology {
        let blockSide = 80.0, street = 20.0, pitch = blockSide + street
        // About 40 bulbs per block.
        let blocks = max(1, Int((Double(n) / 40).rounded(.up)))
        let perRow = max(1, Int(Double(blocks).squareRoot().rounded(.up)))
        var pos: [Position] = []
        pos.reserveCapacity(n)
        for i in 0..<n {
            let b = i % blocks
            let bx = Double(b % perRow) * pitch, by = Double(b / perRow) * pitch
            pos.append(Position(x: bx + Double.random(in: 0..<blockSide, using: &rng),
                                y: by + Double.random(in: 0..<blockSide, using: &rng)))
        }
        // Density inside blocks decides the range: degree ≈ density * pi * r^2.
        let perBlock = Double(n) / Double(blocks)
        let density = perBlock / (blockSide * blockSide)
        let range = (targetDegree / (density * 3.141592653589793)).squareRoot()
        return geometric(kind: "city \(n)", positions: pos, range: range, link: link)
    }
}

// Small deterministic trig for layouts (avoids Foundation in this file; exactness does not matter).
func sinApprox(_ x: Double) -> Double {
    var a = x.truncatingRemainder(dividingBy: 6.283185307179586)
    if a > 3.141592653589793 { a -= 6.283185307179586 }
    if a < -3.141592653589793 { a += 6.283185307179586 }
    var term = a, sum = a
    for k in 1..<10 { term *= -a * a / Double((2 * k) * (2 * k + 1)); sum += term }
    return sum
}
func cosApprox(_ x: Double) -> Double { sinApprox(x + 1.5707963267948966) }
