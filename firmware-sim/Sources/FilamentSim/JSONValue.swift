/// A small JSON tree whose objects keep their keys in insertion order, written without Foundation so
/// reports are byte-for-byte reproducible.
public indirect enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool { a.serialized() == b.serialized() }

    /// A double rounded to 6 decimals (null when not finite).
    public static func number(_ d: Double?) -> JSONValue {
        guard let d, d.isFinite else { return .null }
        return .double((d * 1e6).rounded() / 1e6)
    }

    /// Member `key` of an object.
    public subscript(key: String) -> JSONValue? {
        if case .object(let kv) = self { return kv.first { $0.0 == key }?.1 }
        return nil
    }

    /// Looks up a dotted path such as `route_stretch.p95` or `events.0.recovery_seconds`.
    public func lookup(_ path: String) -> JSONValue? {
        var v: JSONValue? = self
        for part in path.split(separator: ".") {
            guard let cur = v else { return nil }
            if case .array(let a) = cur, let i = Int(part) { v = i >= 0 && i < a.count ? a[i] : nil }
            else { v = cur[String(part)] }
        }
        return v
    }

    public var doubleValue: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }

    /// Pretty-printed text, two-space indents, keys in insertion order.
    public func serialized(indent: Int = 0) -> String {
        var out = ""
        write(into: &out, indent: indent)
        return out
    }

    private func write(into out: inout String, indent: Int) {
        let pad = String(repeating: " ", count: indent + 2), close = String(repeating: " ", count: indent)
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d):
            if d == d.rounded() && abs(d) < 1e15 { out += String(Int64(d)) } else { out += String(d) }
        case .string(let s): Self.escape(s, into: &out)
        case .array(let a):
            if a.isEmpty { out += "[]"; return }
            let simple = a.allSatisfy { if case .object = $0 { return false }; if case .array = $0 { return false }; return true }
            if simple {
                out += "["
                for (i, v) in a.enumerated() { if i > 0 { out += ", " }; v.write(into: &out, indent: indent) }
                out += "]"
                return
            }
            out += "[\n"
            for (i, v) in a.enumerated() {
                out += pad; v.write(into: &out, indent: indent + 2)
                out += i + 1 < a.count ? ",\n" : "\n"
            }
            out += close + "]"
        case .object(let kv):
            if kv.isEmpty { out += "{}"; return }
            out += "{\n"
            for (i, (k, v)) in kv.enumerated() {
                out += pad; Self.escape(k, into: &out); out += ": "
                v.write(into: &out, indent: indent + 2)
                out += i + 1 < kv.count ? ",\n" : "\n"
            }
            out += close + "}"
        }
    }

    static func escape(_ s: String, into out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let h = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
                } else { out.unicodeScalars.append(u) }
            }
        }
        out += "\""
    }
}
