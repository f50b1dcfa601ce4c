import Foundation
import Testing
@testable import FilamentCrypto

struct VectorFile: Decodable {
    struct Message: Decodable { let payload: String; let ciphertext: String }
    struct Vector: Decodable {
        let protocol_name: String
        let init_prologue: String
        let init_static: String?
        let init_ephemeral: String
        let init_remote_static: String?
        let init_psks: [String]?
        let resp_prologue: String
        let resp_static: String?
        let resp_ephemeral: String?
        let resp_remote_static: String?
        let resp_psks: [String]?
        let handshake_hash: String
        let messages: [Message]
    }
    let vectors: [Vector]
}

func loadVectors() throws -> [VectorFile.Vector] {
    let url = Bundle.module.url(forResource: "noise-25519-chachapoly-blake2b", withExtension: "json", subdirectory: "Vectors")
        ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Vectors/noise-25519-chachapoly-blake2b.json")
    return try JSONDecoder().decode(VectorFile.self, from: Data(contentsOf: url)).vectors
}

func keyPair(_ h: String?) throws -> X25519KeyPair? { try h.map { try X25519KeyPair(secret: hex($0)) } }

@Suite struct NoiseVectorTests {
    /// Every cacophony vector (NK, KK, IK, XX, XXpsk3, IKpsk2): each handshake and transport ciphertext matches, the receiver decrypts it, and both handshake hashes match.
    @Test func allVectorsPass() throws {
        let vectors = try loadVectors()
        #expect(Set(vectors.map { HandshakePattern.forProtocolName($0.protocol_name)!.name }) == ["NK", "KK", "IK", "XX", "IKpsk2", "XXpsk3"])
        for v in vectors {
            let pattern = try #require(HandshakePattern.forProtocolName(v.protocol_name))
            let ipsk = SecretBytes(copying: v.init_psks?.first.map(hex) ?? [])
            let rpsk = SecretBytes(copying: v.resp_psks?.first.map(hex) ?? [])
            let ini = try HandshakeState(pattern: pattern, initiator: true, prologue: hex(v.init_prologue),
                                         staticKey: try keyPair(v.init_static), ephemeral: try keyPair(v.init_ephemeral),
                                         remoteStatic: v.init_remote_static.map(hex), psk: ipsk)
            let res = try HandshakeState(pattern: pattern, initiator: false, prologue: hex(v.resp_prologue),
                                         staticKey: try keyPair(v.resp_static), ephemeral: try keyPair(v.resp_ephemeral),
                                         remoteStatic: v.resp_remote_static.map(hex), psk: rpsk)
            var sendI: CipherState? = nil, recvI: CipherState? = nil, sendR: CipherState? = nil, recvR: CipherState? = nil
            for (i, m) in v.messages.enumerated() {
                let fromInitiator = i % 2 == 0
                if !ini.isComplete {
                    let (w, r) = fromInitiator ? (ini, res) : (res, ini)
                    let ct = try w.writeMessage(hex(m.payload))
                    #expect(hexString(ct) == m.ciphertext, "\(v.protocol_name) handshake message \(i)")
                    #expect(try r.readMessage(ct) == hex(m.payload), "\(v.protocol_name) handshake message \(i) decrypts")
                    if ini.isComplete {
                        #expect(res.isComplete)
                        #expect(hexString(ini.handshakeHash) == v.handshake_hash, "\(v.protocol_name) initiator h")
                        #expect(hexString(res.handshakeHash) == v.handshake_hash, "\(v.protocol_name) responder h")
                        let a = try ini.split(), b = try res.split()
                        (sendI, recvI, sendR, recvR) = (a.initiatorToResponder, a.responderToInitiator, b.responderToInitiator, b.initiatorToResponder)
                    }
                } else {
                    let (s, r) = fromInitiator ? (sendI!, recvR!) : (sendR!, recvI!)
                    let ct = try s.encryptWithAd([], hex(m.payload))
                    #expect(hexString(ct) == m.ciphertext, "\(v.protocol_name) transport message \(i)")
                    #expect(try r.decryptWithAd([], ct) == hex(m.payload), "\(v.protocol_name) transport message \(i) decrypts")
                }
            }
            #expect(ini.isComplete && sendI != nil, "\(v.protocol_name) completed")
        }
    }

    /// With a wrong PSK, IKpsk2 fails: the PSK enters at the end of message 2, so the initiator rejects the responder's message (the link layer's mac1, keyed by the network key, makes the responder reject message 1 already; see LinkLayerTests).
    @Test func wrongPSKFailsIKpsk2() throws {
        let istat = X25519KeyPair.generate(), rstat = X25519KeyPair.generate()
        let ini = try HandshakeState(pattern: .ikpsk2, initiator: true, staticKey: istat, remoteStatic: rstat.publicKey,
                                     psk: SecretBytes(copying: [UInt8](repeating: 1, count: 32)))
        let res = try HandshakeState(pattern: .ikpsk2, initiator: false, staticKey: rstat,
                                     psk: SecretBytes(copying: [UInt8](repeating: 2, count: 32)))
        let m1 = try ini.writeMessage([])
        _ = try res.readMessage(m1)
        let m2 = try res.writeMessage([])
        #expect(throws: NoiseError.decryptFailed) { _ = try ini.readMessage(m2) }
        #expect(!ini.isComplete)
    }

    /// A tampered handshake message is rejected by the reader.
    @Test func tamperedMessageRejected() throws {
        let rstat = X25519KeyPair.generate()
        let psk = SecretBytes(copying: [UInt8](repeating: 1, count: 32))
        let ini = try HandshakeState(pattern: .ikpsk2, initiator: true, staticKey: .generate(), remoteStatic: rstat.publicKey, psk: psk)
        let res = try HandshakeState(pattern: .ikpsk2, initiator: false, staticKey: rstat, psk: psk)
        var m1 = try ini.writeMessage([9, 9])
        m1[40] ^= 0x80
        #expect(throws: NoiseError.decryptFailed) { _ = try res.readMessage(m1) }
    }
}
