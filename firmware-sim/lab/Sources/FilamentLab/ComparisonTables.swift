import Foundation

/// The side-by-side Markdown tables of `filament-lab compare`: one table per experiment, one
/// column per daemon, each cell with the load average measured next to it.
public enum ComparisonTables {
    /// Rows per experiment: (row label, result key, how to print the value).
    static let rows: [(experiment: String, label: String, key: String, unit: String)] = [
        ("cold-start", "converged, from first launch", "converged_s_from_first_start", " s"),
        ("cold-start", "converged, from last launch", "converged_s_from_last_start", " s"),
        ("cold-start", "pairs reached", "pairs_reached", ""),
        ("relay-failure", "outage", "outage_s", " s"),
        ("relay-failure", "killed node", "killed_node", ""),
        ("relay-failure", "echoes sent / replies", "echoes_sent", ""),
        ("steady", "tx bytes per node per second", "tx_bytes_per_node_per_s", " B/s"),
        ("steady", "RSS mean / max", "rss_mean_kib", " KiB"),
        ("steady", "CPU mean / max (% of one core)", "cpu_percent_mean", " %"),
        ("tcp-3-hops", "TCP throughput", "gbit_per_s", " Gbit/s"),
    ]

    /// Markdown: for each experiment present in `results`, a table with one column per daemon.
    public static func markdown(_ results: [LabResult]) -> String {
        var out = ""
        var experiments: [(String, String)] = []
        for r in results where !experiments.contains(where: { $0 == (r.experiment, r.topology) }) {
            experiments.append((r.experiment, r.topology))
        }
        for (experiment, topology) in experiments {
            let rs = results.filter { $0.experiment == experiment && $0.topology == topology }
            out += "\n#### \(experiment), \(topology)\n\n| | " + rs.map(\.daemon).joined(separator: " | ") + " |\n"
            out += "|---|" + rs.map { _ in "---|" }.joined() + "\n"
            for row in rows where row.experiment == experiment {
                out += "| \(row.label) | " + rs.map { cell($0, row.key, row.unit) }.joined(separator: " | ") + " |\n"
            }
            out += "| load average (1 min) | " + rs.map { $0.values["load_avg_1m"].map(LabResult.format) ?? "—" }
                .joined(separator: " | ") + " |\n"
            let notes = rs.filter { !$0.note.isEmpty }.map { "\($0.daemon): \($0.note)" }
            if !notes.isEmpty { out += "\nNotes: " + notes.joined(separator: "; ") + "\n" }
        }
        return out
    }

    static func cell(_ r: LabResult, _ key: String, _ unit: String) -> String {
        guard let v = r.values[key] else { return "—" }
        switch key {
        case "echoes_sent": return "\(LabResult.format(v)) / \(r.values["replies"].map(LabResult.format) ?? "—")"
        case "rss_mean_kib": return "\(LabResult.format(v)) / \(r.values["rss_max_kib"].map(LabResult.format) ?? "—")\(unit)"
        case "cpu_percent_mean":
            let mx = r.values["cpu_percent_max"] ?? .nan
            return String(format: "%.3f / %.3f", v, mx) + unit
        case "converged_s_from_first_start", "converged_s_from_last_start", "outage_s":
            return String(format: "%.2f", v) + unit
        case "gbit_per_s": return String(format: "%.2f", v) + unit
        default: return LabResult.format(v) + unit
        }
    }
}
