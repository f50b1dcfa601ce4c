/// Prometheus text exposition format 0.0.4, written by hand (decision 0726): one `# HELP` and one
/// `# TYPE` line per metric family, then its samples, families in the order they were first added
/// (so the output is deterministic and diffable between scrapes).
struct MetricsText {
    enum Kind: String { case counter, gauge }

    private struct Family {
        let name: String
        let kind: Kind
        let help: String
        var samples: [(labels: [(String, String)], value: String)] = []
    }

    private var families: [Family] = []
    private var index: [String: Int] = [:]

    /// Adds one sample. The first sample of a family fixes its kind and help text.
    mutating func add(_ name: String, _ kind: Kind, help: String, labels: [(String, String)] = [], _ value: Int64) {
        let i: Int
        if let existing = index[name] {
            i = existing
        } else {
            i = families.count
            index[name] = i
            families.append(Family(name: name, kind: kind, help: help))
        }
        families[i].samples.append((labels, String(value)))
    }

    /// The exposition text, UTF-8.
    func rendered() -> [UInt8] {
        var out = ""
        for f in families {
            out += "# HELP \(f.name) \(Self.escape(f.help, quotes: false))\n# TYPE \(f.name) \(f.kind.rawValue)\n"
            for s in f.samples {
                out += f.name
                if !s.labels.isEmpty {
                    out += "{" + s.labels.map { "\($0.0)=\"\(Self.escape($0.1, quotes: true))\"" }.joined(separator: ",") + "}"
                }
                out += " \(s.value)\n"
            }
        }
        return Array(out.utf8)
    }

    /// Backslash and newline are escaped in help text; label values also escape the double quote.
    static func escape(_ s: String, quotes: Bool) -> String {
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\"" where quotes: out += "\\\""
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }
}
