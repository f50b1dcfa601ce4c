#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import FilamentState

/// A real full disk: a 64 KiB tmpfs mounted on a temp directory (needs root; the mount is removed
/// on every path).
@Suite struct FullDiskTests {
    /// With the file system full, `next()` at a block boundary throws ENOSPC, the old file stays intact,
    /// no temp file is left, values beyond the reservation are refused, and it recovers once space is freed.
    @Test(.enabled(if: geteuid() == 0, "mounting tmpfs needs root")) func fullTmpfs() throws {
        let tmp = TemporaryDirectory()
        let mnt = tmp.sub("mnt")
        #expect(mkdir(mnt, 0o700) == 0)
        guard mount("tmpfs", mnt, "tmpfs", 0, "size=64k,mode=0700") == 0 else {
            Issue.record("mount tmpfs on \(mnt) failed: errno \(errno)")
            return
        }
        defer { umount2(mnt, Int32(MNT_DETACH)) }
        let dir = try StateDirectory(path: mnt)
        let counter = try PersistentCounter(directory: dir, name: "seqno", blockSize: 4)
        let before = readBytes(dir.path(of: "seqno"))
        #expect(before?.count == PersistentCounter.length)

        // Fill the file system (bounded: 64 KiB in 4 KiB writes, at most 100 writes).
        let filler = open(dir.path(of: "filler"), O_WRONLY | O_CREAT, 0o600)
        #expect(filler >= 0)
        let chunk = [UInt8](repeating: 0xAB, count: 4096)
        var full = false
        for _ in 0..<100 {
            let n = chunk.withUnsafeBytes { write(filler, $0.baseAddress, $0.count) }
            if n < 0 { #expect(errno == ENOSPC); full = true; break }
        }
        #expect(full)

        #expect(try counter.next() == 1)
        #expect(try counter.next() == 2)
        #expect(try counter.next() == 3)
        for _ in 0..<3 {
            let error = #expect(throws: StateError.self) { try counter.next() }
            if case .system(let op, _, let e)? = error {
                #expect(e == ENOSPC, "\(op)")
            } else {
                Issue.record("expected ENOSPC, got \(String(describing: error))")
            }
            #expect(counter.current == 3)
        }
        #expect(readBytes(dir.path(of: "seqno")) == before)
        #expect(readBytes(dir.path(of: ".seqno.tmp")) == nil)
        #expect(try PersistentCounter.readBound(in: dir, name: "seqno") == 4)

        // Free space: the next write succeeds and the counter moves on.
        close(filler)
        try dir.removeFile(named: "filler")
        #expect(try counter.next() == 4)
        #expect(try PersistentCounter.readBound(in: dir, name: "seqno") == 8)
    }
}
