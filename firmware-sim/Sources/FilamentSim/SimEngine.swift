import FilamentCore
import FilamentEngine
import FilamentWire

/// What the simulator needs from a routing engine: the driver contract of `FilamentEngine`
/// (`Contract.swift`) and nothing else. Forwarding state is rebuilt by the simulator from the
/// `installRoute`/`removeRoute` actions, and gateway choice from `selectedGatewayChanged`
/// notifications, exactly as the daemon would see them.
public protocol SimEngine {
    /// Feed one event at virtual time `now`; the actions come back in the engine's order.
    mutating func handle(_ event: EngineEvent, now: Instant) -> [EngineAction]
    /// When the engine wants `.timer` next (`.distantFuture` for never).
    var nextDeadline: Instant { get }
}

/// Everything a virtual bulb's engine is built from.
public struct EngineSetup {
    public var nodeIndex: Int
    public var nodeID: NodeID
    public var routerID: RouterID
    public var meshAddress: IPv6Address
    public var isGateway: Bool
    /// The node's own random stream (forked from the run seed).
    public var random: SeededRandom
    /// Signs with the node's Ed25519 key.
    public var signer: any MessageSigner
    public var verifier: any SignatureVerifier
    /// The last value the engine asked to persist (`persistSeqnoCounter`), kept across reboots.
    public var persistedSeqnoCounter: UInt64
    /// Virtual time of the boot.
    public var now: Instant
}

/// Builds one engine per virtual bulb.
public typealias EngineFactory = (EngineSetup) -> any SimEngine
