import CFilamentShim
import FilamentCore
import Glibc

/// A TUN interface (IFF_TUN | IFF_NO_PI: every read or write is one bare IPv4/IPv6 packet), opened
/// non-blocking. Reads go into preallocated buffers, up to `batchSize` packets per `receive`.
/// Address, MTU and up/down are set through `Netlink` (`setLink`, `addAddress`).
///
/// Not thread-safe: one thread owns it.
public final class TunDevice {
    /// The kernel's name for the interface (e.g. `fil0`).
    public let name: String
    public let interface: InterfaceID
    /// For `EventLoop.watch`. Invalid after `close()`.
    public private(set) var fileDescriptor: Int32
    public let batchSize: Int
    /// Largest packet read; a packet that fills the whole buffer is counted as truncated and dropped.
    public let bufferSize: Int

    public struct Statistics: Equatable, Sendable {
        public var received = 0
        public var sent = 0
        public var droppedTruncated = 0
        /// Writes refused because the device queue was full (EAGAIN) or the interface was down.
        public var droppedWrite = 0
    }
    public private(set) var statistics = Statistics()

    /// The batch slots of `receive(_:)`, allocated on first use (`read(into:)` needs none).
    private var buffers: UnsafeMutableRawBufferPointer?
    /// Opened with IFF_VNET_HDR and TSO6/checksum offload: reads and writes carry a
    /// `TunOffload.Header` first (decision 0803). `receive(_:)` is not available then.
    public let offload: Bool

    /// Creates (or attaches to) TUN interface `name` in the calling thread's network namespace.
    /// Needs CAP_NET_ADMIN.
    public init(name: String = "fil0", batchSize: Int = 32, bufferSize: Int = 4096, offload: Bool = false) throws(SystemError) {
        precondition(name.utf8.count < Int(filament_IFNAMSIZ), "interface name too long")
        precondition(batchSize > 0 && bufferSize >= 1280 && bufferSize <= 65_536, "TUN buffer sizes out of range")
        var actual = [CChar](repeating: 0, count: Int(filament_IFNAMSIZ) + 1)
        let fd = Int32(try Syscall.checkReturningErrno("open(/dev/net/tun, \(name))", {
            Int(filament_tun_open(name, &actual, offload ? 1 : 0))
        }))
        fileDescriptor = fd
        self.name = String(decoding: actual.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        self.batchSize = batchSize
        self.bufferSize = bufferSize
        self.offload = offload
        do {
            interface = try NetworkInterface.index(named: self.name)
        } catch {
            Glibc.close(fd)
            throw error
        }
    }

    deinit {
        close()
        buffers?.deallocate()
    }

    /// Closes the descriptor; a non-persistent TUN interface disappears with it.
    public func close() {
        if fileDescriptor >= 0 { Glibc.close(fileDescriptor) }
        fileDescriptor = -1
    }

    /// Reads up to `batchSize` packets (stopping when the device is drained) and calls `handle` for
    /// each. `packet` is valid only inside the callback. Returns the number of packets read.
    @discardableResult
    public func receive(_ handle: (_ packet: UnsafeRawBufferPointer) throws -> Void) throws -> Int {
        precondition(!offload, "receive(_:) reads plain packets; an offload device is read with read(into:)")
        var count = 0
        let fd = fileDescriptor, size = bufferSize
        let slots = buffers ?? .allocate(byteCount: batchSize * bufferSize, alignment: 16)
        buffers = slots
        for i in 0..<batchSize {
            let slot = slots.baseAddress! + i * size
            let outcome = try Syscall.run("read(tun \(name))", { Glibc.read(fd, slot, size) })
            guard case .done(let n) = outcome else { break }
            count += 1
            if n == size { statistics.droppedTruncated += 1; continue }
            statistics.received += 1
            try handle(UnsafeRawBufferPointer(start: slot, count: n))
        }
        return count
    }

    /// Reads one packet straight into `buffer` (no copy through the batch slots). Returns its length,
    /// or nil when none is waiting. A packet that fills the whole buffer may have been cut: it is
    /// counted as truncated and reported as 0 (skip it).
    @inline(__always)
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> Int? {
        let fd = fileDescriptor
        guard case .done(let n) = try Syscall.run("read(tun \(name))", { Glibc.read(fd, buffer.baseAddress, buffer.count) }) else {
            return nil
        }
        if n >= buffer.count { statistics.droppedTruncated += 1; return 0 }
        statistics.received += 1
        return n
    }

    /// Writes one packet for the kernel to receive (on an offload device behind an all-zero
    /// `virtio_net_hdr`: a plain packet). Returns false (a counted drop) when the device would block
    /// or is down; throws on other errors.
    @discardableResult
    public func write(_ packet: UnsafeRawBufferPointer) throws(SystemError) -> Bool {
        try write(packet, header: offload ? TunOffload.Header() : nil)
    }

    /// Writes one packet behind `header` (an offload device only; nil: no header).
    @discardableResult
    public func write(_ packet: UnsafeRawBufferPointer, header: TunOffload.Header?) throws(SystemError) -> Bool {
        let fd = fileDescriptor
        var refused = false
        var raw = (UInt64(0), UInt16(0), UInt16(0))
        let outcome = try Syscall.run("write(tun \(name))", {
            let r: Int
            if let header {
                r = withUnsafeMutableBytes(of: &raw) { h in
                    header.write(to: h)
                    var io = (iovec(iov_base: h.baseAddress, iov_len: TunOffload.headerLength),
                              iovec(iov_base: UnsafeMutableRawPointer(mutating: packet.baseAddress), iov_len: packet.count))
                    return withUnsafeMutablePointer(to: &io) { p in
                        p.withMemoryRebound(to: iovec.self, capacity: 2) { Glibc.writev(fd, $0, 2) }
                    }
                }
            } else {
                r = Glibc.write(fd, packet.baseAddress, packet.count)
            }
            if r < 0 && (errno == EIO || errno == ENOBUFS || errno == EINVAL) { refused = true; return 0 }
            return r
        })
        if refused { statistics.droppedWrite += 1; return false }
        guard case .done = outcome else { statistics.droppedWrite += 1; return false }
        statistics.sent += 1
        return true
    }
}
