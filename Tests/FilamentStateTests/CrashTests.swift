#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import FilamentState

/// The crash test: a separate writer process (`filament-state-torture`, built next to the test
/// binary) increments a PersistentCounter as fast as it can and prints every value it handed out;
/// the test kills it with SIGKILL at a random moment, then checks that the counter file parses and
/// that a fresh load starts above every value the writer reported. While the writer runs, the test
/// keeps reading the file and checks it is always whole and never goes down.
@Suite struct CrashTests {
    /// After SIGKILL at random moments (6 rounds, block sizes 1...1024), a reload is always above every value handed out, and the file is never torn.
    @Test(.timeLimit(.minutes(1))) func sigkillNeverLosesTheCounter() throws {
        guard let writer = tortureExecutable() else {
            Issue.record("filament-state-torture not found next to the test binary; build with `swift build --build-tests`")
            return
        }
        let tmp = TemporaryDirectory()
        let dir = try StateDirectory(path: tmp.sub("state"))
        var rng = SystemRandomNumberGenerator()
        var everHandedOut: UInt64 = 0
        var sawAny = false
        for (round, block) in [1, 3, 64, 1024, 1, 7].enumerated() {
            let killAfterMs = Int.random(in: 5...250, using: &rng)
            let output = tmp.sub("round\(round).out")
            let errput = tmp.sub("round\(round).err")
            let pid = try spawn(writer, ["counter", dir.path, "seqno", String(block), "30"], stdout: output, stderr: errput)
            var killed = false
            defer { if !killed { kill(pid, SIGKILL); var s: Int32 = 0; waitpid(pid, &s, 0) } }

            // Wait for the first value (bounded: 20 s), then let it run killAfterMs more, reading
            // the file all along: it must always parse and never go down.
            var lastSeenBound: UInt64 = 0
            var firstOutput: UInt64? = nil
            let start = monotonicMs()
            while monotonicMs() - start < 20_000 {
                if let b = try PersistentCounter.readBound(in: dir, name: "seqno") {
                    #expect(b >= lastSeenBound, "file went backwards: \(b) < \(lastSeenBound)")
                    lastSeenBound = b
                }
                if firstOutput == nil, fileSize(output) > 0 { firstOutput = monotonicMs() }
                if let t = firstOutput, monotonicMs() - t >= UInt64(killAfterMs) { break }
                var status: Int32 = 0
                if waitpid(pid, &status, WNOHANG) == pid {
                    killed = true
                    Issue.record("writer exited early (status \(status)): \(String(decoding: readBytes(errput) ?? [], as: UTF8.self))")
                    return
                }
                usleep(500)
            }
            #expect(firstOutput != nil, "writer printed nothing within 20 s")
            // The running writer holds the directory lock.
            #expect(throws: StateError.inUse(path: dir.path)) { try StateDirectory(path: dir.path).lock() }
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            killed = true
            #expect(status & 0x7f == SIGKILL, "writer was not killed by SIGKILL (status \(status))")
            // SIGKILL released it.
            try StateDirectory(path: dir.path).lock()

            // Every complete line is a value that was handed out; they must strictly increase,
            // and the first of this run must be above everything handed out before.
            let values = completeLines(readBytes(output) ?? [])
            #expect(!values.isEmpty)
            for (a, b) in zip(values, values.dropFirst()) { #expect(a < b) }
            if let first = values.first, sawAny { #expect(first > everHandedOut, "round \(round) restarted at \(first) <= \(everHandedOut)") }
            let maxReported = values.max() ?? 0
            // The file always parses after the kill, and it is above every reported value.
            let bound = try #require(try PersistentCounter.readBound(in: dir, name: "seqno"))
            #expect(bound > maxReported)
            let reloaded = try PersistentCounter(directory: dir, name: "seqno", blockSize: UInt64(block))
            #expect(reloaded.current > maxReported)
            if !values.isEmpty { sawAny = true }
            everHandedOut = max(maxReported, reloaded.current)
            print("crash round \(round): block \(block), killed \(killAfterMs) ms after first value, "
                + "\(values.count) values reported, max \(maxReported), file bound \(bound), reload starts at \(reloaded.current)")
        }
    }
}

extension CrashTests {
    /// SIGKILL while identities are being created (4 rounds): every state directory then holds either
    /// no key file or a complete, valid one, and every identity the writer reported is the one on disk.
    @Test(.timeLimit(.minutes(1))) func sigkillDuringIdentityCreation() throws {
        guard let writer = tortureExecutable() else {
            Issue.record("filament-state-torture not found next to the test binary; build with `swift build --build-tests`")
            return
        }
        var rng = SystemRandomNumberGenerator()
        for round in 0..<4 {
            let tmp = TemporaryDirectory()
            let killAfterMs = Int.random(in: 20...200, using: &rng)
            let pid = try spawn(writer, ["identity", tmp.path, "30"], stdout: tmp.sub("out"), stderr: tmp.sub("err"))
            usleep(UInt32(killAfterMs) * 1000)
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            #expect(status & 0x7f == SIGKILL, "writer ended on its own: \(String(decoding: readBytes(tmp.sub("err")) ?? [], as: UTF8.self))")
            var reported: [Int: String] = [:]
            let text = String(decoding: readBytes(tmp.sub("out")) ?? [], as: UTF8.self)
            for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
                let parts = line.split(separator: " ")
                if parts.count == 2, let i = Int(parts[0]) { reported[i] = String(parts[1]) }
            }
            var complete = 0, missing = 0
            for index in 0..<100_000 {
                var st = stat()
                guard stat(tmp.sub(String(index)), &st) == 0 else { break }
                let dir = try StateDirectory(path: tmp.sub(String(index)), create: false)
                if readBytes(dir.path(of: IdentityFile.defaultName)) == nil {
                    missing += 1
                    #expect(reported[index] == nil, "identity \(index) was reported but its file is gone")
                    continue
                }
                let nodeID = try IdentityFile.load(from: dir).nodeID
                complete += 1
                if let hex = reported[index] { #expect(hex == nodeID.hex) }
            }
            #expect(complete >= reported.count)
            #expect(missing <= 1, "only the directory being worked on at the kill may lack a key")
            print("identity crash round \(round): killed after \(killAfterMs) ms, \(reported.count) reported, \(complete) complete files, \(missing) without a key file")
        }
    }
}

/// The torture executable in the directory of the running test binary, if it is there.
private func tortureExecutable() -> String? {
    var buf = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buf, buf.count - 1)
    guard n > 0 else { return nil }
    let exe = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    guard let slash = exe.lastIndex(of: "/") else { return nil }
    let candidate = String(exe[..<slash]) + "/filament-state-torture"
    return access(candidate, X_OK) == 0 ? candidate : nil
}

/// posix_spawn with stdout and stderr redirected to files.
private func spawn(_ path: String, _ args: [String], stdout: String, stderr: String) throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    let argv: [UnsafeMutablePointer<CChar>?] = ([path] + args).map { strdup($0) } + [nil]
    defer { for p in argv { free(p) } }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, path, &actions, nil, argv, environ)
    guard rc == 0 else { throw StateError.system(operation: "posix_spawn", path: path, errno: rc) }
    return pid
}

private func monotonicMs() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1000 + UInt64(ts.tv_nsec) / 1_000_000
}

private func fileSize(_ path: String) -> Int {
    var st = stat()
    return stat(path, &st) == 0 ? Int(st.st_size) : 0
}

/// The decimal values on newline-terminated lines (a partly written last line is ignored).
private func completeLines(_ bytes: [UInt8]) -> [UInt64] {
    var out: [UInt64] = []
    var value: UInt64 = 0
    var digits = 0
    for b in bytes {
        if b == UInt8(ascii: "\n") {
            if digits > 0 { out.append(value) }
            value = 0; digits = 0
        } else if b >= 48 && b <= 57 {
            value = value * 10 + UInt64(b - 48); digits += 1
        }
    }
    return out
}
