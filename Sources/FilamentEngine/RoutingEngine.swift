import FilamentCore
import FilamentWire

/// The pure routing engine of one node (Babel family, RFC 8966 words). Events and `now` go in through
/// `handle(_:now:)`; actions come out in a deterministic order, and `nextDeadline` says when to call again
/// with `.timer`. No clock, no I/O, no globals; randomness (jitter) only from the injected seed.
///
/// A struct with `mutating` methods: the simulator keeps thousands in one array and tests copy one to
/// compare before and after. The tables are dictionaries (copy-on-write), so a copy costs nothing until
/// one side changes.
public struct RoutingEngine {
    // MARK: identity
    public let node: NodeID
    public let routerID: RouterID
    public let meshAddress: IPv6Address
    public internal(set) var configuration: EngineConfiguration
    let signer: any MessageSigner
    let verifier: any SignatureVerifier
    let addresses: any NodeAddressResolver
    var random: SeededRandom

    // MARK: own source
    /// The persisted 64-bit counter; the 16-bit route seqno and the 32-bit advert seqno are taken from it.
    var seqnoCounter: UInt64
    var ownSeqno: Seqno { Seqno(UInt16(truncatingIfNeeded: seqnoCounter)) }
    var ownPrefixes: [Prefix]

    // MARK: tables
    var interfaces: [InterfaceID: InterfaceState] = [:]
    var neighbours: [NeighbourKey: Neighbour] = [:]
    /// The neighbour keys, sorted (kept in step with `neighbours`; iteration order for output).
    var neighbourOrder: [NeighbourKey] = []
    /// Their slots, in the same order.
    var neighbourOrderSlots: [UInt16] = []
    /// Per neighbour, by slot: the digest of what we hold from it, its link cost (a copy of
    /// `Neighbour.cost`, read per route by `routeMetric` without hashing its key) and the messages
    /// waiting to be batched (apart from `neighbours`, see `NeighbourQueue`). Reset when a slot is freed.
    var held: [HeldDigest] = []
    var slotCost: [Metric] = []
    var queues: [NeighbourQueue] = []
    /// Per slot: `Neighbour.isUp` (a copy) and when its queue is flushed (`distantFuture`: nothing queued).
    var slotUp: [Bool] = []
    var flushDue: [Instant] = []
    /// Per neighbour: our own prefixes as it re-announced them (entry hashes; they count in its digest).
    var echoes: [NeighbourKey: [Prefix: UInt64]] = [:]
    /// Routes per prefix, by interned prefix id; a learned prefix's announcement lives in its entry too
    /// (decisions 0630, 0631).
    var routes: PrefixTable
    /// Neighbour keys by slot: routes carry a neighbour's 2-byte slot instead of its key. A slot is given
    /// when a session opens and freed (for reuse) after the neighbour's routes went with it.
    var slotKeys: [NeighbourKey] = []
    var freeSlots: [UInt16] = []
    /// Sources other than the one each `routes` entry keeps for its announced router id (few: a prefix
    /// whose originator changed, e.g. ::/0 from another gateway, within the GC time).
    var sources: [SourceKey: Source] = [:]
    /// All sources: the ones kept in `routes` entries and `sources`.
    var sourceCount = 0
    /// What this node last announced for its own prefixes (learned ones: `PrefixRoutes.advertisement`).
    var ownAdvertised: [Prefix: Advertisement] = [:]
    /// How many prefixes this node announces (finite metrics only), and the digest over them.
    var advertisedCount = 0
    var advertisedHash: UInt64 = 0
    /// How many installed prefixes have each length (0...128), for longest-prefix match.
    var installedLengths = [Int](repeating: 0, count: 129)
    var pendingRequests: [SourceKey: PendingRequest] = [:]
    /// The earliest `resendDue` of our own pending seqno requests.
    var seqnoResendDue: Instant = .distantFuture
    var seqnoRequestTokens: Int = 0
    var gateways: [NodeID: GatewayEntry] = [:]
    var gatewayState = GatewaySelectionState()
    /// Gateway choice deferred to the end of a batch of re-selections (`beginGatewayBatch`).
    var gatewayBatch = false
    var gatewayBatchPending = false
    var ownGateway = OwnGatewayState()

    // MARK: timers (one slot per kind; nextDeadline is the minimum)
    var digestDue: Instant
    var housekeepingDue: Instant
    var neighbourCheckDue: Instant = .distantFuture
    /// `now` of the latest event (for bookkeeping that has no other time at hand).
    var lastNow: Instant
    /// Actions produced by the current `handle` call.
    var out: [EngineAction] = []
    var counters = EngineCounters()
    /// When an installed route last changed (added, next hop or metric, removed).
    var lastRouteChange: Instant = .zero
    var startupPersistPending = true
    /// Start-up (decision 0323): until then neighbours are held at least `startupHoldMinimum`; new
    /// neighbours push it back, never past `startupLimit`.
    var startupUntil: Instant
    let startupLimit: Instant
    /// After a restart: no learned route is selected until neighbours have flushed ours (`BootHold`).
    var bootHold = BootHold.inactive

    /// - Parameters:
    ///   - seqnoCounter: the last value the driver persisted; the engine starts one above it and reports
    ///     the new value with `.persistSeqnoCounter` on the first `handle` call.
    ///   - random: only used to seed the engine's own generator (jitter, probe nonces).
    public init(node: NodeID, meshAddress: IPv6Address, configuration: EngineConfiguration, seqnoCounter: UInt64,
                random: some RandomNumberGenerator, signer: any MessageSigner, verifier: any SignatureVerifier,
                addresses: any NodeAddressResolver, now: Instant) {
        self.node = node
        self.meshAddress = meshAddress
        self.routerID = RouterID(meshAddress: meshAddress)
        self.configuration = configuration
        var r = random
        let seed = r.next()
        self.random = SeededRandom(seed: seed)
        self.routes = PrefixTable(seed: seed)
        self.signer = signer; self.verifier = verifier; self.addresses = addresses
        self.seqnoCounter = seqnoCounter &+ 1
        var own = [Prefix(host: meshAddress)]
        for p in configuration.attachedPrefixes where !own.contains(p) { own.append(p) }
        self.ownPrefixes = own.sorted()
        self.digestDue = now + configuration.digestInterval
        self.housekeepingDue = now + .seconds(1)
        self.lastNow = now
        self.startupLimit = now + configuration.startupPeriodMaximum
        self.startupUntil = min(now + configuration.startupPeriod, startupLimit)
        self.seqnoRequestTokens = configuration.seqnoRequestsPerSecond
        for p in ownPrefixes { advertise(p, Advertisement(routerID: routerID, seqno: ownSeqno, metric: .zero)) }
        // A counter of zero: this identity never ran, so no neighbour can hold a route through it.
        if seqnoCounter > 0, configuration.restartHoldMaximum > .zero {
            bootHold = BootHold(active: true, minimumUntil: now + configuration.restartHoldMinimum,
                                maximumUntil: now + configuration.restartHoldMaximum)
        }
    }

    /// Processes one event at `now` and returns what the driver must do, in a deterministic order.
    public mutating func handle(_ event: EngineEvent, now: Instant) -> [EngineAction] {
        var actions: [EngineAction] = []
        handle(event, now: now, into: &actions)
        return actions
    }

    /// Same as `handle(_:now:)` but appends into a caller-owned buffer (no allocation once it has capacity).
    public mutating func handle(_ event: EngineEvent, now: Instant, into actions: inout [EngineAction]) {
        swap(&out, &actions)
        // (The deadline is after `lastNow`, so a stall needs this much time since the last event: the
        // common case, packets close together, skips computing the deadline.)
        if now - lastNow >= configuration.stallThreshold {
            let late = now - computeNextDeadline()
            if late >= configuration.stallThreshold { creditStall(late) }
        }
        lastNow = now
        if startupPersistPending {
            startupPersistPending = false
            out.append(.persistSeqnoCounter(seqnoCounter))
        }
        dispatch(event, now: now)
        runTimers(now: now)
        swap(&out, &actions)
    }

    /// When the driver must next call `handle(.timer, now:)`.
    public var nextDeadline: Instant { computeNextDeadline() }

    /// The forwarding entry for `destination`: longest prefix match over the selected routes.
    /// Nil for this node's own prefixes and for unreachable destinations.
    public func lookup(_ destination: IPv6Address) -> ForwardingEntry? {
        var length = 128
        while length >= 0 {
            if installedLengths[length] > 0, let p = Prefix(address: destination, length: length), let e = installedEntry(p) {
                return e
            }
            length -= 1
        }
        return nil
    }

    /// The forwarding entry installed for exactly `prefix` (the selected route; no separate table is kept).
    func installedEntry(_ prefix: Prefix) -> ForwardingEntry? {
        guard let id = routes.id(prefix) else { return nil }
        let pr = routes[id: id]
        guard let s = pr.selected, let m = pr.installedMetric else { return nil }
        return ForwardingEntry(prefix: prefix, nextHop: key(routes.route(id, s)), metric: m)
    }

    /// Whether `destination` is one of this node's own prefixes (delivered locally).
    public func isLocal(_ destination: IPv6Address) -> Bool { ownPrefixes.contains { $0.contains(destination) } }

    /// The gateway for a flow (e.g. a hash of its 5-tuple). A flow keeps its gateway while that gateway stays
    /// reachable; a new flow goes to the pinned gateway or spreads over the best few by capacity.
    public mutating func gateway(forFlow flowHash: UInt64, now: Instant) -> NodeID? {
        selectGateway(forFlow: flowHash, now: now)
    }

    /// The gateway new flows prefer (hysteresis applied), nil when none is usable.
    public var selectedGateway: NodeID? { gatewayState.primary }
}
