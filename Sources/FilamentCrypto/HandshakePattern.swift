/// A Noise token (spec rev 34, section 7).
package enum NoiseToken: Sendable, Equatable {
    case e, s, ee, es, se, ss, psk
}

/// A Noise handshake pattern as a table: pre-messages and message token lists, alternating
/// initiator -> responder starting with the initiator.
package struct HandshakePattern: Sendable {
    package let name: String
    package let initiatorPreMessage: [NoiseToken]
    package let responderPreMessage: [NoiseToken]
    package let messages: [[NoiseToken]]

    /// Whether any message has a `psk` token (then `e` tokens also MixKey, spec 9.2).
    package var hasPSK: Bool { messages.contains { $0.contains(.psk) } }

    package static let nk = HandshakePattern(name: "NK", initiatorPreMessage: [], responderPreMessage: [.s],
                                             messages: [[.e, .es], [.e, .ee]])
    package static let kk = HandshakePattern(name: "KK", initiatorPreMessage: [.s], responderPreMessage: [.s],
                                             messages: [[.e, .es, .ss], [.e, .ee, .se]])
    package static let ik = HandshakePattern(name: "IK", initiatorPreMessage: [], responderPreMessage: [.s],
                                             messages: [[.e, .es, .s, .ss], [.e, .ee, .se]])
    package static let xx = HandshakePattern(name: "XX", initiatorPreMessage: [], responderPreMessage: [],
                                             messages: [[.e], [.e, .ee, .s, .es], [.s, .se]])
    package static let ikpsk2 = HandshakePattern(name: "IKpsk2", initiatorPreMessage: [], responderPreMessage: [.s],
                                                 messages: [[.e, .es, .s, .ss], [.e, .ee, .se, .psk]])
    package static let xxpsk3 = HandshakePattern(name: "XXpsk3", initiatorPreMessage: [], responderPreMessage: [],
                                                 messages: [[.e], [.e, .ee, .s, .es], [.s, .se, .psk]])

    package static let all: [HandshakePattern] = [nk, kk, ik, xx, ikpsk2, xxpsk3]

    /// The pattern of a full protocol name `Noise_<pattern>_25519_ChaChaPoly_BLAKE2b`; nil for other suites.
    package static func forProtocolName(_ protocolName: String) -> HandshakePattern? {
        let parts = protocolName.split(separator: "_")
        guard parts.count == 5, parts[0] == "Noise", parts[2] == "25519", parts[3] == "ChaChaPoly",
              parts[4] == "BLAKE2b" else { return nil }
        return all.first { $0.name == parts[1] }
    }

    /// The full protocol name with Filament's suite.
    package var protocolName: String { "Noise_\(name)_25519_ChaChaPoly_BLAKE2b" }
}
