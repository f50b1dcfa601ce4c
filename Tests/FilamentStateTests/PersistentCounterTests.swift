#if canImport(Glibc)
import Glibc
#endif
import FilamentCrypto
import Testing
@testable import FilamentState

@Suite struct PersistentCounterTests {
    /// A missing file starts at 0 and reserves one block with one write.
    @Test func missingFileStartsAtZero() throws {
        let tmp = TemporaryDirectory()
        let dir = try StateDirectory(path: tmp.sub("state"))
        let c = try PersistentCounter(directory: dir, name: "seqno", blockSize: 16)
        #expect(c.current == 0)
        #expect(c.persistedBound == 16)
        #expect(c.writeCount == 1)
        #expect(try PersistentCounter.readBound(in: dir, name: "seqno") == 16)
        #expect(modeOf(dir.path(of: "seqno")) == 0o600)
    }

    /// The file is written once per block, not per increment: counted by the write counter and by inode changes.
    @Test(arguments: [(1, 300), (8, 3000), (1024, 3000)] as [(UInt64, UInt64)])
    func writesOncePerBlock(block: UInt64, count: UInt64) throws {
        let tmp = TemporaryDirectory()
        let dir = try StateDirectory(path: tmp.sub("state"))
        let c = try PersistentCounter(directory: dir, name: "seqno", blockSize: block)
        var inode = inodeOf(dir.path(of: "seqno"))
        var inodeChanges = 0
        for expected in UInt64(1)...count {
            #expect(try c.next() == expected)
            let now = inodeOf(dir.path(of: "seqno"))
            if now != inode { inodeChanges += 1; inode = now }
            #expect(c.current < c.persistedBound)
        }
        // Writes happen when the value reaches block, 2*block, ...: count/block of them, plus the one at open.
        #expect(c.writeCount == 1 + Int(count / block))
        #expect(inodeChanges == Int(count / block))
        #expect(try PersistentCounter.readBound(in: dir, name: "seqno") == c.persistedBound)
    }

    /// A restart starts at the stored bound: past every value the previous run handed out.
    @Test func restartJumpsForward() throws {
        let tmp = TemporaryDirectory()
        let dir = try StateDirectory(path: tmp.sub("state"))
        var highest: UInt64 = 0
        for run in 0..<5 {
            let c = try PersistentCounter(directory: dir, name: "seqno", blockSize: 8)
            if run > 0 { #expect(c.current > highest) }
            #expect(c.current == [0, 8, 16, 24, 40][run])
            highest = c.current
            for _ in 0..<(run * 3) { highest = try c.next() }
        }
        // Runs: open@0 (bound 8); open@8, +3 -> 11 (bound 16); open@16, +6 -> 22 (bound 24);
        // open@24, +9 -> 33 (bound 32, then 40 when 32 is reached); open@40, +12 -> 52 (bound 48, then 56).
        #expect(highest == 52)
        let last = try PersistentCounter(directory: dir, name: "seqno", blockSize: 8)
        #expect(last.current == 56)
    }

    /// `advance(to:)` never goes back; going forward past the bound persists a new reservation.
    @Test func advance() throws {
        let tmp = TemporaryDirectory()
        let dir = try StateDirectory(path: tmp.sub("state"))
        let c = try PersistentCounter(directory: dir, name: "seqno", blockSize: 100)
        try c.advance(to: 50)
        #expect(c.current == 50 && c.writeCount == 1)
        try c.advance(to: 10)
        #expect(c.current == 50)
        try c.advance(to: 5000)
        #expect(c.current == 5000 && c.persistedBound == 5100 && c.writeCount == 2)
        #expect(try c.next() == 5001)
        let again = try PersistentCounter(directory: dir, name: "seqno", blockSize: 100)
        #expect(again.current == 5100)
    }

    /// The file image is pinned (cross-checked in Python) and decodes back.
    @Test func fileImageIsPinned() throws {
        let image = PersistentCounter.encode(bound: 2048)
        #expect(hex(image) == "464c4d542d43545200010000000000000000080046e2f58f9b5de39149f741dd46c71b35")
        #expect(try PersistentCounter.decode(image, path: "x") == 2048)
        for v: UInt64 in [0, 1, 0xFFFF, 1 << 32, .max] {
            #expect(try PersistentCounter.decode(PersistentCounter.encode(bound: v), path: "x") == v)
        }
    }

    /// A truncated or damaged counter file is an error; it is neither reset nor rewritten.
    @Test func corruptFileIsErrorNeverReset() throws {
        let tmp = TemporaryDirectory()
        let dir = try StateDirectory(path: tmp.sub("state"))
        let path = dir.path(of: "seqno")
        let good = PersistentCounter.encode(bound: 4096)
        for n in 0..<PersistentCounter.length {
            writeBytes(path, Array(good.prefix(n)))
            #expect(throws: StateError.corruptCounterFile(path: path, defect: .truncated(size: n, expected: 36))) {
                _ = try PersistentCounter(directory: dir, name: "seqno")
            }
            #expect(readBytes(path) == Array(good.prefix(n)))
        }
        for byte in 0..<PersistentCounter.length {
            var bad = good
            bad[byte] ^= 0x10
            writeBytes(path, bad)
            let error = #expect(throws: StateError.self) { _ = try PersistentCounter(directory: dir, name: "seqno") }
            #expect(error == .corruptCounterFile(path: path, defect: byte < 8 ? .badMagic : .checksumMismatch))
            #expect(readBytes(path) == bad)
        }
        writeBytes(path, good + [0])
        #expect(throws: StateError.corruptCounterFile(path: path, defect: .tooLong(size: 37, expected: 36))) {
            _ = try PersistentCounter(directory: dir, name: "seqno")
        }
        // Operator recovery: write a bound explicitly.
        try PersistentCounter.overwrite(in: dir, name: "seqno", bound: 1 << 20)
        #expect(try PersistentCounter(directory: dir, name: "seqno").current == 1 << 20)
    }

    /// A counter file writable by others is refused; a block size of 0 is refused.
    @Test func permissionsAndArguments() throws {
        let tmp = TemporaryDirectory()
        let dir = try StateDirectory(path: tmp.sub("state"))
        let path = dir.path(of: "seqno")
        writeBytes(path, PersistentCounter.encode(bound: 7), mode: 0o666)
        #expect(throws: StateError.insecureFile(path: path, mode: UInt32(S_IFREG) | 0o666)) {
            _ = try PersistentCounter(directory: dir, name: "seqno")
        }
        #expect(throws: StateError.invalidArgument("counter block size must be at least 1")) {
            _ = try PersistentCounter(directory: dir, name: "other", blockSize: 0)
        }
    }

    /// Near 2^64 the counter refuses to wrap instead of going back to 0.
    @Test func refusesToWrap() throws {
        let tmp = TemporaryDirectory()
        let dir = try StateDirectory(path: tmp.sub("state"))
        try PersistentCounter.overwrite(in: dir, name: "seqno", bound: .max - 5)
        #expect(throws: StateError.counterExhausted(path: dir.path(of: "seqno"))) {
            _ = try PersistentCounter(directory: dir, name: "seqno", blockSize: 10)
        }
        let c = try PersistentCounter(directory: dir, name: "seqno", blockSize: 2)
        #expect(c.current == UInt64.max - 5)
        #expect(try c.next() == UInt64.max - 4)
        #expect(try c.next() == UInt64.max - 3)
        try c.advance(to: .max - 2)
        #expect(throws: StateError.counterExhausted(path: dir.path(of: "seqno"))) { try c.next() }
        #expect(c.current == UInt64.max - 2)
    }

    /// Simulated write failures (injected errno at each step of the atomic write, pure unit test):
    /// the error is thrown, the old file stays intact, no temp file is left, and the counter hands
    /// out nothing beyond the persisted reservation until a write succeeds.
    @Test(arguments: [AtomicWriteStep.open, .write, .fsync, .close, .rename])
    func injectedWriteFailure(step: AtomicWriteStep) throws {
        let tmp = TemporaryDirectory()
        let dir = try StateDirectory(path: tmp.sub("state"))
        let c = try PersistentCounter(directory: dir, name: "seqno", blockSize: 4)
        let fileBefore = readBytes(dir.path(of: "seqno"))
        c.faultHook = { $0 == step ? ENOSPC : nil }
        #expect(try c.next() == 1)
        #expect(try c.next() == 2)
        #expect(try c.next() == 3)
        for _ in 0..<3 {
            let error = #expect(throws: StateError.self) { try c.next() }
            if case .system(_, _, let e)? = error { #expect(e == ENOSPC) } else { Issue.record("\(String(describing: error))") }
            #expect(error?.description.contains("full") == true)
            #expect(c.current == 3)
            #expect(c.persistedBound == 4)
        }
        #expect(throws: StateError.self) { try c.advance(to: 100) }
        #expect(c.current == 3)
        #expect(readBytes(dir.path(of: "seqno")) == fileBefore)
        #expect(readBytes(dir.path(of: ".seqno.tmp")) == nil)
        // A crash now restarts at 4: past everything handed out.
        #expect(try PersistentCounter.readBound(in: dir, name: "seqno") == 4)
        c.faultHook = nil
        #expect(try c.next() == 4)
        #expect(c.persistedBound == 8)
    }

    /// If only the directory fsync fails, the new file may already be in place, but the counter
    /// still treats the write as failed and hands out nothing new.
    @Test func directorySyncFailure() throws {
        let tmp = TemporaryDirectory()
        let dir = try StateDirectory(path: tmp.sub("state"))
        let c = try PersistentCounter(directory: dir, name: "seqno", blockSize: 4)
        c.faultHook = { $0 == .syncDirectory ? EIO : nil }
        try c.advance(to: 3)
        #expect(throws: StateError.system(operation: "fsync", path: dir.path, errno: EIO)) { try c.next() }
        #expect(c.current == 3 && c.persistedBound == 4)
        let onDisk = try PersistentCounter.readBound(in: dir, name: "seqno")
        #expect(onDisk == 4 || onDisk == 8)
    }
}
