import FilamentCore
import Testing
@testable import FilamentCrypto

/// A pair of transport sessions from a real IKpsk2 handshake.
func sessionPair(limit: UInt64 = TransportSession.defaultRejectAfterMessages,
                 cipher: TransportCipher = .chacha20Poly1305) throws -> (TransportSession, TransportSession) {
    let rs = X25519KeyPair.generate()
    let psk = SecretBytes(copying: [UInt8](repeating: 3, count: 32))
    let i = try HandshakeState(pattern: .ikpsk2, initiator: true, staticKey: .generate(), remoteStatic: rs.publicKey, psk: psk)
    let r = try HandshakeState(pattern: .ikpsk2, initiator: false, staticKey: rs, psk: psk)
    _ = try r.readMessage(try i.writeMessage())
    _ = try i.readMessage(try r.writeMessage())
    let ik = try i.split(), rk = try r.split()
    return (TransportSession(sender: ik.initiatorToResponder, receiver: ik.responderToInitiator, cipher: cipher, localIndex: 1, remoteIndex: 2,
                             createdAt: .zero, isInitiator: true, rejectAfterMessages: limit),
            TransportSession(sender: rk.responderToInitiator, receiver: rk.initiatorToResponder, cipher: cipher, localIndex: 2, remoteIndex: 1,
                             createdAt: .zero, isInitiator: false, rejectAfterMessages: limit))
}

func seal(_ s: TransportSession, _ p: [UInt8]) -> [UInt8]? {
    var frame = [UInt8](repeating: 0, count: p.count + TransportSession.overhead)
    let r = p.withUnsafeBytes { pp in frame.withUnsafeMutableBytes { s.seal(pp, into: $0) } }
    guard case .sealed(let n) = r else { return nil }
    return Array(frame[..<n])
}

func open(_ s: TransportSession, _ f: [UInt8]) -> ([UInt8]?, TransportSession.OpenResult) {
    var out = [UInt8](repeating: 0, count: max(f.count, 1))
    let r = f.withUnsafeBytes { ff in out.withUnsafeMutableBytes { s.open(ff, into: $0) } }
    if case .opened(let n) = r { return (Array(out[..<n]), r) }
    return (nil, r)
}

@Suite struct TransportSessionTests {
    /// Frames sealed by one side open on the other, both directions; the frame is plaintext + 32 bytes with the documented header.
    @Test func roundTripBothWays() throws {
        let (a, b) = try sessionPair()
        let f = try #require(seal(a, Array("ping".utf8)))
        #expect(f.count == 4 + 32)
        #expect(Array(f[0..<8]) == [0x04, 0, 0, 0, 2, 0, 0, 0])
        #expect(open(b, f).0 == Array("ping".utf8))
        let g = try #require(seal(b, Array("pong".utf8)))
        #expect(open(a, g).0 == Array("pong".utf8))
    }

    /// A replayed frame is refused; reordered frames inside the window open once; a tampered frame fails and does not burn its counter.
    @Test func replayAndReorder() throws {
        let (a, b) = try sessionPair()
        let frames = (0..<10).map { seal(a, [UInt8($0)])! }
        #expect(open(b, frames[5]).1 == .opened(1))
        #expect(open(b, frames[5]).1 == .replay)
        #expect(open(b, frames[2]).0 == [2])
        var bad = frames[3]; bad[bad.count - 1] ^= 1
        #expect(open(b, bad).1 == .decryptFailed)
        #expect(open(b, frames[3]).0 == [3])
        #expect(open(b, frames[3]).1 == .replay)
    }

    /// Counter exhaustion: once the limit is reached the session refuses to seal.
    @Test func exhaustionRefusesToSend() throws {
        let (a, b) = try sessionPair(limit: 3)
        for i in 0..<3 { #expect(open(b, seal(a, [UInt8(i)])!).0 == [UInt8(i)]) }
        #expect(a.isSendExhausted)
        var frame = [UInt8](repeating: 0, count: 64)
        let r = [UInt8(1)].withUnsafeBytes { p in frame.withUnsafeMutableBytes { a.seal(p, into: $0) } }
        #expect(r == .exhausted)
    }

    /// Truncated or foreign frames are malformed, never a crash.
    @Test func malformedFrames() throws {
        let (a, b) = try sessionPair()
        let f = seal(a, [1, 2, 3])!
        for n in 0..<f.count { #expect(open(b, Array(f[..<n])).1 != .opened(3)) }
        var wrongIndex = f; wrongIndex[4] = 9
        #expect(open(b, wrongIndex).1 == .malformed)
        var wrongType = f; wrongType[0] = 0x01
        #expect(open(b, wrongType).1 == .malformed)
    }
}
