#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import FilamentCrypto

/// The steps of a crash-safe write, named so a test can make one of them fail.
enum AtomicWriteStep: Sendable, Equatable {
    case open, write, fsync, close, rename, syncDirectory
}

/// A test hook: return an errno to make that step fail as if the system call had.
typealias WriteFaultHook = (AtomicWriteStep) -> Int32?

/// Bytes read from a state file, kept in wiped memory because the key file holds the seed.
struct FileContents: ~Copyable {
    /// Capacity `limit + 1`; the first `count` bytes are the file.
    var buffer: SecretBytes
    /// Bytes read (at most `limit + 1`, so a too-long file is visible as `count > limit`).
    let count: Int
    /// `st_mode` of the file.
    let mode: UInt32
    /// `st_uid` of the file.
    let owner: UInt32
}

extension StateDirectory {
    /// Reads at most `limit + 1` bytes of `name`. Returns nil if the file does not exist; throws for
    /// anything else that is wrong (not a regular file, a symlink, I/O errors).
    func readFile(named name: String, limit: Int) throws(StateError) -> FileContents? {
        try Self.validate(name: name)
        let full = path(of: name)
        let fd: Int32
        do {
            fd = try retrying("open", full) { openat(descriptor, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK) }
        } catch {
            if case .system(_, _, let e) = error {
                if e == ENOENT { return nil }
                if e == ELOOP { throw .notARegularFile(path: full) }
            }
            throw error
        }
        defer { close(fd) }
        var st = stat()
        try retrying("fstat", full) { fstat(fd, &st) }
        guard UInt32(st.st_mode) & UInt32(S_IFMT) == UInt32(S_IFREG) else { throw .notARegularFile(path: full) }
        var buffer = SecretBytes(zeroedCount: limit + 1)
        var total = 0
        try buffer.withUnsafeMutableBytes { (raw: UnsafeMutableRawBufferPointer) throws(StateError) in
            // Bounded: each pass reads at least one byte or ends.
            while total < raw.count {
                let n = try retrying("read", full) { read(fd, raw.baseAddress! + total, raw.count - total) }
                if n == 0 { break }
                total += n
            }
        }
        return FileContents(buffer: buffer, count: total, mode: UInt32(st.st_mode), owner: UInt32(st.st_uid))
    }

    /// Writes `bytes` to `name` so that after a crash at any moment the file holds either its old
    /// contents or the new ones, never a mix:
    /// 1. write a new temp file `.name.tmp` in this directory (mode 0600, `O_EXCL` after unlinking
    ///    any stale one) and `fsync` it;
    /// 2. `rename` it over `name` (or, with `replace == false`, `link` it to `name`, which fails
    ///    with `EEXIST` instead of replacing an existing file, then unlink the temp);
    /// 3. `fsync` the directory so the new entry is durable.
    /// On failure the temp file is removed and the old `name` is untouched.
    func writeAtomically(named name: String, bytes: UnsafeRawBufferPointer, replace: Bool,
                         fault: WriteFaultHook? = nil) throws(StateError) {
        try Self.validate(name: name)
        let tmp = Self.temporaryName(for: name)
        let tmpPath = path(of: tmp)
        func check(_ step: AtomicWriteStep, _ what: String, _ p: String) throws(StateError) {
            if let e = fault?(step) { throw .system(operation: what, path: p, errno: e) }
        }
        try check(.open, "open", tmpPath)
        // A stale temp file from a crash is unlinked, never truncated: after a crash between
        // `link` and `unlink` it is a second name of the real file, and truncating it would
        // truncate that file.
        if unlinkat(descriptor, tmp, 0) != 0 && errno != ENOENT {
            throw .system(operation: "unlink", path: tmpPath, errno: errno)
        }
        var fd: Int32 = try retrying("open", tmpPath) {
            openat(descriptor, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        }
        var linked = false
        defer {
            if fd >= 0 { close(fd) }
            if !linked { unlinkat(descriptor, tmp, 0) }
        }
        // The umask may have cleared bits; make sure of 0600 (it can only have removed some).
        try retrying("fchmod", tmpPath) { fchmod(fd, 0o600) }
        try check(.write, "write", tmpPath)
        var written = 0
        while written < bytes.count {
            let n = try retrying("write", tmpPath) { write(fd, bytes.baseAddress! + written, bytes.count - written) }
            if n == 0 { throw .system(operation: "write", path: tmpPath, errno: EIO) }
            written += n
        }
        try check(.fsync, "fsync", tmpPath)
        try retrying("fsync", tmpPath) { fsync(fd) }
        try check(.close, "close", tmpPath)
        let closing = fd
        fd = -1
        // close() is not retried on EINTR (Linux closes the descriptor anyway).
        if close(closing) != 0 && errno != EINTR { throw .system(operation: "close", path: tmpPath, errno: errno) }
        let target = path(of: name)
        try check(.rename, replace ? "rename" : "link", target)
        if replace {
            try retrying("rename", target) { renameat(descriptor, tmp, descriptor, name) }
            linked = true
        } else {
            try retrying("link", target) { linkat(descriptor, tmp, descriptor, name, 0) }
            linked = true
            unlinkat(descriptor, tmp, 0)
        }
        try check(.syncDirectory, "fsync", path)
        try retrying("fsync", path) { fsync(descriptor) }
    }

    /// Removes a file (for tests and operator tools); a missing file is not an error.
    public func removeFile(named name: String) throws(StateError) {
        try Self.validate(name: name)
        if unlinkat(descriptor, name, 0) != 0 && errno != ENOENT {
            throw .system(operation: "unlink", path: path(of: name), errno: errno)
        }
        try retrying("fsync", path) { fsync(descriptor) }
    }
}
