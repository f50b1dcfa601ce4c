import CSodium

/// The AEAD of a link session's transport phase (decision 0804). The Noise handshake itself is
/// always `Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b`; the two sides agree on this cipher inside it:
/// the initiator lists what it accepts in its (encrypted, authenticated) initiation payload, the
/// responder names its choice in its response payload, and both payloads are part of the
/// handshake hash. A peer that sends no list gets ChaCha20-Poly1305.
public enum TransportCipher: UInt8, CaseIterable, Sendable, CustomStringConvertible {
    /// `crypto_aead_chacha20poly1305_ietf`: the default, and the only cipher without hardware AES.
    case chacha20Poly1305 = 1
    /// `crypto_aead_aes256gcm`: about twice as fast where the CPU has AES-NI and PCLMULQDQ.
    case aes256GCM = 2

    /// The name in configuration files, control answers and logs.
    public var description: String {
        switch self {
        case .chacha20Poly1305: return "chacha20-poly1305"
        case .aes256GCM: return "aes-256-gcm"
        }
    }

    /// Whether libsodium runs AES-256-GCM on this CPU (it has only a hardware implementation).
    public static var aes256GCMAvailable: Bool {
        Sodium.initialise()
        return crypto_aead_aes256gcm_is_available() == 1
    }

    /// Bit of this cipher in the initiator's offer byte.
    var offerBit: UInt8 { 1 << (rawValue - 1) }

    /// The offer byte for a node that accepts AES-256-GCM (`aes`) or only ChaCha20-Poly1305.
    static func offer(aes: Bool) -> UInt8 {
        aes ? chacha20Poly1305.offerBit | aes256GCM.offerBit : chacha20Poly1305.offerBit
    }

    /// The responder's choice for an initiator's `offer` byte: AES-256-GCM when both accept it,
    /// otherwise ChaCha20-Poly1305, which every node accepts (unknown bits are ignored).
    static func choose(offer: UInt8, aes: Bool) -> TransportCipher {
        aes && offer & aes256GCM.offerBit != 0 ? .aes256GCM : .chacha20Poly1305
    }
}

/// One direction's transport key, ready for the negotiated cipher. For AES-256-GCM the key
/// schedule and GHASH powers are computed once (`crypto_aead_aes256gcm_beforenm`) into a 16-byte
/// aligned state that is wiped when the key dies. Nonce for both: 4 zero bytes, then the 64-bit
/// counter little-endian (12 bytes); the counter never repeats under one key.
@usableFromInline
package final class TransportKey {
    package let cipher: TransportCipher
    private let chacha: CipherState
    private let aesState: UnsafeMutableRawPointer?

    /// Takes over `key` (a CipherState from Split()). AES-256-GCM requires `TransportCipher.aes256GCMAvailable`.
    package init(_ key: CipherState, cipher: TransportCipher) {
        self.cipher = cipher
        chacha = key
        if cipher == .aes256GCM {
            precondition(TransportCipher.aes256GCMAvailable, "AES-256-GCM negotiated without hardware support")
            let p = UnsafeMutableRawPointer.allocate(byteCount: crypto_aead_aes256gcm_statebytes(), alignment: 16)
            let state = p.bindMemory(to: crypto_aead_aes256gcm_state.self, capacity: 1)
            _ = key.withUnsafeKey { k in crypto_aead_aes256gcm_beforenm(state, k.baseAddress!.assumingMemoryBound(to: UInt8.self)) }
            aesState = p
        } else {
            aesState = nil
        }
    }

    deinit {
        if let aesState {
            sodium_memzero(aesState, crypto_aead_aes256gcm_statebytes())
            aesState.deallocate()
        }
    }

    /// Seals `plaintext` (no associated data) into `out` (plaintext.count + 16 bytes); `out` may
    /// alias `plaintext`. Returns the ciphertext length.
    @inline(__always)
    package func seal(counter n: UInt64, plaintext: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) -> Int {
        guard let aesState else {
            return chacha.seal(counter: n, ad: UnsafeRawBufferPointer(start: nil, count: 0), plaintext: plaintext, into: out)
        }
        precondition(out.count >= plaintext.count + CipherState.tagLength)
        var nonceWords = CipherState.nonceWords(n)
        var clen: UInt64 = 0
        withUnsafeBytes(of: &nonceWords) { np in
            _ = crypto_aead_aes256gcm_encrypt_afternm(
                out.baseAddress!.assumingMemoryBound(to: UInt8.self), &clen,
                plaintext.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(plaintext.count), nil, 0, nil,
                np.baseAddress!.assumingMemoryBound(to: UInt8.self), aesState.assumingMemoryBound(to: crypto_aead_aes256gcm_state.self))
        }
        return Int(clen)
    }

    /// Opens `ciphertext` into `out` (ciphertext.count - 16 bytes); nil if the tag does not verify.
    @inline(__always)
    package func open(counter n: UInt64, ciphertext: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) -> Int? {
        guard let aesState else {
            return chacha.open(counter: n, ad: UnsafeRawBufferPointer(start: nil, count: 0), ciphertext: ciphertext, into: out)
        }
        guard ciphertext.count >= CipherState.tagLength, out.count >= ciphertext.count - CipherState.tagLength else { return nil }
        var nonceWords = CipherState.nonceWords(n)
        var mlen: UInt64 = 0
        let rc = withUnsafeBytes(of: &nonceWords) { np in
            crypto_aead_aes256gcm_decrypt_afternm(
                out.baseAddress?.assumingMemoryBound(to: UInt8.self), &mlen, nil,
                ciphertext.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(ciphertext.count), nil, 0,
                np.baseAddress!.assumingMemoryBound(to: UInt8.self), aesState.assumingMemoryBound(to: crypto_aead_aes256gcm_state.self))
        }
        return rc == 0 ? Int(mlen) : nil
    }
}
