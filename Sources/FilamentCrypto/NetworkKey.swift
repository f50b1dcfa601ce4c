/// The network key is the Noise PSK: nodes without it cannot complete a handshake (their
/// initiations already fail mac1). An open mesh uses the well-known key below, so admission is
/// open while every link stays encrypted and authenticated per node.
public enum NetworkKey {
    /// Length of a network key.
    public static let length = 32

    /// The well-known key of open meshes: BLAKE2b-256("filament open mesh network key v1").
    public static func openMesh() -> SecretBytes {
        SecretBytes(copying: Sodium.blake2b(Array("filament open mesh network key v1".utf8), outputLength: 32))
    }
}
