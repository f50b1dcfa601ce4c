import CFilamentShim
import FilamentCore
import Glibc

/// Link-local IPv6 UDP on one interface: a socket bound to `[::]:port` on that interface only
/// (SO_BINDTODEVICE), joined to the Filament multicast group, receiving and sending in batches
/// (recvmmsg/sendmmsg) through preallocated buffers — no allocation per datagram.
///
/// Filters (RFC 5082-style, counted in `statistics`, never a crash): the source must be link-local
/// (fe80::/10); unicast must arrive with hop limit 255 (we send unicast with 255, so anything that
/// crossed a router is dropped); multicast must be sent to a link-scope group (ff02::/16); the
/// arrival interface (IPV6_PKTINFO) must be ours; truncated datagrams are dropped.
///
/// Tentative addresses: binding to `::` does not need the interface's link-local address. While that
/// address is still tentative (DAD), sending fails with EADDRNOTAVAIL; the affected datagrams are
/// dropped and counted in `statistics.droppedAddressNotReady` (hellos are periodic, the next one goes
/// out once DAD is over). `NetlinkMonitor` reports the tentative flag for callers that want to wait.
///
/// Not thread-safe: one thread owns it (the event loop's).
public final class UDPTransport {
    /// Choices fixed in docs/decisions/0501-udp-port-and-multicast-group.md.
    public struct Configuration: Sendable {
        /// 6717/udp: not in /etc/services, below Linux's ephemeral range (32768–60999), not Babel's 6696.
        public static let defaultPort: UInt16 = 6717
        /// ff02::114, IANA's link-local group for "any private experiment".
        public static let defaultGroup = IPv6Address(high: 0xFF02_0000_0000_0000, low: 0x114)

        public var port: UInt16 = Configuration.defaultPort
        public var group: IPv6Address = Configuration.defaultGroup
        /// Datagrams per recvmmsg/sendmmsg call.
        public var batchSize: Int = 32
        /// Largest datagram accepted; larger ones are dropped as truncated.
        public var bufferSize: Int = 2048
        /// Drop unicast whose hop limit is not 255 and sources that are not link-local.
        public var linkLocalOnly: Bool = true
        /// Kernel receive buffer (SO_RCVBUF) in bytes; 0 keeps the default. With CAP_NET_ADMIN it is
        /// forced past `net.core.rmem_max` (SO_RCVBUFFORCE); without, the kernel caps it there.
        public var receiveBufferBytes: Int = 1 << 20
        /// Kernel send buffer (SO_SNDBUF, forced like the receive buffer); 0 keeps the default.
        public var sendBufferBytes: Int = 1 << 20
        /// UDP segmentation offload: consecutive queued datagrams to one neighbour that have one size
        /// of at most this many bytes (the link MTU minus the IPv6 and UDP headers, so every datagram
        /// still fits the link) leave in one `sendmmsg` message with `UDP_SEGMENT`. 0: off.
        /// Turned off by itself when the kernel or the device refuses it (`statistics.offloadRefused`).
        public var segmentationMaxSize: Int = 0
        /// UDP generic receive offload (`UDP_GRO`): one receive may hold many datagrams of one sender
        /// (each still sealed and opened on its own). Receive slots grow to 64 KB, `receiveOffloadSlots` of them.
        public var receiveOffload: Bool = false
        public var receiveOffloadSlots: Int = 16

        public init() {}
    }

    /// One received datagram. `payload` is valid only inside the `receive` callback.
    public struct Datagram {
        public var source: IPv6Address
        public var sourcePort: UInt16
        /// The address it was sent to (from IPV6_PKTINFO): our link-local address or the group.
        public var destination: IPv6Address
        /// The arrival interface (from IPV6_PKTINFO).
        public var interface: InterfaceID
        public var hopLimit: Int
        public var isMulticast: Bool { destination.byte(0) == 0xFF }
        public var payload: UnsafeRawBufferPointer
    }

    /// Counters since creation.
    public struct Statistics: Equatable, Sendable {
        public var received = 0
        public var sent = 0
        public var droppedTruncated = 0
        public var droppedWrongInterface = 0
        public var droppedNotLinkLocal = 0
        public var droppedHopLimit = 0
        /// Sends refused because our link-local address is still tentative (EADDRNOTAVAIL).
        public var droppedAddressNotReady = 0
        /// Sends refused for other per-datagram reasons (ENETDOWN, ENETUNREACH, EHOSTUNREACH, EMSGSIZE...).
        public var droppedSendError = 0
        /// Datagrams that did not fit the send queue.
        public var droppedQueueFull = 0
        /// `sendmmsg` messages that carried more than one datagram (UDP_SEGMENT).
        public var sentSegmented = 0
        /// Receives that held more than one datagram (UDP_GRO).
        public var receivedCoalesced = 0
        /// 1 when the kernel refused a segmented send (segmentation was turned off for this socket).
        public var offloadRefused = 0
    }

    public let interfaceName: String
    public let interface: InterfaceID
    public let configuration: Configuration
    /// For `EventLoop.watch`. Owned by the transport; invalid after `close()`.
    public private(set) var fileDescriptor: Int32
    public private(set) var statistics = Statistics()

    private let receiveBatch: MessageBatch
    private let sendBatch: MessageBatch
    private var queue = SendQueue()
    /// Largest datagram sent with UDP_SEGMENT (0: not, or no longer, used).
    private var segmentationMaxSize: Int
    /// Whether UDP_GRO is on (the kernel accepted it).
    public private(set) var receiveOffload = false

    /// Datagrams per `receive` batch (fewer, larger slots with `receiveOffload`).
    public var receiveBatchCount: Int { receiveBatch.count }

    /// Opens the socket on interface `interfaceName` (in the calling thread's network namespace).
    public init(interfaceName: String, configuration: Configuration = Configuration()) throws(SystemError) {
        self.interfaceName = interfaceName
        self.configuration = configuration
        interface = try NetworkInterface.index(named: interfaceName)
        receiveBatch = configuration.receiveOffload
            ? MessageBatch(count: max(1, min(configuration.batchSize, configuration.receiveOffloadSlots)), bufferSize: 65_536)
            : MessageBatch(count: configuration.batchSize, bufferSize: configuration.bufferSize)
        sendBatch = MessageBatch(count: configuration.batchSize, bufferSize: configuration.bufferSize)
        segmentationMaxSize = min(configuration.segmentationMaxSize, configuration.bufferSize)
        let fd = Int32(try Syscall.check("socket(AF_INET6, SOCK_DGRAM)", {
            Int(socket(AF_INET6, Int32(SOCK_DGRAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0))
        }))
        fileDescriptor = fd
        do {
            try configure(fd)
        } catch {
            Glibc.close(fd)
            fileDescriptor = -1
            throw error
        }
    }

    deinit { close() }

    /// Closes the socket (idempotent).
    public func close() {
        if fileDescriptor >= 0 { Glibc.close(fileDescriptor) }
        fileDescriptor = -1
    }

    private func configure(_ fd: Int32) throws(SystemError) {
        let name = interfaceName
        try setOption(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, 1, "IPV6_V6ONLY")
        try setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR")
        _ = try Syscall.check("SO_BINDTODEVICE(\(name))", {
            Int(setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, name, socklen_t(name.utf8.count)))
        })
        try setOption(fd, Int32(IPPROTO_IPV6), IPV6_RECVPKTINFO, 1, "IPV6_RECVPKTINFO")
        try setOption(fd, Int32(IPPROTO_IPV6), IPV6_RECVHOPLIMIT, 1, "IPV6_RECVHOPLIMIT")
        try setOption(fd, Int32(IPPROTO_IPV6), IPV6_MULTICAST_IF, Int32(bitPattern: interface.rawValue), "IPV6_MULTICAST_IF")
        try setOption(fd, Int32(IPPROTO_IPV6), IPV6_MULTICAST_LOOP, 0, "IPV6_MULTICAST_LOOP")
        try setOption(fd, Int32(IPPROTO_IPV6), IPV6_MULTICAST_HOPS, 1, "IPV6_MULTICAST_HOPS")
        try setOption(fd, Int32(IPPROTO_IPV6), IPV6_UNICAST_HOPS, 255, "IPV6_UNICAST_HOPS")
        if configuration.receiveBufferBytes > 0 {
            try setBuffer(fd, force: SO_RCVBUFFORCE, plain: SO_RCVBUF, configuration.receiveBufferBytes, "SO_RCVBUF")
        }
        if configuration.sendBufferBytes > 0 {
            try setBuffer(fd, force: SO_SNDBUFFORCE, plain: SO_SNDBUF, configuration.sendBufferBytes, "SO_SNDBUF")
        }
        // A kernel without UDP_GRO (before 5.0) hands every datagram alone, which is fine.
        receiveOffload = configuration.receiveOffload && filament_udp_enable_gro(fd) == 0
        var sa = sockaddr_in6()
        sa.sin6_family = sa_family_t(AF_INET6)
        sa.sin6_port = configuration.port.bigEndian
        _ = try Syscall.check("bind([::]:\(configuration.port)%\(name))", {
            withUnsafePointer(to: &sa) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Int(bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)))
                }
            }
        })
        var mreq = ipv6_mreq()
        mreq.ipv6mr_interface = interface.rawValue
        withUnsafeMutableBytes(of: &mreq.ipv6mr_multiaddr) { raw in
            for i in 0..<16 { raw[i] = configuration.group.byte(i) }
        }
        _ = try Syscall.check("IPV6_JOIN_GROUP(\(configuration.group)%\(name))", {
            Int(setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_ADD_MEMBERSHIP, &mreq, socklen_t(MemoryLayout<ipv6_mreq>.size)))
        })
    }

    /// The *FORCE option first (needs CAP_NET_ADMIN, ignores the sysctl maximum), else the plain one.
    private func setBuffer(_ fd: Int32, force: Int32, plain: Int32, _ bytes: Int, _ what: String) throws(SystemError) {
        var v = Int32(clamping: bytes)
        if setsockopt(fd, SOL_SOCKET, force, &v, socklen_t(MemoryLayout<Int32>.size)) == 0 { return }
        try setOption(fd, SOL_SOCKET, plain, v, what)
    }

    private func setOption(_ fd: Int32, _ level: Int32, _ option: Int32, _ value: Int32, _ what: String) throws(SystemError) {
        var v = value
        _ = try Syscall.check("setsockopt(\(what), \(interfaceName))", {
            Int(setsockopt(fd, level, option, &v, socklen_t(MemoryLayout<Int32>.size)))
        })
    }

    // MARK: receiving

    /// Receives one batch (one recvmmsg, up to `batchSize` datagrams) and calls `handle` for each
    /// accepted datagram. Returns the number of datagrams read from the socket (including dropped
    /// ones); 0 means the socket is drained. Call again while it returns `batchSize`.
    @discardableResult
    public func receive(_ handle: (Datagram) throws -> Void) throws -> Int {
        let n = try receiveBatch.receive(fd: fileDescriptor, operation: "recvmmsg(udp6 \(interfaceName))")
        var info = filament_udp6_info()
        for i in 0..<n {
            if receiveBatch.truncated(i) { statistics.droppedTruncated += 1; continue }
            guard filament_batch_udp6_info(receiveBatch.raw, UInt32(i), &info) == 0 else {
                statistics.droppedNotLinkLocal += 1
                continue
            }
            let source = withUnsafeBytes(of: info.source) { Self.address($0) }
            let destination = withUnsafeBytes(of: info.destination) { Self.address($0) }
            if info.has_pktinfo == 0 || info.ifindex != interface.rawValue {
                statistics.droppedWrongInterface += 1
                continue
            }
            let isMulticast = destination.byte(0) == 0xFF
            if configuration.linkLocalOnly {
                guard source.high >> 54 == 0x3FA else { statistics.droppedNotLinkLocal += 1; continue }
                if isMulticast {
                    guard destination.byte(1) & 0x0F == 0x02 else { statistics.droppedNotLinkLocal += 1; continue }
                } else if info.hop_limit != 255 {
                    statistics.droppedHopLimit += 1
                    continue
                }
            }
            let payload = receiveBatch.received(i)
            let segment = Int(info.segment_size)
            guard segment > 0, segment < payload.count else {
                statistics.received += 1
                try handle(Datagram(source: source, sourcePort: info.source_port, destination: destination,
                                    interface: interface, hopLimit: Int(info.hop_limit), payload: payload))
                continue
            }
            // Several datagrams of one sender (UDP_GRO): each `segment` bytes, the last maybe shorter.
            statistics.receivedCoalesced += 1
            var offset = 0
            while offset < payload.count {
                let end = min(offset + segment, payload.count)
                statistics.received += 1
                try handle(Datagram(source: source, sourcePort: info.source_port, destination: destination,
                                    interface: interface, hopLimit: Int(info.hop_limit),
                                    payload: UnsafeRawBufferPointer(rebasing: payload[offset..<end])))
                offset = end
            }
        }
        return n
    }

    /// 16 bytes (network order) as an address: two unaligned big-endian loads. `IPv6Address(bytes:)`
    /// is generic over collections and cost ~18 % of the daemon's CPU per datagram (perf, decision 0510).
    @inline(__always)
    static func address(_ raw: UnsafeRawBufferPointer) -> IPv6Address {
        IPv6Address(high: UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
                    low: UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
    }

    // MARK: sending

    /// Datagrams queued and not yet sent.
    public var pendingCount: Int { queue.pending }

    /// Queues a datagram to `destination` (a link-local unicast address or a group; the scope is this
    /// interface) and `port` (default: the configured port). `write` fills the slot's buffer
    /// (`bufferSize` bytes) and returns the length used. Returns false (and counts a drop) when the
    /// queue is full (`batchSize` datagrams waiting): `flush()` first.
    @discardableResult
    public func enqueue(to destination: IPv6Address, port: UInt16? = nil,
                        _ write: (UnsafeMutableRawBufferPointer) -> Int) -> Bool {
        queue.makeRoom(in: sendBatch)
        guard queue.end < sendBatch.count else { statistics.droppedQueueFull += 1; return false }
        let slot = queue.end
        let length = write(sendBatch.buffer(slot))
        precondition(length >= 0 && length <= sendBatch.bufferSize, "datagram length \(length) out of range")
        var bytes = (UInt64(0), UInt64(0))
        withUnsafeMutableBytes(of: &bytes) { raw in
            for i in 0..<16 { raw[i] = destination.byte(i) }
            filament_batch_set_udp6(sendBatch.raw, UInt32(slot), raw.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                    interface.rawValue, port ?? configuration.port, 0, length)
        }
        queue.end += 1
        return true
    }

    /// Queues a copy of `payload` to `destination`. See `enqueue(to:port:_:)`.
    @discardableResult
    public func enqueue(to destination: IPv6Address, port: UInt16? = nil, payload: UnsafeRawBufferPointer) -> Bool {
        guard payload.count <= sendBatch.bufferSize else { statistics.droppedSendError += 1; return false }
        return enqueue(to: destination, port: port) { out in
            out.copyMemory(from: payload)
            return payload.count
        }
    }

    /// Queues a copy of `payload` to the multicast group.
    @discardableResult
    public func enqueueMulticast(payload: UnsafeRawBufferPointer) -> Bool {
        enqueue(to: configuration.group, payload: payload)
    }

    /// Sends what is queued (sendmmsg, repeated while it makes progress). Datagrams the kernel
    /// refuses individually are dropped and counted; when the socket buffer is full the rest stay
    /// queued for the next flush. Returns the number sent now.
    @discardableResult
    public func flush() throws(SystemError) -> Int {
        var sent = 0
        var rounds = 0
        while queue.pending > 0 && rounds < 4 * sendBatch.count {
            rounds += 1
            let batch = sendBatch.raw, fd = fileDescriptor, start = UInt32(queue.start), n = UInt32(queue.pending)
            var refused: Int32 = 0
            let segmentation = UInt32(segmentationMaxSize)
            var firstRun: UInt32 = 1, segmented: UInt32 = 0
            let outcome = try Syscall.runReturningErrno("sendmmsg(udp6 \(interfaceName))", {
                let r = segmentation > 0 ? filament_batch_send_gso(fd, batch, start, n, segmentation, &firstRun, &segmented)
                                         : filament_batch_send(fd, batch, start, n)
                if r < 0, firstRun > 1, [EIO, EINVAL, EMSGSIZE, EOPNOTSUPP, ENOMEM].contains(-r) {
                    // The device or kernel cannot segment: send datagram by datagram from now on.
                    refused = -1
                    return 0
                }
                // Errors that concern the first datagram only: drop it and go on with the rest.
                switch -r {
                case ENETDOWN, ENETUNREACH, EHOSTUNREACH, EMSGSIZE, ENXIO, ENOBUFS, EPERM, EACCES, ECONNREFUSED, EADDRNOTAVAIL:
                    refused = -r
                    return 0
                default:
                    return Int(r)
                }
            })
            if refused == -1 {
                segmentationMaxSize = 0
                statistics.offloadRefused = 1
                continue
            }
            if refused != 0 {
                if refused == EADDRNOTAVAIL { statistics.droppedAddressNotReady += 1 } else { statistics.droppedSendError += 1 }
                queue.start += 1
                continue
            }
            switch outcome {
            case .done(let k):
                sent += k
                queue.start += k
                statistics.sentSegmented += Int(segmented)
            case .wouldBlock:
                statistics.sent += sent
                return sent
            }
        }
        statistics.sent += sent
        if queue.pending == 0 { queue = SendQueue() }
        return sent
    }
}
