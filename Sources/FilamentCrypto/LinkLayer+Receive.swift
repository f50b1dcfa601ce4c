import CSodium
import FilamentCore

extension LinkLayer {
    /// Handles one datagram from `source` and returns what to do. Convenience form of the fast
    /// path below: transport plaintexts come back as `.deliver` outputs.
    public func receive(_ datagram: [UInt8], from source: Peer, now: Instant) -> [LinkOutput<Peer>] {
        var out: [LinkOutput<Peer>] = []
        var plaintext = [UInt8](repeating: 0, count: max(datagram.count, 1))
        let delivery = datagram.withUnsafeBytes { d in
            plaintext.withUnsafeMutableBytes { p in receive(d, from: source, now: now, plaintext: p, outputs: &out) }
        }
        if let delivery {
            plaintext.removeLast(plaintext.count - delivery.count)
            out.append(.deliver(plaintext, from: delivery.node, peer: delivery.peer))
        }
        return out
    }

    /// Fast path: handles one datagram. A transport plaintext is opened into `plaintext` (at least
    /// datagram.count - 32 bytes) and described by the returned `LinkDelivery`, allocating nothing
    /// in steady state; everything else (handshake replies, queued frames, session events) is
    /// appended to `outputs`. Hostile input only ever increments a drop counter.
    @inlinable
    public func receive(_ datagram: UnsafeRawBufferPointer, from source: Peer, now: Instant,
                        plaintext: UnsafeMutableRawBufferPointer, outputs: inout [LinkOutput<Peer>]) -> LinkDelivery<Peer>? {
        guard datagram.count >= 4 else { noteDrop(.malformed); return nil }
        switch FrameType(rawValue: datagram[0]) {
        case .transport: return receiveTransport(datagram, from: source, now: now, plaintext: plaintext, &outputs)
        case .handshakeInitiation: receiveInitiation(datagram, from: source, now: now, &outputs)
        case .handshakeResponse: receiveResponse(datagram, from: source, now: now, &outputs)
        case .cookieReply: receiveCookieReply(datagram, now: now)
        case .plaintextRouting, nil: noteDrop(.malformed)
        }
        return nil
    }

    @inlinable
    func receiveTransport(_ d: UnsafeRawBufferPointer, from source: Peer, now: Instant,
                          plaintext: UnsafeMutableRawBufferPointer, _ out: inout [LinkOutput<Peer>]) -> LinkDelivery<Peer>? {
        guard let index = TransportSession.receiverIndex(of: d), plaintext.count >= d.count - TransportSession.overhead else {
            noteDrop(.malformed); return nil
        }
        guard case .session(let peer, let session)? = indices[index], !expired(session, now) else {
            noteDrop(.unknownIndex); return nil
        }
        switch session.open(d, into: plaintext) {
        case .malformed: noteDrop(.malformed); return nil
        case .replay: noteDrop(.replay); return nil
        case .decryptFailed: noteDrop(.decryptFailure); return nil
        case .opened(let n):
            afterOpen(peer, session, from: source, now: now, &out)
            return n > 0 ? LinkDelivery(count: n, node: peer.node, peer: source) : nil
        }
    }

    @inlinable
    func afterOpen(_ peer: LinkPeer<Peer>, _ session: TransportSession, from source: Peer, now: Instant, _ out: inout [LinkOutput<Peer>]) {
        openedPackets &+= 1
        peer.endpoint = source
        if peer.next === session {
            // First packet on a session we answered: the initiator has it, so switch to it.
            peer.next = nil
            promote(session, for: peer, now: now, &out)
        }
    }

    @usableFromInline
    func promote(_ session: TransportSession, for peer: LinkPeer<Peer>, now: Instant, _ out: inout [LinkOutput<Peer>]) {
        install(session, for: peer, now: now, &out)
    }

    @usableFromInline
    func receiveInitiation(_ d: UnsafeRawBufferPointer, from source: Peer, now: Instant, _ out: inout [LinkOutput<Peer>]) {
        typealias F = HandshakeFrames
        // A legacy initiation (one byte shorter: no cipher offer) is answered with ChaCha20-Poly1305.
        guard d.count == F.initiationLength || d.count == F.legacyInitiationLength, F.hasHeader(d, .handshakeInitiation) else {
            storedCounters.count(.malformed); return
        }
        let legacy = d.count == F.legacyInitiationLength
        let mac1Offset = d.count - 2 * F.macLength
        let mac1 = myMac1Key.withUnsafeBytes { F.mac(key: $0, d, upTo: mac1Offset) }
        guard F.macMatches(d, at: mac1Offset, mac1) else { storedCounters.count(.wrongKey); return }
        // Under load, demand proof that the source address is real before any DH work.
        if now >= loadWindowStart + .seconds(1) { loadWindowStart = now; loadCount = 0 }
        loadCount += 1
        if loadCount > configuration.underLoadThreshold {
            let cookie = currentCookie(for: source, now: now)
            let mac2 = cookie.withUnsafeBytes { F.mac(key: $0, d, upTo: mac1Offset + F.macLength) }
            guard F.macMatches(d, at: mac1Offset + F.macLength, mac2) else {
                let nonce = Sodium.randomBytes(24)
                let sealed = F.sealCookie(cookie, key: myCookieKey, nonce: nonce, ad: mac1)
                let reply = F.header(.cookieReply) + Array(d[4..<8]) + nonce + sealed
                assert(reply.count == F.cookieReplyLength)
                storedCounters.cookieRepliesSent += 1
                out.append(.send(reply, to: source))
                return
            }
        }
        guard rateLimiter.allow(source, now: now) else { storedCounters.count(.rateLimited); return }
        let senderIndex = F.readLE32(d, 4)
        guard let state = try? HandshakeState(pattern: .ikpsk2, initiator: false, prologue: F.prologue,
                                              staticKey: staticKey, psk: networkKey),
              let payload = try? state.readMessage(Array(d[8..<mac1Offset])),
              payload.count == (legacy ? F.legacyInitiationPayloadLength : F.initiationPayloadLength), let rs = state.rs
        else { storedCounters.count(.decryptFailure); return }
        guard let node = NodeID(bytes: payload[0..<32]), let peer = peer(for: node), peer.remoteStatic == rs else {
            storedCounters.count(.wrongKey); return
        }
        let counter = payload[32..<40].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        if let last = peer.lastInitiationCounter, counter <= last { storedCounters.count(.replay); return }
        peer.lastInitiationCounter = counter
        if let mine = peer.pending {
            // Simultaneous initiation: the smaller key's initiation wins on both sides, except
            // against a legacy initiator, which drops ours as malformed and never answers it.
            if nodeID < node, !legacy {
                storedCounters.simultaneousInitiationsIgnored += 1
                return
            }
            indices[mine.localIndex] = nil
            peer.pending = nil
            peer.attempts = 0
        } else if nodeID < node, let c = peer.current, c.isInitiator, now < c.createdAt + configuration.handshakeRetryInterval {
            // The same crossing, with the neighbour's response to our initiation overtaking its own
            // initiation: it dropped that handshake when it answered ours, so a response to it would
            // hit an unknown index and leave an unconfirmed `next` here. A neighbour that really lost
            // its session retries after the retry interval and is answered then.
            storedCounters.simultaneousInitiationsIgnored += 1
            return
        }
        // The choice travels in the response payload, bound to the handshake hash like the offer.
        let cipher = legacy ? TransportCipher.chacha20Poly1305 : TransportCipher.choose(offer: payload[40], aes: acceptsAES256GCM)
        guard let message = try? state.writeMessage(legacy ? [] : [cipher.rawValue]), let keys = try? state.split() else {
            storedCounters.count(.decryptFailure); return
        }
        if legacy { storedCounters.initiationsWithoutCipherOffer += 1 }
        let index = newIndex()
        var frame = F.header(.handshakeResponse) + F.le32(index) + F.le32(senderIndex) + message
        frame += frame.withUnsafeBytes { f in peer.mac1Key.withUnsafeBytes { F.mac(key: $0, f, upTo: f.count) } }
        frame += [UInt8](repeating: 0, count: F.macLength)
        assert(frame.count == (legacy ? F.legacyResponseLength : F.responseLength))
        let session = TransportSession(sender: keys.responderToInitiator, receiver: keys.initiatorToResponder, cipher: cipher,
                                       localIndex: index, remoteIndex: senderIndex, createdAt: now, isInitiator: false,
                                       rejectAfterMessages: configuration.rejectAfterMessages)
        if let old = peer.next { indices[old.localIndex] = nil }
        peer.next = session
        indices[index] = .session(peer, session)
        peer.endpoint = source
        out.append(.send(frame, to: source))
    }

    @usableFromInline
    func receiveResponse(_ d: UnsafeRawBufferPointer, from source: Peer, now: Instant, _ out: inout [LinkOutput<Peer>]) {
        typealias F = HandshakeFrames
        guard d.count == F.responseLength, F.hasHeader(d, .handshakeResponse) else { storedCounters.count(.malformed); return }
        guard case .handshake(let peer)? = indices[F.readLE32(d, 8)], let pending = peer.pending else {
            storedCounters.count(.unknownIndex); return
        }
        let mac1 = myMac1Key.withUnsafeBytes { F.mac(key: $0, d, upTo: F.responseMac1Offset) }
        guard F.macMatches(d, at: F.responseMac1Offset, mac1) else { storedCounters.count(.wrongKey); return }
        guard rateLimiter.allow(source, now: now) else { storedCounters.count(.rateLimited); return }
        guard let payload = try? pending.state.readMessage(Array(d[12..<F.responseMac1Offset])),
              let keys = try? pending.state.split()
        else {
            // The handshake state is spent; the retry timer sends a fresh initiation.
            storedCounters.count(.decryptFailure); return
        }
        // An authenticated choice we did not offer (or do not know) ends this handshake too.
        guard payload.count == F.responsePayloadLength, let cipher = TransportCipher(rawValue: payload[0]),
              pending.offer & cipher.offerBit != 0 else {
            storedCounters.count(.malformed); return
        }
        indices[pending.localIndex] = nil
        peer.pending = nil
        peer.attempts = 0
        peer.endpoint = source
        let session = TransportSession(sender: keys.initiatorToResponder, receiver: keys.responderToInitiator, cipher: cipher,
                                       localIndex: pending.localIndex, remoteIndex: F.readLE32(d, 4), createdAt: now,
                                       isInitiator: true, rejectAfterMessages: configuration.rejectAfterMessages)
        if let n = peer.next {
            // The neighbour already holds this unconfirmed session as its current one and may be
            // sending on it: keep it receiving as the previous session instead of dropping it.
            peer.next = nil
            if let c = peer.current { indices[c.localIndex] = nil }
            peer.current = n
        }
        install(session, for: peer, now: now, &out)
    }

    @usableFromInline
    func receiveCookieReply(_ d: UnsafeRawBufferPointer, now: Instant) {
        typealias F = HandshakeFrames
        guard d.count == F.cookieReplyLength, F.hasHeader(d, .cookieReply) else { storedCounters.count(.malformed); return }
        guard case .handshake(let peer)? = indices[F.readLE32(d, 4)], let pending = peer.pending else {
            storedCounters.count(.unknownIndex); return
        }
        guard let cookie = F.openCookie(Array(d[32..<64]), key: peer.cookieKey, nonce: Array(d[8..<32]), ad: pending.mac1) else {
            storedCounters.count(.decryptFailure); return
        }
        peer.cookie = cookie
        peer.cookieReceivedAt = now
    }

    /// The cookie for `source`: keyed BLAKE2b-128 of its address bytes under a secret that is
    /// replaced every `cookieSecretLifetime`.
    private func currentCookie(for source: Peer, now: Instant) -> [UInt8] {
        if cookieSecretBornAt == nil || now >= cookieSecretBornAt! + configuration.cookieSecretLifetime {
            cookieSecret.withUnsafeMutableBytes { randombytes_buf($0.baseAddress!, $0.count) }
            cookieSecretBornAt = now
        }
        return cookieSecret.withUnsafeBytes { k in source.cookieBytes.withUnsafeBytes { NoiseHash.keyedHash(key: k, $0, outputLength: 16) } }
    }
}
