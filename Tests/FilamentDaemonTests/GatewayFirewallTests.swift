import Glibc
import Testing
@testable import FilamentDaemon

@Suite struct GatewayFirewallTests {
    /// nft's own complaint, its exit status and the command reach the daemon's error (nft's parser
    /// rejects the input before touching the kernel, so this changes no ruleset).
    @Test(.enabled(if: ["/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft"].contains { (p: String) in access(p, X_OK) == 0 }))
    func nftFailureCarriesItsMessage() {
        do {
            try GatewayFirewall.nft(["-c", "-f", "-"], input: "this is not an nft ruleset\n")
            Issue.record("expected nft to refuse the input")
        } catch {
            #expect(error.description.hasPrefix("nft -c -f - failed (exit status 1): "))
            #expect(error.description.contains("syntax error"))
        }
    }
}
