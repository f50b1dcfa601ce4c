import FilamentCore
import FilamentCrypto
import FilamentEngine

/// The real engine already speaks the simulator's contract.
extension RoutingEngine: SimEngine {}

/// Resolves a gateway's key to its mesh address (BLAKE2b, as the daemon does).
struct SimAddressResolver: NodeAddressResolver {
    func meshAddress(of node: NodeID) -> IPv6Address { node.meshAddress }
}

extension EngineRegistry {
    /// Builds `FilamentEngine.RoutingEngine` with its documented defaults; gateways get a gateway
    /// configuration named after their node index.
    static func filamentEngine(_ setup: EngineSetup) -> any SimEngine {
        var c = EngineConfiguration()
        if setup.isGateway { c.gateway = GatewayConfiguration(name: "gw\(setup.nodeIndex)") }
        return RoutingEngine(node: setup.nodeID, meshAddress: setup.meshAddress, configuration: c,
                             seqnoCounter: setup.persistedSeqnoCounter, random: setup.random, signer: setup.signer,
                             verifier: setup.verifier, addresses: SimAddressResolver(), now: setup.now)
    }
}
