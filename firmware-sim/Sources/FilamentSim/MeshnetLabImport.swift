import Foundation

/// Reads meshnet-lab's topology JSON: `{"nodes":[{"id":..,"x":..,"y":..}], "links":[{"source":..,"target":..}]}`.
/// Ids may be strings or numbers; positions are optional (a circle layout is used when missing).
/// Per-link `"loss"` (0...1) is honoured when present.
public enum MeshnetLabImport {
    public static func topology(json data: Data, link: LinkParameters = .default) throws -> Topology {
        let any: Any
        do { any = try JSONSerialization.jsonObject(with: data) } catch {
            throw TopologyError.invalid("meshnet-lab JSON does not parse: \(error.localizedDescription)")
        }
        guard let root = any as? [String: Any] else { throw TopologyError.invalid("meshnet-lab JSON: top level is not an object") }
        guard let nodes = root["nodes"] as? [[String: Any]] else { throw TopologyError.invalid("meshnet-lab JSON: missing \"nodes\" array") }
        let links = root["links"] as? [[String: Any]] ?? []
        func idString(_ v: Any?) -> String? {
            if let s = v as? String { return s }
            if let n = v as? NSNumber { return n.stringValue }
            return nil
        }
        var index: [String: Int] = [:]
        var names: [String] = []
        var pos: [Topology.Position] = []
        for (i, node) in nodes.enumerated() {
            guard let id = idString(node["id"]) else { throw TopologyError.invalid("meshnet-lab JSON: node \(i) has no id") }
            guard index[id] == nil else { throw TopologyError.invalid("meshnet-lab JSON: duplicate node id \(id)") }
            index[id] = i
            names.append(id)
            let x = (node["x"] as? NSNumber)?.doubleValue, y = (node["y"] as? NSNumber)?.doubleValue
            let angle = Double(i) / Double(max(nodes.count, 1)) * 6.283185307179586
            pos.append(.init(x: x ?? 10 * cosApprox(angle), y: y ?? 10 * sinApprox(angle)))
        }
        var out: [Link] = []
        for (i, l) in links.enumerated() {
            guard let s = idString(l["source"]), let t = idString(l["target"]) else {
                throw TopologyError.invalid("meshnet-lab JSON: link \(i) lacks source/target")
            }
            guard let a = index[s], let b = index[t] else {
                throw TopologyError.invalid("meshnet-lab JSON: link \(i) names unknown node \(index[s] == nil ? s : t)")
            }
            var p = link
            if let loss = (l["loss"] as? NSNumber)?.doubleValue { p.loss = max(0, min(1, loss)) }
            out.append(Link(a, b, forward: p, backward: p))
        }
        return Topology(kind: "meshnet-lab (\(nodes.count) nodes)", positions: pos, links: out, names: names)
    }
}
