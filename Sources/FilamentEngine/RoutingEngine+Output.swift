import FilamentCore
import FilamentWire

// Batching, hellos, timers.
extension RoutingEngine {
    /// A uniformly random interval in [0, max].
    mutating func jitter(_ max: Interval) -> Interval {
        guard max.nanoseconds > 0 else { return .zero }
        return Interval(nanoseconds: Int64(random.next(upperBound: UInt64(max.nanoseconds) + 1)))
    }

    mutating func countSent(_ packet: RoutingPacket, unicast: Bool) {
        counters.packetsSent += 1
        counters.messagesSent += UInt64(packet.messages.count)
        counters.estimatedBytesSent += UInt64(EstimatedSize.onLink(packet, unicast: unicast))
    }

    /// Queues a message for one neighbour; it leaves with the next batch (within `maxFlushDelay`).
    mutating func enqueue(_ m: Message, to key: NeighbourKey, now: Instant) {
        guard let n = neighbours[key] else { return }
        enqueue(m, slot: Int(n.slot), now: now)
    }

    /// By slot: no hashing of the neighbour's key (`enqueueToAll` runs per announced change).
    mutating func enqueue(_ m: Message, slot s: Int, now: Instant) {
        guard slotUp[s] else { return }
        if flushDue[s] == .distantFuture { flushDue[s] = now + jitter(configuration.maxFlushDelay) }
        // In place: the queue is never copied.
        if !queues[s].add(m) { counters.updatesCoalesced += 1 }
    }

    mutating func enqueueToAll(_ m: Message, now: Instant, except: NeighbourKey? = nil) {
        for i in neighbourOrder.indices where neighbourOrder[i] != except { enqueue(m, slot: Int(neighbourOrderSlots[i]), now: now) }
    }

    /// Packs each due neighbour's queue into as few packets as fit its interface MTU.
    mutating func flush(now: Instant) {
        for key in neighbourOrder {
            guard let n = neighbours[key], flushDue[Int(n.slot)] <= now, !queues[Int(n.slot)].pending.isEmpty else { continue }
            let s = Int(n.slot)
            let mtu = interfaces[key.interface]?.mtu ?? 1280
            // Take the queue out (no copy), pack it, and put its buffer back for reuse.
            var queue: [Message] = []
            swap(&queue, &queues[s].pending)
            var start = 0
            var size = EstimatedSize.packetOverhead
            for (i, m) in queue.enumerated() {
                let s = EstimatedSize.of(m)
                if i > start && size + s > mtu {
                    emitUnicast(Array(queue[start..<i]), to: key)
                    start = i; size = EstimatedSize.packetOverhead
                }
                size += s
            }
            emitUnicast(start == 0 ? queue : Array(queue[start...]), to: key)
            // Keep a small queue's buffer; give back the memory of a big one (a full table).
            if queue.count <= 64 { queue.removeAll(keepingCapacity: true) } else { queue = [] }
            swap(&queue, &queues[s].pending)
            queues[s].clearIndex()
            flushDue[s] = .distantFuture
        }
    }

    mutating func emitUnicast(_ messages: [Message], to key: NeighbourKey) {
        let packet = RoutingPacket(messages: messages)
        out.append(.sendUnicast(to: key, packet: packet))
        countSent(packet, unicast: true)
    }

    mutating func scheduleHelloSoon(_ i: InterfaceID, now: Instant) {
        guard var s = interfaces[i] else { return }
        let soon = now + jitter(configuration.maxFlushDelay * 4)
        if soon < s.nextHello { s.nextHello = soon }
        interfaces[i] = s
    }

    /// Sends the hello of every interface whose hello is due (with IHUs every Nth time or when asked).
    mutating func sendHellos(now: Instant) {
        guard interfaces.values.contains(where: { $0.nextHello <= now }) else { return } // no sort, no allocation
        for i in interfaces.keys.sorted() {
            guard var s = interfaces[i], s.nextHello <= now else { continue }
            let includeNode = s.hellosSent < 3 || s.nodeIDSoon || s.hellosSent % max(1, configuration.nodeIDEveryNthHello) == 0
            let includeIHU = s.ihuSoon || s.hellosSent % max(1, configuration.ihuEveryNthHello) == 0
            // The hello announces the interval until the next one: fast while something changed recently.
            let interval = bootHold.active ? configuration.restartHoldHelloInterval
                : now < s.fastUntil ? configuration.fastHelloInterval : configuration.helloInterval
            var messages: [Message] = [.hello(Hello(routerID: routerID, node: includeNode ? node : nil, seqno: s.helloSeqno,
                                                    intervalCentiseconds: centiseconds(interval)))]
            if includeIHU {
                let ihuInterval = centiseconds(self.ihuInterval)
                for key in neighbourOrder where key.interface == i {
                    let n = neighbours[key]!
                    messages.append(.ihu(IHU(neighbour: key.routerID, rxcost: n.isUp ? n.rxcost : 0xFFFF,
                                             intervalCentiseconds: ihuInterval)))
                }
            }
            s.helloSeqno = s.helloSeqno.advanced(by: 1)
            s.hellosSent += 1
            s.ihuSoon = false
            if includeNode { s.nodeIDSoon = false; s.lastNodeIDHello = now }
            // Jitter: the next hello comes after 90-100% of the interval (RFC 8966 3.4.3 avoids sync).
            s.nextHello = now + interval - jitter(interval / 10)
            interfaces[i] = s
            let packet = RoutingPacket(messages: messages)
            out.append(.sendMulticast(interface: i, packet: packet))
            countSent(packet, unicast: false)
        }
    }

    func centiseconds(_ i: Interval) -> UInt16 { UInt16(clamping: i.milliseconds / 10) }

    /// Runs every timer that is due. Called after each event (cheap when nothing is due).
    mutating func runTimers(now: Instant) {
        lastNow = now
        if neighbourCheckDue <= now { neighbourTimers(now: now) }
        if housekeepingDue <= now {
            housekeepingDue = now + .seconds(1)
            seqnoRequestTokens = configuration.seqnoRequestsPerSecond
            expireRoutes(now: now)
            gatewayHousekeeping(now: now)
        }
        if digestDue <= now {
            digestDue = now + configuration.digestInterval - jitter(configuration.digestInterval / 10)
            let d = Message.digest(Digest(routeCount: UInt16(min(advertisedCount, 0xFFFF)), hash: advertisedHash))
            for key in neighbourOrder where neighbours[key]!.isUp {
                counters.digestsSent += 1
                enqueue(d, to: key, now: now)
            }
        }
        if bootHold.active && bootHold.canEnd(now: now) { endBootHold(now: now) }
        resendSeqnoRequests(now: now)
        ownGatewayTimers(now: now)
        sendHellos(now: now)
        flush(now: now)
        neighbourCheckDue = computeNeighbourCheckDue()
    }

    func computeNeighbourCheckDue() -> Instant {
        var t = Instant.distantFuture
        for n in neighbours.values where n.isUp {
            t = min(t, n.lastHeard + holdTime(n) + Interval(nanoseconds: 1))
            if lastNow < startupUntil { t = min(t, startupUntil) } // the hold shortens when start-up ends
            t = min(t, n.probeDue)
            t = min(t, n.tableExpectedBy)
            if n.txcost != 0xFFFF { t = min(t, n.ihuExpiry) }
            t = min(t, n.lastHelloTime + n.helloInterval * Int64(n.missedByTimer + 1) + n.helloInterval / 2)
        }
        return t
    }

    func computeNextDeadline() -> Instant {
        var t = min(digestDue, housekeepingDue, neighbourCheckDue)
        for s in interfaces.values { t = min(t, s.nextHello) }
        for s in neighbourOrderSlots where !queues[Int(s)].pending.isEmpty { t = min(t, flushDue[Int(s)]) }
        t = min(t, ownGateway.nextAdvert)
        t = min(t, bootHold.nextDeadline)
        t = min(t, seqnoResendDue)
        return t
    }
}
