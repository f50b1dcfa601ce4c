import FilamentCore
import Foundation

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
        guard let path = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw DaemonFailure("nft not found (looked in \(candidates.joined(separator: ", "))); a gateway needs nftables")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = arguments
        let stdin = Pipe(), stderr = Pipe()
        p.standardInput = stdin
        p.standardError = stderr
        p.standardOutput = FileHandle.nullDevice
        do {
            try p.run()
            if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
            try stdin.fileHandleForWriting.close()
            p.waitUntilExit()
        } catch { throw DaemonFailure("cannot run nft: \(error)") }
        guard p.terminationStatus == 0 else {
            let message = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw DaemonFailure("nft \(arguments.joined(separator: " ")) failed: \(message.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
    }
}
