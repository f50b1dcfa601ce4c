import CSodium

/// Noise's SymmetricState: chaining key `ck` (secret), handshake hash `h`, and a CipherState.
package final class SymmetricState {
    private var ck = SecretBytes(zeroedCount: NoiseHash.hashLength)
    package private(set) var h: [UInt8]
    package let cipher = CipherState()

    /// InitializeSymmetric(protocol_name).
    package init(protocolName: String) {
        let name = Array(protocolName.utf8)
        if name.count <= NoiseHash.hashLength {
            h = name + [UInt8](repeating: 0, count: NoiseHash.hashLength - name.count)
        } else {
            h = NoiseHash.hash(name)
        }
        let h0 = h
        ck.withUnsafeMutableBytes { c in h0.withUnsafeBytes { c.copyMemory(from: $0) } }
    }

    /// MixKey(input_key_material).
    package func mixKey(_ ikm: UnsafeRawBufferPointer) {
        let out = ck.withUnsafeBytes { c in NoiseHash.hkdf(chainingKey: c, inputKeyMaterial: ikm, outputs: 2) }
        out.withUnsafeBytes { o in
            ck.withUnsafeMutableBytes { c in c.copyMemory(from: UnsafeRawBufferPointer(rebasing: o[0..<64])) }
            cipher.initializeKey(UnsafeRawBufferPointer(rebasing: o[64..<96]))
        }
    }

    /// MixKey with a secret (a DH output).
    package func mixKey(_ ikm: borrowing SecretBytes) {
        ikm.withUnsafeBytes { mixKey($0) }
    }

    /// MixHash(data).
    package func mixHash(_ data: [UInt8]) {
        h = NoiseHash.hash(h, data)
    }

    /// MixKeyAndHash(input_key_material), used for PSKs.
    package func mixKeyAndHash(_ ikm: UnsafeRawBufferPointer) {
        let out = ck.withUnsafeBytes { c in NoiseHash.hkdf(chainingKey: c, inputKeyMaterial: ikm, outputs: 3) }
        out.withUnsafeBytes { o in
            ck.withUnsafeMutableBytes { c in c.copyMemory(from: UnsafeRawBufferPointer(rebasing: o[0..<64])) }
            mixHash(Array(o[64..<128]))
            cipher.initializeKey(UnsafeRawBufferPointer(rebasing: o[128..<160]))
        }
    }

    /// EncryptAndHash(plaintext).
    package func encryptAndHash(_ plaintext: [UInt8]) throws(NoiseError) -> [UInt8] {
        let c = try cipher.encryptWithAd(h, plaintext)
        mixHash(c)
        return c
    }

    /// DecryptAndHash(ciphertext).
    package func decryptAndHash(_ ciphertext: [UInt8]) throws(NoiseError) -> [UInt8] {
        let p = try cipher.decryptWithAd(h, ciphertext)
        mixHash(ciphertext)
        return p
    }

    /// Split(): the initiator-to-responder and responder-to-initiator CipherStates.
    package func split() -> (CipherState, CipherState) {
        let out = ck.withUnsafeBytes { c in NoiseHash.hkdf(chainingKey: c, inputKeyMaterial: UnsafeRawBufferPointer(start: nil, count: 0), outputs: 2) }
        return out.withUnsafeBytes { o in
            (CipherState(key: UnsafeRawBufferPointer(rebasing: o[0..<32])),
             CipherState(key: UnsafeRawBufferPointer(rebasing: o[64..<96])))
        }
    }
}
