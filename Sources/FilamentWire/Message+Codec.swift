import FilamentCore

// Per-message TLV layouts (docs/wire-format.md "TLVs"). Each message has one arm in each of the
// switches below: its TLV type, its value length, its encoder and its decoder. Adding a message or
// appending a field is a local change here.

extension Message {
    /// The TLV type this message is written as.
    public var tlvType: TLVType {
        switch self {
        case .hello: .hello
        case .ihu: .ihu
        case .update: .update
        case .routeRequest: .routeRequest
        case .seqnoRequest: .seqnoRequest
        case .digest: .digest
        case .gatewayAdvert: .gatewayAdvert
        case .probe: .probe
        }
    }

    /// Bytes this message adds to a packet when it is encoded on its own: its TLV (2 header bytes and
    /// the value) plus, for an Update whose router id is not the low 64 bits of its prefix, the 10-byte
    /// Router-Id TLV it may need. Inside a packet an Update can cost less (consecutive Updates from one
    /// router share a Router-Id TLV), never more, so summing this is a safe bound for an MTU.
    /// A gateway name longer than allowed is counted as it is (encoding then fails).
    public var encodedSize: Int {
        var size = 2 + valueLength
        if case .update(let u) = self, !u.routerIDIsDerived { size += Message.routerIDTLVSize }
        return size
    }

    /// Size of a Router-Id TLV (type, length, 8-byte router id).
    static let routerIDTLVSize = 10

    /// Length of this message's TLV value (what the length byte says).
    var valueLength: Int {
        switch self {
        case .hello(let h): h.node == nil ? 13 : 45
        case .ihu: 12
        case .update(let u): 9 + PrefixCodec(u.prefix).count
        case .routeRequest(let r): 2 + (r.prefix.map { PrefixCodec($0).count } ?? 0) + (r.flags == 0 ? 0 : 1)
        case .seqnoRequest(let s): 13 + PrefixCodec(s.prefix).count
        case .digest(let d): d.flags == 0 ? 10 : 11
        case .gatewayAdvert(let g): GatewayAdvert.fixedValueBytes + g.name.utf8.count
        case .probe: 5
        }
    }

    /// Appends this message's TLV (preceded, for an Update, by a Router-Id TLV when `currentRouterID`
    /// does not already name its router). Validates what the types cannot (name and signature length).
    func encode(into out: inout [UInt8], currentRouterID: inout RouterID?) throws(WireError) {
        if case .update(let u) = self, !u.routerIDIsDerived, currentRouterID != u.routerID {
            out.append(TLVType.routerID.rawValue); out.append(8)
            out.appendBE(u.routerID.rawValue)
            currentRouterID = u.routerID
        }
        if case .gatewayAdvert(let g) = self { try g.validateForEncoding() }
        let length = valueLength
        out.append(tlvType.rawValue)
        out.append(UInt8(truncatingIfNeeded: length))
        switch self {
        case .hello(let h):
            out.append(h.node == nil ? 0 : Hello.flagNodePresent)
            out.appendBE(h.seqno.rawValue)
            out.appendBE(h.intervalCentiseconds)
            out.appendBE(h.routerID.rawValue)
            if let n = h.node { out.append((n.w0, n.w1, n.w2, n.w3)) }
        case .ihu(let i):
            out.appendBE(i.rxcost)
            out.appendBE(i.intervalCentiseconds)
            out.appendBE(i.neighbour.rawValue)
        case .update(let u):
            let p = PrefixCodec(u.prefix)
            out.append(p.ae.rawValue)
            out.append(u.routerIDIsDerived ? Update.flagRouterIDFromPrefix : 0)
            out.append(p.lengthByte)
            out.appendBE(u.intervalCentiseconds)
            out.appendBE(u.seqno.rawValue)
            out.appendBE(u.metric.rawValue)
            p.appendAddress(of: u.prefix, to: &out)
        case .routeRequest(let r):
            if let prefix = r.prefix {
                let p = PrefixCodec(prefix)
                out.append(p.ae.rawValue); out.append(p.lengthByte)
                p.appendAddress(of: prefix, to: &out)
            } else {
                out.append(AddressEncoding.wildcard.rawValue); out.append(0)
            }
            if r.flags != 0 { out.append(r.flags) }
        case .seqnoRequest(let s):
            let p = PrefixCodec(s.prefix)
            out.append(p.ae.rawValue); out.append(p.lengthByte)
            out.appendBE(s.seqno.rawValue)
            out.append(s.hopCount)
            out.appendBE(s.routerID.rawValue)
            p.appendAddress(of: s.prefix, to: &out)
        case .digest(let d):
            out.appendBE(d.routeCount)
            out.appendBE(d.hash)
            if d.flags != 0 { out.append(d.flags) }
        case .gatewayAdvert(let g):
            g.appendSignedFields(to: &out)
            out.append(contentsOf: g.signature)
        case .probe(let p):
            out.append(p.isReply ? Probe.flagReply : 0)
            out.appendBE(p.nonce)
        }
    }

    /// Decodes the value of a known TLV of `type` (not padding, not Router-Id). Value bytes past the
    /// fields this version knows are ignored (the extension area) and counted in `report`.
    static func decode(type: TLVType, value reader: inout WireReader, tlvOffset: Int,
                       currentRouterID: RouterID?, report: inout DecodeReport) throws(WireError) -> Message {
        let message: Message
        switch type {
        case .hello:
            let flags = try reader.u8()
            let seqno = Seqno(try reader.u16())
            let interval = try reader.u16()
            let router = RouterID(try reader.u64())
            var node: NodeID?
            if flags & Hello.flagNodePresent != 0 {
                node = NodeID(w0: try reader.u64(), w1: try reader.u64(), w2: try reader.u64(), w3: try reader.u64())
            }
            message = .hello(Hello(routerID: router, node: node, seqno: seqno, intervalCentiseconds: interval))
        case .ihu:
            let rxcost = try reader.u16()
            let interval = try reader.u16()
            let neighbour = RouterID(try reader.u64())
            message = .ihu(IHU(neighbour: neighbour, rxcost: rxcost, intervalCentiseconds: interval))
        case .update:
            let ae = try reader.u8()
            let flags = try reader.u8()
            let plen = try reader.u8()
            let interval = try reader.u16()
            let seqno = Seqno(try reader.u16())
            let metric = Metric(try reader.u16())
            let prefix = try PrefixCodec.readPrefix(ae: ae, lengthByte: plen, type: type, from: &reader)
            let router: RouterID
            if flags & Update.flagRouterIDFromPrefix != 0 {
                router = RouterID(prefix.address.low)
            } else if let current = currentRouterID {
                router = current
            } else {
                throw .updateWithoutRouterID(offset: tlvOffset)
            }
            message = .update(Update(prefix: prefix, routerID: router, seqno: seqno, metric: metric,
                                     intervalCentiseconds: interval))
        case .routeRequest:
            let ae = try reader.u8()
            let plen = try reader.u8()
            if ae == AddressEncoding.wildcard.rawValue {
                guard plen == 0 else { throw .badPrefixLength(ae: ae, length: plen) }
                message = .routeRequest(RouteRequest(prefix: nil, flags: reader.remaining > 0 ? try reader.u8() : 0))
            } else {
                let prefix = try PrefixCodec.readPrefix(ae: ae, lengthByte: plen, type: type, from: &reader)
                message = .routeRequest(RouteRequest(prefix: prefix, flags: reader.remaining > 0 ? try reader.u8() : 0))
            }
        case .seqnoRequest:
            let ae = try reader.u8()
            let plen = try reader.u8()
            let seqno = Seqno(try reader.u16())
            let hops = try reader.u8()
            let router = RouterID(try reader.u64())
            let prefix = try PrefixCodec.readPrefix(ae: ae, lengthByte: plen, type: type, from: &reader)
            message = .seqnoRequest(SeqnoRequest(prefix: prefix, routerID: router, seqno: seqno, hopCount: hops))
        case .digest:
            let count = try reader.u16()
            let hash = try reader.u64()
            message = .digest(Digest(routeCount: count, hash: hash, flags: reader.remaining > 0 ? try reader.u8() : 0))
        case .gatewayAdvert:
            message = .gatewayAdvert(try GatewayAdvert.decodeValue(from: &reader))
        case .probe:
            let flags = try reader.u8()
            let nonce = try reader.u32()
            message = .probe(Probe(nonce: nonce, isReply: flags & Probe.flagReply != 0))
        case .pad1, .padN, .routerID:
            // The packet decoder handles these itself and never passes them here.
            throw .tlvTooShort(type: type.rawValue, offset: tlvOffset)
        }
        report.extensionBytes += reader.remaining
        return message
    }
}

extension Hello {
    /// Hello flags bit: the sender's 32-byte NodeID follows the router id.
    static let flagNodePresent: UInt8 = 0x80
}

extension Update {
    /// Update flags bit: the router id is the low 64 bits of the prefix's address (no Router-Id TLV needed).
    static let flagRouterIDFromPrefix: UInt8 = 0x40

    /// True when the router id equals the low 64 bits of the prefix's address, so the Update carries a
    /// flag instead of a router id (every node's own /128 mesh address is such a prefix).
    public var routerIDIsDerived: Bool { routerID.rawValue == prefix.address.low }
}

extension Probe {
    /// Probe flags bit: this probe answers one with the same nonce.
    static let flagReply: UInt8 = 0x80
}
