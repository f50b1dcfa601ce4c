import Testing
import CSodium
@testable import FilamentCrypto

@Suite struct NoisePrimitiveTests {
    /// HASH is BLAKE2b-512: the RFC 7693 test vector for "abc".
    @Test func blake2bOfABC() {
        let h = NoiseHash.hash(Array("abc".utf8))
        #expect(hexString(h) == "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923")
    }

    /// HMAC-BLAKE2b follows RFC 2104 with a 128-byte block: matches a direct computation of H(K^opad || H(K^ipad || m)).
    @Test func hmacMatchesDefinition() {
        let key = (0..<64).map { UInt8($0) }, msg = Array("message".utf8)
        var out = [UInt8](repeating: 0, count: 64)
        key.withUnsafeBytes { k in msg.withUnsafeBytes { m in out.withUnsafeMutableBytes { o in NoiseHash.hmac(key: k, parts: [m], into: o) } } }
        let padded = key + [UInt8](repeating: 0, count: 64)
        let inner = NoiseHash.hash(padded.map { $0 ^ 0x36 }, msg)
        let expected = NoiseHash.hash(padded.map { $0 ^ 0x5c }, inner)
        #expect(out == expected)
        #expect(out != inner)
    }

    /// X25519 DH agrees both ways and rejects a low-order point (all-zero result).
    @Test func dhAgreesAndRejectsZero() throws {
        let a = X25519KeyPair.generate(), b = X25519KeyPair.generate()
        let ab = try a.dh(b.publicKey), ba = try b.dh(a.publicKey)
        let equal = ab.constantTimeEquals(ba)
        #expect(equal)
        #expect(throws: CryptoError.invalidPublicKey) { _ = try a.dh([UInt8](repeating: 0, count: 32)) }
    }

    /// ChaChaPoly uses the nonce 4 zero bytes || 8-byte LE counter: matches libsodium called directly with that nonce; a flipped bit fails.
    @Test func chachaPolyNonceLayout() throws {
        let key = [UInt8](repeating: 7, count: 32), pt = Array("hello noise".utf8)
        let cs = key.withUnsafeBytes { CipherState(key: $0) }
        cs.nonce = 0x0102_0304_0506_0708
        let ct = try cs.encryptWithAd([1, 2], pt)
        var nonce = [UInt8](repeating: 0, count: 4) + [0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01]
        var direct = [UInt8](repeating: 0, count: pt.count + 16)
        var clen: UInt64 = 0
        _ = crypto_aead_chacha20poly1305_ietf_encrypt(&direct, &clen, pt, UInt64(pt.count), [1, 2], 2, nil, &nonce, key)
        #expect(ct == direct)
        let rx = key.withUnsafeBytes { CipherState(key: $0) }
        rx.nonce = 0x0102_0304_0506_0708
        var bad = ct; bad[3] ^= 1
        #expect(throws: NoiseError.decryptFailed) { _ = try rx.decryptWithAd([1, 2], bad) }
        #expect(try rx.decryptWithAd([1, 2], ct) == pt)
    }

    /// The constant-time comparison says equal only for equal bytes.
    @Test func constantTimeCompare() {
        #expect(constantTimeEquals([1, 2, 3], [1, 2, 3]))
        #expect(!constantTimeEquals([1, 2, 3], [1, 2, 4]))
        #expect(!constantTimeEquals([1, 2], [1, 2, 3]))
    }
}
