import FilamentCore
import FilamentWire
@testable import FilamentEngine

/// Test identities: node i has key (i, i, i, i+1) and mesh address fd66:696c:616d:0000::i+1 (router id i+1).
enum TestIdentity {
    static func node(_ i: Int) -> NodeID { NodeID(w0: UInt64(i), w1: UInt64(i), w2: UInt64(i), w3: UInt64(i) &+ 1) }
    static func address(of node: NodeID) -> IPv6Address {
        IPv6Address(high: MeshPrefix.prefix.address.high, low: node.w3)
    }
    static func address(_ i: Int) -> IPv6Address { address(of: node(i)) }
    static func routerID(_ i: Int) -> RouterID { RouterID(meshAddress: address(i)) }
}

/// Stands in for the hash from key to mesh address.
struct FakeResolver: NodeAddressResolver {
    func meshAddress(of node: NodeID) -> IPv6Address { TestIdentity.address(of: node) }
}

/// A deterministic stand-in for Ed25519: the "signature" is a keyed hash of the message, 64 bytes long.
/// A flipped bit or another key fails verification.
func fakeSignature(_ message: [UInt8], by key: NodeID) -> [UInt8] {
    var h: UInt64 = key.w0 ^ 0x1234_5678 ^ key.w3
    var out: [UInt8] = []
    for round in 0..<8 {
        for b in message { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        h ^= UInt64(round) &* 0x9E37_79B9_7F4A_7C15
        for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: h >> UInt64(8 * i))) }
    }
    return out
}

struct FakeSigner: MessageSigner {
    var key: NodeID
    func sign(_ message: [UInt8]) -> [UInt8] { fakeSignature(message, by: key) }
}

struct FakeVerifier: SignatureVerifier {
    func verify(signature: [UInt8], of message: [UInt8], by key: NodeID) -> Bool { signature == fakeSignature(message, by: key) }
}

func makeEngine(_ i: Int, configuration: EngineConfiguration = EngineConfiguration(), counter: UInt64 = 0,
                seed: UInt64 = 1, now: Instant = .zero) -> RoutingEngine {
    RoutingEngine(node: TestIdentity.node(i), meshAddress: TestIdentity.address(i), configuration: configuration,
                  seqnoCounter: counter, random: SeededRandom(seed: seed &+ UInt64(i)), signer: FakeSigner(key: TestIdentity.node(i)),
                  verifier: FakeVerifier(), addresses: FakeResolver(), now: now)
}
