import CSodium
import FilamentCore

/// The per-node link layer state machine: Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b sessions with
/// neighbours, shared by the simulator and the daemon. It does no I/O and reads no clock: every
/// call takes `now` and returns `LinkOutput`s for the driver to execute in order. Randomness for
/// session indices comes from the injected `SeededRandom` (same seed, same indices); ephemeral
/// keys, cookie secrets and cookie nonces come from libsodium (they never change sizes or timing).
///
/// Frames are documented in docs/link-layer.md. The driver hands every datagram whose byte 0 is
/// 0x01...0x04 to `receive`, and 0x10 (plaintext routing) to FilamentWire.
public final class LinkLayer<Peer: LinkPeerAddress> {
    /// Bytes a transport frame adds to a plaintext (16-byte header + 16-byte tag).
    public static var transportOverhead: Int { TransportSession.overhead }
    /// Size of a handshake initiation frame (the largest handshake frame).
    public static var initiationSize: Int { HandshakeFrames.initiationLength }
    /// Size of a handshake response frame.
    public static var responseSize: Int { HandshakeFrames.responseLength }
    /// Size of a cookie reply frame.
    public static var cookieReplySize: Int { HandshakeFrames.cookieReplyLength }

    /// This node's key.
    public let nodeID: NodeID
    public let configuration: LinkConfiguration
    /// Counters of events and drops.
    public var counters: LinkCounters {
        var c = storedCounters
        c.packetsSealed = sealedPackets
        c.packetsOpened = openedPackets
        return c
    }
    var storedCounters = LinkCounters()
    @usableFromInline var sealedPackets: UInt64 = 0
    @usableFromInline var openedPackets: UInt64 = 0

    let staticKey: X25519KeyPair
    var networkKey: SecretBytes
    let myMac1Key: SecretBytes
    let myCookieKey: SecretBytes
    var random: SeededRandom
    @usableFromInline var peers: [NodeID: LinkPeer<Peer>] = [:]
    @usableFromInline var indices: [UInt32: IndexEntry] = [:]
    var rateLimiter: HandshakeRateLimiter<Peer>
    var cookieSecret = SecretBytes(zeroedCount: 32)
    var cookieSecretBornAt: Instant?
    var loadWindowStart: Instant = .zero
    var loadCount = 0
    var lastInitiationCounterUsed: UInt64
    var initiationCounterReserved: UInt64
    /// Whether this node offers and accepts AES-256-GCM (configured and available on this CPU).
    let acceptsAES256GCM: Bool

    @usableFromInline enum IndexEntry {
        case handshake(LinkPeer<Peer>)
        case session(LinkPeer<Peer>, TransportSession)
    }

    /// A link layer for the node `identity`, admitting neighbours that hold `networkKey` (32 bytes;
    /// `NetworkKey.openMesh()` for an open mesh). `initiationCounterFloor` is the last value the
    /// driver persisted from a `persistInitiationCounter` output (0 on first start): every
    /// initiation carries a counter above it, and neighbours reject initiations whose counter does
    /// not grow.
    public init(identity: borrowing NodeKeyPair, networkKey: borrowing SecretBytes,
                initiationCounterFloor: UInt64, random: SeededRandom,
                configuration: LinkConfiguration = LinkConfiguration()) throws(CryptoError) {
        guard networkKey.count == NetworkKey.length else {
            throw .invalidKeyLength(expected: NetworkKey.length, got: networkKey.count)
        }
        nodeID = identity.nodeID
        staticKey = try identity.withX25519Secret { (s: UnsafeRawBufferPointer) throws(CryptoError) in
            try X25519KeyPair(secret: SecretBytes(copying: s))
        }
        self.networkKey = networkKey.withUnsafeBytes { SecretBytes(copying: $0) }
        myMac1Key = HandshakeFrames.deriveKey("filament-mac1-v1", networkKey: networkKey, publicKey: staticKey.publicKey)
        myCookieKey = HandshakeFrames.deriveKey("filament-cookie-v1", networkKey: networkKey, publicKey: staticKey.publicKey)
        self.random = random
        self.configuration = configuration
        rateLimiter = HandshakeRateLimiter(burst: configuration.handshakeBurst, refill: configuration.handshakeRefillInterval,
                                           capacity: configuration.rateLimiterCapacity)
        lastInitiationCounterUsed = initiationCounterFloor
        initiationCounterReserved = initiationCounterFloor
        acceptsAES256GCM = configuration.allowAES256GCM && TransportCipher.aes256GCMAvailable
    }

    // MARK: - Commands

    /// Tells the link layer that `node` is reachable at `address` (e.g. from its hello) and starts
    /// a handshake if there is no usable session. Call it again when the address changes.
    public func connect(to node: NodeID, at address: Peer, now: Instant) -> [LinkOutput<Peer>] {
        var out: [LinkOutput<Peer>] = []
        guard let peer = peer(for: node) else {
            storedCounters.count(.wrongKey)
            return out
        }
        peer.endpoint = address
        if usableCurrent(peer, now) == nil, peer.pending == nil, !awaitsConfirmation(peer, now) {
            startHandshake(peer, now: now, &out)
        }
        return out
    }

    /// Encrypts `plaintext` to `node`, or queues it (bounded) and starts a handshake if there is
    /// no usable session yet.
    public func send(_ plaintext: [UInt8], to node: NodeID, now: Instant) -> [LinkOutput<Peer>] {
        var out: [LinkOutput<Peer>] = []
        var frame = [UInt8](repeating: 0, count: plaintext.count + TransportSession.overhead)
        let sent = plaintext.withUnsafeBytes { p in
            frame.withUnsafeMutableBytes { f in seal(p, to: node, now: now, frame: f, outputs: &out) }
        }
        if let sent {
            frame.removeLast(frame.count - sent.count)
            out.append(.send(frame, to: sent.peer))
        }
        return out
    }

    /// Fast path: seals `plaintext` for `node` into `frame` (at least plaintext.count + 32 bytes)
    /// and returns the frame length and where to send it, allocating nothing when a session is up.
    /// Without a usable session it queues a copy, may append handshake outputs, and returns nil.
    /// (`@inlinable` so the daemon gets it specialized for its address type.)
    @inlinable
    public func seal(_ plaintext: UnsafeRawBufferPointer, to node: NodeID, now: Instant,
                     frame: UnsafeMutableRawBufferPointer, outputs: inout [LinkOutput<Peer>]) -> (count: Int, peer: Peer)? {
        precondition(frame.count >= plaintext.count + TransportSession.overhead, "frame buffer too small")
        guard let peer = peers[node], let endpoint = peer.endpoint else {
            noteDrop(.unknownPeer)
            return nil
        }
        if let session = usableCurrent(peer, now), case .sealed(let n) = session.seal(plaintext, into: frame) {
            afterSeal(peer, session, now: now, &outputs)
            return (n, endpoint)
        }
        queueAndHandshake(Array(plaintext), peer, now: now, &outputs)
        return nil
    }

    @inlinable
    func afterSeal(_ peer: LinkPeer<Peer>, _ session: TransportSession, now: Instant, _ outputs: inout [LinkOutput<Peer>]) {
        sealedPackets &+= 1
        if session.sendCounter >= configuration.rekeyAfterMessages || now >= session.rekeyAt {
            startHandshakeForRekey(peer, session, now: now, &outputs)
        }
    }

    @usableFromInline
    func queueAndHandshake(_ plaintext: [UInt8], _ peer: LinkPeer<Peer>, now: Instant, _ outputs: inout [LinkOutput<Peer>]) {
        enqueue(plaintext, for: peer)
        if peer.pending == nil, !awaitsConfirmation(peer, now) { startHandshake(peer, now: now, &outputs) }
    }

    @usableFromInline
    func noteDrop(_ reason: LinkDropReason) { storedCounters.count(reason) }

    @usableFromInline
    func startHandshakeForRekey(_ peer: LinkPeer<Peer>, _ session: TransportSession, now: Instant, _ out: inout [LinkOutput<Peer>]) {
        if peer.pending == nil, peer.next == nil, needsRekey(session, now) { startHandshake(peer, now: now, &out) }
    }

    /// Forgets every session with `node` (e.g. the neighbour was removed).
    public func disconnect(_ node: NodeID) -> [LinkOutput<Peer>] {
        guard let peer = peers[node] else { return [] }
        var out: [LinkOutput<Peer>] = []
        for s in peer.sessions { indices[s.localIndex] = nil }
        if let p = peer.pending { indices[p.localIndex] = nil }
        peer.current = nil; peer.previous = nil; peer.next = nil; peer.pending = nil; peer.attempts = 0
        if !peer.queue.isEmpty { storedCounters.count(.handshakeTimeout, UInt64(peer.queue.count)); peer.queue = [] }
        if peer.reportedUp { peer.reportedUp = false; out.append(.sessionClosed(node)) }
        return out
    }

    /// Whether a session with `node` can carry data now.
    public func hasSession(with node: NodeID, now: Instant) -> Bool {
        peers[node].map { usableCurrent($0, now) != nil } ?? false
    }

    /// The transport cipher of the session that carries data to `node` now, nil without one.
    public func transportCipher(with node: NodeID, now: Instant) -> TransportCipher? {
        peers[node].flatMap { usableCurrent($0, now)?.cipher }
    }

    // MARK: - Timers

    /// Runs timers due at `now`: handshake retries and give-ups, time-based rekeys, expiry of old
    /// sessions. Call it at `nextDeadline` (calling it more often is harmless).
    public func tick(now: Instant) -> [LinkOutput<Peer>] {
        var out: [LinkOutput<Peer>] = []
        for node in peers.keys.sorted() {
            let peer = peers[node]!
            if let p = peer.previous, now >= peer.previousRetiredAt + configuration.previousSessionGrace || expired(p, now) {
                indices[p.localIndex] = nil
                peer.previous = nil
            }
            if let n = peer.next, expired(n, now) { indices[n.localIndex] = nil; peer.next = nil }
            if let c = peer.current, expired(c, now) || c.isSendExhausted {
                indices[c.localIndex] = nil
                peer.current = nil
            }
            if peer.current == nil, peer.reportedUp {
                peer.reportedUp = false
                out.append(.sessionClosed(node))
            }
            if let pending = peer.pending, now >= pending.sentAt + configuration.handshakeRetryInterval {
                indices[pending.localIndex] = nil
                peer.pending = nil
                if peer.attempts >= configuration.handshakeMaxAttempts {
                    peer.attempts = 0
                    if !peer.queue.isEmpty {
                        storedCounters.count(.handshakeTimeout, UInt64(peer.queue.count))
                        peer.queue = []
                    }
                } else {
                    startHandshake(peer, now: now, &out)
                }
            } else if peer.pending == nil, peer.next == nil, let c = peer.current, needsRekey(c, now) {
                // (A `next` session means the neighbour is rekeying already.)
                startHandshake(peer, now: now, &out)
            } else if peer.pending == nil, peer.current == nil, !peer.queue.isEmpty, !awaitsConfirmation(peer, now) {
                // Data waits and the neighbour never confirmed its session: initiate ourselves.
                startHandshake(peer, now: now, &out)
            }
        }
        if let born = cookieSecretBornAt, now >= born + configuration.cookieSecretLifetime { cookieSecretBornAt = nil }
        rateLimiter.purge(now: now)
        return out
    }

    /// When `tick` next has work to do (`Instant.distantFuture` if never).
    public var nextDeadline: Instant {
        var d = Instant.distantFuture
        for peer in peers.values {
            if let p = peer.pending { d = min(d, p.sentAt + configuration.handshakeRetryInterval) }
            if let c = peer.current {
                d = min(d, c.createdAt + configuration.rejectAfterTime)
                if peer.pending == nil, peer.next == nil { d = min(d, rekeyTime(c)) }
            }
            if peer.previous != nil { d = min(d, peer.previousRetiredAt + configuration.previousSessionGrace) }
            if let n = peer.next {
                d = min(d, n.createdAt + configuration.rejectAfterTime)
                if peer.current == nil, !peer.queue.isEmpty { d = min(d, n.createdAt + configuration.handshakeRetryInterval) }
            }
        }
        return d
    }

    // MARK: - Internals shared with the receive path

    /// The peer record for `node`, created on first use; nil if its key does not convert to X25519.
    func peer(for node: NodeID) -> LinkPeer<Peer>? {
        if let p = peers[node] { return p }
        guard node != nodeID, let x = try? X25519KeyPair.publicKey(fromEd25519: node.bytes) else { return nil }
        let p = LinkPeer<Peer>(node: node, remoteStatic: x, networkKey: networkKey)
        peers[node] = p
        return p
    }

    /// Whether the neighbour just initiated (our answer's session is not confirmed yet and is
    /// younger than the retry interval): then we wait instead of initiating ourselves.
    func awaitsConfirmation(_ peer: LinkPeer<Peer>, _ now: Instant) -> Bool {
        guard let n = peer.next else { return false }
        return now < n.createdAt + configuration.handshakeRetryInterval
    }

    @inlinable
    func expired(_ s: TransportSession, _ now: Instant) -> Bool { now >= s.createdAt + configuration.rejectAfterTime }

    @inlinable
    func usableCurrent(_ peer: LinkPeer<Peer>, _ now: Instant) -> TransportSession? {
        guard let c = peer.current, !expired(c, now), !c.isSendExhausted else { return nil }
        return c
    }

    func rekeyTime(_ s: TransportSession) -> Instant {
        s.createdAt + configuration.rekeyAfterTime + (s.isInitiator ? .zero : configuration.responderRekeySlack)
    }

    func needsRekey(_ s: TransportSession, _ now: Instant) -> Bool {
        s.sendCounter >= configuration.rekeyAfterMessages || now >= rekeyTime(s)
    }

    func enqueue(_ plaintext: [UInt8], for peer: LinkPeer<Peer>) {
        guard peer.queue.count < configuration.queueLimit else {
            storedCounters.count(.queueFull)
            return
        }
        peer.queue.append(plaintext)
    }

    /// A fresh local index, deterministic for a given seed.
    func newIndex() -> UInt32 {
        while true {
            let i = UInt32(truncatingIfNeeded: random.next())
            if i != 0, indices[i] == nil { return i }
        }
    }

    func nextInitiationCounter(_ out: inout [LinkOutput<Peer>]) -> UInt64 {
        lastInitiationCounterUsed += 1
        if lastInitiationCounterUsed > initiationCounterReserved {
            initiationCounterReserved = lastInitiationCounterUsed + configuration.initiationCounterBlock - 1
            out.append(.persistInitiationCounter(initiationCounterReserved))
        }
        return lastInitiationCounterUsed
    }

    /// Sends a new initiation to `peer` (which must have an endpoint).
    func startHandshake(_ peer: LinkPeer<Peer>, now: Instant, _ out: inout [LinkOutput<Peer>]) {
        guard let endpoint = peer.endpoint else { return }
        if let old = peer.pending { indices[old.localIndex] = nil; peer.pending = nil }
        guard let state = try? HandshakeState(pattern: .ikpsk2, initiator: true, prologue: HandshakeFrames.prologue,
                                              staticKey: staticKey, remoteStatic: peer.remoteStatic, psk: networkKey)
        else { return }
        let index = newIndex()
        let counter = nextInitiationCounter(&out)
        let offer = TransportCipher.offer(aes: acceptsAES256GCM)
        guard let message = try? state.writeMessage(nodeID.bytes + HandshakeFrames.le64(counter) + [offer]) else { return }
        var frame = HandshakeFrames.header(.handshakeInitiation) + HandshakeFrames.le32(index) + message
        let mac1 = frame.withUnsafeBytes { f in
            peer.mac1Key.withUnsafeBytes { k in HandshakeFrames.mac(key: k, f, upTo: f.count) }
        }
        frame += mac1
        if let cookie = peer.cookie, now < peer.cookieReceivedAt + configuration.cookieLifetime {
            frame += frame.withUnsafeBytes { f in cookie.withUnsafeBytes { HandshakeFrames.mac(key: $0, f, upTo: f.count) } }
        } else {
            frame += [UInt8](repeating: 0, count: HandshakeFrames.macLength)
        }
        assert(frame.count == HandshakeFrames.initiationLength)
        peer.pending = PendingHandshake(state: state, localIndex: index, sentAt: now, mac1: mac1, offer: offer)
        peer.attempts += 1
        indices[index] = .handshake(peer)
        storedCounters.initiationsSent += 1
        out.append(.send(frame, to: endpoint))
    }

    /// Makes `session` the peer's current one (the old current becomes previous), reports the
    /// session if it is the first, and flushes queued plaintexts through it.
    @usableFromInline
    func install(_ session: TransportSession, for peer: LinkPeer<Peer>, now: Instant, _ out: inout [LinkOutput<Peer>]) {
        if let old = peer.previous { indices[old.localIndex] = nil }
        peer.previous = peer.current
        peer.previousRetiredAt = now
        peer.current = session
        session.rekeyAt = rekeyTime(session)
        indices[session.localIndex] = .session(peer, session)
        storedCounters.handshakesCompleted += 1
        switch session.cipher {
        case .chacha20Poly1305: storedCounters.sessionsChaCha20Poly1305 += 1
        case .aes256GCM: storedCounters.sessionsAES256GCM += 1
        }
        guard let endpoint = peer.endpoint else { return }
        if !peer.reportedUp {
            peer.reportedUp = true
            out.append(.sessionEstablished(peer.node, peer: endpoint))
        }
        let queued = peer.queue
        peer.queue = []
        for p in queued { sealAndAppend(p, session, endpoint, &out) }
        if queued.isEmpty, session.isInitiator { sealAndAppend([], session, endpoint, &out) }  // keepalive confirms the session
    }

    func sealAndAppend(_ plaintext: [UInt8], _ session: TransportSession, _ endpoint: Peer, _ out: inout [LinkOutput<Peer>]) {
        var frame = [UInt8](repeating: 0, count: plaintext.count + TransportSession.overhead)
        let r = plaintext.withUnsafeBytes { p in frame.withUnsafeMutableBytes { session.seal(p, into: $0) } }
        if case .sealed = r {
            sealedPackets &+= 1
            out.append(.send(frame, to: endpoint))
        }
    }
}
