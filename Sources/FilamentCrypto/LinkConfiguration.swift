import FilamentCore

/// Timers and limits of the link layer. The defaults follow WireGuard's where it has one.
public struct LinkConfiguration: Sendable {
    /// Start a new handshake after this many packets sent on a session.
    public var rekeyAfterMessages: UInt64 = 1 << 60
    /// Never seal more than this many packets with one session.
    public var rejectAfterMessages: UInt64 = .max - (1 << 13)
    /// The initiator of a session starts a new handshake once the session is this old.
    public var rekeyAfterTime: Interval = .seconds(120)
    /// The responder of a session starts one itself if it is still current this much later.
    public var responderRekeySlack: Interval = .seconds(10)
    /// A session this old is neither used nor accepted.
    public var rejectAfterTime: Interval = .seconds(180)
    /// After a new session replaces the current one, the old one still opens packets this long.
    public var previousSessionGrace: Interval = .seconds(10)
    /// Resend an unanswered initiation (fresh ephemeral, next counter) after this long.
    public var handshakeRetryInterval: Interval = .seconds(1)
    /// Give up (and drop the queue) after this many initiations without a response.
    public var handshakeMaxAttempts: Int = 10
    /// Plaintexts queued per peer while its handshake is in progress.
    public var queueLimit: Int = 32
    /// Per-source token bucket for handshake messages: burst size.
    public var handshakeBurst: Int = 5
    /// Per-source token bucket: one token per this interval.
    public var handshakeRefillInterval: Interval = .milliseconds(100)
    /// Initiations per second (all sources) above which initiations without a valid cookie get a
    /// cookie reply instead of DH work. 0 = always demand a cookie.
    public var underLoadThreshold: Int = 64
    /// How long the secret that cookies are made from lives before it is replaced.
    public var cookieSecretLifetime: Interval = .seconds(120)
    /// How long an initiator uses a cookie it was given.
    public var cookieLifetime: Interval = .seconds(110)
    /// Sources tracked by the rate limiter at once.
    public var rateLimiterCapacity: Int = 4096
    /// Initiation counters reserved per `persistInitiationCounter` output.
    public var initiationCounterBlock: UInt64 = 1024
    /// Offer and accept AES-256-GCM as the transport cipher (decision 0804). It is used only when
    /// the neighbour offers it too and libsodium has AES-256-GCM on this CPU
    /// (`TransportCipher.aes256GCMAvailable`); otherwise sessions use ChaCha20-Poly1305. Off by
    /// default, so the simulator's runs do not depend on the host CPU; the daemon turns it on
    /// for `link_cipher: auto`.
    public var allowAES256GCM = false

    public init() {}
}
