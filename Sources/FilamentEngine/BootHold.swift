import FilamentCore

/// The post-restart hold-down (docs/routing.md "Restarts", decision 0310). A restarted node has lost its
/// feasibility distances, and a neighbour that has not yet noticed the restart may still route through
/// it: any learned route could then lead back through the node itself. So a restarted node selects no
/// learned route (it still announces its own prefixes, so it is reachable at once) until every router it
/// has heard has proved it started afresh with it — a digest from that router matching what it sent since
/// the restart, which it only sends after flushing its routes through us: on its own account, or in answer
/// to our restart announcement (a flagged route request, answered by a flagged digest; decision 0321) — and
/// at least `minimumUntil` has passed (four fast hellos, so silent neighbours are heard), or in any case
/// until `maximumUntil` (the
/// neighbours' hold time: by then every neighbour has heard the new hellos or timed the old node out).
struct BootHold {
    var active: Bool
    var minimumUntil: Instant
    var maximumUntil: Instant
    /// Routers heard since the restart, and whether each has proved it flushed our old routes.
    var synced: [NeighbourKey: Bool] = [:]
    /// Routers we asked for their table during the hold: a plain answer proves nothing (they resend it
    /// whether or not they flushed), so they count as synced only through the maximum...
    var requested: Set<NeighbourKey> = []
    /// ...unless they answered our restart announcement (`RouteRequest.flagRestarted`) with a digest
    /// flagged `flushed`: then their next matching digest counts (decision 0321).
    var proved: Set<NeighbourKey> = []

    static let inactive = BootHold(active: false, minimumUntil: .zero, maximumUntil: .zero)

    /// Whether the hold may end at `now`.
    func canEnd(now: Instant) -> Bool {
        if now >= maximumUntil { return true }
        return now >= minimumUntil && !synced.values.contains(false)
    }

    /// The next instant at which `canEnd` may turn true without an event.
    var nextDeadline: Instant {
        guard active else { return .distantFuture }
        return synced.values.contains(false) ? maximumUntil : minimumUntil
    }
}
