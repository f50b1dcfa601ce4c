#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import FilamentCrypto

/// The node's state directory (for example `/var/lib/filament`): it holds the identity key file and
/// the persisted counters. Opening it creates it with mode 0700 if it is missing, and refuses one
/// that is group- or world-writable or owned by another user, because whoever can write here can
/// replace the node's identity.
///
/// All files are reached relative to a descriptor of the directory (`openat`), so the directory
/// cannot be swapped for another one after the checks. Writes are crash-safe (temp file, `fsync`,
/// `rename`, `fsync` of the directory); see `writeAtomically`.
public final class StateDirectory: Sendable {
    /// The path as given.
    public let path: String
    /// An `O_DIRECTORY` descriptor, closed on deinit.
    let descriptor: Int32

    /// Opens the directory at `path`, creating it (mode 0700, parent must exist) when `create` is true.
    public init(path: String, create: Bool = true) throws(StateError) {
        guard !path.isEmpty else { throw .invalidArgument("empty state directory path") }
        if create {
            if mkdir(path, 0o700) == 0 {
                // Make the new directory entry itself durable.
                syncParent(of: path)
            } else if errno != EEXIST {
                throw .system(operation: "mkdir", path: path, errno: errno)
            }
        }
        let fd: Int32
        do {
            fd = try retrying("open", path) { open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        } catch {
            if case .system(_, _, let e) = error, e == ENOTDIR { throw .notADirectory(path: path) }
            throw error
        }
        var st = stat()
        do {
            try retrying("fstat", path) { fstat(fd, &st) }
        } catch {
            close(fd)
            throw error
        }
        let uid = currentUID()
        if UInt32(st.st_uid) != uid {
            close(fd)
            throw .wrongOwner(path: path, owner: UInt32(st.st_uid), expected: uid)
        }
        if UInt32(st.st_mode) & 0o022 != 0 {
            close(fd)
            throw .insecureDirectory(path: path, mode: UInt32(st.st_mode))
        }
        self.path = path
        self.descriptor = fd
    }

    deinit { close(descriptor) }

    /// Takes an exclusive, non-blocking `flock` on the directory, held until this object dies (or the
    /// process does, even by SIGKILL). Two daemons sharing one state directory would hand out the same
    /// counter values, so the daemon takes this lock before opening any counter. Throws `inUse` if
    /// another open of the directory (in any process) holds it. Calling it again is harmless.
    public func lock() throws(StateError) {
        do {
            try retrying("flock", path) { flock(descriptor, LOCK_EX | LOCK_NB) }
        } catch {
            if case .system(_, _, let e) = error, e == EWOULDBLOCK { throw .inUse(path: path) }
            throw error
        }
    }

    /// The full path of a file in this directory (for messages and for operators).
    public func path(of name: String) -> String {
        path.hasSuffix("/") ? path + name : path + "/" + name
    }

    /// Throws unless `name` is a plain file name we are willing to create: 1...200 bytes, no `/`,
    /// not starting with `.` (names starting with `.` are our temp files).
    static func validate(name: String) throws(StateError) {
        let utf8 = name.utf8
        guard (1...200).contains(utf8.count), !utf8.contains(UInt8(ascii: "/")),
              utf8.first != UInt8(ascii: "."), !utf8.contains(0) else {
            throw .invalidFileName(name)
        }
    }

    /// The temp file used while `name` is being written (one per file; a stale one from a crash is
    /// unlinked before the next write).
    static func temporaryName(for name: String) -> String { "." + name + ".tmp" }
}

/// Best-effort `fsync` of the directory holding `path` (after creating an entry in it).
private func syncParent(of path: String) {
    var parent = path
    while parent.count > 1 && parent.hasSuffix("/") { parent.removeLast() }
    if let slash = parent.lastIndex(of: "/") {
        parent = slash == parent.startIndex ? "/" : String(parent[..<slash])
    } else {
        parent = "."
    }
    let fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if fd >= 0 {
        _ = fsync(fd)
        close(fd)
    }
}
