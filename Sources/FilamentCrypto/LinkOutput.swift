import FilamentCore

/// What the driver must do after a call into `LinkLayer`. Execute them in order (a
/// `persistInitiationCounter` must be durable before the `send`s that follow it).
public enum LinkOutput<Peer: LinkPeerAddress>: Equatable, Sendable {
    /// Send `frame` as one datagram to `to`.
    case send([UInt8], to: Peer)
    /// An authenticated plaintext arrived from `from` (a neighbour's key) via `peer`.
    case deliver([UInt8], from: NodeID, peer: Peer)
    /// A session with `NodeID` is now usable (first one, or again after being closed).
    case sessionEstablished(NodeID, peer: Peer)
    /// The last usable session with `NodeID` expired or was closed.
    case sessionClosed(NodeID)
    /// Store this value durably; pass it back as `initiationCounterFloor` after a restart.
    case persistInitiationCounter(UInt64)
}

/// A transport plaintext opened by the fast receive path into the caller's buffer.
public struct LinkDelivery<Peer: LinkPeerAddress>: Equatable, Sendable {
    /// Plaintext bytes at the start of the caller's buffer.
    public var count: Int
    public var node: NodeID
    public var peer: Peer

    @inlinable
    public init(count: Int, node: NodeID, peer: Peer) {
        self.count = count
        self.node = node
        self.peer = peer
    }
}

/// Why an incoming datagram (or an outgoing plaintext) was dropped.
public enum LinkDropReason: String, CaseIterable, Sendable {
    /// Wrong size, unknown frame type, non-zero reserved bytes.
    case malformed
    /// Receiver index that names no session or handshake of ours.
    case unknownIndex
    /// Transport counter already seen or too old; initiation counter not above the last one.
    case replay
    /// AEAD or Noise decryption failed.
    case decryptFailure
    /// Over the per-source handshake rate.
    case rateLimited
    /// mac1 did not verify (wrong network key or not meant for us), or a key that does not match its NodeID.
    case wrongKey
    /// Outgoing: the per-peer queue was full while a handshake was in progress.
    case queueFull
    /// Outgoing: no address known for that node (call `connect` first).
    case unknownPeer
    /// Outgoing: queued plaintexts discarded because the handshake gave up.
    case handshakeTimeout
}

/// Event counters of a `LinkLayer`.
public struct LinkCounters: Equatable, Sendable {
    public private(set) var drops: [UInt64] = Array(repeating: 0, count: LinkDropReason.allCases.count)
    public internal(set) var initiationsSent: UInt64 = 0
    public internal(set) var handshakesCompleted: UInt64 = 0
    public internal(set) var cookieRepliesSent: UInt64 = 0
    public internal(set) var simultaneousInitiationsIgnored: UInt64 = 0
    public internal(set) var packetsSealed: UInt64 = 0
    public internal(set) var packetsOpened: UInt64 = 0
    /// Sessions installed with each transport cipher (decision 0804).
    public internal(set) var sessionsChaCha20Poly1305: UInt64 = 0
    public internal(set) var sessionsAES256GCM: UInt64 = 0
    /// Initiations answered that carried no cipher offer (a build before decision 0804).
    public internal(set) var initiationsWithoutCipherOffer: UInt64 = 0

    public init() {}

    /// Drops counted for `reason`.
    public subscript(reason: LinkDropReason) -> UInt64 {
        drops[LinkDropReason.allCases.firstIndex(of: reason)!]
    }

    mutating func count(_ reason: LinkDropReason, _ n: UInt64 = 1) {
        drops[LinkDropReason.allCases.firstIndex(of: reason)!] += n
    }

    /// All drops.
    public var totalDrops: UInt64 { drops.reduce(0, +) }
}
