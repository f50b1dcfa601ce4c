import FilamentCore
import CSodium

/// Sizes and offsets of the handshake frames (types 0x01-0x03); see docs/link-layer.md.
enum HandshakeFrames {
    static let macLength = 16
    /// Payload of message 1: initiator NodeID (32) || initiation counter (u64 LE) || transport
    /// cipher offer (1 byte, bit 0 ChaCha20-Poly1305, bit 1 AES-256-GCM; decision 0804).
    static let initiationPayloadLength = 41
    /// The same without the offer byte (builds before decision 0804): answered, with ChaCha20-Poly1305.
    static let legacyInitiationPayloadLength = 40
    /// type(1) reserved(3) sender(4) | e(32) s(32+16) payload(41+16) | mac1(16) mac2(16)
    static let initiationLength = 8 + 32 + 48 + 57 + 32
    static let legacyInitiationLength = initiationLength - 1
    static let initiationMac1Offset = initiationLength - 32
    /// Payload of message 2: the transport cipher chosen (1 byte, `TransportCipher.rawValue`);
    /// empty in the answer to a legacy initiation.
    static let responsePayloadLength = 1
    /// type(1) reserved(3) sender(4) receiver(4) | e(32) payload(1+16) | mac1(16) mac2(16)
    static let responseLength = 12 + 49 + 32
    static let legacyResponseLength = responseLength - 1
    static let responseMac1Offset = responseLength - 32
    /// type(1) reserved(3) receiver(4) | nonce(24) | XChaCha20-Poly1305(cookie 16) (32)
    static let cookieReplyLength = 8 + 24 + 32
    static let cookieLength = 16

    static let prologue = Array("filament link v1".utf8)

    /// Whether bytes 1..<4 are zero and byte 0 is `type`.
    static func hasHeader(_ f: UnsafeRawBufferPointer, _ type: FrameType) -> Bool {
        f.count >= 4 && f[0] == type.rawValue && f[1] == 0 && f[2] == 0 && f[3] == 0
    }

    static func header(_ type: FrameType) -> [UInt8] { [type.rawValue, 0, 0, 0] }

    static func le32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
    static func le64(_ v: UInt64) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
    static func readLE32(_ f: UnsafeRawBufferPointer, _ offset: Int) -> UInt32 {
        UInt32(littleEndian: f.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    /// A 32-byte key BLAKE2b-256(label || networkKey || publicKey): mac1 keys and cookie-encryption
    /// keys are bound to both the network key and the key of the node the message is for.
    static func deriveKey(_ label: String, networkKey: borrowing SecretBytes, publicKey: [UInt8]) -> SecretBytes {
        var out = SecretBytes(zeroedCount: 32)
        let l = Array(label.utf8)
        networkKey.withUnsafeBytes { k in
            l.withUnsafeBytes { lp in
                publicKey.withUnsafeBytes { p in
                    out.withUnsafeMutableBytes { o in NoiseHash.hashRaw([lp, k, p], into: o) }
                }
            }
        }
        return out
    }

    /// keyed BLAKE2b-128 of `frame[0..<end]`.
    static func mac(key: UnsafeRawBufferPointer, _ frame: UnsafeRawBufferPointer, upTo end: Int) -> [UInt8] {
        NoiseHash.keyedHash(key: key, UnsafeRawBufferPointer(rebasing: frame[0..<end]), outputLength: macLength)
    }

    /// Constant-time check that `frame[offset..<offset+16] == expected`.
    static func macMatches(_ frame: UnsafeRawBufferPointer, at offset: Int, _ expected: [UInt8]) -> Bool {
        expected.withUnsafeBytes { e in sodium_memcmp(frame.baseAddress! + offset, e.baseAddress!, macLength) == 0 }
    }

    /// XChaCha20-Poly1305 seal of `cookie` under `key` with `nonce` and `ad`.
    static func sealCookie(_ cookie: [UInt8], key: borrowing SecretBytes, nonce: [UInt8], ad: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: cookie.count + 16)
        var clen: UInt64 = 0
        key.withUnsafeBytes { k in
            _ = crypto_aead_xchacha20poly1305_ietf_encrypt(&out, &clen, cookie, UInt64(cookie.count), ad, UInt64(ad.count), nil,
                                                           nonce, k.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        return out
    }

    /// XChaCha20-Poly1305 open; nil if it does not authenticate.
    static func openCookie(_ sealed: [UInt8], key: borrowing SecretBytes, nonce: [UInt8], ad: [UInt8]) -> [UInt8]? {
        guard sealed.count == cookieLength + 16 else { return nil }
        var out = [UInt8](repeating: 0, count: cookieLength)
        var mlen: UInt64 = 0
        let rc = key.withUnsafeBytes { k in
            crypto_aead_xchacha20poly1305_ietf_decrypt(&out, &mlen, nil, sealed, UInt64(sealed.count), ad, UInt64(ad.count),
                                                       nonce, k.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        return rc == 0 ? out : nil
    }
}
