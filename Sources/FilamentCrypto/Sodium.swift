import CSodium
import FilamentCore

/// Errors from libsodium and from key material.
public enum CryptoError: Error, Equatable, Sendable {
    case initialisationFailed
    case invalidKeyLength(expected: Int, got: Int)
    case invalidPublicKey
    case operationFailed(String)
}

/// Entry points to libsodium that are not tied to one key type. Every cryptographic operation in
/// Filament goes through libsodium; this type only makes sure it is initialised first.
public enum Sodium {
    /// Initialises libsodium (idempotent and thread-safe in libsodium itself).
    @discardableResult
    public static func initialise() -> Bool { sodium_init() >= 0 }

    /// `count` bytes from libsodium's CSPRNG.
    public static func randomBytes(_ count: Int) -> [UInt8] {
        initialise()
        guard count > 0 else { return [] }
        var out = [UInt8](repeating: 0, count: count)
        out.withUnsafeMutableBytes { randombytes_buf($0.baseAddress!, count) }
        return out
    }

    /// Unkeyed BLAKE2b (`crypto_generichash`) with an output of `outputLength` bytes (16...64).
    public static func blake2b(_ input: [UInt8], outputLength: Int = 32) -> [UInt8] {
        initialise()
        precondition((16...64).contains(outputLength), "BLAKE2b output length out of range")
        var out = [UInt8](repeating: 0, count: outputLength)
        _ = input.withUnsafeBufferPointer { inp in
            crypto_generichash(&out, outputLength, inp.baseAddress, UInt64(inp.count), nil, 0)
        }
        return out
    }
}

extension NodeID {
    /// The node's mesh address: `fd66:696c:616d::/48` followed by the first 10 bytes of
    /// BLAKE2b-256("filament-mesh-address-v1" || public key). docs/identity.md has a worked example.
    public var meshAddress: IPv6Address {
        let hash = Sodium.blake2b(Array("filament-mesh-address-v1".utf8) + bytes, outputLength: 32)
        return MeshPrefix.address(fromKeyHash: hash)!
    }

    /// The router id that names this node as a routing source (low 64 bits of its mesh address).
    public var routerID: RouterID { RouterID(meshAddress: meshAddress) }
}
