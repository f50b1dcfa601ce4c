import FilamentCore

/// Everything an operator or a test can tune. The defaults are the documented ones (docs/routing.md).
public struct EngineConfiguration: Sendable {
    // MARK: neighbours
    /// Multicast hello period per interface while nothing changes on it (idle mesh: quiet).
    public var helloInterval: Interval = .seconds(4)
    /// Hello period for `fastHelloPeriod` after a change on the interface (neighbour added, lost or
    /// changed cost, interface up, stranger heard).
    public var fastHelloInterval: Interval = .milliseconds(750)
    public var fastHelloPeriod: Interval = .seconds(10)
    /// IHUs ride in every Nth hello (and in every triggered hello).
    public var ihuEveryNthHello: Int = 3
    /// The full NodeID rides in the first hellos after an interface comes up and in every Nth hello.
    public var nodeIDEveryNthHello: Int = 10
    /// A neighbour that sent nothing for this many of its announced hello intervals (in halves: 5 = 2.5
    /// intervals, one lost hello tolerated) is down and its routes are flushed.
    public var holdHalfIntervals: Int64 = 5
    /// During start-up a neighbour is held at least this long, whatever its hello pace: a cold start of a
    /// large mesh loads every CPU, fast hellos come late, and a 1.9 s hold flaps neighbours (decision 0323).
    /// Start-up is the first `startupPeriod` after the engine starts, extended to `startupExtension` after
    /// each new neighbour meanwhile (the neighbour count still growing), at most `startupPeriodMaximum`.
    public var startupHoldMinimum: Interval = .seconds(4)
    public var startupPeriod: Interval = .seconds(15)
    public var startupExtension: Interval = .seconds(5)
    public var startupPeriodMaximum: Interval = .seconds(60)
    /// During start-up, unanswered probes do not take a neighbour down while the routing table is still
    /// converging: a route changed within this long (decision 0816).
    public var startupSettleTime: Interval = .seconds(3)
    /// A neighbour on a wired link (`LinkKind.wired`) is held at least this long at all times: a cable that
    /// is unplugged takes its interface down at once (netlink), a crashed neighbour under traffic is found
    /// by the probes, and a hold of 1.9 s (fast hellos) only loses neighbours of a busy CPU (decision 0817).
    public var wiredHoldMinimum: Interval = .seconds(4)
    /// An event that arrives this much later than the engine's own next deadline means the process did not
    /// run meanwhile (a stall: CPU starvation, a long system call, a suspended VM). What neighbours sent
    /// meanwhile is still waiting in the sockets, so their silence is not held against them: hold times,
    /// hello timers, IHU expiry and probe waits are moved by the stall (decision 0817).
    public var stallThreshold: Interval = .milliseconds(500)
    /// While traffic is forwarded through a neighbour silent for this long, probe it.
    public var probeSilence: Interval = .milliseconds(300)
    /// Time between unanswered probes.
    public var probeInterval: Interval = .milliseconds(150)
    /// Unanswered probes before the neighbour is declared down.
    public var probeLimit: Int = 3

    /// After a restart (a persisted seqno counter above zero) no learned route is selected for at least
    /// this long, and then only once every router heard has proved it flushed what the old node announced
    /// (see `BootHold`): four hellos at `restartHoldHelloInterval`, so a neighbour that still routes through
    /// the old node has heard one (and flushed) or has been heard (and is waited for) (decision 0321)...
    public var restartHoldMinimum: Interval = .seconds(1)
    /// Hello period during the restart hold (the restart is announced quickly; about 4 hellos per second
    /// for about a second per interface).
    public var restartHoldHelloInterval: Interval = .milliseconds(250)
    /// ...and at most this long (a neighbour's hold time: by then every neighbour has noticed the
    /// restart or timed the old node out). Zero disables the hold.
    public var restartHoldMaximum: Interval = .seconds(10)

    // MARK: routes
    /// Digest period per neighbour; also the `interval` carried in updates (route expiry = 3.5x).
    public var digestInterval: Interval = .seconds(10)
    /// A neighbour's table (sent when a session opens, ending in a digest) that has not arrived this
    /// long after the session opened is requested (it was lost; otherwise the next digest would wait).
    public var firstTableTimeout: Interval = .seconds(1)
    /// Largest delay (random, uniform) before a batch of pending messages is flushed.
    public var maxFlushDelay: Interval = .milliseconds(5)
    /// A selected route is replaced only by one better by more than this (hysteresis).
    public var switchHysteresis: UInt16 = 64
    /// A changed metric is re-announced only if it moved by at least this much (or 1/16).
    public var triggeredMetricDelta: UInt16 = 32
    /// Source (feasibility distance) entries are forgotten after this long unused.
    public var sourceGCTime: Interval = .seconds(180)
    /// A seqno further ahead than this of a known source is refused (counted as a seqno jump).
    public var maxSeqnoJump: UInt16 = 8192
    /// Prefixes this node announces besides its own mesh address /128.
    public var attachedPrefixes: [Prefix] = []

    // MARK: bounds (hostile input)
    public var maxNeighbours: Int = 64
    public var maxRoutesPerNeighbour: Int = 20_000
    public var maxSources: Int = 40_000
    public var maxGateways: Int = 32
    public var maxPendingRequests: Int = 256
    public var maxFlows: Int = 4096
    /// Seqno requests this node forwards or answers per second (token bucket).
    public var seqnoRequestsPerSecond: Int = 64
    /// A seqno request of our own (starvation) not answered by a newer seqno is resent after this, the
    /// interval doubling each time, up to `seqnoRequestResends` times (decision 0320).
    public var seqnoRequestResendInterval: Interval = .milliseconds(250)
    public var seqnoRequestResends: Int = 6
    /// After those resends, a prefix that still starves is asked for again at this interval for as long as
    /// it starves (zero: give up until an update arrives, the behaviour before decision 0818).
    public var seqnoRequestPersistInterval: Interval = .seconds(16)
    /// A forwarded seqno request equal to one forwarded to the same next hop this recently is dropped.
    public var seqnoRequestSuppression: Interval = .milliseconds(200)

    // MARK: gateways
    /// Set on a node with an uplink: it advertises itself (see `.uplinkChanged`).
    public var gateway: GatewayConfiguration? = nil
    /// If set, only gateways with one of these keys are accepted.
    public var trustedGatewayKeys: [NodeID]? = nil
    /// A gateway replaces the current one only if its score is lower by this fraction (percent).
    public var gatewaySwitchPercent: Int = 20
    /// New flows spread over up to this many gateways whose score is within `gatewaySpreadPercent` of the best.
    public var gatewaySpreadCount: Int = 3
    public var gatewaySpreadPercent: Int = 25
    /// A flow unused this long forgets its gateway.
    public var flowIdleTime: Interval = .seconds(300)

    public init() {}
}

/// Settings of a node that offers an uplink.
public struct GatewayConfiguration: Sendable {
    public var name: String
    public var offersIPv6: Bool
    public var offersIPv4: Bool
    /// Lifetime carried in adverts; adverts are refreshed after a third of it.
    public var lifetimeSeconds: UInt16
    /// After draining starts, the gateway keeps advertising "draining" this long, then withdraws.
    public var drainTime: Interval
    public init(name: String, offersIPv6: Bool = true, offersIPv4: Bool = true, lifetimeSeconds: UInt16 = 60,
                drainTime: Interval = .seconds(30)) {
        self.name = name; self.offersIPv6 = offersIPv6; self.offersIPv4 = offersIPv4
        self.lifetimeSeconds = lifetimeSeconds; self.drainTime = drainTime
    }
}
