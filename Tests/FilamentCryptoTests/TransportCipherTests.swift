import CSodium
import FilamentCore
import Testing
@testable import FilamentCrypto

/// The negotiated transport cipher (decision 0804): AES-256-GCM sessions, and the negotiation in
/// the Noise handshake between real link layers.
@Suite struct TransportCipherTests {
    static let aes = TransportCipher.aes256GCMAvailable

    func pair(aes1: Bool, aes2: Bool) -> LinkHarness {
        let h = LinkHarness()
        var c1 = LinkConfiguration(); c1.allowAES256GCM = aes1
        var c2 = LinkConfiguration(); c2.allowAES256GCM = aes2
        h.add(1, seed: 1, configuration: c1)
        h.add(2, seed: 2, rngSeed: 9, configuration: c2)
        return h
    }

    func cipher(_ h: LinkHarness, _ a: UInt32, _ b: UInt32) -> TransportCipher? {
        h.layer(a).transportCipher(with: h.ids[TestAddress(id: b)]!, now: h.now)
    }

    /// Sends a payload each way and checks both arrive.
    func exchange(_ h: LinkHarness) {
        h.send(1, 2, Array("to two".utf8))
        h.send(2, 1, Array("to one".utf8))
        h.run()
        #expect(h.delivered[TestAddress(id: 2)]?.last == Array("to two".utf8))
        #expect(h.delivered[TestAddress(id: 1)]?.last == Array("to one".utf8))
    }

    /// The offer byte and the responder's choice: AES only when both accept it; unknown bits are ignored.
    @Test func offerAndChoice() {
        #expect(TransportCipher.offer(aes: false) == 0x01)
        #expect(TransportCipher.offer(aes: true) == 0x03)
        #expect(TransportCipher.choose(offer: 0x03, aes: true) == .aes256GCM)
        #expect(TransportCipher.choose(offer: 0x03, aes: false) == .chacha20Poly1305)
        #expect(TransportCipher.choose(offer: 0x01, aes: true) == .chacha20Poly1305)
        #expect(TransportCipher.choose(offer: 0xF9, aes: true) == .chacha20Poly1305)
        #expect(TransportCipher.choose(offer: 0xFF, aes: true) == .aes256GCM)
        #expect(TransportCipher.aes256GCM.description == "aes-256-gcm")
        #expect(TransportCipher.chacha20Poly1305.description == "chacha20-poly1305")
    }

    /// AES-256-GCM through `TransportKey` is libsodium's one-shot AES-256-GCM with the nonce 4 zero
    /// bytes || counter (LE), and differs from ChaCha20-Poly1305 under the same key and nonce.
    @Test(.enabled(if: aes)) func aesMatchesLibsodiumOneShot() {
        let keyBytes = (0..<32).map { UInt8($0 &* 7 &+ 1) }
        let n: UInt64 = 0x0102_0304_0506_0708
        let plaintext = Array("a transport plaintext of some length".utf8)
        func sealed(_ c: TransportCipher) -> [UInt8] {
            let key = keyBytes.withUnsafeBytes { TransportKey(CipherState(key: $0), cipher: c) }
            var out = [UInt8](repeating: 0, count: plaintext.count + 16)
            let len = plaintext.withUnsafeBytes { p in out.withUnsafeMutableBytes { key.seal(counter: n, plaintext: p, into: $0) } }
            #expect(len == plaintext.count + 16)
            return out
        }
        var nonce = [UInt8](repeating: 0, count: 4) + withUnsafeBytes(of: n.littleEndian) { Array($0) }
        var reference = [UInt8](repeating: 0, count: plaintext.count + 16)
        var clen: UInt64 = 0
        #expect(crypto_aead_aes256gcm_encrypt(&reference, &clen, plaintext, UInt64(plaintext.count), nil, 0, nil, &nonce, keyBytes) == 0)
        #expect(sealed(.aes256GCM) == reference)
        #expect(sealed(.chacha20Poly1305) != reference)
        // And it opens in place (out aliasing the ciphertext), as the daemon's buffers may.
        let key = keyBytes.withUnsafeBytes { TransportKey(CipherState(key: $0), cipher: .aes256GCM) }
        var buffer = reference
        let m = buffer.withUnsafeMutableBytes { b in key.open(counter: n, ciphertext: UnsafeRawBufferPointer(b), into: b) }
        #expect(m == plaintext.count)
        #expect(Array(buffer[..<plaintext.count]) == plaintext)
        #expect(reference.withUnsafeBytes { c in buffer.withUnsafeMutableBytes { key.open(counter: n + 1, ciphertext: c, into: $0) } } == nil)
    }

    /// AES-256-GCM sessions: frames open on the other side both ways, with the same sizes as ChaCha20-Poly1305.
    @Test(.enabled(if: aes)) func aesSessionRoundTrip() throws {
        let (a, b) = try sessionPair(cipher: .aes256GCM)
        #expect(a.cipher == .aes256GCM && b.cipher == .aes256GCM)
        for size in [0, 1, 15, 16, 17, 1419, 9000] {
            let p = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            let f = try #require(seal(a, p))
            #expect(f.count == size + TransportSession.overhead)
            #expect(open(b, f).0 == p)
            let g = try #require(seal(b, p))
            #expect(open(a, g).0 == p)
        }
    }

    /// Under AES-256-GCM a replay is refused, a tampered frame fails without burning its counter, and
    /// a frame sealed with the other cipher under the same keys does not open.
    @Test(.enabled(if: aes)) func aesReplayAndTamper() throws {
        let (a, b) = try sessionPair(cipher: .aes256GCM)
        let frames = (0..<10).map { seal(a, [UInt8($0), 0xAA])! }
        #expect(open(b, frames[5]).1 == .opened(2))
        #expect(open(b, frames[5]).1 == .replay)
        #expect(open(b, frames[2]).0 == [2, 0xAA])
        for byte in [16, 17, frames[3].count - 1] {
            var bad = frames[3]; bad[byte] ^= 0x40
            #expect(open(b, bad).1 == .decryptFailed)
        }
        var wrongCounter = frames[3]; wrongCounter[8] ^= 0x01   // counter 3 -> 2: replay; 3 -> 7 below
        #expect(open(b, wrongCounter).1 == .replay)
        wrongCounter[8] = 7
        #expect(open(b, wrongCounter).1 == .decryptFailed)
        #expect(open(b, frames[3]).0 == [3, 0xAA])
        #expect(open(b, frames[3]).1 == .replay)
    }

    /// Both sides allow AES-256-GCM: the handshake settles on it, data flows, and it is counted.
    @Test(.enabled(if: aes)) func bothAutoNegotiateAES() {
        let h = pair(aes1: true, aes2: true)
        h.connect(1, 2)
        #expect(h.pipe.first?.bytes.count == HandshakeFrames.initiationLength)
        h.run()
        #expect(cipher(h, 1, 2) == .aes256GCM)
        #expect(cipher(h, 2, 1) == .aes256GCM)
        exchange(h)
        #expect(h.layer(1).counters.sessionsAES256GCM == 1 && h.layer(1).counters.sessionsChaCha20Poly1305 == 0)
        #expect(h.layer(2).counters.sessionsAES256GCM == 1)
        #expect(h.layer(1).counters.totalDrops == 0 && h.layer(2).counters.totalDrops == 0)
    }

    /// The default configuration (the simulator's) offers only ChaCha20-Poly1305 whatever the CPU,
    /// so simulated runs do not depend on the host: sessions are ChaCha20-Poly1305 on an AES machine too.
    @Test func defaultConfigurationPinsChaCha() {
        #expect(!LinkConfiguration().allowAES256GCM)
        let h = LinkHarness()
        h.add(1, seed: 1)
        h.add(2, seed: 2, rngSeed: 9)
        h.connect(1, 2)
        h.run()
        #expect(cipher(h, 1, 2) == .chacha20Poly1305)
        #expect(cipher(h, 2, 1) == .chacha20Poly1305)
        #expect(h.layer(1).counters.sessionsAES256GCM == 0 && h.layer(2).counters.sessionsAES256GCM == 0)
    }

    /// One side ChaCha20-Poly1305 only (as initiator or as responder): ChaCha20-Poly1305 on both.
    @Test func oneSideChaChaOnly() {
        for (aes1, aes2) in [(false, true), (true, false), (false, false)] {
            let h = pair(aes1: aes1, aes2: aes2)
            h.connect(1, 2)
            h.run()
            #expect(cipher(h, 1, 2) == .chacha20Poly1305)
            #expect(cipher(h, 2, 1) == .chacha20Poly1305)
            exchange(h)
            #expect(h.layer(1).counters.sessionsChaCha20Poly1305 == 1 && h.layer(1).counters.sessionsAES256GCM == 0)
            #expect(h.layer(2).counters.sessionsChaCha20Poly1305 == 1)
        }
    }

    /// A rekey renegotiates: after the responder changes nothing, the new session has the same cipher.
    @Test(.enabled(if: aes)) func rekeyKeepsCipher() {
        let h = pair(aes1: true, aes2: true)
        h.connect(1, 2)
        h.run()
        h.advance(.seconds(121))
        h.run()
        #expect(h.layer(1).counters.handshakesCompleted == 2)
        #expect(cipher(h, 1, 2) == .aes256GCM)
        exchange(h)
        #expect(h.layer(2).counters.sessionsAES256GCM == 2)
    }

    /// The keys node `a` of the harness would use for a hand-built handshake with node `b`.
    func x25519(_ seed: UInt8) -> X25519KeyPair {
        try! testKeyPair(seed).withX25519Secret { s in try X25519KeyPair(secret: SecretBytes(copying: s)) }
    }

    static let psk = [UInt8](repeating: 0x42, count: 32)

    func mac1Key(for publicKey: [UInt8]) -> SecretBytes {
        HandshakeFrames.deriveKey("filament-mac1-v1", networkKey: SecretBytes(copying: Self.psk), publicKey: publicKey)
    }

    /// `frame` (without macs) + mac1 for the node with `publicKey` + zero mac2.
    func withMacs(_ frame: [UInt8], for publicKey: [UInt8]) -> [UInt8] {
        let mac1 = frame.withUnsafeBytes { f in mac1Key(for: publicKey).withUnsafeBytes { HandshakeFrames.mac(key: $0, f, upTo: f.count) } }
        return frame + mac1 + [UInt8](repeating: 0, count: 16)
    }

    /// A peer of a build before decision 0804 (176-byte initiation, no offer) is answered with a
    /// 92-byte response and gets ChaCha20-Poly1305, even from a node that allows AES.
    @Test func legacyInitiatorGetsChaCha() throws {
        let h = pair(aes1: false, aes2: true)
        let me = x25519(1), them = x25519(2)
        let psk = SecretBytes(copying: Self.psk)
        let hs = try HandshakeState(pattern: .ikpsk2, initiator: true, prologue: HandshakeFrames.prologue,
                                    staticKey: me, remoteStatic: them.publicKey, psk: psk)
        let payload = h.ids[TestAddress(id: 1)]!.bytes + HandshakeFrames.le64(5)
        let initiation = withMacs(HandshakeFrames.header(.handshakeInitiation) + HandshakeFrames.le32(77) + (try hs.writeMessage(payload)),
                                  for: them.publicKey)
        #expect(initiation.count == 176)
        let out = h.layer(2).receive(initiation, from: TestAddress(id: 1), now: h.now)
        guard case .send(let response, _)? = out.first else { Issue.record("no response"); return }
        #expect(response.count == 92)
        #expect(try hs.readMessage(Array(response[12..<60])) == [])
        #expect(h.layer(2).counters.initiationsWithoutCipherOffer == 1)
        // Our side of the session, ChaCha20-Poly1305 with the split keys: the responder opens it.
        let keys = try hs.split()
        let mine = TransportSession(sender: keys.initiatorToResponder, receiver: keys.responderToInitiator,
                                    localIndex: 77, remoteIndex: HandshakeFrames.readLE32Array(response, 4), createdAt: h.now, isInitiator: true)
        let frame = try #require(seal(mine, Array("legacy".utf8)))
        let delivered = h.layer(2).receive(frame, from: TestAddress(id: 1), now: h.now)
        #expect(delivered.contains(.deliver(Array("legacy".utf8), from: h.ids[TestAddress(id: 1)]!, peer: TestAddress(id: 1))))
        #expect(cipher(h, 2, 1) == .chacha20Poly1305)
        #expect(h.layer(2).counters.totalDrops == 0)
    }

    /// A legacy initiation wins a simultaneous initiation even at the smaller node (the legacy
    /// peer would drop our initiation and never answer it).
    @Test func legacyInitiationWinsTieBreak() throws {
        let h = pair(aes1: true, aes2: true)
        let id1 = h.ids[TestAddress(id: 1)]!, id2 = h.ids[TestAddress(id: 2)]!
        // The smaller node has its own initiation pending; the larger one sends a legacy initiation.
        let (small, big): (UInt32, UInt32) = id1 < id2 ? (1, 2) : (2, 1)
        let smallID = small == 1 ? id1 : id2, bigID = small == 1 ? id2 : id1
        h.execute(h.layer(small).connect(to: bigID, at: TestAddress(id: big), now: h.now), at: TestAddress(id: small))
        #expect(h.pipe.count == 1)
        h.pipe = []
        let hs = try HandshakeState(pattern: .ikpsk2, initiator: true, prologue: HandshakeFrames.prologue, staticKey: x25519(UInt8(big)),
                                    remoteStatic: x25519(UInt8(small)).publicKey, psk: SecretBytes(copying: Self.psk))
        let initiation = withMacs(HandshakeFrames.header(.handshakeInitiation) + HandshakeFrames.le32(78)
                                  + (try hs.writeMessage(bigID.bytes + HandshakeFrames.le64(9))), for: x25519(UInt8(small)).publicKey)
        let out = h.layer(small).receive(initiation, from: TestAddress(id: big), now: h.now)
        #expect(out.contains { if case .send(let f, _) = $0 { return f.count == 92 }; return false })
        #expect(h.layer(small).counters.simultaneousInitiationsIgnored == 0)
        #expect(h.layer(small).counters.initiationsWithoutCipherOffer == 1)
        _ = smallID
    }

    /// Flipping a bit of the encrypted offer (mac1 recomputed, so only the AEAD can notice) fails
    /// the responder's handshake: no response, counted.
    @Test func tamperedOfferFailsHandshake() {
        let h = pair(aes1: true, aes2: true)
        h.connect(1, 2)
        var f = h.pipe.removeFirst()
        // type(1) reserved(3) sender(4) e(32) s(48): the payload ciphertext starts at 88; the offer is its byte 40.
        f.bytes[88 + 40] ^= 0x02
        f.bytes = withMacs(Array(f.bytes[..<(f.bytes.count - 32)]), for: x25519(2).publicKey)
        let out = h.layer(2).receive(f.bytes, from: f.from, now: h.now)
        #expect(out.isEmpty)
        #expect(h.layer(2).counters[.decryptFailure] == 1)
        #expect(h.layer(2).counters[.wrongKey] == 0)
    }

    /// Flipping a bit of the encrypted choice in the response fails the initiator's handshake: no session.
    @Test func tamperedChoiceFailsHandshake() {
        let h = pair(aes1: true, aes2: false)
        h.connect(1, 2)
        h.deliver(0)
        var f = h.pipe.removeFirst()
        #expect(f.bytes.count == HandshakeFrames.responseLength)
        // type(1) reserved(3) sender(4) receiver(4) e(32): the choice is the first payload byte at 44.
        f.bytes[44] ^= 0x03
        f.bytes = withMacs(Array(f.bytes[..<(f.bytes.count - 32)]), for: x25519(1).publicKey)
        _ = h.layer(1).receive(f.bytes, from: f.from, now: h.now)
        #expect(h.layer(1).counters[.decryptFailure] == 1)
        #expect(cipher(h, 1, 2) == nil)
        #expect(h.layer(1).counters.handshakesCompleted == 0)
    }

    /// An authenticated response that names a cipher the initiator did not offer (a peer that
    /// ignores the rules) is refused: the initiator installs no session.
    @Test func choiceNotOfferedRefused() throws {
        let h = pair(aes1: false, aes2: false)
        h.connect(1, 2)
        for choice: UInt8 in [TransportCipher.aes256GCM.rawValue, 0x07] {
            let initiation = h.pipe.removeFirst().bytes
            let r = try HandshakeState(pattern: .ikpsk2, initiator: false, prologue: HandshakeFrames.prologue,
                                       staticKey: x25519(2), psk: SecretBytes(copying: Self.psk))
            let payload = try r.readMessage(Array(initiation[8..<(initiation.count - 32)]))
            #expect(payload.count == 41 && payload[40] == 0x01)
            let response = withMacs(HandshakeFrames.header(.handshakeResponse) + HandshakeFrames.le32(55) + Array(initiation[4..<8])
                                    + (try r.writeMessage([choice])), for: x25519(1).publicKey)
            #expect(response.count == 93)
            _ = h.layer(1).receive(response, from: TestAddress(id: 2), now: h.now)
            #expect(cipher(h, 1, 2) == nil)
            // The pending handshake is spent; the retry sends a fresh initiation.
            h.advance(.seconds(1))
        }
        #expect(h.layer(1).counters[.malformed] == 2)
        #expect(h.layer(1).counters.handshakesCompleted == 0)
    }
}

extension HandshakeFrames {
    static func readLE32Array(_ b: [UInt8], _ offset: Int) -> UInt32 {
        b.withUnsafeBytes { readLE32($0, offset) }
    }
}
