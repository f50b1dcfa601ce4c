import FilamentCore
import FilamentEngine
import FilamentWire

// The data plane: IPv6 packets from the local stack (TUN) or from a neighbour's session are
// delivered locally or sent on, encrypted, to the next hop the engine's table names.
extension FilamentNode {
    /// An IPv6 packet from the local stack (read from the TUN device).
    public func forward(_ ipPacket: [UInt8], now: Instant) -> [NodeOutput] {
        var out: [NodeOutput] = []
        route(ipPacket, fromNeighbour: false, now: now, &out)
        return out
    }

    func route(_ packet: [UInt8], fromNeighbour: Bool, now: Instant, _ out: inout [NodeOutput]) {
        if !fromNeighbour, packet.first.map({ $0 >> 4 == 4 }) ?? false {
            egress(packet, now: now, &out)  // IPv4 from the local stack: only gateways carry it
            return
        }
        guard IPv6Packet.isWellFormed(packet), let destination = IPv6Packet.destination(of: packet) else {
            counters.malformedIPPackets += 1
            return
        }
        if destination.byte(0) == 0xFF || destination.high >> 54 == 0x3FA {
            // Multicast and link-local traffic of the local stack (MLD, router solicitations) stays on the TUN link.
            counters.notRoutable += 1
            return
        }
        var packet = packet
        let length = IPv6Packet.headerLength + IPv6Packet.payloadLength(packet)
        if packet.count > length { packet.removeLast(packet.count - length) }  // link padding
        if destination == meshAddress, decapsulate(packet, now: now, &out) { return }
        if destination == meshAddress || engine.isLocal(destination) {
            counters.delivered += 1
            out.append(.deliver(packet))
            return
        }
        if fromNeighbour {
            // A router decrements the hop limit; packets from the local stack already carry theirs.
            guard packet[7] > 1 else {
                counters.hopLimitExceeded += 1
                sendError(.hopLimitExceeded, about: packet, now: now, &out)
                return
            }
            packet[7] -= 1
        }
        guard let entry = engine.lookup(destination) else {
            if !fromNeighbour, !MeshPrefix.prefix.contains(destination) { egress(packet, now: now, &out); return }
            counters.noRoute += 1
            sendError(.noRoute, about: packet, now: now, &out)
            return
        }
        guard let node = neighbourNodes[entry.nextHop] else {
            counters.noSessionForNextHop += 1
            sendError(.noRoute, about: packet, now: now, &out)
            return
        }
        let linkMTU = interfaceMTUs[entry.nextHop.interface] ?? 1280
        if packet.count + FilamentNode.encapsulationOverhead > linkMTU {
            counters.tooBig += 1
            sendError(.packetTooBig(mtu: max(1280, linkMTU - FilamentNode.encapsulationOverhead)), about: packet, now: now, &out)
            return
        }
        var plaintext: [UInt8] = []
        plaintext.reserveCapacity(packet.count + 1)
        plaintext.append(InnerPayloadType.ipPacket.rawValue)
        plaintext.append(contentsOf: packet)
        counters.forwarded += 1
        runLink(link.send(plaintext, to: node, now: now), now: now, &out)
        if let last = lastForwardedVia[entry.nextHop], now - last < .milliseconds(250) { return }
        lastForwardedVia[entry.nextHop] = now
        runEngine(.forwardedVia(entry.nextHop), now: now, &out)
    }

    /// Sends an ICMPv6 error about `packet` back to its source, within the rate limit and never about
    /// an ICMPv6 error or a packet from a multicast or unspecified source (RFC 4443 2.4(e)).
    func sendError(_ error: ICMPv6Error, about packet: [UInt8], now: Instant, _ out: inout [NodeOutput]) {
        guard let source = IPv6Packet.source(of: packet), source != .unspecified, source.byte(0) != 0xFF,
              !IPv6Packet.isICMPv6Error(packet), let destination = IPv6Packet.destination(of: packet),
              destination.byte(0) != 0xFF
        else { counters.icmpErrorsSuppressed += 1; return }
        let elapsed = now - icmpRefilledAt
        if elapsed >= .seconds(1) {
            icmpTokens = icmpErrorsPerSecond
            icmpRefilledAt = now
        }
        guard icmpTokens > 0, let reply = error.packet(about: packet, from: meshAddress) else {
            counters.icmpErrorsSuppressed += 1
            return
        }
        icmpTokens -= 1
        counters.icmpErrorsSent += 1
        // The error leaves as if from the local stack (it is not an error about an error, so no loop).
        route(reply, fromNeighbour: false, now: now, &out)
    }
}

extension FilamentNode {
    /// Before the driver exits: retractions (infinite metric) of every route this node announces — its
    /// own prefixes and the routes it forwards for others — sent inside each neighbour's session, so the
    /// neighbours reroute at once instead of after their hold time. The engine has no shutdown event, so
    /// the retractions are built here from its snapshot. Sessions stay as they are (the process ends).
    public func shutdown(now: Instant) -> [NodeOutput] {
        let s = engine.snapshot()
        var updates: [Message] = []
        var own = [Prefix(host: meshAddress)]
        for p in engine.configuration.attachedPrefixes where !own.contains(p) { own.append(p) }
        for p in own.sorted() {
            updates.append(.update(Update(prefix: p, routerID: routerID, seqno: s.seqno, metric: .infinity, intervalCentiseconds: 0)))
        }
        for r in s.routes where r.selected && !own.contains(r.prefix) {
            updates.append(.update(Update(prefix: r.prefix, routerID: r.routerID, seqno: r.seqno, metric: .infinity, intervalCentiseconds: 0)))
        }
        var out: [NodeOutput] = []
        var start = 0
        while start < updates.count {
            let chunk = Array(updates[start..<min(start + 32, updates.count)])
            start += 32
            var plaintext: [UInt8] = []
            do { try RoutingPacket(messages: chunk).encodeInnerPayload(into: &plaintext) } catch { counters.encodeFailures += 1; continue }
            for key in neighbourNodes.keys.sorted() {
                guard let node = neighbourNodes[key] else { continue }
                runLink(link.send(plaintext, to: node, now: now), now: now, &out)
            }
        }
        return out
    }
}
