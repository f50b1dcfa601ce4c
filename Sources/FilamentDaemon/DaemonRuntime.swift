import FilamentControl
import FilamentCore
import FilamentCrypto
import FilamentEngine
import FilamentLinux
import FilamentNode
import FilamentState
import FilamentWire
import Glibc

/// The running daemon: one epoll loop drives a `FilamentNode` over UDP (IPv6 link-local, one socket
/// per mesh interface), the TUN device that holds the node's mesh address, the netlink monitor
/// (interfaces appearing and disappearing) and the control socket. docs/daemon.md describes it.
///
/// Forwarding uses the engine's own table (decision 0800): the kernel routes the whole mesh /48 to
/// the TUN device; the daemon looks every packet up in the engine and sends it to the next hop.
public final class DaemonRuntime {
    public static let version = "0.1.0-dev"

    var configuration: DaemonConfiguration
    let configPath: String?
    /// Interface patterns given on the command line (they win over the file, also after SIGHUP).
    let interfaceOverride: [DaemonConfiguration.InterfaceSetting]?
    /// The gateway came from `--gateway-uplink`/`--gateway-bandwidth`: a reload keeps it.
    public var gatewayFromFlags = false
    let log: DaemonLog
    let state: StateDirectory
    let seqnoCounter: PersistentCounter
    let initiationCounter: PersistentCounter
    let node: FilamentNode
    let loop: EventLoop
    let netlink: Netlink
    let monitor: NetlinkMonitor
    let tun: TunDevice
    let tunMTU: Int
    var control: ControlServer?
    /// Node information over the mesh (names, neighbour lists for `topology`).
    var topology: TopologyService!
    /// Node ids of the neighbours the engine reported up (monitor events name them after they are gone).
    var neighbourIDs: [NeighbourKey: (node: NodeID, interface: String)] = [:]
    /// Prometheus exposition (`metrics_listen`), nil when not configured.
    var metrics: MetricsEndpoint?
    var transports: [InterfaceID: MeshTransport] = [:]
    /// The link MTU each open transport was announced with (an MTU change is announced again).
    var transportMTUs: [InterfaceID: Int] = [:]
    /// Transports whose socket buffer was full at the last flush (watched for writability).
    var writableInterest: Set<InterfaceID> = []
    /// Link kind of each open mesh interface (decision 0815).
    var linkKinds: [InterfaceID: LinkKind] = [:]
    /// Interfaces for link-local UDP and for raw Ethernet (UDP wins when both match).
    var matcher: InterfaceMatcher
    var ethernetMatcher: InterfaceMatcher
    let startedAt: Instant
    var running = true
    var nextReconcile: Instant
    var answers: ControlAnswers!
    /// Datagrams that had no open transport for their interface.
    /// Buffers of the fast data path (plaintexts and sealed frames), allocated once.
    let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 70_000, alignment: 16)
    let frame = UnsafeMutableRawBufferPointer.allocate(byteCount: 70_000, alignment: 16)
    /// TUN reads with offload: a virtio_net_hdr and a packet or TCP super-segment of up to 64 KB.
    let tunBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 70_000, alignment: 16)
    /// TUN reads whose offload header did not describe the packet (dropped).
    var tunOffloadDrops: UInt64 = 0
    /// Joins in-order TCP segments delivered to the TUN device (offload only), flushed after each
    /// batch of received datagrams and before any other write to the TUN device.
    let coalescer = TunCoalescer()
    var fastOutputs: [NodeOutput] = []
    /// Prefixes with a kernel route into the TUN device (besides the mesh /48).
    var kernelRoutes: Set<Prefix> = []
    var sendDrops: UInt64 = 0
    /// Gateway mode: the last uplink health reported to the engine; NAT table present; mesh default routes present.
    var uplinkHealthy: Bool? = nil
    var firewallInstalled = false
    var defaultRoutesInstalled = false
    /// The uplink probe (gateway with `gateway.probe`).
    var probe: GatewayProbe?
    /// The uplink's load for the gateway advert (gateway mode).
    var loadMeter: UplinkLoadMeter?
    var tunWriteDrops: UInt64 = 0

    static let tunToken: UInt64 = 1
    static let monitorToken: UInt64 = 2
    static let controlToken: UInt64 = 3
    static let probeToken: UInt64 = 4
    static let nodeInfoToken: UInt64 = 5
    static let metricsToken: UInt64 = 6
    static let udpTokenBase: UInt64 = 0x1_0000_0000
    static let clientTokenBase: UInt64 = 0x2_0000_0000
    static let metricsClientTokenBase: UInt64 = 0x3_0000_0000

    /// Prepares everything (state, identity, TUN, sockets); `run()` then serves until SIGTERM/SIGINT.
    public init(configuration: DaemonConfiguration, configPath: String?, interfaceOverride: [DaemonConfiguration.InterfaceSetting]?) throws(DaemonFailure) {
        self.configuration = configuration
        self.configPath = configPath
        self.interfaceOverride = interfaceOverride
        log = DaemonLog(level: configuration.logLevel)
        matcher = InterfaceMatcher(Self.patterns(configuration, interfaceOverride, .udp))
        ethernetMatcher = InterfaceMatcher(Self.patterns(configuration, interfaceOverride, .ethernet))

        // State: refuse a directory others can write, lock it, load or create the identity.
        do {
            state = try StateDirectory(path: configuration.stateDirectory)
            try state.lock()
        } catch { throw DaemonFailure("state directory: \(error)") }
        let identity = try Self.loadIdentity(state, log)
        do {
            seqnoCounter = try PersistentCounter(directory: state, name: PersistentCounter.Name.routingSeqno)
            initiationCounter = try PersistentCounter(directory: state, name: PersistentCounter.Name.linkInitiation)
        } catch { throw DaemonFailure("\(error)") }

        let networkKey: SecretBytes
        if let path = configuration.networkKeyFile {
            do { networkKey = try NetworkKeyFile.load(path: path) } catch { throw DaemonFailure(error.description) }
        } else {
            networkKey = NetworkKey.openMesh()
        }

        // The loop first: it blocks the signals before anything else could start a thread.
        do {
            loop = try EventLoop()
            netlink = try Netlink()
            monitor = try NetlinkMonitor()
            _ = try monitor.synchronise { _ in }
        } catch { throw DaemonFailure("cannot start the event loop or netlink: \(error)") }

        // TUN: the mesh address /128 and the mesh prefix route on it.
        tunMTU = configuration.tun.mtu ?? Self.automaticTunMTU(links: Array(monitor.links.values), udp: matcher, ethernet: ethernetMatcher)
        do {
            // TSO and checksum offload (decision 0803); a kernel that refuses it gets a plain TUN device.
            let name = configuration.tun.name, size = Self.tunBufferSize(mtu: tunMTU)
            if let offloaded = try? TunDevice(name: name, bufferSize: size, offload: true) {
                tun = offloaded
            } else {
                tun = try TunDevice(name: name, bufferSize: size)
            }
            try netlink.setLink(tun.interface, up: true, mtu: tunMTU)
            try netlink.addAddress(identity.nodeID.meshAddress, prefixLength: 128, interface: tun.interface, skipDAD: true)
            try netlink.replaceRoute(KernelRoute(prefix: MeshPrefix.prefix, interface: tun.interface))
        } catch { throw DaemonFailure("cannot set up TUN device \(configuration.tun.name): \(error)") }

        var engineConfiguration = EngineConfiguration()
        engineConfiguration.attachedPrefixes = configuration.attachedPrefixes
        if let g = configuration.gateway {
            engineConfiguration.gateway = GatewayConfiguration(name: configuration.name ?? "filamentd", offersIPv6: g.ipv6, offersIPv4: true)
        }
        if !configuration.trustedGateways.isEmpty { engineConfiguration.trustedGatewayKeys = configuration.trustedGateways }
        let nodeID = identity.nodeID
        startedAt = MonotonicClock.now()
        nextReconcile = startedAt
        do {
            node = try FilamentNode(identity: identity, networkKey: networkKey, seqnoCounter: seqnoCounter.current,
                                    initiationCounterFloor: initiationCounter.current, configuration: engineConfiguration,
                                    linkConfiguration: configuration.linkConfiguration, seed: UInt64.random(in: 0 ... .max), now: startedAt)
        } catch { throw DaemonFailure("cannot start the link layer: \(error)") }
        log.info("link cipher \(configuration.linkCipher.rawValue): \(configuration.linkCipherSummary)")
        log.info("node \(nodeID.hex) address \(nodeID.meshAddress) on \(tun.name) (mtu \(tunMTU))")

        let signingNode = node
        topology = try TopologyService(address: nodeID.meshAddress, me: nodeID) { signingNode.sign($0) }
        do {
            try loop.watch(topology.fd, token: Self.nodeInfoToken)
            try loop.watch(tun.fileDescriptor, token: Self.tunToken)
            try loop.watch(monitor.fileDescriptor, token: Self.monitorToken)
        } catch { throw DaemonFailure("\(error)") }
        do {
            let server = try ControlServer(path: configuration.controlSocket, group: configuration.controlGroup) { [unowned self] r, fd in
                self.answer(r, client: fd)
            }
            control = server
            try loop.watch(server.listenFD, token: Self.controlToken)
        } catch { throw DaemonFailure("\(error)") }
        if let listen = configuration.metricsListen {
            let m = try MetricsEndpoint(listen: listen)
            do { try loop.watch(m.listenFD, token: Self.metricsToken) } catch { throw DaemonFailure("\(error)") }
            metrics = m
            log.info("metrics on http://\(listen)/metrics")
        }
        let monitorRef = monitor
        let topologyRef = topology!
        answers = ControlAnswers(name: configuration.name, version: Self.version, interfaceName: { id in
            monitorRef.links[id]?.name ?? "if\(id.rawValue)"
        }, nodeName: { topologyRef.name(of: $0) })
        if let preferred = configuration.preferredGateway { execute(node.handle(.setPreferredGateway(preferred), now: startedAt)) }
        reconcileInterfaces(now: startedAt)
        // Last, so that nothing after it can fail and leave the NAT table behind.
        do { try startGateway(now: startedAt) } catch {
            stopGateway()
            throw error
        }
    }

    static func loadIdentity(_ state: StateDirectory, _ log: DaemonLog) throws(DaemonFailure) -> NodeKeyPair {
        let loaded: IdentityFile.Loaded
        do { loaded = try IdentityFile.loadOrCreate(in: state) } catch { throw DaemonFailure("\(error)") }
        if loaded.origin == .created { log.info("created a new identity in \(state.path)") }
        return loaded.takeKeyPair()
    }

    deinit {
        scratch.deallocate()
        frame.deallocate()
        tunBuffer.deallocate()
    }

    /// Serves until SIGTERM or SIGINT, then shuts down cleanly. Returns the exit status.
    public func run() -> Int32 {
        while running {
            let pendingOutput = control?.flushAll() ?? false
            do {
                try loop.wait(until: min(node.nextDeadline, nextReconcile, probe?.nextSend ?? nextReconcile, topology.nextDeadline), maxWait: pendingOutput ? .milliseconds(20) : .seconds(1)) { event in
                    try self.handle(event)
                }
            } catch {
                log.error("event loop: \(error)")
                running = false
            }
            flushTransports()
        }
        shutdown()
        return 0
    }

    func handle(_ event: EventLoop.Event) throws {
        let now = MonotonicClock.now()
        switch event {
        case .readable(let token):
            switch token {
            case Self.tunToken: try readTun(now: now)
            case Self.monitorToken:
                do {
                    try monitor.receive { e in self.log.debug("netlink: \(e)") }
                } catch {
                    log.warning("netlink monitor: \(error); dumping the state again")
                    _ = try? monitor.synchronise { _ in }
                }
                reconcileInterfaces(now: now)
                checkUplink(now: now)
            case Self.probeToken:
                probe?.receive(now: now)
                checkUplink(now: now)
            case Self.metricsToken:
                for fd in metrics?.accept(now: now) ?? [] { try loop.watch(fd, token: Self.metricsClientTokenBase + UInt64(fd)) }
            case Self.metricsClientTokenBase...:
                if let m = metrics { m.service(Int32(truncatingIfNeeded: token - Self.metricsClientTokenBase)) { self.metricsText(m) } }
            case Self.nodeInfoToken:
                topology.receive(now: now) { nonce in self.nodeInfoPages(nonce: nonce) }
                finishTopology(now: now)
            case Self.controlToken:
                for fd in control?.acceptClients() ?? [] { try loop.watch(fd, token: Self.clientTokenBase + UInt64(fd)) }
            case Self.udpTokenBase..<Self.clientTokenBase:
                let id = InterfaceID(UInt32(truncatingIfNeeded: token - Self.udpTokenBase))
                do {
                    try readUDP(id, now: now)
                } catch {
                    // A socket that fails is closed; the next reconciliation opens a fresh one if the
                    // interface is still wanted.
                    log.warning("receive on interface \(id.rawValue): \(error); reopening")
                    closeTransport(id, now: now)
                    nextReconcile = now + .seconds(1)
                }
            default:
                let fd = Int32(truncatingIfNeeded: token - Self.clientTokenBase)
                // A client that is gone was closed by the server; closing removed it from epoll too.
                _ = control?.service(fd)
            }
        case .writable(let token):
            if token >= Self.udpTokenBase, token < Self.clientTokenBase { flushTransports() }
        case .signal(.terminate), .signal(.interrupt):
            log.info("stopping")
            running = false
        case .signal(.hangup):
            reload(now: now)
        case .deadlineReached:
            if now >= nextReconcile {
                reconcileInterfaces(now: now)
                sampleUplinkLoad(now: now)
                metrics?.expire(now: now)
                // Neighbours not heard from yet (their first request may have left before the route back existed).
                for n in node.neighbourSnapshots() where n.isUp && !topology.heard.contains(n.node) { topology.probeName(n.node) }
            }
            if let p = probe, now >= p.nextSend { checkUplink(now: now) }
            if now >= topology.nextDeadline { finishTopology(now: now) }
            if now >= node.nextDeadline { execute(node.tick(now: now)) }
        }
    }

    // MARK: - Data paths

    /// Up to 256 packets per readiness event, each read straight into `scratch` behind the inner type
    /// byte (no copy), sends flushed every 32.
    func readTun(now: Instant) throws {
        if tun.offload { return try readTunOffloaded(now: now) }
        let packetArea = UnsafeMutableRawBufferPointer(rebasing: scratch[1...])
        for i in 1...256 {
            guard let n = try tun.read(into: packetArea) else { break }
            if n > 0 {
                fastOutputs.removeAll(keepingCapacity: true)
                executeFast(node.forwardFast(inScratch: n, now: now, scratch: scratch, frame: frame, outputs: &fastOutputs))
            }
            if i % 32 == 0 { flushTransports() }
        }
    }

    /// Up to 64 reads of a TUN device with offload: each is a virtio_net_hdr and one packet (its
    /// checksum completed here when the kernel left it partial) or an IPv6 TCP super-segment of up to
    /// 64 KB, cut into segments of the TUN MTU (`TunOffload.segmentTCPv6`) that are forwarded one by
    /// one. Segments to one neighbour then leave as one segmented UDP send.
    func readTunOffloaded(now: Instant) throws {
        let area = UnsafeMutableRawBufferPointer(rebasing: scratch[1...])
        for i in 1...64 {
            guard let n = try tun.read(into: tunBuffer) else { break }
            if i % 8 == 0 { flushTransports() }
            guard n > TunOffload.headerLength else { continue }
            let header = TunOffload.Header(UnsafeRawBufferPointer(rebasing: tunBuffer[0..<TunOffload.headerLength]))
            let packet = UnsafeMutableRawBufferPointer(rebasing: tunBuffer[TunOffload.headerLength..<n])
            if header.gsoType == TunOffload.Header.gsoNone {
                if header.flags & TunOffload.Header.needsChecksum != 0 {
                    do { try TunOffload.completeChecksum(packet, start: Int(header.checksumStart), offset: Int(header.checksumOffset)) } catch {
                        tunOffloadDrops += 1
                        continue
                    }
                }
                guard packet.count <= area.count else { tunOffloadDrops += 1; continue }
                area.copyMemory(from: UnsafeRawBufferPointer(packet))
                fastOutputs.removeAll(keepingCapacity: true)
                executeFast(node.forwardFast(inScratch: packet.count, now: now, scratch: scratch, frame: frame, outputs: &fastOutputs))
                continue
            }
            do {
                try TunOffload.segmentTCPv6(UnsafeRawBufferPointer(packet), header: header, out: area) { length in
                    fastOutputs.removeAll(keepingCapacity: true)
                    executeFast(node.forwardFast(inScratch: length, now: now, scratch: scratch, frame: frame, outputs: &fastOutputs))
                }
            } catch {
                tunOffloadDrops += 1
            }
        }
    }

    func readUDP(_ interface: InterfaceID, now: Instant) throws {
        guard let t = transports[interface] else { return }
        // Joined segments go to the TUN device before this returns, also when a receive throws.
        defer { coalescer.flush(writeTun) }
        for _ in 0..<8 {
            let n = try t.receive { payload, peer in
                self.fastOutputs.removeAll(keepingCapacity: true)
                let r = self.node.receiveFast(payload, from: peer, now: now,
                                              scratch: self.scratch, frame: self.frame, outputs: &self.fastOutputs)
                self.executeFast(r)
            }
            if n < t.receiveBatchCount { break }
            flushTransports()
        }
    }

    /// One write to the TUN device (behind `header` on an offload device); refused writes are counted.
    func writeTun(_ packet: UnsafeRawBufferPointer, header: TunOffload.Header) {
        let ok = (try? tun.write(packet, header: tun.offload ? header : nil)) ?? false
        if !ok { tunWriteDrops += 1 }
    }

    /// Executes the outputs of a fast-path call, then its result (no allocation when there are no outputs).
    func executeFast(_ result: FastPathResult) {
        if !fastOutputs.isEmpty { execute(fastOutputs) }
        switch result {
        case .handled:
            break
        case let .send(count, to: peer):
            guard let t = transports[peer.interface] else { sendDrops += 1; return }
            let bytes = UnsafeRawBufferPointer(rebasing: frame[0..<count])
            // A full queue is sent first (a full queue is not a drop; the transport counts only real ones).
            if t.pendingCount >= t.batchSize { _ = try? t.flush() }
            if !t.enqueue(to: peer.address, payload: bytes) { sendDrops += 1 }
        case let .deliver(range):
            let packet = UnsafeRawBufferPointer(rebasing: scratch[range])
            if tun.offload {
                coalescer.add(packet, write: writeTun)
            } else {
                writeTun(packet, header: TunOffload.Header())
            }
        }
    }

    /// Sends what is queued; a socket whose buffer is full gets writable interest until it drains.
    func flushTransports() {
        for id in transports.keys.sorted() {
            guard let t = transports[id] else { continue }
            if t.pendingCount > 0 {
                do { _ = try t.flush() } catch { log.warning("send on \(t.interfaceName): \(error)") }
            }
            let blocked = t.pendingCount > 0
            if blocked != writableInterest.contains(id) {
                try? loop.setWritableInterest(t.fileDescriptor, token: Self.udpTokenBase + UInt64(id.rawValue), blocked)
                if blocked { writableInterest.insert(id) } else { writableInterest.remove(id) }
            }
        }
    }

    /// Executes a node's outputs in order.
    func execute(_ outputs: [NodeOutput]) {
        for o in outputs {
            switch o {
            case let .send(datagram, to: peer):
                enqueue(datagram, on: peer.interface, to: peer.address)
            case let .sendMulticast(datagram, interface):
                enqueue(datagram, on: interface, to: nil)
            case let .deliver(packet):
                coalescer.flush(writeTun)
                packet.withUnsafeBytes { writeTun($0, header: TunOffload.Header()) }
            case let .installRoute(entry):
                log.debug("route \(entry.prefix) via \(entry.nextHop) metric \(entry.metric)")
                installKernelRoute(entry.prefix)
            case let .removeRoute(prefix):
                log.debug("route \(prefix) gone")
                removeKernelRoute(prefix)
            case let .persistSeqnoCounter(v):
                do { try seqnoCounter.advance(to: v) } catch { log.error("cannot persist the routing seqno: \(error)") }
            case let .persistInitiationCounter(v):
                do { try initiationCounter.advance(to: v) } catch { log.error("cannot persist the initiation counter: \(error)") }
            case let .notify(n):
                if case .neighbourAdded(let k) = n, let id = node.neighbourSnapshots().first(where: { $0.key == k })?.node {
                    neighbourIDs[k] = (id, monitor.links[k.interface]?.name ?? "if\(k.interface.rawValue)")
                }
                defer { if case .neighbourLost(let k) = n { neighbourIDs[k] = nil } }
                if let control, control.hasMonitors { control.broadcast(ControlServer.encode(monitorEvent(n))) }
                switch n {
                case .neighbourAdded(let k): log.info("neighbour \(k) up")
                case .routeAdded(let p) where p.length == 128:
                    // A neighbour's mesh address became reachable: ask for its name (shown by `neighbours`).
                    // Runs for every new host route (hundreds at start-up in a large mesh): the neighbour
                    // list only, never a whole `snapshot()` (which copies and sorts every route).
                    if let n = node.neighbourSnapshots().first(where: { $0.node.meshAddress == p.address }), !topology.heard.contains(n.node) {
                        topology.probeName(n.node)
                    }
                    log.debug("\(n)")
                case .neighbourLost(let k): log.info("neighbour \(k) lost")
                case .selectedGatewayChanged(let g): selectedGatewayChanged(g)
                default: log.debug("\(n)")
                }
            }
        }
    }

    func enqueue(_ datagram: [UInt8], on interface: InterfaceID, to address: IPv6Address?) {
        guard let t = transports[interface] else { sendDrops += 1; return }
        if t.pendingCount >= t.batchSize { _ = try? t.flush() }
        let ok = datagram.withUnsafeBytes { bytes in t.enqueue(to: address, payload: bytes) }
        if !ok { sendDrops += 1 }
    }

    // MARK: - Kernel routes for prefixes outside the mesh /48

    /// Metric of the routes into the TUN device (NLM_F_REPLACE only ever replaces a route with the same
    /// prefix, metric and table, so a distinct metric never replaces a route someone else installed).
    static let kernelRouteMetric: UInt32 = 1070

    /// Whether a prefix another node announces gets a kernel route into the TUN device: IPv6 unique local
    /// (fc00::/7) prefixes outside the mesh /48 (attached client networks). The mesh /48 is already
    /// routed; global prefixes and default routes announced by nodes are not installed (a node must not be
    /// able to pull a host's global traffic into the mesh). Default routes into the TUN device come only
    /// from gateway selection (`selectedGatewayChanged`, docs/gateways.md).
    static func wantsKernelRoute(_ p: Prefix) -> Bool {
        guard !p.isIPv4, p.length >= 8, p.address.byte(0) & 0xFE == 0xFC else { return false }
        let insideMesh = p.length >= MeshPrefix.prefix.length && MeshPrefix.prefix.contains(p.address)
        return !insideMesh
    }

    func installKernelRoute(_ p: Prefix) {
        guard Self.wantsKernelRoute(p), !kernelRoutes.contains(p) else { return }
        do {
            try netlink.replaceRoute(KernelRoute(prefix: p, interface: tun.interface, metric: Self.kernelRouteMetric))
            kernelRoutes.insert(p)
        } catch {
            log.warning("cannot install the kernel route \(p) dev \(tun.name): \(error)")
        }
    }

    func removeKernelRoute(_ p: Prefix) {
        guard kernelRoutes.remove(p) != nil else { return }
        do {
            try netlink.deleteRoute(KernelRoute(prefix: p, interface: tun.interface, metric: Self.kernelRouteMetric))
        } catch {
            log.warning("cannot remove the kernel route \(p) dev \(tun.name): \(error)")
        }
    }

    // MARK: - Control

    func answer(_ request: ControlRequest, client: Int32) -> [UInt8] {
        let s = node.snapshot()
        switch request.command {
        case "status":
            let uptime = Int((MonotonicClock.now() - startedAt).seconds)
            return ControlServer.encode(ControlResponse(id: request.id, result: answers.status(s, uptimeSeconds: uptime, meshInterfaces: transports.count)))
        case "neighbours":
            return ControlServer.encode(ControlResponse(id: request.id, result: answers.neighbours(s, node: node, now: MonotonicClock.now())))
        case "routes":
            return ControlServer.encode(ControlResponse(id: request.id, result: answers.routes(s, node: node)))
        case "gateways":
            return ControlServer.encode(ControlResponse(id: request.id, result: answers.gateways(s)))
        case "doctor":
            return ControlServer.encode(ControlResponse(id: request.id, result: doctor()))
        case "counters":
            return ControlServer.encode(ControlResponse(id: request.id, result: counters()))
        case "topology":
            let now = MonotonicClock.now()
            guard let ticket = control?.ticket(client),
                  topology.start(ticket: ticket, requestID: request.id, me: ownNodeInfo(neighbours: s.neighbours), neighbours: s.neighbours.filter(\.isUp).map(\.node), now: now)
            else {
                return ControlServer.encode(ControlResponse<String>(id: request.id, error: ControlError(
                    code: "busy", message: "too many topology requests under way; try again in a few seconds")))
            }
            finishTopology(now: now)
            return []  // answered when the gathering ends (finishTopology)
        case "monitor":
            control?.subscribe(client)
            return ControlServer.encode(ControlResponse(id: request.id, result: [String: String]()))
        case "reload":
            // Who may connect is decided by the socket's mode (0660) and group.
            reload(now: MonotonicClock.now())
            return ControlServer.encode(ControlResponse(id: request.id, result: [String: String]()))
        case "drain", "undrain":
            execute(node.handle(.setDraining(request.command == "drain"), now: MonotonicClock.now()))
            return ControlServer.encode(ControlResponse(id: request.id, result: [String: String]()))
        default:
            return ControlServer.encode(ControlResponse<String>(id: request.id, error: ControlError(
                code: "unknown_command", message: "'\(request.command)' is not implemented by filamentd \(Self.version) yet")))
        }
    }

    /// This node's own entry of a topology gathering.
    func ownNodeInfo(neighbours: [NeighbourSnapshot]) -> TopologyService.Collected {
        var c = TopologyService.Collected()
        // A name others would refuse (control characters) is not announced at all.
        c.name = configuration.name.flatMap { NodeInfo.isValidName($0) ? $0 : nil }
        c.isGateway = configuration.gateway != nil
        c.pageCount = 1
        c.pages[0] = neighbours.filter(\.isUp).map { NodeInfoAnswer.Neighbour(node: $0.node, cost: UInt16(min($0.cost.rawValue, 0xFFFF))) }
        return c
    }

    /// This node's answer pages for a node-information request.
    func nodeInfoPages(nonce: UInt64) -> [NodeInfoAnswer] {
        let own = ownNodeInfo(neighbours: node.neighbourSnapshots())
        return NodeInfoAnswer.pages(nonce: nonce, node: node.nodeID, isGateway: own.isGateway, name: own.name, neighbours: own.pages[0] ?? [])
    }

    /// Sends the answers of gatherings that are complete or out of time.
    func finishTopology(now: Instant) {
        for (ticket, line) in topology.tick(now: now) { control?.reply(line, to: ticket) }
    }

    /// "via ADDRESS dev INTERFACE metric M" of the selected route to `p`, for monitor events.
    func routeDetail(_ p: Prefix) -> String? {
        guard let r = node.selectedRoute(to: p) else { return nil }
        let via = node.peer(of: r.nextHop).map { "\($0.address)" } ?? "?"
        return "via \(via) dev \(monitor.links[r.nextHop.interface]?.name ?? "if\(r.nextHop.interface.rawValue)") metric \(r.metric.rawValue)"
    }

    /// A live engine change as the control protocol's `MonitorEvent`.
    func monitorEvent(_ n: EngineNotification) -> MonitorEvent {
        // Neighbours by node id (router id until known), detail "INTERFACE" or "INTERFACE NAME".
        // The interface name as it was when the neighbour came up (a deleted link has none any more).
        func key(_ k: NeighbourKey) -> String { neighbourIDs[k]?.node.hex ?? "\(k.routerID)" }
        func name(_ k: NeighbourKey) -> String {
            let interface = neighbourIDs[k]?.interface ?? monitor.links[k.interface]?.name ?? "if\(k.interface.rawValue)"
            return neighbourIDs[k].flatMap { topology.name(of: $0.node) }.map { "\(interface) \($0)" } ?? interface
        }
        switch n {
        case .neighbourAdded(let k): return MonitorEvent(event: "add", kind: "neighbour", key: key(k), detail: name(k))
        case .neighbourChanged(let k): return MonitorEvent(event: "change", kind: "neighbour", key: key(k), detail: name(k))
        case .neighbourLost(let k): return MonitorEvent(event: "flush", kind: "neighbour", key: key(k), detail: name(k))
        case .routeAdded(let p): return MonitorEvent(event: "add", kind: "route", key: "\(p)", detail: routeDetail(p))
        case .routeChanged(let p): return MonitorEvent(event: "change", kind: "route", key: "\(p)", detail: routeDetail(p))
        case .routeLost(let p): return MonitorEvent(event: "flush", kind: "route", key: "\(p)", detail: nil)
        case .gatewayAdded(let g): return MonitorEvent(event: "add", kind: "gateway", key: g.hex, detail: nil)
        case .gatewayChanged(let g): return MonitorEvent(event: "change", kind: "gateway", key: g.hex, detail: nil)
        case .gatewayLost(let g): return MonitorEvent(event: "flush", kind: "gateway", key: g.hex, detail: nil)
        case .selectedGatewayChanged(let g): return MonitorEvent(event: "change", kind: "gateway", key: "selected", detail: g?.hex ?? "none")
        }
    }

    // MARK: - Shutdown

    func shutdown() {
        let now = MonotonicClock.now()
        // Retract our routes at the neighbours first, so they reroute now rather than after their hold time.
        execute(node.shutdown(now: now))
        flushTransports()
        for id in transports.keys.sorted() { closeTransport(id, now: now) }
        control?.shutdown()
        control = nil
        stopGateway()
        tun.close()  // its address and the mesh route go with it
        log.info("stopped")
    }
}
