/// Byte 0 of every datagram between neighbours. FilamentCrypto owns 0x01...0x04; 0x10 (plaintext
/// routing packets such as multicast hellos) belongs to FilamentWire and is never decrypted here.
public enum LinkFrameType: UInt8, Sendable, CaseIterable {
    /// Noise IKpsk2 message 1 plus sender index, initiation counter and MACs.
    case handshakeInitiation = 0x01
    /// Noise IKpsk2 message 2 plus both indices and MACs.
    case handshakeResponse = 0x02
    /// A cookie the responder hands out instead of doing DH work when under load.
    case cookieReply = 0x03
    /// An encrypted transport frame.
    case transport = 0x04
    /// Plaintext routing packet (FilamentWire's; the link layer passes it through untouched).
    case plaintextRouting = 0x10
}
