#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import FilamentSystem

/// Runs a system call through `Syscall` (the project's one retry/classify helper: `EINTR` retries,
/// `EBADF`/`EFAULT` trap) and turns a failure into `StateError.system` with the path.
@inline(__always)
@discardableResult
func retrying<T: BinaryInteger>(_ operation: String, _ path: String, _ call: () -> T) throws(StateError) -> T {
    do {
        return T(try Syscall.check(operation) { Int(call()) })
    } catch {
        throw .system(operation: operation, path: path, errno: error.code)
    }
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
