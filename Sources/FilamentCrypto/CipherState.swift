import CSodium

/// Errors of the Noise protocol layer.
package enum NoiseError: Error, Equatable, Sendable {
    case decryptFailed
    case messageTooShort
    case messageTooLong
    case invalidPublicKey
    case nonceExhausted
    case wrongTurn
    case missingKey(String)
    case handshakeIncomplete
}

/// Noise's CipherState with ChaChaPoly (`crypto_aead_chacha20poly1305_ietf`, nonce = 4 zero bytes
/// + 8-byte little-endian counter). The key is a fixed 32-byte `SecretBytes` (wiped on deinit); `hasKey`
/// says whether it has been initialised (Noise's "empty" key).
package final class CipherState {
    package static let keyLength = 32
    package static let tagLength = 16
    private var key = SecretBytes(zeroedCount: 32)
    package private(set) var hasKey = false
    /// The next nonce `n`.
    package var nonce: UInt64 = 0

    package init() {}

    /// A CipherState with key `k` (32 bytes, copied).
    package init(key k: UnsafeRawBufferPointer) {
        initializeKey(k)
    }

    /// InitializeKey(k): sets the key and resets the nonce.
    package func initializeKey(_ k: UnsafeRawBufferPointer) {
        precondition(k.count == Self.keyLength)
        key.withUnsafeMutableBytes { dst in dst.copyMemory(from: k) }
        hasKey = true
        nonce = 0
    }

    /// The key bytes, for deriving a transport key of another cipher from a Split() output.
    package func withUnsafeKey<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R { key.withUnsafeBytes(body) }

    /// ChaChaPoly ENCRYPT(k, n, ad, plaintext) into `out` (plaintext.count + 16 bytes); returns the length.
    /// `out` may alias `plaintext` (in-place). Does not touch `nonce`.
    @inline(__always)
    package func seal(counter n: UInt64, ad: UnsafeRawBufferPointer, plaintext: UnsafeRawBufferPointer,
                      into out: UnsafeMutableRawBufferPointer) -> Int {
        precondition(out.count >= plaintext.count + Self.tagLength)
        var nonceWords = Self.nonceWords(n)
        var clen: UInt64 = 0
        key.withUnsafeBytes { k in
            withUnsafeBytes(of: &nonceWords) { np in
                _ = crypto_aead_chacha20poly1305_ietf_encrypt(
                    out.baseAddress!.assumingMemoryBound(to: UInt8.self), &clen,
                    plaintext.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(plaintext.count),
                    ad.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(ad.count), nil,
                    np.baseAddress!.assumingMemoryBound(to: UInt8.self), k.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        return Int(clen)
    }

    /// ChaChaPoly DECRYPT into `out` (ciphertext.count - 16 bytes); nil if the tag does not verify
    /// (libsodium compares the tag in constant time). Does not touch `nonce`.
    @inline(__always)
    package func open(counter n: UInt64, ad: UnsafeRawBufferPointer, ciphertext: UnsafeRawBufferPointer,
                      into out: UnsafeMutableRawBufferPointer) -> Int? {
        guard ciphertext.count >= Self.tagLength, out.count >= ciphertext.count - Self.tagLength else { return nil }
        var nonceWords = Self.nonceWords(n)
        var mlen: UInt64 = 0
        let rc = key.withUnsafeBytes { k in
            withUnsafeBytes(of: &nonceWords) { np in
                crypto_aead_chacha20poly1305_ietf_decrypt(
                    out.baseAddress?.assumingMemoryBound(to: UInt8.self), &mlen, nil,
                    ciphertext.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(ciphertext.count),
                    ad.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(ad.count),
                    np.baseAddress!.assumingMemoryBound(to: UInt8.self), k.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        return rc == 0 ? Int(mlen) : nil
    }

    /// The 12-byte nonce as two words laid out in memory as 4 zero bytes then `n` little-endian
    /// (the transport's AES-256-GCM nonce is built the same way, see `TransportKey`).
    @inline(__always)
    static func nonceWords(_ n: UInt64) -> (UInt64, UInt64) {
        #if _endian(little)
        return ((n & 0xffff_ffff) << 32, n >> 32)
        #else
        return (((n & 0xffff_ffff) << 32).byteSwapped, (n >> 32).byteSwapped)
        #endif
    }

    /// EncryptWithAd(ad, plaintext): uses and increments `nonce`; plaintext passes through without a key.
    package func encryptWithAd(_ ad: [UInt8], _ plaintext: [UInt8]) throws(NoiseError) -> [UInt8] {
        guard hasKey else { return plaintext }
        guard nonce != .max else { throw .nonceExhausted }
        var out = [UInt8](repeating: 0, count: plaintext.count + Self.tagLength)
        let n = nonce
        _ = ad.withUnsafeBytes { a in plaintext.withUnsafeBytes { p in out.withUnsafeMutableBytes { o in
            seal(counter: n, ad: a, plaintext: p, into: o) } } }
        nonce += 1
        return out
    }

    /// DecryptWithAd(ad, ciphertext): uses and increments `nonce` on success.
    package func decryptWithAd(_ ad: [UInt8], _ ciphertext: [UInt8]) throws(NoiseError) -> [UInt8] {
        guard hasKey else { return ciphertext }
        guard nonce != .max else { throw .nonceExhausted }
        guard ciphertext.count >= Self.tagLength else { throw .decryptFailed }
        var out = [UInt8](repeating: 0, count: ciphertext.count - Self.tagLength)
        let n = nonce
        let ok = ad.withUnsafeBytes { a in ciphertext.withUnsafeBytes { c in out.withUnsafeMutableBytes { o in
            open(counter: n, ad: a, ciphertext: c, into: o) } } }
        guard ok != nil else { throw .decryptFailed }
        nonce += 1
        return out
    }
}
