import CFilamentShim
import FilamentCore
import Glibc

/// Filament frames straight on Ethernet, for links without IPv6: an AF_PACKET (SOCK_DGRAM) socket
/// bound to one interface and EtherType 0x88B5 (IEEE 802 "local experimental"). Hellos go to the
/// Filament group MAC (or broadcast), session traffic to a neighbour's unicast MAC. Batched
/// (recvmmsg/sendmmsg) through preallocated buffers, like `UDPTransport`.
///
/// Every frame's payload starts with its length (2 bytes, big-endian): Ethernet pads payloads shorter
/// than 46 bytes, and the receiver must hand on exactly what was sent (a padded transport frame would
/// fail its AEAD tag). `payloadOverhead` bytes of the link MTU go to it. Decision 0512.
/// See docs/decisions/0502-raw-ethernet-ethertype-and-group.md.
///
/// Not thread-safe: one thread owns it.
public final class RawEthernetTransport {
    public struct Configuration: Sendable {
        /// IEEE 802 local experimental EtherType 1.
        public static let defaultEtherType: UInt16 = 0x88B5
        /// 03:46:69:6c:61:6d — group bit and locally-administered bit set, then "Filam".
        public static let defaultGroup = MACAddress(rawValue: 0x0346_696C_616D)

        public var etherType: UInt16 = Configuration.defaultEtherType
        /// Where hellos go; `MACAddress.broadcast` also works (and needs no membership).
        public var group: MACAddress = Configuration.defaultGroup
        public var batchSize: Int = 32
        /// Largest frame payload accepted (the interface MTU bounds what can be sent).
        public var bufferSize: Int = 2048

        public init() {}
    }

    /// One received frame. `payload` (the bytes after the Ethernet header) is valid only inside the
    /// `receive` callback.
    public struct Frame {
        public var source: MACAddress
        public var interface: InterfaceID
        /// Sent to a group or broadcast address rather than to us.
        public var isMulticast: Bool
        public var payload: UnsafeRawBufferPointer
    }

    public struct Statistics: Equatable, Sendable {
        public var received = 0
        public var sent = 0
        public var droppedTruncated = 0
        /// Frames not addressed to us, to our group or broadcast (seen in promiscuous mode), or malformed.
        public var droppedOther = 0
        public var droppedSendError = 0
        public var droppedQueueFull = 0
    }

    /// Bytes of the frame payload before the caller's payload (the length prefix).
    public static let payloadOverhead = 2

    public let interfaceName: String
    public let interface: InterfaceID
    /// This interface's own MAC address.
    public let address: MACAddress
    public let configuration: Configuration
    public private(set) var fileDescriptor: Int32
    public private(set) var statistics = Statistics()

    private let receiveBatch: MessageBatch
    private let sendBatch: MessageBatch
    private var queue = SendQueue()

    /// Opens the socket on `interfaceName` (calling thread's namespace) and joins the group MAC.
    public init(interfaceName: String, configuration: Configuration = Configuration()) throws(SystemError) {
        self.interfaceName = interfaceName
        self.configuration = configuration
        interface = try NetworkInterface.index(named: interfaceName)
        address = try NetworkInterface.macAddress(named: interfaceName)
        receiveBatch = MessageBatch(count: configuration.batchSize, bufferSize: configuration.bufferSize)
        sendBatch = MessageBatch(count: configuration.batchSize, bufferSize: configuration.bufferSize)
        let index = interface.rawValue, type = configuration.etherType
        let fd = Int32(try Syscall.checkReturningErrno("socket(AF_PACKET, \(interfaceName))", {
            Int(filament_packet_open(index, type))
        }))
        fileDescriptor = fd
        if configuration.group != .broadcast {
            var mac = configuration.group.bytes
            do {
                _ = try Syscall.checkReturningErrno("PACKET_ADD_MEMBERSHIP(\(configuration.group)%\(interfaceName))", {
                    Int(filament_packet_join(fd, index, &mac))
                })
            } catch {
                Glibc.close(fd)
                fileDescriptor = -1
                throw error
            }
        }
    }

    deinit { close() }

    public func close() {
        if fileDescriptor >= 0 { Glibc.close(fileDescriptor) }
        fileDescriptor = -1
    }

    /// Receives one batch and calls `handle` per accepted frame. Returns frames read (0: drained).
    @discardableResult
    public func receive(_ handle: (Frame) throws -> Void) throws -> Int {
        let n = try receiveBatch.receive(fd: fileDescriptor, operation: "recvmmsg(packet \(interfaceName))")
        var info = filament_ll_info()
        for i in 0..<n {
            if receiveBatch.truncated(i) { statistics.droppedTruncated += 1; continue }
            guard filament_batch_ll_info(receiveBatch.raw, UInt32(i), &info) == 0, info.address_length == 6,
                  info.protocol == configuration.etherType else {
                statistics.droppedOther += 1
                continue
            }
            // PACKET_HOST 0, PACKET_BROADCAST 1, PACKET_MULTICAST 2; others (OTHERHOST, OUTGOING) are not for us.
            guard info.packet_type <= 2 else { statistics.droppedOther += 1; continue }
            let source = withUnsafeBytes(of: info.source) { MACAddress(loading: $0.baseAddress!) }
            let raw = receiveBatch.received(i)
            guard raw.count >= Self.payloadOverhead else { statistics.droppedOther += 1; continue }
            let length = Int(raw[0]) << 8 | Int(raw[1])
            guard length <= raw.count - Self.payloadOverhead else { statistics.droppedOther += 1; continue }
            statistics.received += 1
            try handle(Frame(source: source, interface: interface, isMulticast: info.packet_type != 0,
                             payload: UnsafeRawBufferPointer(rebasing: raw[Self.payloadOverhead..<(Self.payloadOverhead + length)])))
        }
        return n
    }

    public var pendingCount: Int { queue.pending }

    /// Queues a frame to `destination`; `write` fills the payload buffer (`bufferSize - 2` bytes)
    /// and returns its length. False (and a counted drop) when the queue is full.
    @discardableResult
    public func enqueue(to destination: MACAddress, _ write: (UnsafeMutableRawBufferPointer) -> Int) -> Bool {
        queue.makeRoom(in: sendBatch)
        guard queue.end < sendBatch.count else { statistics.droppedQueueFull += 1; return false }
        let slot = queue.end
        let buffer = sendBatch.buffer(slot)
        let payload = write(UnsafeMutableRawBufferPointer(rebasing: buffer[Self.payloadOverhead...]))
        precondition(payload >= 0 && payload <= 0xFFFF && payload + Self.payloadOverhead <= sendBatch.bufferSize,
                     "frame length \(payload) out of range")
        buffer[0] = UInt8(truncatingIfNeeded: payload >> 8)
        buffer[1] = UInt8(truncatingIfNeeded: payload)
        let length = payload + Self.payloadOverhead
        var mac: UInt64 = 0
        withUnsafeMutableBytes(of: &mac) { raw in
            let p = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            destination.store(to: p)
            filament_batch_set_ll(sendBatch.raw, UInt32(slot), p, interface.rawValue, configuration.etherType, length)
        }
        queue.end += 1
        return true
    }

    /// Queues a copy of `payload` to `destination`.
    @discardableResult
    public func enqueue(to destination: MACAddress, payload: UnsafeRawBufferPointer) -> Bool {
        guard payload.count + Self.payloadOverhead <= sendBatch.bufferSize else { statistics.droppedSendError += 1; return false }
        return enqueue(to: destination) { out in
            out.copyMemory(from: payload)
            return payload.count
        }
    }

    /// Queues a copy of `payload` to the group MAC (hellos).
    @discardableResult
    public func enqueueMulticast(payload: UnsafeRawBufferPointer) -> Bool {
        enqueue(to: configuration.group, payload: payload)
    }

    /// Sends what is queued; see `UDPTransport.flush()`.
    @discardableResult
    public func flush() throws(SystemError) -> Int {
        var sent = 0
        var rounds = 0
        while queue.pending > 0 && rounds < 4 * sendBatch.count {
            rounds += 1
            let batch = sendBatch.raw, fd = fileDescriptor, start = UInt32(queue.start), n = UInt32(queue.pending)
            var refused: Int32 = 0
            let outcome = try Syscall.runReturningErrno("sendmmsg(packet \(interfaceName))", {
                let r = filament_batch_send(fd, batch, start, n)
                // Errors that concern the first datagram only: drop it and go on with the rest.
                switch -r {
                case ENETDOWN, ENXIO, EMSGSIZE, ENOBUFS:
                    refused = -r
                    return 0
                default:
                    return Int(r)
                }
            })
            if refused != 0 {
                statistics.droppedSendError += 1
                queue.start += 1
                continue
            }
            switch outcome {
            case .done(let k):
                sent += k
                queue.start += k
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
