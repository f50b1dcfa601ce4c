import FilamentCore
import FilamentCrypto
import FilamentEngine
import FilamentWire

/// The discrete-event simulator: virtual bulbs running an engine each, virtual radio links, a scenario
/// timeline and an oracle. Deterministic: the same config and seed give the same event order and the
/// same report (apart from wall time and memory).
public final class Simulation {
    public let config: SimConfig
    var topo: Topology
    var nodes: [SimNode] = []
    var queue = EventQueue()
    public private(set) var now = Instant.zero
    let end: Instant
    var linkRandom: SeededRandom
    /// Router id / node id -> node index.
    var routerIndex: [RouterID: Int] = [:]
    var nodeIndex: [NodeID: Int] = [:]
    /// Mesh address of every bulb, contiguous: checking a host route's destination reads this instead of
    /// the bulb object (a cache miss per installed route in profiles).
    var meshAddresses: [IPv6Address] = []
    /// Frames in flight, by slot; freed slots are reused.
    var frames: [Frame] = []
    var freeSlots: [Int32] = []
    /// Per link direction (2 * link + (from == a ? 0 : 1)): when the transmitter is free again.
    var busyUntil: [Int64]
    let interface = InterfaceID(1)
    /// The open-mesh network key every bulb holds (crypto "real").
    let networkKey = NetworkKey.openMesh()
    /// Runs below this size always use the real link layer.
    public static let minimumBulbsForNullCrypto = 1000
    static let mtu = 1280 - 40 - 8 - FrameSizes.transportOverhead
    var stats = TrafficStats()
    /// Link-layer counters of bulbs that have since powered off.
    var retiredLink = LinkTotals()
    var oracle: Oracle!
    /// Optional wall clock (seconds): when set, the wall time at convergence is recorded for the report.
    public var wallClock: (() -> Double)?
    /// Data traffic: flows, packets in flight (by slot; freed slots are reused), counters, random stream.
    var flows: [Flow] = []
    var packets: [DataPacket] = []
    var freePackets: [Int32] = []
    var data = DataCounters()
    var trafficRandom: SeededRandom
    /// Empty action buffers for `feed`.
    var actionBuffers: [[EngineAction]] = []
    /// Events dispatched so far.
    public private(set) var eventsProcessed: UInt64 = 0

    struct Frame {
        /// `link`: a real link-layer datagram (handshake or encrypted transport frame, crypto "real").
        enum Kind: UInt8 { case multicast, unicast, handshakeInit, handshakeResponse, link }
        var from: Int32
        var to: Int32
        var kind: Kind
        var link: Int32
        /// The encoded frame (plaintext routing frame, or the inner payload of a transport frame).
        var bytes: [UInt8]
    }

    public init(config: SimConfig) throws {
        guard config.crypto == .real || config.topology.count >= Self.minimumBulbsForNullCrypto else {
            throw SimError.invalid("null crypto is only for large runs (at least \(Self.minimumBulbsForNullCrypto) bulbs); this one has \(config.topology.count)")
        }
        self.config = config
        topo = config.topology
        end = Instant.zero + config.duration
        var master = SeededRandom(seed: config.seed)
        linkRandom = master.fork()
        trafficRandom = SeededRandom(seed: 0)  // replaced below, after the oracle's fork
        busyUntil = Array(repeating: 0, count: 2 * config.topology.links.count)
        let gatewaySet = Set(config.gateways)
        nodes.reserveCapacity(topo.count)
        for i in 0..<topo.count {
            let seed = Self.keySeed(runSeed: config.seed, node: i)
            let pair = try NodeKeyPair(seed: SecretBytes(copying: seed))
            let keys = SimKeys(pair: pair)
            let address = keys.pair.nodeID.meshAddress
            let node = SimNode(index: i, keys: keys, meshAddress: address, isGateway: gatewaySet.contains(i),
                               random: master.fork(), degree: topo.adjacency[i].count)
            guard routerIndex[node.routerID] == nil else { throw SimError.invalid("router id collision at node \(i)") }
            routerIndex[node.routerID] = i
            nodeIndex[node.nodeID] = i
            nodes.append(node)
            meshAddresses.append(address)
        }
        oracle = Oracle(sim: self, random: master.fork())
        trafficRandom = master.fork()
        flows = Self.chooseFlows(config: config, destinations: oracle.destinations, random: &trafficRandom)
    }

    /// The 32-byte identity seed of node `node` in a run: BLAKE2b of a label, the run seed and the index.
    static func keySeed(runSeed: UInt64, node: Int) -> [UInt8] {
        var input = Array("filament-sim-node-key-v1".utf8)
        for k in 0..<8 { input.append(UInt8(truncatingIfNeeded: runSeed >> UInt64(8 * k))) }
        for k in 0..<8 { input.append(UInt8(truncatingIfNeeded: UInt64(node) >> UInt64(8 * k))) }
        return Sodium.blake2b(input, outputLength: 32)
    }

    // MARK: running

    /// Runs to the end of the configured duration. `progress` is called with the fraction of virtual
    /// time done, at most about 200 times.
    public func run(progress: ((Double) -> Void)? = nil) -> SimResult {
        let off = Set(config.initiallyOff)
        for i in 0..<nodes.count where !off.contains(i) { powerOn(i) }
        for (k, e) in config.timeline.enumerated() { queue.push(Instant.zero + e.at, .timeline(index: Int32(k))) }
        queue.push(.zero, .sample)
        startTraffic()
        let step = max(1, config.duration.nanoseconds / 200)
        var nextProgress = Int64(0)
        while let t = queue.nextTime, t <= end {
            let (at, kind) = queue.pop()!
            now = at
            eventsProcessed &+= 1
            if let p = progress, at.nanoseconds >= nextProgress {
                p(Double(at.nanoseconds) / Double(max(1, config.duration.nanoseconds)))
                nextProgress = at.nanoseconds + step
            }
            dispatch(kind)
        }
        now = end
        progress?(1)
        return oracle.finish(at: end)
    }

    /// The engine counters of every powered bulb, summed (name, value), in `EngineCounters` order.
    public func engineCounterTotals() -> [(name: String, value: UInt64)] {
        var sum: [(name: String, value: UInt64)] = []
        for node in nodes where node.filamentEngine != nil {
            let c = node.filamentEngine!.engineCounters
            let fields = Mirror(reflecting: c).children.compactMap { ch in (ch.value as? UInt64).map { (name: ch.label ?? "?", value: $0) } }
            if sum.isEmpty { sum = fields } else { for i in fields.indices { sum[i].value &+= fields[i].value } }
        }
        return sum
    }

    /// The engine tables of every powered bulb, summed by table (estimated heap bytes; a memory benchmark aid).
    public func engineFootprint() -> [TableFootprint] {
        var sum: [TableFootprint] = []
        for node in nodes where node.filamentEngine != nil {
            let f = node.filamentEngine!.tableFootprint()
            if sum.isEmpty { sum = f } else { for i in f.indices { sum[i].bytes += f[i].bytes } }
        }
        return sum
    }

    func dispatch(_ kind: SimEventKind) {
        switch kind {
        case .deliver(let slot):
            let f = frames[Int(slot)]
            frames[Int(slot)].bytes = []
            freeSlots.append(slot)
            deliver(f)
        case .engineTimer(let n, let generation):
            let node = nodes[Int(n)]
            guard node.powered, generation == node.timerGeneration else { return }
            node.scheduledDeadline = .distantFuture
            if let d = node.engineDeadline, d > now { schedule(Int(n), d); return }
            feed(Int(n), .timer)
        case .linkTimer(let n, let generation):
            let node = nodes[Int(n)]
            guard node.powered, generation == node.linkTimerGeneration, let link = node.link else { return }
            node.linkScheduled = .distantFuture
            linkOutputs(Int(n), link.tick(now: now), forceRearm: true)
        case .timeline(let index):
            let entry = config.timeline[Int(index)]
            oracle.eventWillApply(entry, at: now)
            apply(entry.action)
        case .sample:
            oracle.sample(at: now)
            let next = now + config.sampleInterval
            if next <= end { queue.push(next, .sample) }
        case .flowTick(let k):
            flowTick(Int(k))
        case .dataHop(let slot):
            dataHop(slot)
        }
    }

    func apply(_ action: SimAction) {
        switch action {
        case .powerOff(let ns): for n in ns where n < nodes.count { powerOff(n) }
        case .powerOn(let ns): for n in ns where n < nodes.count && !nodes[n].powered { powerOn(n) }
        case .cutLinks(let ls): for l in ls where l < topo.links.count { topo.links[l].up = false }
        case .restoreLinks(let ls): for l in ls where l < topo.links.count { topo.links[l].up = true }
        case .uplink(let n, let healthy):
            guard n < nodes.count else { return }
            nodes[n].uplinkHealthy = healthy
            if nodes[n].isGateway { feed(n, .uplinkChanged(uplinkStatus(n))) }
        case .drain(let n, let d):
            guard n < nodes.count else { return }
            nodes[n].draining = d
            feed(n, .setDraining(d))
        }
    }

    func uplinkStatus(_ n: Int) -> UplinkStatus {
        UplinkStatus(healthy: nodes[n].uplinkHealthy, bandwidthDownKbps: 100_000, bandwidthUpKbps: 20_000, load: 10)
    }

    // MARK: power

    func powerOn(_ i: Int) {
        let node = nodes[i]
        node.powered = true
        node.boots += 1
        node.fib.removeAll(keepingCapacity: true)
        node.selectedGateway = nil
        for k in node.sessions.indices { node.sessions[k] = .none; node.knowsKey[k] = false }
        let setup = EngineSetup(nodeIndex: i, nodeID: node.nodeID, routerID: node.routerID, meshAddress: node.meshAddress,
                                isGateway: node.isGateway, random: node.random.fork(), signer: node.keys, verifier: node.keys,
                                persistedSeqnoCounter: node.persistedSeqno, now: now)
        node.setEngine(config.engineFactory(setup))
        if config.crypto == .real {
            node.link = try? LinkLayer(identity: node.keys.pair, networkKey: networkKey,
                                       initiationCounterFloor: node.persistedInitiationCounter, random: node.random.fork())
        }
        feed(i, .interfaceUp(interface, mtu: Self.mtu))
        if node.isGateway {
            feed(i, .uplinkChanged(uplinkStatus(i)))
            if node.draining { feed(i, .setDraining(true)) }
        }
    }

    func powerOff(_ i: Int) {
        let node = nodes[i]
        guard node.powered else { return }
        node.powered = false
        node.setEngine(nil)
        if let l = node.link { retiredLink.add(l.counters) }
        node.link = nil
        node.linkTimerGeneration &+= 1
        node.linkScheduled = .distantFuture
        node.fib.removeAll(keepingCapacity: false)
        node.selectedGateway = nil
        node.timerGeneration &+= 1
        node.scheduledDeadline = .distantFuture
        for k in node.sessions.indices { node.sessions[k] = .none }
    }

    // MARK: engine

    /// Hands one event to node `i`'s engine and carries out its actions.
    func feed(_ i: Int, _ event: EngineEvent) {
        let node = nodes[i]
        guard node.powered, node.hasEngine else { return }
        // Action buffers are reused (a pool, as carrying out actions may feed another bulb).
        var actions = actionBuffers.popLast() ?? []
        node.handle(event, now: now, into: &actions)
        for a in actions { execute(i, a) }
        actions.removeAll(keepingCapacity: actions.count <= 256)
        actionBuffers.append(actions)
        if let d = node.engineDeadline { schedule(i, d) }
    }

    func schedule(_ i: Int, _ deadline: Instant) {
        let node = nodes[i]
        guard deadline != .distantFuture else { return }
        let at = max(deadline, now)
        if at < node.scheduledDeadline {
            node.timerGeneration &+= 1
            node.scheduledDeadline = at
            queue.push(at, .engineTimer(node: Int32(i), generation: node.timerGeneration))
        }
    }

    func execute(_ i: Int, _ action: EngineAction) {
        let node = nodes[i]
        switch action {
        case .sendMulticast(_, let packet):
            guard let bytes = SimWire.encodeMulticast(packet) else { stats.encodeErrors += 1; return }
            stats.count(packet: packet, frameBytes: bytes.count)
            for (slot, e) in topo.adjacency[i].enumerated() {
                transmit(from: i, slot: slot, to: e.neighbour, link: e.link, kind: .multicast, bytes: bytes, size: bytes.count)
            }
        case .sendUnicast(let key, let packet):
            guard let v = routerIndex[key.routerID], let slot = slotOf(i, v) else { stats.unroutableUnicast += 1; return }
            if let link = node.link {
                guard let bytes = SimWire.encodeUnicast(packet) else { stats.encodeErrors += 1; return }
                stats.count(packet: packet, frameBytes: bytes.count + FrameSizes.transportOverhead)
                linkOutputs(i, link.send(bytes, to: nodes[v].nodeID, now: now))
                return
            }
            guard node.sessions[slot] == .established else { stats.noSessionDrops += 1; return }
            guard let bytes = SimWire.encodeUnicast(packet) else { stats.encodeErrors += 1; return }
            let size = bytes.count + FrameSizes.transportOverhead
            stats.count(packet: packet, frameBytes: size)
            transmit(from: i, slot: slot, to: v, link: topo.adjacency[i][slot].link, kind: .unicast, bytes: bytes, size: size)
        case .installRoute(let entry):
            node.fib.install(entry.prefix, bulb: bulbIndex(ofHost: entry.prefix), hop: routerIndex[entry.nextHop.routerID],
                             bulbs: nodes.count)
        case .removeRoute(let prefix):
            node.fib.remove(prefix, bulb: bulbIndex(ofHost: prefix))
        case .persistSeqnoCounter(let c):
            node.persistedSeqno = c
        case .notify(let n):
            switch n {
            // Sessions outlive the engine's view of a neighbour (a silent neighbour may come back); a
            // rebooted peer starts a new handshake, which replaces ours.
            case .selectedGatewayChanged(let g): node.selectedGateway = g
            default: break
            }
        }
    }

    /// The bulb whose host prefix `prefix` is exactly, if any.
    @inline(__always) func bulbIndex(ofHost prefix: Prefix) -> Int? {
        guard prefix.length == 128, let d = routerIndex[RouterID(meshAddress: prefix.address)],
              meshAddresses[d] == prefix.address else { return nil }
        return d
    }

    @inline(__always) func slotOf(_ u: Int, _ v: Int) -> Int? {
        let adj = topo.adjacency[u]
        for k in adj.indices where adj[k].neighbour == v { return k }
        return nil
    }

    // MARK: links

    func transmit(from u: Int, slot: Int, to v: Int, link l: Int, kind: Frame.Kind, bytes: [UInt8], size: Int) {
        let link = topo.links[l]
        guard link.up else { return }
        let p = link.parameters(from: u)
        if p.loss > 0 && Double.random(in: 0..<1, using: &linkRandom) < p.loss { stats.lost += 1; return }
        var delay = Int64(p.latencyMs * 1e6)
        if p.jitterMs > 0 { delay += Int64.random(in: 0...Int64(p.jitterMs * 1e6), using: &linkRandom) }
        var start = now.nanoseconds
        if p.bandwidthKbps > 0 {
            let dir = 2 * l + (u == link.a ? 0 : 1)
            start = max(start, busyUntil[dir])
            let ser = Int64(Double((size + FrameSizes.datagramOverhead) * 8) / p.bandwidthKbps * 1e6)
            busyUntil[dir] = start + ser
            start += ser
        }
        let frame = Frame(from: Int32(u), to: Int32(v), kind: kind, link: Int32(l), bytes: bytes)
        let slotIndex: Int32
        if let s = freeSlots.popLast() { frames[Int(s)] = frame; slotIndex = s } else { frames.append(frame); slotIndex = Int32(frames.count - 1) }
        queue.push(Instant(nanoseconds: start + delay), .deliver(slot: slotIndex))
    }

    func deliver(_ f: Frame) {
        let v = Int(f.to), u = Int(f.from)
        let node = nodes[v]
        guard node.powered, topo.links[Int(f.link)].up, let slot = slotOf(v, u) else { return }
        let peer = nodes[u]
        let key = NeighbourKey(interface: interface, routerID: peer.routerID)
        switch f.kind {
        case .multicast:
            guard let packet = SimWire.decodeMulticast(f.bytes) else { stats.decodeErrors += 1; return }
            for case .hello(let h) in packet.messages where h.node != nil { node.knowsKey[slot] = true }
            if let link = node.link {
                // The hello tells the link layer where the neighbour is; it starts a handshake if needed.
                if node.knowsKey[slot] && !link.hasSession(with: peer.nodeID, now: now) {
                    linkOutputs(v, link.connect(to: peer.nodeID, at: SimPeerAddress(Int32(u)), now: now))
                }
            } else if node.knowsKey[slot] {
                var start = false
                switch node.sessions[slot] {
                case .none: start = true
                case .initiating(let since): start = now - since >= .milliseconds(1000)
                case .established: break
                }
                if start {
                    node.sessions[slot] = .initiating(now)
                    stats.countHandshake(FrameSizes.handshakeInitiation)
                    transmit(from: v, slot: slot, to: u, link: Int(f.link), kind: .handshakeInit, bytes: [], size: FrameSizes.handshakeInitiation)
                }
            }
            feed(v, .multicastReceived(interface: interface, packet: packet))
        case .handshakeInit:
            node.knowsKey[slot] = true
            node.sessions[slot] = .established
            stats.countHandshake(FrameSizes.handshakeResponse)
            transmit(from: v, slot: slot, to: u, link: Int(f.link), kind: .handshakeResponse, bytes: [], size: FrameSizes.handshakeResponse)
            feed(v, .sessionEstablished(key, node: peer.nodeID))
        case .handshakeResponse:
            guard case .initiating = node.sessions[slot] else { return }
            node.sessions[slot] = .established
            feed(v, .sessionEstablished(key, node: peer.nodeID))
        case .link:
            guard let link = node.link else { return }
            linkOutputs(v, link.receive(f.bytes, from: SimPeerAddress(Int32(u)), now: now))
        case .unicast:
            guard node.sessions[slot] == .established else { stats.undecryptable += 1; return }
            guard let packet = SimWire.decodeUnicast(f.bytes) else { stats.decodeErrors += 1; return }
            feed(v, .unicastReceived(from: key, packet: packet))
        }
    }
}

/// Sums of the real link layers' counters over a run.
struct LinkTotals {
    var sealed: UInt64 = 0, opened: UInt64 = 0, handshakes: UInt64 = 0, initiations: UInt64 = 0, drops: UInt64 = 0
    var dropsByReason = [UInt64](repeating: 0, count: LinkDropReason.allCases.count)
    mutating func add(_ c: LinkCounters) {
        sealed += c.packetsSealed; opened += c.packetsOpened; handshakes += c.handshakesCompleted
        initiations += c.initiationsSent; drops += c.totalDrops
        for (k, r) in LinkDropReason.allCases.enumerated() { dropsByReason[k] += c[r] }
    }
}

extension Simulation {
    /// Link-layer totals of every bulb, live and retired.
    var linkTotals: LinkTotals {
        var t = retiredLink
        for n in nodes { if let l = n.link { t.add(l.counters) } }
        return t
    }

    /// Carries out what node `i`'s link layer asked for, then re-arms its link timer.
    func linkOutputs(_ i: Int, _ outputs: [LinkOutput<SimPeerAddress>], forceRearm: Bool = false) {
        let node = nodes[i]
        // Only handshakes and session changes move the link layer's deadline; a plain transport frame in or
        // out does not, and asking costs a walk over all its peers (a hot spot in profiles).
        var rearm = forceRearm
        for o in outputs {
            guard node.powered else { return }
            switch o {
            case .deliver: break
            case .send(let frame, _): if frame.first != FrameType.transport.rawValue { rearm = true }
            default: rearm = true
            }
            switch o {
            case .send(let frame, let peer):
                let v = Int(peer.index)
                guard let slot = slotOf(i, v) else { stats.unroutableUnicast += 1; continue }
                if frame.first != FrameType.transport.rawValue { stats.countHandshake(frame.count) }
                transmit(from: i, slot: slot, to: v, link: topo.adjacency[i][slot].link, kind: .link, bytes: frame, size: frame.count)
            case .deliver(let plaintext, _, let peer):
                guard let packet = SimWire.decodeUnicast(plaintext) else { stats.decodeErrors += 1; continue }
                feed(i, .unicastReceived(from: NeighbourKey(interface: interface, routerID: nodes[Int(peer.index)].routerID), packet: packet))
            case .sessionEstablished(let id, let peer):
                feed(i, .sessionEstablished(NeighbourKey(interface: interface, routerID: nodes[Int(peer.index)].routerID), node: id))
            case .sessionClosed(let id):
                if let v = nodeIndex[id] { feed(i, .sessionClosed(NeighbourKey(interface: interface, routerID: nodes[v].routerID))) }
            case .persistInitiationCounter(let c):
                node.persistedInitiationCounter = c
            }
        }
        guard rearm, node.powered, let link = node.link else { return }
        let d = link.nextDeadline
        guard d != .distantFuture else { return }
        let at = max(d, now)
        if at < node.linkScheduled {
            node.linkTimerGeneration &+= 1
            node.linkScheduled = at
            queue.push(at, .linkTimer(node: Int32(i), generation: node.linkTimerGeneration))
        }
    }
}

/// Errors setting up a run.
public enum SimError: Error, Equatable, CustomStringConvertible {
    case invalid(String)
    public var description: String { switch self { case .invalid(let s): return s } }
}
