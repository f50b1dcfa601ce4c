import FilamentCore

/// An initiation of ours waiting for its response.
@usableFromInline
final class PendingHandshake {
    let state: HandshakeState
    let localIndex: UInt32
    let sentAt: Instant
    /// mac1 of the initiation as sent: the associated data of a cookie reply to it.
    let mac1: [UInt8]
    /// The transport cipher offer byte it carried: the response's choice must be in it.
    let offer: UInt8

    init(state: HandshakeState, localIndex: UInt32, sentAt: Instant, mac1: [UInt8], offer: UInt8) {
        self.state = state
        self.localIndex = localIndex
        self.sentAt = sentAt
        self.mac1 = mac1
        self.offer = offer
    }
}

/// Everything the link layer knows about one neighbour key: its sessions (current, previous in
/// its grace period, next = responder session not yet confirmed), a pending initiation, the
/// highest initiation counter it has used, a cookie it gave us, and plaintexts waiting for a session.
@usableFromInline
final class LinkPeer<Peer: LinkPeerAddress> {
    @usableFromInline let node: NodeID
    /// The neighbour's X25519 static key (converted from its Ed25519 NodeID).
    let remoteStatic: [UInt8]
    /// mac1 key for frames we send to it.
    let mac1Key: SecretBytes
    /// Key that opens cookie replies it sends us.
    let cookieKey: SecretBytes
    @usableFromInline var endpoint: Peer?
    @usableFromInline var current: TransportSession?
    var previous: TransportSession?
    var previousRetiredAt: Instant = .zero
    @usableFromInline var next: TransportSession?
    @usableFromInline var pending: PendingHandshake?
    var attempts = 0
    var lastInitiationCounter: UInt64?
    var cookie: [UInt8]?
    var cookieReceivedAt: Instant = .zero
    var queue: [[UInt8]] = []
    /// Whether `sessionEstablished` was reported and `sessionClosed` not since.
    var reportedUp = false

    init(node: NodeID, remoteStatic: [UInt8], networkKey: borrowing SecretBytes) {
        self.node = node
        self.remoteStatic = remoteStatic
        mac1Key = HandshakeFrames.deriveKey("filament-mac1-v1", networkKey: networkKey, publicKey: remoteStatic)
        cookieKey = HandshakeFrames.deriveKey("filament-cookie-v1", networkKey: networkKey, publicKey: remoteStatic)
    }

    /// Every session of this peer, for index cleanup.
    var sessions: [TransportSession] { [current, previous, next].compactMap { $0 } }
}
