import FilamentCore
import FilamentCrypto
import FilamentEngine

/// Signs the engine's messages (gateway adverts) with the node's Ed25519 key. Owns the key pair.
public final class NodeKeySigner: MessageSigner {
    let keyPair: NodeKeyPair

    public init(_ keyPair: consuming NodeKeyPair) { self.keyPair = keyPair }

    public var nodeID: NodeID { keyPair.nodeID }

    public func sign(_ message: [UInt8]) -> [UInt8] { keyPair.sign(message) }
}

/// Verifies Ed25519 signatures with libsodium.
public struct Ed25519Verifier: SignatureVerifier {
    public init() {}
    public func verify(signature: [UInt8], of message: [UInt8], by key: NodeID) -> Bool {
        Ed25519.verify(signature: signature, of: message, by: key)
    }
}

/// A node's mesh address from its key (BLAKE2b, docs/identity.md).
public struct KeyHashAddressResolver: NodeAddressResolver {
    public init() {}
    public func meshAddress(of node: NodeID) -> IPv6Address { node.meshAddress }
}
