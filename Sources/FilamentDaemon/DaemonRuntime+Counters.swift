import FilamentCrypto
import FilamentLinux
import FilamentWire
import FilamentNode

// The `counters` control command: every counter of the node, the engine, the link layer, the
// sockets and the TUN device, by name (sorted keys on the wire).
extension DaemonRuntime {
    func counters() -> [String: UInt64] {
        var c: [String: UInt64] = [:]
        func add(_ prefix: String, _ value: Any) {
            for child in Mirror(reflecting: value).children {
                guard let label = child.label else { continue }
                if let v = child.value as? UInt64 { c["\(prefix).\(label)"] = v }
                if let v = child.value as? Int, v >= 0 { c["\(prefix).\(label)"] = UInt64(v) }
            }
        }
        add("node", node.counters)
        for (i, kind) in Message.kindNames.enumerated() { c["node.controlBytesSent.\(kind)"] = node.counters.controlBytesSent[i] }
        add("engine", node.engineCounters)
        let link = node.link.counters
        add("link", link)
        for reason in LinkDropReason.allCases { c["link.drops.\(reason.rawValue)"] = link[reason] }
        c["link.drops"] = nil
        for t in transports.values { let s = t.statistics; add(s.prefix, s.value) }
        add("tun", tun.statistics)
        c["daemon.sendDrops"] = sendDrops
        c["daemon.tunWriteDrops"] = tunWriteDrops
        c["daemon.tunOffloadDrops"] = tunOffloadDrops
        c["tun.coalescedWrites"] = UInt64(coalescer.coalescedWrites)
        c["tun.coalescedSegments"] = UInt64(coalescer.coalescedSegments)
        return c
    }
}
