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
        ("steady", "PSS mean (shared pages split among the daemons)", "pss_mean_kib", " KiB"),
        ("steady", "CPU mean / max (% of one core)", "cpu_percent_mean", " %"),
        ("tcp-3-hops", "TCP throughput", "gbit_per_s", " Gbit/s"),
        ("gateway-failover", "99 % of nodes through the backup", "failover_99pct_s", " s"),
        ("gateway-failover", "median / last node", "failover_median_s", " s"),
        ("gateway-failover", "nodes recovered / nodes", "nodes_recovered", ""),
        ("gateway-failover", "all nodes on the internet, from first launch", "all_reaching_internet_s", " s"),
        ("scale", "converged, from first launch", "converged_s_from_first_start", " s"),
        ("scale", "pairs reached / sampled", "pairs_reached", ""),
        ("scale", "start-up: namespaces+links+nodes / prepare / launch", "setup_nodes_s", " s"),
        ("scale", "MemAvailable before", "mem_available_mib", " MiB"),
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
        case "failover_median_s":
            return String(format: "%.2f / %.2f", v, r.values["failover_max_s"] ?? .nan) + unit
        case "nodes_recovered": return "\(LabResult.format(v)) / \(r.values["nodes"].map(LabResult.format) ?? "—")"
        case "pairs_reached": return "\(LabResult.format(v)) / \(r.values["pairs_total"].map(LabResult.format) ?? "—")"
        case "setup_nodes_s":
            let build = v + (r.values["setup_namespaces_s"] ?? 0) + (r.values["setup_links_s"] ?? 0)
            return String(format: "%.1f / %.1f / %.1f", build, r.values["setup_prepare_s"] ?? .nan,
                          r.values["setup_start_s"] ?? .nan) + unit
        case "echoes_sent": return "\(LabResult.format(v)) / \(r.values["replies"].map(LabResult.format) ?? "—")"
        case "rss_mean_kib": return "\(LabResult.format(v)) / \(r.values["rss_max_kib"].map(LabResult.format) ?? "—")\(unit)"
        case "cpu_percent_mean":
            let mx = r.values["cpu_percent_max"] ?? .nan
            return String(format: "%.3f / %.3f", v, mx) + unit
        case "converged_s_from_first_start", "converged_s_from_last_start", "outage_s", "failover_99pct_s",
             "all_reaching_internet_s":
            return String(format: "%.2f", v) + unit
        case "gbit_per_s": return String(format: "%.2f", v) + unit
        default: return LabResult.format(v) + unit
        }
    }
}
