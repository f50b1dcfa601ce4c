import FilamentControl
import FilamentCore
import FilamentCrypto
import FilamentWire
import Glibc

/// Node information over the mesh (decision 0720, docs/wire-format.md "Node information"): a UDP socket
/// on this node's mesh address answers signed, rate-limited requests for its name and neighbour list,
/// and gathers every node's list for `filamentctl topology`, breadth first from our own neighbours.
///
/// Requests and answers travel as ordinary IPv6 packets through the mesh (each hop's link is the
/// authenticated Noise session). A request is answered only when it names us, comes from the mesh
/// address of the key that signed it, and is inside both rate limits; an answer is used only when it
/// is signed by the node it speaks for, comes from that node's mesh address and carries the nonce of
/// a gathering under way.
final class TopologyService {
    struct Counters {
        var requestsAnswered: UInt64 = 0
        var requestsRateLimited: UInt64 = 0
        /// Malformed, not for us, wrong source address or bad signature.
        var requestsRejected: UInt64 = 0
        var answersAccepted: UInt64 = 0
        /// Malformed, unsolicited, wrong source address or bad signature.
        var answersRejected: UInt64 = 0
        var sendFailures: UInt64 = 0
        var bytesSent: UInt64 = 0
        var bytesReceived: UInt64 = 0
    }

    /// What one node told us so far in a gathering.
    struct Collected {
        var name: String?
        var isGateway = false
        var pageCount = 0
        var pages: [UInt8: [NodeInfoAnswer.Neighbour]] = [:]
        var complete: Bool { pageCount > 0 && pages.count == pageCount }
    }

    /// One `topology` request being answered.
    struct Gathering {
        let ticket: ControlTicket
        let requestID: Int
        let deadline: Instant
        var retryAt: Instant
        var retried = false
        var asked: [NodeID] = []
        var collected: [NodeID: Collected] = [:]
        let me: Collected
    }

    let fd: Int32
    let me: NodeID
    let sign: ([UInt8]) -> [UInt8]
    var counters = Counters()
    /// Names learnt from verified answers (shown for neighbours and gateways); bounded.
    private(set) var names: [NodeID: String] = [:]
    let maxNames = 1024
    var gatherings: [UInt64: Gathering] = [:]
    /// Name requests to new neighbours (nonce to node), so names show without a topology run; bounded.
    var nameProbes: [UInt64: NodeID] = [:]
    let maxNameProbes = 64
    var random = SystemRandomNumberGenerator()
    /// Global request budget: `requestsPerSecond` tokens, refilled every second.
    var requestTokens = 0
    var tokensRefilledAt = Instant.zero
    let requestsPerSecond = 50
    /// Per-source budget within the current second (bounded map, cleared every second).
    var perSource: [IPv6Address: Int] = [:]
    let requestsPerSourcePerSecond = 10
    let maxGatherings = 4
    let maxNodesPerGathering = 1024
    static let gatherTime: Interval = .seconds(3)
    static let retryAfter: Interval = .milliseconds(800)

    /// Binds `[address]:NodeInfo.port` (the address must already be on the TUN device).
    init(address: IPv6Address, me: NodeID, sign: @escaping ([UInt8]) -> [UInt8]) throws(DaemonFailure) {
        self.me = me
        self.sign = sign
        let s = socket(AF_INET6, Int32(SOCK_DGRAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard s >= 0 else { throw DaemonFailure("node information socket: \(String(cString: strerror(errno)))") }
        var sa = Self.socketAddress(address, NodeInfo.port)
        let rc = withUnsafePointer(to: &sa) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
        }
        guard rc == 0 else {
            let e = String(cString: strerror(errno))
            close(s)
            throw DaemonFailure("cannot bind the node information socket [\(address)]:\(NodeInfo.port): \(e)")
        }
        fd = s
    }

    deinit { close(fd) }

    static func socketAddress(_ address: IPv6Address, _ port: UInt16) -> sockaddr_in6 {
        var sa = sockaddr_in6()
        sa.sin6_family = sa_family_t(AF_INET6)
        sa.sin6_port = port.bigEndian
        let bytes = address.bytes
        withUnsafeMutableBytes(of: &sa.sin6_addr) { raw in raw.copyBytes(from: bytes) }
        return sa
    }

    func name(of node: NodeID) -> String? { names[node] }

    /// Nodes whose answer we have (named or not), so unnamed neighbours are not asked again and again.
    private(set) var heard: Set<NodeID> = []

    func learn(_ node: NodeID, name: String?) {
        if heard.count < maxNames { heard.insert(node) }
        guard let name else { names[node] = nil; return }
        if names[node] == nil, names.count >= maxNames { return }
        names[node] = name
    }

    /// When `tick` must next run.
    var nextDeadline: Instant {
        gatherings.values.map { $0.retried ? $0.deadline : min($0.retryAt, $0.deadline) }.min() ?? .distantFuture
    }

    /// Asks a new neighbour for its name (page 0 of its node information).
    func probeName(_ node: NodeID) {
        guard node != me else { return }
        if nameProbes.count >= maxNameProbes { nameProbes.removeAll() }
        let nonce = UInt64.random(in: 1 ... .max, using: &random)
        nameProbes[nonce] = node
        sendRequest(to: node, page: 0, nonce: nonce)
    }

    // MARK: - Gathering

    /// Starts gathering for a `topology` request; false when too many are under way (the caller answers `busy`).
    func start(ticket: ControlTicket, requestID: Int, me info: Collected, neighbours: [NodeID], now: Instant) -> Bool {
        guard gatherings.count < maxGatherings else { return false }
        var nonce = UInt64.random(in: 1 ... .max, using: &random)
        while gatherings[nonce] != nil { nonce = UInt64.random(in: 1 ... .max, using: &random) }
        gatherings[nonce] = Gathering(ticket: ticket, requestID: requestID, deadline: now + Self.gatherTime,
                                      retryAt: now + Self.retryAfter, me: info)
        for n in neighbours { ask(n, nonce: nonce) }
        return true
    }

    /// Ends gatherings whose time is up (answering them) and asks again, once, what has not answered.
    /// Returns the finished ones' answers for the caller to send.
    func tick(now: Instant) -> [(ControlTicket, [UInt8])] {
        var done: [(ControlTicket, [UInt8])] = []
        for nonce in gatherings.keys.sorted() {
            guard var g = gatherings[nonce] else { continue }
            if now >= g.deadline || g.asked.allSatisfy({ g.collected[$0]?.complete == true }) {
                gatherings[nonce] = nil
                done.append((g.ticket, ControlServer.encode(ControlResponse(id: g.requestID, result: Self.assemble(g, me: me)))))
                continue
            }
            if !g.retried, now >= g.retryAt {
                g.retried = true
                gatherings[nonce] = g
                for n in g.asked where g.collected[n]?.complete != true { resend(n, nonce: nonce, g.collected[n]) }
            }
        }
        return done
    }

    func ask(_ node: NodeID, nonce: UInt64) {
        guard var g = gatherings[nonce], node != me, !g.asked.contains(node), g.asked.count < maxNodesPerGathering else { return }
        g.asked.append(node)
        gatherings[nonce] = g
        sendRequest(to: node, page: 0, nonce: nonce)
    }

    func resend(_ node: NodeID, nonce: UInt64, _ c: Collected?) {
        guard let c, c.pageCount > 0 else { sendRequest(to: node, page: 0, nonce: nonce); return }
        for p in 0..<c.pageCount where c.pages[UInt8(p)] == nil { sendRequest(to: node, page: UInt8(p), nonce: nonce) }
    }

    func sendRequest(to node: NodeID, page: UInt8, nonce: UInt64) {
        let r = NodeInfoRequest(page: page, nonce: nonce, requester: me, target: node)
        send(r.encoded(signature: sign(r.signedBytes)), to: node.meshAddress)
    }

    /// The graph: this node, every node asked or named by an answer, and each link once (the cost
    /// as reported by the end that sorts first among those that answered; `confirmed` when both ends
    /// listed it). Links with infinite cost are left out.
    static func assemble(_ g: Gathering, me: NodeID) -> TopologyInfo {
        var collected = g.collected.filter { $0.value.pageCount > 0 }
        collected[me] = g.me
        var all = Set(g.asked)
        all.insert(me)
        for c in collected.values { for p in c.pages.values { for n in p { all.insert(n.node) } } }
        var links: [String: TopologyInfo.Link] = [:]
        var reporters: [String: Int] = [:]
        for id in collected.keys.sorted(by: { $0.hex < $1.hex }) {
            guard let c = collected[id] else { continue }
            var listed = Set<String>()
            for p in c.pages.keys.sorted() {
                for n in c.pages[p] ?? [] where n.cost < 0xFFFF && n.node != id {
                    let (a, b) = id.hex < n.node.hex ? (id.hex, n.node.hex) : (n.node.hex, id.hex)
                    let key = "\(a)-\(b)"
                    if listed.insert(key).inserted { reporters[key, default: 0] += 1 }
                    if links[key] == nil { links[key] = TopologyInfo.Link(source: a, target: b, cost: Int(n.cost)) }
                }
            }
        }
        for key in links.keys { links[key]?.confirmed = reporters[key] == 2 }
        let nodes = all.sorted { $0.hex < $1.hex }.map { id in
            let c = collected[id]
            return TopologyInfo.Node(node_id: id.hex, name: c?.name, address: "\(id.meshAddress)", gateway: c?.isGateway ?? false,
                                     answered: c?.complete ?? false)
        }
        return TopologyInfo(nodes: nodes, links: links.keys.sorted().compactMap { links[$0] })
    }

    // MARK: - Receiving

    /// Reads up to 32 datagrams; answers requests (`info` gives this node's answer pages for a nonce).
    func receive(now: Instant, info: (UInt64) -> [NodeInfoAnswer]) {
        var buffer = [UInt8](repeating: 0, count: 2048)
        for _ in 0..<32 {
            var from = sockaddr_in6()
            var fromLength = socklen_t(MemoryLayout<sockaddr_in6>.size)
            let n = withUnsafeMutablePointer(to: &from) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, &buffer, buffer.count, 0, $0, &fromLength) }
            }
            if n < 0 {
                if errno == EINTR { continue }
                return
            }
            counters.bytesReceived += UInt64(n)
            let source = withUnsafeBytes(of: from.sin6_addr) { IPv6Address(bytes: $0)! }
            let datagram = Array(buffer[0..<n])
            if datagram.count > 1, datagram[1] == 1 {
                handleRequest(datagram, from: source, port: UInt16(bigEndian: from.sin6_port), now: now, info: info)
            } else {
                handleAnswer(datagram, from: source)
            }
        }
    }

    func handleRequest(_ d: [UInt8], from source: IPv6Address, port: UInt16, now: Instant, info: (UInt64) -> [NodeInfoAnswer]) {
        if now >= tokensRefilledAt + .seconds(1) {
            requestTokens = requestsPerSecond
            tokensRefilledAt = now
            perSource.removeAll(keepingCapacity: true)
        }
        guard requestTokens > 0, perSource[source, default: 0] < requestsPerSourcePerSecond, perSource.count < 256 || perSource[source] != nil else {
            counters.requestsRateLimited += 1
            return
        }
        requestTokens -= 1
        perSource[source, default: 0] += 1
        guard let (r, signature) = NodeInfoRequest.decode(d), r.target == me, r.requester.meshAddress == source,
              Ed25519.verify(signature: signature, of: r.signedBytes, by: r.requester) else {
            counters.requestsRejected += 1
            return
        }
        let pages = info(r.nonce)
        guard Int(r.page) < pages.count else { counters.requestsRejected += 1; return }
        let a = pages[Int(r.page)]
        counters.requestsAnswered += 1
        send(a.encoded(signature: sign(a.signedBytes)), to: source, port: port)
    }

    func handleAnswer(_ d: [UInt8], from source: IPv6Address) {
        if let (a, signed, signature) = NodeInfoAnswer.decode(d), nameProbes[a.nonce] == a.node, a.node.meshAddress == source {
            nameProbes[a.nonce] = nil
            guard Ed25519.verify(signature: signature, of: signed, by: a.node) else { counters.answersRejected += 1; return }
            counters.answersAccepted += 1
            learn(a.node, name: a.name)
            return
        }
        guard let (a, signed, signature) = NodeInfoAnswer.decode(d), a.node.meshAddress == source,
              var g = gatherings[a.nonce], g.asked.contains(a.node),
              Ed25519.verify(signature: signature, of: signed, by: a.node) else {
            counters.answersRejected += 1
            return
        }
        var c = g.collected[a.node] ?? Collected()
        if c.pageCount != 0, c.pageCount != Int(a.pageCount) { counters.answersRejected += 1; return }
        counters.answersAccepted += 1
        let first = c.pageCount == 0
        c.pageCount = Int(a.pageCount)
        c.name = a.name
        c.isGateway = a.isGateway
        c.pages[a.page] = a.neighbours
        g.collected[a.node] = c
        gatherings[a.nonce] = g
        learn(a.node, name: a.name)
        if first { for p in 1..<max(1, c.pageCount) where c.pages[UInt8(p)] == nil { sendRequest(to: a.node, page: UInt8(p), nonce: a.nonce) } }
        for n in a.neighbours where n.cost < 0xFFFF { ask(n.node, nonce: a.nonce) }
    }

    func send(_ bytes: [UInt8], to address: IPv6Address, port: UInt16 = NodeInfo.port) {
        var sa = Self.socketAddress(address, port)
        let n = withUnsafePointer(to: &sa) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, bytes, bytes.count, Int32(MSG_DONTWAIT), $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
            }
        }
        if n < 0 { counters.sendFailures += 1 } else { counters.bytesSent += UInt64(n) }
    }
}
