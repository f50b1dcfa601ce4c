import FilamentCore

// Node information ("who are you, who are your neighbours"), asked of any node over the mesh for
// `filamentctl topology`. Both messages travel as UDP datagrams between mesh addresses (port
// `NodeInfo.port`) and are Ed25519-signed by their sender's node key; the signing and checking is the
// caller's (this module has no crypto). docs/wire-format.md "Node information" is the reference.

public enum NodeInfo {
    /// UDP port on every node's mesh address.
    public static let port: UInt16 = 6718
    public static let version: UInt8 = 1
    /// Neighbours per answer page: a page with a 32-byte name stays under 1232 bytes (the IPv6 minimum
    /// MTU less the IPv6 and UDP headers), so it crosses any mesh path unfragmented.
    public static let neighboursPerPage = 30
    /// Longest name in bytes of UTF-8.
    public static let maxNameLength = 32
    public static let signatureLength = 64
    /// Prefixed to the signed bytes so a signature of one message can never pass as another's.
    static let requestContext = Array("filament node-info request v1".utf8)
    static let answerContext = Array("filament node-info answer v1".utf8)

    enum Kind: UInt8 { case request = 1, answer = 2 }

    /// Whether `name` is acceptable as a node name: 1...32 bytes of UTF-8 without control characters
    /// (a name is printed on operators' terminals).
    public static func isValidName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...maxNameLength).contains(bytes.count) else { return false }
        return !name.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F || (0x80...0x9F).contains($0.value) }
    }
}

/// "Send me page `page` of your node information", from `requester` to `target`.
public struct NodeInfoRequest: Hashable, Sendable {
    public var page: UInt8
    /// Echoed in the answer (matches answers to a gathering, makes old answers useless).
    public var nonce: UInt64
    public var requester: NodeID
    public var target: NodeID

    public init(page: UInt8, nonce: UInt64, requester: NodeID, target: NodeID) {
        self.page = page; self.nonce = nonce; self.requester = requester; self.target = target
    }

    /// version, kind, page, 0, nonce (8), requester (32), target (32): what the signature covers
    /// (after the context string).
    public var body: [UInt8] {
        var b: [UInt8] = [NodeInfo.version, NodeInfo.Kind.request.rawValue, page, 0]
        b.appendBE(nonce)
        b += requester.bytes
        b += target.bytes
        return b
    }

    public var signedBytes: [UInt8] { NodeInfo.requestContext + body }

    /// The datagram: body then signature.
    public func encoded(signature: [UInt8]) -> [UInt8] { body + signature }

    /// Parses a request datagram; nil when it is not one (wrong length, version or kind). Returns the
    /// signature for the caller to check against `requester`.
    public static func decode(_ d: [UInt8]) -> (NodeInfoRequest, signature: [UInt8])? {
        guard d.count == 76 + NodeInfo.signatureLength, d[0] == NodeInfo.version, d[1] == NodeInfo.Kind.request.rawValue,
              let requester = NodeID(bytes: d[12..<44]), let target = NodeID(bytes: d[44..<76]) else { return nil }
        var nonce: UInt64 = 0
        for i in 4..<12 { nonce = nonce << 8 | UInt64(d[i]) }
        return (NodeInfoRequest(page: d[2], nonce: nonce, requester: requester, target: target), Array(d[76...]))
    }
}

/// One page of a node's information: its name, whether it is a gateway, and part of its neighbour list.
public struct NodeInfoAnswer: Hashable, Sendable {
    public struct Neighbour: Hashable, Sendable {
        public var node: NodeID
        /// Link cost (65535 = infinite).
        public var cost: UInt16
        public init(node: NodeID, cost: UInt16) { self.node = node; self.cost = cost }
    }

    public var page: UInt8
    public var pageCount: UInt8
    public var nonce: UInt64
    public var node: NodeID
    public var isGateway: Bool
    public var name: String?
    public var neighbours: [Neighbour]

    public init(page: UInt8, pageCount: UInt8, nonce: UInt64, node: NodeID, isGateway: Bool, name: String?, neighbours: [Neighbour]) {
        self.page = page; self.pageCount = pageCount; self.nonce = nonce; self.node = node
        self.isGateway = isGateway; self.name = name; self.neighbours = neighbours
    }

    /// The pages answering for `neighbours` (at least one, at most 255; neighbours past 255 pages are left out).
    public static func pages(nonce: UInt64, node: NodeID, isGateway: Bool, name: String?, neighbours: [Neighbour]) -> [NodeInfoAnswer] {
        let per = NodeInfo.neighboursPerPage
        let count = min(255, max(1, (neighbours.count + per - 1) / per))
        return (0..<count).map { p in
            NodeInfoAnswer(page: UInt8(p), pageCount: UInt8(count), nonce: nonce, node: node, isGateway: isGateway, name: name,
                           neighbours: Array(neighbours[min(neighbours.count, p * per)..<min(neighbours.count, (p + 1) * per)]))
        }
    }

    /// version, kind, page, page count, nonce (8), node (32), flags, name length, name, neighbour
    /// count, neighbours (32 + 2 each): what the signature covers (after the context string).
    public var body: [UInt8] {
        let nameBytes = name.map { Array($0.utf8.prefix(NodeInfo.maxNameLength)) } ?? []
        var b: [UInt8] = [NodeInfo.version, NodeInfo.Kind.answer.rawValue, page, pageCount]
        b.reserveCapacity(48 + nameBytes.count + neighbours.count * 34)
        b.appendBE(nonce)
        b += node.bytes
        b.append(isGateway ? 1 : 0)
        b.append(UInt8(nameBytes.count))
        b += nameBytes
        b.append(UInt8(min(neighbours.count, 255)))
        for n in neighbours.prefix(255) {
            b += n.node.bytes
            b.appendBE(n.cost)
        }
        return b
    }

    public var signedBytes: [UInt8] { NodeInfo.answerContext + body }

    public func encoded(signature: [UInt8]) -> [UInt8] { body + signature }

    /// Parses an answer datagram; nil when it is malformed (lengths that do not add up, a page past the
    /// page count, a name that is not valid UTF-8 or has control characters, unknown flags).
    public static func decode(_ d: [UInt8]) -> (NodeInfoAnswer, signedBytes: [UInt8], signature: [UInt8])? {
        guard d.count >= 46 + NodeInfo.signatureLength, d[0] == NodeInfo.version, d[1] == NodeInfo.Kind.answer.rawValue,
              d[2] < d[3], d[44] & ~1 == 0 else { return nil }
        let nameLength = Int(d[45])
        guard nameLength <= NodeInfo.maxNameLength, d.count >= 47 + nameLength + NodeInfo.signatureLength else { return nil }
        let count = Int(d[46 + nameLength])
        let end = 47 + nameLength + count * 34
        guard d.count == end + NodeInfo.signatureLength, let node = NodeID(bytes: d[12..<44]) else { return nil }
        var name: String? = nil
        if nameLength > 0 {
            guard let s = String(validating: d[46..<(46 + nameLength)], as: UTF8.self), NodeInfo.isValidName(s) else { return nil }
            name = s
        }
        var nonce: UInt64 = 0
        for i in 4..<12 { nonce = nonce << 8 | UInt64(d[i]) }
        var neighbours: [Neighbour] = []
        neighbours.reserveCapacity(count)
        var o = 47 + nameLength
        for _ in 0..<count {
            guard let n = NodeID(bytes: d[o..<(o + 32)]) else { return nil }
            neighbours.append(Neighbour(node: n, cost: UInt16(d[o + 32]) << 8 | UInt16(d[o + 33])))
            o += 34
        }
        let answer = NodeInfoAnswer(page: d[2], pageCount: d[3], nonce: nonce, node: node, isGateway: d[44] & 1 == 1,
                                    name: name, neighbours: neighbours)
        return (answer, NodeInfo.answerContext + d[0..<end], Array(d[end...]))
    }
}
