/// The commented configuration `filamentd init` writes (every setting at its default, most commented out).
public enum StarterConfiguration {
    public static func text(stateDirectory: String) -> String {
        """
        # filamentd configuration (docs/configuration.md lists every setting).
        # Check it with: filamentd check-config FILE

        # Friendly name shown by filamentctl (at most 32 bytes).
        # name: kitchen-bulb

        # Key file and counters (created 0700).
        state_dir: \(stateDirectory)

        # Mesh interfaces: names or globs. The mesh runs over IPv6 link-local UDP on them.
        interfaces:
          - wlan0
        #  - "mesh*"

        # A private mesh: only nodes holding this 32-byte key (raw or 64 hex digits, mode 0600) join.
        # Without it the node joins the open mesh (links are still encrypted).
        # network_key_file: /etc/filament/network.key

        # UDP port of the mesh protocol.
        # port: 6701

        # TUN device holding this node's mesh address.
        # tun:
        #   name: fil0
        #   mtu: auto

        # Transport cipher of links: auto = AES-256-GCM with neighbours that offer it
        # when this CPU has AES instructions, else ChaCha20-Poly1305.
        # link_cipher: auto

        # Control socket for filamentctl.
        # control_socket: /run/filament/control.sock

        # log_level: info

        """
    }
}
