import FilamentCore
import FilamentLinux
import Glibc

/// The daemon's own nftables table (`table inet filament`): source NAT on the uplink for the IPv4
/// lease pool and the mesh /48. Created at start (replacing a leftover of a crashed daemon), deleted
/// at exit. Nothing outside this table is touched. docs/gateways.md.
struct GatewayFirewall {
    static let table = "filament"
    let uplink: String
    let ipv4Pool: Prefix
    let meshPrefix: Prefix
    let natIPv6: Bool

    /// The ruleset `nft -f` loads: declare (so the delete cannot fail), delete, create afresh.
    var ruleset: String {
        var rules = "    oifname \"\(uplink)\" ip saddr \(ipv4Pool) masquerade\n"
        if natIPv6 { rules += "    oifname \"\(uplink)\" ip6 saddr \(meshPrefix) masquerade\n" }
        return """
        table inet \(Self.table)
        delete table inet \(Self.table)
        table inet \(Self.table) {
          chain postrouting {
            type nat hook postrouting priority srcnat; policy accept;
        \(rules)  }
        }

        """
    }

    func install() throws(DaemonFailure) { try Self.nft(["-f", "-"], input: ruleset) }

    static func remove() throws(DaemonFailure) { try nft(["delete", "table", "inet", table], input: nil) }

    static func nft(_ arguments: [String], input: String?) throws(DaemonFailure) {
        let candidates = ["/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft"]
        guard let path = candidates.first(where: { access($0, X_OK) == 0 }) else {
            throw DaemonFailure("nft not found (looked in \(candidates.joined(separator: ", "))); a gateway needs nftables")
        }
        let command = "nft \(arguments.joined(separator: " "))"
        let r: ChildProcess.Result
        do {
            r = try ChildProcess.run(path, arguments, input: Array((input ?? "").utf8), timeoutMilliseconds: 10_000)
        } catch { throw DaemonFailure("cannot run nft: \(error)") }
        guard !r.timedOut else { throw DaemonFailure("\(command) did not finish within 10 s and was killed") }
        guard r.exitStatus == 0 else {
            let message = String(decoding: r.standardError, as: UTF8.self).trimmingWhitespace
            let how = r.exitStatus.map { "exit status \($0)" } ?? "signal \(r.signal ?? 0)"
            throw DaemonFailure("\(command) failed (\(how)): \(message)")
        }
    }
}

extension String {
    fileprivate var trimmingWhitespace: String {
        let u = Array(utf8)
        let isSpace: (UInt8) -> Bool = { $0 == 32 || (9...13).contains($0) }
        guard let first = u.firstIndex(where: { !isSpace($0) }), let last = u.lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(decoding: u[first...last], as: UTF8.self)
    }
}
