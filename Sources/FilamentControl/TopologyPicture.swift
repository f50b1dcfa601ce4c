import Glibc

/// A self-contained HTML picture of a topology (inline SVG, no external resources): nodes on a
/// spring layout computed here deterministically, gateways as squares.
public enum TopologyPicture {
    public static func html(_ topo: TopologyInfo) -> String {
        let n = topo.nodes.count
        let index = Dictionary(uniqueKeysWithValues: topo.nodes.enumerated().map { ($1.node_id, $0) })
        // Deterministic layout: start on a circle, then a fixed number of spring iterations.
        var x = (0..<n).map { i in 400 + 300 * cos(2 * Double.pi * Double(i) / Double(max(n, 1))) }
        var y = (0..<n).map { i in 300 + 250 * sin(2 * Double.pi * Double(i) / Double(max(n, 1))) }
        let edges = topo.links.compactMap { l -> (Int, Int, Bool)? in
            guard let a = index[l.source], let b = index[l.target] else { return nil }
            return (a, b, l.confirmed)
        }
        for _ in 0..<200 where n > 1 {
            var dx = [Double](repeating: 0, count: n), dy = dx
            for i in 0..<n { for j in (i + 1)..<n {
                let ddx = x[i] - x[j], ddy = y[i] - y[j]
                let d2 = max(ddx * ddx + ddy * ddy, 1)
                let f = 4000 / d2
                dx[i] += ddx * f; dy[i] += ddy * f; dx[j] -= ddx * f; dy[j] -= ddy * f
            } }
            for (a, b, _) in edges {
                let ddx = x[a] - x[b], ddy = y[a] - y[b]
                dx[a] -= ddx * 0.02; dy[a] -= ddy * 0.02; dx[b] += ddx * 0.02; dy[b] += ddy * 0.02
            }
            for i in 0..<n {
                x[i] = min(780, max(20, x[i] + max(-10, min(10, dx[i]))))
                y[i] = min(580, max(20, y[i] + max(-10, min(10, dy[i]))))
            }
        }
        var svg = ""
        for (a, b, confirmed) in edges {
            svg += "<line x1=\"\(Int(x[a]))\" y1=\"\(Int(y[a]))\" x2=\"\(Int(x[b]))\" y2=\"\(Int(y[b]))\" stroke=\"#999\"\(confirmed ? "" : " stroke-dasharray=\"4 3\"")/>"
        }
        for (i, node) in topo.nodes.enumerated() {
            let label = escapeXML(node.name ?? ControlFormat.short(node.node_id))
            let colour = node.gateway ? "#e8a33d" : (node.answered ? "#4a90d9" : "#bbb")
            if node.gateway {
                svg += "<rect x=\"\(Int(x[i]) - 8)\" y=\"\(Int(y[i]) - 8)\" width=\"16\" height=\"16\" fill=\"\(colour)\"><title>\(escapeXML(node.node_id))</title></rect>"
            } else {
                svg += "<circle cx=\"\(Int(x[i]))\" cy=\"\(Int(y[i]))\" r=\"7\" fill=\"\(colour)\"><title>\(escapeXML(node.node_id))</title></circle>"
            }
            svg += "<text x=\"\(Int(x[i]) + 10)\" y=\"\(Int(y[i]) + 4)\" font-size=\"11\">\(label)</text>"
        }
        return """
        <!doctype html><html><head><meta charset="utf-8"><title>Filament mesh</title></head>
        <body style="font-family:sans-serif"><h1>Filament mesh: \(n) nodes, \(topo.links.count) links</h1>
        <svg xmlns="http://www.w3.org/2000/svg" width="800" height="600" style="border:1px solid #ddd">\(svg)</svg>
        <p>Squares are gateways; grey nodes did not answer; dashed links were reported by one end only.</p></body></html>
        """
    }

    static func escapeXML(_ s: String) -> String {
        var o = ""
        for c in s {
            switch c {
            case "<": o += "&lt;"
            case ">": o += "&gt;"
            case "&": o += "&amp;"
            case "\"": o += "&quot;"
            default: o.append(c)
            }
        }
        return o
    }
}
