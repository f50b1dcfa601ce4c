import Foundation

/// One experiment's result: named numbers plus a note, printed as a JSON line.
public struct LabResult: Sendable {
    public var experiment: String
    public var daemon: String
    public var topology: String
    public var values: [String: Double]
    public var note: String
    /// The timers the daemon ran with (`DaemonDriver.timers`).
    public var timers: String

    public init(experiment: String, daemon: String, topology: String, values: [String: Double] = [:],
                note: String = "", timers: String = "") {
        self.experiment = experiment; self.daemon = daemon; self.topology = topology; self.values = values
        self.note = note; self.timers = timers
    }

    /// Reads back a line written by `jsonLine` (numbers become values; `date` is dropped).
    public init(jsonLine: String) throws {
        guard let o = try JSONSerialization.jsonObject(with: Data(jsonLine.utf8)) as? [String: Any] else {
            throw LabError.badInput("not a JSON object: \(jsonLine.prefix(80))")
        }
        self.init(experiment: o["experiment"] as? String ?? "?", daemon: o["daemon"] as? String ?? "?",
                  topology: o["topology"] as? String ?? "?", note: o["note"] as? String ?? "",
                  timers: o["timers"] as? String ?? "")
        for (k, v) in o { if let n = v as? NSNumber { values[k] = n.doubleValue } }
    }

    /// A single JSON object on one line, keys sorted.
    public func jsonLine(date: Date = Date()) -> String {
        var object: [String: Any] = ["experiment": experiment, "daemon": daemon, "topology": topology,
                                     "date": ISO8601DateFormatter().string(from: date)]
        for (k, v) in values { object[k] = v.isFinite ? v : nil }
        if !note.isEmpty { object["note"] = note }
        if !timers.isEmpty { object["timers"] = timers }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// Markdown table over several measurements: one row per (experiment, daemon, topology, key).
    public static func markdown(_ ms: [LabResult]) -> String {
        var s = "| experiment | daemon | topology | metric | value |\n|---|---|---|---|---|\n"
        for m in ms {
            for k in m.values.keys.sorted() {
                s += "| \(m.experiment) | \(m.daemon) | \(m.topology) | \(k) | \(format(m.values[k]!)) |\n"
            }
            if !m.note.isEmpty { s += "| \(m.experiment) | \(m.daemon) | \(m.topology) | note | \(m.note) |\n" }
        }
        return s
    }

    static func format(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e15 { return String(Int64(v)) }
        return String((v * 1000).rounded() / 1000)
    }
}
