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
        let links = linksWithin(range: range, positions: positions).map { Link($0.0, $0.1, forward: link, backward: link) }
        var topo = Topology(kind: kind, positions: positions, links: links)
        topo.artificialLinks = topo.joinComponents(link: link)
        return topo
    }

    /// Pairs (i < j) of `positions` within `range` of each other, in order of i then cell.
    static func linksWithin(range: Double, positions: [Position]) -> [(Int, Int)] {
        var grid = SpatialHash(range: range)
        for (i, p) in positions.enumerated() { grid.insert(p, i) }
        var pairs: [(Int, Int)] = []
        for i in positions.indices { grid.forEachNear(positions[i], among: positions) { j in if j > i { pairs.append((i, j)) } } }
        return pairs
    }

    /// Adds, for each component beyond the first, a link from its node closest to the rest; returns how
    /// many links it added.
    @discardableResult
    mutating func joinComponents(link: LinkParameters) -> Int {
        var added = 0
        while true {
            var comp = [Int](repeating: -1, count: count)
            var nComp = 0
            for s in 0..<count where comp[s] < 0 {
                var stack = [s]; comp[s] = nComp
                while let u = stack.popLast() { for e in adjacency[u] where comp[e.neighbour] < 0 { comp[e.neighbour] = nComp; stack.append(e.neighbour) } }
                nComp += 1
            }
            if nComp <= 1 { return added }
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
            added += 1
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
        t.artificialLinks = t.joinComponents(link: link)
        return t
    }

    /// Layout of `city` (metres): square blocks separated by streets, a ring of street lights around every
    /// block (on the pavement, `lampInset` into the street, both sides of every street, evenly spaced
    /// about `lampSpacing` apart), and bulbs at random spots inside the blocks.
    public enum CityLayout {
        public static let blockSide = 80.0
        public static let street = 20.0
        public static let lampInset = 2.0
        public static let lampSpacing = 25.0
        /// Bulbs per block, street lights included (the last block may have fewer).
        public static let bulbsPerBlock = 40
        /// Street lights on one side of a block's ring (corner included), and their spacing.
        public static var lampsPerSide: Int { Int(((blockSide + 2 * lampInset) / lampSpacing).rounded(.up)) }
        public static var lampGap: Double { (blockSide + 2 * lampInset) / Double(lampsPerSide) }
        /// Redraws allowed for a bulb with nobody within range (a bulb stands where it hears someone).
        static let placementTries = 16
    }

    /// A city: blocks of `CityLayout.blockSide` separated by streets, each block ringed by street lights
    /// (part of the `bulbs` count) and filled with bulbs at random spots; one radio range for all, chosen
    /// (no shorter than the street-light gap, so the street lights form a connected grid along every
    /// street) for a mean degree near `targetDegree`. A bulb whose spot hears nobody is moved (up to 16
    /// draws). Components left over are joined (`artificialLinks` counts them; almost always 0).
    public static func city(bulbs n: Int, targetDegree: Double = 6, rng: inout SeededRandom,
                            link: LinkParameters = .default) -> Topology {
        typealias L = CityLayout
        let pitch = L.blockSide + L.street
        let blocks = max(1, Int((Double(n) / Double(L.bulbsPerBlock)).rounded(.up)))
        let perRow = max(1, Int(Double(blocks).squareRoot().rounded(.up)))
        // Street lights: a ring around each block while bulbs remain for a full ring (small cities: none).
        let ringSide = L.blockSide + 2 * L.lampInset, perSide = L.lampsPerSide, gap = L.lampGap
        let ringSize = 4 * perSide
        let ringBlocks = n >= blocks * (ringSize + 1) ? blocks : 0
        var lamps: [Position] = []
        lamps.reserveCapacity(ringBlocks * ringSize)
        for b in 0..<ringBlocks {
            let x0 = Double(b % perRow) * pitch - L.lampInset, y0 = Double(b / perRow) * pitch - L.lampInset
            for k in 0..<perSide {
                let t = Double(k) * gap
                lamps.append(Position(x: x0 + t, y: y0))
                lamps.append(Position(x: x0 + ringSide, y: y0 + t))
                lamps.append(Position(x: x0 + ringSide - t, y: y0 + ringSide))
                lamps.append(Position(x: x0, y: y0 + ringSide - t))
            }
        }
        let inner = n - lamps.count
        let innerPerBlock = Double(inner) / Double(blocks)
        // Range for the target degree: bisection on the measured mean degree of the whole layout (each
        // trial from a copy of the generator, so the result depends only on the seed).
        func layout(range: Double, rng r: inout SeededRandom) -> [Position] {
            var pos = lamps
            pos.reserveCapacity(n)
            var grid = SpatialHash(range: range)
            for (i, p) in lamps.enumerated() { grid.insert(p, i) }
            for i in 0..<inner {
                let b = i % blocks
                let bx = Double(b % perRow) * pitch, by = Double(b / perRow) * pitch
                var p = Position(x: 0, y: 0)
                for _ in 0..<L.placementTries {
                    p = Position(x: bx + Double.random(in: 0..<L.blockSide, using: &r), y: by + Double.random(in: 0..<L.blockSide, using: &r))
                    if grid.hasNeighbour(of: p, among: pos) { break }
                }
                grid.insert(p, pos.count)
                pos.append(p)
            }
            return pos
        }
        let minRange = max(gap, L.street - 2 * L.lampInset) * 1.02
        let density = innerPerBlock / (L.blockSide * L.blockSide)
        var lo = ringBlocks > 0 ? minRange : 1, hi = max(lo * 2, (targetDegree * 4 / (density * .pi)).squareRoot())
        for _ in 0..<24 {
            let mid = (lo + hi) / 2
            var trial = rng
            let pos = layout(range: mid, rng: &trial)
            let degree = Double(2 * linksWithin(range: mid, positions: pos).count) / Double(max(1, n))
            if degree < targetDegree { lo = mid } else { hi = mid }
        }
        let range = ringBlocks > 0 ? max(hi, minRange) : hi
        let pos = layout(range: range, rng: &rng)
        var topo = Topology(kind: "city \(n)", positions: pos,
                            links: linksWithin(range: range, positions: pos).map { Link($0.0, $0.1, forward: link, backward: link) })
        topo.artificialLinks = topo.joinComponents(link: link)
        topo.streetLights = lamps.count
        topo.radioRange = range
        return topo
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

/// Nodes bucketed in square cells of side `range`, for finding every node within `range` of a point.
struct SpatialHash {
    let range: Double
    private var cells: [Int64: [Int]] = [:]
    init(range: Double) { self.range = range }

    private func cell(_ p: Topology.Position) -> (Int, Int) {
        (Int((p.x / range).rounded(.down)), Int((p.y / range).rounded(.down)))
    }
    private static func key(_ cx: Int, _ cy: Int) -> Int64 { Int64(cx) << 32 | Int64(UInt32(bitPattern: Int32(truncatingIfNeeded: cy))) }

    mutating func insert(_ p: Topology.Position, _ index: Int) {
        let (cx, cy) = cell(p)
        cells[Self.key(cx, cy), default: []].append(index)
    }

    /// Calls `body` with every inserted index (other than one at exactly `p`'s spot being `p` itself is
    /// the caller's business) within `range` of `p`, cell by cell in a fixed order.
    func forEachNear(_ p: Topology.Position, among positions: [Topology.Position], _ body: (Int) -> Void) {
        let (cx, cy) = cell(p)
        let r2 = range * range
        for dx in -1...1 { for dy in -1...1 {
            guard let bucket = cells[Self.key(cx + dx, cy + dy)] else { continue }
            for j in bucket {
                let ddx = p.x - positions[j].x, ddy = p.y - positions[j].y
                if ddx * ddx + ddy * ddy <= r2 { body(j) }
            }
        } }
    }

    /// True if some inserted index lies within `range` of `p`.
    func hasNeighbour(of p: Topology.Position, among positions: [Topology.Position]) -> Bool {
        var found = false
        forEachNear(p, among: positions) { _ in found = true }
        return found
    }
}
