import CSodium
import FilamentCore

/// A node's long-term key pair: an Ed25519 key made from a 32-byte seed. Its public key is the
/// node's `NodeID`; the X25519 static key of the Noise link layer is derived from it with libsodium's
/// Ed25519-to-Curve25519 conversion, so one seed file is the whole identity (docs/identity.md).
public struct NodeKeyPair: ~Copyable {
    public static let seedLength = 32
    /// Ed25519 secret key (seed || public key), 64 bytes.
    private var ed25519Secret: SecretBytes
    /// X25519 secret key, 32 bytes.
    private var x25519Secret: SecretBytes
    public let nodeID: NodeID
    /// The X25519 public key used as the Noise static key.
    public let x25519Public: [UInt8]

    /// A key pair from a 32-byte seed.
    public init(seed: borrowing SecretBytes) throws(CryptoError) {
        guard seed.count == Self.seedLength else {
            throw .invalidKeyLength(expected: Self.seedLength, got: seed.count)
        }
        Sodium.initialise()
        var pk = [UInt8](repeating: 0, count: 32)
        var sk = SecretBytes(zeroedCount: 64)
        let rc = seed.withUnsafeBytes { s in
            sk.withUnsafeMutableBytes { skp in
                crypto_sign_seed_keypair(&pk, skp.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                         s.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        guard rc == 0 else { throw .operationFailed("crypto_sign_seed_keypair") }
        var xsk = SecretBytes(zeroedCount: 32)
        var xpk = [UInt8](repeating: 0, count: 32)
        let rc2 = sk.withUnsafeBytes { skp in
            xsk.withUnsafeMutableBytes { x in
                crypto_sign_ed25519_sk_to_curve25519(x.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                                     skp.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        guard rc2 == 0, crypto_sign_ed25519_pk_to_curve25519(&xpk, pk) == 0 else {
            throw .operationFailed("crypto_sign_ed25519_*_to_curve25519")
        }
        ed25519Secret = sk
        x25519Secret = xsk
        nodeID = NodeID(bytes: pk)!
        x25519Public = xpk
    }

    /// A fresh random seed for a new identity (store it, then build the pair with `init(seed:)`).
    public static func newSeed() -> SecretBytes { SecretBytes(randomCount: seedLength) }

    /// A 64-byte detached Ed25519 signature.
    public func sign(_ message: [UInt8]) -> [UInt8] {
        var sig = [UInt8](repeating: 0, count: 64)
        ed25519Secret.withUnsafeBytes { sk in
            _ = crypto_sign_detached(&sig, nil, message, UInt64(message.count),
                                     sk.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        return sig
    }

    /// The X25519 secret key, for the link layer only.
    public func withX25519Secret<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try x25519Secret.withUnsafeBytes(body)
    }
}

/// Ed25519 verification with libsodium.
public enum Ed25519 {
    public static func verify(signature: [UInt8], of message: [UInt8], by key: NodeID) -> Bool {
        guard signature.count == 64 else { return false }
        Sodium.initialise()
        return crypto_sign_verify_detached(signature, message, UInt64(message.count), key.bytes) == 0
    }
}
