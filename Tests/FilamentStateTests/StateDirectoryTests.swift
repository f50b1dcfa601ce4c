#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import FilamentState

@Suite struct StateDirectoryTests {
    /// A missing state directory is created with mode 0700.
    @Test func createsWithMode0700() throws {
        let tmp = TemporaryDirectory()
        umask(0o022)
        _ = try StateDirectory(path: tmp.sub("state"))
        #expect(modeOf(tmp.sub("state")) == 0o700)
    }

    /// An existing 0755 directory owned by us is accepted (only write access by others is refused).
    @Test func acceptsReadableDirectory() throws {
        let tmp = TemporaryDirectory()
        mkdir(tmp.sub("state"), 0o755)
        chmod(tmp.sub("state"), 0o755)
        _ = try StateDirectory(path: tmp.sub("state"))
    }

    /// World-writable and group-writable directories are refused, with the path and `chmod 700` in the message.
    @Test(arguments: [0o777, 0o770, 0o720, 0o702, 0o1777] as [mode_t])
    func refusesWritableByOthers(mode: mode_t) throws {
        let tmp = TemporaryDirectory()
        let p = tmp.sub("state")
        mkdir(p, 0o700)
        chmod(p, mode)
        let error = #expect(throws: StateError.self) { _ = try StateDirectory(path: p) }
        #expect(error == .insecureDirectory(path: p, mode: UInt32(mode) | UInt32(S_IFDIR)))
        let message = error?.description ?? ""
        #expect(message.contains(p) && message.contains("chmod 700"))
    }

    /// A directory owned by another user is refused (needs root to chown; skipped otherwise).
    @Test(.enabled(if: geteuid() == 0)) func refusesForeignOwner() throws {
        let tmp = TemporaryDirectory()
        let p = tmp.sub("state")
        mkdir(p, 0o700)
        #expect(chown(p, 12345, 12345) == 0)
        #expect(throws: StateError.wrongOwner(path: p, owner: 12345, expected: UInt32(geteuid()))) {
            _ = try StateDirectory(path: p)
        }
    }

    /// A regular file where the directory should be is refused as "not a directory".
    @Test func refusesFile() throws {
        let tmp = TemporaryDirectory()
        writeBytes(tmp.sub("state"), [1, 2, 3])
        #expect(throws: StateError.notADirectory(path: tmp.sub("state"))) {
            _ = try StateDirectory(path: tmp.sub("state"))
        }
    }

    /// A missing parent directory is a system error naming the path, not a crash.
    @Test func missingParent() throws {
        let tmp = TemporaryDirectory()
        let p = tmp.sub("no/such/state")
        #expect(throws: StateError.system(operation: "mkdir", path: p, errno: ENOENT)) {
            _ = try StateDirectory(path: p)
        }
        #expect(StateError.system(operation: "mkdir", path: p, errno: ENOENT).description.contains("parent"))
    }

    /// File names with '/', a leading '.', or empty are rejected before touching the file system.
    @Test(arguments: ["", "../x", "a/b", ".hidden", String(repeating: "x", count: 201)])
    func rejectsBadNames(name: String) throws {
        let tmp = TemporaryDirectory()
        let dir = try StateDirectory(path: tmp.sub("state"))
        #expect(throws: StateError.invalidFileName(name)) { try dir.removeFile(named: name) }
    }

    /// An atomic write that must not replace fails with EEXIST and leaves the existing file alone.
    @Test func noReplaceKeepsExisting() throws {
        let tmp = TemporaryDirectory()
        let dir = try StateDirectory(path: tmp.sub("state"))
        try ([1, 2, 3] as [UInt8]).withUnsafeBytes { try dir.writeAtomically(named: "f", bytes: $0, replace: false) }
        #expect(throws: StateError.system(operation: "link", path: dir.path(of: "f"), errno: EEXIST)) {
            try ([9, 9] as [UInt8]).withUnsafeBytes { try dir.writeAtomically(named: "f", bytes: $0, replace: false) }
        }
        #expect(readBytes(dir.path(of: "f")) == [1, 2, 3])
        #expect(readBytes(dir.path(of: ".f.tmp")) == nil)
        #expect(modeOf(dir.path(of: "f")) == 0o600)
    }
}

@Suite struct StateDirectoryLockTests {
    /// A second opener cannot take the lock while the first holds it, and can once the first is gone.
    @Test func lockIsExclusive() throws {
        let tmp = TemporaryDirectory()
        var first: StateDirectory? = try StateDirectory(path: tmp.sub("state"))
        try first!.lock()
        try first!.lock()
        let second = try StateDirectory(path: tmp.sub("state"))
        #expect(throws: StateError.inUse(path: tmp.sub("state"))) { try second.lock() }
        first = nil
        try second.lock()
    }
}
