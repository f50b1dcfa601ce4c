import FilamentCore

/// One direction pair of transport keys from a completed handshake (Noise Split()), with a 64-bit
/// send counter and a receive replay window. It owns the layout of transport frames (type 0x04):
///
///     0      1      4              8                      16
///     | 0x04 | 0 0 0 | receiver idx | counter (u64, LE)   | AEAD(plaintext) + 16-byte tag
///
/// The AEAD is the cipher negotiated in the handshake (`TransportCipher`, decision 0804): ChaCha20-
/// Poly1305-IETF or AES-256-GCM, both with 16-byte tags, so frame sizes do not depend on it.
/// The counter is the AEAD nonce, so the header needs no separate authentication. `seal` and
/// `open` work on caller-provided buffers and do not allocate.
@usableFromInline
package final class TransportSession {
    @usableFromInline package static let headerLength = 16
    @usableFromInline package static let tagLength = CipherState.tagLength
    /// Bytes a transport frame adds to its plaintext.
    @usableFromInline package static let overhead = headerLength + tagLength
    /// WireGuard's REJECT_AFTER_MESSAGES: a margin below 2^64 so counters never wrap.
    package static let defaultRejectAfterMessages: UInt64 = .max - (1 << 13)

    @usableFromInline package enum SealResult: Equatable, Sendable { case sealed(Int), bufferTooSmall, exhausted }
    @usableFromInline package enum OpenResult: Equatable, Sendable { case opened(Int), malformed, replay, decryptFailed }

    private let sender: TransportKey
    private let receiver: TransportKey
    /// The negotiated transport AEAD.
    package var cipher: TransportCipher { sender.cipher }
    package let localIndex: UInt32
    package let remoteIndex: UInt32
    @usableFromInline package let createdAt: Instant
    /// When the owner should start a new handshake by time (set by `LinkLayer`; `.distantFuture` if never).
    @usableFromInline package var rekeyAt: Instant = .distantFuture
    package let isInitiator: Bool
    package let rejectAfterMessages: UInt64
    @usableFromInline package private(set) var sendCounter: UInt64 = 0
    package private(set) var receivedAny = false
    private var replay = ReplayWindow()

    package init(sender: CipherState, receiver: CipherState, cipher: TransportCipher = .chacha20Poly1305,
                 localIndex: UInt32, remoteIndex: UInt32,
                 createdAt: Instant, isInitiator: Bool, rejectAfterMessages: UInt64 = defaultRejectAfterMessages) {
        self.sender = TransportKey(sender, cipher: cipher)
        self.receiver = TransportKey(receiver, cipher: cipher)
        self.localIndex = localIndex
        self.remoteIndex = remoteIndex
        self.createdAt = createdAt
        self.isInitiator = isInitiator
        self.rejectAfterMessages = rejectAfterMessages
    }

    /// Whether the send counter has reached the limit (no more packets may be sealed).
    @usableFromInline package var isSendExhausted: Bool { sendCounter >= rejectAfterMessages }

    /// Seals `plaintext` into a complete transport frame in `frame` (needs plaintext.count + 32 bytes).
    @usableFromInline
    package func seal(_ plaintext: UnsafeRawBufferPointer, into frame: UnsafeMutableRawBufferPointer) -> SealResult {
        guard sendCounter < rejectAfterMessages else { return .exhausted }
        guard frame.count >= plaintext.count + Self.overhead else { return .bufferTooSmall }
        let n = sendCounter
        sendCounter = n + 1
        frame.storeBytes(of: UInt32(FrameType.transport.rawValue).littleEndian, toByteOffset: 0, as: UInt32.self)
        frame.storeBytes(of: remoteIndex.littleEndian, toByteOffset: 4, as: UInt32.self)
        frame.storeBytes(of: n.littleEndian, toByteOffset: 8, as: UInt64.self)
        let body = UnsafeMutableRawBufferPointer(rebasing: frame[Self.headerLength...])
        let c = sender.seal(counter: n, plaintext: plaintext, into: body)
        return .sealed(Self.headerLength + c)
    }

    /// The receiver index of a transport frame, or nil if it is too short or not a transport frame.
    @usableFromInline
    package static func receiverIndex(of frame: UnsafeRawBufferPointer) -> UInt32? {
        guard frame.count >= headerLength + tagLength,
              frame.loadUnaligned(fromByteOffset: 0, as: UInt32.self) == UInt32(FrameType.transport.rawValue).littleEndian
        else { return nil }
        return UInt32(littleEndian: frame.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
    }

    /// Opens a transport frame addressed to this session into `plaintext` (frame.count - 32 bytes).
    /// Checks the replay window before decrypting and records the counter only after the tag verifies.
    @usableFromInline
    package func open(_ frame: UnsafeRawBufferPointer, into plaintext: UnsafeMutableRawBufferPointer) -> OpenResult {
        guard Self.receiverIndex(of: frame) == localIndex,
              plaintext.count >= frame.count - Self.overhead else { return .malformed }
        let n = UInt64(littleEndian: frame.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        guard n < rejectAfterMessages, replay.check(n) else { return .replay }
        let body = UnsafeRawBufferPointer(rebasing: frame[Self.headerLength...])
        guard let m = receiver.open(counter: n, ciphertext: body, into: plaintext)
        else { return .decryptFailed }
        guard replay.commit(n) else { return .replay }
        receivedAny = true
        return .opened(m)
    }
}
