import FilamentCore
import FilamentLinux
import FilamentNode

/// One mesh interface's socket: link-local UDP (the default) or raw Ethernet (EtherType 0x88B5,
/// `transport: ethernet`). An enum rather than a protocol existential, so the per-packet calls are a
/// switch and direct calls.
///
/// Neighbours on a raw-Ethernet interface are named (`NodePeer.address`) by the modified EUI-64
/// link-local address of their MAC (`MACAddress.linkLocalAddress`), so the node, the link layer and the
/// engine see the same kind of peer on both transports; sending turns the address back into the MAC.
enum MeshTransport {
    case udp(UDPTransport)
    case ethernet(RawEthernetTransport)

    /// Bytes a raw-Ethernet frame carries less than a UDP datagram of the same link MTU needs: the
    /// outer IPv6 (40) and UDP (8) headers, minus the 2-byte length prefix. The node is told
    /// `link MTU + 46` for an Ethernet link, so its check (packet + 81 ≤ MTU) becomes
    /// packet + 35 ≤ link MTU.
    static let ethernetHeaderSaving = 48 - RawEthernetTransport.payloadOverhead

    var fileDescriptor: Int32 {
        switch self {
        case .udp(let t): t.fileDescriptor
        case .ethernet(let t): t.fileDescriptor
        }
    }

    var interfaceName: String {
        switch self {
        case .udp(let t): t.interfaceName
        case .ethernet(let t): t.interfaceName
        }
    }

    var batchSize: Int {
        switch self {
        case .udp(let t): t.configuration.batchSize
        case .ethernet(let t): t.configuration.batchSize
        }
    }

    /// Datagram slots per receive call (a receive returning fewer means the socket is drained).
    var receiveBatchCount: Int {
        switch self {
        case .udp(let t): t.receiveBatchCount
        case .ethernet(let t): t.configuration.batchSize
        }
    }

    var pendingCount: Int {
        switch self {
        case .udp(let t): t.pendingCount
        case .ethernet(let t): t.pendingCount
        }
    }

    var isEthernet: Bool {
        if case .ethernet = self { return true }
        return false
    }

    /// One batch; `handle` gets each accepted payload and its sender. Returns datagrams read (0: drained).
    @inline(__always)
    func receive(_ handle: (UnsafeRawBufferPointer, NodePeer) -> Void) throws -> Int {
        switch self {
        case .udp(let t):
            return try t.receive { d in handle(d.payload, NodePeer(interface: d.interface, address: d.source)) }
        case .ethernet(let t):
            return try t.receive { f in
                handle(f.payload, NodePeer(interface: f.interface, address: f.source.linkLocalAddress))
            }
        }
    }

    /// Queues a copy of `payload` to a neighbour (`nil`: the multicast group). False when the queue
    /// is full, or (Ethernet) when the address names no MAC.
    @inline(__always)
    func enqueue(to address: IPv6Address?, payload: UnsafeRawBufferPointer) -> Bool {
        switch self {
        case .udp(let t):
            guard let address else { return t.enqueueMulticast(payload: payload) }
            return t.enqueue(to: address, payload: payload)
        case .ethernet(let t):
            guard let address else { return t.enqueueMulticast(payload: payload) }
            guard let mac = MACAddress(linkLocal: address) else { return false }
            return t.enqueue(to: mac, payload: payload)
        }
    }

    @discardableResult
    func flush() throws(SystemError) -> Int {
        switch self {
        case .udp(let t): try t.flush()
        case .ethernet(let t): try t.flush()
        }
    }

    func close() {
        switch self {
        case .udp(let t): t.close()
        case .ethernet(let t): t.close()
        }
    }

    /// The counter prefix (`udp.IF` or `ethernet.IF`) and the statistics value (read by `Mirror`).
    var statistics: (prefix: String, value: Any) {
        switch self {
        case .udp(let t): ("udp.\(t.interfaceName)", t.statistics)
        case .ethernet(let t): ("ethernet.\(t.interfaceName)", t.statistics)
        }
    }
}
