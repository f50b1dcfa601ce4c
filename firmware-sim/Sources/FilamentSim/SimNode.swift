import FilamentCore
import FilamentCrypto
import FilamentEngine
import FilamentWire

/// Signs and verifies with libsodium for one virtual bulb.
final class SimKeys: MessageSigner, SignatureVerifier {
    let pair: NodeKeyPair
    init(pair: consuming NodeKeyPair) { self.pair = pair }
    func sign(_ message: [UInt8]) -> [UInt8] { pair.sign(message) }
    func verify(signature: [UInt8], of message: [UInt8], by key: NodeID) -> Bool {
        Ed25519.verify(signature: signature, of: message, by: key)
    }
}

/// The link-layer session a bulb holds with one neighbour.
enum SessionState: Equatable {
    case none
    /// We sent a handshake initiation at this time.
    case initiating(Instant)
    case established
}

/// One virtual bulb: identity, power state, its engine, the forwarding table built from the engine's
/// actions, and its link-layer sessions.
final class SimNode {
    let index: Int
    let nodeID: NodeID
    let routerID: RouterID
    let meshAddress: IPv6Address
    let isGateway: Bool
    let keys: SimKeys
    /// The engine while powered: `FilamentEngine.RoutingEngine` in a typed slot (mutated in place,
    /// statically dispatched: no existential box on the hot path), any other engine in `otherEngine`.
    var filamentEngine: RoutingEngine?
    var otherEngine: (any SimEngine)?
    var random: SeededRandom
    var powered = false
    var boots = 0
    var persistedSeqno: UInt64 = 0
    /// Forwarding table: prefix -> next-hop node index (resolved from the neighbour key at install time).
    var fib = ForwardingTable()
    /// Default-route next hop (::/0), if installed.
    var selectedGateway: NodeID?
    var uplinkHealthy = true
    var draining = false
    /// Per adjacency slot (same order as `Topology.adjacency[index]`).
    var sessions: [SessionState]
    /// Neighbours whose key we have seen in a hello (adjacency slot -> known).
    var knowsKey: [Bool]
    /// The real Noise link layer (crypto "real"); nil when off or with crypto "null".
    var link: LinkLayer<SimPeerAddress>?
    var persistedInitiationCounter: UInt64 = 0
    var linkTimerGeneration: UInt32 = 0
    var linkScheduled = Instant.distantFuture
    /// Engine timer bookkeeping.
    var timerGeneration: UInt32 = 0
    var scheduledDeadline = Instant.distantFuture

    init(index: Int, keys: SimKeys, meshAddress: IPv6Address, isGateway: Bool, random: SeededRandom, degree: Int) {
        self.index = index; self.keys = keys; self.nodeID = keys.pair.nodeID
        self.meshAddress = meshAddress; self.routerID = RouterID(meshAddress: meshAddress)
        self.isGateway = isGateway; self.random = random
        sessions = Array(repeating: .none, count: degree)
        knowsKey = Array(repeating: false, count: degree)
    }

    /// Which slot holds the engine (testing the optional itself would copy the whole engine struct).
    private var engineKind = EngineKind.none
    private enum EngineKind { case none, filament, other }
    var hasEngine: Bool { engineKind != .none }

    func setEngine(_ e: (any SimEngine)?) {
        filamentEngine = nil; otherEngine = nil; engineKind = .none
        guard let e else { return }
        if let f = e as? RoutingEngine { filamentEngine = f; engineKind = .filament } else { otherEngine = e; engineKind = .other }
    }

    /// Feeds one event; the engine's actions are appended to `actions`. (Mutated in place through `!`.)
    func handle(_ event: EngineEvent, now: Instant, into actions: inout [EngineAction]) {
        switch engineKind {
        case .filament: filamentEngine!.handle(event, now: now, into: &actions)
        case .other: actions.append(contentsOf: otherEngine!.handle(event, now: now))
        case .none: break
        }
    }

    /// When the engine wants its next timer (nil when off). Read through an `inout` access: a plain read
    /// of the optional engine copied the struct (a retain and release of every table) on each event.
    var engineDeadline: Instant? {
        switch engineKind {
        case .filament: return Self.deadline(&filamentEngine!)
        case .other: return otherEngine!.nextDeadline
        case .none: return nil
        }
    }

    private static func deadline(_ e: inout RoutingEngine) -> Instant { e.nextDeadline }
}
