#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The one place system calls are retried and classified: `EINTR` retries, `EBADF`/`EFAULT` are
/// programmer errors (trap), everything else becomes `StateError.system` with the operation's name,
/// the path and `errno`.
@inline(__always)
@discardableResult
func retrying<T: BinaryInteger>(_ operation: String, _ path: String, _ call: () -> T) throws(StateError) -> T {
    // Bounded: a signal storm cannot keep us here forever.
    for _ in 0..<1_000 {
        let rc = call()
        if rc >= 0 { return rc }
        let e = errno
        if e == EINTR { continue }
        precondition(e != EBADF && e != EFAULT, "\(operation)(\(path)): \(errnoName(e)) is a programming error")
        throw .system(operation: operation, path: path, errno: e)
    }
    throw .system(operation: operation, path: path, errno: EINTR)
}

/// `strerror` text for an errno value.
func errnoName(_ e: Int32) -> String {
    guard let s = strerror(e) else { return "error \(e)" }
    return String(cString: s)
}

/// A short hint for the operator for the errors we expect on a bulb.
func systemHint(_ e: Int32, path: String) -> String {
    switch e {
    case ENOSPC, EDQUOT: return "; the file system is full: free space (the previous file was left intact)"
    case EROFS: return "; the file system is read-only: remount it read-write"
    case EACCES, EPERM: return "; permission denied: check owner and mode of \(path) and its directory"
    case ENOENT: return "; it does not exist (create the parent directory first)"
    default: return ""
    }
}

/// The effective user id of this process.
func currentUID() -> UInt32 { UInt32(geteuid()) }

/// Wipes a buffer in a way the optimiser may not remove.
func wipe(_ buffer: UnsafeMutableRawBufferPointer) {
    guard let base = buffer.baseAddress, buffer.count > 0 else { return }
    explicit_bzero(base, buffer.count)
}

func wipe(_ array: inout [UInt8]) {
    array.withUnsafeMutableBytes { wipe($0) }
}
