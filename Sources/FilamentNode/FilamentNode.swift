import FilamentCore
import FilamentCrypto
import FilamentEngine
import FilamentWire

/// One mesh node without I/O: the Noise link layer, the routing engine and the wire codec composed.
/// Datagrams, IP packets from the local stack, interface changes and timer ticks go in with `now`;
/// `NodeOutput`s come out for the driver (the daemon's epoll loop or the simulator) to execute in
/// order. It reads no clock and does no I/O, so a test can wire several nodes with an in-memory pipe.
///
/// Who is a neighbour: a multicast hello names its sender's router id and, now and then, its full
/// key. A key that hashes to the router id it claims (docs/identity.md) starts a Noise handshake;
/// only when the session is established does the engine learn of the neighbour
/// (`.sessionEstablished`). A node with another network key never gets that far: its initiations
/// fail mac1 and are dropped by the link layer.
///
/// Limitation: the link layer keeps one session (and one address) per neighbour key, so a node
/// heard on two interfaces is a neighbour on the interface where its session came up.
public final class FilamentNode {
    /// Outer IPv6 header (40) + UDP header (8) + transport frame overhead (32) + inner type byte (1):
    /// what the mesh adds to every forwarded IP packet. The TUN MTU is the link MTU minus this.
    public static let encapsulationOverhead = 40 + 8 + TransportSessionOverhead.bytes + 1

    public let nodeID: NodeID
    public let meshAddress: IPv6Address
    public let routerID: RouterID
    public let link: LinkLayer<NodePeer>
    public internal(set) var engine: RoutingEngine
    public internal(set) var counters = NodeCounters()
    /// Decoder skips (unknown TLVs, padding) over all routing packets received.
    public private(set) var decodeReport = DecodeReport()

    /// Keys learnt from hellos (verified against their router id). Bounded by `maxKnownNodes`.
    var knownNodes: [RouterID: NodeID] = [:]
    let maxKnownNodes = 1024
    /// Neighbours with an established session: where they are and which key they hold.
    var neighbourPeers: [NeighbourKey: NodePeer] = [:]
    var neighbourNodes: [NeighbourKey: NodeID] = [:]
    var sessionKeys: [NodeID: NeighbourKey] = [:]
    /// IP MTU of each interface that is up.
    var interfaceMTUs: [InterfaceID: Int] = [:]
    /// When the engine was last told that traffic went through a neighbour.
    var lastForwardedVia: [NeighbourKey: Instant] = [:]
    /// Handshakes started from hellos in the current one-second window.
    var handshakeStarts = 0
    var handshakeWindowStart = Instant.zero
    public var handshakeStartsPerSecond = 16
    /// When a hello seqno jump last closed a neighbour's session (bounded, see `receivePlaintext`).
    var restartTeardowns: [NeighbourKey: Instant] = [:]
    public var restartTeardownInterval: Interval = .seconds(30)
    /// The latest hello seqno per neighbour (restart detection).
    var helloSeqnos: [NeighbourKey: Seqno] = [:]
    /// ICMPv6 error token bucket (RFC 4443 2.4(f)).
    var icmpTokens = 10
    var icmpRefilledAt = Instant.zero
    public var icmpErrorsPerSecond = 10

    /// Set when this node is a gateway: it unwraps tunnelled packets and leases IPv4 addresses.
    public var gatewayRole: GatewayRole? = nil
    /// IPv4 leases by address (gateway only; bounded by `GatewayRole.maxLeases`).
    var leases: [IPv6Address: Lease] = [:]

    /// The node key (signs gateway adverts and node-information answers).
    let signer: NodeKeySigner

    var actionBuffer: [EngineAction] = []
    var linkBuffer: [LinkOutput<NodePeer>] = []

    /// - Parameters:
    ///   - identity: the node's key pair (kept for signing).
    ///   - networkKey: 32 bytes; `NetworkKey.openMesh()` for the open mesh.
    ///   - seqnoCounter: last persisted routing seqno bound (0 on first start).
    ///   - initiationCounterFloor: last persisted link initiation bound (0 on first start).
    ///   - seed: seeds the engine's and the link layer's generators (jitter, session indices).
    public init(identity: consuming NodeKeyPair, networkKey: borrowing SecretBytes, seqnoCounter: UInt64,
                initiationCounterFloor: UInt64, configuration: EngineConfiguration = EngineConfiguration(),
                linkConfiguration: LinkConfiguration = LinkConfiguration(), seed: UInt64, now: Instant) throws(CryptoError) {
        var random = SeededRandom(seed: seed)
        let linkRandom = random.fork()
        link = try LinkLayer<NodePeer>(identity: identity, networkKey: networkKey, initiationCounterFloor: initiationCounterFloor,
                                       random: linkRandom, configuration: linkConfiguration)
        let node = identity.nodeID
        nodeID = node
        meshAddress = node.meshAddress
        routerID = node.routerID
        let signer = NodeKeySigner(identity)
        self.signer = signer
        engine = RoutingEngine(node: node, meshAddress: node.meshAddress, configuration: configuration, seqnoCounter: seqnoCounter,
                               random: random, signer: signer, verifier: Ed25519Verifier(), addresses: KeyHashAddressResolver(),
                               now: now)
        icmpRefilledAt = now
    }

    // MARK: - Queries

    /// Signs `message` with the node key (Ed25519): node-information requests and answers.
    public func sign(_ message: [UInt8]) -> [UInt8] { signer.sign(message) }

    /// When `tick` must next be called.
    public var nextDeadline: Instant { min(engine.nextDeadline, link.nextDeadline) }

    /// The engine's tables.
    public func snapshot() -> EngineSnapshot { engine.snapshot() }

    /// The engine's counters alone (no table copy).
    public var engineCounters: EngineCounters { engine.engineCounters }

    /// The engine's neighbours only (cheap: no route table copy); for per-event callers.
    public func neighbourSnapshots() -> [NeighbourSnapshot] { engine.neighbourSnapshots() }

    /// The selected route to `prefix` (one lookup).
    public func selectedRoute(to prefix: Prefix) -> RouteSnapshot? { engine.selectedRoute(to: prefix) }

    /// The link-local address of a neighbour with a session.
    public func peer(of neighbour: NeighbourKey) -> NodePeer? { neighbourPeers[neighbour] }

    /// The key of a neighbour with a session.
    public func node(of neighbour: NeighbourKey) -> NodeID? { neighbourNodes[neighbour] }

    // MARK: - Events

    /// An interface carries mesh traffic; `linkMTU` is its IP MTU (e.g. 1500).
    /// `kind`: how link costs are computed on it (`LinkKind`; the daemon asks the kernel).
    public func interfaceUp(_ interface: InterfaceID, linkMTU: Int, kind: LinkKind = .wireless, now: Instant) -> [NodeOutput] {
        interfaceMTUs[interface] = linkMTU
        var out: [NodeOutput] = []
        runEngine(.interfaceUp(interface, mtu: linkMTU - 40 - 8 - LinkLayer<NodePeer>.transportOverhead - 1, kind: kind), now: now, &out)
        return out
    }

    /// An interface went away: its neighbours and their sessions are dropped.
    public func interfaceDown(_ interface: InterfaceID, now: Instant) -> [NodeOutput] {
        interfaceMTUs[interface] = nil
        var out: [NodeOutput] = []
        for key in neighbourPeers.keys.filter({ $0.interface == interface }).sorted() {
            if let node = neighbourNodes[key] { runLink(link.disconnect(node), now: now, &out) }
            forget(key)
        }
        runEngine(.interfaceDown(interface), now: now, &out)
        return out
    }

    /// Runs due timers (engine and link layer).
    public func tick(now: Instant) -> [NodeOutput] {
        var out: [NodeOutput] = []
        runLink(link.tick(now: now), now: now, &out)
        runEngine(.timer, now: now, &out)
        return out
    }

    /// Passes an engine event through (operator commands, uplink status).
    public func handle(_ event: EngineEvent, now: Instant) -> [NodeOutput] {
        var out: [NodeOutput] = []
        runEngine(event, now: now, &out)
        return out
    }

    /// One datagram from a neighbour's link-local address.
    public func receive(_ datagram: [UInt8], from peer: NodePeer, now: Instant) -> [NodeOutput] {
        var out: [NodeOutput] = []
        guard let first = datagram.first else { counters.unknownFrameType += 1; return out }
        switch first {
        case FrameType.plaintextRouting.rawValue:
            receivePlaintext(datagram, from: peer, now: now, &out)
        case FrameType.handshakeInitiation.rawValue...FrameType.transport.rawValue:
            runLink(link.receive(datagram, from: peer, now: now), now: now, &out)
        default:
            counters.unknownFrameType += 1
        }
        return out
    }

    // MARK: - Plaintext hellos

    func receivePlaintext(_ datagram: [UInt8], from peer: NodePeer, now: Instant, _ out: inout [NodeOutput]) {
        guard interfaceMTUs[peer.interface] != nil else { return }
        let packet: RoutingPacket
        do {
            packet = try RoutingPacket.decodePlaintextFrame(datagram[...], report: &decodeReport)
        } catch {
            counters.undecodableRouting += 1
            return
        }
        for m in packet.messages {
            guard case let .hello(h) = m else { continue }
            if h.routerID == routerID { counters.ownHellos += 1; return }
            if let node = h.node {
                guard node.routerID == h.routerID else { counters.helloKeyMismatch += 1; return }
                if knownNodes[h.routerID] == nil, knownNodes.count >= maxKnownNodes {
                    knownNodes.removeAll()  // a flood of fake routers; real ones repeat their key
                }
                knownNodes[h.routerID] = node
            }
            let key = NeighbourKey(interface: peer.interface, routerID: h.routerID)
            let last = helloSeqnos[key]
            if neighbourNodes[key] != nil { helloSeqnos[key] = h.seqno }  // bounded by the sessions
            if let last, let node = neighbourNodes[key], neighbourPeers[key] == peer {
                // A hello seqno that jumped (the engine starts each interface at a random one) means the
                // neighbour restarted and lost its session: drop ours at once and handshake again, rather
                // than wait for the old session to expire. Hellos are not authenticated, so this is taken
                // only from the session's own address and at most once per `restartTeardownInterval`.
                let d = h.seqno.rawValue &- last.rawValue
                if d > 16, restartTeardowns[key].map({ now - $0 >= restartTeardownInterval }) ?? true {
                    counters.neighbourRestarts += 1
                    if restartTeardowns.count >= 256 { restartTeardowns = restartTeardowns.filter { now - $0.value < restartTeardownInterval } }
                    restartTeardowns[key] = now
                    closeSession(key, node: node, now: now, &out)
                }
            }
            if let node = knownNodes[h.routerID] {
                // Start (or re-aim) a handshake when there is no session with this router here.
                // (An existing session's address is never changed by a hello, which anyone on the link can
                // forge; the link layer follows a neighbour's address from its authenticated packets.)
                if neighbourPeers[key] == nil, sessionKeys[node] == nil || !link.hasSession(with: node, now: now) {
                    // Hellos are unauthenticated and an initiation is larger than a hello: bound how many
                    // handshakes hellos can start (all sources together).
                    if now - handshakeWindowStart >= .seconds(1) { handshakeWindowStart = now; handshakeStarts = 0 }
                    guard handshakeStarts < handshakeStartsPerSecond else { counters.handshakeStartsLimited += 1; break }
                    handshakeStarts += 1
                    runLink(link.connect(to: node, at: peer, now: now), now: now, &out)
                }
            }
            break
        }
        runEngine(.multicastReceived(interface: peer.interface, packet: packet), now: now, &out)
    }

    // MARK: - Link layer outputs

    func runLink(_ outputs: [LinkOutput<NodePeer>], now: Instant, _ out: inout [NodeOutput]) {
        for o in outputs {
            switch o {
            case let .send(frame, to: peer):
                out.append(.send(frame, to: peer))
            case let .persistInitiationCounter(v):
                out.append(.persistInitiationCounter(v))
            case let .sessionEstablished(node, peer):
                let key = NeighbourKey(interface: peer.interface, routerID: node.routerID)
                if let old = sessionKeys[node], old != key { forget(old); runEngine(.sessionClosed(old), now: now, &out) }
                sessionKeys[node] = key
                neighbourPeers[key] = peer
                neighbourNodes[key] = node
                knownNodes[node.routerID] = node
                runEngine(.sessionEstablished(key, node: node), now: now, &out)
            case let .sessionClosed(node):
                if let key = sessionKeys[node] {
                    forget(key)
                    runEngine(.sessionClosed(key), now: now, &out)
                }
            case let .deliver(plaintext, from: node, peer: peer):
                receiveSessionPayload(plaintext, from: node, peer: peer, now: now, &out)
            }
        }
    }

    /// Ends the session with a neighbour and tells the engine (its routes through it go at once).
    func closeSession(_ key: NeighbourKey, node: NodeID, now: Instant, _ out: inout [NodeOutput]) {
        forget(key)
        runLink(link.disconnect(node), now: now, &out)
        runEngine(.sessionClosed(key), now: now, &out)
    }

    func forget(_ key: NeighbourKey) {
        if let node = neighbourNodes[key], sessionKeys[node] == key { sessionKeys[node] = nil }
        neighbourPeers[key] = nil
        neighbourNodes[key] = nil
        lastForwardedVia[key] = nil
        helloSeqnos[key] = nil
    }

    func receiveSessionPayload(_ plaintext: [UInt8], from node: NodeID, peer: NodePeer, now: Instant, _ out: inout [NodeOutput]) {
        guard let type = plaintext.first else { return }
        switch type {
        case InnerPayloadType.routing.rawValue:
            guard let key = sessionKeys[node] else { counters.undecodableRouting += 1; return }
            if neighbourPeers[key] != peer, peer.interface == key.interface { neighbourPeers[key] = peer }
            let packet: RoutingPacket
            do {
                packet = try RoutingPacket.decodeInnerPayload(plaintext[...], report: &decodeReport)
            } catch {
                counters.undecodableRouting += 1
                return
            }
            runEngine(.unicastReceived(from: key, packet: packet), now: now, &out)
        case InnerPayloadType.ipPacket.rawValue:
            route(Array(plaintext.dropFirst()), fromNeighbour: true, now: now, &out)
        default:
            counters.unknownInnerType += 1
        }
    }

    // MARK: - Engine actions

    func countControl(_ packet: RoutingPacket) {
        for m in packet.messages { counters.controlBytesSent[m.kind] &+= UInt64(RoutingPacket.encodedSize(of: m)) }
    }

    func runEngine(_ event: EngineEvent, now: Instant, _ out: inout [NodeOutput]) {
        var actions = actionBuffer
        actions.removeAll(keepingCapacity: true)
        engine.handle(event, now: now, into: &actions)
        for a in actions {
            switch a {
            case let .sendMulticast(interface, packet):
                var frame: [UInt8] = []
                do { try packet.encodePlaintextFrame(into: &frame) } catch { counters.encodeFailures += 1; continue }
                countControl(packet)
                out.append(.sendMulticast(frame, interface: interface))
            case let .sendUnicast(key, packet):
                guard let node = neighbourNodes[key] else { counters.noSessionForNextHop += 1; continue }
                var plaintext: [UInt8] = []
                do { try packet.encodeInnerPayload(into: &plaintext) } catch { counters.encodeFailures += 1; continue }
                countControl(packet)
                runLink(link.send(plaintext, to: node, now: now), now: now, &out)
            case let .installRoute(entry):
                out.append(.installRoute(entry))
            case let .removeRoute(prefix):
                out.append(.removeRoute(prefix))
            case let .persistSeqnoCounter(v):
                out.append(.persistSeqnoCounter(v))
            case let .notify(n):
                out.append(.notify(n))
                // The engine gave up on a neighbour (silent past its hold time, or probes unanswered):
                // its session goes too, so that the next hello starts a fresh handshake.
                if case let .neighbourLost(key) = n, let node = neighbourNodes[key] {
                    closeSession(key, node: node, now: now, &out)
                }
            }
        }
        actionBuffer = actions
    }
}

/// The link layer's transport overhead as a compile-time-friendly constant for `encapsulationOverhead`.
enum TransportSessionOverhead {
    static var bytes: Int { LinkLayer<NodePeer>.transportOverhead }
}
