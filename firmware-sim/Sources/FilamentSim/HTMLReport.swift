/// A self-contained HTML page (inline SVG, CSS and a few lines of JS, no external resources) showing the
/// mesh: bulbs, links, gateways, each bulb's next hop towards its chosen gateway, state colours; before
/// and after the first timeline event side by side.
public enum HTMLReport {
    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"]

    public static func render(_ r: SimResult) -> String {
        var panels: [(String, Snapshot)] = []
        if let b = r.before { panels.append((r.beforeLabel, b)) }
        panels.append(("end of run (t=\(Summary.fmt((r.after.at.nanoseconds == 0 ? 0 : Double(r.after.at.nanoseconds) / 1e9), 1)) s)", r.after))
        var h = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>filament-sim: \(esc(r.name))</title>
        <style>
        body{font-family:system-ui,sans-serif;margin:16px;color:#222}
        .panels{display:flex;flex-wrap:wrap;gap:16px}
        .panel{border:1px solid #ccc;border-radius:6px;padding:8px;flex:1 1 480px}
        svg{width:100%;height:auto;background:#fafafa}
        .link{stroke:#ccc;stroke-width:0.6}
        .link.down{stroke:#f33;stroke-dasharray:2 2}
        .path{stroke-width:1.6;fill:none}
        .dead{fill:#444}
        .loop{fill:#ff00ff}
        .hole{fill:#f90}
        .nogw{fill:#bbb}
        table{border-collapse:collapse;margin:8px 0}
        td,th{border:1px solid #ddd;padding:2px 8px;font-size:13px;text-align:left}
        #tip{position:fixed;background:#fff;border:1px solid #888;padding:2px 6px;font-size:12px;display:none;pointer-events:none}
        </style></head><body>
        <h1>\(esc(r.name))</h1>
        <p>\(r.nodes) bulbs, \(r.links) links, \(r.gateways.count) gateways; engine \(esc(r.engine)); crypto \(r.crypto.rawValue); seed \(r.seed).
        Convergence \(Summary.fmt(r.convergenceSeconds)) s; loops \(r.loopsObserved); final reachability \(Summary.fmt(r.reachability * 100))%,
        gateway reachability \(Summary.fmt(r.gatewayReachability * 100))%.</p>
        <p>Legend: squares are gateways (crossed when dead or uplink down); a bulb's colour and the line to its next hop
        show which gateway it uses; <span style="color:#f90">orange</span> black hole, <span style="color:#f0f">magenta</span> loop,
        grey no gateway, dark off; dashed red links are cut.</p>
        <table><tr><th>event</th><th>at (s)</th><th>recovery (s)</th><th>99% (s)</th><th>min reachability</th><th>min gateway reachability</th></tr>

        """
        for e in r.events.prefix(50) {
            h += "<tr><td>\(esc(e.label))</td><td>\(Summary.fmt(e.at))</td><td>\(Summary.fmt(e.recovery))</td><td>\(Summary.fmt(e.recovery99))</td>"
            h += "<td>\(Summary.fmt(e.minReach * 100, 1))%</td><td>\(Summary.fmt(e.minGatewayReach * 100, 1))%</td></tr>\n"
        }
        h += "</table>\n<div class=\"panels\">\n"
        for (title, snap) in panels { h += panel(r, title: title, snap) }
        h += """
        </div><div id="tip"></div>
        <script>
        const tip=document.getElementById('tip');
        document.querySelectorAll('svg [data-n]').forEach(e=>{
          e.addEventListener('mousemove',ev=>{tip.style.display='block';tip.style.left=(ev.clientX+12)+'px';tip.style.top=(ev.clientY+12)+'px';tip.textContent=e.dataset.n;});
          e.addEventListener('mouseleave',()=>{tip.style.display='none';});
        });
        </script></body></html>

        """
        return h
    }

    static func panel(_ r: SimResult, title: String, _ s: Snapshot) -> String {
        let t = r.topology
        let xs = t.positions.map(\.x), ys = t.positions.map(\.y)
        let (x0, x1, y0, y1) = (xs.min() ?? 0, xs.max() ?? 1, ys.min() ?? 0, ys.max() ?? 1)
        let span = max(x1 - x0, y1 - y0, 1e-9)
        let size = 1000.0, margin = 20.0
        let scale = (size - 2 * margin) / span
        func px(_ i: Int) -> (String, String) {
            (f((t.positions[i].x - x0) * scale + margin), f((t.positions[i].y - y0) * scale + margin))
        }
        let w = f((x1 - x0) * scale + 2 * margin), hgt = f((y1 - y0) * scale + 2 * margin)
        let radius = f(max(1.5, min(6, 300 / Double(max(t.count, 1)).squareRoot())))
        var gwColour: [Int: String] = [:]
        for (k, g) in r.gateways.enumerated() { gwColour[g] = palette[k % palette.count] }
        var o = "<div class=\"panel\"><h3>\(esc(title))</h3><svg viewBox=\"0 0 \(w) \(hgt)\" xmlns=\"http://www.w3.org/2000/svg\">\n"
        for (i, l) in t.links.enumerated() {
            let (ax, ay) = px(l.a), (bx, by) = px(l.b)
            o += "<line class=\"link\(s.linkUp[i] ? "" : " down")\" x1=\"\(ax)\" y1=\"\(ay)\" x2=\"\(bx)\" y2=\"\(by)\"/>\n"
        }
        for i in 0..<t.count where s.alive[i] && s.nextHop[i] >= 0 && s.gateway[i] >= 0 {
            let (ax, ay) = px(i), (bx, by) = px(s.nextHop[i])
            o += "<line class=\"path\" stroke=\"\(gwColour[s.gateway[i]] ?? "#000")\" x1=\"\(ax)\" y1=\"\(ay)\" x2=\"\(bx)\" y2=\"\(by)\"/>\n"
        }
        let gwSet = Set(r.gateways)
        for i in 0..<t.count {
            let (x, y) = px(i)
            var cls = "", fill = ""
            if !s.alive[i] { cls = "dead" }
            else if s.status[i] == 1 { cls = "loop" }
            else if s.status[i] == 2 { cls = "hole" }
            else if s.status[i] == 0, let c = gwColour[s.gateway[i]] { fill = c }
            else { cls = "nogw" }
            let attr = cls.isEmpty ? "fill=\"\(fill)\"" : "class=\"\(cls)\""
            let label = "\(t.names[i])\(gwSet.contains(i) ? " (gateway)" : "")\(s.gateway[i] >= 0 ? " via gateway \(t.names[s.gateway[i]])" : "")"
            if gwSet.contains(i) {
                let side = f(Double(radius)! * 3)
                let half = f(Double(radius)! * 1.5)
                o += "<rect \(attr) stroke=\"#000\" x=\"\(f(Double(x)! - Double(half)!))\" y=\"\(f(Double(y)! - Double(half)!))\" width=\"\(side)\" height=\"\(side)\" data-n=\"\(esc(label))\"/>\n"
                if !s.liveGateways.contains(i) {
                    o += "<text x=\"\(x)\" y=\"\(y)\" font-size=\"\(f(Double(radius)! * 4))\" text-anchor=\"middle\" dominant-baseline=\"central\" fill=\"#f00\">×</text>\n"
                }
            } else {
                o += "<circle \(attr) cx=\"\(x)\" cy=\"\(y)\" r=\"\(radius)\" data-n=\"\(esc(label))\"/>\n"
            }
        }
        o += "</svg></div>\n"
        return o
    }

    static func f(_ d: Double) -> String { String((d * 10).rounded() / 10) }

    static func esc(_ s: String) -> String {
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
