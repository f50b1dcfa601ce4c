import CSodium

/// Noise's HandshakeState driven by a `HandshakePattern` table. Byte arrays are fine here: handshakes
/// are rare; the per-packet path is `TransportSession`.
package final class HandshakeState {
    package let pattern: HandshakePattern
    package let isInitiator: Bool
    private let symmetric: SymmetricState
    private var s: X25519KeyPair?
    private var e: X25519KeyPair?
    package private(set) var rs: [UInt8]?
    package private(set) var re: [UInt8]?
    private var psk: SecretBytes
    private var messageIndex = 0

    /// Initialize(handshake_pattern, initiator, prologue, s, e, rs, re) with an optional PSK
    /// (`psk.count == 0` means none). A non-nil `e` is used instead of a fresh ephemeral (tests).
    package init(pattern: HandshakePattern, initiator: Bool, prologue: [UInt8] = [],
                 staticKey: X25519KeyPair? = nil, ephemeral: X25519KeyPair? = nil,
                 remoteStatic: [UInt8]? = nil, remoteEphemeral: [UInt8]? = nil,
                 psk: borrowing SecretBytes) throws(NoiseError) {
        self.pattern = pattern
        isInitiator = initiator
        symmetric = SymmetricState(protocolName: pattern.protocolName)
        s = staticKey
        e = ephemeral
        rs = remoteStatic
        re = remoteEphemeral
        self.psk = psk.withUnsafeBytes { SecretBytes(copying: $0) }
        if pattern.hasPSK, self.psk.count != 32 { throw .missingKey("psk") }
        symmetric.mixHash(prologue)
        // Pre-messages: the initiator's first, then the responder's.
        for (tokens, fromInitiator) in [(pattern.initiatorPreMessage, true), (pattern.responderPreMessage, false)] {
            for t in tokens {
                let mine = fromInitiator == initiator
                let key: [UInt8]?
                switch t {
                case .s: key = mine ? s?.publicKey : rs
                case .e: key = mine ? e?.publicKey : re
                default: key = nil
                }
                guard let key else { throw .missingKey("pre-message \(t)") }
                symmetric.mixHash(key)
            }
        }
    }

    /// True once every message of the pattern has been written or read.
    package var isComplete: Bool { messageIndex >= pattern.messages.count }
    /// The handshake hash `h` (channel binding); final once complete.
    package var handshakeHash: [UInt8] { symmetric.h }
    /// Whether it is this side's turn to write.
    package var isMyTurnToWrite: Bool { !isComplete && (messageIndex % 2 == 0) == isInitiator }

    /// WriteMessage(payload): the next handshake message.
    package func writeMessage(_ payload: [UInt8] = []) throws(NoiseError) -> [UInt8] {
        guard isMyTurnToWrite else { throw .wrongTurn }
        var out: [UInt8] = []
        for t in pattern.messages[messageIndex] {
            switch t {
            case .e:
                if e == nil { e = X25519KeyPair.generate() }
                let pub = e!.publicKey
                out += pub
                symmetric.mixHash(pub)
                if pattern.hasPSK { pub.withUnsafeBytes { symmetric.mixKey($0) } }
            case .s:
                guard let s else { throw .missingKey("s") }
                out += try symmetric.encryptAndHash(s.publicKey)
            case .psk:
                psk.withUnsafeBytes { symmetric.mixKeyAndHash($0) }
            default:
                try mixDH(t)
            }
        }
        out += try symmetric.encryptAndHash(payload)
        messageIndex += 1
        return out
    }

    /// ReadMessage(message): the payload, or an error (the handshake must then be abandoned).
    package func readMessage(_ message: [UInt8]) throws(NoiseError) -> [UInt8] {
        guard !isComplete, !isMyTurnToWrite else { throw .wrongTurn }
        var rest = message[...]
        for t in pattern.messages[messageIndex] {
            switch t {
            case .e:
                guard rest.count >= 32 else { throw .messageTooShort }
                let pub = Array(rest.prefix(32)); rest = rest.dropFirst(32)
                re = pub
                symmetric.mixHash(pub)
                if pattern.hasPSK { pub.withUnsafeBytes { symmetric.mixKey($0) } }
            case .s:
                let len = symmetric.cipher.hasKey ? 48 : 32
                guard rest.count >= len else { throw .messageTooShort }
                let c = Array(rest.prefix(len)); rest = rest.dropFirst(len)
                rs = try symmetric.decryptAndHash(c)
            case .psk:
                psk.withUnsafeBytes { symmetric.mixKeyAndHash($0) }
            default:
                try mixDH(t)
            }
        }
        let payload = try symmetric.decryptAndHash(Array(rest))
        messageIndex += 1
        return payload
    }

    private func mixDH(_ t: NoiseToken) throws(NoiseError) {
        // For es/se the first letter is the initiator's key, the second the responder's.
        let local: X25519KeyPair?, remote: [UInt8]?
        switch t {
        case .ee: local = e; remote = re
        case .ss: local = s; remote = rs
        case .es: (local, remote) = isInitiator ? (e, rs) : (s, re)
        case .se: (local, remote) = isInitiator ? (s, re) : (e, rs)
        default: return
        }
        guard let local, let remote else { throw .missingKey("\(t)") }
        do {
            let shared = try local.dh(remote)
            symmetric.mixKey(shared)
        } catch {
            throw .invalidPublicKey
        }
    }

    /// Split() after the last message: (initiator->responder, responder->initiator).
    package func split() throws(NoiseError) -> (initiatorToResponder: CipherState, responderToInitiator: CipherState) {
        guard isComplete else { throw .handshakeIncomplete }
        let (a, b) = symmetric.split()
        return (a, b)
    }
}
