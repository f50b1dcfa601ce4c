import CFilamentShim

/// Owns one preallocated C batch of message slots (buffers, addresses, control space) for
/// recvmmsg/sendmmsg. Internal: the transports wrap it; nothing C-typed leaves this module.
final class MessageBatch {
    let raw: OpaquePointer
    let count: Int
    let bufferSize: Int

    init(count: Int, bufferSize: Int) {
        precondition(count > 0 && count <= 1024 && bufferSize > 0 && bufferSize <= 65_536, "batch size out of range")
        guard let b = filament_batch_create(UInt32(count), UInt32(bufferSize)) else {
            fatalError("out of memory allocating a \(count) x \(bufferSize) message batch")
        }
        raw = b
        self.count = count
        self.bufferSize = bufferSize
    }

    deinit { filament_batch_destroy(raw) }

    /// Slot `i`'s whole buffer.
    @inline(__always) func buffer(_ i: Int) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: filament_batch_buffer(raw, UInt32(i)), count: bufferSize)
    }

    /// Slot `i`'s received bytes.
    @inline(__always) func received(_ i: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: filament_batch_buffer(raw, UInt32(i)), count: filament_batch_length(raw, UInt32(i)))
    }

    @inline(__always) func truncated(_ i: Int) -> Bool { filament_batch_truncated(raw, UInt32(i)) != 0 }

    /// One recvmmsg; returns the number of slots filled (0 when nothing is waiting).
    func receive(fd: Int32, operation: @autoclosure () -> String) throws(SystemError) -> Int {
        let r = raw, n = UInt32(count)
        switch try Syscall.runReturningErrno(operation(), { Int(filament_batch_recv(fd, r, n)) }) {
        case .done(let k): return k
        case .wouldBlock: return 0
        }
    }
}

/// A queue of outgoing messages in a `MessageBatch`: slots `start..<end` wait for sendmmsg.
struct SendQueue {
    var start = 0
    var end = 0
    var pending: Int { end - start }

    /// Makes room at the tail: an empty queue restarts at slot 0; a queue whose tail is full but
    /// whose head was sent moves its pending slots to the front (at most `batch.count` copies, only
    /// after the socket refused more — not on the normal path).
    mutating func makeRoom(in batch: MessageBatch) {
        if pending == 0 { self = SendQueue(); return }
        guard end == batch.count, start > 0 else { return }
        for i in 0..<pending { filament_batch_move(batch.raw, UInt32(start + i), UInt32(i)) }
        end = pending
        start = 0
    }
}
