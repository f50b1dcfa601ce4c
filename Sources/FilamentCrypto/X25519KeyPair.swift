import CSodium

/// An X25519 key pair for Noise's DH. A class so a handshake can hold an optional one; the secret
/// lives in `SecretBytes` and is wiped when the last reference goes away.
package final class X25519KeyPair {
    package static let keyLength = 32
    package var secret: SecretBytes
    package let publicKey: [UInt8]

    /// A key pair owning the 32-byte `secret`.
    package init(secret: consuming SecretBytes) throws(CryptoError) {
        guard secret.count == Self.keyLength else { throw .invalidKeyLength(expected: 32, got: secret.count) }
        Sodium.initialise()
        var pk = [UInt8](repeating: 0, count: 32)
        let rc = secret.withUnsafeBytes { s in crypto_scalarmult_base(&pk, s.baseAddress!.assumingMemoryBound(to: UInt8.self)) }
        guard rc == 0 else { throw .operationFailed("crypto_scalarmult_base") }
        self.secret = secret
        publicKey = pk
    }

    /// A key pair from a 32-byte secret given as bytes (copied; tests, vectors).
    package convenience init(secret bytes: [UInt8]) throws(CryptoError) {
        try self.init(secret: SecretBytes(copying: bytes))
    }

    /// A fresh key pair from libsodium's CSPRNG.
    package static func generate() -> X25519KeyPair {
        try! X25519KeyPair(secret: SecretBytes(randomCount: keyLength))
    }

    /// DH(self, publicKey): the 32-byte shared secret; throws on a low-order point (all-zero result).
    package func dh(_ remotePublic: [UInt8]) throws(CryptoError) -> SecretBytes {
        guard remotePublic.count == Self.keyLength else { throw .invalidKeyLength(expected: 32, got: remotePublic.count) }
        var out = SecretBytes(zeroedCount: 32)
        let rc = secret.withUnsafeBytes { s in
            out.withUnsafeMutableBytes { o in
                crypto_scalarmult(o.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                  s.baseAddress!.assumingMemoryBound(to: UInt8.self), remotePublic)
            }
        }
        let zero = out.withUnsafeBytes { o in sodium_is_zero(o.baseAddress!.assumingMemoryBound(to: UInt8.self), 32) == 1 }
        guard rc == 0, !zero else { throw .invalidPublicKey }
        return out
    }

    /// The X25519 public key of an Ed25519 public key (a `NodeID`), via `crypto_sign_ed25519_pk_to_curve25519`.
    package static func publicKey(fromEd25519 ed: [UInt8]) throws(CryptoError) -> [UInt8] {
        guard ed.count == 32 else { throw .invalidKeyLength(expected: 32, got: ed.count) }
        Sodium.initialise()
        var x = [UInt8](repeating: 0, count: 32)
        guard crypto_sign_ed25519_pk_to_curve25519(&x, ed) == 0 else { throw .invalidPublicKey }
        return x
    }
}
