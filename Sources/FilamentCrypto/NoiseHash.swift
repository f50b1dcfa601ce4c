import CSodium

/// BLAKE2b as Noise uses it: a 64-byte HASH, HMAC-BLAKE2b (RFC 2104, block 128) and Noise's HKDF.
/// Temporaries that hold key material are wiped before they are freed.
package enum NoiseHash {
    /// HASHLEN for BLAKE2b.
    package static let hashLength = 64
    /// BLOCKLEN for BLAKE2b (the HMAC block size).
    package static let blockLength = 128

    /// BLAKE2b-512 of the concatenation of `parts`.
    package static func hash(_ parts: [UInt8]...) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: hashLength)
        out.withUnsafeMutableBytes { o in
            withRawParts(parts) { raw in hashRaw(raw, into: o) }
        }
        return out
    }

    /// BLAKE2b of the concatenation of raw `parts` into `out` (16...64 bytes; 64 for Noise's HASH).
    package static func hashRaw(_ parts: [UnsafeRawBufferPointer], into out: UnsafeMutableRawBufferPointer) {
        precondition((16...64).contains(out.count))
        Sodium.initialise()
        let state = UnsafeMutableRawPointer.allocate(byteCount: crypto_generichash_statebytes(), alignment: 64)
        defer {
            sodium_memzero(state, crypto_generichash_statebytes())
            state.deallocate()
        }
        let st = OpaquePointer(state)
        _ = crypto_generichash_init(st, nil, 0, out.count)
        for p in parts where p.count > 0 {
            _ = crypto_generichash_update(st, p.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(p.count))
        }
        _ = crypto_generichash_final(st, out.baseAddress!.assumingMemoryBound(to: UInt8.self), out.count)
    }

    /// HMAC-BLAKE2b (RFC 2104) of the concatenation of `parts` under `key` (at most 128 bytes) into `out` (64 bytes).
    package static func hmac(key: UnsafeRawBufferPointer, parts: [UnsafeRawBufferPointer], into out: UnsafeMutableRawBufferPointer) {
        precondition(key.count <= blockLength, "HMAC keys here are at most one block")
        let pad = UnsafeMutableRawBufferPointer.allocate(byteCount: blockLength, alignment: 16)
        let inner = UnsafeMutableRawBufferPointer.allocate(byteCount: hashLength, alignment: 16)
        defer {
            sodium_memzero(pad.baseAddress!, blockLength); pad.deallocate()
            sodium_memzero(inner.baseAddress!, hashLength); inner.deallocate()
        }
        // inner = H((K ^ ipad) || text)
        pad.initializeMemory(as: UInt8.self, repeating: 0x36)
        for i in 0..<key.count { pad[i] ^= key[i] }
        hashRaw([UnsafeRawBufferPointer(pad)] + parts, into: inner)
        // out = H((K ^ opad) || inner)
        pad.initializeMemory(as: UInt8.self, repeating: 0x5c)
        for i in 0..<key.count { pad[i] ^= key[i] }
        hashRaw([UnsafeRawBufferPointer(pad), UnsafeRawBufferPointer(inner)], into: out)
    }

    /// Noise's HKDF(chaining_key, input_key_material, num_outputs): `outputs` (2 or 3) blocks of 64 bytes,
    /// concatenated in one `SecretBytes` of `64 * outputs` bytes.
    package static func hkdf(chainingKey: UnsafeRawBufferPointer, inputKeyMaterial: UnsafeRawBufferPointer,
                             outputs: Int) -> SecretBytes {
        precondition(outputs == 2 || outputs == 3)
        var temp = SecretBytes(zeroedCount: hashLength)
        temp.withUnsafeMutableBytes { t in hmac(key: chainingKey, parts: [inputKeyMaterial], into: t) }
        var result = SecretBytes(zeroedCount: hashLength * outputs)
        temp.withUnsafeBytes { t in
            result.withUnsafeMutableBytes { r in
                var counter: UInt8 = 1
                for i in 0..<outputs {
                    let slot = UnsafeMutableRawBufferPointer(rebasing: r[(i * hashLength)..<((i + 1) * hashLength)])
                    withUnsafeBytes(of: &counter) { c in
                        if i == 0 {
                            hmac(key: t, parts: [c], into: slot)
                        } else {
                            let previous = UnsafeRawBufferPointer(rebasing: r[((i - 1) * hashLength)..<(i * hashLength)])
                            hmac(key: t, parts: [previous, c], into: slot)
                        }
                    }
                    counter += 1
                }
            }
        }
        return result
    }

    /// Keyed BLAKE2b (`crypto_generichash` with a key) of `outputLength` bytes, for MACs and cookies.
    package static func keyedHash(key: UnsafeRawBufferPointer, _ data: UnsafeRawBufferPointer, outputLength: Int = 16) -> [UInt8] {
        Sodium.initialise()
        var out = [UInt8](repeating: 0, count: outputLength)
        out.withUnsafeMutableBufferPointer { o in
            _ = crypto_generichash(o.baseAddress!, outputLength,
                                   data.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(data.count),
                                   key.baseAddress?.assumingMemoryBound(to: UInt8.self), key.count)
        }
        return out
    }

    private static func withRawParts<R>(_ parts: [[UInt8]], _ body: ([UnsafeRawBufferPointer]) -> R) -> R {
        var raws: [UnsafeRawBufferPointer] = []
        func go(_ i: Int) -> R {
            if i == parts.count { return body(raws) }
            return parts[i].withUnsafeBytes { r in raws.append(r); return go(i + 1) }
        }
        return go(0)
    }
}
